#!/usr/bin/env python3
"""Regenerate the bundled default assets of synthgen under ``assets/``.

Usage (from the repository root)::

    python scripts/make_assets.py                      # rewrite assets/
    python scripts/make_assets.py --check-image /tmp/assets_check.png

What it writes (deterministically: fixed seeds, no network access):

* ``assets/objects/<class>/<variant>.png``  RGBA cutouts of the labelled
  street-scene classes, rendered from the Noto Color Emoji font.
* ``assets/distractors/<kind>/<variant>.png``  RGBA cutouts used as unlabelled
  clutter, rendered the same way.
* ``assets/backgrounds/*.jpg``  CC0 / public-domain photos shipped inside the
  scikit-image wheel (``skimage.data``) plus procedural backgrounds.
* ``assets/LICENSES.md``  provenance and licence of every file.

Requirements (only for this script; they are NOT runtime dependencies of
synthgen):

* the Debian package ``fonts-noto-color-emoji`` (provides
  /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf; override with --font),
* Pillow built with libraqm (the PyPI wheels are), needed so that emoji
  sequences (skin-tone modifiers, ZWJ, U+FE0F) shape into a single glyph,
* numpy, scipy, opencv-python(-headless) and ``scikit-image`` (for the photos).

Rendering notes: Pillow can load the CBDT bitmap font only at size 109, which
yields 136x128 bitmaps.  ``font.getmask2(text, mode="RGBA")`` returns straight
(un-premultiplied) RGBA, unlike ``ImageDraw.text(embedded_color=True)``, which
composites onto a transparent-black canvas and leaves premultiplied colours
(a dark fringe).  Every cutout is trimmed to its alpha bounding box, and the
RGB of fully transparent pixels is filled with the colour of the nearest
visible pixel ("alpha bleeding") so that bilinear resampling of the straight
RGBA image cannot pull black into the edges either.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageFont, features
from scipy import ndimage

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
FONT_SIZE = 109  # the only size Pillow accepts for the CBDT strike
GLYPH_W = 136  # width of one rendered Noto emoji bitmap at size 109
NOTO_SRC = (
    "Noto Color Emoji, Google, Apache License 2.0 "
    "(<https://github.com/googlefonts/noto-emoji>)"
)

# --------------------------------------------------------------------------
# Emoji specifications
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One output cutout: an emoji sequence plus an optional colour edit."""

    name: str  # output file stem
    seq: str  # the emoji sequence (fully qualified)
    desc: str  # human readable description for LICENSES.md
    hue: float = 0.0  # hue rotation in degrees
    sat: float = 1.0  # saturation multiplier
    val: float = 1.0  # brightness multiplier

    @property
    def modified(self) -> bool:
        return self.hue != 0.0 or self.sat != 1.0 or self.val != 1.0


FE0F = "\uFE0F"
ZWJ = "\u200D"
FEMALE = ZWJ + "\u2640" + FE0F
MALE = ZWJ + "\u2642" + FE0F
TONE = {n: chr(0x1F3FA + n) for n in range(1, 6)}  # 1=light(1F3FB) .. 5=dark(1F3FF)

OBJECTS: dict[str, list[Variant]] = {
    "car": [
        Variant("automobile", "\U0001F697", "automobile"),
        Variant("suv", "\U0001F699", "recreational vehicle"),
        Variant("taxi", "\U0001F695", "taxi"),
        Variant("police_car", "\U0001F693", "police car"),
        Variant("racing_car", "\U0001F3CE" + FE0F, "racing car"),
        Variant("oncoming_automobile", "\U0001F698", "oncoming automobile"),
    ],
    "bus": [
        Variant("bus", "\U0001F68C", "bus"),
        Variant("trolleybus", "\U0001F68E", "trolleybus"),
        Variant("minibus", "\U0001F690", "minibus"),
        Variant("oncoming_bus", "\U0001F68D", "oncoming bus"),
    ],
    "truck": [
        Variant("delivery_truck", "\U0001F69A", "delivery truck"),
        Variant("articulated_lorry", "\U0001F69B", "articulated lorry"),
        Variant("pickup_truck", "\U0001F6FB", "pickup truck"),
        Variant("fire_engine", "\U0001F692", "fire engine"),
    ],
    "bicycle": [
        Variant("bicycle", "\U0001F6B2", "bicycle"),
        Variant("bicycle_hue090", "\U0001F6B2", "bicycle", hue=90),
        Variant("bicycle_hue180", "\U0001F6B2", "bicycle", hue=180),
        Variant("bicycle_hue270", "\U0001F6B2", "bicycle", hue=270),
    ],
    "motorcycle": [
        Variant("motorcycle", "\U0001F3CD" + FE0F, "motorcycle"),
        Variant("motorcycle_hue120", "\U0001F3CD" + FE0F, "motorcycle", hue=120),
        Variant("motor_scooter", "\U0001F6F5", "motor scooter"),
        Variant("motor_scooter_hue150", "\U0001F6F5", "motor scooter", hue=150),
    ],
    "person": [
        Variant("walking_tone1", "\U0001F6B6" + TONE[1], "person walking, light skin tone"),
        Variant("walking_woman_tone4", "\U0001F6B6" + TONE[4] + FEMALE,
                "woman walking, medium-dark skin tone"),
        Variant("standing_tone3", "\U0001F9CD" + TONE[3], "person standing, medium skin tone"),
        Variant("standing_man_tone5", "\U0001F9CD" + TONE[5] + MALE,
                "man standing, dark skin tone"),
        Variant("running_tone2", "\U0001F3C3" + TONE[2], "person running, medium-light skin tone"),
        Variant("running_woman_tone3", "\U0001F3C3" + TONE[3] + FEMALE,
                "woman running, medium skin tone"),
    ],
    "traffic_light": [
        Variant("vertical", "\U0001F6A6", "vertical traffic light"),
        Variant("horizontal", "\U0001F6A5", "horizontal traffic light"),
        Variant("vertical_dim", "\U0001F6A6", "vertical traffic light", sat=0.85, val=0.75),
        Variant("horizontal_faded", "\U0001F6A5", "horizontal traffic light", sat=0.7, val=1.08),
    ],
    "stop_sign": [
        Variant("stop_sign", "\U0001F6D1", "stop sign"),
        Variant("stop_sign_dim", "\U0001F6D1", "stop sign", val=0.78),
        Variant("stop_sign_faded", "\U0001F6D1", "stop sign", sat=0.82, val=1.04),
    ],
}

