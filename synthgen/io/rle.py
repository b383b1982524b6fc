"""COCO masks in run-length encoding: encode, decode, and check before pycocotools sees them.

A leaf module (numpy and pycocotools only), so the label stage of the core may use it too.

pycocotools is C code that trusts its input: a malformed counts string, counts that do not
cover the image, or a size that disagrees with the image can crash the process or decode to
garbage. :func:`to_rle` checks a segmentation (compressed RLE, uncompressed RLE or polygons)
first and raises :class:`MaskError` saying what is wrong; only checked masks reach pycocotools.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils


class MaskError(ValueError):
    """A segmentation that is not a usable mask of its image. ``kind`` is ``"format"`` (not RLE
    or polygons at all) or ``"mask_size"`` (a mask, but not of this image's size)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def encode_rle(mask: np.ndarray) -> dict[str, Any]:
    """COCO RLE of a 2-D bool/uint8 mask, ``counts`` as str (JSON-ready)."""
    rle = mask_utils.encode(np.asfortranarray(mask, dtype=np.uint8))
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": rle["counts"].decode("ascii")}


def encode_rle_roi(shape: tuple[int, int], roi: tuple[int, int, int, int], local: np.ndarray) -> dict[str, Any]:
    """COCO RLE of a full-size mask that is zero outside ``roi`` (y0, y1, x0, x1).

    Same result as :func:`encode_rle` on the full mask, without building it: runs are counted
    on the roi alone, column by column, and compressed by pycocotools.
    """
    import cv2  # here: the module stays a leaf that tools may import without OpenCV's start-up

    H, W = shape
    y0, y1, x0, x1 = roi
    h, w = local.shape
    if local.size == 0:
        return encode_rle(np.zeros(shape, bool))
    # the roi's columns one after the other (COCO counts run down columns), each followed by
    # one 0 that stands for the H - h rows of zeros between it and the next (none when h == H),
    # between a 0 in front and one at the end
    sep = 1 if h < H else 0
    q = np.zeros(w * (h + sep) + 2, np.uint8)
    cols = q[1:-1].reshape(w, h + sep)[:, :h]
    if not np.may_share_memory(cv2.transpose(local.view(np.uint8), dst=cols), q):
        cols[...] = local.T
    d = np.flatnonzero(q[1:] != q[:-1])  # starts of runs, in the layout of q (minus its front 0)
    if d.size == 0:
        return encode_rle(np.zeros(shape, bool))
    col, row = np.divmod(d, h + sep)
    # the same starts in the full mask's column-major order, between 0 and its end
    pos = np.empty(d.size + 2, np.int64)
    pos[0], pos[-1] = 0, H * W
    np.add(col * H + row, x0 * H + y0, out=pos[1:-1])
    if pos[-2] == H * W:  # the mask runs to the last pixel: no run of zeros after it
        pos = pos[:-1]
    counts = pos[1:] - pos[:-1]
    rle = mask_utils.frPyObjects({"size": [H, W], "counts": counts.tolist()}, H, W)
    return {"size": [H, W], "counts": rle["counts"].decode("ascii")}


def rle_counts(s: str) -> np.ndarray | None:
    """The run lengths of a COCO compressed RLE string (as pycocotools' rleFrString decodes it),
    or None when the string is malformed. Checked here so a bad string never reaches C code."""
    c = np.frombuffer(s.encode("latin-1", "replace"), np.uint8).astype(np.int64) - 48
    if len(c) == 0:
        return np.zeros(0, np.int64)
    if c.min() < 0 or c.max() >= 64 or c[-1] & 0x20:
        return None
    ends = np.flatnonzero((c & 0x20) == 0)  # the last character of each number
    starts = np.concatenate([[0], ends[:-1] + 1])
    k = np.arange(len(c)) - np.repeat(starts, ends - starts + 1)  # 5-bit digit within its number
    if k.max() > 11:
        return None
    x = np.add.reduceat((c & 0x1F) << (5 * k), starts)
    negative = (c[ends] & 0x10) != 0
    x[negative] -= np.left_shift(1, 5 * (k[ends][negative] + 1))
    # from the fourth number on, each is a difference to the one two before
    if len(x) > 3:
        x[3::2] = x[1] + np.cumsum(x[3::2])
    if len(x) > 4:
        x[4::2] = x[2] + np.cumsum(x[4::2])
    if (x < 0).any():
        return None
    return x


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def fmt(v: Any) -> str:
    """A value as messages show it: integral floats without .0, others to 6 digits."""
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def is_empty(seg: Any) -> bool:
    """No segmentation: a box-only annotation."""
    return seg is None or (isinstance(seg, list) and not seg)


def check_segmentation(seg: Any, H: int, W: int) -> None:
    """MaskError when ``seg`` (compressed RLE, uncompressed RLE or polygons) is not a usable
    mask of an H x W image. Pure Python and numpy: cheap enough to run on every annotation a
    reader loads, before any of it reaches pycocotools."""
    if isinstance(seg, dict):
        size, counts = seg.get("size"), seg.get("counts")
        if not (isinstance(size, list) and len(size) == 2):
            raise MaskError("mask_size", "RLE segmentation has no [height, width] size")
        if list(size) != [H, W]:
            raise MaskError("mask_size", f"mask size {fmt(size)} does not match its image {H}x{W} (height x width)")
        if isinstance(counts, bytes):
            counts = counts.decode("latin-1")
        if isinstance(counts, str):
            runs = rle_counts(counts)
            if runs is None:
                raise MaskError("format", "RLE counts string is malformed")
            if int(runs.sum()) != H * W or (runs[1:] == 0).any():
                raise MaskError("mask_size", f"RLE counts cover {int(runs.sum())} pixels, not {H}x{W} = {H * W}")
            return
        if isinstance(counts, list):
            if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts) or sum(counts) != H * W:
                raise MaskError("mask_size", f"uncompressed RLE counts do not cover {H}x{W} = {H * W} pixels")
            return
        raise MaskError("format", "RLE counts are neither a string nor a list")
    if isinstance(seg, list) and seg:
        for poly in seg:
            if not (isinstance(poly, list) and len(poly) >= 6 and len(poly) % 2 == 0 and all(is_number(v) for v in poly)):
                raise MaskError("format", "a polygon is not a list of >= 3 x, y pairs")
            # pycocotools rasterises at 5x in C ints: far-out points overflow (a segfault) or
            # allocate gigabytes; within one image size of the image nothing is refused.
            if not (all(-W <= v <= 2 * W for v in poly[0::2]) and all(-H <= v <= 2 * H for v in poly[1::2])):
                raise MaskError(
                    "format", f"a polygon point lies more than one image size outside the {W}x{H} image"
                )
        return
    raise MaskError("format", "segmentation is neither RLE nor a list of polygons")


