"""Lane labels in the layouts lane detectors read, from the ``lines`` of a sample's COCO image
entry (synthgen/lines.py): only lane markings (``lane_solid``, ``lane_dashed``), every point that
is in the frame (covered ones too: lanes are labeled through the cars on them).

    lines/<name>.lines.txt           CULane: one lane a line, "x y x y ...", bottom to top
    shards/<shard>.tusimple.json     TuSimple: one JSON object an image, its lanes' x at each
                                     of the rows h_samples (every H_STEP pixels), -2 where absent
"""

from __future__ import annotations

import json
from typing import Any

from synthgen.lines import LANE_CLASSES

H_STEP = 10


def _lanes(lines: list[dict[str, Any]]) -> list[list[tuple[float, float]]]:
    out = []
    for line in lines:
        if line["class"] not in LANE_CLASSES:
            continue
        pts = [tuple(p) for p, v in zip(line["points"], line["visibility"]) if v > 0]
        if len(pts) < 2:
            continue
        if pts[0][1] < pts[-1][1]:  # bottom (largest y) first
            pts.reverse()
        out.append(pts)
    return out


def culane_text(lines: list[dict[str, Any]]) -> str:
    return "".join(" ".join(f"{x:.2f} {y:.2f}" for x, y in lane) + "\n" for lane in _lanes(lines))


def h_samples(height: int) -> list[int]:
    return list(range(0, height, H_STEP))


def row_x(lane: list[tuple[float, float]], y: float) -> float | None:
    """x where the polyline first crosses row y (from the bottom), or None."""
    for (x0, y0), (x1, y1) in zip(lane[:-1], lane[1:]):
        if min(y0, y1) <= y <= max(y0, y1):
            return x0 if y0 == y1 else x0 + (x1 - x0) * (y - y0) / (y1 - y0)
    return None


def tusimple_entry(lines: list[dict[str, Any]], raw_file: str, height: int) -> dict[str, Any]:
    rows = h_samples(height)
    lanes = []
    for lane in _lanes(lines):
        # rows are pixel rows: a row's centre is at y + 0.5 in the points' continuous coordinates
        xs = [row_x(lane, y + 0.5) for y in rows]
        lanes.append([-2 if x is None else int(round(x - 0.5)) for x in xs])
    return {"raw_file": raw_file, "h_samples": rows, "lanes": lanes}


def tusimple_text(entries: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in entries)
