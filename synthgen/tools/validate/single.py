"""Checking a run written without COCO: ``--format semantic`` alone, or ``--format hf`` alone.

semantic/ (no COCO, no panoptic to compare with): every image of the run's metadata.jsonl has
its map, at the image's size, holding only classes semantic_classes.json lists, and each pasted
object class covers exactly as many pixels as its instances' areas in metadata.jsonl add up to
(the instances' visible masks do not overlap; a real scene's crowd regions may add some).

hf/ (no annotations.json to compare with): each split's metadata.jsonl line names a file inside
the split's folder that is an image of the stated size, with image ids unique over the splits,
and objects whose lists have one entry an object, boxes inside the image, areas within their box,
categories among the run's classes (0-based) and named as the run names them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from synthgen.tools.validate.findings import Checking
from synthgen.tools.validate.hf import _inside, json_object
from synthgen.tools.validate.semantic import read_map


def _records(c: Checking) -> list[dict[str, Any]]:
    """The run's metadata lines: metadata.jsonl, or its shards' before the merge."""
    root = c.layout.root
    files = [root / "metadata.jsonl"] if (root / "metadata.jsonl").is_file() else sorted((root / "shards").glob("shard-*.jsonl"))
    out = []
    for f in files:
        for n, line in enumerate(f.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError as exc:
                c.add("format", f"{c.layout.rel(f)} line {n}", f"not JSON ({exc})")
                continue
            if isinstance(rec, dict):
                out.append(rec)
    return out


def check_semantic_alone(c: Checking) -> None:
    classes = list((c.layout.manifest or {}).get("classes") or [])
    if not classes:
        c.report.notes.append("semantic/ not checked: it is checked against a synthgen run's manifest.json and "
                              "metadata.jsonl (or its COCO annotations.json), and there are none")
        return
    known = set(c.semantic_classes.names) if c.semantic_classes is not None else None
    ignore = c.semantic_classes.ignore_index if c.semantic_classes is not None else 255
    for rec in _records(c):
        name, W, H = str(rec.get("file_name", "")), rec.get("width"), rec.get("height")
        where = f"metadata.jsonl image {rec.get('index')} ({name})"
        path = c.layout.root / "semantic" / f"{Path(name).stem}.png"
        rel = c.layout.rel(path)
        image = c.layout.root / "images" / name
        size = c.image_size(image) if name else None
        if size is None:
            c.add("missing_file", where, f"image file {c.layout.rel(image)} does not exist")
        elif isinstance(size, str):
            c.add("unreadable_image", where, size)
        elif size != (W, H):
            c.add("image_size", where, f"the file is {size[0]}x{size[1]}, metadata.jsonl says {W}x{H}")
        got = read_map(c, path, W, H, where)
        if got is None:
            continue
        counts = np.bincount(got.ravel(), minlength=256)
        unknown = [int(k) for k in np.nonzero(counts)[0] if known is not None and k not in known]
        if unknown:
            c.add("semantic", where, f"semantic map {rel} holds class indices {unknown[:10]} that semantic_classes.json does not list")
            continue
        want = np.zeros(256, np.int64)
        for inst in rec.get("instances") or []:
            if inst.get("label") in classes:
                want[classes.index(inst["label"]) + 1] += int(inst.get("area", 0))
        crowds = bool((rec.get("scene") or {}).get("real"))  # a real scene's crowd regions carry their class too
        for k in range(1, len(classes) + 1):
            if k == ignore:
                continue
            if counts[k] != want[k] and not (crowds and counts[k] > want[k]):
                c.add("semantic", where, f"semantic map {rel}: {int(counts[k])} pixels of class {k} ({classes[k - 1]}), but "
                                         f"the areas of its {classes[k - 1]} instances in metadata.jsonl add up to {int(want[k])}")
                break


def check_hf_alone(c: Checking) -> None:
    classes = list((c.layout.manifest or {}).get("classes") or [])
    c.report.notes.append("hf/ checked on its own (its files, sizes, boxes, classes): with annotations.json "
                          "(--format coco) it is also compared with the COCO annotations")
    seen: dict[Any, str] = {}
    for meta in sorted(c.layout.hf_dir.glob("*/metadata.jsonl")):
        rel = c.layout.rel(meta)
        for n, line in enumerate(meta.read_text().splitlines(), 1):
            if line.strip():
                _check_line(c, meta, f"{rel} line {n}", line, classes, seen)


def _check_line(c: Checking, meta: Path, where: str, line: str, classes: list[str], seen: dict) -> None:
    rec = json_object(c, where, line)
    if rec is None:
        return
    iid = rec.get("image_id")
    if iid in seen:
        c.add("duplicate_id", where, f"image_id {iid!r} is listed already ({seen[iid]})")
        return
    seen[iid] = where
    c.count("hf images")
    W, H = rec.get("width"), rec.get("height")
    path = _inside(meta, rec.get("file_name"), where, "file_name", c)
    if path is not None:
        size = c.image_size(path)
        if isinstance(size, str):
            c.add("unreadable_image", where, size)
        elif size is not None and size != (W, H):
            c.add("image_size", where, f"the file is {size[0]}x{size[1]}, the line says {W}x{H}")
    if "semantic_file_name" in rec:
        _inside(meta, rec["semantic_file_name"], where, "semantic_file_name", c)
    objects = rec.get("objects")
    keys = ("id", "area", "bbox", "category", "category_name")
    if not isinstance(objects, dict) or not all(isinstance(objects.get(k), list) for k in keys):
        c.add("format", where, "has no objects {id, area, bbox, category, category_name} (lists)")
        return
    if len({len(objects[k]) for k in keys}) != 1:
        c.add("hf", where, "objects' lists have different lengths: " + ", ".join(f"{k} {len(objects[k])}" for k in keys))
        return
    if not isinstance(W, int) or not isinstance(H, int):
        c.add("format", where, "width and height must be whole numbers")
        return
    for i, (area, box, cat, cname) in enumerate(zip(*(objects[k] for k in keys[1:]))):
        w = f"{where} object {i}"
        if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)):
            c.add("hf", w, f"bbox {box!r} is not [x, y, width, height]")
            continue
        x, y, bw, bh = box
        if x < 0 or y < 0 or bw <= 0 or bh <= 0 or x + bw > W or y + bh > H:
            c.add("hf", w, f"bbox {box} is empty or lies outside the {W}x{H} image")
        if not isinstance(area, (int, float)) or not 0 < area <= bw * bh:
            c.add("hf", w, f"area {area!r} is not within its {bw}x{bh} box")
        if classes and not (isinstance(cat, int) and 0 <= cat < len(classes)):
            c.add("hf", w, f"category {cat!r} is not a class index 0..{len(classes) - 1}")
        elif classes and cname != classes[cat]:
            c.add("hf", w, f"category_name {cname!r}, but class {cat} is {classes[cat]!r}")
