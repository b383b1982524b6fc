"""Loading, checking, trimming and caching cutouts and backgrounds.

Objects are RGBA cutouts in one folder per class (``objects/<class>/*.png``), or an image with a
mask beside it (``car1.jpg`` + ``car1.mask.png``). Backgrounds are a folder of images. Every
problem is an :class:`AssetError` naming the file (or, with ``assets.on_error: skip``, a warning
and a count). A library caches what it decodes; a worker keeps its libraries in its
``WorkerContext`` (synthgen/worker.py), so each worker decodes them once.
"""

from __future__ import annotations

import json
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from synthgen.config import AssetsConfig
from synthgen.errors import AssetError
from synthgen.io.images import (
    IMAGE_EXTS,
    MAX_PIXELS,
    image_size,
    open_image,
    read_rgb,
    to_8bit,
)
from synthgen.keypoints import Schema, load_points, load_schemas, sidecar_path
from synthgen.lines import Line, load_lines
from synthgen.lines import sidecar as lines_sidecar
from synthgen.stuff import (
    BackgroundLabels,
    find_labels,
    index_table,
    is_label_image,
    read_label_image,
    stuff_classes,
)

MASK_SUFFIX = ".mask"
REGION_SUFFIX = ".region"  # backgrounds/<name>.region.png: white where objects may stand
CACHE_SIZE = 64  # decoded backgrounds, regions, real scenes and their moved masks, per library
MIN_CUTOUT_SIDE = 16  # pixels on the longer side of a cutout's visible part (extract keeps >= 400 px objects)
PAD = 2  # transparent border kept around trimmed cutouts, so warps never clip colour


@dataclass(frozen=True, eq=False)
class Cutout:
    """One object image, trimmed to its alpha box plus ``PAD`` transparent pixels.

    ``rgba`` colours are bled into the transparent area (nearest opaque colour) so that
    interpolation and feathering never pull in a dark fringe.
    """

    name: str  # path relative to its root folder, e.g. "car/car_01.png"
    label: str  # class (or distractor kind)
    rgba: np.ndarray = field(repr=False)  # H x W x 4 uint8, read-only
    alpha: np.ndarray = field(init=False, repr=False)  # contiguous copy of the alpha channel
    # (n, 2) keypoints in this (trimmed, padded) cutout's pixel-index coordinates, NaN where
    # unlabeled; None: no sidecar (see synthgen/keypoints.py)
    keypoints: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        alpha = np.ascontiguousarray(self.rgba[..., 3])
        alpha.flags.writeable = False
        object.__setattr__(self, "alpha", alpha)

    @property
    def size_wh(self) -> tuple[int, int]:
        return self.rgba.shape[1], self.rgba.shape[0]


WARP_CACHE_BYTES = 64 * 2**20  # warped cutouts waiting for their renderer, per library


class WarpCache:
    """Cutouts warped by scene sampling for the placements it accepted, kept for the renderer
    of the same image, so that each object is warped once (the warp is a pure function of the
    cutout, its matrix and its box: a kept warp is the very array a new one would be).

    The renderer *takes* an entry (it leaves the cache); entries nobody takes (scenes sampled
    and never rendered) are dropped oldest first beyond ``WARP_CACHE_BYTES``.
    """

    def __init__(self, limit: int = WARP_CACHE_BYTES) -> None:
        self.limit = limit
        self._items: OrderedDict[Any, np.ndarray] = OrderedDict()
        self._bytes = 0

    @staticmethod
    def key(cut: Cutout, matrix: np.ndarray, box: tuple[int, int, int, int]) -> tuple:
        return id(cut), matrix.tobytes(), tuple(box)

    def put(self, key: tuple, warped: np.ndarray) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= old.nbytes
        self._items[key] = warped
        self._bytes += warped.nbytes
        while self._bytes > self.limit and self._items:
            self._bytes -= self._items.popitem(last=False)[1].nbytes

    def take(self, key: tuple) -> np.ndarray | None:
        warped = self._items.pop(key, None)
        if warped is not None:
            self._bytes -= warped.nbytes
        return warped

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class BackgroundRef:
    name: str
    path: Path
    size_wh: tuple[int, int]
    region: Path | None = None


