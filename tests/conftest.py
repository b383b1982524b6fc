"""Shared fixtures: a tiny asset library drawn in code (no global seeding anywhere)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from synthgen.config import load_config

REPO = Path(__file__).resolve().parent.parent


def make_assets(root: Path) -> Path:
    """Two classes of solid shapes with antialiased alpha, one distractor, two backgrounds."""
    rng = np.random.default_rng(1234)
    for cls, colour, shape in [("square", (220, 40, 40), "rect"), ("disc", (40, 90, 230), "circle")]:
        d = root / "objects" / cls
        d.mkdir(parents=True)
        for v in range(2):
            img = np.zeros((60 + 10 * v, 50, 4), np.uint8)
            img[..., :3] = colour
            a = np.zeros(img.shape[:2], np.uint8)
            if shape == "rect":
                cv2.rectangle(a, (5, 5), (44, 54 + 10 * v), 255, -1)
            else:
                cv2.ellipse(a, (25, 30 + 5 * v), (20, 25 + 5 * v), 0, 0, 360, 255, -1, cv2.LINE_AA)
            img[..., 3] = a
            cv2.imwrite(str(d / f"{cls}{v}.png"), cv2.cvtColor(img, cv2.COLOR_RGBA2BGRA))
    dd = root / "distractors" / "blob"
    dd.mkdir(parents=True)
    blob = np.zeros((40, 40, 4), np.uint8)
    blob[..., 1] = 200
    cv2.circle(blob, (20, 20), 15, (0, 200, 0, 255), -1)
    cv2.imwrite(str(dd / "blob.png"), blob)
    bg = root / "backgrounds"
    bg.mkdir()
    for i in range(2):
        cv2.imwrite(str(bg / f"bg{i}.jpg"), rng.integers(0, 255, (120 + 20 * i, 160, 3), dtype=np.uint8))
    return root


@pytest.fixture
def tiny_assets(tmp_path: Path) -> Path:
    return make_assets(tmp_path / "assets")


def tiny_config_dict(assets: Path, **scene) -> dict:
    return {
        "seed": 3,
        "canvas": {"width": 96, "height": 72},
        "assets": {
            "objects": str(assets / "objects"),
            "backgrounds": str(assets / "backgrounds"),
            "distractors": str(assets / "distractors"),
        },
        "scene": {"objects_per_image": [2, 5], "scale": [0.3, 0.7], "distractors": {"count": [0, 1]}, **scene},
    }


def tiny_output_config(assets: Path, output: dict, **scene):
    """The tiny config (:func:`tiny_config_dict`) with ``output`` as its output section."""
    return load_config(data={**tiny_config_dict(assets, **scene), "output": output})


def tiny_clip_config(assets: Path, clips: dict | None = None, formats=("mot", "coco"), **extra):
    """A clips config on the tiny assets: ``extra`` replaces top-level keys, ``clips`` is the
    clips section."""
    from synthgen.clips import clip_config

    data = tiny_config_dict(assets)
    data.update(extra)
    if clips is not None:
        data["clips"] = clips
    return clip_config(load_config(data=data), list(formats))[0]


def clip_factory(cfg, frames: int, fps: float = 15.0):
    """The sample factory of a clips run of ``cfg``: ``.plan(c)``, ``.sample(k)``."""
    from synthgen.clips import Clips
    from synthgen.worker import WorkerContext

    return WorkerContext(threads=None).factory(Clips(cfg.model_dump_json(), frames, fps))


@pytest.fixture
def tiny_config(tiny_assets: Path):
    return load_config(data=tiny_config_dict(tiny_assets))


def peaks_by_run_size(tmp_path: Path, cfg, measure: Callable[[Path], object], sizes=(40, 400), **generate_kwargs) -> dict[int, int]:
    """tracemalloc's peak while ``measure(run)`` runs, over a run of ``cfg`` of each size (one
    worker, shard size 10 unless given), after one unmeasured call (imports, caches): a tool
    whose memory does not grow with the run gives about the same peak for each size."""
    from synthgen.runner import generate

    peaks = {}
    for n in sizes:
        run = tmp_path / f"run{n}"
        generate(cfg, run, n, **{"workers": 1, "shard_size": 10, **generate_kwargs})
        measure(run)
        tracemalloc.start()
        try:
            measure(run)
            peaks[n] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return peaks
