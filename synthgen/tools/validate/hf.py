"""Checking a run's Hugging Face imagefolder layout (format hf, writers/hf): each split's
``hf/<split>/metadata.jsonl`` lists exactly the COCO images of that part (``train``, ``val`` ->
``validation``), each line's ``file_name`` (and ``semantic_file_name``) a file inside the split's
folder, the same bytes as the run's image (class map), its size and objects (ids, areas, boxes,
0-based categories, names) the COCO annotations of that image, in order."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

from synthgen.io.coco import read_coco
from synthgen.io.issues import DatasetError
from synthgen.tools.validate.findings import Checking

SPLITS = {"train": "train", "val": "validation"}  # COCO image's split -> imagefolder's split folder


def check_hf(c: Checking) -> None:
    root = c.layout.root
    coco_file = root / "annotations.json"
    if not coco_file.is_file():
        c.report.notes.append("hf/ not checked: it is compared with annotations.json, which is not there (merge the run)")
        return
    try:
        coco = read_coco(coco_file, c.layout.rel(coco_file))
    except DatasetError as exc:  # the COCO check reports it
        c.report.notes.append(f"hf/ not checked: {exc.issue.message}")
        return
    by_split: dict[str, dict[Any, dict]] = {s: {} for s in SPLITS.values()}
    for iid, im in coco.images.items():
        by_split[SPLITS.get(im.get("split", "train"), "train")][iid] = im
    for split, images in by_split.items():
        meta = root / "hf" / split / "metadata.jsonl"
        rel = c.layout.rel(meta)
        if not meta.is_file():
            if images:
                c.add("missing_file", rel, f"does not exist, but the COCO annotations have {len(images)} {split} images")
            continue
        seen: set = set()
        for n, line in enumerate(meta.read_text().splitlines(), 1):
            if line.strip():
                _check_line(c, coco, images, meta, f"{rel} line {n}", line, seen)
        c.count("hf images", len(seen))
        for iid in [i for i in images if i not in seen][:10]:
            c.add("hf", f"{rel}", f"has no line for {split} image {iid} ({images[iid].get('file_name')})")


def _inside(meta: Path, name: Any, where: str, key: str, c: Checking) -> Path | None:
    """The file a metadata line names, when it is a relative path inside the split's folder."""
    if not isinstance(name, str) or not name:
        c.add("format", where, f"{key} {name!r} is not a file name")
        return None
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or "\\" in name or "://" in name:
        c.add("path", where, f"{key} {name!r} leaves {c.layout.rel(meta.parent)} (imagefolder reads only files inside it)")
        return None
    path = meta.parent / p
    if not path.is_file():
        c.add("missing_file", where, f"{key} {c.layout.rel(path)} does not exist")
        return None
    return path


def _same_file(c: Checking, path: Path, original: Path, where: str, what: str) -> None:
    if not original.is_file():
        return
    if path.stat().st_size != original.stat().st_size or (c.deep and path.read_bytes() != original.read_bytes()):
        c.add("hf", where, f"{c.layout.rel(path)} is not the same file as {c.layout.rel(original)} ({what})")


def json_object(c: Checking, where: str, line: str) -> dict | None:
    """One metadata.jsonl line as a JSON object; None, the problem added, when it is not one."""
    try:
        rec = json.loads(line)
    except ValueError as exc:
        c.add("format", where, f"not JSON ({exc})")
        return None
    if not isinstance(rec, dict):
        c.add("format", where, "not a JSON object")
        return None
    return rec


def _check_line(c: Checking, coco, images: dict, meta: Path, where: str, line: str, seen: set) -> None:
    rec = json_object(c, where, line)
    if rec is None:
        return
    iid = rec.get("image_id")
    if iid in seen:
        c.add("duplicate_id", where, f"image {iid} listed twice")
        return
    im = images.get(iid)
    if im is None:
        where_else = "another split" if iid in coco.images else "none of the COCO images"
        c.add("unknown_image", where, f"image_id {iid!r} is {where_else}, not an image of {meta.parent.name}")
        return
    seen.add(iid)
    path = _inside(meta, rec.get("file_name"), where, "file_name", c)
    if path is not None:
        if path.name != Path(im.get("file_name", "")).name:
            c.add("hf", where, f"file_name {rec['file_name']!r} is not image {iid}'s file {im.get('file_name')!r}")
        else:
            _same_file(c, path, c.layout.root / "images" / Path(im["file_name"]).name, where, f"image {iid}")
    if (rec.get("width"), rec.get("height")) != (im.get("width"), im.get("height")):
        c.add("image_size", where, f"{rec.get('width')}x{rec.get('height')}, the COCO image {iid} is {im.get('width')}x{im.get('height')}")
    if "semantic_file_name" in rec:
        sem = _inside(meta, rec["semantic_file_name"], where, "semantic_file_name", c)
        if sem is not None:
            _same_file(c, sem, c.layout.root / "semantic" / f"{Path(im.get('file_name', '')).stem}.png", where, f"image {iid}'s class map")
    anns = coco.annotations.get(iid, [])
    want = {
        "id": [a.get("id") for a in anns],
        "area": [a.get("area") for a in anns],
        "bbox": [a.get("bbox") for a in anns],
        "category": [a.get("category_id") - 1 if isinstance(a.get("category_id"), int) else None for a in anns],
        "category_name": [coco.categories.get(a.get("category_id")) for a in anns],
    }
    objects = rec.get("objects")
    if not isinstance(objects, dict):
        c.add("format", where, "has no objects {id, area, bbox, category, category_name}")
        return
    for key, values in want.items():
        got = objects.get(key)
        if got != values:
            c.add("hf", f"{where} objects.{key}", f"{_short(got)}, but image {iid}'s COCO annotations give {_short(values)}")


def _short(v: Any) -> str:
    text = json.dumps(v)
    return text if len(text) <= 80 else text[:77] + "..."
