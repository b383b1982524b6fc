"""Realism of the composite: jitter, harmonization, shadows, ground plane and regions.

None of them may change a label: they change colours, or where objects are placed.
"""

from __future__ import annotations

import cv2
import numpy as np

from synthgen.config import load_config
from synthgen.generator import Generator
from synthgen.render import harmonize

from conftest import tiny_config_dict


def _gen(assets, render=None, **scene):
    data = tiny_config_dict(assets, **scene)
    data["render"] = render or {}
    return Generator(load_config(data=data))


def test_jitter_and_shadows_change_colours_not_labels(tiny_assets):
    plain = _gen(tiny_assets)
    styled = _gen(tiny_assets, {"jitter": {"p": 1.0}, "shadows": {"p": 1.0, "opacity": [0.6, 0.6]}})
    changed = 0
    for i in range(5):
        a, b = plain.sample(i), styled.sample(i)
        assert np.array_equal(a.id_map, b.id_map)
        assert [x.bbox for x in a.instances] == [x.bbox for x in b.instances]
        assert all(p.jitter and p.shadow for p in b.scene.placements)
        changed += int((a.image != b.image).any())
    assert changed == 5


def test_shadows_darken_next_to_the_object_along_the_light(tiny_assets):
    cfg = {"shadows": {"p": 1.0, "opacity": [0.7, 0.7], "length": [0.3, 0.3]}, "blending": {"none": 1, "gaussian": 0, "poisson": 0, "motion": 0}}
    plain = _gen(tiny_assets, {"blending": cfg["blending"]}, objects_per_image=[1, 1], distractors={"count": [0, 0]}, light_angle=[90, 90])
    shaded = _gen(tiny_assets, cfg, objects_per_image=[1, 1], distractors={"count": [0, 0]}, light_angle=[90, 90])
    a, b = plain.sample(0), shaded.sample(0)
    darker = (b.image.astype(int).sum(2) < a.image.astype(int).sum(2) - 10) & (b.id_map == 0)
    assert darker.any()
    ys = np.nonzero(darker)[0]
    obj_ys = np.nonzero(a.id_map)[0]
    assert ys.mean() > obj_ys.mean()  # light travels down the frame: the shadow falls below


def test_harmonize_moves_object_colour_towards_surroundings():
    rgb = np.full((20, 20, 3), (220, 40, 40), np.uint8)
    hard = np.zeros((20, 20), bool)
    hard[5:15, 5:15] = True
    around = np.full((20, 20, 3), (40, 60, 200), np.uint8)
    ring = ~hard
    before = rgb[hard].astype(float).mean(0)
    after = harmonize(rgb, hard, around, ring, 0.6)[hard].astype(float).mean(0)
    target = around[ring].astype(float).mean(0)
    assert np.linalg.norm(after - target) < np.linalg.norm(before - target)
    assert np.array_equal(harmonize(rgb, hard, around, ring, 0.0), rgb)


def test_ground_plane_puts_far_objects_high_and_small(tiny_assets):
    gen = _gen(
        tiny_assets,
        objects_per_image=[5, 5],
        placement={"mode": "ground_plane", "horizon": [0.3, 0.3]},
        occlusion={"max_hidden": 1.0},
        scale=[0.5, 0.5],
        distractors={"count": [0, 0]},
        rotation=[0, 0],
        perspective=[0, 0],
    )
    feet, scales = [], []
    for i in range(10):
        s = gen.scene(i)
        assert s.horizon == 0.3 * 72
        for p in s.placements:
            scales.append(p.scale)
            feet.append(p.center[1] + 0.5 * p.scale * 72)  # bottom of an upright object
    feet, scales = np.array(feet), np.array(scales)
    assert (feet > 0.3 * 72 - 1).all()
    assert np.corrcoef(feet, scales)[0, 1] > 0.95  # lower in the frame: larger


def test_objects_stand_only_inside_a_background_region(tiny_assets):
    for bg in (tiny_assets / "backgrounds").glob("*.jpg"):
        h, w = cv2.imread(str(bg)).shape[:2]
        region = np.zeros((h, w), np.uint8)
        region[:, : w // 2] = 255  # left half only
        cv2.imwrite(str(bg.with_name(bg.stem + ".region.png")), region)
    gen = _gen(tiny_assets, background={"crop_scale": [1.0, 1.0], "flip_probability": 0.0}, rotation=[0, 0], perspective=[0, 0])
    for i in range(8):
        for p in gen.scene(i).placements:
            assert p.center[0] <= 96 / 2 + 1
    # the same assets with regions switched off use the whole frame
    free = _gen(tiny_assets, background={"crop_scale": [1.0, 1.0], "flip_probability": 0.0}, placement={"regions": False})
    xs = [p.center[0] for i in range(8) for p in free.scene(i).placements]
    assert max(xs) > 96 / 2 + 5
