"""The effect protocol and registry.

An effect has named parameters with hard bounds, five severity levels (each a documented range
per parameter, in the spirit of ImageNet-C: "fog 3" is the same distribution in every run), a
``sample`` step that turns ranges and a generator into plain JSON-ready parameters, and an
``apply`` step that is a pure function of (image, parameters). Randomness that ``apply`` needs
(noise fields, streak positions) is drawn in ``sample`` as an integer ``seed`` parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

Ranges = dict[str, tuple[float, float]]


@dataclass(frozen=True)
class Param:
    lo: float  # hard bounds for any value a user may give
    hi: float
    doc: str
    integer: bool = False


class Effect:
    """Base class; subclasses set the class attributes and override ``apply``."""

    name: ClassVar[str]
    family: ClassVar[str]  # lighting | weather | blur | camera | geometric
    doc: ClassVar[str]
    params: ClassVar[dict[str, Param]]
    severities: ClassVar[tuple[Ranges, Ranges, Ranges, Ranges, Ranges]]  # levels 1..5
    geometric: ClassVar[bool] = False  # moves pixels: applied to the id map too, labels re-derived
    per_object: ClassVar[bool] = True  # may be applied to a single pasted object
    seeded: ClassVar[bool] = False  # apply() needs randomness: a recorded `seed` parameter is drawn

    @classmethod
    def sample(cls, ranges: Ranges, rng: np.random.Generator, canvas_wh: tuple[int, int]) -> dict[str, Any]:
        """Draw one value per parameter from ``ranges`` (ints where the parameter is integer)."""
        out: dict[str, Any] = {}
        for key, spec in cls.params.items():
            lo, hi = ranges[key]
            if spec.integer:
                out[key] = int(rng.integers(int(round(lo)), int(round(hi)) + 1))
            else:
                out[key] = float(lo if lo == hi else rng.uniform(lo, hi))
        if cls.seeded:
            out["seed"] = seed_param(rng)
        out.update(cls.sample_extra(out, rng, canvas_wh))
        return out

    @classmethod
    def sample_extra(cls, params: dict[str, Any], rng: np.random.Generator, canvas_wh: tuple[int, int]) -> dict[str, Any]:
        """Extra random choices (positions, a noise seed); JSON-ready values only."""
        return {}

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """RGB uint8 H x W x 3 in, a new RGB uint8 array of the same shape out. No randomness."""
        raise NotImplementedError

    @classmethod
    def apply_alpha(cls, alpha: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """For per-object use: how the object's alpha (uint8 H x W) changes. Blurs smear it."""
        return alpha

    @classmethod
    def margin(cls, params: dict[str, Any]) -> int:
        """Pixels a per-object application may spread beyond the object."""
        return 0

    @classmethod
    def matrix(cls, params: dict[str, Any], canvas_wh: tuple[int, int]) -> np.ndarray:
        """Geometric effects: the 3x3 matrix from input to output pixel coordinates."""
        raise NotImplementedError


REGISTRY: dict[str, type[Effect]] = {}


def register(cls: type[Effect]) -> type[Effect]:
    if cls.name in REGISTRY:
        raise ValueError(f"effect {cls.name!r} is registered twice ({REGISTRY[cls.name].__name__}, {cls.__name__})")
    missing = [f"severity {i + 1}: {sorted(set(cls.params) - set(s))}" for i, s in enumerate(cls.severities) if set(s) != set(cls.params)]
    if len(cls.severities) != 5 or missing:
        raise ValueError(f"effect {cls.name!r} needs 5 severity levels covering every parameter: {missing}")
    REGISTRY[cls.name] = cls
    return cls


def seed_param(rng: np.random.Generator) -> int:
    """A seed for randomness inside ``apply`` (kept as a parameter, so it is recorded)."""
    return int(rng.integers(0, 2**31 - 1))



def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)


def luminance(image: np.ndarray) -> np.ndarray:
    """Rec. 601 luma in [0, 255], float32 H x W."""
    f = image.astype(np.float32)
    return f[..., 0] * 0.299 + f[..., 1] * 0.587 + f[..., 2] * 0.114
