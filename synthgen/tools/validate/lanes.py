"""Checking a run's lane files (synthgen/writers/lanes.py):

    lanes/tusimple_<part>.json   TuSimple: one JSON object a line, ``raw_file`` (an image inside
                                 the dataset that exists), ``h_samples`` (increasing rows in the
                                 image) and ``lanes`` (one x a row, -2 where the lane is absent)
    list/<part>.txt              CULane: "/<image>" a line, an image of that part that exists,
                                 with its lines/<name>.lines.txt
    lines/<name>.lines.txt       CULane: one lane a line, "x y x y ..."

Any dataset's files are checked for their form. In synthgen's merged run, they are what the COCO
image entries say: every image with ``lines`` has exactly one TuSimple row, in the file of its
part (its ``split``, train when it has none), equal to the row its lines give, in index order;
each part's CULane list names those images in the same order; each image's lines file is its
lines' CULane text. A run with a validation part has both parts' files (empty ones too).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthgen.io.issues import DatasetError
from synthgen.io.layout import Layout
from synthgen.io.paths import inside
from synthgen.tools.validate.findings import Checking
from synthgen.writers.lanes import culane_text, tusimple_entry

PARTS = ("train", "val")
NONE = -2  # TuSimple: no lane at this row


def present(layout: Layout) -> bool:
    """Whether the dataset has lane files to check (then validate collects the COCO entries)."""
    return any((layout.root / sub).is_dir() for sub in ("lanes", "list", "lines"))


def _part(split: Any) -> str:
    return split if split in PARTS else "train"


def check_lanes(c: Checking) -> None:
    """The lane files at the dataset's root; ``c.lane_images`` (COCO file_name -> (W, H, split,
    lines)) from the COCO check, when there was one."""
    root = c.layout.root
    images: dict[str, tuple] = c.lane_images or {}
    # what synthgen's merged run must hold: raw_file -> its expected row, and each part's rows in order
    expected: dict[str, list[str]] = {}
    rows_of: dict[str, dict[str, Any]] = {}
    ours = c.synthgen and bool(images)
    if ours:
        for name, (W, H, split, lines) in images.items():
            if isinstance(lines, list):
                raw = f"images/{name}"
                try:
                    rows_of[raw] = tusimple_entry(lines, raw, H)
                except (KeyError, TypeError, ValueError, IndexError):
                    continue  # malformed lines: the COCO check names them
                expected.setdefault(_part(split), []).append(raw)
    merged = ours and c.layout.coco_file is not None  # the run-level files are written by the merge
    parts = [p for p in PARTS if p == "train" or any(_part(s) == "val" for _, _, s, _ in images.values())]
    seen: dict[str, str] = {}  # raw_file -> where it was first listed
    for part_file in sorted((root / "lanes").glob("tusimple_*.json")) if (root / "lanes").is_dir() else []:
        part = part_file.stem.removeprefix("tusimple_")
        got = _check_tusimple(c, part_file, images, rows_of if merged else None, part, seen)
        if merged:
            _check_order(c, part_file, got, expected.get(part, []))
    if merged and rows_of:
        for part in parts:
            for rel in (f"lanes/tusimple_{part}.json", f"list/{part}.txt"):
                if not (root / rel).is_file():
                    c.add("missing_file", rel, f"the run has images with lines in its {part} part, but no {rel}")
        for raw in rows_of:
            if raw not in seen:
                c.add("lines", f"lanes/tusimple_{_part(images[raw[len('images/'):]][2])}.json",
                      f"no row for {raw}, whose COCO entry has lines")
    for list_file in sorted((root / "list").glob("*.txt")) if (root / "list").is_dir() else []:
        _check_list(c, list_file, images if ours else None, expected.get(list_file.stem, []) if merged else None)
    if ours:
        for name, (_, _, _, lines) in images.items():
            if isinstance(lines, list):
                _check_lines_file(c, root / "lines" / f"{Path(name).stem}.lines.txt", lines)


def _read_lines(c: Checking, path: Path) -> list[str] | None:
    try:
        return path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        c.add("lines", c.layout.rel(path), f"cannot be read ({exc.__class__.__name__})")
        return None


def _image(c: Checking, rel: str, where: str, field: str) -> Path | None:
    """The image a lane file names, inside the dataset; None (a problem added) when it leaves
    the folder or does not exist."""
    root = c.layout.root
    try:
        path = inside(root, rel, where)
    except DatasetError as exc:
        c.add(exc.issue.kind, exc.issue.where, f"{field}: {exc.issue.message}")
        return None
    if not path.is_file():
        c.add("missing_file", where, f"{field} {rel} does not exist")
        return None
    return path


def _check_tusimple(c: Checking, path: Path, images: dict[str, tuple], rows_of: dict[str, dict] | None,
                    part: str, seen: dict[str, str]) -> list[str]:
    """One TuSimple file's rows; returns their raw_files in file order."""
    rel = c.layout.rel(path)
    text = _read_lines(c, path)
    order: list[str] = []
    for n, line in enumerate(text or [], 1):
        where = f"{rel} line {n}"
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            c.add("lines", where, f"not JSON ({exc})")
            continue
        if not isinstance(row, dict) or not isinstance(row.get("raw_file"), str):
            c.add("lines", where, "a row must be a JSON object with raw_file (string), h_samples and lanes")
            continue
        raw = row["raw_file"]
        c.count("tusimple images")
        if _image(c, raw, where, "raw_file") is None:
            continue
        order.append(raw)
        if raw in seen:
            c.add("lines", where, f"{raw} has a row already ({seen[raw]})")
            continue
        seen[raw] = where
        entry = images.get(raw.removeprefix("images/"))
        W, H = (entry[0], entry[1]) if entry else (None, None)
        if not _row_form(c, row, where, W, H):
            continue
        if rows_of is None:
            continue
        want = rows_of.get(raw)
        if want is None:
            c.add("lines", where, f"{raw} has no lines in its COCO entry, so it has no TuSimple row")
        elif _part(entry[2]) != part:
            c.add("lines", where, f"{raw} is in the {_part(entry[2])} part (its COCO split), not {part}")
        elif row != want:
            c.add("lines", where, f"not the row {raw}'s COCO lines give: {_difference(row, want)}")
    return order


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _row_form(c: Checking, row: dict, where: str, W: int | None, H: int | None) -> bool:
    rows, lanes = row.get("h_samples"), row.get("lanes")
    if not isinstance(rows, list) or not rows or not all(_is_int(y) for y in rows) or any(
            b <= a for a, b in zip(rows, rows[1:])) or rows[0] < 0 or (H is not None and rows[-1] >= H):
        c.add("lines", where, f"h_samples must be increasing whole rows inside the image{f' (0 to {H - 1})' if H else ''}")
        return False
    if not isinstance(lanes, list) or not all(isinstance(lane, list) for lane in lanes):
        c.add("lines", where, "lanes must be a list of lanes, each a list of x values")
        return False
    for i, lane in enumerate(lanes):
        if len(lane) != len(rows):
            c.add("lines", where, f"lane {i} has {len(lane)} values, but there are {len(rows)} h_samples")
            return False
        bad = [x for x in lane if not _is_int(x) or (x != NONE and (x < 0 or (W is not None and x > W)))]
        if bad:
            c.add("lines", where, f"lane {i}: x {bad[0]!r} is neither -2 (no lane at that row) nor inside the image"
                                  f"{f' (0 to {W})' if W else ''}")
            return False
    return True


