"""Lighting: brightness, contrast, gamma, colour temperature, light gradients, night."""

from __future__ import annotations

from typing import Any

import numpy as np

from synthgen.effects import functional as F
from synthgen.effects import specs
from synthgen.effects.base import Effect, seed_param


class Brightness(Effect):
    spec = specs.BRIGHTNESS

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.brightness(image, params["factor"])


class Contrast(Effect):
    spec = specs.CONTRAST

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.contrast(image, params["factor"])


class Gamma(Effect):
    spec = specs.GAMMA

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.gamma(image, params["gamma"])


class ColorTemperature(Effect):
    spec = specs.COLOR_TEMPERATURE

    @classmethod
    def sample_extra(cls, params, rng, canvas_wh):
        # the ranges give the magnitude; warm or cool is an even coin flip
        return {"shift": abs(params["shift"]) * (1.0 if rng.random() < 0.5 else -1.0)}

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.color_temperature(image, params["shift"])


class LightGradient(Effect):
    spec = specs.LIGHT_GRADIENT

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.light_gradient(image, params["strength"], params["angle"])


# colours of night-time light sources: sodium street lamp, warm window, white LED
LIGHT_COLOURS = ((255, 160, 70), (255, 205, 130), (235, 240, 255))


class Night(Effect):
    """Day-for-night, with a few glowing light sources (street lamps, windows) placed in the
    upper two thirds of the frame."""

    spec = specs.NIGHT

    @classmethod
    def sample_extra(cls, params, rng, canvas_wh):
        glows = []
        for _ in range(int(rng.integers(0, int(params["lights"]) + 1))):
            x, y = rng.uniform(0.03, 0.97), rng.uniform(0.03, 0.67)
            size = rng.uniform(0.004, 0.012)
            r, g, b = LIGHT_COLOURS[int(rng.integers(len(LIGHT_COLOURS)))]
            glows.append([float(x), float(y), float(size), r, g, b])
        return {"seed": seed_param(rng), "glows": glows}

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.night(image, params["darkness"], params["seed"], params.get("glows"))


EFFECTS = (Brightness, Contrast, Gamma, ColorTemperature, LightGradient, Night)
