"""The shared peer workload, made procedurally (no downloads): cutouts, backgrounds and a config.

640x480 canvases, 4-8 cutouts per image whose longer side is 100-300 px, rotated 0-360 degrees,
pasted hard (no blending), JPEG quality 90. Every generator compared on it (synthgen, the
composite floor in bench/floors.py, the peers the README names) gets the same folders.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

CANVAS = (640, 480)
OBJECTS = (4, 8)  # per image
SIDE_PX = (100, 300)  # longer side of a pasted cutout
QUALITY = 90
CLASSES = ("blob", "star", "ring")
PER_CLASS = 4
BACKGROUNDS = 6


def _cutout(rng: np.random.Generator, kind: str) -> np.ndarray:
    """An RGBA shape about 200 px across with a colour gradient and a soft-free hard edge."""
    w, h = (int(v) for v in rng.integers(150, 260, size=2))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    r = np.hypot((xx - cx) / (w / 2.0), (yy - cy) / (h / 2.0))
    theta = np.arctan2(yy - cy, xx - cx)
    k = int(rng.integers(5, 9))
    if kind == "star":
        inside = r < 0.55 + 0.4 * np.cos(k * theta) ** 2
    elif kind == "ring":
        inside = (r < 0.95) & (r > 0.45 + 0.1 * np.sin(k * theta))
    else:
        inside = r < 0.8 + 0.15 * np.sin(k * theta + float(rng.uniform(0, 6.28)))
    c0, c1 = rng.integers(0, 256, size=3), rng.integers(0, 256, size=3)
    t = (xx / max(w - 1, 1))[..., None]
    rgb = (c0 * (1 - t) + c1 * t).astype(np.uint8)
    alpha = np.where(inside, 255, 0).astype(np.uint8)
    return np.dstack([rgb, alpha])


def _background(rng: np.random.Generator) -> np.ndarray:
    W, H = CANVAS
    small = rng.integers(0, 256, size=(12, 16, 3)).astype(np.uint8)
    img = cv2.resize(small, (W, H), interpolation=cv2.INTER_CUBIC)
    noise = rng.normal(0, 12, size=(H, W, 3))
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def make_assets(root: Path, seed: int = 0) -> Path:
    """Write the workload's cutouts and backgrounds under ``root`` (same bytes for a seed)."""
    rng = np.random.default_rng(seed)
    for c in CLASSES:
        d = root / "objects" / c
        d.mkdir(parents=True, exist_ok=True)
        for i in range(PER_CLASS):
            rgba = _cutout(rng, c)
            cv2.imwrite(str(d / f"{c}_{i}.png"), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    bg = root / "backgrounds"
    bg.mkdir(parents=True, exist_ok=True)
    for i in range(BACKGROUNDS):
        cv2.imwrite(str(bg / f"bg_{i}.jpg"), cv2.cvtColor(_background(rng), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    return root


def config_overrides(root: Path) -> list[str]:
    """synthgen settings for the workload: the same sizes, rotations and outputs, hard pastes,
    no distractors, no placement limits, an id map and boxes (YOLO detect) per image."""
    W, H = CANVAS
    lo, hi = (s / min(W, H) for s in SIDE_PX)
    return [
        f"assets.objects={root / 'objects'}",
        f"assets.backgrounds={root / 'backgrounds'}",
        "assets.distractors=null",
        f"canvas.width={W}",
        f"canvas.height={H}",
        f"scene.objects_per_image=[{OBJECTS[0]}, {OBJECTS[1]}]",
        f"scene.scale=[{lo:.6f}, {hi:.6f}]",
        "scene.rotation=[0, 360]",
        "scene.flip_probability=0",
        "scene.perspective=[0, 0]",
        "scene.truncation={allowed: true, min_visible: 0.0}",
        "scene.occlusion={max_hidden: 1.0}",
        "scene.background={crop_scale: [1.0, 1.0], flip_probability: 0}",
        "render.blending={none: 1.0, gaussian: 0, poisson: 0, motion: 0}",
        "labels.min_visibility=0",
        "effects=[]",
        "output.formats=[yolo]",
        "output.yolo_task=detect",
        "output.id_maps=true",
        f"output.jpeg_quality={QUALITY}",
    ]
