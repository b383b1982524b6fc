"""COCO panoptic segmentation, made from the final id map.

    OUT/panoptic/<name>.png   RGB: segment id = R + 256 G + 256^2 B per pixel, 0 = void
    OUT/panoptic.json         images, one annotation per image (file_name, segments_info:
                              id, category_id, area, bbox, iscrowd) and categories (isthing)

A segment id is the instance id of the id map, so each segment's pixels are exactly its
instance's; a real scene's crowd regions are segments with iscrowd 1. Every pasted object is a
thing; pixels of no labeled object (background, distractors) are void.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from synthgen.errors import OutputError
from synthgen.types import Sample
from synthgen.writers.semantic import palette


def segment_png(sample: Sample) -> bytes:
    """The id map as a panoptic PNG (ids < 65536: B is always 0); fast compression, and the "up"
    filter alone (adaptive filtering costs 4x the time on these flat maps: bench/bench_segmentation.py)."""
    ids = sample.id_map
    bgr = np.zeros((*ids.shape, 3), np.uint8)
    bgr[..., 2] = ids & 0xFF  # R
    bgr[..., 1] = ids >> 8  # G
    ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP])
    if not ok:
        raise OutputError(f"image {sample.name}: OpenCV could not encode the panoptic PNG")
    return buf.tobytes()


def annotation_entry(sample: Sample, image_id: Any) -> dict[str, Any]:
    """One image's panoptic annotation: its segments, bottom to top."""
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
    return {"image_id": image_id, "file_name": f"{sample.name}.png", "segments_info": segments}


def categories(names: list[str]) -> list[dict[str, Any]]:
    pal = palette()
    return [
        {"id": k, "name": n, "supercategory": "object", "isthing": 1, "color": list(pal[k % 256])}
        for k, n in enumerate(names, 1)
    ]
