"""Blur: motion blur, defocus, gaussian. All of them can also be applied to single objects."""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from synthgen.effects.base import Effect, Param, register


def motion_blur(image: np.ndarray, length: int, angle: float) -> np.ndarray:
    """Blur along a line ``length`` px long at ``angle`` degrees.

    Short kernels go straight to filter2D; long ones (where OpenCV would switch to a DFT) rotate
    the image so the motion is horizontal, box-blur the rows and rotate back.
    """
    if length <= 1:
        return image.copy()
    if length <= 11:
        k = np.zeros((length, length), np.float32)
        k[length // 2, :] = 1.0
        R = cv2.getRotationMatrix2D(((length - 1) / 2.0, (length - 1) / 2.0), angle, 1.0)
        k = cv2.warpAffine(k, R, (length, length), flags=cv2.INTER_LINEAR)
        k /= max(float(k.sum()), 1e-6)
        return cv2.filter2D(image, -1, k, borderType=cv2.BORDER_REFLECT)
    H, W = image.shape[:2]
    D = int(math.ceil(math.hypot(W, H))) + length
    R = cv2.getRotationMatrix2D((W / 2.0, H / 2.0), -angle, 1.0)
    R[:, 2] += ((D - W) / 2.0, (D - H) / 2.0)
    big = cv2.warpAffine(image, R, (D, D), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    big = cv2.blur(big, (length, 1), borderType=cv2.BORDER_REFLECT)
    return cv2.warpAffine(big, R, (W, H), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)


@register
class MotionBlur(Effect):
    name = "motion_blur"
    family = "blur"
    doc = "Camera or object motion: a line blur of `length` pixels at `angle` degrees."
    params = {
        "length": Param(1, 101, "blur length in pixels", integer=True),
        "angle": Param(-180.0, 180.0, "direction in degrees (0 = horizontal)"),
    }
    severities = (
        {"length": (5, 5), "angle": (-180, 180)},
        {"length": (9, 9), "angle": (-180, 180)},
        {"length": (15, 15), "angle": (-180, 180)},
        {"length": (21, 21), "angle": (-180, 180)},
        {"length": (29, 29), "angle": (-180, 180)},
    )

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return motion_blur(image, int(params["length"]), float(params["angle"]))

    @classmethod
    def apply_alpha(cls, alpha: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return motion_blur(alpha, int(params["length"]), float(params["angle"]))

    @classmethod
    def margin(cls, params: dict[str, Any]) -> int:
        return int(params["length"]) // 2 + 1
