"""Splitting a real dataset into train and val before anything is made from it: ``synthgen split``.

    OUT/train/, OUT/val/   each a dataset in the input's format: COCO (annotations.json with the
                           input's own entries, images/ under their file_names) or YOLO
                           (data.yaml, images/, labels/ as Ultralytics reads them); image files
                           are hard-linked when they can be, else copied
    OUT/split.json         which source image went where (with its sha256), the seed, the counts

By image, deterministic (a function of the image names and the seed, never of file order) and
stratified by class where it can: images are taken rarest class first and each goes to the part
that lacks most of that class, within the image quota of each part. The input is only read.
``combine`` recognises OUT as a split and keeps its val part for validation; ``extract`` and
``assets.scenes`` should read OUT/train only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthgen.errors import AssetError, OutputError
from synthgen.io.files import atomic_write
from synthgen.provenance import file_sha256

SPLIT_FILE = "split.json"
PARTS = ("train", "val")


@dataclass
class Item:
    """One source image: its name inside the split parts, file, classes, and what to copy."""

    name: str  # posix path inside a part's images/ (COCO: the file_name)
    path: Path
    classes: Counter = field(default_factory=Counter)  # instances per class, crowd left out
    entry: Any = None  # COCO: the image entry and its annotations; YOLO: the label file


def _safe_name(name: str, where: str) -> str:
    p = Path(name)
    if not name or p.is_absolute() or ".." in p.parts:
        raise AssetError(f"{where}: file name {name!r} must be a relative path inside the dataset's images")
    return p.as_posix()


def _read_coco(ann_file: Path, images: Path) -> tuple[dict, list[Item]]:
    from synthgen.io.coco import ENTRY_FIELDS, image_shape, image_where, read_coco
    from synthgen.io.issues import raise_first

    coco = read_coco(ann_file)
    raise_first(coco.issues)
    items = []
    for iid, im in coco.images.items():
        shape = image_shape(im)
        if shape is None:
            raise AssetError(f"{image_where(coco.name, im)}: {ENTRY_FIELDS}")
        name = _safe_name(shape[0], image_where(coco.name, im))
        path = images / name
        if not path.is_file():
            raise AssetError(f"{image_where(coco.name, im)}: image file {path} does not exist")
        anns = coco.annotations.get(iid, [])
        classes = Counter(coco.categories[a["category_id"]] for a in anns if not a.get("iscrowd", 0))
        items.append(Item(name, path, classes, (im, anns)))
    return coco.data, items


def _read_yolo(root: Path) -> tuple[list[str], list[Item]]:
    from synthgen.io import yolo as yolo_io
    from synthgen.io.real import read_yolo_dataset

    ds = read_yolo_dataset(root)
    items, seen = [], {}
    base = root.resolve()
    for img in ds.images:
        try:
            parts = list(img.resolve().relative_to(base).parts)
        except ValueError:
            parts = [img.name]
        if "images" in parts[:-1]:  # train/images/a.jpg -> train/a.jpg; images/a.jpg -> a.jpg
            k = len(parts) - 2 - parts[:-1][::-1].index("images")
            parts.pop(k)
        name = "/".join(parts)
        if name in seen:
            raise AssetError(f"{root}: images {seen[name]} and {img} would both be {name} in the split; rename one")
        seen[name] = img
        label = yolo_io.label_path(img)
        lines = yolo_io.read_labels_strict(label, len(ds.names), ds.kpt_shape)
        items.append(Item(name, img, Counter(ds.names[cls] for _, cls, _ in lines), label if label.is_file() else None))
    return ds.names, items


def _key(seed: int, name: str) -> str:
    return hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()


def assign(items: list[Item], val_fraction: float, seed: int = 0) -> dict[str, str]:
    """{image name: "train" | "val"}: ``round(val_fraction * N)`` images in val (at least one
    of two or more when val_fraction > 0), stratified by class greedily, rarest class first."""
    n = len(items)
    n_val = round(val_fraction * n)
    if val_fraction > 0 and n >= 2:
        n_val = max(n_val, 1)
    if val_fraction < 1 and n >= 2:
        n_val = min(n_val, n - 1)
    quota = {"train": n - n_val, "val": n_val}
    total: Counter = Counter()
    for it in items:
        total.update(it.classes)
    want = {"val": {c: val_fraction * v for c, v in total.items()}}
    want["train"] = {c: v - want["val"][c] for c, v in total.items()}
    have = {p: Counter() for p in PARTS}
    taken = {p: 0 for p in PARTS}

    def rarest(it: Item) -> tuple:
        c = min(it.classes, key=lambda c: (total[c], c), default=None)
        return (total[c], c) if c is not None else (float("inf"), "")

    order = sorted(items, key=lambda it: (rarest(it)[0], rarest(it)[1], _key(seed, it.name), it.name))
    out: dict[str, str] = {}
    for it in order:
        open_parts = [p for p in PARTS if taken[p] < quota[p]]
        if len(open_parts) == 1:
            part = open_parts[0]
        else:
            # the part furthest behind its share of the rarest class, then of its image quota
            c = rarest(it)[1]
            lack = {p: ((want[p][c] - have[p][c]) / want[p][c] if c and want[p][c] > 0 else 0.0,
                        (quota[p] - taken[p]) / quota[p], p == "val") for p in PARTS}
            part = max(PARTS, key=lack.__getitem__)
        out[it.name] = part
        taken[part] += 1
        have[part].update(it.classes)
    return out


MARK = ".synthgen-split"  # in OUT while split writes into it


def _marked(mark: Path, job: str) -> bool:
    try:
        return mark.read_text() == job
    except OSError:
        return False


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except FileExistsError:  # a split killed part-way, run again: its own link or copy
        if not os.path.samefile(src, dst):
            shutil.copy2(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _inside(a: Path, b: Path) -> bool:
    a, b = a.resolve(), b.resolve()
    return a == b or b in a.parents


def split_dataset(src: Path, out: Path, val_fraction: float, seed: int = 0, images: Path | None = None,
                  progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Split the COCO or YOLO dataset at SRC into OUT/train, OUT/val and OUT/split.json
    (``progress(done, total)`` per image written)."""
    import yaml

    src, out = Path(src), Path(out)
    if not 0 < val_fraction < 1:
        raise AssetError(f"--val must be between 0 and 1 (a share of the images), got {val_fraction}")
    if src.is_file() and src.suffix.lower() == ".json":
        fmt, ann_file, root = "coco", src, src.parent
    elif (src / "annotations.json").is_file():
        fmt, ann_file, root = "coco", src / "annotations.json", src
    elif src.is_dir() and any((src / n).is_file() for n in ("data.yaml", "dataset.yaml")):
        fmt, ann_file, root = "yolo", None, src
    else:
        from synthgen.io.manifest import unmerged_note

        raise AssetError(f"{src}: neither a COCO dataset (annotations.json) nor a YOLO one (data.yaml){unmerged_note(src)}")
    images_root = Path(images) if images else root / "images"
    for inp in {root, images_root} if fmt == "coco" else {root}:
        if _inside(out, inp) or _inside(inp, out):
            raise OutputError(f"--out {out} and the input {inp} overlap: split writes a new folder beside its input, never into it")
    # there while split writes: a split killed part-way may be run again there, with the same
    # arguments (others would leave its links in the wrong part: a val image among train's)
    mark, job = out / MARK, json.dumps([str(root.resolve()), str(images_root.resolve()), val_fraction, seed])
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not _marked(mark, job))):
        raise OutputError(f"--out {out} exists and is not empty: give a new folder (split never overwrites)"
                          + (" (a split with other arguments was killed there)" if mark.is_file() else ""))

    if fmt == "coco":
        data, items = _read_coco(ann_file, images_root)
    else:
        names, items = _read_yolo(root)
    if len(items) < 2:
        raise AssetError(f"{src}: {len(items)} image(s): a split needs at least two")
    where = assign(items, val_fraction, seed)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(mark, job.encode())
    counts = {p: Counter() for p in PARTS}
    records = []
    for done, it in enumerate(sorted(items, key=lambda it: it.name), 1):
        if progress is not None:
            progress(done, len(items))
        part = where[it.name]
        counts[part].update(it.classes)
        dst = out / part / "images" / it.name
        _link(it.path, dst)
        if fmt == "yolo" and it.entry is not None:
            _link(it.entry, out / part / "labels" / Path(it.name).with_suffix(".txt"))
        records.append({"image": it.name, "split": part, "source": str(it.path.resolve()),
                        "file": f"{part}/images/{it.name}", "sha256": file_sha256(it.path)})
    for part in PARTS:
        mine = [it for it in items if where[it.name] == part]
        if fmt == "coco":
            # an entry's own `split` (a synthgen run's train/val draw) now names this part
            images = [{**it.entry[0], "split": part} if "split" in it.entry[0] else it.entry[0] for it in mine]
            doc = {**data, "images": images, "annotations": [a for it in mine for a in it.entry[1]]}
            atomic_write(out / part / "annotations.json", json.dumps(doc, separators=(",", ":")).encode())
        else:
            (out / part / "labels").mkdir(parents=True, exist_ok=True)
            atomic_write(out / part / "data.yaml", yaml.safe_dump({"names": names, "nc": len(names)}, sort_keys=False).encode())
    classes = sorted(set(counts["train"]) | set(counts["val"]))
    doc = {
        "synthgen": "split",
        "source": str(root.resolve()),
        "format": fmt,
        "val_fraction": val_fraction,
        "seed": seed,
        "counts": {p: {c: counts[p][c] for c in classes} for p in PARTS},
        "images": records,
    }
    atomic_write(out / SPLIT_FILE, (json.dumps(doc, indent=1) + "\n").encode())
    mark.unlink()  # finished
    return {"out": out, "format": fmt, "images": {p: sum(1 for r in records if r["split"] == p) for p in PARTS},
            "counts": doc["counts"]}


def read_split(folder: Path) -> dict[str, Any] | None:
    """The split.json of a folder ``synthgen split`` wrote, or None."""
    path = Path(folder) / SPLIT_FILE
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise AssetError(f"{path}: not readable JSON ({exc})") from None
    if not (isinstance(doc, dict) and doc.get("synthgen") == "split" and isinstance(doc.get("images"), list)):
        raise AssetError(f"{path}: not a split.json written by `synthgen split`")
    return doc


def count_lines(result: dict[str, Any]) -> list[str]:
    """The per-class table ``synthgen split`` prints."""
    counts = result["counts"]
    n = result["images"]
    out = [f"{'class':<16}{'train':>8}{'val':>8}{'val share':>11}"]
    for c in counts["train"]:
        t, v = counts["train"][c], counts["val"][c]
        out.append(f"{c:<16}{t:>8}{v:>8}{v / max(t + v, 1):>11.1%}")
    out.append(f"{'images':<16}{n['train']:>8}{n['val']:>8}{n['val'] / max(n['train'] + n['val'], 1):>11.1%}")
    return out
