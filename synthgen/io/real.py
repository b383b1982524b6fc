"""Real labeled datasets as one shape: images with their instances, for extract, real scenes
and class counts. COCO (polygons or RLE), YOLO (Ultralytics layout) and image + id-map folders
are read through io/coco, io/yolo and io/images; errors name the file and the image or
annotation id.

Everything is checked when the dataset is loaded, image by image: the image file lies inside
the dataset folder (io/paths), is an image of at most ``max_pixels`` with the size its labels
state (from its header), and every annotation's category, bbox and segmentation are usable
(io/coco, io/rle). A loader stops at the first problem; given ``skip`` (``assets.on_error:
skip``), it calls ``skip(error, file)`` and leaves that image out instead. Masks are decoded
on demand, already checked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from synthgen.errors import AssetError
from synthgen.io import coco as coco_io
from synthgen.io import yolo as yolo_io
from synthgen.io.images import (
    MAX_PIXELS,
    check_pixels,
    image_size,
    list_images,
    read_rgb,
)
from synthgen.io.issues import DatasetError, Issue, raise_first
from synthgen.io.paths import inside, resolved_root
from synthgen.io.rle import encode_rle, is_number, tight_box, to_rle

Skip = Callable[[AssetError, str], None]  # (the problem, the file it is about)


@dataclass(frozen=True)
class KeypointCategory:
    """A COCO category's ``keypoints`` (names in order) and ``skeleton`` (0-based index pairs)."""

    names: tuple[str, ...]
    skeleton: tuple[tuple[int, int], ...]


def keypoint_categories(name: str, categories: list) -> dict[Any, KeypointCategory]:
    """category id -> its keypoints, for the categories that have them (``person_keypoints``
    style); DatasetError naming the file and category when they are malformed."""
    out = {}
    for c in categories if isinstance(categories, list) else []:
        if not isinstance(c, dict) or "keypoints" not in c:
            continue
        where = f"{name} category {c.get('id')} ({c.get('name')})"
        names = c["keypoints"]
        if not (isinstance(names, list) and names and all(isinstance(n, str) and n for n in names)
                and len(set(names)) == len(names)):
            raise DatasetError(Issue("keypoints", where, "keypoints must be a non-empty list of distinct names"))
        skeleton = c.get("skeleton") or []
        ok = isinstance(skeleton, list) and all(
            isinstance(e, list) and len(e) == 2 and all(isinstance(i, int) and not isinstance(i, bool)
                                                        and 1 <= i <= len(names) for i in e) for e in skeleton)
        if not ok:
            raise DatasetError(Issue("keypoints", where, f"skeleton must be [i, j] pairs of 1-based indices into its "
                                     f"{len(names)} keypoints"))
        out[c.get("id")] = KeypointCategory(tuple(names), tuple((i - 1, j - 1) for i, j in skeleton))
    return out


def annotation_keypoints(where: str, a: dict, cat: KeypointCategory | None) -> np.ndarray | None:
    """An annotation's ``keypoints`` as (n, 3) x, y, v, or None when it has none; DatasetError
    naming ``where`` (file and annotation id) when the array is malformed."""
    kp = a.get("keypoints")
    if kp is None:
        return None
    if cat is None:
        raise DatasetError(Issue("keypoints", where, "has keypoints but its category lists no keypoint names"))
    n = len(cat.names)
    if isinstance(kp, list) and len(kp) == 3 * n:
        bad = next((i for i in range(n) if not all(is_number(v) for v in kp[3 * i : 3 * i + 3])), None)
        if bad is not None:
            raise DatasetError(Issue("keypoints", where, f"keypoint {bad} ({cat.names[bad]}): x, y, v must be finite numbers, "
                                     f"got {json.dumps(kp[3 * bad : 3 * bad + 3]).replace('NaN', 'nan')}"))
    if not (isinstance(kp, list) and len(kp) == 3 * n and all(is_number(v) for v in kp)):
        got = f"{len(kp)} values" if isinstance(kp, list) else repr(kp)[:40]
        raise DatasetError(Issue("keypoints", where, f"keypoints must be {3 * n} numbers (x, y, v for each of its "
                                 f"category's {n} names), got {got}"))
    pts = np.asarray(kp, np.float64).reshape(n, 3)
    bad = [i for i, v in enumerate(pts[:, 2]) if v not in (0, 1, 2)]
    if bad:
        raise DatasetError(Issue("keypoints", where, f"keypoint {bad[0]} ({cat.names[bad[0]]}): v {pts[bad[0], 2]:g} "
                                 "is not 0, 1 or 2"))
    pts.flags.writeable = False
    return pts


