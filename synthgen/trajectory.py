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
    entry: int = 0  # the first frame the object is in the clip (> 0: it enters through an edge)

    def offset(self, t: int) -> tuple[float, float]:
        """Displacement of the centre ``t`` frames after the object's entry frame. Before it the
        object moves as it does after it, mirrored through it (``offset(-t) = -offset(t)``), so
        that the entry frame has a velocity too."""
        if t < 0:
            dx, dy = self.offset(-t)
            return (-dx, -dy)
        walk = seeded_rng(self.jitter_seed).normal(0.0, self.jitter, size=(t, 2)).sum(axis=0) if t else np.zeros(2)
        return (self.velocity[0] * t + float(walk[0]), self.velocity[1] * t + float(walk[1]))

    def move(self, p: Placement, t: int) -> Placement:
        """``p`` (the placement at the entry frame) at frame ``t`` of the clip."""
        dt = t - self.entry
        dx, dy = self.offset(dt)
        return dataclasses.replace(
            p,
            center=(p.center[0] + dx, p.center[1] + dy),
            scale=p.scale * math.exp(self.growth * dt),
            rotation=p.rotation + self.spin * dt,
        )


def sample_track(
    seed: int, clip: int, p: Placement, canvas_wh: tuple[int, int], fps: float, heading: tuple[float, float] | None = None
) -> Track:
    """The track of placement ``p`` (its own stream member, by instance id); ``heading``: a
    range of directions in radians (default: any)."""
    rng = image_rng(seed, clip, Stream.CLIPS, p.instance_id)
    side = min(canvas_wh)
    angle = float(rng.uniform(*(heading or (0.0, 2.0 * math.pi))))
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


# ---------------------------------------------------------------------------------------------
# camera

SHAKE_HZ = (1.0, 3.0)  # the frequencies of hand-held shake
MIN_VIEW = 8  # source pixels: the closest a zoom may get


@dataclass(frozen=True)
class Camera:
    """A slowly moving camera: frame ``t`` shows a crop of the clip's background source image.

    The view is described in the coordinates of frame 0's canvas: its centre moves with the
    pan velocity plus a shake (two sines, zero at frame 0), and its size shrinks by
    ``exp(zoom * seconds)``. Frame ``t``'s crop is that view in the source image, rounded to
    whole source pixels and kept inside the image (the camera stops at its edge; a zoom out
    stops at the whole image). Everything else in the frame follows the crop actually used:
    :meth:`transform` is the exact map from frame 0's canvas to frame ``t``'s, through the same
    rounded crop the background is cut with, so a still object stays on its spot of the ground.
    """

    canvas_wh: tuple[int, int]
    crop0: tuple[int, int, int, int]  # frame 0's background crop (x, y, w, h) in the source
    source_wh: tuple[int, int]
    flip: bool
    fps: float
    pan: tuple[float, float]  # frame-0 canvas pixels per second
    zoom: float  # log scale per second, > 0 zooms in
    shake: float  # amplitude, frame-0 canvas pixels
    shake_hz: tuple[float, float]
    shake_phase: tuple[float, float]

    def view(self, t: int) -> tuple[float, float, float]:
        """(centre x, centre y, zoom factor) of frame ``t``'s view, in frame 0's canvas."""
        s = t / self.fps
        W, H = self.canvas_wh
        wobble = [
            self.shake * (math.sin(2 * math.pi * hz * s + ph) - math.sin(ph)) for hz, ph in zip(self.shake_hz, self.shake_phase)
        ]
        return (W / 2 + self.pan[0] * s + wobble[0], H / 2 + self.pan[1] * s + wobble[1], math.exp(self.zoom * s))

    def crop(self, t: int) -> tuple[int, int, int, int]:
        """Frame ``t``'s background crop (x, y, w, h) in whole source pixels."""
        x0, y0, w0, h0 = self.crop0
        bw, bh = self.source_wh
        W, H = self.canvas_wh
        cx, cy, k = self.view(t)
        k = min(max(k, w0 / bw, h0 / bh), max(w0, h0) / MIN_VIEW)  # the whole image at most, a few pixels at least
        w, h = min(max(1, round(w0 / k)), bw), min(max(1, round(h0 / k)), bh)
        sx = x0 + (W - cx if self.flip else cx) * w0 / W  # the view's centre in the source
        sy = y0 + cy * h0 / H
        x = min(max(round(sx - w / 2), 0), bw - w)
        y = min(max(round(sy - h / 2), 0), bh - h)
        return (int(x), int(y), int(w), int(h))

    def transform(self, t: int) -> tuple[float, float, float, float]:
        """(ax, bx, ay, by): frame 0's canvas point (u, v) is at (ax u + bx, ay v + by) in frame ``t``."""
        x0, y0, w0, h0 = self.crop0
        x, y, w, h = self.crop(t)
        W, H = self.canvas_wh
        ax, ay = w0 / w, h0 / h
        bx = (x0 - x) * W / w
        if self.flip:  # mirrored canvas: u -> W - u on both sides of the same map
            bx = W - bx - ax * W
        return (ax, bx, ay, (y0 - y) * H / h)

    def move(self, p: Placement, t: int) -> Placement:
        """A placement given in frame 0's canvas, as frame ``t``'s camera sees it."""
        ax, bx, ay, by = self.transform(t)
        return dataclasses.replace(
            p, center=(ax * p.center[0] + bx, ay * p.center[1] + by), scale=p.scale * math.sqrt(ax * ay)
        )

    def point(self, xy: tuple[float, float], t: int) -> tuple[float, float]:
        ax, bx, ay, by = self.transform(t)
        return (ax * xy[0] + bx, ay * xy[1] + by)

    def to_dict(self) -> dict:
        return {"pan": list(self.pan), "zoom": self.zoom, "shake": self.shake, "shake_hz": list(self.shake_hz),
                "shake_phase": list(self.shake_phase)}


def sample_camera(cfg, seed: int, clip: int, canvas_wh: tuple[int, int], crop0, source_wh, flip: bool, fps: float) -> Camera | None:
    """The camera of clip ``clip`` (``cfg``: the config's ``clips.camera``); None: it stands still."""
    rng = image_rng(seed, clip, Stream.CLIPS, 0, 0)  # key 0: no instance has id 0
    if not rng.random() < cfg.p:
        return None
    W, _ = canvas_wh
    speed = float(rng.uniform(*cfg.pan)) * W
    direction = float(rng.uniform(0.0, 2.0 * math.pi))
    return Camera(
        canvas_wh=tuple(canvas_wh),
        crop0=tuple(crop0),
        source_wh=tuple(source_wh),
        flip=flip,
        fps=fps,
        pan=(speed * math.cos(direction), speed * math.sin(direction)),
        zoom=float(rng.uniform(*cfg.zoom)),
        shake=float(rng.uniform(*cfg.shake)) * W,
        shake_hz=(float(rng.uniform(*SHAKE_HZ)), float(rng.uniform(*SHAKE_HZ))),
        shake_phase=(float(rng.uniform(0, 2 * math.pi)), float(rng.uniform(0, 2 * math.pi))),
    )
