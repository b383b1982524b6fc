"""Hugging Face ``imagefolder`` layout (format ``hf``): the run folder loads with
``datasets.load_dataset("imagefolder", data_dir=OUT)``.

    OUT/hf/train/shard-NNNNNN/<name>.jpg         the images of the train part, one folder per shard
    OUT/hf/train/shard-NNNNNN/metadata.jsonl     one line per image: file_name, image_id, width,
                                                 height, objects {id, area, bbox, category,
                                                 category_name}
    OUT/hf/train/shard-NNNNNN/<name>.semantic.png   with format semantic: the class map, and
                                                 semantic_file_name in its line (a column
                                                 ``semantic`` of images: class indices)
    OUT/hf/validation/shard-NNNNNN/...           the same for the validation part

Why this shape: imagefolder takes splits from folder names (``train/``, ``validation/``) before
file names, so the run's ``train.json`` / ``val.json`` at the top do not become splits of their
own; it reads every ``metadata.jsonl`` inside a split's folders, and the run's own
``OUT/metadata.jsonl`` (another schema, no ``file_name``) is in none of them. A ``file_name``
must lie inside its metadata file's folder, so the images are written there too (as VOC's
JPEGImages/ are), one folder per shard so that every shard writes its own files and a run needs
no merge to load. ``bbox`` is COCO's ``[x, y, width, height]`` in pixels, the exact tight box;
``category`` the 0-based class index (COCO category id - 1, YOLO's class), ``category_name`` its
name; ``id`` the COCO annotation id.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from synthgen.types import Sample
from synthgen.writers.coco import annotation_id, image_id

SPLITS = {"train": "train", "val": "validation"}  # the run's part -> imagefolder's split folder


def folder(sample: Sample, shard_name: str) -> str:
    """``hf/<split>/<shard>``: where the sample's image and metadata line go."""
    part = sample.image_fields.get("split", "train")
    return f"hf/{SPLITS.get(part, 'train')}/{shard_name}"


def metadata_line(sample: Sample, file_name: str, semantic_file: str | None = None) -> str:
    """One image's imagefolder metadata: its file, ids and size, its labeled objects and, with
    ``semantic_file``, its class map (``semantic_file_name``: imagefolder makes it an image
    column ``semantic``)."""
    W, H = sample.scene.canvas_wh
    objects = {"id": [], "area": [], "bbox": [], "category": [], "category_name": []}
    for inst in sample.instances:
        objects["id"].append(annotation_id(sample.index, inst.instance_id))
        objects["area"].append(int(inst.area))
        objects["bbox"].append([int(v) for v in inst.bbox])
        objects["category"].append(inst.category_id - 1)
        objects["category_name"].append(inst.label)
    line = {"file_name": file_name, "image_id": image_id(sample.index), "width": W, "height": H, "objects": objects}
    if semantic_file is not None:
        line["semantic_file_name"] = semantic_file
    return json.dumps(line, separators=(",", ":"))


def link_tree(src: Path, dst: Path) -> None:
    """Merging into another folder: hf/ linked there file by file (hard links where the file
    system allows, else copies); files already there stay."""
    for path in sorted(src.rglob("*")):
        if path.name.startswith(".") or not path.is_file():
            continue
        target = dst / path.relative_to(src)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
