"""Lane labels in the layouts lane detectors read, from the ``lines`` of a sample's COCO image
entry (synthgen/lines.py): only lane markings (``lane_solid``, ``lane_dashed``), every point that
is in the frame (covered ones too: lanes are labeled through the cars on them).

    lines/<name>.lines.txt           CULane: one lane a line, "x y x y ...", bottom to top
    shards/<shard>.tusimple.json     TuSimple: one JSON object an image, its lanes' x at each
                                     of the rows h_samples (every H_STEP pixels), -2 where absent

and, once the run is complete (writers/merge.py), the run-level files lane loaders read:

    lanes/tusimple_train.json        the shards' TuSimple lines of the train part, in index order
    lanes/tusimple_val.json          ... of the validation part (when the run has one)
    list/train.txt, list/val.txt     CULane lists: "/images/<name>.jpg" a line, one per image
                                     that has lines/<name>.lines.txt
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synthgen.io.files import AtomicFile
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


def merge_lanes(
    run: Path, dest: Path, shard_names: list[str], split_of: Callable[[str], dict[str, str]], has_val: bool
) -> list[str]:
    """Write DEST's TuSimple files and CULane lists from RUN's shards, one shard at a time;
    ``split_of(shard name)`` maps each of the shard's image file names to its part (an image
    it leaves out is in train); ``has_val``: the run has a validation part, so val files are
    written too. Returns the files written (none when the run wrote no lines)."""
    parts = ("train", "val") if has_val else ("train",)  # as the YOLO lists
    files: dict[str, tuple[AtomicFile, AtomicFile]] = {}
    try:
        for name in shard_names:
            path = run / "shards" / f"{name}.tusimple.json"
            if not path.is_file():
                continue
            splits = split_of(name)
            for row in path.read_text().splitlines():
                if not files:  # the first row: the run has lines
                    for part in parts:
                        for rel in (f"lanes/tusimple_{part}.json", f"list/{part}.txt"):
                            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                        files[part] = (AtomicFile(dest / f"lanes/tusimple_{part}.json"), AtomicFile(dest / f"list/{part}.txt"))
                raw = json.loads(row)["raw_file"]
                tusimple, culane = files[splits.get(Path(raw).name, "train")]
                tusimple.write(row + "\n")
                culane.write(f"/{raw}\n")
    except BaseException:
        for pair in files.values():
            for f in pair:
                f.discard()
        raise
    written = []
    for part, pair in files.items():
        for f in pair:
            f.commit()
            written.append(f.path.relative_to(dest).as_posix())
    return written
