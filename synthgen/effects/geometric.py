"""Geometric effects on the whole frame: rotation, perspective, crop-and-scale.

Each one is a 3x3 matrix from input to output pixel coordinates, applied to the image
(bilinear), the instance-id map (nearest neighbour) and every layer's masks together; labels
are then derived again from the warped map. All three zoom in as needed so that every output
pixel comes from inside the input: no empty borders, no invented pixels, no reflected copies of
objects without labels.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from synthgen.effects import functional as F
from synthgen.effects import specs
from synthgen.effects.base import Effect
from synthgen.frame import Frame, Layer


def _about_center(linear: np.ndarray, W: int, H: int) -> np.ndarray:
    c = np.array([[1, 0, (W - 1) / 2.0], [0, 1, (H - 1) / 2.0], [0, 0, 1]])
    ci = np.array([[1, 0, -(W - 1) / 2.0], [0, 1, -(H - 1) / 2.0], [0, 0, 1]])
    return c @ linear @ ci


class GeometricEffect(Effect):
    """An effect that is one matrix: subclasses implement ``matrix``."""

    @classmethod
    def matrix(cls, params: dict[str, Any], canvas_wh: tuple[int, int]) -> np.ndarray:
        """The 3x3 matrix from input to output pixel coordinates."""
        raise NotImplementedError

    @classmethod
    def apply(cls, frame: Frame, params: dict[str, Any]) -> Frame:
        return warp_frame(frame, cls.matrix(params, frame.size_wh))

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        H, W = image.shape[:2]
        return F.warp_image(image, cls.matrix(params, (W, H)))


class Rotate(GeometricEffect):
    spec = specs.ROTATE

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


class Perspective(GeometricEffect):
    spec = specs.PERSPECTIVE

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


class CropScale(GeometricEffect):
    spec = specs.CROP_SCALE

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


EFFECTS = (Rotate, Perspective, CropScale)


def warp_layer(layer: Layer, M: np.ndarray, source: F.SourcePixels) -> Layer:
    """One layer moved by ``M``, each mask warped from its region into its new region.

    ``source`` is ``SourcePixels.of(M, frame size)``: the in-frame
    silhouette is read through it, so it takes exactly the pixels the id map's own warp takes
    (a visible pixel stays inside its silhouette). The whole silhouette, partly outside the
    frame, is warped on its own; only its part outside the frame counts (see Layer).
    """
    H, W = source.shape
    roi = F.warped_roi(M, layer.roi, (W, H))
    if roi is None:
        roi, inframe = (0, 0, 0, 0), np.zeros((0, 0), bool)
    else:
        inframe = F.gather_roi_mask(layer.inframe_mask, layer.roi, source, roi)
    whole, origin = (None, (0, 0)) if layer.whole_mask is None else F.warp_whole_mask(layer.whole_mask, layer.whole_origin, M)
    return Layer(
        instance_id=layer.instance_id,
        roi=roi,
        inframe_mask=inframe,
        whole_mask=whole,
        whole_origin=origin,
        frame_wh=(W, H),
    )


def warp_frame(frame: Frame, M: np.ndarray) -> Frame:
    """Apply one matrix to the image, the id map and every object's masks."""
    size = frame.size_wh
    source = F.SourcePixels.of(M, size)
    return Frame(
        image=F.warp_image(frame.image, M),
        id_map=F.warp_labels(frame.id_map, M, size),
        layers=tuple(warp_layer(layer, M, source) for layer in frame.layers),
    )
