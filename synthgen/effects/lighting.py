"""Lighting: brightness, contrast, gamma, colour temperature, light gradients, night."""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from synthgen.effects.base import Effect, Param, register, seed_param
from synthgen.effects.camera import float_to_uint8, sensor_noise


def _lut(values: np.ndarray) -> np.ndarray:
    return np.clip(values + 0.5, 0, 255).astype(np.uint8)


@register
class Brightness(Effect):
    name = "brightness"
    family = "lighting"
    doc = "Multiply every pixel by `factor` (<1 darker, >1 brighter)."
    params = {"factor": Param(0.05, 3.0, "multiplier of pixel values")}
    severities = (
        {"factor": (0.85, 0.9)},
        {"factor": (0.7, 0.8)},
        {"factor": (0.55, 0.65)},
        {"factor": (0.4, 0.5)},
        {"factor": (0.25, 0.35)},
    )

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return cv2.LUT(image, _lut(np.arange(256, dtype=np.float32) * params["factor"]))


def _levels() -> np.ndarray:
    return np.arange(256, dtype=np.float32)


@register
class Contrast(Effect):
    name = "contrast"
    family = "lighting"
    doc = "Scale every pixel's deviation from the image's mean luminance by `factor` (<1 flatter, >1 punchier)."
    params = {"factor": Param(0.0, 3.0, "multiplier of deviations from the mean luminance")}
    severities = (
        {"factor": (0.8, 0.86)},
        {"factor": (0.66, 0.72)},
        {"factor": (0.51, 0.58)},
        {"factor": (0.36, 0.43)},
        {"factor": (0.2, 0.27)},
    )

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        r, g, b = cv2.mean(image)[:3]
        m = 0.299 * r + 0.587 * g + 0.114 * b
        return cv2.LUT(image, _lut(m + (_levels() - m) * params["factor"]))


@register
class Gamma(Effect):
    name = "gamma"
    family = "lighting"
    doc = "Gamma curve out = in^gamma on [0, 1]: gamma > 1 darkens the midtones (black and white stay)."
    params = {"gamma": Param(0.2, 5.0, "exponent; > 1 darker midtones, < 1 brighter")}
    severities = (
        {"gamma": (1.15, 1.25)},
        {"gamma": (1.4, 1.55)},
        {"gamma": (1.75, 1.95)},
        {"gamma": (2.2, 2.45)},
        {"gamma": (2.8, 3.1)},
    )

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return cv2.LUT(image, _lut(255.0 * (_levels() / 255.0) ** params["gamma"]))


def _channel_lut(gains: tuple[float, float, float], curve: np.ndarray | None = None) -> np.ndarray:
    """A 256 x 1 x 3 LUT for cv2.LUT: ``curve`` (default identity) times a gain per channel."""
    v = _levels() if curve is None else curve
    return _lut(np.stack([v * g for g in gains], axis=-1)).reshape(256, 1, 3)


def temperature_gains(shift: float) -> tuple[float, float, float]:
    """RGB gains for a white-balance shift: +1 strongly warm (tungsten-like), -1 strongly cool
    (shade / overcast blue). Normalised to keep the luminance of grey unchanged."""
    s = float(np.clip(shift, -1.0, 1.0))
    if s >= 0:
        r, g, b = 1.0 + 0.3 * s, 1.0 + 0.02 * s, 1.0 - 0.45 * s
    else:
        r, g, b = 1.0 + 0.3 * s, 1.0 + 0.06 * s, 1.0 - 0.35 * s
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return r / y, g / y, b / y


@register
class ColorTemperature(Effect):
    name = "color_temperature"
    family = "lighting"
    doc = "White-balance cast: warm (orange, `shift` > 0) or cool (blue, `shift` < 0); sampled severities pick the sign at random."
    params = {"shift": Param(-1.0, 1.0, "cast strength and direction: +1 strongly warm, -1 strongly cool")}
    severities = (
        {"shift": (0.1, 0.15)},
        {"shift": (0.22, 0.3)},
        {"shift": (0.37, 0.46)},
        {"shift": (0.54, 0.65)},
        {"shift": (0.75, 0.9)},
    )

    @classmethod
    def sample_extra(cls, params, rng, canvas_wh):
        # the ranges give the magnitude; warm or cool is an even coin flip
        return {"shift": abs(params["shift"]) * (1.0 if rng.random() < 0.5 else -1.0)}

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return cv2.LUT(image, _channel_lut(temperature_gains(params["shift"])))


