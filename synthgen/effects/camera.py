"""Camera: gaussian and ISO noise, JPEG artefacts, vignetting."""

from __future__ import annotations

from typing import Any

import numpy as np

from synthgen.effects.base import Effect, Param, register, seed_param


@register
class GaussianNoise(Effect):
    name = "gaussian_noise"
    family = "camera"
    doc = "Additive gaussian sensor noise with standard deviation `sigma` (0-255 scale)."
    params = {"sigma": Param(0.0, 100.0, "noise standard deviation in grey levels")}
    severities = (
        {"sigma": (3, 4)},
        {"sigma": (6, 7)},
        {"sigma": (10, 11)},
        {"sigma": (15, 16)},
        {"sigma": (22, 24)},
    )

    @classmethod
    def sample_extra(cls, params, rng, canvas_wh):
        return {"seed": seed_param(rng)}

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        noise = np.random.default_rng(params["seed"]).standard_normal(image.shape, dtype=np.float32)
        return np.clip(image.astype(np.float32) + noise * params["sigma"] + 0.5, 0, 255).astype(np.uint8)
