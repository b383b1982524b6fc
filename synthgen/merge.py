"""Merging a run's shards into one dataset: annotations.json and metadata.jsonl, streaming.

Fragments are read one shard at a time, so memory does not grow with the run. Merging into
another folder links the images there (hard links where the file system allows, else copies).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from synthgen.errors import OutputError
from synthgen.writers import yolo
from synthgen.writers.files import atomic_write


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def read_manifest(run: Path) -> dict[str, Any]:
    try:
        return json.loads((run / "manifest.json").read_text())
    except FileNotFoundError:
        raise OutputError(f"{run} holds no synthgen run (no manifest.json); run `synthgen generate` first") from None
    except ValueError as exc:
        raise OutputError(f"{run}/manifest.json is not valid JSON ({exc})") from None


def refresh_manifest(run: Path) -> dict[str, Any]:
    """Rebuild the manifest from the done records on disk (several machines may have written
    shards into this folder, each with its own view when it last wrote manifest.json)."""
    from synthgen.runner import write_manifest
    from synthgen.writers.shard import plan_shards

    manifest = read_manifest(run)
    info = {k: v for k, v in manifest.items() if k not in ("complete", "images_done", "shards")}
    return write_manifest(run, info, plan_shards(info["num_images"], info["shard_size"]))


def _shard_records(run: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    missing = [s for s in range(manifest["num_shards"]) if str(s) not in manifest["shards"]]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise OutputError(
            f"{run}: shards {missing[:5]}{more} of {manifest['num_shards']} are not finished; "
            "run the remaining ones (the same generate command resumes) before merging"
        )
    return [manifest["shards"][str(s)] for s in range(manifest["num_shards"])]


def merge_run(run: Path, dest: Path | None = None) -> dict[str, Any]:
    """Write DEST/annotations.json (coco) and DEST/metadata.jsonl from RUN's shards."""
    run = Path(run)
    dest = Path(dest) if dest is not None else run
    manifest = refresh_manifest(run)
    shards = _shard_records(run, manifest)
    dest.mkdir(parents=True, exist_ok=True)
    names = [f"shard-{r['shard']:06d}" for r in shards]

    if "coco" in manifest["formats"]:
        tmp = dest / f".annotations.json.tmp{os.getpid()}"
        categories = [{"id": i + 1, "name": c, "supercategory": "object"} for i, c in enumerate(manifest["classes"])]
        info = {"description": "synthgen", "seed": manifest["seed"], "config_digest": manifest["config_digest"]}
        with open(tmp, "w") as out:
            out.write('{"info":' + _dumps(info) + ',"licenses":[],"images":[')
            for key in ("images", "annotations"):
                first = True
                for name in names:
                    frag = json.loads((run / "shards" / f"{name}.coco.json").read_text())
                    for entry in frag[key]:
                        out.write(("\n" if first else ",\n") + _dumps(entry))
                        first = False
                out.write("\n],")
                if key == "images":
                    out.write('"annotations":[')
            out.write('"categories":' + _dumps(categories) + "}\n")
        os.replace(tmp, dest / "annotations.json")

    tmp = dest / f".metadata.jsonl.tmp{os.getpid()}"
    with open(tmp, "wb") as out:
        for name in names:
            with open(run / "shards" / f"{name}.jsonl", "rb") as part:
                shutil.copyfileobj(part, out)
    os.replace(tmp, dest / "metadata.jsonl")

    if dest.resolve() != run.resolve():
        for sub in ("images", "labels", "masks"):
            if (run / sub).is_dir():
                _link_tree(run / sub, dest / sub)
        shutil.copy2(run / "config.yaml", dest / "config.yaml")
    if "yolo" in manifest["formats"]:
        atomic_write(dest / "data.yaml", yolo.data_yaml(dest, tuple(manifest["classes"])).encode())
    return {"images": sum(r["images"] for r in shards), "instances": sum(r["instances"] for r in shards), "dest": dest}


def _link_tree(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for p in src.iterdir():
        if p.name.startswith("."):
            continue
        target = dst / p.name
        if target.exists():
            continue
        try:
            os.link(p, target)
        except OSError:
            shutil.copy2(p, target)


# --------------------------------------------------------------------------------------------
# Combining datasets: real and synthetic, COCO or YOLO, into one COCO dataset


def _load_any(path: Path) -> tuple[list[dict], list[dict], dict[int, str], Path, bool]:
    """(images, annotations, category names by id, images root, synthetic?) of one input."""
    from pycocotools import mask as mask_utils

    from synthgen.errors import AssetError
    from synthgen.realdata import load_yolo

    path = Path(path)
    synthetic = (path / "manifest.json").exists()
    if path.is_file() or (path / "annotations.json").exists():
        ann_file = path if path.is_file() else path / "annotations.json"
        try:
            data = json.loads(ann_file.read_text())
            cats = {c["id"]: c["name"] for c in data["categories"]}
            images, anns = data["images"], data["annotations"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AssetError(f"{ann_file}: not a COCO instances file ({exc})") from None
        return images, anns, cats, (ann_file.parent / "images"), synthetic
    if (path / "data.yaml").exists():
        ds = load_yolo(path)
        cats = {i + 1: n for i, n in enumerate(ds.categories)}
        ids = {n: i + 1 for i, n in enumerate(ds.categories)}
        images, anns = [], []
        for im in ds.images:
            images.append({"id": im.image_id, "file_name": str(im.path.relative_to(path / "images")), "width": im.width, "height": im.height})
            for k, inst in enumerate(im.instances):
                ann = {"id": f"{im.image_id}:{k}", "image_id": im.image_id, "category_id": ids[inst.category], "iscrowd": 0}
                if inst.segmentation:
                    rle = mask_utils.merge(mask_utils.frPyObjects(inst.segmentation, im.height, im.width))
                    ann["segmentation"] = inst.segmentation
                    ann["area"] = int(mask_utils.area(rle))
                    ann["bbox"] = [float(v) for v in mask_utils.toBbox(rle)]
                else:
                    ann["bbox"] = [float(v) for v in inst.bbox]
                    ann["area"] = float(inst.bbox[2] * inst.bbox[3])
                anns.append(ann)
        return images, anns, cats, path / "images", synthetic
    raise AssetError(f"{path}: neither a COCO dataset (annotations.json) nor a YOLO one (data.yaml)")


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
