"""Combining datasets: real and synthetic, COCO or YOLO, into one COCO dataset.

Inputs are read through io and checked before anything is written: every image a dataset file
names lies inside that dataset's folder (io/paths), every annotation's category, box and mask
is usable, and every file is decoded (io/images) at its stated size before it is copied. What
is written stays inside OUT.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthgen.errors import OutputError
from synthgen.io.files import atomic_write
from synthgen.io.paths import inside


def _folder_name(path: Path) -> str:
    """An input's folder under OUT/images/: its own name (``..`` and ``/`` never)."""
    name = Path(os.path.realpath(path)).name
    return name if name not in ("", ".", "..") else "input"


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


@dataclass(frozen=True)
class _Input:
    """One dataset to combine, checked: its image entries with the file each names (inside the
    dataset's folder) and the name it gets under OUT/images/<prefix>/."""

    images: list[tuple[dict, Path, str, str]]  # (entry, source file, relative name, how messages name it)
    annotations: list[dict]
    categories: dict[Any, str]
    synthetic: bool


def _relative(src: Path, root: Path, name: str) -> str:
    """How an image is named under its input's prefix: the dataset's own relative name, or
    for an absolute one (allowed inside the folder) its place in the folder."""
    if not Path(name).is_absolute():
        return Path(os.path.normpath(name)).as_posix()
    return Path(os.path.relpath(os.path.realpath(src), os.path.realpath(root))).as_posix()


def _load_any(path: Path) -> _Input:
    """One input read through io/coco or io/yolo and checked where it is read: DatasetError
    naming the file and id of an image whose path leaves the dataset folder, an entry without a
    size, an annotation of an unknown category or with a malformed box or mask."""
    from synthgen.errors import AssetError
    from synthgen.io.coco import (
        ENTRY_FIELDS,
        image_file,
        image_shape,
        image_where,
        read_coco,
        require_annotation,
    )
    from synthgen.io.issues import raise_first
    from synthgen.io.manifest import find_manifest
    from synthgen.io.paths import resolved_root

    path = Path(path)
    synthetic = find_manifest(path) is not None if path.is_dir() else False
    if path.is_file() or (path / "annotations.json").exists():
        ann_file = path if path.is_file() else path / "annotations.json"
        coco = read_coco(ann_file)
        raise_first(coco.issues)
        root = ann_file.parent / "images"
        real_root = resolved_root(root)
        images = []
        for iid, im in coco.images.items():
            shape = image_shape(im)
            if shape is None:
                raise AssetError(f"{image_where(coco.name, im)}: {ENTRY_FIELDS}")
            name, W, H = shape
            src = image_file(root, coco.name, im, real_root)
            for a in coco.annotations.get(iid, ()):
                require_annotation(coco.name, a, H, W)
            images.append((im, src, _relative(src, root, name), image_where(coco.name, im)))
        anns = [a for v in coco.annotations.values() for a in v]
        return _Input(images, anns, coco.categories, synthetic)
    if (path / "data.yaml").exists():
        return _Input(*_yolo_as_coco(path), synthetic)
    raise AssetError(f"{path}: neither a COCO dataset (annotations.json) nor a YOLO one (data.yaml)")


def _yolo_as_coco(path: Path) -> tuple[list[tuple[dict, Path, str, str]], list[dict], dict[int, str]]:
    from synthgen.io.real import load_yolo
    from synthgen.io.rle import area, tight_box, to_rle

    ds = load_yolo(path)  # paths inside the dataset, labels checked line by line
    cats = {i + 1: n for i, n in enumerate(ds.categories)}
    ids = {n: i + 1 for i, n in enumerate(ds.categories)}
    # file names relative to images/ (the plain layout), else to the dataset (train/images/...)
    root = path / "images" if all((path / "images") in im.path.parents for im in ds.images) else path
    images, anns = [], []
    for im in ds.images:
        try:
            rel = im.path.relative_to(root).as_posix()
        except ValueError:  # an absolute path from a list file, inside the dataset
            rel = _relative(im.path, root, str(im.path))
        images.append(({"id": im.image_id, "file_name": rel, "width": im.width, "height": im.height}, im.path, rel, str(im.path)))
        for k, inst in enumerate(im.instances):
            ann = {"id": f"{im.image_id}:{k}", "image_id": im.image_id, "category_id": ids[inst.category], "iscrowd": 0}
            if inst.segmentation:
                rle, _ = to_rle(inst.segmentation, im.height, im.width)
                ann["segmentation"] = inst.segmentation
                ann["area"] = area(rle)
                ann["bbox"] = tight_box(rle)
            else:
                ann["bbox"] = [float(v) for v in inst.bbox]
                ann["area"] = float(inst.bbox[2] * inst.bbox[3])
            anns.append(ann)
    return images, anns, cats


