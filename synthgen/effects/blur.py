"""Blur: motion blur, defocus, gaussian. All of them can also be applied to single objects."""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=64)
def disk_kernel(radius: float) -> np.ndarray:
    """Normalised anti-aliased disk (an ideal defocus / bokeh point spread) of ``radius`` px."""
    r = max(float(radius), 0.5)
    half = int(math.ceil(r - 0.5))
    ss = 8  # supersampling per pixel for the edge coverage
    c = (np.arange((2 * half + 1) * ss, dtype=np.float32) + 0.5) / ss - (half + 0.5)
    inside = (c[None, :] ** 2 + c[:, None] ** 2 <= r * r).astype(np.float32)
    k = inside.reshape(2 * half + 1, ss, 2 * half + 1, ss).mean(axis=(1, 3))
    k /= k.sum()
    k.flags.writeable = False
    return k


def defocus(image: np.ndarray, radius: float) -> np.ndarray:
    """Disk blur of ``radius`` px (uint8, any channel count). Kernels up to 11x11 run directly in
    float32 (OpenCV's direct path; it would switch to a slow DFT above that); larger radii are
    blurred at an integer-reduced resolution with radius <= 5 and upsampled."""
    if radius < 0.5:
        return image.copy()
    H, W = image.shape[:2]
    s = max(1, int(math.ceil(radius / 5.0)))
    if s > 1:
        small = cv2.resize(image, (max(1, round(W / s)), max(1, round(H / s))), interpolation=cv2.INTER_AREA)
    else:
        small = image
    out = cv2.filter2D(small.astype(np.float32), -1, disk_kernel(round(radius / s, 3)), borderType=cv2.BORDER_REFLECT)
    if s > 1:
        out = cv2.resize(out, (W, H), interpolation=cv2.INTER_LINEAR)
    out = cv2.convertScaleAbs(out)
    return out.reshape(image.shape)


@register
class Defocus(Effect):
    name = "defocus"
    family = "blur"
    doc = "Out-of-focus lens blur: a disk (bokeh) kernel of `radius` pixels."
    params = {"radius": Param(0.0, 40.0, "radius of the blur disk in pixels")}
    severities = (
        {"radius": (1.3, 1.7)},
        {"radius": (2.2, 2.8)},
        {"radius": (3.4, 4.2)},
        {"radius": (5.0, 6.0)},
        {"radius": (7.0, 8.5)},
    )

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return defocus(image, float(params["radius"]))

    @classmethod
    def apply_alpha(cls, alpha: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return defocus(alpha, float(params["radius"]))

    @classmethod
    def margin(cls, params: dict[str, Any]) -> int:
        return int(math.ceil(float(params["radius"]))) + 1


@register
class GaussianBlur(Effect):
    name = "gaussian_blur"
    family = "blur"
    doc = "Soft, featureless blur: a gaussian of standard deviation `sigma` pixels."
    params = {"sigma": Param(0.0, 30.0, "gaussian standard deviation in pixels")}
    severities = (
        {"sigma": (0.6, 0.8)},
        {"sigma": (1.1, 1.4)},
        {"sigma": (1.8, 2.2)},
        {"sigma": (2.8, 3.3)},
        {"sigma": (4.2, 5.0)},
    )

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return gaussian_blur(image, float(params["sigma"]))

    @classmethod
    def apply_alpha(cls, alpha: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return gaussian_blur(alpha, float(params["sigma"]))

    @classmethod
    def margin(cls, params: dict[str, Any]) -> int:
        return int(math.ceil(3.0 * float(params["sigma"]))) + 1


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0.0:
        return image.copy()
    return cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
