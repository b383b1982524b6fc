"""Semantic maps for people: the overlay colours each pixel by its class (checked pixel by pixel
against the instance masks and the palette), the report shows class pixel shares (checked
against a count of the map files) and overlays, and preview --show semantic draws them."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import tiny_config_dict

from synthgen.cli import main
from synthgen.config import load_config
from synthgen.generator import Generator
from synthgen.io.semantic import read_class_map
from synthgen.runner import generate
from synthgen.tools.report import build_report
from synthgen.tools.semantic_view import draw_semantic_sample, overlay
from synthgen.writers.semantic import palette


def _cfg(assets, formats=("coco", "semantic")):
    data = tiny_config_dict(assets, objects_per_image=[2, 4])
    data["output"] = {"formats": list(formats)}
    return load_config(data=data)


def test_overlay_tints_class_pixels_and_leaves_background():
    rgb = np.full((6, 8, 3), 100, np.uint8)
    classes = np.zeros((6, 8), np.uint8)
    classes[1:5, 1:5] = 3
    classes[:, 5:] = 255
    out = overlay(rgb, classes, {3: (200, 0, 40)}, alpha=0.5)
    assert tuple(out[2, 2]) == (150, 50, 70)  # inside: (100 + c) / 2
    assert tuple(out[1, 1]) == (200, 0, 40)  # outline: the class colour
    assert tuple(out[5, 3]) == (100, 100, 100)  # background untouched
    assert tuple(out[2, 6]) == (178, 178, 178) and tuple(out[0, 6]) == (90, 90, 90)  # ignore: white tint, hatched


def test_semantic_sample_drawing_follows_the_instance_masks(tiny_assets):
    cfg = _cfg(tiny_assets)
    s = Generator(cfg).sample(1)
    drawn = draw_semantic_sample(s, cfg.output.semantic_ignore)
    H, W = s.id_map.shape
    assert drawn.shape[1] == W and drawn.shape[0] > H  # a legend below
    pal = palette()
    for inst in s.instances:
        inner = cv2.erode((s.id_map == inst.instance_id).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        if not inner.any():
            continue
        y, x = np.argwhere(inner)[0]
        want = np.clip(s.image[y, x].astype(np.float32) * 0.45 + np.array(pal[inst.category_id], np.float32) * 0.55 + 0.5, 0, 255)
        assert (drawn[y, x] == want.astype(np.uint8)).all(), inst.label
    free = (s.id_map == 0) & (s.unlabeled == 0)  # neither a labeled object nor a distractor (255)
    assert (drawn[:H][free] == s.image[free]).all()


def test_report_shows_class_pixel_shares_and_overlays(tmp_path, tiny_assets):
    out = tmp_path / "run"
    generate(_cfg(tiny_assets), out, 5)
    page, _ = build_report(out, gallery=3)
    assert "Semantic classes (5 maps)" in page
    counts = np.zeros(256, np.int64)
    for p in (out / "semantic").glob("*.png"):
        counts += np.bincount(read_class_map(p).ravel(), minlength=256)
    row = re.search(r"background</td><td>0</td><td>([\d,]+)</td><td>([\d.]+)%", page)
    assert row and int(row.group(1).replace(",", "")) == counts[0]
    assert float(row.group(2)) == pytest.approx(100 * counts[0] / counts.sum(), abs=0.006)
    assert page.count('src="data:image/jpeg') == 6  # 3 gallery images, 3 overlays
    plain = tmp_path / "plain"
    generate(_cfg(tiny_assets, ("coco",)), plain, 2)
    assert "Semantic classes" not in build_report(plain, gallery=1)[0]


def test_preview_show_semantic(tmp_path, tiny_assets):
    import yaml

    cfg_file = tmp_path / "c.yaml"
    data = tiny_config_dict(tiny_assets)
    cfg_file.write_text(yaml.safe_dump(data))
    sheets = {}
    for show in ("instances", "semantic"):
        r = CliRunner().invoke(main, ["preview", str(cfg_file), "-n", "2", "--show", show, "-o", str(tmp_path / f"{show}.png")])
        assert r.exit_code == 0, r.output
        sheets[show] = cv2.imread(str(tmp_path / f"{show}.png"))
    assert sheets["semantic"] is not None and sheets["instances"] is not None
    assert not np.array_equal(sheets["semantic"][:100], sheets["instances"][:100])
    r = CliRunner().invoke(main, ["preview", "--help"])
    assert "--show [instances|semantic]" in r.output
