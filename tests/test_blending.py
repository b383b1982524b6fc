"""Blending modes change colours near edges; the id map follows the alpha they mix with.

``none`` and ``poisson`` paint exactly the cutout's silhouette; ``gaussian`` and ``motion`` mix by
a blurred alpha, and label where it reaches the threshold, so their labels can differ from the
hard silhouette only within the edge's reach (tests/test_visual_truth.py measures that alpha
from the pixels)."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

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


def test_hard_and_poisson_modes_label_the_same_silhouette(scene_and_lib):
    scene, lib = scene_and_lib
    assert np.array_equal(render(_with_blend(scene, "poisson"), lib, 0.5).id_map, render(_with_blend(scene, "none"), lib, 0.5).id_map)


def _edge_band(id_map: np.ndarray, r: int) -> np.ndarray:
    """Pixels within ``r`` of a boundary between two ids."""
    k = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    hi = cv2.dilate(id_map, k)
    lo = cv2.erode(id_map, k)
    return hi != lo


@pytest.mark.parametrize("mode, reach", [("gaussian", 5), ("motion", 4)])
def test_soft_modes_move_labels_only_within_their_edge(scene_and_lib, mode, reach):
    scene, lib = scene_and_lib
    hard = render(_with_blend(scene, "none"), lib, 0.5).id_map
    soft = render(_with_blend(scene, mode), lib, 0.5).id_map
    moved = hard != soft
    assert moved.any(), f"{mode} moved no label (corners and thin parts blur below the threshold)"
    assert not (moved & ~_edge_band(hard, reach)).any()


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
