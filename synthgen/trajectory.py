"""The motion of a clip's objects: trajectories, and the motion blur they leave in one exposure.

Pure functions of recorded numbers (no pixels): ``clips`` samples them once per clip and asks
for any frame ``t``. Units are canvas pixels and degrees per frame (ranges are per second,
divided by the frame rate when sampled).

A track moves its object with a constant velocity plus a random walk; a share of objects turn
(the heading rotates at a constant rate) and a share stop for a while (they slow down over
``RAMP`` seconds, stand, and start again). On a ground plane (:class:`Ground`) the motion is
on the ground, seen through a level pinhole camera: the object's foot point moves in ground
coordinates, its image row and scale follow its depth (an object walking towards the camera
comes down the image and grows, one walking away shrinks towards the horizon), and it neither
scales nor spins otherwise. Elsewhere, objects scale and rotate slowly in the image.
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
TURN = (10.0, 40.0)  # turning objects: heading change, degrees per second (either way)
STOP_AT = (0.5, 3.0)  # stopping objects: seconds after entry when they stand still
STOP_FOR = (0.5, 2.0)  # and for how long
RAMP = 0.3  # seconds to slow down before a stop (and to start again after it)
NEAR = 0.25  # ground plane: the nearest depth an object comes to (4x its size on the bottom row)


@dataclass(frozen=True)
class Ground:
    """A flat ground seen by a level pinhole camera (frame 0's canvas). A foot point at depth
    ``Z`` (1 on the bottom row) and lateral position ``X`` stands on row
    ``horizon + (H - horizon) / Z`` and column ``W / 2 + (H - horizon) X / Z``; its size is
    ``max(1 / Z, 0.1)`` of what it is on the bottom row, the scene sampler's rule. ``foot``: how
    far below its centre the object's foot row lies, per unit of scale."""

    horizon: float
    canvas_wh: tuple[int, int]
    foot: float

    def world(self, fx: float, fy: float) -> tuple[float, float]:
        W, H = self.canvas_wh
        depth = H - self.horizon
        Z = depth / max(fy - self.horizon, 0.02 * depth)
        return ((fx - W / 2) * Z / depth, Z)

    def image(self, X: float, Z: float) -> tuple[float, float]:
        W, H = self.canvas_wh
        depth = H - self.horizon
        return (W / 2 + depth * X / Z, self.horizon + depth / Z)

    @staticmethod
    def size(Z: float) -> float:
        return max(1.0 / Z, 0.1)


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
    turn: float = 0.0  # heading change, radians per frame
    stop: tuple[int, int, int] = (0, 0, 1)  # (frames after entry it stands still, frames it stands, ramp frames)
    ground: Ground | None = None  # velocity and walk in ground units (X, Z) per frame; None: image pixels

    def speed(self, k: np.ndarray) -> np.ndarray:
        """The share of its speed the object has on step ``k`` (from frame k to k+1 after entry):
        it slows down over the ``ramp`` steps before ``start``, stands from frame ``start`` to
        ``start + length``, and speeds up over the ``ramp`` steps after."""
        start, length, ramp = self.stop
        if length <= 0:
            return np.ones_like(k)
        return np.where(k < start, np.clip((start - k) / ramp, 0.0, 1.0), np.clip((k - start - length + 1) / ramp, 0.0, 1.0))

    def offset(self, t: int) -> tuple[float, float]:
        """Displacement ``t`` frames after the object's entry frame (of the centre in image pixels,
        or on a ground plane of the foot point in ground units). Before it the object moves as it
        does after it, mirrored through it (``offset(-t) = -offset(t)``), so that the entry frame
        has a velocity too."""
        if t < 0:
            dx, dy = self.offset(-t)
            return (-dx, -dy)
        if not t:
            return (0.0, 0.0)
        steps = seeded_rng(self.jitter_seed).normal(0.0, self.jitter, size=(t, 2))
        vx, vy = self.velocity
        if not self.turn and self.stop[1] <= 0:
            walk = steps.sum(axis=0)
            return (vx * t + float(walk[0]), vy * t + float(walk[1]))
        k = np.arange(t, dtype=np.float64)
        f = self.speed(k)
        c, s = np.cos(self.turn * k), np.sin(self.turn * k)
        walk = (steps * f[:, None]).sum(axis=0)  # a standing object stands still
        return (float(np.sum(f * (c * vx - s * vy))) + float(walk[0]), float(np.sum(f * (s * vx + c * vy))) + float(walk[1]))

    def move(self, p: Placement, t: int) -> Placement:
        """``p`` (the placement at the entry frame) at frame ``t`` of the clip."""
        dt = t - self.entry
        dx, dy = self.offset(dt)
        g = self.ground
        if g is None:
            return dataclasses.replace(
                p,
                center=(p.center[0] + dx, p.center[1] + dy),
                scale=p.scale * math.exp(self.growth * dt),
                rotation=p.rotation + self.spin * dt,
            )
        X, Z = g.world(p.center[0], p.center[1] + g.foot * p.scale)
        Zt = max(Z + dy, NEAR)
        fx, fy = g.image(X + dx, Zt)
        scale = p.scale * g.size(Zt) / g.size(Z)
        return dataclasses.replace(p, center=(fx, fy - g.foot * scale), scale=scale)


def sample_track(
    seed: int, clip: int, p: Placement, canvas_wh: tuple[int, int], fps: float, heading: tuple[float, float] | None = None,
    *, turning: float = 0.0, stopping: float = 0.0, ground: Ground | None = None,
) -> Track:
    """The track of placement ``p`` (its own stream member, by instance id); ``heading``: a
    range of directions in radians (default: any; on a ground plane, in (X, Z) ground
    coordinates: 0 is to the right, pi/2 away from the camera). ``turning`` and ``stopping``:
    the chance that the object turns, and that it stops for a while. On a ground plane the speed
    is the image speed at the object's depth at its entry frame."""
    rng = image_rng(seed, clip, Stream.CLIPS, p.instance_id)
    side = min(canvas_wh)
    angle = float(rng.uniform(*(heading or (0.0, 2.0 * math.pi))))
    speed = float(rng.uniform(*SPEED)) * side / fps
    jitter = JITTER * side / math.sqrt(fps)
    jitter_seed = int(rng.integers(2**32))
    growth = float(rng.uniform(*GROWTH)) / fps
    spin = float(rng.uniform(*SPIN)) / fps
    # drawn whatever the shares, so that changing one changes nothing else
    turns, rate, side_sign = rng.random() < turning, float(rng.uniform(*TURN)), 1.0 if rng.random() < 0.5 else -1.0
    stops, at, stand = rng.random() < stopping, float(rng.uniform(*STOP_AT)), float(rng.uniform(*STOP_FOR))
    if ground is not None:  # pixels at the object's depth -> ground units; the size follows the depth
        W, H = canvas_wh
        _, Z = ground.world(p.center[0], p.center[1] + ground.foot * p.scale)
        per_pixel = Z / (H - ground.horizon)
        speed, jitter, growth, spin = speed * per_pixel, jitter * per_pixel, 0.0, 0.0
    return Track(
        instance_id=p.instance_id,
        velocity=(speed * math.cos(angle), speed * math.sin(angle)),
        jitter=jitter,
        jitter_seed=jitter_seed,
        growth=growth,
        spin=spin,
        turn=math.radians(side_sign * rate) / fps if turns else 0.0,
        stop=(round(at * fps), max(1, round(stand * fps)), max(1, round(RAMP * fps))) if stops else (0, 0, 1),
        ground=ground,
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
