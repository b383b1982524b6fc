"""COCO panoptic segmentation: ``panoptic.json`` (images, one annotation per image with its
``segments_info``, categories with ``isthing``) and the PNGs it names, whose pixels hold segment
ids as R + 256 G + 256^2 B (0: void), read as panopticapi-style readers read them. Errors name
the file and the image."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from synthgen.io.coco import load_json
from synthgen.io.issues import DatasetError, Issue


@dataclass
class Panoptic:
    path: Path
    name: str
    images: dict[Any, dict]  # id -> image entry
    annotations: dict[Any, dict]  # image id -> {file_name, segments_info}
    categories: dict[int, dict]  # id -> category (name, isthing)
    issues: list[Issue] = field(default_factory=list)

    @property
    def png_dir(self) -> Path:
        """Where the PNGs are: ``panoptic/`` beside the json."""
        return self.path.parent / "panoptic"


def decode_segments(path: Path) -> np.ndarray:
    """H x W uint32 segment ids of a panoptic PNG: R + 256 G + 256^2 B."""
    try:
        with Image.open(path) as img:
            rgb = np.asarray(img.convert("RGB"), np.uint32)
    except OSError as exc:
        raise DatasetError(Issue("format", str(path), f"cannot be read as an image ({exc})")) from exc
    return rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]


def read_panoptic(path: Path, name: str | None = None) -> Panoptic:
    """panoptic.json, indexed by image; entries it cannot use are issues (kind, file, id)."""
    name = name or str(path)
    doc = load_json(path, name)
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), list) for k in ("images", "annotations", "categories")):
        raise DatasetError(Issue("format", name, "is not COCO panoptic: expected lists 'images', 'annotations', 'categories'"))
    pan = Panoptic(Path(path), name, {}, {}, {})
    for c in doc["categories"]:
        if not (isinstance(c, dict) and isinstance(c.get("id"), int)):
            pan.issues.append(Issue("format", f"{name} categories", f"{c!r} has no integer id"))
            continue
        pan.categories[c["id"]] = c
    for im in doc["images"]:
        if not isinstance(im, dict) or "id" not in im:
            pan.issues.append(Issue("format", f"{name} images", f"{im!r} has no id"))
        elif im["id"] in pan.images:
            pan.issues.append(Issue("duplicate_id", f"{name} image {im['id']}", "listed twice"))
        else:
            pan.images[im["id"]] = im
    for ann in doc["annotations"]:
        iid = ann.get("image_id") if isinstance(ann, dict) else None
        where = f"{name} annotation of image {iid}"
        if iid not in pan.images:
            pan.issues.append(Issue("unknown_image", where, "names no image of the file"))
        elif iid in pan.annotations:
            pan.issues.append(Issue("duplicate_id", where, "the image has two annotations"))
        elif not isinstance(ann.get("file_name"), str) or not isinstance(ann.get("segments_info"), list):
            pan.issues.append(Issue("format", where, "needs file_name and a segments_info list"))
        else:
            pan.annotations[iid] = ann
    return pan
