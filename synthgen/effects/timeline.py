"""A clip's whole-image conditions at each frame: drawn once per clip, then moved smoothly.

``conditions_at`` takes the effects a clip's scene index draws (the same for every frame, so
nothing flickers) and returns them as they are at frame ``t``:

- falling precipitation (``fall``): rain streaks and snow flakes move along their own fall
  direction (``(sin a, cos a)`` for the effect's ``angle`` a, image y down) by ``RAIN_FALL`` /
  ``SNOW_FALL`` frame heights per second, as a ``shift`` parameter in whole pixels (the layer
  wraps round);
- sensor noise (``grain``): the noise of ``GRAIN`` effects (gaussian and ISO noise, night's
  grain) is drawn anew each frame, as a camera's is: frame ``t`` > 0 replaces the effect's
  recorded ``seed`` by a function of it and ``t`` (frame 0 keeps the one drawn), so the noise
  changes while its strength, and everything else, stays;
- slow drift (``drift`` > 0): each parameter of ``DRIFT`` (fog density, night darkness,
  brightness factor) is ``value * (1 + drift * w(t))``, with
  ``w(t) = (sin(2 pi s / period + phase) - sin(phase)) / 2`` (``s`` seconds; ``w`` is 0 at frame 0
  and within [-1, 1]), period and phase drawn per clip and effect; kept within the parameter's
  documented bounds.

Every value is recorded in the frame's conditions like any other effect parameter.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from synthgen.effects.pipeline import AppliedEffect
from synthgen.effects.specs import SPECS
from synthgen.rng import Stream, image_rng

RAIN_FALL = 3.0  # frame heights per second
SNOW_FALL = 0.15
FALLING = {"rain": RAIN_FALL, "snow": SNOW_FALL}
DRIFT = {"fog": "density", "night": "darkness", "brightness": "factor"}
GRAIN = ("gaussian_noise", "iso_noise", "night")  # their `seed` only draws sensor noise


@dataclasses.dataclass(frozen=True)
class Drift:
    period: float  # seconds
    phase: float

    def w(self, seconds: float) -> float:
        return (math.sin(2 * math.pi * seconds / self.period + self.phase) - math.sin(self.phase)) / 2.0


def sample_drifts(effects: tuple[AppliedEffect, ...], seed: int, clip: int, period: tuple[float, float]) -> tuple[Drift | None, ...]:
    """One slow drift per applied effect that has a drifting parameter (None for the others)."""
    out = []
    for n, a in enumerate(effects):
        if a.name not in DRIFT:
            out.append(None)
            continue
        rng = image_rng(seed, clip, Stream.CLIPS, 0, 3, n)
        out.append(Drift(float(rng.uniform(*period)), float(rng.uniform(0.0, 2 * math.pi))))
    return tuple(out)


def frame_seed(seed: int, t: int) -> int:
    """The noise seed of frame ``t`` of an effect whose recorded seed is ``seed`` (a seed_param)."""
    return int(np.random.SeedSequence(entropy=seed, spawn_key=(t,)).generate_state(1)[0] % (2**31 - 1))


def conditions_at(
    effects: tuple[AppliedEffect, ...], drifts: tuple[Drift | None, ...], t: int, fps: float, canvas_wh: tuple[int, int],
    *, fall: bool, drift: float, grain: bool = False,
) -> tuple[AppliedEffect, ...]:
    seconds = t / fps
    out = []
    for a, d in zip(effects, drifts):
        params = a.params
        if fall and a.name in FALLING and t:
            angle = math.radians(float(params["angle"]))
            dist = FALLING[a.name] * canvas_wh[1] * seconds
            params = dict(params, shift=[int(round(dist * math.sin(angle))), int(round(dist * math.cos(angle)))])
        if grain and a.name in GRAIN and t:
            params = dict(params, seed=frame_seed(int(params["seed"]), t))
        if drift > 0 and d is not None:
            key = DRIFT[a.name]
            bound = SPECS[a.name].params[key]
            value = float(params[key]) * (1.0 + drift * d.w(seconds))
            params = dict(params, **{key: min(max(value, bound.lo), bound.hi)})
        out.append(a if params is a.params else dataclasses.replace(a, params=params))
    return tuple(out)
