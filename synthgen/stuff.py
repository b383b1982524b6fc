"""Background classes ("stuff"): a background's label image, its class names, and the class
index every labeled pixel gets in the semantic and panoptic outputs.

A background ``X.jpg`` may have beside it:

    X.labels.png    one uint8 value per pixel, the size of X (greyscale or palette PNG: the
                    stored values count, never the colours): 0 = no class, 255 = not scored
    X.labels.json   {"classes": {"1": "road", "2": "sky", ...}}: the name of every other value

or, instead of each ``X.labels.json``, one ``labels.json`` (same form) in the backgrounds folder
for every label image without its own. A value the label image holds and the names do not list
is an error naming the file and the value.

Class indices: pasted classes keep index = COCO category id (1..N); the stuff classes of the
whole library, sorted by name, follow: N + 1, N + 2, ... (semantic_classes.json lists them with
``isthing: 0``). A label image is turned into those indices once (a 256-entry table) and then
goes through exactly the background's crop, resize (nearest) and flip here, and through the
geometric effects in :mod:`synthgen.stuff_labels`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from synthgen.errors import AssetError
from synthgen.io.images import image_size, open_image
from synthgen.io.text import DuplicateKey, read_utf8, unique_keys

SUFFIX = ".labels"  # backgrounds/<name>.labels.png and <name>.labels.json
FOLDER_FILE = "labels.json"  # backgrounds/labels.json: names for label images without their own
NONE, IGNORE = 0, 255  # label image values: no class (background), not scored
MAX_INDEX = 254  # semantic indices 1..254 (0 background, 255 not scored)
RESERVED = ("background", "ignore")


@dataclass(frozen=True)
class BackgroundLabels:
    """One background's label image and the names of its values."""

    path: Path  # X.labels.png
    names: dict[int, str]  # value (1..254) -> class name
    names_file: Path  # the json that named them


def label_image_path(image: Path) -> Path:
    return image.with_name(image.stem + SUFFIX + ".png")


def is_label_image(path: Path) -> bool:
    """A file that is a label image, not a background of its own."""
    return path.stem.endswith(SUFFIX)


def read_names(path: Path) -> dict[int, str]:
    """{value: name} of a labels json; every problem names the file and the entry."""
    try:
        doc = json.loads(read_utf8(path), object_pairs_hook=unique_keys)
    except DuplicateKey as exc:
        raise AssetError(f"{path}: classes key {exc.args[0]!r} is given twice; give each label value one name") from exc
    except (OSError, ValueError) as exc:
        raise AssetError(f"{path}: cannot read class names ({exc})") from exc
    classes = doc.get("classes") if isinstance(doc, dict) else None
    if not isinstance(classes, dict) or not classes:
        raise AssetError(f'{path}: expected {{"classes": {{"1": "road", "2": "sky", ...}}}} (label value -> class name)')
    out: dict[int, str] = {}
    for key, name in classes.items():
        try:
            value = int(key)
        except ValueError:
            value = -1
        if not 1 <= value <= MAX_INDEX or str(value) != str(key).strip():
            raise AssetError(f"{path}: classes key {key!r} is not a label value 1..{MAX_INDEX} (0 is no class, {IGNORE} not scored)")
        if not isinstance(name, str) or not name.strip():
            raise AssetError(f"{path}: classes[{key!r}] = {name!r} is not a class name")
        if name != name.strip():  # "road " beside "road" would be two classes
            raise AssetError(f"{path}: classes[{key!r}] = {name!r} has surrounding whitespace; write {name.strip()!r}")
        if name in RESERVED:
            raise AssetError(f"{path}: classes[{key!r}] = {name!r} is reserved ({', '.join(RESERVED)}); use values 0 and {IGNORE} for them")
        out[value] = name
    return out


def find_labels(images: list[Path], folder: Path) -> dict[int, BackgroundLabels]:
    """{position in ``images``: its labels} for the backgrounds that have a label image."""
    shared_path = folder / FOLDER_FILE
    shared = None
    out = {}
    for i, image in enumerate(images):
        png = label_image_path(image)
        if not png.is_file():
            continue
        own = image.with_name(image.stem + SUFFIX + ".json")
        if own.is_file():
            out[i] = BackgroundLabels(png, read_names(own), own)
            continue
        if shared is None:
            if not shared_path.is_file():
                raise AssetError(f"{png}: a label image needs its class names: {own.name} beside it, or {shared_path}")
            shared = read_names(shared_path)
        out[i] = BackgroundLabels(png, shared, shared_path)
    return out


