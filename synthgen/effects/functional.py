"""The effects' pixel kernels: pure functions of arrays and plain numbers.

No sampling, no parameter dicts, no synthgen types: each kernel takes the values an effect
class drew (``sample``) and returns a new array, never writing into its input. Randomness a
kernel needs comes in as an integer ``seed``. Sections follow the effect families.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from synthgen.geometry import warp_box
from synthgen.rng import seeded_rng, split_seed

# ---------------------------------------------------------------------------------------------
# lighting


def lut_uint8(values: np.ndarray) -> np.ndarray:
    """Round and saturate a float table to a uint8 lookup table."""
    return np.clip(values + 0.5, 0, 255).astype(np.uint8)


def levels() -> np.ndarray:
    """The 256 input levels as float32, for building lookup tables."""
    return np.arange(256, dtype=np.float32)


def brightness(image: np.ndarray, factor: float) -> np.ndarray:
    return cv2.LUT(image, lut_uint8(np.arange(256, dtype=np.float32) * factor))


def contrast(image: np.ndarray, factor: float) -> np.ndarray:
    """Scale deviations from the image's mean luminance by ``factor``."""
    r, g, b = cv2.mean(image)[:3]
    m = 0.299 * r + 0.587 * g + 0.114 * b
    return cv2.LUT(image, lut_uint8(m + (levels() - m) * factor))


def gamma(image: np.ndarray, exponent: float) -> np.ndarray:
    return cv2.LUT(image, lut_uint8(255.0 * (levels() / 255.0) ** exponent))


def channel_lut(gains: tuple[float, float, float], curve: np.ndarray | None = None) -> np.ndarray:
    """A 256 x 1 x 3 LUT for cv2.LUT: ``curve`` (default identity) times a gain per channel."""
    v = levels() if curve is None else curve
    return lut_uint8(np.stack([v * g for g in gains], axis=-1)).reshape(256, 1, 3)


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


def color_temperature(image: np.ndarray, shift: float) -> np.ndarray:
    return cv2.LUT(image, channel_lut(temperature_gains(shift)))


def light_gradient(image: np.ndarray, strength: float, angle: float) -> np.ndarray:
    """Light falling off linearly across the frame towards ``angle`` degrees."""
    H, W = image.shape[:2]
    a = math.radians(angle)
    dx, dy = math.cos(a), math.sin(a)
    # t = projection of pixel centres on the direction: 0 at the brightest corner, 1 at the
    # darkest. It is linear, so a small grid resized bilinearly gives the exact field.
    h, w = min(H, 64), min(W, 64)
    x = ((np.arange(w, dtype=np.float32) + 0.5) * np.float32(W / w) - W / 2.0) * np.float32(dx)
    y = ((np.arange(h, dtype=np.float32) + 0.5) * np.float32(H / h) - H / 2.0) * np.float32(dy)
    extent = max(abs(dx) * W + abs(dy) * H, 1e-6)
    t = (y[:, None] + x[None, :]) * np.float32(1.0 / extent) + np.float32(0.5)
    g = cv2.resize(1.0 - np.float32(strength) * t, (W, H), interpolation=cv2.INTER_LINEAR)
    return cv2.multiply(image, cv2.merge([g, g, g]), dtype=cv2.CV_8U)


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


def night(image: np.ndarray, darkness: float, seed: int, glows: list[list[float]] | None) -> np.ndarray:
    """Day for night: a darkening gamma curve and exposure scale, a desaturated blue cast (the
    eye and most cameras lose colour in the dark), sensor noise that grows with the darkness,
    and glowing light sources."""
    d = float(darkness)
    gamma_, exposure = 1.0 + 1.1 * d, 1.0 - 0.78 * d
    curve = (255.0 * exposure) * (levels() / 255.0) ** gamma_
    # desaturate towards luma, then a blue cast; applied as one 3x3 colour matrix
    sat = 1.0 - 0.65 * d
    w = np.array([0.299, 0.587, 0.114], np.float32)
    mix = sat * np.eye(3, dtype=np.float32) + (1.0 - sat) * np.ones((3, 1), np.float32) * w[None, :]
    gains = np.array([1.0 - 0.22 * d, 1.0 - 0.04 * d, 1.0 + 0.25 * d], np.float32)
    out = cv2.transform(cv2.LUT(image, curve.astype(np.float32)), gains[:, None] * mix)
    sigma = 1.0 + 5.0 * d
    out += sensor_noise(seed, image.shape[:2], sigma, 1.2 * sigma)
    if glows:
        add_glows(out, glows, gain=0.5 + 0.5 * d)
    return float_to_uint8(out)


