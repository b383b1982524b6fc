"""Weather: fog, rain, snow, sun flare / glare."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from synthgen.effects.base import Effect, Param, register, seed_param


@register
class Fog(Effect):
    """Atmospheric scattering: I = J * t + A * (1 - t), t = exp(-density * depth).

    Depth grows towards the top of the frame (a ground-level camera looks further away there);
    a smooth low-frequency noise field makes the fog patchy. Everything is computed on a coarse
    grid and upsampled, so the cost is a few milliseconds at 640x480.
    """

    name = "fog"
    family = "weather"
    doc = "Haze that thickens with distance (towards the top of the frame), with patchy density."
    params = {
        "density": Param(0.0, 6.0, "optical density at the far (top) edge"),
        "airlight": Param(0.0, 255.0, "grey level of the fog"),
        "patchiness": Param(0.0, 1.0, "how uneven the fog is"),
    }
    severities = (
        {"density": (0.25, 0.35), "airlight": (190, 215), "patchiness": (0.2, 0.4)},
        {"density": (0.5, 0.65), "airlight": (195, 220), "patchiness": (0.2, 0.4)},
        {"density": (0.9, 1.1), "airlight": (200, 225), "patchiness": (0.2, 0.4)},
        {"density": (1.4, 1.7), "airlight": (205, 230), "patchiness": (0.2, 0.4)},
        {"density": (2.2, 2.6), "airlight": (210, 235), "patchiness": (0.2, 0.4)},
    )
    per_object = False

    @classmethod
    def sample_extra(cls, params, rng, canvas_wh):
        return {"seed": seed_param(rng)}

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        H, W = image.shape[:2]
        gh, gw = 12, 16
        noise = np.random.default_rng(params["seed"]).standard_normal((gh, gw)).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), 1.5)
        noise /= max(float(np.abs(noise).max()), 1e-6)
        depth = np.linspace(1.0, 0.15, gh, dtype=np.float32)[:, None]  # top far, bottom near
        depth = depth * (1.0 + params["patchiness"] * noise)
        t = np.exp(-params["density"] * np.clip(depth, 0.0, None))
        t = cv2.resize(t, (W, H), interpolation=cv2.INTER_CUBIC)[..., None]
        a = params["airlight"]
        return np.clip(image.astype(np.float32) * t + a * (1.0 - t) + 0.5, 0, 255).astype(np.uint8)
