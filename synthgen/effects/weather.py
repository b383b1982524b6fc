"""Weather: fog, rain, snow, sun flare / glare."""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from synthgen.effects.base import Effect, Param, register
from synthgen.effects.blur import motion_blur


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

    seeded = True

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


def _screen(image: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """Screen blend of a uint8 light layer (H x W or H x W x 3) onto a uint8 RGB image:
    out = img + layer * (255 - img) / 255. Light adds, never beyond white."""
    if layer.ndim == 2:
        layer = cv2.merge([layer, layer, layer])
    return cv2.add(image, cv2.multiply(cv2.bitwise_not(image), layer, scale=1.0 / 255.0))


def _tone(image: np.ndarray, gain: float, contrast: float, offset: float = 0.0) -> np.ndarray:
    """LUT: v -> gain * (m + contrast * (v - m)) + offset, m = the image's mean luminance."""
    r, g, b = cv2.mean(image)[:3]
    m = 0.299 * r + 0.587 * g + 0.114 * b
    v = gain * (m + contrast * (np.arange(256, dtype=np.float32) - m)) + offset
    return cv2.LUT(image, np.clip(v + 0.5, 0, 255).astype(np.uint8))


@register
class Rain(Effect):
    """Falling rain seen by a camera: each drop is a thin bright streak (motion-blurred during the
    exposure), near drops longer and brighter than far ones, added to a scene that is darker,
    slightly softer and lower in contrast (wet surfaces, water in the air)."""

    name = "rain"
    family = "weather"
    doc = "Rain: thin bright slanted streaks, a darker wet scene, slight blur and contrast loss."
    params = {
        "density": Param(0.0, 80.0, "streaks per 100x100 pixels"),
        "length": Param(0.01, 0.5, "typical streak length as a fraction of the image height"),
        "angle": Param(-60.0, 60.0, "slant of the streaks from vertical in degrees"),
        "darkening": Param(0.0, 0.8, "how much darker the wet scene gets; blur and contrast loss grow with it"),
    }
    severities = (
        {"density": (1.5, 2.5), "length": (0.06, 0.09), "angle": (-20, 20), "darkening": (0.04, 0.07)},
        {"density": (4.0, 5.0), "length": (0.06, 0.09), "angle": (-20, 20), "darkening": (0.09, 0.12)},
        {"density": (7.0, 9.0), "length": (0.06, 0.09), "angle": (-20, 20), "darkening": (0.14, 0.18)},
        {"density": (11.0, 13.0), "length": (0.06, 0.09), "angle": (-20, 20), "darkening": (0.2, 0.24)},
        {"density": (16.0, 20.0), "length": (0.06, 0.09), "angle": (-20, 20), "darkening": (0.26, 0.3)},
    )
    per_object = False

    seeded = True

    @classmethod
    def streaks(cls, hw: tuple[int, int], params: dict[str, Any]) -> np.ndarray:
        """The streak layer, uint8 H x W."""
        H, W = hw
        rng = np.random.default_rng(params["seed"])
        n = int(rng.poisson(params["density"] * H * W / 1e4))
        layer = np.zeros((H, W), np.uint8)
        if n == 0:
            return layer
        near = rng.random(n) < 0.3
        length = params["length"] * H * np.where(near, rng.uniform(0.9, 1.5, n), rng.uniform(0.35, 0.8, n))
        a = np.radians(params["angle"] + rng.normal(0.0, 2.0, n))
        dx, dy = np.sin(a) * length, np.cos(a) * length
        x0 = rng.uniform(-np.abs(dx).max(), W + np.abs(dx).max(), n)
        y0 = rng.uniform(-length.max(), H, n)
        pts = np.stack([np.stack([x0, y0], -1), np.stack([x0 + dx, y0 + dy], -1)], axis=1)
        pts = np.round(pts * 16).astype(np.int32)  # 4 fractional bits for anti-aliased lines
        # far drops: faint hairlines; near drops: brighter, softer and wider (slightly out of focus)
        cv2.polylines(layer, list(pts[~near]), False, 75, 1, cv2.LINE_AA, 4)
        layer = cv2.GaussianBlur(layer, (3, 3), 0.5)
        near_layer = np.zeros((H, W), np.uint8)
        cv2.polylines(near_layer, list(pts[near]), False, 200, 1, cv2.LINE_AA, 4)
        return cv2.add(layer, cv2.GaussianBlur(near_layer, (5, 5), 1.0))

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        dk = float(params["darkening"])
        base = cv2.GaussianBlur(image, (0, 0), 0.3 + 2.5 * dk)
        base = _tone(base, 1.0 - dk, 1.0 - 0.8 * dk)
        return cv2.add(base, cv2.merge([cls.streaks(image.shape[:2], params)] * 3))


def _impulses(rng: np.random.Generator, hw: tuple[int, int], n: int, value: float, spread: float = 0.5) -> np.ndarray:
    """Float32 H x W zeros with ``n`` random pixels set to ``value`` * U(1 - spread, 1)."""
    H, W = hw
    layer = np.zeros((H, W), np.float32)
    if n > 0:
        idx = rng.integers(0, H * W, n)
        layer.reshape(-1)[idx] = value * rng.uniform(1.0 - spread, 1.0, n).astype(np.float32)
    return layer


@register
class Snow(Effect):
    """Falling snow: many small flakes (slightly streaked by their fall during the exposure) and
    fewer large soft flakes close to the camera, over a whitened, lower-contrast scene."""

    name = "snow"
    family = "weather"
    doc = "Snowfall: small and large soft white flakes, slightly streaked, over a whitening haze."
    params = {
        "density": Param(0.0, 150.0, "flakes per 100x100 pixels"),
        "haze": Param(0.0, 1.0, "whitening of the scene (snow in the air, overcast light)"),
        "angle": Param(-60.0, 60.0, "fall direction from vertical in degrees"),
    }
    severities = (
        {"density": (3.0, 5.0), "haze": (0.04, 0.07), "angle": (-25, 25)},
        {"density": (7.0, 10.0), "haze": (0.1, 0.14), "angle": (-25, 25)},
        {"density": (13.0, 17.0), "haze": (0.17, 0.22), "angle": (-25, 25)},
        {"density": (22.0, 27.0), "haze": (0.25, 0.3), "angle": (-25, 25)},
        {"density": (34.0, 42.0), "haze": (0.34, 0.4), "angle": (-25, 25)},
    )
    per_object = False

    seeded = True

    @classmethod
    def flakes(cls, hw: tuple[int, int], params: dict[str, Any]) -> np.ndarray:
        """The flake opacity layer, uint8 H x W."""
        H, W = hw
        rng = np.random.default_rng(params["seed"])
        n = int(rng.poisson(params["density"] * H * W / 1e4))
        n_large = int(rng.binomial(n, 0.2))
        s = max(math.sqrt(H * W / (640.0 * 480.0)), 0.3)  # flake size follows the frame size
        # small flakes: sigma ~0.8 px, streaked a few pixels along the fall direction
        sig = 0.8 * s
        steps = max(1, int(round(3 * s)))
        small = _impulses(rng, (H, W), n - n_large, 255.0 * 2.0 * math.pi * sig * sig * steps * 1.3)
        small = cv2.GaussianBlur(small, (0, 0), sig)
        small = motion_blur(small, steps, 90.0 + float(params["angle"])) if steps > 1 else small
        # large flakes: drawn at half resolution, sigma ~2.2 px once upsampled
        h, w = max(1, H // 2), max(1, W // 2)
        sig2 = 1.1 * s
        large = _impulses(rng, (h, w), n_large, 255.0 * 2.0 * math.pi * sig2 * sig2 * 1.6, spread=0.6)
        large = cv2.resize(cv2.GaussianBlur(large, (0, 0), sig2), (W, H), interpolation=cv2.INTER_LINEAR)
        return cv2.add(small, large, dtype=cv2.CV_8U)

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        h = float(params["haze"])
        base = _tone(image, 1.0 - h, 1.0 - 0.3 * h, 235.0 * h)
        return _screen(base, cls.flakes(image.shape[:2], params))


@register
class SunFlare(Effect):
    """Sun glare: a bright warm glow (saturated core, wide halo with faint rays) at a point in the
    upper part of the frame, a veil of scattered light over everything, and a few faint coloured
    ghost discs (lens reflections) along the line from the sun through the frame centre. All
    light is screen-blended, so it brightens without exceeding white."""

    name = "sun_flare"
    family = "weather"
    doc = "Sun glare: a bright glow in the upper frame, a veiling haze and faint lens ghosts."
    params = {
        "radius": Param(0.0, 0.6, "radius of the glow core as a fraction of the image diagonal"),
        "intensity": Param(0.0, 1.0, "brightness of the glow, halo and ghosts"),
    }
    severities = (
        {"radius": (0.05, 0.06), "intensity": (0.45, 0.55)},
        {"radius": (0.075, 0.09), "intensity": (0.6, 0.68)},
        {"radius": (0.105, 0.12), "intensity": (0.72, 0.8)},
        {"radius": (0.14, 0.16), "intensity": (0.84, 0.9)},
        {"radius": (0.18, 0.21), "intensity": (0.93, 1.0)},
    )
    per_object = False

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
    def light(cls, hw: tuple[int, int], params: dict[str, Any]) -> np.ndarray:
        """The flare light, float32 H x W x 3 in [0, 1]."""
        H, W = hw
        q = 4 if min(H, W) >= 64 else 1  # smooth: computed on a coarse grid, then upsampled
        h, w = max(1, -(-H // q)), max(1, -(-W // q))
        diag = math.hypot(W, H)
        R = max(params["radius"] * diag, 1.0)
        I = float(params["intensity"])
        sx, sy = params["x"] * W, params["y"] * H
        xs = (np.arange(w, dtype=np.float32) + 0.5) * np.float32(W / w)
        ys = (np.arange(h, dtype=np.float32) + 0.5) * np.float32(H / h)
        dx, dy = xs[None, :] - np.float32(sx), ys[:, None] - np.float32(sy)
        r = np.sqrt(dx * dx + dy * dy) / np.float32(R)
        theta = np.arctan2(dy, dx)
        core = np.exp(-(r**2) * 1.5)
        halo = 0.45 / (1.0 + 0.6 * r * r)
        rays = 0.22 * np.cos(params["rays"] * theta + params["ray_phase"]) ** 16 * np.exp(-0.35 * r)
        glow = np.minimum(core * 1.3 + halo + rays, 1.0) * np.float32(I) + np.float32(0.06 * I)
        light = glow[..., None] * np.array([1.0, 0.93, 0.8], np.float32)
        cx, cy = W / 2.0, H / 2.0
        for t, rad, alpha, *tint in params.get("ghosts", []):
            gx, gy = sx + t * (cx - sx), sy + t * (cy - sy)
            rg = max(rad * diag, 1.0)
            d = np.sqrt((xs[None, :] - np.float32(gx)) ** 2 + (ys[:, None] - np.float32(gy)) ** 2) / np.float32(rg)
            disc = np.clip((1.0 - d) * 6.0, 0.0, 1.0) * (0.6 + 0.4 * np.minimum(d, 1.0) ** 2)  # brighter rim
            light += (disc * np.float32(alpha * I))[..., None] * np.array(tint, np.float32)
        return cv2.resize(light, (W, H), interpolation=cv2.INTER_LINEAR) if q > 1 else light

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        layer = cv2.convertScaleAbs(cls.light(image.shape[:2], params), alpha=255.0)
        return _screen(image, layer)
