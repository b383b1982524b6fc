"""Reading image files: one list of image extensions and one EXIF orientation policy.

EXIF policy: **images are used as displayed**, i.e. with their EXIF orientation applied
(``ImageOps.exif_transpose``), and an image's size is its displayed size. Labels of COCO and
YOLO datasets refer to those pixels: labeling tools show photos the way browsers and viewers
do (rotated by the tag), Ultralytics reads images and sizes them with the tag applied
(``exif_transpose`` / ``exif_size``), and OpenCV's ``imread`` applies it too. So ``validate``
compares a COCO entry's width and height with the displayed size, ``report`` draws masks on
the displayed pixels, and real scenes and cutouts are read displayed; a dataset whose labels
were made on the stored pixels of tagged photos shows up in ``validate`` as wrong image sizes
(for 90-degree tags), which is the place to find it. Images without an orientation tag (all
that synthgen writes) are the same either way.

Every reader here follows this policy; nothing else in synthgen opens an image file for its
pixels or size. Id maps (uint16 PNGs, never tagged) are read as stored.

Size limit: an image whose header says it has more than ``max_pixels`` pixels (default
``MAX_PIXELS``, 40 Mpx; ``assets.max_pixels`` in a config) is refused before it is decoded,
with an AssetError naming the file and its size. Decoding reads it whole (a 144 Mpx RGBA
cutout is 2.3 GB per process), so the check is on the header.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from synthgen.errors import AssetError

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
MAX_PIXELS = 40_000_000
_EXIF_ORIENTATION = 0x0112
_TRANSPOSED = (5, 6, 7, 8)  # orientation tags that swap width and height


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTS and path.is_file()


def list_images(folder: Path, recursive: bool = False) -> Iterator[Path]:
    """Image files in ``folder`` (and below, if ``recursive``), sorted by path."""
    found = Path(folder).rglob("*") if recursive else Path(folder).iterdir()
    yield from (p for p in sorted(found) if is_image_file(p))


def _source(data: Path | bytes):
    return io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data


def check_pixels(name: str, size: tuple[int, int], max_pixels: int | None) -> None:
    """AssetError naming the file when a width x height from its header is over the limit."""
    w, h = size
    if max_pixels is not None and w * h > max_pixels:
        raise AssetError(f"{name}: image is {w}x{h} = {w * h / 1e6:.3g} Mpx, over the limit of "
                         f"{max_pixels / 1e6:g} Mpx (assets.max_pixels); shrink it or raise the limit")


def open_image(path: Path | bytes, name: str | None = None, max_pixels: int | None = MAX_PIXELS) -> Image.Image:
    """The image, loaded and turned as displayed (EXIF orientation applied); AssetError naming
    the file when it cannot be read or its header says it has more than ``max_pixels``."""
    name = name or str(path)
    try:
        im = Image.open(_source(path))
        check_pixels(name, im.size, max_pixels)
        im.load()
    except Image.DecompressionBombError as exc:
        raise AssetError(f"{name}: image is too large to load safely ({exc})") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise AssetError(f"{name}: cannot be read as an image ({exc})") from exc
    return ImageOps.exif_transpose(im)


def to_8bit(im: Image.Image) -> Image.Image:
    """16-bit and 32-bit integer greyscale scaled to 8 bits; other modes unchanged."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if arr.max() > 255 else 255.0
        im = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    return im


def read_rgb(path: Path | bytes, name: str | None = None, max_pixels: int | None = MAX_PIXELS) -> np.ndarray:
    """H x W x 3 uint8 RGB pixels as displayed; AssetError naming the file."""
    im = to_8bit(open_image(path, name, max_pixels))
    if im.mode != "RGB":
        im = im.convert("RGB")
    return np.ascontiguousarray(np.asarray(im, dtype=np.uint8))


def image_size(path: Path | bytes, name: str | None = None, max_pixels: int | None = None) -> tuple[int, int]:
    """(width, height) as displayed, from the file header (no decoding); AssetError naming the
    file when it is missing or unreadable, or (given ``max_pixels``) over that many pixels."""
    name = name or str(path)
    try:
        with Image.open(_source(path)) as im:
            w, h = im.size
            turned = im.getexif().get(_EXIF_ORIENTATION) in _TRANSPOSED
    except FileNotFoundError:
        raise AssetError(f"{name}: does not exist") from None
    except Image.DecompressionBombError as exc:
        raise AssetError(f"{name}: image is too large to load safely ({exc})") from exc
    except Exception as exc:  # PIL raises many kinds
        raise AssetError(f"{name}: cannot be read as an image ({exc.__class__.__name__}: {exc})") from exc
    check_pixels(name, (w, h), max_pixels)
    return (h, w) if turned else (w, h)


def read_id_map(data: Path | bytes) -> np.ndarray | None:
    """An instance-id map PNG as stored (uint16 for synthgen's), or None when undecodable."""
    import cv2

    if isinstance(data, Path):
        return cv2.imread(str(data), cv2.IMREAD_UNCHANGED)
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
