"""The effect protocol: sample, then apply.

An effect class implements one declaration of :mod:`synthgen.effects.specs`. ``sample`` turns
the spec's ranges and a generator into plain JSON-ready parameters (every random choice becomes
a value before any pixel moves); ``apply`` is a pure function of (frame, parameters) that
returns a new frame. Photometric effects implement ``apply_to_image`` and leave the id map and
layers alone; geometric ones (``synthgen.effects.geometric``) move all three. The pixel work
itself lives in :mod:`synthgen.effects.functional`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from synthgen.effects.specs import EffectSpec, Ranges
from synthgen.frame import Frame


class Effect:
    """Base class; subclasses set ``spec`` and override ``apply_to_image`` (or ``apply``)."""

    spec: ClassVar[EffectSpec]

    @classmethod
    def sample(cls, ranges: Ranges, rng: np.random.Generator, canvas_wh: tuple[int, int]) -> dict[str, Any]:
        """Draw one value per parameter from ``ranges`` (ints where the parameter is integer)."""
        out: dict[str, Any] = {}
        for key, param in cls.spec.params.items():
            lo, hi = ranges[key]
            if param.integer:
                out[key] = int(rng.integers(int(round(lo)), int(round(hi)) + 1))
            else:
                out[key] = float(lo if lo == hi else rng.uniform(lo, hi))
        if cls.spec.seeded:
            out["seed"] = seed_param(rng)
        out.update(cls.sample_extra(out, rng, canvas_wh))
        return out

    @classmethod
    def sample_extra(cls, params: dict[str, Any], rng: np.random.Generator, canvas_wh: tuple[int, int]) -> dict[str, Any]:
        """Extra random choices (positions, a noise seed); JSON-ready values only."""
        return {}

    @classmethod
    def apply(cls, frame: Frame, params: dict[str, Any]) -> Frame:
        """The frame after the effect. Photometric: a new image, the same id map and layers."""
        return frame.with_image(cls.apply_to_image(frame.image, params))

    @classmethod
    def apply_to_image(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """RGB uint8 H x W x 3 in, a new RGB uint8 array of the same shape out. No randomness."""
        raise NotImplementedError

    @classmethod
    def apply_to_alpha(cls, alpha: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """For per-object use: how the object's alpha (uint8 H x W) changes. Blurs smear it, and
        the smeared alpha decides the object's label as well as its mixing (render)."""
        return alpha

    @classmethod
    def margin(cls, params: dict[str, Any]) -> int:
        """Pixels a per-object application may spread beyond the object."""
        return 0


def seed_param(rng: np.random.Generator) -> int:
    """A seed for randomness inside ``apply`` (kept as a parameter, so it is recorded)."""
    return int(rng.integers(0, 2**31 - 1))