@dataclass(frozen=True, eq=False)
class AssetLibrary:
    classes: tuple[str, ...]
    cutouts: dict[str, tuple[Cutout, ...]]
    distractors: tuple[Cutout, ...]
    backgrounds: tuple[BackgroundRef, ...]
    skipped: tuple[tuple[str, str], ...] = ()  # (file, reason) for files skipped with on_error=skip
    scenes: Any = None  # io.real.RealDataset of real labeled scenes, or None
    _cache: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _index: dict = field(default_factory=dict, repr=False)
    warps: WarpCache = field(default_factory=WarpCache, repr=False)  # scene sampling -> renderer
    keypoint_schemas: dict[str, Schema] = field(default_factory=dict)  # class -> schema, for those with one
    lines: dict[int, tuple[Line, ...]] = field(default_factory=dict)  # background index -> its <name>.lines.json
    labels: dict[int, BackgroundLabels] = field(default_factory=dict)  # background index -> its label image (stuff.py)
    stuff: tuple[str, ...] = ()  # background classes, semantic index len(classes) + 1 + position

    @property
    def paste_classes(self) -> tuple[str, ...]:
        """Classes that have cutouts (real scenes may add classes that only occur in them)."""
        return tuple(c for c in self.classes if c in self.cutouts)

    def cached(self, key: Any, make: Callable[[], Any]) -> Any:
        """A least-recently-used cache of decoded and derived assets, bounded so that memory
        stays flat however many images a worker makes."""
        value = self._cache.get(key)
        if value is None:
            value = self._cache[key] = make()
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return value

    def scene_image(self, index: int) -> np.ndarray:
        """Decoded RGB of real scene ``index`` (read-only)."""
        return self.cached(("scene", index), lambda: _frozen(self.scenes.images[index].read()))

    def cutout(self, name: str, *, distractor: bool = False) -> Cutout:
        index = self._index
        if not index:
            for c in self.distractors:
                index[(True, c.name)] = c
            for items in self.cutouts.values():
                for c in items:
                    index[(False, c.name)] = c
        hit = index.get((distractor, name))
        return hit if hit is not None else index[(not distractor, name)]  # e.g. an object cutout as an occluder

    def region(self, index: int) -> np.ndarray | None:
        """The background's placement region (bool, background size), or None."""
        ref = self.backgrounds[index]
        if ref.region is None:
            return None

        def load() -> np.ndarray:
            # no larger than its background (checked against assets.max_pixels when loaded)
            im = to_8bit(open_image(ref.region, max_pixels=ref.size_wh[0] * ref.size_wh[1])).convert("L")
            if im.size != ref.size_wh:
                raise AssetError(
                    f"{ref.region}: region mask is {im.size[0]}x{im.size[1]} but its background "
                    f"{ref.name} is {ref.size_wh[0]}x{ref.size_wh[1]}"
                )
            return _frozen(np.asarray(im) >= 128)

        return self.cached(("region", index), load)

    def label_image(self, index: int) -> np.ndarray | None:
        """The background's label image as semantic indices (background size), or None."""
        lab = self.labels.get(index)
        if lab is None:
            return None
        size = self.backgrounds[index].size_wh
        return self.cached(("labels", index), lambda: read_label_image(lab, size, index_table(lab, self.classes, self.stuff)))

    def background(self, index: int) -> np.ndarray:
        """Decoded RGB background (H x W x 3 uint8, read-only)."""
        ref = self.backgrounds[index]  # its header was checked against assets.max_pixels when loaded
        return self.cached(("background", index), lambda: _frozen(read_rgb(ref.path, max_pixels=ref.size_wh[0] * ref.size_wh[1])))


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


# ---------------------------------------------------------------------------------------------
# Reading single files


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode == "P" and "transparency" in im.info
    )


def read_cutout(path: Path, max_pixels: int | None = MAX_PIXELS) -> np.ndarray:
    """Read one cutout as an untrimmed RGBA array, or raise AssetError naming the file (also
    when it has more than ``max_pixels`` pixels)."""
    mask_path = path.with_name(path.stem + MASK_SUFFIX + ".png")
    im = to_8bit(open_image(path, max_pixels=max_pixels))
    if mask_path.exists():
        rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
        mask = np.asarray(to_8bit(open_image(mask_path, max_pixels=max_pixels)).convert("L"), dtype=np.uint8)
        if mask.shape != rgb.shape[:2]:
            raise AssetError(
                f"{mask_path}: mask is {mask.shape[1]}x{mask.shape[0]} but its image {path.name} "
                f"is {rgb.shape[1]}x{rgb.shape[0]}"
            )
        rgba = np.dstack([rgb, mask])
    elif _has_alpha(im):
        rgba = np.asarray(im.convert("RGBA"), dtype=np.uint8)
    else:
        raise AssetError(
            f"{path}: has no alpha channel (mode {im.mode}) and no mask file "
            f"{mask_path.name} beside it; cutouts need one or the other"
        )
    if not rgba[..., 3].any():
        raise AssetError(f"{path}: alpha channel is empty (fully transparent)")
    ys, xs = np.nonzero(np.any(rgba[..., 3] > 0, axis=1))[0], np.nonzero(np.any(rgba[..., 3] > 0, axis=0))[0]
    w, h = int(xs[-1] - xs[0] + 1), int(ys[-1] - ys[0] + 1)
    if max(w, h) < MIN_CUTOUT_SIDE:
        raise AssetError(
            f"{path}: its visible part is only {w}x{h} pixels; a cutout needs at least {MIN_CUTOUT_SIDE} on its "
            "longer side, since pasted at scene.scale a tinier one is enlarged into a blur whose soft edge is "
            "never labeled: use a larger image (or assets.on_error: skip to leave it out)"
        )
    return rgba


