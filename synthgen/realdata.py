"""Reading real labeled datasets: COCO (polygons or RLE) and YOLO segmentation.

Everything comes out as one shape: images with their instances, each a category name and a
full-image boolean mask. Errors name the file and what is wrong with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image
from pycocotools import mask as mask_utils

from synthgen.errors import AssetError

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


@dataclass(frozen=True)
class RealInstance:
    ann_id: int | str
    category: str
    segmentation: Any  # COCO polygons / RLE, or None (box only)
    bbox: tuple[float, float, float, float]  # COCO x, y, w, h
    iscrowd: bool = False

    def mask(self, height: int, width: int) -> np.ndarray | None:
        """Full-image bool mask, or None for a box-only annotation."""
        seg = self.segmentation
        if seg is None or (isinstance(seg, list) and not seg):
            return None
        if isinstance(seg, list):
            rles = mask_utils.frPyObjects(seg, height, width)
            rle = mask_utils.merge(rles)
        elif isinstance(seg.get("counts"), list):
            rle = mask_utils.frPyObjects(seg, height, width)
        else:
            rle = {"size": seg["size"], "counts": seg["counts"].encode() if isinstance(seg["counts"], str) else seg["counts"]}
        if list(rle["size"]) != [height, width]:
            raise AssetError(f"annotation {self.ann_id}: mask size {rle['size']} does not match its image {height}x{width}")
        return np.ascontiguousarray(mask_utils.decode(rle), dtype=bool)


@dataclass(frozen=True)
class RealImage:
    image_id: int | str
    path: Path
    width: int
    height: int
    instances: tuple[RealInstance, ...] = field(default=())

    def read(self) -> np.ndarray:
        try:
            with Image.open(self.path) as im:
                rgb = np.asarray(im.convert("RGB"))
        except (OSError, ValueError) as exc:
            raise AssetError(f"{self.path}: cannot be read as an image ({exc})") from exc
        if rgb.shape[:2] != (self.height, self.width):
            raise AssetError(
                f"{self.path}: image is {rgb.shape[1]}x{rgb.shape[0]} but its annotations say {self.width}x{self.height}"
            )
        return rgb


@dataclass(frozen=True)
class RealDataset:
    categories: tuple[str, ...]
    images: tuple[RealImage, ...]
    source: str

    def class_counts(self) -> dict[str, int]:
        counts = {c: 0 for c in self.categories}
        for im in self.images:
            for inst in im.instances:
                if not inst.iscrowd:
                    counts[inst.category] += 1
        return counts


def load_coco(annotations: Path, images: Path) -> RealDataset:
    annotations, images = Path(annotations), Path(images)
    try:
        data = json.loads(annotations.read_text())
    except OSError as exc:
        raise AssetError(f"{annotations}: cannot be read ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise AssetError(f"{annotations}: is not valid JSON ({exc})") from exc
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            raise AssetError(f"{annotations}: not a COCO instances file (no '{key}' list)")
    cats = {}
    for c in data["categories"]:
        if "id" not in c or "name" not in c:
            raise AssetError(f"{annotations}: category {c} needs 'id' and 'name'")
        cats[c["id"]] = c["name"]
    by_image: dict[Any, list[RealInstance]] = {}
    for a in data["annotations"]:
        try:
            cat = cats[a["category_id"]]
        except KeyError:
            raise AssetError(
                f"{annotations}: annotation {a.get('id')} has category_id {a.get('category_id')}, "
                f"which is not among the categories {sorted(cats)}"
            ) from None
        by_image.setdefault(a["image_id"], []).append(
            RealInstance(a.get("id"), cat, a.get("segmentation"), tuple(a.get("bbox", (0, 0, 0, 0))), bool(a.get("iscrowd", 0)))
        )
    out = []
    for im in data["images"]:
        path = images / im["file_name"]
        if not path.exists():
            raise AssetError(f"{annotations}: image {im['id']} file {path} does not exist")
        out.append(RealImage(im["id"], path, int(im["width"]), int(im["height"]), tuple(by_image.get(im["id"], ()))))
    names = tuple(dict.fromkeys(cats[k] for k in sorted(cats)))
    return RealDataset(names, tuple(out), str(annotations))


def _yolo_names(root: Path) -> list[str]:
    for name in ("data.yaml", "dataset.yaml"):
        p = root / name
        if p.exists():
            doc = yaml.safe_load(p.read_text()) or {}
            names = doc.get("names")
            if isinstance(names, dict):
                return [names[k] for k in sorted(names)]
            if isinstance(names, list):
                return list(names)
            raise AssetError(f"{p}: no 'names' list or mapping")
    raise AssetError(f"{root}: no data.yaml with class names")


def _yolo_pairs(root: Path) -> Iterator[tuple[Path, Path]]:
    for img in sorted((root / "images").rglob("*")):
        if img.suffix.lower() in IMAGE_EXTS:
            rel = img.relative_to(root / "images")
            yield img, (root / "labels" / rel).with_suffix(".txt")


def load_yolo(root: Path) -> RealDataset:
    """Ultralytics layout: images/**, labels/** (same stems), data.yaml. Segmentation lines
    (class x1 y1 x2 y2 ...) become polygons; box lines (class cx cy w h) become box-only."""
    root = Path(root)
    if not (root / "images").is_dir():
        raise AssetError(f"{root}: not a YOLO dataset (no images/ folder)")
    names = _yolo_names(root)
    images = []
    for n, (img, lbl) in enumerate(_yolo_pairs(root)):
        with Image.open(img) as im:
            W, H = im.size
        insts = []
        if lbl.exists():
            for ln, line in enumerate(lbl.read_text().splitlines(), 1):
                vals = line.split()
                if not vals:
                    continue
                try:
                    cls, nums = int(vals[0]), [float(v) for v in vals[1:]]
                except ValueError:
                    raise AssetError(f"{lbl}:{ln}: not a YOLO line: {line!r}") from None
                if not 0 <= cls < len(names):
                    raise AssetError(f"{lbl}:{ln}: class {cls} is not in data.yaml names (0..{len(names) - 1})")
                if len(nums) == 4:
                    cx, cy, w, h = nums
                    box = ((cx - w / 2) * W, (cy - h / 2) * H, w * W, h * H)
                    insts.append(RealInstance(f"{lbl.stem}:{ln}", names[cls], None, box))
                elif len(nums) >= 6 and len(nums) % 2 == 0:
                    poly = [v * (W if i % 2 == 0 else H) for i, v in enumerate(nums)]
                    xs, ys = poly[0::2], poly[1::2]
                    box = (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
                    insts.append(RealInstance(f"{lbl.stem}:{ln}", names[cls], [poly], box))
                else:
                    raise AssetError(f"{lbl}:{ln}: expected 4 box values or an even number >= 6 of polygon values")
        images.append(RealImage(n, img, W, H, tuple(insts)))
    return RealDataset(tuple(names), tuple(images), str(root))


def load_mask_folder(images: Path, masks: Path, category: str) -> RealDataset:
    """Images with instance masks beside them: ``masks/<stem>.png`` is an instance-id map
    (0 = background, each other value one object of ``category``), same size as its image."""
    images, masks = Path(images), Path(masks)
    out = []
    for n, img in enumerate(sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_EXTS)):
        mpath = masks / f"{img.stem}.png"
        if not mpath.exists():
            continue
        with Image.open(img) as im:
            W, H = im.size
        ids = np.asarray(Image.open(mpath))
        if ids.ndim == 3:
            raise AssetError(f"{mpath}: expected a single-channel instance-id map, got {ids.shape[2]} channels")
        if ids.shape != (H, W):
            raise AssetError(f"{mpath}: mask is {ids.shape[1]}x{ids.shape[0]} but its image {img.name} is {W}x{H}")
        insts = []
        for v in np.unique(ids):
            if v == 0:
                continue
            m = np.asfortranarray(ids == v, dtype=np.uint8)
            rle = mask_utils.encode(m)
            seg = {"size": [H, W], "counts": rle["counts"].decode()}
            insts.append(RealInstance(f"{img.stem}:{int(v)}", category, seg, tuple(float(b) for b in mask_utils.toBbox(rle))))
        out.append(RealImage(n, img, W, H, tuple(insts)))
    if not out:
        raise AssetError(f"{masks}: no <image stem>.png masks for the images in {images}")
    return RealDataset((category,), tuple(out), str(masks))
