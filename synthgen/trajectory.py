"""The motion of a clip's objects: trajectories, and the motion blur they leave in one exposure.

Pure functions of recorded numbers (no pixels): ``clips`` samples them once per clip and asks
for any frame ``t``. Units are canvas pixels and degrees per frame (ranges are per second,
divided by the frame rate when sampled).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from synthgen.rng import Stream, image_rng, seeded_rng
from synthgen.types import Placement

# trajectory ranges, per second (divided by fps per frame); lengths as shares of the canvas' shorter side
SPEED = (0.03, 0.25)  # constant velocity
JITTER = 0.004  # random walk: standard deviation of the position after one second
GROWTH = (-0.15, 0.15)  # log scale change: scale(t) = scale(0) * exp(growth * seconds)
SPIN = (-6.0, 6.0)  # rotation drift, degrees
MAX_BLUR = 101  # the motion_blur effect's longest kernel


@dataclass(frozen=True)
class Track:
    """The motion of one placement over a clip, in canvas pixels and degrees per frame."""

    instance_id: int
    velocity: tuple[float, float]
    jitter: float  # standard deviation of one frame's random-walk step
    jitter_seed: int
    growth: float  # log scale per frame
    spin: float  # degrees per frame

    def offset(self, t: int) -> tuple[float, float]:
        """Displacement of the centre at frame ``t`` from frame 0. Before frame 0 the object
        moves as it does after it, mirrored through frame 0 (``offset(-t) = -offset(t)``), so
        that frame 0 has a velocity too."""
        if t < 0:
            dx, dy = self.offset(-t)
            return (-dx, -dy)
        walk = seeded_rng(self.jitter_seed).normal(0.0, self.jitter, size=(t, 2)).sum(axis=0) if t else np.zeros(2)
        return (self.velocity[0] * t + float(walk[0]), self.velocity[1] * t + float(walk[1]))

    def move(self, p: Placement, t: int) -> Placement:
        dx, dy = self.offset(t)
        return dataclasses.replace(
            p,
            center=(p.center[0] + dx, p.center[1] + dy),
            scale=p.scale * math.exp(self.growth * t),
            rotation=p.rotation + self.spin * t,
        )


def sample_track(seed: int, clip: int, p: Placement, canvas_wh: tuple[int, int], fps: float) -> Track:
    rng = image_rng(seed, clip, Stream.CLIPS, p.instance_id)
    side = min(canvas_wh)
    angle = float(rng.uniform(0.0, 2.0 * math.pi))
    speed = float(rng.uniform(*SPEED)) * side / fps
    return Track(
        instance_id=p.instance_id,
        velocity=(speed * math.cos(angle), speed * math.sin(angle)),
        jitter=JITTER * side / math.sqrt(fps),
        jitter_seed=int(rng.integers(2**32)),
        growth=float(rng.uniform(*GROWTH)) / fps,
        spin=float(rng.uniform(*SPIN)) / fps,
    )


def exposure_displacement(
    before: tuple[float, float], now: tuple[float, float], after: tuple[float, float], shutter: float
) -> tuple[float, float]:
    """How far a point moves while the shutter is open, centred on the frame's instant: the
    position is linear between frames, so over ``[t - s/2, t + s/2]`` (``s`` = shutter, a share
    of the frame interval) it moves ``s/2`` of the way from frame t-1 to t plus ``s/2`` of the way
    from t to t+1."""
    half = shutter / 2.0
    return (half * (after[0] - before[0]), half * (after[1] - before[1]))


def blur_params(displacement: tuple[float, float]) -> dict[str, float] | None:
    """The ``motion_blur`` parameters of a displacement in image pixels: a line kernel as long as
    the pixels a point crosses (``round(|d|) + 1``, at most MAX_BLUR) at the displacement's angle
    in OpenCV's convention (degrees counter-clockwise from +x as displayed, y pointing down:
    ``atan2(-dy, dx)``); None when the point stays within its pixel."""
    dx, dy = displacement
    pixels = int(round(math.hypot(dx, dy)))
    if pixels < 1:
        return None
    return {"length": min(pixels + 1, MAX_BLUR), "angle": math.degrees(math.atan2(-dy, dx))}
