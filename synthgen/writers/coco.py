"""COCO instances: entries per image, and a streaming writer of annotations.json."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from synthgen.types import Sample

MAX_INSTANCES = 1000  # annotation id = (image index + 1) * MAX_INSTANCES + instance id


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
        if amodal and inst.amodal_rle is not None:
            ann["amodal_segmentation"] = inst.amodal_rle
        out.append(ann)
    return out


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=False)


class CocoWriter:
    """Streams image and annotation entries to part files; ``close`` assembles the JSON.

    Memory stays flat however many images a run has; annotations.json appears only when whole.
    """

    def __init__(self, path: Path, classes: tuple[str, ...], info: dict[str, Any]) -> None:
        self.path = path
        self.classes = classes
        self.info = info
        self._parts = {k: path.with_name(f".{path.name}.{k}.part") for k in ("images", "annotations")}
        self._files = {k: open(p, "w") for k, p in self._parts.items()}
        self._count = {"images": 0, "annotations": 0}

    def _add(self, key: str, entry: dict[str, Any]) -> None:
        f = self._files[key]
        f.write(("," if self._count[key] else "") + "\n" + _dumps(entry))
        self._count[key] += 1

    def add(self, image: dict[str, Any], annotations: list[dict[str, Any]]) -> None:
        self._add("images", image)
        for a in annotations:
            self._add("annotations", a)

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        categories = [{"id": i + 1, "name": c, "supercategory": "object"} for i, c in enumerate(self.classes)]
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "w") as out:
            out.write('{"info":' + _dumps(self.info) + ',"licenses":[],"images":[')
            for key in ("images", "annotations"):
                with open(self._parts[key]) as part:
                    while chunk := part.read(1 << 20):
                        out.write(chunk)
                out.write("\n]," if key == "images" else "\n],")
                if key == "images":
                    out.write('"annotations":[')
            out.write('"categories":' + _dumps(categories) + "}\n")
        os.replace(tmp, self.path)
        self.discard()

    def discard(self) -> None:
        for f in self._files.values():
            f.close()
        for p in self._parts.values():
            p.unlink(missing_ok=True)
