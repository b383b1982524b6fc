"""Line labels on backgrounds (lane markings, stop lines, curbs): reading a background's
``<name>.lines.json`` and taking its polylines into the final frame.

A sidecar is ``{"lines": [{"class": "lane_solid", "points": [[x, y], ...]}, ...]}`` in the
background's pixel coordinates: continuous, (0, 0) the top-left corner of the image, a pixel's
centre at +0.5 (as COCO's). A line goes through the background's crop, resize and flip
(:func:`background_matrix`, the arithmetic of ``render.render_background``), then through every
whole-image geometric effect's matrix; it is clipped to the frame (a line that leaves and comes
back becomes two) and resampled every ``STEP`` pixels, and each point gets a visibility from the
id map: 2 visible, 1 covered by a pasted object, 0 outside. An albumentations pipeline that moves
pixels moves the lines as keypoints (:func:`dense_lines`, keypoint_labels.through_albumentations)
before they are clipped.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthgen.errors import AssetError
from synthgen.io.text import read_utf8

LINE_CLASSES = ("lane_solid", "lane_dashed", "stop_line", "curb")
LANE_CLASSES = ("lane_solid", "lane_dashed")  # the lines CULane and TuSimple layouts list
SUFFIX = ".lines"  # backgrounds/<name>.lines.json
STEP = 8.0  # pixels between the points of a line in the final frame


@dataclass(frozen=True, eq=False)
class Line:
    label: str  # one of LINE_CLASSES
    points: np.ndarray  # (n, 2) float64, continuous pixel coordinates


def sidecar(image: Path) -> Path:
    return image.with_name(image.stem + SUFFIX + ".json")


def load_lines(path: Path, size_wh: tuple[int, int]) -> tuple[Line, ...]:
    """The lines of one sidecar, checked; every problem names the file and the line."""
    try:
        data = json.loads(read_utf8(path))
    except (OSError, ValueError) as exc:
        raise AssetError(f"{path}: cannot read lines ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("lines"), list):
        raise AssetError(f'{path}: expected {{"lines": [{{"class": ..., "points": [[x, y], ...]}}, ...]}}')
    W, H = size_wh
    out = []
    for i, item in enumerate(data["lines"]):
        where = f"{path}: lines[{i}]"
        if not isinstance(item, dict) or item.get("class") not in LINE_CLASSES:
            got = item.get("class") if isinstance(item, dict) else item
            raise AssetError(f"{where}: class {got!r} is not one of {', '.join(LINE_CLASSES)}")
        raw = item.get("points")
        numbers = isinstance(raw, list) and all(
            isinstance(p, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p) for p in raw)
        pts = np.asarray(raw, np.float64) if numbers else np.zeros((0,))  # never "4" read as 4.0
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 2 or not np.isfinite(pts).all():
            raise AssetError(f"{where}: points must be two or more [x, y] pairs of numbers")
        if (pts[:, 0] < -W).any() or (pts[:, 1] < -H).any() or (pts[:, 0] > 2 * W).any() or (pts[:, 1] > 2 * H).any():
            raise AssetError(f"{where}: points lie far outside the {W}x{H} background (pixel coordinates?)")
        pts.flags.writeable = False
        out.append(Line(item["class"], pts))
    if out and min(W, H) > 2 and all((line.points >= 0).all() and (line.points <= 1).all() for line in out):
        raise AssetError(f"{path}: every point lies within [0, 1]: normalised coordinates? "
                         f"give them in the {W}x{H} background's pixels")
    return tuple(out)


def background_matrix(crop_xywh: tuple[int, int, int, int], flip: bool, canvas_wh: tuple[int, int]) -> np.ndarray:
    """3x3 matrix from background to frame coordinates (continuous, corner at 0): the crop,
    its resize to the canvas and the mirror of ``render.render_background``."""
    x, y, w, h = crop_xywh
    W, H = canvas_wh
    sx, sy = W / w, H / h
    M = np.array([[sx, 0.0, -x * sx], [0.0, sy, -y * sy], [0.0, 0.0, 1.0]])
    if flip:
        M = np.array([[-1.0, 0.0, W], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]) @ M
    return M


def through(points: np.ndarray, M: np.ndarray) -> np.ndarray:
    h = np.hstack([points, np.ones((len(points), 1))]) @ np.asarray(M, np.float64).T
    return h[:, :2] / h[:, 2:3]


def pixel_matrix(M: np.ndarray) -> np.ndarray:
    """A matrix between pixel-index coordinates (centres at integers, as OpenCV's warps and
    the geometric effects use) as one between continuous coordinates."""
    T = np.array([[1.0, 0, 0.5], [0, 1.0, 0.5], [0, 0, 1.0]])
    Ti = np.array([[1.0, 0, -0.5], [0, 1.0, -0.5], [0, 0, 1.0]])
    return T @ np.asarray(M, np.float64) @ Ti


def _clip_segment(p: np.ndarray, q: np.ndarray, W: float, H: float) -> tuple[float, float] | None:
    """Liang-Barsky: the parameter range [t0, t1] of p + t (q - p) inside [0, W] x [0, H]."""
    t0, t1 = 0.0, 1.0
    d = q - p
    for num, den in ((p[0], -d[0]), (W - p[0], d[0]), (p[1], -d[1]), (H - p[1], d[1])):
        if den == 0:
            if num < 0:
                return None
            continue
        t = num / den
        if den < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
    return (t0, t1) if t0 <= t1 else None


def clip(points: np.ndarray, canvas_wh: tuple[int, int]) -> list[np.ndarray]:
    """The parts of a polyline inside the frame, each an (n >= 2, 2) polyline."""
    W, H = canvas_wh
    parts: list[list[np.ndarray]] = []
    current: list[np.ndarray] = []
    for p, q in zip(points[:-1], points[1:]):
        r = _clip_segment(p, q, W, H) if np.isfinite(p).all() and np.isfinite(q).all() else None
        if r is None:
            if current:
                parts.append(current)
                current = []
            continue
        # inside by construction; the clip keeps float error (-1e-15) from putting an end outside
        a, b = (np.clip(p + t * (q - p), 0.0, (W, H)) for t in r)
        if current and np.allclose(current[-1], a):
            current.append(b)
        else:
            if current:
                parts.append(current)
            current = [a, b]
        if r[1] < 1.0:
            parts.append(current)
            current = []
    if current:
        parts.append(current)
    return [np.array(c) for c in parts if np.abs(np.diff(np.array(c), axis=0)).sum() > 1e-6]


def resample(points: np.ndarray, step: float = STEP) -> np.ndarray:
    """Points every ``step`` along a polyline, its two ends included (its corners are kept)."""
    out = [points[0]]
    for p, q in zip(points[:-1], points[1:]):
        n = max(1, math.ceil(float(np.hypot(*(q - p))) / step))
        out += [p + (q - p) * (k / n) for k in range(1, n + 1)]
    return np.array(out)


def visibility(points: np.ndarray, covered: np.ndarray, inside: np.ndarray | None = None) -> list[int]:
    """Per point: 0 outside the frame (or, with ``inside``, where an albumentations pipeline left
    only its fill), 1 on a pixel a pasted object covers, 2 visible."""
    H, W = covered.shape
    out = []
    for x, y in points:
        if not (0 <= x <= W and 0 <= y <= H):
            out.append(0)
            continue
        c, r = min(int(x), W - 1), min(int(y), H - 1)
        out.append(0 if inside is not None and not inside[r, c] else 1 if covered[r, c] else 2)
    return out


def canvas_lines(
    lines: tuple[Line, ...],
    crop_xywh: tuple[int, int, int, int],
    flip: bool,
    canvas_wh: tuple[int, int],
    effect_matrices: list[np.ndarray],
) -> list[tuple[str, np.ndarray]]:
    """(class, polyline) of every line of a background in frame coordinates (continuous), after
    the crop, resize, flip and the geometric effects; not yet clipped to the frame."""
    M = background_matrix(crop_xywh, flip, canvas_wh)
    for E in effect_matrices:
        M = pixel_matrix(E) @ M
    # the matrices are projective: a straight segment stays straight, so the vertices suffice
    return [(line.label, through(line.points, M)) for line in lines]


def label_lines(parts: list[tuple[str, np.ndarray]], canvas_wh: tuple[int, int], covered: np.ndarray,
                inside: np.ndarray | None = None) -> list[dict]:
    """Polylines in frame coordinates as written in the COCO image entry: clipped to the frame,
    resampled every ``STEP`` pixels, ``{"class", "points": [[x, y], ...], "visibility": [...]}``;
    ``inside``: where an albumentations pipeline left image (points elsewhere get 0)."""
    out = []
    for label, points in parts:
        for part in clip(points, canvas_wh):
            pts = resample(part, STEP)
            out.append({
                "class": label,
                "points": [[round(float(x), 2), round(float(y), 2)] for x, y in pts],
                "visibility": visibility(pts, covered, inside),
            })
    return out


def frame_lines(
    lines: tuple[Line, ...],
    crop_xywh: tuple[int, int, int, int],
    flip: bool,
    canvas_wh: tuple[int, int],
    effect_matrices: list[np.ndarray],
    covered: np.ndarray,
) -> list[dict]:
    """The lines of a background in the final frame, as written in the COCO image entry."""
    return label_lines(canvas_lines(lines, crop_xywh, flip, canvas_wh, effect_matrices), canvas_wh, covered)


def dense_lines(parts: list[tuple[str, np.ndarray]], canvas_wh: tuple[int, int]) -> list[tuple[str, np.ndarray]]:
    """The lines made ready for a transform that may bend them (an albumentations pipeline moves
    them as keypoints, point by point): the parts within one frame size around the frame,
    resampled every ``STEP`` pixels, so that what the transform does between two points is
    at most a pixel-scale bend."""
    W, H = canvas_wh
    shift = np.array([W, H], np.float64)
    out = []
    for label, points in parts:
        for part in clip(points + shift, (3 * W, 3 * H)):  # [-W, 2W] x [-H, 2H]
            out.append((label, resample(part - shift, STEP)))
    return out