def trim_origin(alpha: np.ndarray) -> tuple[int, int]:
    """x, y of the alpha box's top-left pixel: where the trimmed cutout starts."""
    ys, xs = np.nonzero(np.any(alpha > 0, axis=1))[0], np.nonzero(np.any(alpha > 0, axis=0))[0]
    return int(xs[0]), int(ys[0])


def prepare_cutout(rgba: np.ndarray) -> np.ndarray:
    """Trim to the alpha box, pad by ``PAD`` transparent pixels, bleed colours outward."""
    alpha = rgba[..., 3]
    ys, xs = np.nonzero(np.any(alpha > 0, axis=1))[0], np.nonzero(np.any(alpha > 0, axis=0))[0]
    trimmed = rgba[ys[0] : ys[-1] + 1, xs[0] : xs[-1] + 1]
    out = cv2.copyMakeBorder(trimmed, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT, value=(0, 0, 0, 0))
    transparent = (out[..., 3] == 0).astype(np.uint8)
    if transparent.any():
        # For every transparent pixel, the label of its nearest visible pixel.
        _, labels = cv2.distanceTransformWithLabels(
            transparent, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
        )
        visible = transparent == 0
        lut = np.zeros((labels.max() + 1, 3), np.uint8)
        lut[labels[visible]] = out[..., :3][visible]
        out[..., :3][~visible] = lut[labels[~visible]]
    out = np.ascontiguousarray(out)
    out.flags.writeable = False
    return out


# ---------------------------------------------------------------------------------------------
# Folders


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and p.suffix.lower() in IMAGE_EXTS
        and not p.stem.endswith((MASK_SUFFIX, REGION_SUFFIX))
        and not is_label_image(p)
        and not p.name.startswith(".")
    )


def _require_dir(path: Path, key: str) -> Path:
    if not path.is_dir():
        raise AssetError(f"assets.{key}: folder {path} does not exist")
    return path


class _Skipper:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.skipped: list[tuple[str, str]] = []

    def handle(self, err: AssetError, path: Path) -> None:
        if self.mode == "raise":
            raise err
        self.handle_file(err, str(path))

    def handle_file(self, err: AssetError, file: str) -> None:
        self.skipped.append((file, str(err)))
        warnings.warn(f"skipping broken asset: {err}", stacklevel=3)


def _load_cutout_folder(
    folder: Path, label: str, root: Path, skipper: _Skipper, max_pixels: int, schema: Schema | None = None,
    points_read: bool = True,
) -> list[Cutout]:
    """``points_read``: read keypoint sidecars (not for distractors, which are never labeled)."""
    out = []
    for p in _image_files(folder):
        points = None
        try:
            raw = read_cutout(p, max_pixels)
            rgba = prepare_cutout(raw)
            sidecar = sidecar_path(p)
            if points_read and sidecar.is_file():  # original COCO pixel coordinates -> this cutout's pixel indices
                x0, y0 = trim_origin(raw[..., 3])
                points = load_points(sidecar, schema, label, (raw.shape[1], raw.shape[0])) - np.array([x0 - PAD + 0.5, y0 - PAD + 0.5])
                points.flags.writeable = False
        except AssetError as err:
            skipper.handle(err, p)
            continue
        out.append(Cutout(name=p.relative_to(root).as_posix(), label=label, rgba=rgba, keypoints=points))
    return out


TRANSPARENT_BACKGROUND = 0.5  # a background with alpha 0 on more than this share of its pixels is refused


def _check_background(path: Path, max_pixels: int) -> None:
    """A background is used as its RGB, alpha ignored: one whose alpha is 0 on more than half
    its pixels is most likely a cutout put in the wrong folder, an AssetError naming it (only
    files whose header has alpha are decoded here)."""
    with Image.open(path) as im:
        alpha = _has_alpha(im)
    if not alpha:
        return
    a = np.asarray(to_8bit(open_image(path, max_pixels=max_pixels)).convert("RGBA"))[..., 3]
    share = float(np.count_nonzero(a == 0)) / a.size
    if share > TRANSPARENT_BACKGROUND:
        raise AssetError(
            f"{path}: {share:.0%} of its pixels are fully transparent (alpha 0), so it looks like a cutout: "
            f"cutouts belong in objects/<class>/; a background is used as its colours with alpha ignored, "
            f"and one more than {TRANSPARENT_BACKGROUND:.0%} transparent is refused"
        )


