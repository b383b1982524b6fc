"""Weather: fog, rain, snow, sun flare / glare."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from synthgen.effects import functional as F
from synthgen.effects import specs
from synthgen.effects.base import Effect


def _fallen(layer: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """A precipitation layer moved by ``params["shift"]`` ([dx, dy] whole pixels, wrapping
    round: the drops of a clip's later frame); without it, the layer as drawn."""
    shift = params.get("shift")
    return np.roll(layer, (int(shift[1]), int(shift[0])), axis=(0, 1)) if shift else layer


class Fog(Effect):
    """Haze that thickens towards the top of the frame, patchy (see ``functional.fog``)."""

    spec = specs.FOG

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return F.fog(image, params["density"], params["airlight"], params["patchiness"], params["seed"])


class Rain(Effect):
    """Falling rain seen by a camera: thin bright streaks (motion-blurred during the exposure),
    near drops longer and brighter than far ones, added to a scene that is darker, slightly
    softer and lower in contrast (wet surfaces, water in the air)."""

    spec = specs.RAIN

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        streaks = F.rain_streaks(image.shape[:2], params["density"], params["length"], params["angle"], params["seed"])
        return F.rain(image, params["darkening"], _fallen(streaks, params))


class Snow(Effect):
    """Falling snow: many small flakes (slightly streaked by their fall during the exposure) and
    fewer large soft flakes close to the camera, over a whitened, lower-contrast scene."""

    spec = specs.SNOW

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        flakes = F.snow_flakes(image.shape[:2], params["density"], params["angle"], params["seed"])
        return F.snow(image, params["haze"], _fallen(flakes, params))


class SunFlare(Effect):
    """Sun glare: a bright warm glow (saturated core, wide halo with faint rays) at a point in the
    upper part of the frame, a veil of scattered light over everything, and a few faint coloured
    ghost discs (lens reflections) along the line from the sun through the frame centre. All
    light is screen-blended, so it brightens without exceeding white."""

    spec = specs.SUN_FLARE

    @classmethod
    def sample_extra(cls, params, rng, canvas_wh):
        ghosts = []
        for _ in range(int(rng.integers(3, 6))):
            tint = rng.uniform(0.5, 1.0, 3)
            ghosts.append(
                [float(rng.uniform(0.3, 2.1)), float(rng.uniform(0.015, 0.06)), float(rng.uniform(0.12, 0.28))]
                + [float(c) for c in tint]
            )
        return {
            "x": float(rng.uniform(0.1, 0.9)),
            "y": float(rng.uniform(0.03, 0.35)),
            "rays": int(rng.integers(5, 9)),
            "ray_phase": float(rng.uniform(0, 2 * math.pi)),
            "ghosts": ghosts,  # [t along the sun-centre line (1 = centre), radius, opacity, r, g, b]
        }

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        light = F.flare_light(
            image.shape[:2], params["radius"], params["intensity"], params["x"], params["y"],
            params["rays"], params["ray_phase"], params.get("ghosts", []),
        )
        return F.add_light(image, light)


EFFECTS = (Fog, Rain, Snow, SunFlare)