# ---------------------------------------------------------------------------------------------
# weather


def fog(image: np.ndarray, density: float, airlight: float, patchiness: float, seed: int) -> np.ndarray:
    """Atmospheric scattering: I = J * t + A * (1 - t), t = exp(-density * depth).

    Depth grows towards the top of the frame (a ground-level camera looks further away there);
    a smooth low-frequency noise field makes the fog patchy. Everything is computed on a coarse
    grid and upsampled, so the cost is a few milliseconds at 640x480.
    """
    H, W = image.shape[:2]
    gh, gw = 12, 16
    noise = seeded_rng(seed).standard_normal((gh, gw)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 1.5)
    noise /= max(float(np.abs(noise).max()), 1e-6)
    depth = np.linspace(1.0, 0.15, gh, dtype=np.float32)[:, None]  # top far, bottom near
    depth = depth * (1.0 + patchiness * noise)
    t = np.exp(-density * np.clip(depth, 0.0, None))
    t = cv2.resize(t, (W, H), interpolation=cv2.INTER_CUBIC)[..., None]
    # image * t + airlight * (1 - t) + 0.5, rounded down and saturated: the same float32
    # operations in the same order, in place (no full-size temporaries)
    haze = 1.0 - t
    haze *= np.float32(airlight)
    out = image.astype(np.float32)
    out *= t
    out += haze
    out += np.float32(0.5)
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