def _check_region(path: Path, max_pixels: int) -> None:
    """An all-black region mask would let objects stand nowhere: an AssetError naming it,
    rather than being taken as no region (objects anywhere)."""
    im = to_8bit(open_image(path, max_pixels=max_pixels)).convert("L")
    if im.getextrema()[1] < 128:
        raise AssetError(
            f"{path}: region mask has no white pixel (none >= 128), so objects could stand nowhere on its "
            "background; paint white where objects may stand, or remove the file to let them stand anywhere"
        )


def load_library(cfg: AssetsConfig) -> AssetLibrary:
    """Load and check the assets a config names (each call reads them again: keep the library,
    or let a ``WorkerContext`` keep it)."""
    skipper = _Skipper(cfg.on_error)
    objects_root = _require_dir(Path(cfg.objects), "objects")
    available = sorted(p.name for p in objects_root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if cfg.classes is None:
        classes = available
    else:
        missing = [c for c in cfg.classes if c not in available]
        if missing:
            raise AssetError(
                f"assets.classes: {missing} have no folder in {objects_root}; "
                f"available classes: {', '.join(available) or '(none)'}"
            )
        classes = list(cfg.classes)
    if not classes:
        loose = _image_files(objects_root)
        hint = (f"; it holds {len(loose)} image{'s' if len(loose) != 1 else ''} directly: put each cutout in a "
                f"folder named after its class, {objects_root}/<class>/{loose[0].name}" if loose else "")
        raise AssetError(f"assets.objects: {objects_root} has no class sub-folders{hint}")
    cutouts: dict[str, tuple[Cutout, ...]] = {}
    schemas = load_schemas(objects_root, classes)
    for c in classes:
        items = _load_cutout_folder(objects_root / c, c, objects_root, skipper, cfg.max_pixels, schemas.get(c))
        if not items:
            raise AssetError(f"assets.objects: class folder {objects_root / c} has no usable cutouts")
        cutouts[c] = tuple(items)

    distractors: list[Cutout] = []
    if cfg.distractors is not None:
        droot = _require_dir(Path(cfg.distractors), "distractors")
        folders = [droot] + sorted(p for p in droot.iterdir() if p.is_dir())
        for f in folders:
            distractors += _load_cutout_folder(f, f.name if f != droot else "distractor", droot, skipper, cfg.max_pixels,
                                               points_read=False)

    scenes = None
    if cfg.scenes is not None:
        from synthgen.io.real import load_coco, load_yolo

        sc = cfg.scenes
        # every image is checked here (inside its dataset, its size, its annotations): a bad
        # one stops the run by name, or with on_error: skip is left out and listed
        skip = None if cfg.on_error == "raise" else skipper.handle_file
        if sc.coco is not None:
            scenes = load_coco(sc.coco, sc.images, skip=skip, max_pixels=cfg.max_pixels)
        else:
            scenes = load_yolo(sc.yolo, skip=skip, max_pixels=cfg.max_pixels)
        if not scenes.images:
            raise AssetError(f"assets.scenes: {scenes.source} has no images")
        classes = classes + [c for c in scenes.categories if c not in classes]

    bg_root = _require_dir(Path(cfg.backgrounds), "backgrounds")
    backgrounds = []
    lines: dict[int, tuple[Line, ...]] = {}
    for p in _image_files(bg_root):
        try:
            w, h = image_size(p, max_pixels=cfg.max_pixels)
        except AssetError as exc:
            skipper.handle(exc, p)
            continue
        region = p.with_name(p.stem + REGION_SUFFIX + ".png")
        try:
            _check_background(p, cfg.max_pixels)
            if region.exists():
                _check_region(region, cfg.max_pixels)
        except AssetError as exc:
            skipper.handle(exc, p)
            continue
        backgrounds.append(BackgroundRef(name=p.name, path=p, size_wh=(w, h), region=region if region.exists() else None))
        if lines_sidecar(p).is_file():
            lines[len(backgrounds) - 1] = load_lines(lines_sidecar(p), (w, h))
    if not backgrounds:
        raise AssetError(f"assets.backgrounds: {bg_root} has no usable images ({', '.join(IMAGE_EXTS)})")
    labels = find_labels([b.path for b in backgrounds], bg_root)

    return AssetLibrary(
        classes=tuple(classes),
        cutouts=cutouts,
        distractors=tuple(distractors),
        backgrounds=tuple(backgrounds),
        skipped=tuple(skipper.skipped),
        scenes=scenes,
        keypoint_schemas=schemas,
        lines=lines,
        labels=labels,
        stuff=stuff_classes(labels, tuple(classes)),
    )


def library_key(cfg: AssetsConfig) -> str:
    """Equal for assets configs that load the same library."""
    return json.dumps(cfg.model_dump(mode="json"), sort_keys=True)