def _check_image(src: Path, im: dict, where: str) -> None:
    """AssetError naming the image unless it decodes (io/images, within the pixel limit) at the
    size its entry states: nothing that is not such an image is copied."""
    from synthgen.errors import AssetError
    from synthgen.io.images import open_image

    if not src.is_file():
        raise AssetError(f"{where}: image file {src} does not exist")
    size = open_image(src, f"{where}: {src}").size  # decoded whole: a file that only starts like an image fails here
    if size != (im["width"], im["height"]):
        raise AssetError(f"{where}: the file {src} is {size[0]}x{size[1]}, the entry says {im['width']}x{im['height']}")


def combine(
    inputs: list[Path],
    out: Path,
    *,
    val_fraction: float = 0.2,
    val_synthetic: bool = False,
    classes: list[str] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Merge datasets into OUT/images/<input>/..., OUT/train.json and OUT/val.json.

    Categories are mapped by name (ids 1..K in order of first appearance, or of ``classes``);
    image and annotation ids are renumbered; validation takes ``val_fraction`` of the real
    images (synthetic ones too with ``val_synthetic``). Inputs are only read; images are copied.
    """
    import hashlib

    from synthgen.errors import AssetError

    out = Path(out)
    if any(Path(p).resolve() == out.resolve() for p in inputs):
        raise OutputError("--out must not be one of the inputs: merging never modifies its inputs")
    loaded = [(Path(p), _load_any(Path(p))) for p in inputs]
    names = list(classes) if classes else []
    for path, data in loaded:
        for name in data.categories.values():
            if name not in names:
                if classes:
                    raise AssetError(
                        f"{path}: category {name!r} does not map to any of --classes {classes}; "
                        "add it, or leave --classes out to keep every category"
                    )
                names.append(name)
    cat_id = {n: i + 1 for i, n in enumerate(names)}
    train: dict[str, list] = {"images": [], "annotations": []}
    val: dict[str, list] = {"images": [], "annotations": []}
    counts = {"real": {n: 0 for n in names}, "synthetic": {n: 0 for n in names}}
    next_image, next_ann = 1, 1
    used_prefixes: set[str] = set()
    dest = out / "images"
    copies: list[tuple[Path, Path]] = []  # made once every input is checked: a refusal leaves OUT as it was
    for path, data in loaded:
        synthetic, cats = data.synthetic, data.categories
        prefix = _folder_name(path if not path.is_file() else path.parent)
        while prefix in used_prefixes:
            prefix += "_"
        used_prefixes.add(prefix)
        by_image: dict[Any, list] = {}
        for a in data.annotations:
            by_image.setdefault(a["image_id"], []).append(a)
        for im, src, name, where in data.images:
            rel = f"{prefix}/{name}"
            _check_image(src, im, where)
            copies.append((src, inside(dest, rel, where)))
            h = int(hashlib.sha256(f"{seed}:{rel}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
            split = val if (h < val_fraction and (val_synthetic or not synthetic)) else train
            entry = {"id": next_image, "file_name": rel, "width": im["width"], "height": im["height"],
                     "source": "synthetic" if synthetic else "real", "source_image_id": im["id"]}
            split["images"].append(entry)
            for a in by_image.get(im["id"], []):
                name = cats[a["category_id"]]
                split["annotations"].append({**a, "id": next_ann, "image_id": next_image, "category_id": cat_id[name]})
                if split is train and not a.get("iscrowd", 0):
                    counts["synthetic" if synthetic else "real"][name] += 1
                next_ann += 1
            next_image += 1
    for src, dst in copies:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    categories = [{"id": i, "name": n, "supercategory": "object"} for n, i in cat_id.items()]
    for name, split in (("train", train), ("val", val)):
        atomic_write(out / f"{name}.json", _dumps({"info": {"description": "synthgen merge"}, "licenses": [], **split, "categories": categories}).encode())
    return {"train": len(train["images"]), "val": len(val["images"]), "counts": counts, "out": out}
