"""Lighting: brightness, contrast, gamma, colour temperature, light gradients, night."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from synthgen.effects.base import Effect, Param, register


def _lut(values: np.ndarray) -> np.ndarray:
    return np.clip(values + 0.5, 0, 255).astype(np.uint8)


@register
class Brightness(Effect):
    name = "brightness"
    family = "lighting"
    doc = "Multiply every pixel by `factor` (<1 darker, >1 brighter)."
    params = {"factor": Param(0.05, 3.0, "multiplier of pixel values")}
    severities = (
        {"factor": (0.85, 0.9)},
        {"factor": (0.7, 0.8)},
        {"factor": (0.55, 0.65)},
        {"factor": (0.4, 0.5)},
        {"factor": (0.25, 0.35)},
    )

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return cv2.LUT(image, _lut(np.arange(256, dtype=np.float32) * params["factor"]))