@register
class LightGradient(Effect):
    name = "light_gradient"
    family = "lighting"
    doc = "Uneven illumination: light falls off linearly across the frame towards `angle`; the far side is `strength` darker."
    params = {
        "strength": Param(0.0, 1.0, "fraction of light lost at the dark edge"),
        "angle": Param(-180.0, 180.0, "direction towards the dark side in degrees (0 = right, 90 = down)"),
    }
    severities = (
        {"strength": (0.15, 0.2), "angle": (-180, 180)},
        {"strength": (0.28, 0.35), "angle": (-180, 180)},
        {"strength": (0.42, 0.5), "angle": (-180, 180)},
        {"strength": (0.57, 0.65), "angle": (-180, 180)},
        {"strength": (0.72, 0.8), "angle": (-180, 180)},
    )

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        H, W = image.shape[:2]
        a = math.radians(params["angle"])
        dx, dy = math.cos(a), math.sin(a)
        # t = projection of pixel centres on the direction: 0 at the brightest corner, 1 at the
        # darkest. It is linear, so a small grid resized bilinearly gives the exact field.
        h, w = min(H, 64), min(W, 64)
        x = ((np.arange(w, dtype=np.float32) + 0.5) * np.float32(W / w) - W / 2.0) * np.float32(dx)
        y = ((np.arange(h, dtype=np.float32) + 0.5) * np.float32(H / h) - H / 2.0) * np.float32(dy)
        extent = max(abs(dx) * W + abs(dy) * H, 1e-6)
        t = (y[:, None] + x[None, :]) * np.float32(1.0 / extent) + np.float32(0.5)
        g = cv2.resize(1.0 - np.float32(params["strength"]) * t, (W, H), interpolation=cv2.INTER_LINEAR)
        return cv2.multiply(image, cv2.merge([g, g, g]), dtype=cv2.CV_8U)


# colours of night-time light sources: sodium street lamp, warm window, white LED
LIGHT_COLOURS = ((255, 160, 70), (255, 205, 130), (235, 240, 255))


def add_glows(canvas: np.ndarray, glows: list[list[float]], gain: float = 1.0) -> None:
    """Add soft radial glows in place to a float32 H x W x 3 canvas (0-255 scale).

    Each glow is ``[x, y, size, r, g, b]``: centre as fractions of width and height, core radius
    as a fraction of the diagonal, peak colour. A bright gaussian core plus a wide faint halo.
    """
    H, W = canvas.shape[:2]
    diag = math.hypot(W, H)
    for x, y, size, r, g, b in glows:
        rc = max(size * diag, 0.75)
        reach = int(math.ceil(7.5 * rc))
        cx, cy = x * W, y * H
        x0, x1 = max(0, int(cx) - reach), min(W, int(cx) + reach + 1)
        y0, y1 = max(0, int(cy) - reach), min(H, int(cy) + reach + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        dx = (np.arange(x0, x1, dtype=np.float32) + 0.5 - cx) / np.float32(rc)
        dy = (np.arange(y0, y1, dtype=np.float32) + 0.5 - cy) / np.float32(rc)
        d2 = dx[None, :] ** 2 + dy[:, None] ** 2
        prof = (np.exp(-d2) + 0.3 * np.exp(-d2 / 6.0)) * np.float32(gain)
        canvas[y0:y1, x0:x1] += prof[..., None] * np.array([r, g, b], np.float32)


@register
class Night(Effect):
    """Day-for-night: a darkening gamma curve and exposure scale, a desaturated blue cast (the eye
    and most cameras lose colour in the dark), sensor noise that grows with the darkness, and a
    few glowing light sources (street lamps, windows) in the upper two thirds of the frame."""

    name = "night"
    family = "lighting"
    doc = "Night or dusk: darker (gamma and exposure), bluish and desaturated, noisy, with a few glowing lights."
    params = {
        "darkness": Param(0.0, 1.0, "0 = unchanged, 1 = deep night"),
        "lights": Param(0, 12, "most glowing light sources; the count is drawn from 0..lights", integer=True),
    }
    severities = (
        {"darkness": (0.15, 0.2), "lights": (4, 4)},
        {"darkness": (0.32, 0.38), "lights": (4, 4)},
        {"darkness": (0.5, 0.56), "lights": (4, 4)},
        {"darkness": (0.67, 0.73), "lights": (4, 4)},
        {"darkness": (0.83, 0.9), "lights": (4, 4)},
    )
    per_object = False

    @classmethod
    def sample_extra(cls, params, rng, canvas_wh):
        glows = []
        for _ in range(int(rng.integers(0, int(params["lights"]) + 1))):
            x, y = rng.uniform(0.03, 0.97), rng.uniform(0.03, 0.67)
            size = rng.uniform(0.004, 0.012)
            r, g, b = LIGHT_COLOURS[int(rng.integers(len(LIGHT_COLOURS)))]
            glows.append([float(x), float(y), float(size), r, g, b])
        return {"seed": seed_param(rng), "glows": glows}

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        d = float(params["darkness"])
        gamma, exposure = 1.0 + 1.1 * d, 1.0 - 0.78 * d
        curve = (255.0 * exposure) * (_levels() / 255.0) ** gamma
        # desaturate towards luma, then a blue cast; applied as one 3x3 colour matrix
        sat = 1.0 - 0.65 * d
        w = np.array([0.299, 0.587, 0.114], np.float32)
        mix = sat * np.eye(3, dtype=np.float32) + (1.0 - sat) * np.ones((3, 1), np.float32) * w[None, :]
        gains = np.array([1.0 - 0.22 * d, 1.0 - 0.04 * d, 1.0 + 0.25 * d], np.float32)
        out = cv2.transform(cv2.LUT(image, curve.astype(np.float32)), gains[:, None] * mix)
        sigma = 1.0 + 5.0 * d
        out += sensor_noise(params["seed"], image.shape[:2], sigma, 1.2 * sigma)
        if params.get("glows"):
            add_glows(out, params["glows"], gain=0.5 + 0.5 * d)
        return float_to_uint8(out)
