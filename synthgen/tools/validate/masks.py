"""Checks of one annotation and of one image's masks, shared by the COCO and WebDataset checkers.

Masks are checked in their run-length encoding (area, tight box, merges: no decoding to
pixels), after io/rle has refused malformed ones; only id maps are decoded, one at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synthgen.io.rle import (
    MaskError,
    area,
    encode_fortran,
    fmt,
    is_empty,
    is_number,
    shared_pixels,
    tight_box,
    to_rle,
    union_area,
)
from synthgen.types import MAX_INSTANCES

EPS = 1e-6  # float slack for box bounds


def check_annotation(ann: dict, H: int, W: int, where: str, add) -> dict | None:
    """Box inside the image, box = tight box of the mask, area = pixel count. The mask's RLE."""
    bbox = ann.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(is_number(v) for v in bbox)):
        add("format", where, f"bbox {fmt(bbox)} is not four numbers [x, y, w, h]")
        return None
    x, y, w, h = bbox
    if w <= 0 or h <= 0:
        add("bbox", where, f"bbox {fmt(bbox)} has no width or height")
    if x < -EPS or y < -EPS or x + w > W + EPS or y + h > H + EPS:
        add("out_of_bounds", where, f"bbox {fmt(bbox)} leaves the {W}x{H} image")
    seg = ann.get("segmentation")
    if is_empty(seg):
        return None  # a box-only annotation
    try:
        rle, perimeter = to_rle(seg, H, W)
    except MaskError as exc:
        add(exc.kind, where, str(exc))
        return None
    pixels = area(rle)
    if pixels == 0:
        add("empty_mask", where, "the mask has no pixel")
        return rle
    tight = tight_box(rle)
    stated = ann.get("area")
    if perimeter == 0.0:  # RLE: exact
        if [float(v) for v in bbox] != tight:
            add("bbox", where, f"bbox {fmt(bbox)} is not the mask's tight box {fmt(tight)}")
        if not is_number(stated) or stated != pixels:
            add("area", where, f"area {fmt(stated)} is not the mask's pixel count {pixels}")
    else:  # polygons: rasterising moves edges by up to a pixel
        tx, ty, tw, th = tight
        if max(abs(x - tx), abs(y - ty), abs(x + w - tx - tw), abs(y + h - ty - th)) > 1.0:
            add("bbox", where, f"bbox {fmt(bbox)} is more than 1 pixel off the polygon mask's tight box {fmt(tight)}")
        if not is_number(stated) or abs(stated - pixels) > perimeter / 2 + 1:
            add("area", where, f"area {fmt(stated)} is far from the polygon mask's {pixels} pixels")
    return rle


def check_overlaps(rles: list[tuple[Any, dict]], where: str, add) -> None:
    """Visible masks of one image share no pixel (synthgen: the top-most object owns a pixel)."""
    if len(rles) < 2:
        return
    masks = [r for _, r in rles]
    if union_area(masks) == sum(area(m) for m in masks):
        return
    for i in range(len(rles)):
        for j in range(i + 1, len(rles)):
            shared = shared_pixels(rles[i][1], rles[j][1])
            if shared:
                add("overlap", f"{where} annotations {rles[i][0]} and {rles[j][0]}", f"visible masks share {shared} pixels")


def check_id_map(idm: np.ndarray, anns: list[dict], image_id: Any, where: str, add, ann_where=None) -> None:
    """Each annotation is exactly the pixels of (id map == annotation id % MAX_INSTANCES).

    ``ann_where(id)`` names an annotation as the other checks do, so one fault is one problem."""
    idm_t = np.ascontiguousarray(idm.T)  # (idm_t == k).T is Fortran-ordered, as pycocotools wants
    labelled: dict[int, int] = {}  # instance id -> pixel count
    for a in anns:
        aid = a.get("id")
        if not isinstance(aid, int):
            continue
        k = aid % MAX_INSTANCES
        aw = ann_where(aid) if ann_where else f"{where} annotation {aid}"
        if isinstance(image_id, int) and aid // MAX_INSTANCES != image_id:
            add("id_map", aw, f"annotation id does not encode image {image_id} (synthgen: (index + 1) * {MAX_INSTANCES} + instance id)")
        rle = encode_fortran((idm_t == k).view(np.uint8).T)
        pixels = labelled[k] = area(rle)
        if pixels == 0:
            add("id_map", aw, f"the id map has no pixel of instance {k}")
            continue
        tight = [int(v) for v in tight_box(rle)]
        bbox = a.get("bbox")
        if bbox != tight:
            add("bbox", aw, f"bbox {fmt(bbox)} is not the tight box {tight} of id-map pixels == {k}")
        if a.get("area") != pixels:
            add("area", aw, f"area {fmt(a.get('area'))} is not the {pixels} id-map pixels == {k}")
        seg = a.get("segmentation")
        if isinstance(seg, dict) and isinstance(seg.get("counts"), str) and rle["counts"].decode() != seg["counts"]:
            add("id_map", aw, f"the segmentation is not the id-map pixels == {k}")
    if np.count_nonzero(idm) != sum(labelled.values()):
        extra = [int(v) for v in np.unique(idm) if v and int(v) not in labelled]
        add("id_map", where, f"id-map pixels with id(s) {extra[:10]} belong to no annotation")
