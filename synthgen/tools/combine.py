"""Combining datasets: real and synthetic, COCO or YOLO, into one COCO dataset (instances,
keypoints and the image entries' ``lines``).

The validation set is real (synthetic too on request) and must not have fed the synthetic part:
a split made by ``synthgen split`` keeps its own train and val parts, other real inputs give
``val_fraction`` of their images, and every synthetic image's recorded sources (its real scene,
its cutouts' source images: synthgen.provenance) are checked against the validation images
before anything is written.

Inputs are read through io and checked before anything is written: every image a dataset file
names lies inside that dataset's folder (io/paths), every annotation's category, box and mask
is usable, and every file is decoded (io/images) at its stated size before it is copied. What
is written stays inside OUT.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthgen.errors import AssetError, OutputError
from synthgen.io.files import atomic_write
from synthgen.io.paths import inside

# an image of an input: (source file inside the dataset, its name under the input's prefix,
# how messages name it), by image id
Files = dict[Any, tuple[Path, str, str]]


class LeakError(AssetError):
    """A validation image fed the synthetic part (as a scene or a cutout's source)."""


def _folder_name(path: Path) -> str:
    """An input's folder under OUT/images/: its own name (``..`` and ``/`` never)."""
    name = Path(os.path.realpath(path)).name
    return name if name not in ("", ".", "..") else "input"


def _relative(src: Path, root: Path, name: str) -> str:
    """How an image is named under its input's prefix: the dataset's own relative name, or
    for an absolute one (allowed inside the folder) its place in the folder."""
    if not Path(name).is_absolute():
        return Path(os.path.normpath(name)).as_posix()
    return Path(os.path.relpath(os.path.realpath(src), os.path.realpath(root))).as_posix()


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


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _load_any(path: Path) -> tuple[list[dict], list[dict], dict[int, str], Path, bool, Files, dict[str, dict]]:
    """(images, annotations, category names by id, images root, synthetic?, files, keypoint
    schemas by class name: a category's ``keypoints`` and ``skeleton``) of one input,
    read through io/coco or io/yolo and checked where it is read: DatasetError naming the file
    and id of an image whose path leaves the dataset folder, an entry without a size, an
    annotation of an unknown category or with a malformed box or mask."""
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
        files: Files = {}
        for iid, im in coco.images.items():
            shape = image_shape(im)
            if shape is None:
                raise AssetError(f"{image_where(coco.name, im)}: {ENTRY_FIELDS}")
            name, W, H = shape
            src = image_file(root, coco.name, im, real_root)
            for a in coco.annotations.get(iid, ()):
                require_annotation(coco.name, a, H, W)
            if "lines" in im:  # image-level line labels (synthgen/lines.py): carried as they are
                _require_lines(im, W, H, image_where(coco.name, im))
            files[iid] = (src, _relative(src, root, name), image_where(coco.name, im))
        anns = [a for v in coco.annotations.values() for a in v]
        return list(coco.images.values()), anns, coco.categories, root, synthetic, files, _keypoint_schemas(coco)
    if (path / "data.yaml").exists():
        images, anns, cats, root, files = _yolo_as_coco(path)
        return images, anns, cats, root, synthetic, files, {}
    raise AssetError(f"{path}: neither a COCO dataset (annotations.json) nor a YOLO one (data.yaml)")


def _require_lines(im: dict, W: int, H: int, where: str) -> None:
    """AssetError naming the image and line unless its ``lines`` are well formed (validate's rules)."""
    from synthgen.tools.validate.keypoints import check_lines

    def refuse(kind: str, at: str, message: str) -> None:
        raise AssetError(f"{at}: {message}")

    check_lines(im["lines"], W, H, where, refuse)


def _keypoint_schemas(coco: Any) -> dict[str, dict]:
    """{class name: {"keypoints": [...], "skeleton": [...]}} of the categories that name keypoints."""
    out = {}
    for cat in coco.data.get("categories", []) if isinstance(coco.data, dict) else []:
        if isinstance(cat, dict) and isinstance(cat.get("keypoints"), list):
            out[str(cat.get("name"))] = {"keypoints": cat["keypoints"], "skeleton": cat.get("skeleton") or []}
    return out


def _yolo_as_coco(path: Path) -> tuple[list[dict], list[dict], dict[int, str], Path, Files]:
    from synthgen.io.real import load_yolo
    from synthgen.io.rle import area, tight_box, to_rle

    ds = load_yolo(path)  # paths inside the dataset, labels checked line by line
    cats = {i + 1: n for i, n in enumerate(ds.categories)}
    ids = {n: i + 1 for i, n in enumerate(ds.categories)}
    # file names relative to images/ (the plain layout), else to the dataset (train/images/...)
    root = path / "images" if all((path / "images") in im.path.parents for im in ds.images) else path
    images, anns, files = [], [], {}
    for im in ds.images:
        try:
            rel = im.path.relative_to(root).as_posix()
        except ValueError:  # an absolute path from a list file, inside the dataset
            rel = _relative(im.path, root, str(im.path))
        images.append({"id": im.image_id, "file_name": rel, "width": im.width, "height": im.height})
        files[im.image_id] = (im.path, rel, str(im.path))
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
    return images, anns, cats, root, files


@dataclass
class Input:
    """One dataset to combine, read; ``role`` is "train" or "val" for a part of a split made by
    ``synthgen split`` (every image goes there), None when combine draws the validation set."""

    path: Path
    images: list[dict]
    anns: list[dict]
    cats: dict[int, str]
    root: Path
    synthetic: bool
    files: Files
    keypoints: dict[str, dict]  # class name -> its category's keypoints and skeleton
    role: str | None = None
    split: dict | None = None  # the split.json it belongs to


def _inputs(paths: list[Path]) -> list[Input]:
    """The inputs, a split folder standing for its train and val parts."""
    from synthgen.tools.split import PARTS, read_split

    out = []
    for path in map(Path, paths):
        split = read_split(path) if path.is_dir() else None
        if split is not None:
            out += [Input(path / part, *_load_any(path / part), role=part, split=split) for part in PARTS]
            continue
        parent = read_split(path.parent) if path.is_dir() and path.name in PARTS else None
        out.append(Input(path, *_load_any(path), role=path.name if parent else None, split=parent))
    return out


def _synthetic_sources(inp: Input) -> dict[str, list[dict]]:
    """{file_name: sources} of a synthetic input: its COCO entries' ``sources``, else its
    metadata.jsonl's (a YOLO-only run)."""
    got = {im["file_name"]: im["sources"] for im in inp.images if isinstance(im.get("sources"), list)}
    meta = inp.path / "metadata.jsonl"
    if not got and inp.path.is_dir() and meta.is_file():
        for line in meta.read_text().splitlines():
            rec = json.loads(line) if line.strip() else {}
            if isinstance(rec.get("sources"), list) and isinstance(rec.get("file_name"), str):
                got[Path(rec["file_name"]).name] = rec["sources"]
        names = {Path(im["file_name"]).name: im["file_name"] for im in inp.images}
        got = {names[k]: v for k, v in got.items() if k in names}
    return got


def _unrecorded_scenes(inp: Input) -> list[str]:
    """Images of a synthetic run made on a real scene without a recorded source (a synthgen
    from before provenance): combine cannot tell which real images fed them."""
    meta = inp.path / "metadata.jsonl"
    out = []
    if inp.path.is_dir() and meta.is_file():
        with open(meta) as f:
            for line in f:
                rec = json.loads(line) if line.strip() else {}
                bg = (rec.get("scene") or {}).get("background") or {}
                if bg.get("real_scene") and not rec.get("sources"):
                    out.append(str(rec.get("file_name", rec.get("name"))))
    return out


def _merged_keypoints(inputs: list[Input]) -> dict[str, dict]:
    """Each class's keypoints and skeleton, as its inputs name them; AssetError naming the class
    and both inputs when two name them differently (their points could not share a category)."""
    out: dict[str, tuple[dict, Path]] = {}
    for inp in inputs:
        for name, schema in inp.keypoints.items():
            if name in out and out[name][0] != schema:
                raise AssetError(f"category {name!r} names other keypoints or skeleton in {inp.path} than in {out[name][1]}: "
                                 f"{schema['keypoints']} vs {out[name][0]['keypoints']}; combine datasets whose classes agree")
            out.setdefault(name, (schema, inp.path))
    return {name: schema for name, (schema, _) in out.items()}


def check_leaks(inputs: list[Input], val_images: list[tuple[Input, dict]]) -> None:
    """Refuse, naming the images, when a validation image fed a synthetic input (as its scene
    or as the source of a pasted cutout): matched by resolved path and by content (sha256)."""
    from synthgen.provenance import file_sha256, resolved_image

    by_path: dict[Path, str] = {}
    by_sha: dict[str, str] = {}
    for inp, im in val_images:
        src = inp.files[im["id"]][0].resolve()
        if not src.is_file():
            continue  # the copy names it
        shown = str(inp.files[im["id"]][0])
        by_path[src] = shown
        by_sha[file_sha256(src)] = shown
    for split in {id(i.split): i.split for i in inputs if i.split is not None}.values():
        for rec in split["images"]:  # the originals of a split's val part, by path and content
            if rec.get("split") == "val" and isinstance(rec.get("source"), str):
                by_path.setdefault(Path(rec["source"]), rec["source"])
                if isinstance(rec.get("sha256"), str):
                    by_sha.setdefault(rec["sha256"], rec["source"])
    leaks: dict[str, list[str]] = {}
    for inp in inputs:
        if not inp.synthetic:
            continue
        unknown = _unrecorded_scenes(inp) if val_images else []
        if unknown:
            raise LeakError(
                f"{inp.path}: {len(unknown)} image(s) ({', '.join(unknown[:3])}{' ...' if len(unknown) > 3 else ''}) "
                "were made on real scenes without recording which (a synthgen from before provenance), so combine "
                "cannot check that no validation image fed them: generate them again with this version"
            )
        for file_name, sources in _synthetic_sources(inp).items():
            for s in sources:
                if not isinstance(s, dict):
                    continue
                p = resolved_image(s)
                hit = by_path.get(p.resolve()) if p is not None else None
                hit = hit or by_sha.get(s.get("sha256"))
                if hit:
                    what = "scene" if s.get("kind") == "scene" else f"cutout {s.get('asset', '')}".strip()
                    leaks.setdefault(hit, []).append(f"{inp.root / file_name} ({what})")
    if not leaks:
        return
    lines = []
    for val, used in sorted(leaks.items())[:10]:
        more = f" and {len(used) - 3} more" if len(used) > 3 else ""
        lines.append(f"  {val} fed {', '.join(used[:3])}{more}")
    if len(leaks) > 10:
        lines.append(f"  ... and {len(leaks) - 10} more validation images")
    n = sum(len(v) for v in leaks.values())
    synth = " ".join(str(i.path) for i in inputs if i.synthetic)
    split = next((str(i.path.parent) for i in inputs if i.split is not None), None)
    if split is None:
        real = next((str(i.path) for i in inputs if not i.synthetic), "REAL")
        split, fix = "real_split", [f"  synthgen split {real} --val 0.2 --out real_split/"]
        intro = "Split the real data first and make the synthetic part from its train part only:"
    else:
        fix = []
        intro = f"Make the synthetic part again from the train part of {split} only:"
    fix += [
        f"  synthgen extract --coco {split}/train/annotations.json --images {split}/train/images --out my_assets/",
        f"  (and assets.scenes: {{coco: {split}/train/annotations.json, images: {split}/train/images}})",
        f"  synthgen combine {split} {synth} --out combined/   # the split's own val part is the validation set",
    ]
    raise LeakError(
        f"{len(leaks)} validation image(s) fed the synthetic data ({n} uses), so validation would score "
        "images the model trained on:\n" + "\n".join(lines) + "\n" + intro + "\n" + "\n".join(fix)
    )


def combine(
    inputs: list[Path],
    out: Path,
    *,
    val_fraction: float = 0.2,
    val_synthetic: bool = False,
    classes: list[str] | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Merge datasets into OUT/images/<input>/..., OUT/train.json and OUT/val.json.

    Categories are mapped by name (ids 1..K in order of first appearance, or of ``classes``);
    image and annotation ids are renumbered. A split made by ``synthgen split`` (its folder, or
    its train/ and val/ parts) keeps its own parts; of other real inputs validation takes
    ``val_fraction`` of the images (synthetic ones too with ``val_synthetic``). Before anything
    is written, LeakError when a validation image fed a synthetic input. Inputs are only read;
    images are copied.
    """
    import hashlib

    out = Path(out)
    if any(Path(p).resolve() == out.resolve() for p in inputs):
        raise OutputError("--out must not be one of the inputs: merging never modifies its inputs")
    for p in map(Path, inputs):  # its images/ and train/val json would land in (or around) what it reads
        folder = (p if p.is_dir() else p.parent).resolve()
        if out.resolve() == folder or folder in out.resolve().parents or out.resolve() in folder.parents:
            raise OutputError(f"--out {out} and the input {p} overlap: combine writes a new folder beside its "
                              "inputs and never modifies them; choose an --out outside every input")
    loaded = _inputs(inputs)
    names = list(classes) if classes else []
    for inp in loaded:
        for name in inp.cats.values():
            if name not in names:
                if classes:
                    raise AssetError(
                        f"{inp.path}: category {name!r} does not map to any of --classes {classes}; "
                        "add it, or leave --classes out to keep every category"
                    )
                names.append(name)
    cat_id = {n: i + 1 for i, n in enumerate(names)}
    schemas = _merged_keypoints(loaded)
    # where every image goes, decided (and checked for leaks) before anything is written
    plan = []
    used_prefixes: set[str] = set()
    for inp in loaded:
        prefix = _folder_name(inp.path if not inp.path.is_file() else inp.path.parent)
        while prefix in used_prefixes:
            prefix += "_"
        used_prefixes.add(prefix)
        for im in inp.images:
            rel = f"{prefix}/{inp.files[im['id']][1]}"
            if inp.role is not None:
                is_val = inp.role == "val"
            else:
                h = int(hashlib.sha256(f"{seed}:{rel}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
                is_val = h < val_fraction and (val_synthetic or not inp.synthetic)
            plan.append((inp, im, rel, is_val))
    check_leaks(loaded, [(inp, im) for inp, im, _, is_val in plan if is_val and not inp.synthetic])
    train: dict[str, list] = {"images": [], "annotations": []}
    val: dict[str, list] = {"images": [], "annotations": []}
    # train objects by where they come from: real images, real objects carried by synthetic
    # images made on real scenes, and pasted (synthgen-made) objects
    counts = {"real": {n: 0 for n in names}, "carried": {n: 0 for n in names}, "synthetic": {n: 0 for n in names}}
    next_image, next_ann = 1, 1
    by_image: dict[int, dict[Any, list]] = {}
    for inp in loaded:
        groups = by_image[id(inp)] = {}
        for a in inp.anns:
            groups.setdefault(a["image_id"], []).append(a)
    dest = out / "images"
    copies: list[tuple[Path, Path]] = []  # made once every input is checked: a refusal leaves OUT as it was
    for done, (inp, im, rel, is_val) in enumerate(plan, 1):
        if progress is not None:
            progress(done, 2 * len(plan))  # checking, then copying
        cats, synthetic = inp.cats, inp.synthetic
        src, _, where = inp.files[im["id"]]
        _check_image(src, im, where)
        copies.append((src, inside(dest, rel, where)))
        split = val if is_val else train
        entry = {"id": next_image, "file_name": rel, "width": im["width"], "height": im["height"],
                 "source": "synthetic" if synthetic else "real", "source_image_id": im["id"]}
        if isinstance(im.get("sources"), list):
            entry["sources"] = im["sources"]
        if "lines" in im:  # the image's pixels are copied as they are: so are its line labels
            entry["lines"] = im["lines"]
        split["images"].append(entry)
        for a in by_image[id(inp)].get(im["id"], []):
            name = cats[a["category_id"]]
            split["annotations"].append({**a, "id": next_ann, "image_id": next_image, "category_id": cat_id[name]})
            if split is train and not a.get("iscrowd", 0):
                kind = "real" if not synthetic else "carried" if a.get("source") == "real" else "synthetic"
                counts[kind][name] += 1
            next_ann += 1
        next_image += 1
    for done, (src, dst) in enumerate(copies, len(plan) + 1):
        if progress is not None:
            progress(done, 2 * len(plan))
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    categories = [{"id": i, "name": n, "supercategory": "object", **schemas.get(n, {})} for n, i in cat_id.items()]
    for name, split in (("train", train), ("val", val)):
        atomic_write(out / f"{name}.json", _dumps({"info": {"description": "synthgen merge"}, "licenses": [], **split, "categories": categories}).encode())
    return {"train": len(train["images"]), "val": len(val["images"]), "counts": counts, "out": out,
            "splits": sorted({str(i.path.parent) for i in loaded if i.split is not None})}