def stuff_classes(labels: dict[int, BackgroundLabels], things: tuple[str, ...]) -> tuple[str, ...]:
    """Every stuff class of the library, sorted by name; their indices follow the things'."""
    names = sorted({n for lab in labels.values() for n in lab.names.values()})
    for lab in labels.values():
        clash = sorted(set(lab.names.values()) & set(things))
        if clash:
            raise AssetError(f"{lab.names_file}: {clash} are also classes of pasted objects; give background classes other names")
    if len(things) + len(names) > MAX_INDEX:
        raise AssetError(
            f"{len(things)} object classes and {len(names)} background classes do not fit a uint8 semantic map "
            f"(at most {MAX_INDEX} together)"
        )
    return tuple(names)


def index_table(lab: BackgroundLabels, things: tuple[str, ...], stuff: tuple[str, ...]) -> np.ndarray:
    """256 entries: label value -> semantic index (0 none, 255 not scored, 1 for values no name lists:
    they are caught when the image is read)."""
    lut = np.zeros(256, np.uint8)
    lut[IGNORE] = IGNORE
    base = len(things) + 1
    for value, name in lab.names.items():
        lut[value] = base + stuff.index(name)
    return lut


def check_header(lab: BackgroundLabels, size_wh: tuple[int, int]) -> None:
    """The label image's size and mode, from its header (nothing decoded): AssetError naming
    the file when either is wrong. A run checks every label image this way before its first image."""
    size = image_size(lab.path)  # a larger one is the wrong size, not an image over assets.max_pixels
    if size != tuple(size_wh):
        raise AssetError(f"{lab.path}: label image is {size[0]}x{size[1]} but its background is {size_wh[0]}x{size_wh[1]}")
    try:
        with Image.open(lab.path) as im:
            mode = im.mode
    except (OSError, ValueError, SyntaxError) as exc:
        raise AssetError(f"{lab.path}: cannot be read as an image ({exc})") from exc
    _check_mode(lab, mode)


def _check_mode(lab: BackgroundLabels, mode: str) -> None:
    if mode not in ("L", "P"):
        raise AssetError(f"{lab.path}: label image is a {mode} image; use an 8-bit greyscale (L) or palette (P) PNG of class values")


def _values(lab: BackgroundLabels, size_wh: tuple[int, int]) -> np.ndarray:
    """The label image's stored values (H x W uint8), every one named: AssetError naming the file."""
    check_header(lab, size_wh)
    im = open_image(lab.path, max_pixels=size_wh[0] * size_wh[1])
    _check_mode(lab, im.mode)
    values = np.asarray(im, np.uint8)
    present = np.flatnonzero(np.bincount(values.ravel(), minlength=256))
    unknown = [int(v) for v in present if v not in (NONE, IGNORE) and v not in lab.names]
    if unknown:
        raise AssetError(f"{lab.path}: holds values {unknown[:10]} that {lab.names_file} does not name")
    return values


def check_values(lab: BackgroundLabels, size_wh: tuple[int, int]) -> None:
    """Decode the label image once and check it as :func:`read_label_image` does, keeping
    nothing (about 10 ms a 2-megapixel image): a run does this for every label image before
    its first image, so one that meets this background late is stopped at once."""
    _values(lab, size_wh)


def read_label_image(lab: BackgroundLabels, size_wh: tuple[int, int], lut: np.ndarray) -> np.ndarray:
    """The background's label image as semantic indices (H x W uint8, read-only), checked."""
    out = cv2.LUT(_values(lab, size_wh), lut)
    out.flags.writeable = False
    return out


def crop_resize_flip(labels: np.ndarray, crop_xywh: tuple[int, int, int, int], flip: bool, canvas_wh: tuple[int, int]) -> np.ndarray:
    """The label image as the frame's background sees it: ``render.render_background``'s crop,
    resize (nearest, pixel centres aligned as the image's bilinear resize aligns them) and mirror."""
    x, y, w, h = crop_xywh
    out = cv2.resize(labels[y : y + h, x : x + w], tuple(canvas_wh), interpolation=cv2.INTER_NEAREST_EXACT)
    return cv2.flip(out, 1) if flip else out
