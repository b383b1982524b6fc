"""Checking a COCO dataset (a file, or a run's unmerged shard fragments) read by io/coco."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from synthgen.io.coco import (
    ENTRY_FIELDS,
    Coco,
    SeenIds,
    image_file,
    image_shape,
    image_where,
    is_synthgen,
    read_coco,
    read_coco_chunks,
)
from synthgen.io.images import read_id_map
from synthgen.io.issues import DatasetError
from synthgen.tools.validate.findings import Checking, recorded_checksums
from synthgen.tools.validate.keypoints import check_points
from synthgen.tools.validate.masks import check_annotation, check_id_map, check_overlaps
from synthgen.tools.validate.panoptic import compare_with_coco as compare_panoptic
from synthgen.tools.validate.semantic import check_semantic_file
from synthgen.tools.validate.tracks import check_tracks, is_clips
from synthgen.tools.validate.yolo import compare_with_coco


def coco_files(c: Checking) -> Iterator[Coco]:
    """The COCO file, or each fragment of an unmerged run, read tolerantly; files that are not
    COCO at all are problems."""
    L = c.layout
    seen = SeenIds()
    if L.coco_file:
        sources = [(L.coco_file, None)]
    elif L.coco_parts:
        sources = [(part, None) for part in L.coco_parts]
    else:
        sources = [(frag, L.fragment_categories()) for frag in L.coco_fragments]
    for path, categories in sources:
        chunks = read_coco_chunks(path, L.rel(path), seen) if categories is None else None
        if chunks is not None:  # laid out one entry a line (a merged run's): a chunk of images at a time
            yield from chunks
            continue
        try:
            coco = read_coco(path, L.rel(path), categories=categories, seen=seen)
        except DatasetError as exc:
            c.add("format", exc.issue.where, exc.issue.message)
            continue
        c.add.issues(coco.issues)
        yield coco


def check_coco(c: Checking) -> None:
    L = c.layout
    for coco in coco_files(c):
        if L.coco_fragments and L.manifest is not None:  # an unmerged run: one shard's records and sizes at a time
            c.sizes.clear()
            c.checksums = recorded_checksums(L.root, coco.path.name.removesuffix(".coco.json"))
        if coco.path == L.coco_file and is_synthgen(L.manifest, coco):
            c.synthgen = True
            c.categories = {name: k for k, name in coco.categories.items()}
        c.count("images", len(coco.images))
        c.count("annotations", coco.num_annotations)
        c.coco_images += len(coco.images)
        for iid, im in coco.images.items():
            check_coco_image(c, coco, im, coco.annotations.get(iid, []))
        if is_clips(coco):
            check_tracks(c, coco)


def check_coco_image(c: Checking, coco: Coco, im: dict, anns: list[dict]) -> None:
    add, L = c.add, c.layout
    iid = im["id"]
    where = image_where(coco.name, im)
    shape = image_shape(im)
    if shape is None:
        add("format", where, ENTRY_FIELDS)
        return
    name, W, H = shape
    c.coco_names.append(name)
    if c.lane_images is not None:  # the lane files' check (lanes.py) compares them with these
        c.lane_images[name] = (W, H, im.get("split"), im.get("lines"))
    try:
        path = image_file(L.images_dir, coco.name, im, c.images_root)
    except DatasetError as exc:  # leaves the image folder: never opened
        add(exc.issue.kind, exc.issue.where, exc.issue.message)
        size = False
    else:
        size = c.image_size(path)
    if size is False:
        pass
    elif size is None:
        add("missing_file", where, f"image file {L.rel(path)} does not exist")
    elif isinstance(size, str):
        add("unreadable_image", where, size)
    elif size != (W, H):
        add("image_size", where, f"the file is {size[0]}x{size[1]}, the entry says {W}x{H}")

    def ann_where(aid: Any) -> str:
        return f"{coco.name} annotation {aid} (image {iid})"

    if im.get("lines") is not None or any("keypoints" in a for a in anns):
        check_points(c, coco, im, anns, W, H, where, ann_where)
    rles, masks = [], []
    for a in anns:
        rle = check_annotation(a, H, W, ann_where(a["id"]), add)
        if rle is not None:
            masks.append((a, rle))
            if not a.get("iscrowd"):
                rles.append((a["id"], rle))
    if c.synthgen:
        check_overlaps(rles, where, add)
        masks_dir = L.root / "masks"
        if masks_dir.is_dir():
            check_mask_file(c, masks_dir / (Path(name).stem + ".png"), anns, iid, W, H, where, ann_where)
        if (L.root / "semantic").is_dir():
            check_semantic_file(c, L.root / "semantic" / (Path(name).stem + ".png"), masks, W, H, where, iid)
        compare_panoptic(c, iid, anns, where)
        if L.yolo_yaml and c.yolo is not None and c.yolo.names is not None:
            compare_with_coco(c, L.root / "labels" / (Path(name).stem + ".txt"), anns, coco.categories, W, H, where)


def check_mask_file(c: Checking, path: Path, anns: list[dict], iid: Any, W: int, H: int, where: str, ann_where) -> None:
    if not path.is_file():
        c.add("missing_file", where, f"id map {c.layout.rel(path)} does not exist")
        return
    c.count("id maps")
    idm = read_id_map(path)
    if idm is None or idm.dtype != np.uint16 or idm.shape != (H, W):
        got = "unreadable" if idm is None else f"{idm.dtype} {idm.shape[1]}x{idm.shape[0]}"
        c.add("id_map", where, f"id map {c.layout.rel(path)} is {got}, not uint16 {W}x{H}")
        return
    check_id_map(idm, anns, iid, f"{where} id map", c.add, ann_where)