DISTRACTORS: dict[str, list[Variant]] = {
    "tree": [
        Variant("deciduous_tree", "\U0001F333", "deciduous tree"),
        Variant("evergreen_tree", "\U0001F332", "evergreen tree"),
    ],
    "dog": [
        Variant("dog", "\U0001F415", "dog"),
        Variant("guide_dog", "\U0001F9AE", "guide dog"),
    ],
    "bin": [Variant("wastebasket", "\U0001F5D1" + FE0F, "wastebasket")],
    "rock": [Variant("rock", "\U0001FAA8", "rock")],
    "box": [Variant("package", "\U0001F4E6", "package")],
    "barrier": [Variant("construction", "\U0001F6A7", "construction barrier")],
    "fuel_pump": [Variant("fuel_pump", "\u26FD", "fuel pump")],
}


def codepoints(seq: str) -> str:
    return " ".join(f"U+{ord(c):04X}" for c in seq)


# --------------------------------------------------------------------------
# Emoji rendering
# --------------------------------------------------------------------------


def load_font(path: Path) -> ImageFont.FreeTypeFont:
    if not path.exists():
        sys.exit(f"error: {path} not found (apt-get install fonts-noto-color-emoji)")
    if not features.check("raqm"):
        sys.exit("error: Pillow lacks libraqm; emoji sequences would not shape")
    return ImageFont.truetype(str(path), FONT_SIZE, layout_engine=ImageFont.Layout.RAQM)


def render_glyph(font: ImageFont.FreeTypeFont, seq: str) -> Image.Image:
    """Render *seq* as straight-alpha RGBA, trimmed to the alpha bbox."""
    core, _offset = font.getmask2(seq, mode="RGBA")
    im = Image.Image()._new(core)  # ImagingCore -> Image (mode RGBA)
    if im.mode != "RGBA":
        raise RuntimeError(f"{codepoints(seq)}: unexpected mode {im.mode}")
    # One emoji bitmap is 136 px wide; wider means the sequence did not shape
    # into a single glyph (e.g. a modifier rendered next to its base).
    if im.width > GLYPH_W:
        raise RuntimeError(f"{codepoints(seq)}: rendered as several glyphs ({im.size})")
    bbox = im.getchannel("A").getbbox()
    if bbox is None:
        raise RuntimeError(f"{codepoints(seq)}: rendered empty")
    im = im.crop(bbox)
    # A colour bitmap has shading; a fallback outline/silhouette glyph is flat.
    arr = np.asarray(im)
    vis = arr[..., 3] > 128
    if vis.sum() < 500 or arr[..., :3][vis].astype(np.float32).std(axis=0).max() < 12:
        raise RuntimeError(f"{codepoints(seq)}: not rendered as a colour image")
    return im


def adjust_colour(im: Image.Image, hue: float, sat: float, val: float) -> Image.Image:
    """Rotate hue (degrees) and scale saturation/value; alpha is unchanged."""
    if hue == 0.0 and sat == 1.0 and val == 1.0:
        return im
    arr = np.asarray(im)
    hsv = cv2.cvtColor(arr[..., :3], cv2.COLOR_RGB2HSV_FULL).astype(np.float32)
    hsv[..., 0] = np.mod(hsv[..., 0] + hue * 256.0 / 360.0, 256.0)
    hsv[..., 1] = np.clip(hsv[..., 1] * sat, 0, 255)
    hsv[..., 2] = np.clip(hsv[..., 2] * val, 0, 255)
    rgb = cv2.cvtColor(np.rint(hsv).astype(np.uint8), cv2.COLOR_HSV2RGB_FULL)
    return Image.fromarray(np.dstack([rgb, arr[..., 3]]), "RGBA")


def bleed_alpha(im: Image.Image) -> Image.Image:
    """Give fully transparent pixels the RGB of the nearest visible pixel."""
    arr = np.array(im)
    hidden = arr[..., 3] == 0
    if hidden.any():
        _, (iy, ix) = ndimage.distance_transform_edt(hidden, return_indices=True)
        arr[..., :3] = arr[iy, ix, :3]
    return Image.fromarray(arr, "RGBA")


