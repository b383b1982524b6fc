"""Combining datasets: real and synthetic, COCO or YOLO, into one COCO dataset."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from synthgen.errors import OutputError
from synthgen.io.files import atomic_write


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _load_any(path: Path) -> tuple[list[dict], list[dict], dict[int, str], Path, bool]:
    """(images, annotations, category names by id, images root, synthetic?) of one input, read
    through io/coco or io/yolo; DatasetError naming the file and id of what cannot be combined
    (an annotation of an unknown category, an image entry without a size)."""
    from synthgen.errors import AssetError
    from synthgen.io.coco import ENTRY_FIELDS, image_shape, image_where, read_coco
    from synthgen.io.issues import raise_first
    from synthgen.io.manifest import find_manifest

    path = Path(path)
    synthetic = find_manifest(path) is not None if path.is_dir() else False
    if path.is_file() or (path / "annotations.json").exists():
        ann_file = path if path.is_file() else path / "annotations.json"
        coco = read_coco(ann_file)
        raise_first(coco.issues)
        for im in coco.images.values():
            if image_shape(im) is None:
                raise AssetError(f"{image_where(coco.name, im)}: {ENTRY_FIELDS}")
        anns = [a for v in coco.annotations.values() for a in v]
        return list(coco.images.values()), anns, coco.categories, (ann_file.parent / "images"), synthetic
    if (path / "data.yaml").exists():
        return (*_yolo_as_coco(path), synthetic)
    raise AssetError(f"{path}: neither a COCO dataset (annotations.json) nor a YOLO one (data.yaml)")


def _yolo_as_coco(path: Path) -> tuple[list[dict], list[dict], dict[int, str], Path]:
    from synthgen.io.real import load_yolo
    from synthgen.io.rle import area, tight_box, to_rle

    ds = load_yolo(path)
    cats = {i + 1: n for i, n in enumerate(ds.categories)}
    ids = {n: i + 1 for i, n in enumerate(ds.categories)}
    # file names relative to images/ (the plain layout), else to the dataset (train/images/...)
    root = path / "images" if all((path / "images") in im.path.parents for im in ds.images) else path
    images, anns = [], []
    for im in ds.images:
        images.append({"id": im.image_id, "file_name": str(im.path.relative_to(root)), "width": im.width, "height": im.height})
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
    return images, anns, cats, root


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
    loaded = [(Path(p), *_load_any(Path(p))) for p in inputs]
    names = list(classes) if classes else []
    for path, _, _, cats, _, _ in loaded:
        for name in cats.values():
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
    for path, images, anns, cats, root, synthetic in loaded:
        prefix = path.name if not path.is_file() else path.parent.name
        while prefix in used_prefixes:
            prefix += "_"
        used_prefixes.add(prefix)
        by_image: dict[Any, list] = {}
        for a in anns:
            by_image.setdefault(a["image_id"], []).append(a)
        for im in images:
            src = root / im["file_name"]
            if not src.exists():
                raise AssetError(f"{path}: image {im['id']} file {src} does not exist")
            rel = f"{prefix}/{im['file_name']}"
            dst = out / "images" / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
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
    categories = [{"id": i, "name": n, "supercategory": "object"} for n, i in cat_id.items()]
    for name, split in (("train", train), ("val", val)):
        atomic_write(out / f"{name}.json", _dumps({"info": {"description": "synthgen merge"}, "licenses": [], **split, "categories": categories}).encode())
    return {"train": len(train["images"]), "val": len(val["images"]), "counts": counts, "out": out}
