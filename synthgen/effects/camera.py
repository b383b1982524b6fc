"""Camera: gaussian and ISO noise, JPEG artefacts, vignetting."""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from synthgen.effects.base import Effect, Param, register
from synthgen.rng import seeded_rng, split_seed


def standard_normal(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """Independent standard normal float32 samples, a pure function of ``seed``.

    Box-Muller on numpy's uniform float32 stream, with OpenCV's vectorised log / sqrt /
    polarToCart working in place: the same distribution as ``Generator.standard_normal`` (to
    float32 precision, |z| < 5.8), about three times faster (2.4 ms for 640x480x3 against 7.6).
    """
    n = int(np.prod(shape))
    h = (n + 1) // 2
    u = seeded_rng(seed).random(2 * h, dtype=np.float32).reshape(2, h)
    mag, ang = u[:1], u[1:]
    np.subtract(np.float32(1.0), mag, out=mag)  # (0, 1]
    cv2.log(mag, dst=mag)
    cv2.multiply(mag, -2.0, dst=mag)
    cv2.sqrt(mag, dst=mag)
    np.multiply(ang, np.float32(2.0 * math.pi), out=ang)
    out = np.empty((2, h), np.float32)
    x, y = cv2.polarToCart(mag, ang, x=out[:1], y=out[1:])
    if x.ctypes.data != out.ctypes.data:  # OpenCV did not write into the given rows
        out = np.concatenate([x, y], axis=1)
    return out.reshape(-1)[:n].reshape(shape)


def float_to_uint8(image: np.ndarray) -> np.ndarray:
    """Round and saturate a float32 array to uint8 (OpenCV; twice as fast as numpy clip)."""
    return cv2.add(image, 0.0, dtype=cv2.CV_8U)


def add_noise(image: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """uint8 image + float32 noise (same shape, or H x W broadcast to every channel), rounded."""
    if noise.ndim == 2 and image.ndim == 3:
        noise = cv2.merge([noise] * image.shape[2])
    return cv2.add(image.astype(np.float32), noise, dtype=cv2.CV_8U)


def sensor_noise(seed: int, hw: tuple[int, int], luma_sigma: float, chroma_sigma: float, grain: float = 3.0) -> np.ndarray:
    """Float32 H x W x 3 noise: fine luminance noise (the same on every channel) plus blotchy
    colour noise drawn on a grid ``grain`` times coarser and upsampled, as in a demosaiced,
    denoised high-ISO photo."""
    H, W = hw
    luma_seed, chroma_seed = split_seed(seed, 2)
    h, w = max(1, int(round(H / grain))), max(1, int(round(W / grain)))
    chroma = standard_normal(chroma_seed, (h, w, 2))
    # (Cb, Cr) offsets -> RGB offsets (BT.601), no change of luma
    to_rgb = np.array([[0.0, 1.402], [-0.344, -0.714], [1.772, 0.0]], np.float32) * np.float32(chroma_sigma)
    noise = cv2.resize(cv2.transform(chroma, to_rgb), (W, H), interpolation=cv2.INTER_LINEAR).reshape(H, W, 3)
    luma = standard_normal(luma_seed, (H, W))
    luma *= np.float32(luma_sigma)
    noise += luma[..., None]
    return noise


@register
class GaussianNoise(Effect):
    name = "gaussian_noise"
    family = "camera"
    doc = "Additive gaussian sensor noise with standard deviation `sigma` (0-255 scale)."
    params = {"sigma": Param(0.0, 100.0, "noise standard deviation in grey levels")}
    severities = (
        {"sigma": (3, 4)},
        {"sigma": (6, 7)},
        {"sigma": (10, 11)},
        {"sigma": (15, 16)},
        {"sigma": (22, 24)},
    )

    seeded = True

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        noise = standard_normal(params["seed"], image.shape)
        noise *= np.float32(params["sigma"])
        return add_noise(image, noise)


@register
class IsoNoise(Effect):
    name = "iso_noise"
    family = "camera"
    doc = "High-ISO sensor noise: fine luminance grain plus blotchy coloured (chroma) noise."
    params = {
        "amount": Param(0.0, 60.0, "luminance noise standard deviation in grey levels"),
        "chroma": Param(0.0, 4.0, "colour noise strength relative to `amount`"),
    }
    severities = (
        {"amount": (2.5, 3.5), "chroma": (1.0, 1.5)},
        {"amount": (5.0, 6.0), "chroma": (1.0, 1.5)},
        {"amount": (8.0, 9.5), "chroma": (1.0, 1.5)},
        {"amount": (12.0, 14.0), "chroma": (1.0, 1.5)},
        {"amount": (17.0, 20.0), "chroma": (1.0, 1.5)},
    )
    per_object = False

    seeded = True

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        a = float(params["amount"])
        return add_noise(image, sensor_noise(params["seed"], image.shape[:2], a, a * float(params["chroma"])))


@register
class Jpeg(Effect):
    name = "jpeg"
    family = "camera"
    doc = "JPEG compression artefacts (blocking, ringing, colour bleeding) at `quality` 1-100."
    params = {"quality": Param(1, 100, "JPEG quality (lower is worse)", integer=True)}
    severities = (
        {"quality": (60, 70)},
        {"quality": (40, 50)},
        {"quality": (25, 32)},
        {"quality": (14, 20)},
        {"quality": (5, 10)},
    )
    per_object = False

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(params["quality"])])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def radial_gain(hw: tuple[int, int], strength: float, power: float = 2.0) -> np.ndarray:
    """Float32 H x W x 3 gain, 1 in the centre falling to ``1 - strength`` in the corners."""
    H, W = hw
    h, w = min(H, 48), min(W, 64)
    y = (np.arange(h, dtype=np.float32) + 0.5) / h * 2.0 - 1.0
    x = (np.arange(w, dtype=np.float32) + 0.5) / w * 2.0 - 1.0
    # distance from the centre in pixels, normalised so the corners are at 1
    d2 = ((x[None, :] * W) ** 2 + (y[:, None] * H) ** 2) / np.float32(W * W + H * H)
    g = 1.0 - np.float32(strength) * np.power(d2, np.float32(power / 2.0))
    g = cv2.resize(g, (W, H), interpolation=cv2.INTER_LINEAR)
    return cv2.merge([g, g, g])


@register
class Vignette(Effect):
    name = "vignette"
    family = "camera"
    doc = "Lens vignetting: radial darkening towards the corners, by `strength` at the corners."
    params = {
        "strength": Param(0.0, 1.0, "fraction of light lost in the corners"),
        "falloff": Param(1.0, 6.0, "exponent of the radial falloff (higher keeps more of the centre bright)"),
    }
    severities = (
        {"strength": (0.15, 0.2), "falloff": (2.0, 2.5)},
        {"strength": (0.28, 0.34), "falloff": (2.0, 2.5)},
        {"strength": (0.42, 0.48), "falloff": (2.0, 2.5)},
        {"strength": (0.56, 0.62), "falloff": (2.0, 2.5)},
        {"strength": (0.7, 0.78), "falloff": (2.0, 2.5)},
    )
    per_object = False

    @classmethod
    def apply(cls, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        gain = radial_gain(image.shape[:2], float(params["strength"]), float(params["falloff"]))
        return cv2.multiply(image, gain, dtype=cv2.CV_8U)