def screen(image: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """Screen blend of a uint8 light layer (H x W or H x W x 3) onto a uint8 RGB image:
    out = img + layer * (255 - img) / 255. Light adds, never beyond white."""
    if layer.ndim == 2:
        layer = cv2.merge([layer, layer, layer])
    return cv2.add(image, cv2.multiply(cv2.bitwise_not(image), layer, scale=1.0 / 255.0))


def tone(image: np.ndarray, gain: float, contrast: float, offset: float = 0.0) -> np.ndarray:
    """LUT: v -> gain * (m + contrast * (v - m)) + offset, m = the image's mean luminance."""
    r, g, b = cv2.mean(image)[:3]
    m = 0.299 * r + 0.587 * g + 0.114 * b
    v = gain * (m + contrast * (np.arange(256, dtype=np.float32) - m)) + offset
    return cv2.LUT(image, np.clip(v + 0.5, 0, 255).astype(np.uint8))


def rain_streaks(hw: tuple[int, int], density: float, length: float, angle: float, seed: int) -> np.ndarray:
    """The streak layer of falling rain, uint8 H x W: near drops longer and brighter than far
    ones, each motion-blurred into a thin line during the exposure."""
    H, W = hw
    rng = seeded_rng(seed)
    n = int(rng.poisson(density * H * W / 1e4))
    layer = np.zeros((H, W), np.uint8)
    if n == 0:
        return layer
    near = rng.random(n) < 0.3
    length = length * H * np.where(near, rng.uniform(0.9, 1.5, n), rng.uniform(0.35, 0.8, n))
    a = np.radians(angle + rng.normal(0.0, 2.0, n))
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


def rain(image: np.ndarray, darkening: float, streaks: np.ndarray) -> np.ndarray:
    """A darker, slightly softer, flatter wet scene with the streak layer added."""
    dk = float(darkening)
    base = cv2.GaussianBlur(image, (0, 0), 0.3 + 2.5 * dk)
    base = tone(base, 1.0 - dk, 1.0 - 0.8 * dk)
    return cv2.add(base, cv2.merge([streaks] * 3))


def impulses(rng: np.random.Generator, hw: tuple[int, int], n: int, value: float, spread: float = 0.5) -> np.ndarray:
    """Float32 H x W zeros with ``n`` random pixels set to ``value`` * U(1 - spread, 1)."""
    H, W = hw
    layer = np.zeros((H, W), np.float32)
    if n > 0:
        idx = rng.integers(0, H * W, n)
        layer.reshape(-1)[idx] = value * rng.uniform(1.0 - spread, 1.0, n).astype(np.float32)
    return layer


def snow_flakes(hw: tuple[int, int], density: float, angle: float, seed: int) -> np.ndarray:
    """The flake opacity layer, uint8 H x W: many small flakes slightly streaked by their fall,
    fewer large soft flakes close to the camera."""
    H, W = hw
    rng = seeded_rng(seed)
    n = int(rng.poisson(density * H * W / 1e4))
    n_large = int(rng.binomial(n, 0.2))
    s = max(math.sqrt(H * W / (640.0 * 480.0)), 0.3)  # flake size follows the frame size
    # small flakes: sigma ~0.8 px, streaked a few pixels along the fall direction
    sig = 0.8 * s
    steps = max(1, int(round(3 * s)))
    small = impulses(rng, (H, W), n - n_large, 255.0 * 2.0 * math.pi * sig * sig * steps * 1.3)
    small = cv2.GaussianBlur(small, (0, 0), sig)
    small = motion_blur(small, steps, 90.0 + float(angle)) if steps > 1 else small
    # large flakes: drawn at half resolution, sigma ~2.2 px once upsampled
    h, w = max(1, H // 2), max(1, W // 2)
    sig2 = 1.1 * s
    large = impulses(rng, (h, w), n_large, 255.0 * 2.0 * math.pi * sig2 * sig2 * 1.6, spread=0.6)
    large = cv2.resize(cv2.GaussianBlur(large, (0, 0), sig2), (W, H), interpolation=cv2.INTER_LINEAR)
    return cv2.add(small, large, dtype=cv2.CV_8U)


def snow(image: np.ndarray, haze: float, flakes: np.ndarray) -> np.ndarray:
    """A whitened, lower-contrast scene with the flake layer screened over it."""
    h = float(haze)
    base = tone(image, 1.0 - h, 1.0 - 0.3 * h, 235.0 * h)
    return screen(base, flakes)


def flare_light(
    hw: tuple[int, int],
    radius: float,
    intensity: float,
    x: float,
    y: float,
    rays: int,
    ray_phase: float,
    ghosts: list[list[float]],
) -> np.ndarray:
    """Sun-glare light, float32 H x W x 3 in [0, 1]: a bright warm glow (saturated core, wide
    halo with faint rays) at (x, y) (fractions of the size), a veil over everything, and faint
    coloured ghost discs ``[t, radius, opacity, r, g, b]`` along the sun-centre line."""
    H, W = hw
    q = 4 if min(H, W) >= 64 else 1  # smooth: computed on a coarse grid, then upsampled
    h, w = max(1, -(-H // q)), max(1, -(-W // q))
    diag = math.hypot(W, H)
    R = max(radius * diag, 1.0)
    I = float(intensity)
    sx, sy = x * W, y * H
    xs = (np.arange(w, dtype=np.float32) + 0.5) * np.float32(W / w)
    ys = (np.arange(h, dtype=np.float32) + 0.5) * np.float32(H / h)
    dx, dy = xs[None, :] - np.float32(sx), ys[:, None] - np.float32(sy)
    r = np.sqrt(dx * dx + dy * dy) / np.float32(R)
    theta = np.arctan2(dy, dx)
    core = np.exp(-(r**2) * 1.5)
    halo = 0.45 / (1.0 + 0.6 * r * r)
    ray_light = 0.22 * np.cos(rays * theta + ray_phase) ** 16 * np.exp(-0.35 * r)
    glow = np.minimum(core * 1.3 + halo + ray_light, 1.0) * np.float32(I) + np.float32(0.06 * I)
    light = glow[..., None] * np.array([1.0, 0.93, 0.8], np.float32)
    cx, cy = W / 2.0, H / 2.0
    for t, rad, alpha, *tint in ghosts:
        gx, gy = sx + t * (cx - sx), sy + t * (cy - sy)
        rg = max(rad * diag, 1.0)
        d = np.sqrt((xs[None, :] - np.float32(gx)) ** 2 + (ys[:, None] - np.float32(gy)) ** 2) / np.float32(rg)
        disc = np.clip((1.0 - d) * 6.0, 0.0, 1.0) * (0.6 + 0.4 * np.minimum(d, 1.0) ** 2)  # brighter rim
        light += (disc * np.float32(alpha * I))[..., None] * np.array(tint, np.float32)
    return cv2.resize(light, (W, H), interpolation=cv2.INTER_LINEAR) if q > 1 else light


def add_light(image: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Screen-blend float32 light in [0, 1] onto the image: brighter, never beyond white."""
    return screen(image, cv2.convertScaleAbs(light, alpha=255.0))


# ---------------------------------------------------------------------------------------------
# blur


def motion_kernel(length: int, angle: float) -> np.ndarray:
    """A normalised line kernel ``length`` pixels long at ``angle`` degrees."""
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    R = cv2.getRotationMatrix2D(((length - 1) / 2.0, (length - 1) / 2.0), angle, 1.0)
    k = cv2.warpAffine(k, R, (length, length), flags=cv2.INTER_LINEAR)
    return k / max(float(k.sum()), 1e-6)


def motion_blur(image: np.ndarray, length: int, angle: float) -> np.ndarray:
    """Blur along a line ``length`` px long at ``angle`` degrees.

    Short kernels go straight to filter2D; long ones (where OpenCV would switch to a DFT) rotate
    the image so the motion is horizontal, box-blur the rows and rotate back.
    """
    if length <= 1:
        return image.copy()
    if length <= 11:
        return cv2.filter2D(image, -1, motion_kernel(length, angle), borderType=cv2.BORDER_REFLECT)
    H, W = image.shape[:2]
    D = int(math.ceil(math.hypot(W, H))) + length
    R = cv2.getRotationMatrix2D((W / 2.0, H / 2.0), -angle, 1.0)
    R[:, 2] += ((D - W) / 2.0, (D - H) / 2.0)
    big = cv2.warpAffine(image, R, (D, D), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    big = cv2.blur(big, (length, 1), borderType=cv2.BORDER_REFLECT)
    return cv2.warpAffine(big, R, (W, H), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)


@functools.lru_cache(maxsize=64)
def disk_kernel(radius: float) -> np.ndarray:
    """Normalised anti-aliased disk (an ideal defocus / bokeh point spread) of ``radius`` px."""
    r = max(float(radius), 0.5)
    half = int(math.ceil(r - 0.5))
    ss = 8  # supersampling per pixel for the edge coverage
    c = (np.arange((2 * half + 1) * ss, dtype=np.float32) + 0.5) / ss - (half + 0.5)
    inside = (c[None, :] ** 2 + c[:, None] ** 2 <= r * r).astype(np.float32)
    k = inside.reshape(2 * half + 1, ss, 2 * half + 1, ss).mean(axis=(1, 3))
    k /= k.sum()
    k.flags.writeable = False
    return k


def defocus(image: np.ndarray, radius: float) -> np.ndarray:
    """Disk blur of ``radius`` px (uint8, any channel count). Kernels up to 11x11 run directly in
    float32 (OpenCV's direct path; it would switch to a slow DFT above that); larger radii are
    blurred at an integer-reduced resolution with radius <= 5 and upsampled."""
    if radius < 0.5:
        return image.copy()
    H, W = image.shape[:2]
    s = max(1, int(math.ceil(radius / 5.0)))
    if s > 1:
        small = cv2.resize(image, (max(1, round(W / s)), max(1, round(H / s))), interpolation=cv2.INTER_AREA)
    else:
        small = image
    out = cv2.filter2D(small.astype(np.float32), -1, disk_kernel(round(radius / s, 3)), borderType=cv2.BORDER_REFLECT)
    if s > 1:
        out = cv2.resize(out, (W, H), interpolation=cv2.INTER_LINEAR)
    out = cv2.convertScaleAbs(out)
    return out.reshape(image.shape)


GAUSSIAN_DIRECT_MAX = 2.5  # sigmas below this are blurred at full resolution


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of standard deviation ``sigma`` px (any dtype and channel count).

    A direct blur costs in proportion to sigma (its kernel is 6 sigma wide), so from
    GAUSSIAN_DIRECT_MAX up the image is reduced by an integer factor s >= 2 (area average),
    blurred there with sigma <= 2.5 and enlarged again (bilinear); the smaller sigma leaves room
    for the variance the reduction and enlargement add themselves ((3 s^2 - 1) / 12 px^2), so
    the whole has the requested spread. Within 3 grey levels of the direct blur at 640x480, at
    a bounded cost whatever sigma.
    """
    if sigma <= 0.0:
        return image.copy()
    H, W = image.shape[:2]
    s = max(2, math.ceil(sigma / 2.5)) if sigma >= GAUSSIAN_DIRECT_MAX else 1
    if s == 1 or min(H, W) < 4 * s:
        return cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT).reshape(image.shape)
    small = cv2.resize(image, (max(1, round(W / s)), max(1, round(H / s))), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), math.sqrt(sigma * sigma - (3 * s * s - 1) / 12.0) / s, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR).reshape(image.shape)


# ---------------------------------------------------------------------------------------------
# camera


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


def gaussian_noise(image: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    noise = standard_normal(seed, image.shape)
    noise *= np.float32(sigma)
    return add_noise(image, noise)


def iso_noise(image: np.ndarray, amount: float, chroma: float, seed: int) -> np.ndarray:
    a = float(amount)
    return add_noise(image, sensor_noise(seed, image.shape[:2], a, a * float(chroma)))


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """The image after a JPEG round trip at ``quality`` (1-100)."""
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
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


def vignette(image: np.ndarray, strength: float, falloff: float) -> np.ndarray:
    gain = radial_gain(image.shape[:2], float(strength), float(falloff))
    return cv2.multiply(image, gain, dtype=cv2.CV_8U)


# ---------------------------------------------------------------------------------------------
# geometric: one 3x3 matrix from input to output pixel coordinates


def _is_affine(M: np.ndarray) -> bool:
    return abs(M[2, 0]) < 1e-12 and abs(M[2, 1]) < 1e-12


def warp(a: np.ndarray, M: np.ndarray, size_wh: tuple[int, int], flags: int, border: int) -> np.ndarray:
    """``a`` warped by ``M`` into an output of ``size_wh`` (affine matrices take the affine path)."""
    if _is_affine(M):
        return cv2.warpAffine(a, (M / M[2, 2])[:2], size_wh, flags=flags, borderMode=border, borderValue=0)
    return cv2.warpPerspective(a, M, size_wh, flags=flags, borderMode=border, borderValue=0)


def warp_image(image: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Bilinear, same size, borders reflected (the geometric effects zoom so none show)."""
    H, W = image.shape[:2]
    return warp(image, M, (W, H), cv2.INTER_LINEAR, cv2.BORDER_REFLECT)


def warp_labels(a: np.ndarray, M: np.ndarray, size_wh: tuple[int, int]) -> np.ndarray:
    """Nearest neighbour, zero outside the input: for id maps and masks."""
    return warp(a, M, size_wh, cv2.INTER_NEAREST, cv2.BORDER_CONSTANT)


@functools.lru_cache(maxsize=8)
def _coordinate_bytes(size_wh: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """x + 1 and y + 1 of every pixel as low and high bytes: four uint8 H x W planes."""
    W, H = size_wh
    xs = np.arange(1, W + 1, dtype=np.int32)
    ys = np.arange(1, H + 1, dtype=np.int32)[:, None]
    planes = tuple(
        np.ascontiguousarray(np.broadcast_to(b.astype(np.uint8), (H, W)))
        for b in (xs & 255, xs >> 8, ys & 255, ys >> 8)
    )
    for plane in planes:
        plane.flags.writeable = False
    return planes


@dataclass(frozen=True, eq=False)
class SourcePixels:
    """For each output pixel of one :func:`warp_labels` call (a frame-sized input into a
    frame-sized output): which input pixel it copies.

    Found by warping the pixel coordinates themselves, as uint8 bytes (+1, so that 0 means
    'outside the input'), with the very same call as a uint8 mask: a mask read through it
    equals that mask's own warp, bit for bit. The bytes are combined only over the regions
    asked for.
    """

    planes: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # x low, x high, y low, y high

    @classmethod
    def of(cls, M: np.ndarray, size_wh: tuple[int, int]) -> SourcePixels:
        return cls(tuple(warp_labels(p, M, size_wh) for p in _coordinate_bytes(size_wh)))

    @property
    def shape(self) -> tuple[int, int]:
        return self.planes[0].shape

    def xy(self, roi: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Input x and y (int32, -1 where outside the input) of the output pixels in ``roi``."""
        y0, y1, x0, x1 = roi
        lo_x, hi_x, lo_y, hi_y = (p[y0:y1, x0:x1].astype(np.int32) for p in self.planes)
        return (hi_x << 8) + lo_x - 1, (hi_y << 8) + lo_y - 1


def warped_roi(
    M: np.ndarray, roi: tuple[int, int, int, int], size_wh: tuple[int, int]
) -> tuple[int, int, int, int] | None:
    """A region (y0, y1, x0, x1) of the output that holds every output pixel whose nearest
    input pixel lies in ``roi``; None if there is none.

    A nearest-neighbour warp reads the input pixel within half a pixel of the exact inverse
    image (OpenCV: within 1/1024 more), so the output box of the roi grown by that much holds
    them all: a quadrilateral is convex, so the box of its corners contains it.
    """
    W, H = size_wh
    y0, y1, x0, x1 = roi
    if y0 >= y1 or x0 >= x1:
        return None
    g = 0.5 + 1.0 / 16.0
    corners = np.array([[x0 - g, y0 - g, 1], [x1 - 1 + g, y0 - g, 1], [x1 - 1 + g, y1 - 1 + g, 1], [x0 - g, y1 - 1 + g, 1]])
    p = corners @ M.T
    if np.any(p[:, 2] <= 1e-9):  # the roi crosses the horizon: no bound short of the frame
        return 0, H, 0, W
    x, y = p[:, 0] / p[:, 2], p[:, 1] / p[:, 2]
    bx0, bx1 = max(math.floor(x.min()) - 1, 0), min(math.ceil(x.max()) + 2, W)
    by0, by1 = max(math.floor(y.min()) - 1, 0), min(math.ceil(y.max()) + 2, H)
    if bx0 >= bx1 or by0 >= by1:
        return None
    return by0, by1, bx0, bx1


def gather_roi_mask(
    mask: np.ndarray, roi: tuple[int, int, int, int], source: SourcePixels, out_roi: tuple[int, int, int, int]
) -> np.ndarray:
    """The part over ``out_roi`` of the warp of a frame-sized mask that is ``mask`` over ``roi``
    and zero elsewhere, read through ``source``: bool, never frame-sized."""
    y0, y1, x0, x1 = roi
    sx, sy = source.xy(out_roi)
    sx -= x0
    sy -= y0
    inside = (sx >= 0) & (sx < x1 - x0) & (sy >= 0) & (sy < y1 - y0)
    out = np.zeros(sx.shape, bool)
    out[inside] = mask[sy[inside], sx[inside]]
    return out


def warp_whole_mask(
    mask: np.ndarray, origin: tuple[int, int], M: np.ndarray
) -> tuple[np.ndarray, tuple[int, int]]:
    """A mask at canvas ``origin`` (x, y) warped by ``M`` into its own box, whatever part of it
    leaves the frame: (warped bool mask, its canvas origin)."""
    ox, oy = origin
    fh, fw = mask.shape
    Mf = M @ np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1.0]])
    box = warp_box(Mf, (fw, fh), margin=1)
    shift = np.array([[1, 0, -box[0]], [0, 1, -box[1]], [0, 0, 1.0]])
    out = warp_labels(mask.astype(np.uint8), shift @ Mf, (box[2] - box[0], box[3] - box[1])).astype(bool)
    return out, (box[0], box[1])
