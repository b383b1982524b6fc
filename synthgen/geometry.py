"""Placement geometry: the homography of a cutout and its warp into a canvas-aligned box.

Pure functions, no randomness. Scene sampling and rendering both call :func:`warp` with the same
matrix, so the silhouette the sampler checked is the one the renderer paints.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np


def alpha_cut(threshold: float) -> int:
    """Smallest uint8 alpha that counts as 'object' for a threshold in (0, 1]."""
    return max(1, int(math.ceil(threshold * 255.0 - 1e-9)))


@functools.lru_cache(maxsize=256)  # scene sampling and rendering ask for the same matrices
def homography(
    cutout_wh: tuple[int, int],
    object_wh: tuple[int, int],
    canvas_wh: tuple[int, int],
    *,
    scale: float,
    rotation: float,
    flip: bool,
    perspective: tuple[float, ...],
    center: tuple[float, float],
) -> np.ndarray:
    """3x3 matrix taking cutout pixel coordinates to canvas pixel coordinates.

    ``scale`` is the object's longer side (``object_wh``, the unpadded cutout) as a fraction of
    the canvas' shorter side. ``perspective`` holds 8 corner offsets in fractions of the size.
    """
    w, h = cutout_wh
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    if any(perspective):
        # corners moved by the offsets, in float64, then rounded to float32 as OpenCV takes them
        src = ((0.0, 0.0), (w - 1.0, 0.0), (w - 1.0, h - 1.0), (0.0, h - 1.0))
        dst = [(x + perspective[2 * i] * w, y + perspective[2 * i + 1] * h) for i, (x, y) in enumerate(src)]
        P = cv2.getPerspectiveTransform(np.array(src, np.float32), np.array(dst, np.float32))
        if P.dtype != np.float64:
            P = P.astype(np.float64)
    else:
        P = None  # the identity
    s = scale * min(canvas_wh) / max(object_wh)
    t = math.radians(rotation)
    c, si = math.cos(t), math.sin(t)
    m = -1.0 if flip else 1.0
    # to_center @ rot_scale @ mirror, written out: its products hold one non-zero term each, so
    # they are exact and the same as the matrix products'. y points down in images: this
    # rotation turns the object counter-clockwise on screen.
    centered = np.array([[c * s * m, si * s, center[0]], [-si * s * m, c * s, center[1]], [0, 0, 1]], np.float64)
    to_origin = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], np.float64)
    H = centered @ to_origin
    if P is not None:
        H = H @ P
    H.flags.writeable = False  # cached: shared by every caller
    return H


def warp_box(H: np.ndarray, cutout_wh: tuple[int, int], margin: int = 0) -> tuple[int, int, int, int]:
    """Integer canvas box (x0, y0, x1, y1), x1/y1 exclusive, holding the warped cutout."""
    w, h = cutout_wh
    corners = np.array([[-0.5, -0.5, 1], [w - 0.5, -0.5, 1], [w - 0.5, h - 0.5, 1], [-0.5, h - 0.5, 1]])
    pts = corners @ H.T
    xs = (pts[:, 0] / pts[:, 2]).tolist()  # four points: Python's min/max beat numpy's here
    ys = (pts[:, 1] / pts[:, 2]).tolist()
    x0 = math.floor(min(xs)) - margin
    y0 = math.floor(min(ys)) - margin
    x1 = math.ceil(max(xs)) + 1 + margin
    y1 = math.ceil(max(ys)) + 1 + margin
    return x0, y0, x1, y1


def warp(image: np.ndarray, H: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Warp a cutout (any channel count) into ``box``; bilinear, borders replicated.

    Cutouts carry a transparent border (see assets.PAD), so replicating keeps alpha at 0 outside
    while colour continues smoothly, which keeps feathered edges free of dark fringes.
    """
    x0, y0, x1, y1 = box
    shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
    M = shift @ H
    size = (x1 - x0, y1 - y0)
    if abs(M[2, 0]) < 1e-12 and abs(M[2, 1]) < 1e-12 and abs(M[2, 2] - 1) < 1e-12:
        return cv2.warpAffine(image, M[:2], size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.warpPerspective(image, M, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def clip_box(box: tuple[int, int, int, int], canvas_wh: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The in-canvas part of ``box`` as (x0, y0, x1, y1), or None when it misses the canvas."""
    W, H = canvas_wh
    x0, y0, x1, y1 = max(box[0], 0), max(box[1], 0), min(box[2], W), min(box[3], H)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1


def tight_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """COCO [x, y, w, h] of the True pixels of a 2-D mask (a single pixel gives w = h = 1)."""
    m = mask.view(np.uint8) if mask.dtype == np.bool_ else (mask != 0).view(np.uint8)
    x, y, w, h = cv2.boundingRect(m)  # of the non-zero pixels; ~4x numpy's any() per axis
    if w == 0:
        return None
    return x, y, w, h
