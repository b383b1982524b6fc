"""Real labeled datasets as one shape: images with their instances, for extract, real scenes
and class counts. COCO (polygons or RLE), YOLO (Ultralytics layout) and image + id-map folders
are read through io/coco, io/yolo and io/images; errors name the file and the image or
annotation id. Masks are decoded on demand, checked first (io/rle).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from synthgen.errors import AssetError
from synthgen.io import coco as coco_io
from synthgen.io import yolo as yolo_io
from synthgen.io.images import image_size, list_images, read_rgb
from synthgen.io.issues import raise_first
from synthgen.io.rle import encode_rle, tight_box, to_rle


@dataclass(frozen=True)
class RealInstance:
    ann_id: int | str
    category: str
    segmentation: Any  # COCO polygons / RLE, or None (box only)
    bbox: tuple[float, float, float, float]  # COCO x, y, w, h
    iscrowd: bool = False
    source: str = ""  # the annotation file, for messages

    def mask(self, height: int, width: int) -> np.ndarray | None:
        """Full-image bool mask, or None for a box-only annotation; AssetError naming the
        annotation when the segmentation is malformed or of another size."""
        return coco_io.annotation_mask(f"{self.source} annotation {self.ann_id}".lstrip(), self.segmentation, height, width)

    @property
    def box_only(self) -> bool:
        return self.segmentation is None or (isinstance(self.segmentation, list) and not self.segmentation)

    @property
    def kind(self) -> str:
        """"object", "crowd" (``iscrowd: 1``) or "box" (a box without a mask)."""
        return "crowd" if self.iscrowd else "box" if self.box_only else "object"

    def region(self, height: int, width: int) -> np.ndarray:
        """The pixels the annotation covers: its mask, or for a box without a mask every pixel its
        box touches (cut to the image)."""
        mask = None if self.box_only else self.mask(height, width)
        if mask is not None:
            return mask
        x, y, w, h = self.bbox
        out = np.zeros((height, width), bool)
        if w > 0 and h > 0:
            y0, y1 = max(math.floor(y), 0), max(math.ceil(y + h), 0)
            x0, x1 = max(math.floor(x), 0), max(math.ceil(x + w), 0)
            out[y0:y1, x0:x1] = True
        return out


@dataclass(frozen=True)
class RealImage:
    image_id: int | str
    path: Path
    width: int
    height: int
    instances: tuple[RealInstance, ...] = field(default=())

    def read(self) -> np.ndarray:
        """RGB pixels as displayed (io/images' EXIF policy), the size the labels say."""
        rgb = read_rgb(self.path)
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

    def crowd_note(self) -> str | None:
        """What padding does with the annotations it cannot keep as objects, or None."""
        kinds = [inst.kind for im in self.images for inst in im.instances]
        crowd, box = kinds.count("crowd"), kinds.count("box")
        if not crowd and not box:
            return None
        return (f"assets.scenes: {crowd} crowd regions kept as iscrowd: 1, {box} box-only annotations written as "
                "iscrowd: 1 ignore regions (their box); every object's pixels leave both, and YOLO labels leave them out")

    def class_counts(self) -> dict[str, int]:
        counts = {c: 0 for c in self.categories}
        for im in self.images:
            for inst in im.instances:
                if not inst.iscrowd:
                    counts[inst.category] += 1
        return counts


def load_coco(annotations: Path, images: Path) -> RealDataset:
    annotations, images = Path(annotations), Path(images)
    coco = coco_io.read_coco(annotations)
    raise_first([i for i in coco.issues if i.kind != "unknown_image"])
    out = []
    for iid, im in coco.images.items():
        shape = coco_io.image_shape(im)
        if shape is None:
            raise AssetError(f"{coco_io.image_where(coco.name, im)}: {coco_io.ENTRY_FIELDS}")
        name, W, H = shape
        path = images / name
        if not path.exists():
            raise AssetError(f"{annotations}: image {iid} file {path} does not exist")
        insts = tuple(
            RealInstance(a["id"], coco.categories[a["category_id"]], a.get("segmentation"), tuple(a.get("bbox", (0, 0, 0, 0))),
                         bool(a.get("iscrowd", 0)), coco.name)
            for a in coco.annotations.get(iid, ())
        )
        out.append(RealImage(iid, path, W, H, insts))
    return RealDataset(coco.category_names(), tuple(out), str(annotations))


def load_scenes(scenes: Any) -> RealDataset:
    """The real dataset of a config's ``assets.scenes`` (COCO or YOLO)."""
    return load_coco(scenes.coco, scenes.images) if scenes.coco is not None else load_yolo(scenes.yolo)


def read_yolo_dataset(root: Path) -> yolo_io.Yolo:
    """The YOLO dataset in ``root`` (its data.yaml); AssetError when there is none or it names
    no images."""
    root = Path(root)
    yaml_path = yolo_io.find_data_yaml(root)
    if yaml_path is None:
        raise AssetError(f"{root}: no data.yaml with class names")
    ds = yolo_io.read_yolo(yaml_path)
    raise_first(ds.issues)
    if not ds.images:
        raise AssetError(f"{yaml_path}: names no images (train/val/test folders or lists, or an images/ folder beside it)"
                         + (f"; {'; '.join(ds.notes)}" if ds.notes else ""))
    return ds


def load_yolo(root: Path) -> RealDataset:
    """A YOLO dataset by Ultralytics' rules (io/yolo). Polygon lines become polygons, box lines
    box-only instances."""
    ds = read_yolo_dataset(root)
    names = ds.names
    images = []
    for n, img in enumerate(ds.images):
        W, H = image_size(img)
        lbl = yolo_io.label_path(img)
        insts = []
        for ln, cls, vals in yolo_io.read_labels_strict(lbl, len(names)):
            ann = yolo_io.to_annotation(vals, W, H)
            insts.append(RealInstance(f"{lbl.stem}:{ln}", names[cls], ann.get("segmentation"), tuple(ann["bbox"]), source=str(lbl)))
        images.append(RealImage(n, img, W, H, tuple(insts)))
    return RealDataset(tuple(names), tuple(images), str(root))


def load_mask_folder(images: Path, masks: Path, category: str) -> RealDataset:
    """Images with instance masks beside them: ``masks/<stem>.png`` is an instance-id map
    (0 = background, each other value one object of ``category``), same size as its image."""
    images, masks = Path(images), Path(masks)
    out = []
    for n, img in enumerate(list_images(images)):
        mpath = masks / f"{img.stem}.png"
        if not mpath.exists():
            continue
        W, H = image_size(img)
        with Image.open(mpath) as m:
            ids = np.asarray(m)
        if ids.ndim == 3:
            raise AssetError(f"{mpath}: expected a single-channel instance-id map, got {ids.shape[2]} channels")
        if ids.shape != (H, W):
            raise AssetError(f"{mpath}: mask is {ids.shape[1]}x{ids.shape[0]} but its image {img.name} is {W}x{H}")
        insts = []
        for v in np.unique(ids):
            if v == 0:
                continue
            seg = encode_rle(ids == v)
            box = tuple(tight_box(to_rle(seg, H, W)[0]))
            insts.append(RealInstance(f"{img.stem}:{int(v)}", category, seg, box, source=str(mpath)))
        out.append(RealImage(n, img, W, H, tuple(insts)))
    if not out:
        raise AssetError(f"{masks}: no <image stem>.png masks for the images in {images}")
    return RealDataset((category,), tuple(out), str(masks))
