"""Checking a COCO panoptic dataset (panoptic.json and its PNGs, read by io/panoptic): every
segment id in a PNG is listed in its segments_info and the other way round, areas and boxes are
the pixels', categories are known; for synthgen's, each segment is exactly its COCO
annotation's mask (segment id = annotation id % 1000), and its stuff segments (ids 1000 +
category id, a category with isthing 0) lie where no annotation is."""

from __future__ import annotations

from typing import Any

import numpy as np

from synthgen.io.issues import DatasetError
from synthgen.io.panoptic import Panoptic, decode_segments, read_panoptic
from synthgen.io.paths import inside
from synthgen.io.rle import area, encode_fortran, fmt, shared_pixels, tight_box
from synthgen.tools.validate.findings import Checking
from synthgen.types import MAX_INSTANCES


def read(c: Checking) -> Panoptic | None:
    path = c.layout.panoptic_file
    if path is None:
        return None
    try:
        pan = read_panoptic(path, c.layout.rel(path))
    except DatasetError as exc:
        c.add(exc.issue.kind, exc.issue.where, exc.issue.message)
        return None
    c.add.issues(pan.issues)
    return pan


def _rles(ids: np.ndarray, segment_ids) -> dict[int, dict]:
    ids_t = np.ascontiguousarray(ids.T)
    return {s: encode_fortran((ids_t == s).view(np.uint8).T) for s in segment_ids}


def check_panoptic(c: Checking, pan: Panoptic) -> None:
    """Every image's PNG against its segments_info."""
    c.segments = {}
    for iid, im in pan.images.items():
        where = f"{pan.name} image {iid}"
        ann = pan.annotations.get(iid)
        if ann is None:
            c.add("panoptic", where, "has no annotation (segments_info)")
            continue
        try:
            path = inside(pan.png_dir, ann["file_name"], where)
        except DatasetError as exc:
            c.add(exc.issue.kind, exc.issue.where, exc.issue.message)
            continue
        if not path.is_file():
            c.add("missing_file", where, f"panoptic PNG {c.layout.rel(path)} does not exist")
            continue
        try:
            ids = decode_segments(path)
        except DatasetError as exc:
            c.add("panoptic", where, exc.issue.message)
            continue
        c.count("panoptic images")
        rel = c.layout.rel(path)
        if ids.shape != (im.get("height"), im.get("width")):
            c.add("panoptic", where, f"{rel} is {ids.shape[1]}x{ids.shape[0]}, the entry says {im.get('width')}x{im.get('height')}")
            continue
        segs: dict[Any, dict] = {}
        for s in ann["segments_info"]:
            sid = s.get("id") if isinstance(s, dict) else None
            if not isinstance(sid, int) or sid <= 0:
                c.add("panoptic", where, f"segment {fmt(s)} has no positive integer id")
            elif sid in segs:
                c.add("duplicate_id", f"{where} segment {sid}", "listed twice in segments_info")
            else:
                segs[sid] = s
                cat = pan.categories.get(s.get("category_id"))
                if cat is None:
                    c.add("unknown_category", f"{where} segment {sid}", f"category_id {fmt(s.get('category_id'))} is not in categories")
                elif c.synthgen and (sid >= MAX_INSTANCES) != (cat.get("isthing") == 0):
                    c.add("panoptic", f"{where} segment {sid}", f"category {fmt(s.get('category_id'))} has isthing {fmt(cat.get('isthing'))}, "
                          f"but synthgen gives {'stuff' if sid >= MAX_INSTANCES else 'thing'} segments ids "
                          f"{'>=' if sid >= MAX_INSTANCES else 'below'} {MAX_INSTANCES}")
                elif c.synthgen and sid >= MAX_INSTANCES and (sid - MAX_INSTANCES != s.get("category_id") or s.get("iscrowd")):
                    c.add("panoptic", f"{where} segment {sid}", f"a stuff segment's id is {MAX_INSTANCES} + its category id, iscrowd 0; "
                          f"it says category {fmt(s.get('category_id'))} iscrowd {fmt(s.get('iscrowd'))}")
        present = set(np.unique(ids).tolist()) - {0}
        for sid in sorted(present - set(segs))[:10]:
            c.add("panoptic", f"{where} segment {sid}", f"{rel} has pixels with id {sid} that segments_info does not list")
        rles = _rles(ids, sorted(present & set(segs)))
        for sid, s in segs.items():
            sw = f"{where} segment {sid}"
            if sid not in present:
                c.add("panoptic", sw, f"listed in segments_info but {rel} has no pixel of it")
                continue
            pixels, box = area(rles[sid]), [int(v) for v in tight_box(rles[sid])]
            if s.get("area") != pixels:
                c.add("panoptic", sw, f"area {fmt(s.get('area'))} is not the {pixels} pixels of {rel}")
            if s.get("bbox") != box:
                c.add("panoptic", sw, f"bbox {fmt(s.get('bbox'))} is not the tight box {box} of its pixels in {rel}")
        c.segments[iid] = (rel, segs, rles)


def compare_with_coco(c: Checking, iid: Any, anns: list[dict], where: str) -> None:
    """synthgen's panoptic segments are its COCO annotations: same count, category, iscrowd
    and pixels."""
    if c.segments is None:
        return
    if iid not in c.segments:
        c.add("panoptic", where, "has no panoptic annotation")
        return
    rel, segs, rles = c.segments[iid]
    things = {sid: s for sid, s in segs.items() if sid < MAX_INSTANCES}
    if len(things) != len(anns):
        c.add("panoptic", where, f"{len(things)} panoptic thing segments, but {len(anns)} COCO annotations")
    for sid in sorted(s for s in segs if s >= MAX_INSTANCES and s in rles):  # stuff: where no annotation is
        for a in anns:
            seg = a.get("segmentation")
            if isinstance(seg, dict) and isinstance(seg.get("counts"), str) and shared_pixels(
                rles[sid], {"size": seg["size"], "counts": seg["counts"].encode()}
            ):
                c.add("panoptic", f"{where} segment {sid}", f"stuff segment {sid} in {rel} lies on pixels of annotation {fmt(a.get('id'))}")
    for a in anns:
        aid = a.get("id")
        if not isinstance(aid, int):
            continue
        sid = aid % MAX_INSTANCES
        s = segs.get(sid)
        aw = f"{where} annotation {aid}"
        if s is None:
            c.add("panoptic", aw, f"no panoptic segment {sid} in {rel}")
            continue
        if s.get("category_id") != a.get("category_id") or bool(s.get("iscrowd")) != bool(a.get("iscrowd")):
            c.add("panoptic", aw, f"segment {sid} is category {fmt(s.get('category_id'))} iscrowd {fmt(s.get('iscrowd'))}, "
                                  f"the annotation {fmt(a.get('category_id'))} iscrowd {fmt(a.get('iscrowd'))}")
        seg = a.get("segmentation")
        if sid in rles and isinstance(seg, dict) and isinstance(seg.get("counts"), str) and rles[sid]["counts"].decode() != seg["counts"]:
            c.add("panoptic", aw, f"segment {sid}'s pixels in {rel} are not the annotation's mask")
