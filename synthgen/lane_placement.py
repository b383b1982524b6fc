"""Objects standing in lanes (``scene.placement.lanes``): on a background with lane lines
(``<name>.lines.json``, synthgen/lines.py), an object of a chosen class stands between two
adjacent lane lines, its width a share (``fill``) of the lane's width at its feet.

The lane lines are the ground plane here: a lane narrows towards its vanishing point, and so do
the objects in it. Lines are taken into the canvas through the background's crop, resize and flip
(whole-image geometric effects come later and move objects and lines alike), then crossed with
every pixel row at its centre (y + 0.5): a row's sorted crossings give its lanes, one between each
pair of neighbours whose lane is at least ``MIN_LANE`` of the canvas' shorter side wide, measured
across the lane (the row's gap times the sine of the lines' angle to the row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthgen.config import LanesConfig
from synthgen.lines import LANE_CLASSES, Line, background_matrix, through
from synthgen.types import BackgroundPlacement

MIN_LANE = 0.05  # narrowest lane that takes an object, fraction of the canvas' shorter side
OFFSET = 0.2  # an object's feet stand within +-OFFSET of the lane's width from its middle


def crossings(points: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where a polyline crosses the horizontal lines at ``ys``: index into ys, x, and the sine of
    the crossing segment's angle to the row (1: the line runs straight up the image). Each
    segment's y range is taken half-open, [low, high), so a vertex between two segments counts
    once; segments lying along a row cross nothing."""
    p, q = points[:-1], points[1:]
    lo, hi = np.minimum(p[:, 1], q[:, 1]), np.maximum(p[:, 1], q[:, 1])
    Y = ys[:, None]
    inside = (lo <= Y) & (Y < hi)  # False where lo == hi
    r, k = np.nonzero(inside)
    d = q[k] - p[k]
    t = (ys[r] - p[k, 1]) / d[:, 1]
    return r, p[k, 0] + d[:, 0] * t, np.abs(d[:, 1]) / np.hypot(d[:, 0], d[:, 1])


@dataclass(frozen=True)
class LaneSpots:
    """Where objects may stand in one scene's lanes."""

    classes: frozenset[str]
    fill: tuple[float, float]
    spots: np.ndarray  # (n, 4) float64: row centre y, left x, right x, lane width across the lane

    def sample(self, rng: np.random.Generator) -> tuple[float, float, float]:
        """Feet (x, y) and object width in canvas pixels."""
        y, xa, xb, width = self.spots[int(rng.integers(len(self.spots)))]
        fx = xa + (xb - xa) * (0.5 + float(rng.uniform(-OFFSET, OFFSET)))
        return float(fx), float(y), width * float(rng.uniform(*self.fill))


def lane_spots(
    cfg: LanesConfig, lines: tuple[Line, ...] | None, bg: BackgroundPlacement, canvas_wh: tuple[int, int]
) -> LaneSpots | None:
    """The lanes of a scene's background in the canvas, or None (option off, no lane lines, or no
    lane wide enough)."""
    if not cfg.classes or not lines or bg.real_scene:
        return None
    W, H = canvas_wh
    M = background_matrix(bg.crop_xywh, bg.flip, canvas_wh)
    lanes = [through(line.points, M) for line in lines if line.label in LANE_CLASSES]
    if len(lanes) < 2:
        return None
    min_gap = MIN_LANE * min(W, H)
    ys = np.arange(H) + 0.5
    rows, xs, sines, ids = [], [], [], []
    for i, pts in enumerate(lanes):
        r, x, sine = crossings(pts, ys)
        rows.append(r)
        xs.append(x)
        sines.append(sine)
        ids.append(np.full(len(r), i))
    row, x, sine, line = np.concatenate(rows), np.concatenate(xs), np.concatenate(sines), np.concatenate(ids)
    order = np.lexsort((x, row))
    row, x, sine, line = row[order], x[order], sine[order], line[order]
    # the lane's width across it, not along the row: a lane curving across the image is as
    # wide as where it runs up it, however long the row cuts through it
    width = (x[1:] - x[:-1]) * (sine[1:] + sine[:-1]) / 2
    # neighbours on one row, of two different lines, wide enough, the lane's middle in frame
    ok = (row[1:] == row[:-1]) & (line[1:] != line[:-1]) & (width >= min_gap)
    ok &= (x[1:] + x[:-1] >= 0) & (x[1:] + x[:-1] < 2 * W)
    spots = np.stack([ys[row[:-1][ok]], x[:-1][ok], x[1:][ok], width[ok]], axis=1)
    if not len(spots):
        return None
    return LaneSpots(frozenset(cfg.classes), cfg.fill, spots)
