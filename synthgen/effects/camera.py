"""Camera: gaussian and ISO noise, JPEG artefacts, vignetting."""

from __future__ import annotations

from typing import Any

import numpy as np

from synthgen.effects import functional as F
from synthgen.effects import specs
from synthgen.effects.base import Effect


class GaussianNoise(Effect):
    spec = specs.GAUSSIAN_NOISE

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.gaussian_noise(image, params["sigma"], params["seed"])


class IsoNoise(Effect):
    spec = specs.ISO_NOISE

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.iso_noise(image, params["amount"], params["chroma"], params["seed"])


class Jpeg(Effect):
    spec = specs.JPEG

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.jpeg(image, params["quality"])


class Vignette(Effect):
    spec = specs.VIGNETTE

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.vignette(image, params["strength"], params["falloff"])


EFFECTS = (GaussianNoise, IsoNoise, Jpeg, Vignette)