def fringe_score(im: Image.Image) -> float:
    """Mean luminance ratio of semi-transparent edge pixels to nearby opaque ones.

    ~1 means edge colours match their neighbours; a premultiplied (dark
    fringe) cutout scores roughly alpha/255, i.e. well below 0.7.
    """
    arr = np.asarray(im).astype(np.float32)
    a = arr[..., 3]
    lum = arr[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    opaque = (a >= 250).astype(np.float32)
    k = np.ones((7, 7), np.float32)
    num = cv2.filter2D(lum * opaque, -1, k, borderType=cv2.BORDER_CONSTANT)
    den = cv2.filter2D(opaque, -1, k, borderType=cv2.BORDER_CONSTANT)
    edge = (a > 0) & (a < 200) & (den > 0)
    if not edge.any():
        return 1.0
    ref = num[edge] / den[edge]
    return float(np.mean((lum[edge] + 8) / (ref + 8)))


def make_cutouts(font, spec: dict[str, list[Variant]], out_dir: Path) -> list[Path]:
    written = []
    for cls, variants in spec.items():
        (out_dir / cls).mkdir(parents=True, exist_ok=True)
        for v in variants:
            im = render_glyph(font, v.seq)
            im = adjust_colour(im, v.hue, v.sat, v.val)
            score = fringe_score(im)
            if score < 0.8:
                raise RuntimeError(f"{cls}/{v.name}: dark fringe suspected ({score:.2f})")
            im = bleed_alpha(im)
            path = out_dir / cls / f"{v.name}.png"
            im.save(path, optimize=True)
            written.append(path)
    return written


# --------------------------------------------------------------------------
# Backgrounds: photos from skimage.data
# --------------------------------------------------------------------------

MAX_SIDE = 800
JPEG_QUALITY = 90


@dataclass(frozen=True)
class Photo:
    func: str  # skimage.data function name
    author: str  # original author / source as given in the docstring
    licence: str
    tint: tuple | None = None  # (dark RGB, light RGB) to colourise greyscale
    notes: str = field(default="")


# Deliberately not used although their licence would allow it: astronaut and
# camera (a prominent, unlabelled person would poison the "person" class),
# retina (medical fundus image), and the greyscale-only / non-photo images.
PHOTOS = [
    Photo("brick", "CC0Textures (Bricks25)", "CC0",
          tint=((40, 18, 12), (235, 170, 140))),
    Photo("grass", "linolafett on DeviantArt (Grass-01)", "CC0",
          tint=((18, 34, 8), (196, 226, 120))),
    Photo("gravel", "CC0Textures (Gravel04)", "CC0",
          tint=((22, 20, 18), (236, 228, 214))),
    Photo("coffee", "Rachel Michetti, courtesy of Pikolo Espresso Bar", "CC0"),
    Photo("rocket", "SpaceX (DSCOVR launch on Falcon 9)", "Public domain"),
    Photo("chelsea", "Stefan van der Walt (Chelsea the cat)", "CC0"),
    Photo("hubble_deep_field", "NASA / HubbleSite (Hubble eXtreme Deep Field)",
          "Public domain"),
]


def colourise(grey: np.ndarray, dark, light) -> np.ndarray:
    t = (grey.astype(np.float32) / 255.0)[..., None]
    dark = np.asarray(dark, np.float32)
    light = np.asarray(light, np.float32)
    return np.clip(np.rint(dark + t * (light - dark)), 0, 255).astype(np.uint8)


def fit(im: Image.Image, max_side: int = MAX_SIDE) -> Image.Image:
    scale = max_side / max(im.size)
    if scale >= 1.0:
        return im
    size = (round(im.width * scale), round(im.height * scale))
    return im.resize(size, Image.Resampling.LANCZOS)


def save_jpeg(arr_or_im, path: Path) -> None:
    im = arr_or_im if isinstance(arr_or_im, Image.Image) else Image.fromarray(arr_or_im)
    im.convert("RGB").save(path, quality=JPEG_QUALITY, optimize=True)


def make_photos(out_dir: Path) -> list[tuple[Path, Photo, str]]:
    import skimage.data

    rows = []
    for p in PHOTOS:
        arr = getattr(skimage.data, p.func)()
        mods = []
        if arr.ndim == 2:
            if p.tint is not None:
                arr = colourise(arr, *p.tint)
                mods.append("greyscale colourised with a two-colour ramp")
            else:
                arr = np.repeat(arr[..., None], 3, axis=2)
                mods.append("greyscale converted to RGB")
        im = Image.fromarray(arr[..., :3])
        small = fit(im)
        if small.size != im.size:
            mods.append(f"resized {im.width}x{im.height} -> {small.width}x{small.height}")
        mods.append(f"JPEG q{JPEG_QUALITY}")
        path = out_dir / f"{p.func}.jpg"
        save_jpeg(small, path)
        rows.append((path, p, ", ".join(mods)))
    return rows


# --------------------------------------------------------------------------
# Backgrounds: procedural (800x600)
# --------------------------------------------------------------------------

W, H = 800, 600


# Background classes (synthgen/stuff.py): the label value of each class in every bundled
# <name>.labels.png; the folder's labels.json names them. The labels are drawn with the very
# masks that paint the image (before its final blur), so they are exact by construction.
LABEL_VALUES = {"road": 1, "sidewalk": 2, "curb": 3, "lane_marking": 4, "vegetation": 5, "sky": 6, "building": 7}
LANE_LABEL = {"lane_solid": "lane_marking", "lane_dashed": "lane_marking", "stop_line": "lane_marking", "curb": "curb"}


def new_labels(cls: str | None = None) -> np.ndarray:
    return np.full((H, W), LABEL_VALUES[cls] if cls else 0, np.uint8)


def noise_field(rng, shape, sigmas_weights) -> np.ndarray:
    """Sum of Gaussian-blurred white noise at several scales, ~unit std."""
    out = np.zeros(shape, np.float32)
    for sigma, weight in sigmas_weights:
        n = rng.standard_normal(shape).astype(np.float32)
        if sigma > 0:
            n = cv2.GaussianBlur(n, (0, 0), sigma)
            n /= n.std() + 1e-6
        out += weight * n
    return out


def vertical_gradient(top, bottom, h, w) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    top = np.asarray(top, np.float32)
    bottom = np.asarray(bottom, np.float32)
    return np.broadcast_to(top + t * (bottom - top), (h, w, 3)).copy()


def to_u8(img: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def bg_road(rng) -> tuple[np.ndarray, np.ndarray]:
    """Sky-to-road perspective scene with lane markings."""
    hz = ROAD_HORIZON  # horizon row
    img = vertical_gradient((92, 146, 210), (205, 222, 236), H, W)
    labels = new_labels("sky")
    # distant tree line / hills along the horizon
    ridge = hz - 18 - 14 * noise_field(rng, (1, W), [(25, 1.0)])[0]
    ridge = np.clip(ridge, hz - 45, hz - 4)
    yy = np.arange(H)[:, None]
    hills = (yy >= ridge[None, :]) & (yy < hz)
    img[hills] = (64, 92, 60)
    labels[hills] = LABEL_VALUES["vegetation"]
    labels[hz:] = LABEL_VALUES["vegetation"]
    # ground: grass verges
    ground = vertical_gradient((108, 132, 78), (70, 104, 46), H - hz, W)
    ground += 10 * noise_field(rng, (H - hz, W), [(1, 0.5), (4, 0.8)])[..., None]
    img[hz:] = ground
    # road trapezoid
    vx = W // 2
    road = np.zeros((H, W), np.uint8)
    cv2.fillPoly(road, [np.array([[vx - 6, hz], [vx + 6, hz], [W + 260, H], [-260, H]], np.int32)], 1)
    asphalt = 92 + 9 * noise_field(rng, (H, W), [(0, 0.6), (2, 0.6), (30, 0.5)])
    img[road.astype(bool)] = np.stack([asphalt, asphalt, asphalt * 1.04], -1)[road.astype(bool)]
    labels[road.astype(bool)] = LABEL_VALUES["road"]
    # lane markings in perspective: world x offsets, depth z -> screen
    f = (H - hz)  # screen y = hz + f / z ; z = 1 is the bottom row

    def screen(xw, z):
        return vx + xw * 530 / z, hz + f / z

    marks = np.zeros((H, W), np.uint8)
    for xw, dashed in ((-1.0, False), (0.0, True), (1.0, False)):
        z0, step = 1.0, 0.45
        while z0 < 60:
            z1 = z0 * (1 + step)
            if not dashed or int(np.log(z0) / np.log(1 + step)) % 2 == 0:
                w0, w1 = 0.018, 0.018
                quad = [screen(xw - w0, z0), screen(xw + w0, z0),
                        screen(xw + w1, z1), screen(xw - w1, z1)]
                cv2.fillPoly(marks, [np.array(quad, np.float32).round().astype(np.int32)], 1)
            z0 = z1
    labels[marks.astype(bool)] = LABEL_VALUES["lane_marking"]
    marks_f = cv2.GaussianBlur(marks.astype(np.float32), (0, 0), 0.7)[..., None]
    img = img * (1 - 0.85 * marks_f) + 0.85 * marks_f * np.array([232, 232, 222], np.float32)
    return to_u8(cv2.GaussianBlur(img, (0, 0), 0.6)), labels


def bg_asphalt(rng) -> tuple[np.ndarray, np.ndarray]:
    """Top-down noisy asphalt with aggregate speckles, cracks and a stain."""
    base = 88 + 7 * noise_field(rng, (H, W), [(0, 0.9), (1.2, 0.6), (8, 0.5), (60, 0.8)])
    speck = rng.random((H, W)) < 0.012
    base[speck] += rng.uniform(25, 60, speck.sum())
    dark = rng.random((H, W)) < 0.01
    base[dark] -= rng.uniform(20, 40, dark.sum())
    img = np.stack([base, base * 1.0, base * 1.03], -1)
    # oil stain
    stain = np.zeros((H, W), np.float32)
    cv2.ellipse(stain, (520, 360), (90, 55), 20, 0, 360, 1.0, -1)
    stain = cv2.GaussianBlur(stain, (0, 0), 25)
    img *= (1 - 0.35 * stain)[..., None]
    # cracks: random walks
    cracks = np.zeros((H, W), np.uint8)
    for _ in range(3):
        p = np.array([rng.uniform(0, W), rng.uniform(0, H)])
        ang = rng.uniform(0, 2 * np.pi)
        pts = [p.copy()]
        for _ in range(60):
            ang += rng.normal(0, 0.18)
            p = p + 6 * np.array([np.cos(ang), np.sin(ang)])
            pts.append(p.copy())
        cv2.polylines(cracks, [np.array(pts).round().astype(np.int32)], False, 1, 2,
                      lineType=cv2.LINE_AA)
    img[cracks.astype(bool)] *= 0.6
    # faded yellow edge line
    line = np.zeros((H, W), np.float32)
    cv2.rectangle(line, (90, 0), (112, H), 1.0, -1)
    line *= np.clip(0.7 + 0.3 * noise_field(rng, (H, W), [(3, 1.0)]), 0, 1)
    img = img * (1 - 0.6 * line[..., None]) + 0.6 * line[..., None] * np.array([214, 180, 70])
    labels = new_labels("road")
    labels[:, 90:113] = LABEL_VALUES["lane_marking"]  # the edge line's rectangle (cv2 includes x = 112)
    return to_u8(img), labels


def bg_bokeh(rng) -> np.ndarray:
    """Night street: defocused coloured light blobs on a dark gradient."""
    img = vertical_gradient((12, 14, 30), (38, 30, 34), H, W)
    palette = np.array([
        (255, 176, 64), (255, 214, 120), (255, 90, 60), (250, 240, 220),
        (110, 170, 255), (120, 230, 160), (255, 130, 170),
    ], np.float32)
    for layer, (n, rmin, rmax, blur) in enumerate(((40, 30, 80, 14), (55, 12, 40, 5))):
        acc = np.zeros((H, W, 3), np.float32)
        for _ in range(n):
            c = palette[rng.integers(len(palette))] * rng.uniform(0.4, 0.9)
            x, y = int(rng.uniform(0, W)), int(rng.uniform(0, H * 0.85))
            r = int(rng.uniform(rmin, rmax))
            blob = np.zeros((H, W), np.float32)
            cv2.circle(blob, (x, y), r, 1.0, -1, lineType=cv2.LINE_AA)
            acc += blob[..., None] * c * (0.35 if layer == 0 else 0.55)
        img += cv2.GaussianBlur(acc, (0, 0), blur)
    img += 3 * noise_field(rng, (H, W), [(0, 1.0)])[..., None]
    return to_u8(img), None


def bg_skyline(rng) -> tuple[np.ndarray, np.ndarray]:
    """Dusk sky over a city skyline silhouette with lit windows and a street."""
    img = vertical_gradient((30, 40, 92), (246, 150, 90), H, W)
    labels = new_labels("sky")
    building = LABEL_VALUES["building"]
    base_y = 470
    for layer, (col, hmin, hmax, lit) in enumerate((((88, 70, 110), 120, 300, 0.0),
                                                     ((26, 24, 36), 60, 260, 0.28))):
        x = int(rng.integers(-30, 0))
        while x < W:
            bw = int(rng.integers(40, 110))
            bh = int(rng.integers(hmin, hmax))
            top = base_y - bh
            cv2.rectangle(img, (x, top), (x + bw, base_y), col, -1)
            cv2.rectangle(labels, (x, top), (x + bw, base_y), building, -1)
            if layer == 1:
                if rng.random() < 0.3:  # antenna
                    ax = x + bw // 2
                    tip = (ax, top - int(rng.integers(15, 45)))
                    cv2.line(img, (ax, top), tip, col, 2)
                    cv2.line(labels, (ax, top), tip, building, 2)
                for wy in range(top + 10, base_y - 12, 16):
                    for wx in range(x + 7, x + bw - 10, 13):
                        if rng.random() < lit:
                            glow = rng.uniform(0.75, 1.0)
                            cv2.rectangle(img, (wx, wy), (wx + 6, wy + 8),
                                          (255 * glow, 214 * glow, 120 * glow), -1)
            x += bw + int(rng.integers(0, 12))
    # street and sidewalk
    img[base_y:base_y + 18] = (70, 66, 72)
    labels[base_y:base_y + 18] = LABEL_VALUES["sidewalk"]
    img[base_y + 18:] = vertical_gradient((44, 42, 48), (58, 56, 62), H - base_y - 18, W)
    labels[base_y + 18:] = LABEL_VALUES["road"]
    for x in range(10, W, 120):
        cv2.rectangle(img, (x, 545), (x + 60, 551), (200, 196, 170), -1)
        cv2.rectangle(labels, (x, 545), (x + 60, 551), LABEL_VALUES["lane_marking"], -1)
    img += 4 * noise_field(rng, (H, W), [(0, 0.7), (2, 0.5)])[..., None]
    return to_u8(cv2.GaussianBlur(img, (0, 0), 0.6)), labels


def bg_pavement(rng) -> tuple[np.ndarray, np.ndarray]:
    """Top-down paving slabs in running bond next to a strip of lawn."""
    img = np.zeros((H, W, 3), np.float32)
    joints = np.zeros((H, W), np.uint8)
    tile_w, tile_h = 96, 64
    for row, y in enumerate(range(0, H, tile_h)):
        off = (tile_w // 2) * (row % 2)
        for x in range(-off, W, tile_w):
            shade = rng.normal(0, 9)
            col = np.array((168, 160, 148), np.float32) + shade + rng.normal(0, 1.5, 3)
            cv2.rectangle(img, (x, y), (x + tile_w, y + tile_h), col.tolist(), -1)
            cv2.rectangle(joints, (x, y), (x + tile_w, y + tile_h), 1, 2)
    img += 8 * noise_field(rng, (H, W), [(0, 0.6), (1.5, 0.6), (20, 0.5)])[..., None]
    j = cv2.GaussianBlur(joints.astype(np.float32), (0, 0), 0.8)[..., None]
    img = img * (1 - 0.7 * j) + 0.7 * j * np.array((70, 66, 60), np.float32)
    # lawn strip on the right with a kerb
    lawn_x = 640
    grass = 90 + 22 * noise_field(rng, (H, W - lawn_x), [(0, 0.8), (1, 0.7), (10, 0.4)])
    img[:, lawn_x:] = np.stack([grass * 0.62, grass * 1.05, grass * 0.42], -1)
    img[:, lawn_x - 14:lawn_x] = np.array((196, 194, 188), np.float32) + 6 * noise_field(
        rng, (H, 14), [(0, 1.0)])[..., None]
    labels = new_labels("sidewalk")
    labels[:, lawn_x - 14:lawn_x] = LABEL_VALUES["curb"]
    labels[:, lawn_x:] = LABEL_VALUES["vegetation"]
    return to_u8(img), labels


PROCEDURAL = [
    ("procedural_road", bg_road, 1001, "sky-to-road perspective scene with lane markings"),
    ("procedural_asphalt", bg_asphalt, 1002, "noisy asphalt texture with cracks and a stain"),
    ("procedural_bokeh", bg_bokeh, 1003, "defocused coloured lights at night"),
    ("procedural_skyline", bg_skyline, 1004, "dusk city skyline silhouette"),
    ("procedural_pavement", bg_pavement, 1005, "paving slabs and lawn, top-down"),
]


# Placement regions (<name>.region.png: white where objects may stand), for procedural
# backgrounds whose ground is known exactly.
ROAD_HORIZON = 250


def region_road() -> np.ndarray:
    region = np.zeros((H, W), np.uint8)
    region[ROAD_HORIZON + 2 :] = 255  # the road and its verges, below the horizon
    return region


REGIONS = {"procedural_road": (region_road, "ground below the horizon (road and verges)")}


def save_labels(labels: np.ndarray, path: Path) -> None:
    """A <name>.labels.png: one class value per pixel, greyscale."""
    Image.fromarray(labels, "L").save(path, optimize=True)


def labels_json(out_dir: Path) -> Path:
    """The folder's labels.json: the name of every value of LABEL_VALUES."""
    import json

    path = out_dir / "labels.json"
    path.write_text(json.dumps({"classes": {str(v): k for k, v in LABEL_VALUES.items()}}, indent=1) + "\n")
    return path


def check_same(arr: np.ndarray, path: Path) -> None:
    """--labels-only: the image the labels were drawn with must be the shipped one, byte for byte."""
    import io

    buf = io.BytesIO()
    Image.fromarray(arr).convert("RGB").save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    if not path.is_file() or buf.getvalue() != path.read_bytes():
        raise SystemExit(f"{path}: the regenerated image differs from the shipped one; its labels would not match it")


LABEL_DESC = "class per pixel (labels.json names the values), drawn with the masks that paint it"


def make_procedural(out_dir: Path, labels_only: bool = False) -> tuple[list[tuple[Path, str, int]], list[tuple[Path, str, int]]]:
    """The procedural backgrounds (rows for LICENSES.md) and their label images (rows of their own);
    ``labels_only``: write only the label images, after checking the images are the shipped ones."""
    rows, label_rows = [], []
    for name, fn, seed, desc in PROCEDURAL:
        rng = np.random.default_rng(seed)
        arr, labels = fn(rng)
        assert arr.shape == (H, W, 3), (name, arr.shape)
        path = out_dir / f"{name}.jpg"
        if labels_only:
            check_same(arr, path)
        else:
            save_jpeg(arr, path)
        rows.append((path, desc, seed))
        if labels is not None:
            label_path = out_dir / f"{name}.labels.png"
            save_labels(labels, label_path)
            label_rows.append((label_path, f"labels of {name}.jpg: {LABEL_DESC}", seed))
        if name in REGIONS:
            make_region, region_desc = REGIONS[name]
            region_path = out_dir / f"{name}.region.png"
            if not labels_only:
                Image.fromarray(make_region(), "L").save(region_path, optimize=True)
            rows.append((region_path, f"placement region of {name}.jpg: {region_desc}", seed))
    return rows, label_rows


PHOTO_LABELS = {"grass": "vegetation"}  # photos that are one class throughout


def make_photo_labels(out_dir: Path) -> list[tuple[Path, str, int]]:
    rows = []
    for func, cls in PHOTO_LABELS.items():
        with Image.open(out_dir / f"{func}.jpg") as im:
            w, h = im.size
        path = out_dir / f"{func}.labels.png"
        save_labels(np.full((h, w), LABEL_VALUES[cls], np.uint8), path)
        rows.append((path, f"labels of {func}.jpg: {cls} throughout", None))
    path = labels_json(out_dir)
    rows.append((path, "names of the label values of this folder's <name>.labels.png", None))
    return rows


LABELS_HEADER = "## Background class labels"


def label_licence_lines(assets: Path, rows) -> list[str]:
    lines = ["", LABELS_HEADER, "",
             "Label images of backgrounds (synthgen/stuff.py): one class value per pixel, drawn with the very",
             "masks that paint the image (before its final blur), or one class throughout.", "",
             "| File | Description | Source | Licence |", "|---|---|---|---|"]
    for path, desc, seed in rows:
        made = f", numpy seed {seed}" if seed is not None else ""
        lines.append(f"| `{path.relative_to(assets).as_posix()}` | {desc}{made} | made by scripts/make_assets.py | CC0 |")
    return lines


def write_label_licences(assets: Path, rows) -> None:
    """Puts the labels section of LICENSES.md (before the keypoints section), for --labels-only."""
    path = assets / "LICENSES.md"
    text = path.read_text(encoding="utf-8")
    keypoints = "\n## Keypoint schemas and sidecars\n"
    head, tail = text.split(keypoints, 1)
    head = head.split("\n" + LABELS_HEADER + "\n")[0].rstrip("\n")
    path.write_text("\n".join([head, *label_licence_lines(assets, rows)]) + "\n" + keypoints + tail, encoding="utf-8")


# --------------------------------------------------------------------------
# Procedural roads with exact line labels (assets/roads/): each road is drawn from its lines,
# so road_NN.lines.json (synthgen/lines.py) is where the paint is. A pinhole camera 1.5 m above
# a flat road: a ground point (x, z) metres (across, ahead) is at screen
# (vx + f (x - cam_x + curve z^2 / 2) / z, horizon + f 1.5 / z).
# --------------------------------------------------------------------------

ROADS = 8
ROAD_SEED = 2001
CAM_H = 1.5


@dataclass
class RoadLine:
    label: str  # lane_solid, lane_dashed, stop_line, curb
    xw: float  # metres across the road (stop line: its depth z)
    colour: tuple = (236, 236, 228)
    width: float = 0.15  # metres of paint


def road_scene(rng) -> tuple[np.ndarray, list[dict], int, np.ndarray]:
    """One road: the image, its lines (continuous pixel coordinates), its horizon row and its
    label image (a pixel takes a class where that class' paint covers at least half of it)."""
    from synthgen.lines import clip

    hz = int(rng.uniform(0.34, 0.5) * H)
    z_near = rng.uniform(3.5, 6.0)  # metres ahead at the bottom edge
    f = (H - hz) * z_near / CAM_H
    vx = W / 2 + rng.uniform(-0.08, 0.08) * W
    lanes = int(rng.integers(2, 5))
    lane_w = rng.uniform(3.0, 3.8)
    curve = rng.uniform(-1.0, 1.0) * 0.004
    cam_x = (int(rng.integers(0, lanes)) + rng.uniform(0.3, 0.7)) * lane_w
    z_far = min(f * CAM_H / 3.0, 250.0)  # 3 px below the horizon
    zs = np.geomspace(z_near * 0.9, z_far, 160)

    def screen(xw, z):
        z = np.asarray(z, np.float64)
        return np.stack([vx + f * (xw - cam_x + curve * z * z / 2) / z, hz + f * CAM_H / z], -1)

    road_w = lanes * lane_w
    lines = []
    two_way = lanes >= 2 and rng.random() < 0.5
    for k in range(lanes + 1):
        if k in (0, lanes):
            lines.append(RoadLine("lane_solid", k * lane_w))
        elif two_way and k == lanes // 2:
            lines.append(RoadLine("lane_solid", k * lane_w, (232, 196, 60), 0.2))
        else:
            lines.append(RoadLine("lane_dashed", k * lane_w))
    for side in (-0.6, road_w + 0.6):
        if rng.random() < 0.7:
            lines.append(RoadLine("curb", side, (188, 186, 180), 0.3))
    stop_z = rng.uniform(9.0, 22.0) if rng.random() < 0.35 else None

    # sky, distant ridge, verges
    sky_top = np.array((92, 146, 210)) + rng.uniform(-20, 20, 3)
    img = vertical_gradient(sky_top, (205, 222, 236), H, W)
    ridge = np.clip(hz - 16 - 14 * noise_field(rng, (1, W), [(25, 1.0)])[0], hz - 45, hz - 3)
    yy = np.arange(H)[:, None]
    img[(yy >= ridge[None, :]) & (yy < hz)] = np.array((64, 92, 60)) + rng.uniform(-12, 12, 3)
    classes = new_labels("sky")
    classes[(yy >= ridge[None, :]) & (yy < hz)] = LABEL_VALUES["vegetation"]
    classes[hz:] = LABEL_VALUES["vegetation"]
    ground = vertical_gradient((108, 132, 78), (70, 104, 46), H - hz, W)
    img[hz:] = ground + 10 * noise_field(rng, (H - hz, W), [(1, 0.5), (4, 0.8)])[..., None]

    def strip(a, b, z) -> np.ndarray:
        pts = np.concatenate([screen(a, z), screen(b, z)[::-1]])
        pts = np.clip(pts, [-8 * W, -8 * H], [9 * W, 9 * H])
        return np.round(pts * 16).astype(np.int32)

    def fill(mask, poly):
        cv2.fillPoly(mask, [poly], 255, cv2.LINE_AA, shift=4)

    road = np.zeros((H, W), np.uint8)
    fill(road, strip(-0.9, road_w + 0.9, zs))
    shade = rng.uniform(78, 108)
    asphalt = shade + 9 * noise_field(rng, (H, W), [(0, 0.6), (2, 0.6), (30, 0.5)])
    a = (road.astype(np.float32) / 255)[..., None]
    img = img * (1 - a) + a * np.stack([asphalt, asphalt, asphalt * 1.04], -1)
    classes[road >= 128] = LABEL_VALUES["road"]

    wear = np.clip(0.35 * noise_field(rng, (H, W), [(3, 0.5), (20, 0.8)]), 0, 0.7)  # worn paint
    wear *= rng.uniform(0.2, 1.0)
    phase = rng.uniform(0, 9.0)
    labels = []
    for line in lines:
        mask = np.zeros((H, W), np.uint8)
        half = line.width / 2
        if line.label == "lane_dashed":  # 3 m of paint, 6 m of gap
            z0 = z_near * 0.9 - phase
            while z0 < z_far:
                seg = np.geomspace(max(z0, z_near * 0.9), min(z0 + 3.0, z_far), 12) if z0 + 3.0 > z_near * 0.9 else None
                if seg is not None:
                    fill(mask, strip(line.xw - half, line.xw + half, seg))
                z0 += 9.0
        else:
            fill(mask, strip(line.xw - half, line.xw + half, zs))
        classes[mask >= 128] = LABEL_VALUES[LANE_LABEL[line.label]]
        m = (mask.astype(np.float32) / 255) * (1 - (wear if line.label != "curb" else 0))
        m = m[..., None]
        img = img * (1 - m) + m * np.array(line.colour, np.float32)
        for part in clip(screen(line.xw, zs), (W, H)):
            labels.append({"class": line.label, "points": np.round(part, 2).tolist()})
    if stop_z is not None:
        mask = np.zeros((H, W), np.uint8)
        fill(mask, strip(0.0, road_w, np.array([stop_z - 0.25, stop_z + 0.25])))
        classes[mask >= 128] = LABEL_VALUES["lane_marking"]
        m = (mask.astype(np.float32) / 255 * (1 - wear))[..., None]
        img = img * (1 - m) + m * np.array((236, 236, 228), np.float32)
        ends = np.concatenate([screen(0.0, [stop_z]), screen(road_w, [stop_z])])
        for part in clip(ends, (W, H)):
            labels.append({"class": "stop_line", "points": np.round(part, 2).tolist()})
    return to_u8(cv2.GaussianBlur(img, (0, 0), 0.6)), labels, hz, classes


def make_roads(out_dir: Path, labels_only: bool = False) -> list[tuple[Path, str, int]]:
    """assets/roads/road_NN.jpg with its .lines.json, .region.png (ground below the horizon) and
    .labels.png (road, lane markings, curbs, verges, sky); ``labels_only``: only the label images
    and labels.json, after checking the images are the shipped ones."""
    import json

    if not labels_only:
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir(parents=True)
    rows = []
    for i in range(ROADS):
        seed = ROAD_SEED + i
        img, labels, hz, classes = road_scene(np.random.default_rng(seed))
        path = out_dir / f"road_{i:02d}.jpg"
        if labels_only:
            check_same(img, path)
        else:
            save_jpeg(img, path)
        rows.append((path, "road in perspective drawn from its lines (lane count, curvature, dashed/solid, worn paint, horizon vary)", seed))
        lines_path = out_dir / f"road_{i:02d}.lines.json"
        if not labels_only:
            lines_path.write_text(json.dumps({"lines": labels}, separators=(",", ":")) + "\n")
        rows.append((lines_path, f"line labels of road_{i:02d}.jpg: the polylines it was drawn from", seed))
        region = np.zeros((H, W), np.uint8)
        region[hz + 2 :] = 255
        region_path = out_dir / f"road_{i:02d}.region.png"
        if not labels_only:
            Image.fromarray(region, "L").save(region_path, optimize=True)
        rows.append((region_path, f"placement region of road_{i:02d}.jpg: ground below the horizon", seed))
        label_path = out_dir / f"road_{i:02d}.labels.png"
        save_labels(classes, label_path)
        rows.append((label_path, f"labels of road_{i:02d}.jpg: {LABEL_DESC} and its lines", seed))
    rows.append((labels_json(out_dir), "names of the label values of this folder's <name>.labels.png", None))
    return rows


ROADS_HEADER = "## Procedural roads with line labels"


def road_licence_lines(assets: Path, rows) -> list[str]:
    lines = ["", ROADS_HEADER, "", "| File | Description | Source | Licence |", "|---|---|---|---|"]
    for path, desc, seed in rows:
        made = f", {W}x{H}, numpy seed {seed}" if seed is not None else ""
        lines.append(f"| `{path.relative_to(assets).as_posix()}` | {desc}{made} "
                     "| made by scripts/make_assets.py | CC0 |")
    return lines


def write_road_licences(assets: Path, rows) -> None:
    """Replaces the roads section (the last) of LICENSES.md, for a run with --roads-only."""
    path = assets / "LICENSES.md"
    text = path.read_text(encoding="utf-8")
    head = text.split("\n" + ROADS_HEADER + "\n")[0].rstrip("\n")
    path.write_text("\n".join([head, *road_licence_lines(assets, rows), ""]), encoding="utf-8")


# --------------------------------------------------------------------------
# Keypoints: a schema per class (objects/<class>/keypoints.yaml) and the points
# of each cutout (objects/<class>/<variant>.keypoints.json), measured by hand
# on the rendered cutouts, in COCO pixel coordinates (pixel centres at +0.5).
# Side views face left, so their near side is the figure's left.
# --------------------------------------------------------------------------

_OCTAGON = ["top_left", "top_right", "right_top", "right_bottom", "bottom_right", "bottom_left", "left_bottom", "left_top"]
_STOP = dict(zip(_OCTAGON, ([34.5, 0.5], [85.5, 0.5], [119.5, 34.5], [119.5, 85.5],
                            [85.5, 119.5], [34.5, 119.5], [0.5, 85.5], [0.5, 34.5])))
_LIGHT_V = {"red": [29.0, 25.5], "yellow": [29.0, 62.5], "green": [29.0, 99.0]}
_LIGHT_H = {"red": [96.5, 30.5], "yellow": [60.0, 30.5], "green": [23.5, 30.5]}
_RUN = {"right_hand": [7.5, 39.0], "left_hand": [40.0, 59.0], "left_foot": [10.0, 113.0], "right_foot": [77.0, 84.0]}
_STAND = {"right_hand": [4.5, 81.0], "left_hand": [47.5, 81.0], "right_foot": [16.0, 117.0], "left_foot": [36.0, 117.0]}
_WALK = {"left_hand": [18.0, 74.0], "left_foot": [9.0, 115.5], "right_foot": [44.5, 110.0]}

KEYPOINTS: dict[str, tuple[dict, dict[str, dict[str, list[float]]]]] = {
    "stop_sign": (
        {"names": _OCTAGON, "skeleton": [[a, b] for a, b in zip(_OCTAGON, _OCTAGON[1:] + _OCTAGON[:1])],
         "flip": [["top_left", "top_right"], ["right_top", "left_top"], ["right_bottom", "left_bottom"],
                  ["bottom_right", "bottom_left"]]},
        {"stop_sign": _STOP, "stop_sign_dim": _STOP, "stop_sign_faded": _STOP},
    ),
    "traffic_light": (
        {"names": ["red", "yellow", "green"], "skeleton": [["red", "yellow"], ["yellow", "green"]], "flip": []},
        {"vertical": _LIGHT_V, "vertical_dim": _LIGHT_V, "horizontal": _LIGHT_H, "horizontal_faded": _LIGHT_H},
    ),
    "person": (
        {"names": ["head", "left_hand", "right_hand", "left_foot", "right_foot"],
         "skeleton": [["head", "left_hand"], ["head", "right_hand"], ["head", "left_foot"], ["head", "right_foot"]],
         "flip": [["left_hand", "right_hand"], ["left_foot", "right_foot"]]},
        {"running_tone2": {"head": [32.0, 15.0], **_RUN}, "running_woman_tone3": {"head": [30.0, 17.5], **_RUN},
         "standing_tone3": {"head": [26.0, 21.0], **_STAND}, "standing_man_tone5": {"head": [26.0, 21.0], **_STAND},
         "walking_tone1": {"head": [19.0, 14.0], **_WALK}, "walking_woman_tone4": {"head": [17.0, 17.0], **_WALK}},
    ),
}


def write_keypoints(objects: Path) -> list[Path]:
    """The keypoint schemas and sidecars of KEYPOINTS, as files beside the cutouts."""
    import json

    import yaml

    out = []
    for cls, (schema, points) in KEYPOINTS.items():
        path = objects / cls / "keypoints.yaml"
        path.write_text(yaml.safe_dump(schema, sort_keys=False))
        out.append(path)
        for variant, pts in points.items():
            path = objects / cls / f"{variant}.keypoints.json"
            path.write_text(json.dumps(pts, indent=1) + "\n")
            out.append(path)
    return out


def keypoint_licence_lines() -> list[str]:
    lines = [
        "",
        "## Keypoint schemas and sidecars",
        "",
        "Keypoint names, skeletons and points measured by hand on the cutouts above",
        "(the `KEYPOINTS` table of scripts/make_assets.py).",
        "",
        "| File | Description | Source | Licence |",
        "|---|---|---|---|",
    ]
    for cls, (schema, points) in KEYPOINTS.items():
        lines.append(f"| `objects/{cls}/keypoints.yaml` | {cls} keypoint schema: {', '.join(schema['names'])} "
                     "| made by scripts/make_assets.py | CC0 |")
        for variant in points:
            lines.append(f"| `objects/{cls}/{variant}.keypoints.json` | keypoints of `objects/{cls}/{variant}.png` "
                         "| made by scripts/make_assets.py | CC0 |")
    return lines


# --------------------------------------------------------------------------
# LICENSES.md
# --------------------------------------------------------------------------


def write_licenses(assets: Path, photo_rows, proc_rows, label_rows=()) -> None:
    rel = lambda p: p.relative_to(assets).as_posix()  # noqa: E731
    lines = [
        "# Asset licences",
        "",
        "Everything in this folder is generated by `scripts/make_assets.py`",
        "(`python scripts/make_assets.py`); do not edit by hand.",
        "",
        "## Object and distractor cutouts",
        "",
        "Rendered from the Noto Color Emoji font (Debian package",
        "`fonts-noto-color-emoji`) at its native bitmap size (136x128).",
        "Source: Noto Color Emoji, Google, Apache License 2.0,",
        "<https://github.com/googlefonts/noto-emoji> (the emoji artwork is",
        "Apache-2.0; the font file itself is SIL OFL 1.1 and is not shipped here).",
        "",
        "Modifications for every cutout: rendered with straight (un-premultiplied)",
        "alpha, trimmed to the alpha bounding box, and the RGB of fully",
        "transparent pixels filled with the nearest visible colour. Further",
        "modifications are listed per file (hue rotation in degrees,",
        "saturation/brightness scale factors; alpha is never changed).",
        "",
        "| File | Emoji | Codepoints | Source / licence | Modifications |",
        "|---|---|---|---|---|",
    ]
    for top, spec in (("objects", OBJECTS), ("distractors", DISTRACTORS)):
        for cls, variants in spec.items():
            for v in variants:
                mods = ["trimmed"]
                if v.hue:
                    mods.append(f"hue rotated {v.hue:g}°")
                if v.sat != 1.0:
                    mods.append(f"saturation ×{v.sat:g}")
                if v.val != 1.0:
                    mods.append(f"brightness ×{v.val:g}")
                lines.append(
                    f"| `{top}/{cls}/{v.name}.png` | {v.seq} {v.desc} | {codepoints(v.seq)} "
                    f"| {NOTO_SRC} | {', '.join(mods)} |"
                )
    lines += [
        "",
        "## Background photos",
        "",
        "Taken from the data files shipped inside the scikit-image wheel",
        "(<https://scikit-image.org>); authors and licences as stated in the",
        "docstring of each `skimage.data` function. Only images whose docstring",
        "states CC0 or public domain / no copyright restrictions are used.",
        "",
        "| File | `skimage.data` function | Original author / source | Licence | Modifications |",
        "|---|---|---|---|---|",
    ]
    for path, p, mods in photo_rows:
        lines.append(f"| `{rel(path)}` | `{p.func}()` | {p.author} | {p.licence} | {mods} |")
    lines += [
        "",
        "## Procedural backgrounds",
        "",
        "| File | Description | Source | Licence |",
        "|---|---|---|---|",
    ]
    for path, desc, seed in proc_rows:
        lines.append(
            f"| `{rel(path)}` | {desc}, {W}x{H}, numpy seed {seed} "
            f"| made by scripts/make_assets.py | CC0 |"
        )
    lines += label_licence_lines(assets, label_rows)
    lines += keypoint_licence_lines()
    lines.append("")
    (assets / "LICENSES.md").write_text("\n".join(lines), encoding="utf-8")


# --------------------------------------------------------------------------
# Contact sheet for eyeballing (not part of assets/)
# --------------------------------------------------------------------------


def contact_sheet(paths: list[Path], out: Path, zoom: int = 2) -> None:
    cells = [Image.open(p).convert("RGBA") for p in paths]
    cell = max(max(c.size) for c in cells) * zoom + 8
    cols = 8
    rows = -(-len(cells) // cols)
    panels = []
    for bg in ((128, 128, 128), (255, 255, 255)):
        sheet = Image.new("RGBA", (cols * cell, rows * cell), bg + (255,))
        for i, c in enumerate(cells):
            c2 = c.resize((c.width * zoom, c.height * zoom), Image.Resampling.NEAREST)
            x = (i % cols) * cell + (cell - c2.width) // 2
            y = (i // cols) * cell + (cell - c2.height) // 2
            sheet.alpha_composite(c2, (x, y))
        panels.append(sheet)
    out_im = Image.new("RGB", (cols * cell, 2 * rows * cell))
    out_im.paste(panels[0].convert("RGB"), (0, 0))
    out_im.paste(panels[1].convert("RGB"), (0, rows * cell))
    out_im.save(out)


# --------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--assets", type=Path, default=REPO / "assets", help="output folder")
    ap.add_argument("--font", type=Path, default=DEFAULT_FONT, help="NotoColorEmoji.ttf")
    ap.add_argument("--roads-only", action="store_true",
                    help="only (re)make assets/roads and its rows in LICENSES.md (no font needed)")
    ap.add_argument("--labels-only", action="store_true",
                    help="only (re)make the background label images, their labels.json and LICENSES.md rows; "
                         "checks that the shipped images are the ones the labels are drawn with")
    ap.add_argument("--check-image", type=Path, default=None,
                    help="also write a contact sheet of all cutouts to this PNG")
    args = ap.parse_args(argv)

    assets: Path = args.assets
    if args.roads_only:
        write_road_licences(assets, make_roads(assets / "roads"))
        return 0
    if args.labels_only:
        _, label_rows = make_procedural(assets / "backgrounds", labels_only=True)
        write_label_licences(assets, label_rows + make_photo_labels(assets / "backgrounds"))
        write_road_licences(assets, make_roads(assets / "roads", labels_only=True))
        return 0
    font = load_font(args.font)
    for sub in ("objects", "distractors", "backgrounds"):
        shutil.rmtree(assets / sub, ignore_errors=True)
    (assets / "backgrounds").mkdir(parents=True, exist_ok=True)

    objs = make_cutouts(font, OBJECTS, assets / "objects")
    dists = make_cutouts(font, DISTRACTORS, assets / "distractors")
    write_keypoints(assets / "objects")
    photo_rows = make_photos(assets / "backgrounds")
    proc_rows, label_rows = make_procedural(assets / "backgrounds")
    write_licenses(assets, photo_rows, proc_rows, label_rows + make_photo_labels(assets / "backgrounds"))
    write_road_licences(assets, make_roads(assets / "roads"))

    total = sum(p.stat().st_size for p in assets.rglob("*") if p.is_file())
    print(f"objects: {len(objs)}  distractors: {len(dists)}  "
          f"backgrounds: {len(photo_rows) + len(proc_rows)}  total: {total / 1e6:.2f} MB")
    if args.check_image:
        contact_sheet(objs + dists, args.check_image)
        print(f"contact sheet: {args.check_image}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
