"""Checking a YOLO dataset read by io/yolo (Ultralytics' layout rules), and comparing
synthgen's YOLO labels with its COCO annotations."""

from __future__ import annotations

import numpy as np

from synthgen.io.rle import fmt
from synthgen.io.yolo import (
    EPS,
    label_path,
    parse_line,
    read_label_lines,
    read_labels,
    read_yolo,
)
from synthgen.tools.validate.findings import Checking


def read_names(c: Checking) -> None:
    """Read data.yaml once (names, image files) before the COCO check compares with it."""
    c.yolo = read_yolo(c.layout.yolo_yaml, c.layout.rel(c.layout.yolo_yaml))
    c.add.issues(c.yolo.issues)


def check_yolo(c: Checking) -> None:
    add, L, ds = c.add, c.layout, c.yolo
    if ds is None or ds.names is None:
        return
    c.report.notes += ds.notes
    labels_seen = set()
    lines_total = 0
    for img in ds.images:
        label = label_path(img)
        labels_seen.add(label)
        size = c.image_size(img)
        if size is None:
            add("missing_file", L.rel(img), "image file listed in data.yaml does not exist")
        elif isinstance(size, str):
            add("unreadable_image", L.rel(img), size)
        lines = read_label_lines(label)
        if lines is None:
            if c.synthgen:
                add("missing_file", L.rel(img), f"no label file {L.rel(label)}")
            continue
        for n, line in lines:
            lines_total += 1
            _, error, kind = parse_line(line, len(ds.names), ds.kpt_shape)
            if error:
                add(kind, f"{L.rel(label)} line {n}", f"{error}: {line.strip()[:80]!r}")
    label_dirs = {label_path(folder / "x").parent for folder in {f.parent for f in ds.images}}
    for d in sorted(label_dirs):
        if d.is_dir():
            for t in sorted(d.glob("*.txt")):
                if t not in labels_seen and t.name != "classes.txt":
                    add("missing_file", L.rel(t), "label file has no image")
    c.count("yolo images", len(ds.images))
    c.count("yolo labels", lines_total)


def compare_with_coco(c: Checking, label, anns: list[dict], cats: dict, W: int, H: int, where: str) -> None:
    """synthgen's YOLO lines are its COCO annotations, in order, normalised (crowd regions are
    COCO's only)."""
    anns = [a for a in anns if not a.get("iscrowd")]
    names = c.yolo.names
    lines = read_labels(label, len(names), c.yolo.kpt_shape)
    if lines is None:
        return  # reported by the YOLO check
    lw = c.layout.rel(label)
    if len(lines) != len(anns):
        c.add("yolo_mismatch", lw, f"{len(lines)} lines, but {len(anns)} COCO annotations for {where}")
        return
    for n, (line, a) in enumerate(zip(lines, anns), 1):
        if line is None or not (isinstance(a.get("bbox"), list) and len(a["bbox"]) == 4):
            continue
        cls, vals = line
        x, y, w, h = a["bbox"]
        if names[cls] != cats.get(a.get("category_id")):
            c.add("yolo_mismatch", f"{lw} line {n}", f"class {names[cls]!r}, COCO annotation {a['id']} is {cats.get(a.get('category_id'))!r}")
        elif len(vals) == 4:
            want = [(x + w / 2) / W, (y + h / 2) / H, w / W, h / H]
            if max(abs(u - v) for u, v in zip(vals, want)) > EPS:
                c.add("yolo_mismatch", f"{lw} line {n}", f"box {fmt(vals)} is not COCO annotation {a['id']}'s {fmt([round(v, 6) for v in want])}")
        else:
            xy = np.asarray(vals).reshape(-1, 2)
            lo, hi = xy.min(0), xy.max(0)
            # the writer rounds vertices *up* by up to 1e-6 (writers/yolo.normalized_up): allow that, plus float slack
            up = 1e-6 + EPS
            if lo[0] < x / W - EPS or lo[1] < y / H - EPS or hi[0] > (x + w) / W + up or hi[1] > (y + h) / H + up:
                c.add("yolo_mismatch", f"{lw} line {n}", f"polygon leaves COCO annotation {a['id']}'s box {fmt(a['bbox'])}")
