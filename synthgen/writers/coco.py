"""COCO instances: entries per image, and a streaming writer of annotations.json."""

from __future__ import annotations

from typing import Any

from synthgen.types import Sample

from synthgen.types import MAX_INSTANCES  # annotation id = (image index + 1) * MAX_INSTANCES + instance id


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
    }


def annotation_entries(sample: Sample, amodal: bool) -> list[dict[str, Any]]:
    out = []
    for inst in sample.instances:
        ann = {
            "id": annotation_id(sample.index, inst.instance_id),
            "image_id": image_id(sample.index),
            "category_id": inst.category_id,
            "segmentation": inst.rle,
            "area": inst.area,
            "bbox": list(inst.bbox),
            "iscrowd": 0,  # an object split by an occluder is still one instance
            "amodal_bbox": list(inst.amodal_bbox),
            "visible_fraction": inst.visible_fraction,
            "truncated": inst.truncated,
            "paste_order": inst.paste_order,
        }
        if inst.contrast is not None:
            ann["contrast"] = inst.contrast
        if inst.source == "real":
            ann["source"] = "real"
            ann["real_annotation_id"] = inst.real_annotation_id
        if amodal and inst.amodal_rle is not None:
            ann["amodal_segmentation"] = inst.amodal_rle
        out.append(ann)
    return out
