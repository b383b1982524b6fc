"""Hugging Face ``imagefolder`` layout (format ``hf``): the run folder loads with
``datasets.load_dataset("imagefolder", data_dir=OUT)``.

    OUT/hf/train/shard-NNNNNN/<name>.jpg         the images of the train part, one folder per shard
    OUT/hf/train/shard-NNNNNN/<name>.semantic.png   with format semantic: the class map
    OUT/hf/train/metadata.jsonl                  one line per image of the part (written at the
                                                 merge): file_name (shard-NNNNNN/<name>.jpg),
                                                 image_id, width, height, objects {id, area,
                                                 bbox, category, category_name}[, semantic_file_name]
    OUT/hf/validation/...                        the same for the validation part
    OUT/shards/shard-NNNNNN.hf-<split>.jsonl     a shard's lines of the part, merged into the above

Why this shape: imagefolder takes splits from folder names (``train/``, ``validation/``) before
file names, so the run's ``train.json`` / ``val.json`` at the top do not become splits of their
own; it reads every ``metadata.jsonl`` inside a split's folders, and the run's own
``OUT/metadata.jsonl`` (another schema, no ``file_name``) is in none of them. A ``file_name``
must lie inside its metadata file's folder, so the images are written there too (as VOC's
JPEGImages/ are), one folder per shard so that every shard writes its own files. One metadata
file per part, not per shard: datasets infers the column types of each split from one of its
metadata files (picked in no fixed order), and a file whose images have no object at all types
its empty lists as null, which it then refuses to mix with the others'; a part's whole file is
typed as soon as any of its images has an object. ``bbox`` is COCO's ``[x, y, width, height]``
in pixels, the exact tight box; ``category`` the 0-based class index (COCO category id - 1,
YOLO's class), ``category_name`` its name; ``id`` the COCO annotation id.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from synthgen.io.files import AtomicFile, link_or_copy
from synthgen.types import Sample
from synthgen.writers.coco import annotation_id, image_id

SPLITS = {"train": "train", "val": "validation"}  # the run's part -> imagefolder's split folder
METADATA = "metadata.jsonl"


def split_of(sample: Sample) -> str:
    """imagefolder's split of the sample: ``train`` or ``validation``."""
    return SPLITS.get(sample.image_fields.get("split", "train"), "train")


def folder(sample: Sample, shard_name: str) -> str:
    """``hf/<split>/<shard>``: where the sample's image (and class map) go."""
    return f"hf/{split_of(sample)}/{shard_name}"


def fragment(shard_name: str, split: str) -> str:
    """``shards/<shard>.hf-<split>.jsonl``: a shard's metadata lines of one split."""
    return f"shards/{shard_name}.hf-{split}.jsonl"


def merge_metadata(run: Path, dest: Path, shard_names: list[str]) -> list[str]:
    """``DEST/hf/<split>/metadata.jsonl`` from the shards' fragments, in index order; returns
    the files written (relative to DEST). A split without images gets none."""
    written = []
    for split in SPLITS.values():
        parts = [run / fragment(name, split) for name in shard_names]
        parts = [p for p in parts if p.is_file()]
        if not parts:
            continue
        target = dest / "hf" / split / METADATA
        target.parent.mkdir(parents=True, exist_ok=True)
        out = AtomicFile(target, "wb")  # shard by shard: memory does not grow with the run
        for p in parts:
            with open(p, "rb") as f:
                shutil.copyfileobj(f, out.f)
        out.commit()
        written.append(target.relative_to(dest).as_posix())
    return written


def metadata_line(sample: Sample, file_name: str, semantic_file: str | None = None) -> str:
    """One image's imagefolder metadata: its file, ids and size, its labeled objects and, with
    ``semantic_file``, its class map (``semantic_file_name``: imagefolder makes it an image
    column ``semantic``). File names relative to the split's folder (``shard-NNNNNN/<name>``)."""
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
    system allows, else copies); files already there stay. The split metadata files are not
    linked: the merge writes them there."""
    for path in sorted(src.rglob("*")):
        if path.name.startswith(".") or not path.is_file() or path.name == METADATA:
            continue
        target = dst / path.relative_to(src)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        link_or_copy(path, target)
