"""COCO panoptic segmentation, made from the final id map.

    OUT/panoptic/<name>.png   RGB: segment id = R + 256 G + 256^2 B per pixel, 0 = void
    OUT/panoptic.json         images, one annotation per image (file_name, segments_info:
                              id, category_id, area, bbox, iscrowd) and categories (isthing)

A segment id is the instance id of the id map, so each segment's pixels are exactly its
instance's; a real scene's crowd regions are segments with iscrowd 1. Every pasted object is a
thing. A background with a label image (synthgen/stuff.py) adds one stuff segment per class it
shows where no object at all was drawn: id STUFF_BASE + the class' semantic index, category id
= that index (isthing 0). Other pixels of no labeled object (distractors, plain background) are
void.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from synthgen.errors import OutputError
from synthgen.types import MAX_INSTANCES, Sample
from synthgen.writers.semantic import IGNORE, free_pixels, palette

STUFF_BASE = MAX_INSTANCES  # a stuff segment's id: STUFF_BASE + semantic index (instance ids are below)


def segment_ids(sample: Sample) -> np.ndarray:
    """H x W segment ids: the id map, and the stuff segments where no object was drawn."""
    if sample.stuff is None:
        return sample.id_map
    stuff = sample.stuff
    on = free_pixels(sample) & (stuff != 0) & (stuff != IGNORE)
    return np.where(on, STUFF_BASE + stuff.astype(np.uint16), sample.id_map)


def segment_png(sample: Sample, ids: np.ndarray | None = None) -> bytes:
    """The id map as a panoptic PNG (ids < 65536: B is always 0); fast compression, and the "up"
    filter alone (adaptive filtering costs 4x the time on these flat maps: bench/bench_segmentation.py).
    ``ids``: :func:`segment_ids` of the sample, when the caller has them."""
    ids = segment_ids(sample) if ids is None else ids
    lo_hi = np.ascontiguousarray(ids, "<u2").view(np.uint8).reshape(*ids.shape, 2)
    bgr = np.zeros((*ids.shape, 3), np.uint8)
    cv2.mixChannels([lo_hi], [bgr], [0, 2, 1, 1])  # low byte -> R, high byte -> G, in one pass
    ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP])
    if not ok:
        raise OutputError(f"image {sample.name}: OpenCV could not encode the panoptic PNG")
    return buf.tobytes()


def annotation_entry(sample: Sample, image_id: Any, ids: np.ndarray | None = None) -> dict[str, Any]:
    """One image's panoptic annotation: its segments, bottom to top, then its stuff segments by
    index. ``ids``: :func:`segment_ids` of the sample, when the caller has them."""
    segments = [
        {
            "id": inst.instance_id,
            "category_id": inst.category_id,
            "area": inst.area,
            "bbox": list(inst.bbox),
            "iscrowd": 1 if inst.crowd else 0,
        }
        for inst in sorted((*sample.instances, *sample.crowd), key=lambda i: i.instance_id)
    ]
    if sample.stuff is not None:
        segments += stuff_segments(segment_ids(sample) if ids is None else ids)
    return {"image_id": image_id, "file_name": f"{sample.name}.png", "segments_info": segments}


def stuff_segments(ids: np.ndarray) -> list[dict[str, Any]]:
    """segments_info of the stuff segments of a segment-id map: area and tight box of each, by id."""
    stuff = ids[ids >= STUFF_BASE] - STUFF_BASE  # a class index each (a histogram, not a sort, finds them)
    counts = np.bincount(stuff) if stuff.size else np.zeros(0, np.int64)
    out = []
    for k in np.flatnonzero(counts).tolist():
        sid = STUFF_BASE + k
        x, y, w, h = cv2.boundingRect((ids == sid).view(np.uint8))
        out.append({"id": sid, "category_id": k, "area": int(counts[k]), "bbox": [x, y, w, h], "iscrowd": 0})
    return out


def categories(names: list[str], stuff: list[str] | tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Every pasted class (isthing 1), then the background classes (isthing 0), ids as in the
    semantic maps."""
    pal = palette()
    return [
        {"id": k, "name": n, "supercategory": "object", "isthing": 1, "color": list(pal[k % 256])}
        for k, n in enumerate(names, 1)
    ] + [
        {"id": k, "name": n, "supercategory": "background", "isthing": 0, "color": list(pal[k % 256])}
        for k, n in enumerate(stuff, len(names) + 1)
    ]