def _difference(row: dict, want: dict) -> str:
    if row["h_samples"] != want["h_samples"]:
        return f"h_samples {row['h_samples'][:3]}..., the lines give {want['h_samples'][:3]}..."
    if len(row["lanes"]) != len(want["lanes"]):
        return f"{len(row['lanes'])} lanes, the lines give {len(want['lanes'])}"
    for i, (a, b) in enumerate(zip(row["lanes"], want["lanes"])):
        for y, xa, xb in zip(row["h_samples"], a, b):
            if xa != xb:
                return f"lane {i} at row {y}: x {xa}, the lines give {xb}"
    return "other fields differ"


def _check_order(c: Checking, path: Path, got: list[str], want: list[str]) -> None:
    if got != want and sorted(got) == sorted(want):
        c.add("lines", c.layout.rel(path), "rows are not in the run's index order")


def _check_list(c: Checking, path: Path, images: dict[str, tuple] | None, want: list[str] | None) -> None:
    """A CULane list: '/<image>' a line, each an image of the list's part that exists (with its
    lines file); synthgen's: the part's images with lines, in index order."""
    rel = c.layout.rel(path)
    part = path.stem
    listed = []
    for n, line in enumerate(_read_lines(c, path) or [], 1):
        where = f"{rel} line {n}"
        if not line.strip():
            continue
        if not line.startswith("/"):
            c.add("lines", where, f"{line!r}: a CULane list line is '/<image path in the dataset>'")
            continue
        name = line[1:]
        if _image(c, name, where, "image") is None:
            continue
        listed.append(name)
        if images is None:
            continue
        entry = images.get(name.removeprefix("images/"))
        if entry is None or not isinstance(entry[3], list):
            c.add("lines", where, f"{name} has no lines in its COCO entry")
        elif part in PARTS and _part(entry[2]) != part:
            c.add("lines", where, f"{name} is in the {_part(entry[2])} part (its COCO split), not {part}")
        elif not (c.layout.root / "lines" / f"{Path(name).stem}.lines.txt").is_file():
            c.add("missing_file", where, f"lines/{Path(name).stem}.lines.txt (the lanes of {name}) does not exist")
    if want is not None and part in PARTS:
        missing = [w for w in want if w not in set(listed)]
        if missing:
            c.add("lines", rel, f"{len(missing)} image(s) of the {part} part with lines are not listed ({missing[0]}, ...)")
        elif listed != want:
            c.add("lines", rel, "images are not in the run's index order")


def _check_lines_file(c: Checking, path: Path, lines: list) -> None:
    rel = c.layout.rel(path)
    try:
        want = culane_text(lines)
    except (KeyError, TypeError, ValueError, IndexError):
        return  # malformed lines: the COCO check names them
    if not path.is_file():
        c.add("missing_file", rel, "the image's COCO entry has lines, but its CULane lines file does not exist")
        return
    c.count("culane lines files")
    got = _read_lines(c, path)
    if got is not None and got != want.splitlines():
        c.add("lines", rel, "not the CULane text of the image's COCO lines (lanes, bottom first, 'x y' pairs)")
