"""Blending modes change colours near edges, never the id map."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from synthgen.config import BLEND_MODES
from synthgen.effects.functional import motion_kernel
from synthgen.generator import Generator
from synthgen.render import render

PARAMS = {"none": (), "gaussian": (("sigma", 1.5),), "poisson": (), "motion": (("length", 7.0), ("angle", 45.0))}


def _with_blend(scene, mode):
    return dataclasses.replace(
        scene, placements=tuple(dataclasses.replace(p, blend=mode, blend_params=PARAMS[mode]) for p in scene.placements)
    )


@pytest.fixture
def scene_and_lib(tiny_config):
    gen = Generator(tiny_config)
    scene = next(s for s in (gen.scene(i) for i in range(20)) if len(s.placements) >= 3)
    return scene, gen.library


def test_every_mode_gives_the_same_id_map(scene_and_lib):
    scene, lib = scene_and_lib
    maps = {m: render(_with_blend(scene, m), lib, 0.5).id_map for m in BLEND_MODES}
    for m in BLEND_MODES:
        assert np.array_equal(maps[m], maps["none"]), m


@pytest.mark.parametrize("mode", ["gaussian", "poisson", "motion"])
def test_soft_modes_change_colours_only_near_objects(scene_and_lib, mode):
    scene, lib = scene_and_lib
    hard = render(_with_blend(scene, "none"), lib, 0.5)
    soft = render(_with_blend(scene, mode), lib, 0.5)
    changed = np.any(hard.image != soft.image, axis=2)
    assert changed.any(), f"{mode} changed nothing"
    # every changed pixel lies within the (margin-padded) warp box of some object
    near = np.zeros_like(changed)
    for layer in hard.layers:
        y0, y1, x0, x1 = layer.roi
        near[max(y0 - 8, 0) : y1 + 8, max(x0 - 8, 0) : x1 + 8] = True
    assert not (changed & ~near).any()


def test_hard_mode_paints_exactly_the_mask(scene_and_lib):
    scene, lib = scene_and_lib
    r = render(_with_blend(scene, "none"), lib, 0.5)
    bg_only = render(dataclasses.replace(scene, placements=()), lib, 0.5)
    changed = np.any(r.image != bg_only.image, axis=2)
    covered = np.zeros_like(changed)
    for layer in r.layers:
        y0, y1, x0, x1 = layer.roi
        covered[y0:y1, x0:x1] |= layer.inframe_mask
    assert not (changed & ~covered).any()


def test_motion_kernel_is_normalised_and_oriented():
    k = motion_kernel(7, 0.0)
    assert k.sum() == pytest.approx(1.0)
    assert np.count_nonzero(k[3]) == 7 and np.count_nonzero(k) == 7
    assert motion_kernel(7, 90.0)[:, 3].sum() == pytest.approx(1.0, abs=1e-5)