def to_rle(seg: Any, H: int, W: int) -> tuple[dict, float]:
    """(RLE for pycocotools, polygon perimeter; 0 for RLE) of a checked segmentation of an
    H x W image; MaskError when it is malformed or of another size."""
    check_segmentation(seg, H, W)
    if isinstance(seg, dict):
        counts = seg["counts"]
        if isinstance(counts, list):
            return mask_utils.frPyObjects(seg, H, W), 0.0
        if isinstance(counts, bytes):
            counts = counts.decode("latin-1")
        return {"size": [H, W], "counts": counts.encode()}, 0.0
    perimeter = 0.0
    for poly in seg:
        xy = np.asarray(poly, np.float64).reshape(-1, 2)
        perimeter += float(np.hypot(*(np.roll(xy, -1, 0) - xy).T).sum())
    return mask_utils.merge(mask_utils.frPyObjects(seg, H, W)), perimeter


def decode(rle: dict) -> np.ndarray:
    """Bool H x W mask of an RLE from :func:`to_rle` (or :func:`encode_rle`)."""
    if isinstance(rle.get("counts"), str):
        rle = {"size": rle["size"], "counts": rle["counts"].encode()}
    return np.ascontiguousarray(mask_utils.decode(rle), dtype=bool)


def decode_segmentation(seg: Any, H: int, W: int) -> np.ndarray:
    """Bool H x W mask of a segmentation, checked first (MaskError)."""
    return decode(to_rle(seg, H, W)[0])


def area(rle: dict) -> int:
    return int(mask_utils.area(rle))


def tight_box(rle: dict) -> list[float]:
    """[x, y, w, h] of the mask's pixels (zeros for an empty mask)."""
    return [float(v) for v in mask_utils.toBbox(rle)]


def union_area(rles: list[dict]) -> int:
    return int(mask_utils.area(mask_utils.merge(rles, intersect=False)))


def shared_pixels(a: dict, b: dict) -> int:
    return int(mask_utils.area(mask_utils.merge([a, b], intersect=True)))


def encode_fortran(mask_t: np.ndarray) -> dict:
    """pycocotools RLE (counts as bytes) of an already Fortran-ordered uint8 mask: the fast path
    for many masks of one id map."""
    return mask_utils.encode(mask_t)
