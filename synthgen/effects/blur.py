"""Blur: motion blur, defocus, gaussian. All of them can also be applied to single objects."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from synthgen.effects import functional as F
from synthgen.effects import specs
from synthgen.effects.base import Effect


class MotionBlur(Effect):
    spec = specs.MOTION_BLUR

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.motion_blur(image, int(params["length"]), float(params["angle"]))

    @classmethod
    def apply_to_alpha(cls, alpha: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.motion_blur(alpha, int(params["length"]), float(params["angle"]))

    @classmethod
    def margin(cls, params: dict[str, Any]) -> int:
        return int(params["length"]) // 2 + 1


class Defocus(Effect):
    spec = specs.DEFOCUS

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.defocus(image, float(params["radius"]))

    @classmethod
    def apply_to_alpha(cls, alpha: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.defocus(alpha, float(params["radius"]))

    @classmethod
    def margin(cls, params: dict[str, Any]) -> int:
        return int(math.ceil(float(params["radius"]))) + 1


class GaussianBlur(Effect):
    spec = specs.GAUSSIAN_BLUR

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.gaussian_blur(image, float(params["sigma"]))

    @classmethod
    def apply_to_alpha(cls, alpha: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.gaussian_blur(alpha, float(params["sigma"]))

    @classmethod
    def margin(cls, params: dict[str, Any]) -> int:
        return int(math.ceil(3.0 * float(params["sigma"]))) + 1


EFFECTS = (MotionBlur, Defocus, GaussianBlur)
