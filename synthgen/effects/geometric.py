"""Geometric effects on the whole image: rotation, perspective, crop-and-scale.

Each one is a 3x3 matrix applied to the image (bilinear) and to the instance-id map (nearest
neighbour) together; labels are then derived again from the warped map. All three zoom in as
needed so that every output pixel comes from inside the input: no empty borders, no invented
pixels, no reflected copies of objects without labels.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from synthgen.effects.base import Effect, Param, register
from synthgen.geometry import tight_box, warp_box
from synthgen.types import Layer


def _about_center(linear: np.ndarray, W: int, H: int) -> np.ndarray:
    c = np.array([[1, 0, (W - 1) / 2.0], [0, 1, (H - 1) / 2.0], [0, 0, 1]])
    ci = np.array([[1, 0, -(W - 1) / 2.0], [0, 1, -(H - 1) / 2.0], [0, 0, 1]])
    return c @ linear @ ci


@register
class Rotate(Effect):
    name = "rotate"
    family = "geometric"
    doc = (
        "Rotate the whole image by `angle` degrees, either way (a random `direction`), "
        "zoomed just enough to leave no empty corners."
    )
    params = {"angle": Param(0.0, 45.0, "size of the rotation in degrees")}
    severities = (
        {"angle": (2, 4)},
        {"angle": (4, 7)},
        {"angle": (7, 10)},
        {"angle": (10, 15)},
        {"angle": (15, 22)},
    )
    geometric = True
    per_object = False

    @classmethod
    def sample_extra(cls, params, rng, canvas_wh):
        return {"direction": 1 if rng.random() < 0.5 else -1}

    @classmethod
    def matrix(cls, params: dict[str, Any], canvas_wh: tuple[int, int]) -> np.ndarray:
        W, H = canvas_wh
        t = math.radians(params["angle"] * params.get("direction", 1))
        c, s = abs(math.cos(t)), abs(math.sin(t))
        # zoom so the rotated frame covers the whole output
        zoom = max((W * c + H * s) / W, (W * s + H * c) / H)
        ct, st = math.cos(t) * zoom, math.sin(t) * zoom
        return _about_center(np.array([[ct, st, 0], [-st, ct, 0], [0, 0, 1.0]]), W, H)


@register
class Perspective(Effect):
    name = "perspective"
    family = "geometric"
    doc = "A camera tilt: a random quadrilateral inside the image is stretched to fill the frame."
    params = {"strength": Param(0.0, 0.3, "largest inward corner shift, as a fraction of the size")}
    severities = (
        {"strength": (0.02, 0.03)},
        {"strength": (0.04, 0.05)},
        {"strength": (0.06, 0.08)},
        {"strength": (0.09, 0.11)},
        {"strength": (0.12, 0.15)},
    )
    geometric = True
    per_object = False

    @classmethod
    def sample_extra(cls, params, rng, canvas_wh):
        return {"corners": [float(v) for v in rng.uniform(0.0, 1.0, size=8)]}

    @classmethod
    def matrix(cls, params: dict[str, Any], canvas_wh: tuple[int, int]) -> np.ndarray:
        W, H = canvas_wh
        s = params["strength"]
        u = np.asarray(params["corners"], np.float64).reshape(4, 2) * s * np.array([W, H])
        frame = np.array([[0, 0], [W - 1, 0], [W - 1, H - 1], [0, H - 1]], np.float64)
        inward = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], np.float64)
        src = frame + inward * u
        return cv2.getPerspectiveTransform(src.astype(np.float32), frame.astype(np.float32)).astype(np.float64)


@register
class CropScale(Effect):
    name = "crop_scale"
    family = "geometric"
    doc = "Zoom into a random window covering `scale` of each side, resized to the full frame."
    params = {"scale": Param(0.3, 1.0, "window side as a fraction of the frame side")}
    severities = (
        {"scale": (0.9, 0.95)},
        {"scale": (0.8, 0.88)},
        {"scale": (0.7, 0.78)},
        {"scale": (0.6, 0.68)},
        {"scale": (0.5, 0.58)},
    )
    geometric = True
    per_object = False

    @classmethod
    def sample_extra(cls, params, rng, canvas_wh):
        return {"x": float(rng.uniform()), "y": float(rng.uniform())}

    @classmethod
    def matrix(cls, params: dict[str, Any], canvas_wh: tuple[int, int]) -> np.ndarray:
        W, H = canvas_wh
        s = params["scale"]
        x0, y0 = params["x"] * W * (1 - s), params["y"] * H * (1 - s)
        z = 1.0 / s
        return np.array([[z, 0, -x0 * z], [0, z, -y0 * z], [0, 0, 1.0]])


def _warp(a: np.ndarray, M: np.ndarray, size: tuple[int, int], flags: int, border: int) -> np.ndarray:
    if abs(M[2, 0]) < 1e-12 and abs(M[2, 1]) < 1e-12:
        return cv2.warpAffine(a, (M / M[2, 2])[:2], size, flags=flags, borderMode=border, borderValue=0)
    return cv2.warpPerspective(a, M, size, flags=flags, borderMode=border, borderValue=0)


def warp_scene(
    image: np.ndarray, id_map: np.ndarray, layers: tuple[Layer, ...], M: np.ndarray
) -> tuple[np.ndarray, np.ndarray, tuple[Layer, ...]]:
    """Apply one matrix to the image, the id map and every object's silhouette.

    The id map and each in-frame silhouette go through the very same nearest-neighbour warp,
    so a visible pixel stays inside its silhouette. Whole silhouettes (including parts outside
    the frame) are warped on their own, for the amodal box and area.
    """
    H, W = id_map.shape
    size = (W, H)
    image = _warp(image, M, size, cv2.INTER_LINEAR, cv2.BORDER_REFLECT)
    id_map = _warp(id_map, M, size, cv2.INTER_NEAREST, cv2.BORDER_CONSTANT)
    out = []
    for layer in layers:
        inframe = np.zeros((H, W), np.uint8)
        y0, y1, x0, x1 = layer.roi
        inframe[y0:y1, x0:x1] = layer.amodal_mask
        inframe = _warp(inframe, M, size, cv2.INTER_NEAREST, cv2.BORDER_CONSTANT).astype(bool)
        ox, oy = layer.full_origin
        fh, fw = layer.full_mask.shape
        Mf = M @ np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1.0]])
        box = warp_box(Mf, (fw, fh), margin=1)
        shift = np.array([[1, 0, -box[0]], [0, 1, -box[1]], [0, 0, 1.0]])
        full = _warp(
            layer.full_mask.astype(np.uint8), shift @ Mf, (box[2] - box[0], box[3] - box[1]),
            cv2.INTER_NEAREST, cv2.BORDER_CONSTANT,
        ).astype(bool)
        area = max(int(np.count_nonzero(full)), int(np.count_nonzero(inframe)))
        tb = tight_box(full) or (0, 0, 0, 0)
        out.append(
            Layer(
                instance_id=layer.instance_id,
                roi=(0, H, 0, W),
                amodal_mask=inframe,
                amodal_area=area,
                amodal_bbox=(tb[0] + box[0], tb[1] + box[1], tb[2], tb[3]),
                full_mask=full,
                full_origin=(box[0], box[1]),
            )
        )
    return image, id_map, tuple(out)


__all__ = ["CropScale", "Perspective", "Rotate", "warp_scene"]
