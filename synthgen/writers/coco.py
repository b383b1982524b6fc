"""COCO instances: entries per image, and a streaming writer of annotations.json."""

from __future__ import annotations

from typing import Any

import numpy as np

from synthgen.types import (
    MAX_INSTANCES,  # annotation id = (image index + 1) * MAX_INSTANCES + instance id
    Sample,
)


def image_id(index: int) -> int:
    return index + 1


def annotation_id(index: int, instance_id: int) -> int:
    return (index + 1) * MAX_INSTANCES + instance_id


def image_entry(sample: Sample, file_name: str) -> dict[str, Any]:
    W, H = sample.scene.canvas_wh
    return {
        "id": image_id(sample.index),
        "file_name": file_name,
        "width": W,
        "height": H,
        "index": sample.index,
        "conditions": sample.metadata.get("conditions", []),
        **sample.image_fields,
        **({"sources": sample.metadata["sources"]} if "sources" in sample.metadata else {}),
    }


def track_id(video_id: int, instance_id: int) -> int:
    """A clip object's COCO ``track_id``: unique over every clip of a run (the MOT id is the
    instance id, ``track_id % MAX_INSTANCES``, unique within its sequence)."""
    return video_id * MAX_INSTANCES + instance_id


def categories(classes: list[str], keypoints: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """COCO categories; a class with a keypoint schema gets its names and 1-based skeleton."""
    out = []
    for i, c in enumerate(classes):
        cat: dict[str, Any] = {"id": i + 1, "name": c, "supercategory": "object"}
        if keypoints and c in keypoints:
            cat["keypoints"] = list(keypoints[c]["names"])
            cat["skeleton"] = [[a + 1, b + 1] for a, b in keypoints[c]["skeleton"]]
        out.append(cat)
    return out


def polygon_segmentation(mask: np.ndarray, x0: int = 0, y0: int = 0) -> list[list[int]]:
    """COCO polygons of a bool mask whose top-left pixel is (x0, y0): one polygon, the mask's
    outline along pixel edges (integer corners, COCO's convention: the square 0,0 1,0 1,1 0,1 is
    pixel (0, 0)), every part and hole joined by zero-width bridges (writers/yolo.join_rings).

    Traced on the mask doubled in size, where each border pixel of the doubled mask lies on its
    side of an edge: corner = ceil(u / 2). pycocotools fills it back to the mask exactly (even-odd
    rule, bridges cancel); a reader that fills every polygon solid loses the holes."""
    from synthgen.writers.yolo import polygon

    doubled = mask.repeat(2, axis=0).repeat(2, axis=1)
    corners = np.ceil(polygon(doubled) / 2).astype(np.int64) + (x0, y0)
    keep = np.r_[True, (np.diff(corners, axis=0) != 0).any(axis=1)]  # no repeated vertex
    corners = corners[keep]
    if len(corners) > 1 and (corners[0] == corners[-1]).all():
        corners = corners[:-1]
    return [corners.ravel().tolist()]


def annotation_entries(sample: Sample, amodal: bool, polygons: bool = False) -> list[dict[str, Any]]:
    """Every labeled instance's annotation (``segmentation`` RLE, or with ``polygons`` COCO
    polygons of the same mask), then the crowd regions (always RLE, as COCO has them)."""
    out = []
    for inst in sample.instances:
        if polygons:
            x0, y0, w, h = inst.bbox
            seg: Any = polygon_segmentation(sample.id_map[y0 : y0 + h, x0 : x0 + w] == inst.instance_id, x0, y0)
        else:
            seg = inst.rle
        ann = {
            "id": annotation_id(sample.index, inst.instance_id),
            "image_id": image_id(sample.index),
            "category_id": inst.category_id,
            "segmentation": seg,
            "area": inst.area,
            "bbox": list(inst.bbox),
            "iscrowd": 0,  # an object split by an occluder is still one instance
            "amodal_bbox": None if inst.amodal_bbox is None else list(inst.amodal_bbox),
            "visible_fraction": inst.visible_fraction,
            "truncated": inst.truncated,
            "paste_order": inst.paste_order,
        }
        if inst.contrast is not None:
            ann["contrast"] = inst.contrast
        if "video_id" in sample.image_fields:  # a clip's frame: the object's id, unique over the run's clips
            ann["track_id"] = track_id(sample.image_fields["video_id"], inst.instance_id)
        if inst.source == "real":
            ann["source"] = "real"
            ann["real_annotation_id"] = inst.real_annotation_id
        if inst.keypoints is not None:
            ann["keypoints"] = list(inst.keypoints)
            ann["num_keypoints"] = sum(1 for v in inst.keypoints[2::3] if v > 0)
        if amodal and inst.amodal_rle is not None:
            ann["amodal_segmentation"] = inst.amodal_rle
        out.append(ann)
    for region in sample.crowd:  # a real scene's crowd and ignore regions, minus every object
        out.append({
            "id": annotation_id(sample.index, region.instance_id),
            "image_id": image_id(sample.index),
            "category_id": region.category_id,
            "segmentation": region.rle,
            "area": region.area,
            "bbox": list(region.bbox),
            "iscrowd": 1,
            "source": "real",
            "real_annotation_id": region.real_annotation_id,
            "crowd_from": region.crowd,  # "crowd": a crowd region; "box": a box-only object
        })
    return out