@dataclass(frozen=True)
class RealInstance:
    ann_id: int | str
    category: str
    segmentation: Any  # COCO polygons / RLE, or None (box only)
    bbox: tuple[float, float, float, float]  # COCO x, y, w, h
    iscrowd: bool = False
    source: str = ""  # the annotation file, for messages
    # COCO keypoints: (n, 3) x, y, v in the image's COCO pixel coordinates, in the order of its
    # category's ``keypoints`` names (RealDataset.keypoints); None: the annotation has none
    keypoints: np.ndarray | None = field(default=None, repr=False, compare=False)

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
        """RGB pixels as displayed (io/images' EXIF policy), the size the labels say (checked
        against the pixel limit when the dataset was loaded)."""
        rgb = read_rgb(self.path, max_pixels=self.width * self.height)
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
    keypoints: dict[str, KeypointCategory] = field(default_factory=dict)  # category name -> its points (COCO keypoints)

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


def _loading(skip: Skip | None, file: str, load: Callable[[], Any]) -> Any:
    """``load()``, or None after ``skip(error, file)`` when it fails and skipping is on."""
    try:
        return load()
    except AssetError as exc:
        if skip is None:
            raise
        skip(exc, file)
        return None


def _checked_size(path: Path, where: str, W: int, H: int, max_pixels: int | None) -> None:
    """The file is an image of at most ``max_pixels`` whose header says W x H (as displayed)."""
    if not path.exists():
        raise AssetError(f"{where}: image file {path} does not exist")
    try:
        size = image_size(path, max_pixels=max_pixels)
    except AssetError as exc:
        raise AssetError(f"{where}: {exc}") from None
    if size != (W, H):
        raise DatasetError(Issue("image_size", where, f"the file {path} is {size[0]}x{size[1]}, the entry says {W}x{H}"))


def load_coco(annotations: Path, images: Path, *, skip: Skip | None = None, max_pixels: int | None = MAX_PIXELS) -> RealDataset:
    annotations, images = Path(annotations), Path(images)
    coco = coco_io.read_coco(annotations)
    raise_first([i for i in coco.issues if i.kind not in ("unknown_image", "unknown_category")])
    real_root = resolved_root(images)
    kp_cats = keypoint_categories(coco.name, coco.data.get("categories"))

    def load(iid: Any, im: dict) -> RealImage:
        shape = coco_io.image_shape(im)
        if shape is None:
            raise AssetError(f"{coco_io.image_where(coco.name, im)}: {coco_io.ENTRY_FIELDS}")
        _, W, H = shape
        path = coco_io.image_file(images, coco.name, im, real_root)
        _checked_size(path, coco_io.image_where(coco.name, im), W, H, max_pixels)
        insts = []
        for a in coco.annotations.get(iid, ()):
            if a.get("category_id") not in coco.categories:
                raise DatasetError(Issue("unknown_category", coco_io.annotation_where(coco.name, a),
                                         f"category_id {a.get('category_id')!r} is not among the categories "
                                         f"{sorted(coco.categories, key=coco_io.id_order)}"))
            coco_io.require_annotation(coco.name, a, H, W)
            kp = annotation_keypoints(coco_io.annotation_where(coco.name, a), a, kp_cats.get(a["category_id"]))
            insts.append(RealInstance(a["id"], coco.categories[a["category_id"]], a.get("segmentation"),
                                      tuple(a.get("bbox", (0, 0, 0, 0))), bool(a.get("iscrowd", 0)), coco.name, kp))
        return RealImage(iid, path, W, H, tuple(insts))

    out = [_loading(skip, str(annotations), lambda iid=iid, im=im: load(iid, im)) for iid, im in coco.images.items()]
    return RealDataset(coco.category_names(), tuple(r for r in out if r is not None), str(annotations),
                       {coco.categories[k]: v for k, v in kp_cats.items() if k in coco.categories})


