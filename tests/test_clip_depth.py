"""Paint order over a clip: on a ground plane the object nearer the camera (lower foot row) is in
front, frame by frame, so two objects passing each other swap order; every frame's visibility is
checked against renders of each object alone."""

from __future__ import annotations

import dataclasses

import numpy as np
from conftest import tiny_config_dict

from synthgen.clips import Clips, clip_config
from synthgen.config import load_config
from synthgen.trajectory import Track
from synthgen.worker import WorkerContext

FRAMES = 16


def _factory(assets, mode="ground_plane", **clips):
    data = tiny_config_dict(assets, objects_per_image=[2, 2], distractors={"count": [0, 0]},
                            placement={"mode": mode, "horizon": [0.1, 0.1]})
    if clips:
        data["clips"] = clips
    cfg = clip_config(load_config(data=data), ["coco"])[0]
    return WorkerContext(threads=None).factory(Clips(cfg.model_dump_json(), FRAMES, 15.0))


def _crossing(f):
    """Clip 0 with its two objects replaced: A stands still, B walks down past it (towards the camera)."""
    plan = f.plan(0)
    a, b = plan.placements[:2]
    still = dict(rotation=0.0, perspective=(0.0,) * 8, scale=0.5)
    a = dataclasses.replace(a, center=(48.0, 40.0), **still)
    b = dataclasses.replace(b, center=(50.0, 22.0), **still)
    tracks = (Track(a.instance_id, (0.0, 0.0), 0.0, 0, 0.0, 0.0), Track(b.instance_id, (0.0, 2.5), 0.0, 0, 0.0, 0.0))
    return dataclasses.replace(plan, placements=(a, b), tracks=tracks, object_effects={}), a.instance_id, b.instance_id


def _ids(f, scene):
    """The rendered id map (before labels drop anything too hidden)."""
    return f.gen.render_frame(scene, {}, ()).frame.id_map


def test_objects_passing_each_other_swap_paint_order(tiny_assets):
    f = _factory(tiny_assets)
    plan, ia, ib = _crossing(f)
    assert plan.depth_order and plan.scene.horizon is not None
    fronts = []
    for t in range(FRAMES):
        scene = plan.scene_at(t)
        by_id = {p.instance_id: p for p in scene.placements}
        b_nearer = plan.foot_row(by_id[ib]) > plan.foot_row(by_id[ia])
        assert [p.instance_id for p in scene.placements] == ([ia, ib] if b_nearer else [ib, ia])
        # each object alone, then both: the nearer one owns the overlap, the other keeps the rest
        alone_a = _ids(f, dataclasses.replace(scene, placements=(by_id[ia],))) == ia
        alone_b = _ids(f, dataclasses.replace(scene, placements=(by_id[ib],))) == ib
        both = _ids(f, scene)
        overlap = alone_a & alone_b
        if b_nearer:
            assert np.array_equal(both == ib, alone_b) and np.array_equal(both == ia, alone_a & ~alone_b)
        else:
            assert np.array_equal(both == ia, alone_a) and np.array_equal(both == ib, alone_b & ~alone_a)
        # the labels say the same: visible pixels and the share of the silhouette that shows
        s = f.gen.sample_from_scene(scene, {}, ())
        areas = {i.instance_id: i.area for i in s.instances}
        back, back_alone = (ia, alone_a) if b_nearer else (ib, alone_b)
        if str(back) not in s.metadata["dropped"]:
            assert areas[back] == int(np.count_nonzero(back_alone & ~overlap))
        order = {i.instance_id: i.paste_order for i in s.instances}
        if len(order) == 2:
            assert (order[ib] > order[ia]) == b_nearer
        if overlap.any():
            fronts.append(b_nearer)
    assert True in fronts and False in fronts, "the objects never swapped while overlapping"


def test_paste_order_without_a_ground_plane_or_when_turned_off(tiny_assets):
    for f in (_factory(tiny_assets, mode="uniform"), _factory(tiny_assets, depth_order=False)):
        plan, ia, ib = _crossing(f)
        assert all([p.instance_id for p in plan.scene_at(t).placements] == [ia, ib] for t in range(FRAMES))


def test_stress_occluders_stay_on_top(tiny_assets):
    f = _factory(tiny_assets)
    plan, ia, ib = _crossing(f)
    top = dataclasses.replace(plan.placements[0], instance_id=9, center=(48.0, 20.0))
    plan = dataclasses.replace(plan, placements=(*plan.placements, top), tracks=(*plan.tracks, Track(9, (0.0, 0.0), 0.0, 0, 0.0, 0.0)),
                               feet=(*plan.feet[:2], plan.feet[0]), on_top=1)
    assert all(plan.scene_at(t).placements[-1].instance_id == 9 for t in range(FRAMES))