def load_scenes(scenes: Any, *, skip: Skip | None = None, max_pixels: int | None = MAX_PIXELS) -> RealDataset:
    """The real dataset of a config's ``assets.scenes`` (COCO or YOLO)."""
    if scenes.coco is not None:
        return load_coco(scenes.coco, scenes.images, skip=skip, max_pixels=max_pixels)
    return load_yolo(scenes.yolo, skip=skip, max_pixels=max_pixels)


def read_yolo_dataset(root: Path, skip: Skip | None = None) -> yolo_io.Yolo:
    """The YOLO dataset in ``root`` (its data.yaml); AssetError when there is none or it names
    no images, or at its first issue (a path leading out of it; with ``skip``: listed, and the
    images it concerns left out)."""
    root = Path(root)
    yaml_path = yolo_io.find_data_yaml(root)
    if yaml_path is None:
        raise AssetError(f"{root}: no data.yaml with class names")
    ds = yolo_io.read_yolo(yaml_path)
    if skip is None or ds.names is None:
        raise_first(ds.issues)
    for issue in ds.issues:
        skip(DatasetError(issue), str(yaml_path))
    if not ds.images:
        raise AssetError(f"{yaml_path}: names no images (train/val/test folders or lists, or an images/ folder beside it)"
                         + (f"; {'; '.join(ds.notes)}" if ds.notes else ""))
    return ds


def load_yolo(root: Path, *, skip: Skip | None = None, max_pixels: int | None = MAX_PIXELS) -> RealDataset:
    """A YOLO dataset by Ultralytics' rules (io/yolo). Polygon lines become polygons, box lines
    box-only instances."""
    ds = read_yolo_dataset(root, skip)
    names = ds.names

    def load(n: int, img: Path) -> RealImage:
        W, H = image_size(img, max_pixels=max_pixels)
        lbl = yolo_io.label_path(img)
        insts = []
        for ln, cls, vals in yolo_io.read_labels_strict(lbl, len(names)):
            ann = yolo_io.to_annotation(vals, W, H)
            insts.append(RealInstance(f"{lbl.stem}:{ln}", names[cls], ann.get("segmentation"), tuple(ann["bbox"]), source=str(lbl)))
        return RealImage(n, img, W, H, tuple(insts))

    images = [_loading(skip, str(img), lambda n=n, img=img: load(n, img)) for n, img in enumerate(ds.images)]
    return RealDataset(tuple(names), tuple(im for im in images if im is not None), str(root))


def load_mask_folder(images: Path, masks: Path, category: str, *, max_pixels: int | None = MAX_PIXELS) -> RealDataset:
    """Images with instance masks beside them: ``masks/<stem>.png`` is an instance-id map
    (0 = background, each other value one object of ``category``), same size as its image."""
    images, masks = Path(images), Path(masks)
    out = []
    for n, img in enumerate(list_images(images)):
        mpath = masks / f"{img.stem}.png"
        if not mpath.exists():
            continue
        for folder, path in ((images, img), (masks, mpath)):
            inside(folder, path.name, str(path))  # a symlink leading out of its folder is not read
        W, H = image_size(img, max_pixels=max_pixels)
        with Image.open(mpath) as m:
            check_pixels(str(mpath), m.size, max_pixels)
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
