"""Trajectories: objects that turn and stop, and on a ground plane motion on the ground, seen
through a level pinhole camera (checked with the camera model written out here, not the code's)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from conftest import tiny_config_dict
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgen.assets import PAD
from synthgen.clips import Clips, clip_config
from synthgen.config import load_config
from synthgen.trajectory import Track, sample_track
from synthgen.types import Placement
from synthgen.worker import WorkerContext

FRAMES = 30


def _factory(assets, clips=None, **scene):
    data = tiny_config_dict(assets, **scene)
    data["canvas"] = {"width": 160, "height": 120}
    if clips is not None:
        data["clips"] = clips
    cfg = clip_config(load_config(data=data), ["coco"])[0]
    return WorkerContext(threads=None).factory(Clips(cfg.model_dump_json(), FRAMES, 15.0))


def _still(track: Track) -> Track:
    return dataclasses.replace(track, jitter=0.0)


@settings(max_examples=40, deadline=None)
@given(vx=st.floats(-5, 5), vy=st.floats(-5, 5), turn=st.floats(-0.1, 0.1), t=st.integers(2, 60))
def test_a_turning_object_changes_heading_by_its_rate_each_frame(vx, vy, turn, t):
    tr = Track(1, (vx, vy), 0.0, 0, 0.0, 0.0, turn=turn)
    a, b, c = tr.offset(t - 2), tr.offset(t - 1), tr.offset(t)
    s1, s2 = (b[0] - a[0], b[1] - a[1]), (c[0] - b[0], c[1] - b[1])
    assert math.hypot(*s1) == pytest.approx(math.hypot(vx, vy), abs=1e-6)  # the same speed
    if math.hypot(vx, vy) > 0.1:
        turned = math.atan2(s1[0] * s2[1] - s1[1] * s2[0], s1[0] * s2[0] + s1[1] * s2[1])
        assert turned == pytest.approx(turn, abs=1e-6)
    assert tr.offset(-t) == (-c[0], -c[1])  # before entry: mirrored


def test_a_stopping_object_slows_down_stands_and_goes_on():
    tr = Track(1, (3.0, -1.0), 0.0, 0, 0.0, 0.0, stop=(10, 6, 3))
    xs = [tr.offset(t) for t in range(25)]
    steps = [math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(xs, xs[1:])]
    full = math.hypot(3.0, -1.0)
    assert steps[:8] == pytest.approx([full] * 8)  # steps 0..7 at full speed
    assert full > steps[8] > steps[9] > 0  # slows down
    assert steps[10:16] == [0.0] * 6 and xs[10] == xs[16]  # stands from frame 10 to 16
    assert 0 < steps[16] < steps[17] < full and steps[18:] == pytest.approx([full] * 6)  # and goes on


def test_shares_of_turning_and_stopping_objects(tiny_assets):
    p = Placement(1, "square", 1, "square0", 0.3, 0.0, False, (0.0,) * 8, (50.0, 40.0), "none", ())
    base = [sample_track(5, c, dataclasses.replace(p, instance_id=i), (160, 120), 15.0) for c in range(20) for i in range(1, 11)]
    moving = [sample_track(5, c, dataclasses.replace(p, instance_id=i), (160, 120), 15.0, turning=0.3, stopping=0.2)
              for c in range(20) for i in range(1, 11)]
    assert all(b.turn == 0 and b.stop[1] == 0 for b in base)
    # the shares change nothing else of a track
    assert [(b.velocity, b.jitter_seed, b.growth, b.spin) for b in base] == [(m.velocity, m.jitter_seed, m.growth, m.spin) for m in moving]
    turns, stops = np.mean([m.turn != 0 for m in moving]), np.mean([m.stop[1] > 0 for m in moving])
    assert 0.2 < turns < 0.4 and 0.12 < stops < 0.3
    rates = [abs(math.degrees(m.turn)) * 15.0 for m in moving if m.turn]
    assert 10 - 1e-9 <= min(rates) and max(rates) <= 40 + 1e-9


def _foot(f, p):
    cut = f.library.cutout(p.asset, distractor=p.distractor)
    ow, oh = cut.size_wh[0] - 2 * PAD, cut.size_wh[1] - 2 * PAD
    return p.center[1] + p.scale * min(160, 120) * oh / max(ow, oh) / 2.0


def test_on_a_ground_plane_objects_walk_on_the_ground(tiny_assets):
    """Pinhole camera over a flat ground: row y = h + (H - h) / Z, column x = W/2 + (H - h) X / Z,
    size proportional to 1 / Z. Without noise, turns or stops, the ground points (X, Z) of an
    object's foot are equally spaced on a line, and its scale follows 1 / Z."""
    f = _factory(tiny_assets, clips={"turning": 0.0, "stopping": 0.0}, placement={"mode": "ground_plane", "horizon": [0.3, 0.4]},
                 objects_per_image=[3, 5], scale=[0.3, 0.5], distractors={"count": [0, 0]})
    checked = grew = shrank = 0
    for clip in range(4):
        plan = f.plan(clip)
        h, W, H = plan.scene.horizon, 160, 120
        for tr, p in zip(plan.tracks, plan.placements):
            tr = _still(tr)
            assert tr.growth == 0 and tr.spin == 0 and tr.ground is not None
            pts, scales = [], []
            for t in range(FRAMES):
                q = tr.move(p, t)
                fy = _foot(f, q)
                assert fy > h  # always on the ground, below the horizon
                Z = (H - h) / (fy - h)
                pts.append(((q.center[0] - W / 2) * Z / (H - h), Z))
                scales.append(q.scale)
                if Z < 10:  # (nearer than where the scene sampler stops shrinking objects)
                    assert q.scale / p.scale == pytest.approx(pts[0][1] / Z, rel=1e-6)
                assert q.rotation == p.rotation
            steps = np.diff(np.array(pts), axis=0)
            assert np.allclose(steps, steps[0], rtol=1e-6, atol=1e-9)  # constant velocity on the ground
            checked += 1
            grew += scales[-1] > scales[0] * 1.01
            shrank += scales[-1] < scales[0] / 1.01
    assert checked >= 10 and grew and shrank  # some walk towards the camera, some away


def test_objects_entering_a_ground_plane_come_in_along_the_ground(tiny_assets):
    f = _factory(tiny_assets, clips={"enter_rate": 6.0}, placement={"mode": "ground_plane", "horizon": [0.3, 0.4]},
                 objects_per_image=[1, 2], scale=[0.3, 0.5])
    from synthgen.geometry import clip_box
    from synthgen.scene import placed_box

    entered = 0
    for clip in range(3):
        plan = f.plan(clip)
        for tr, p in zip(plan.tracks, plan.placements):
            if tr.entry == 0:
                continue
            entered += 1
            cut = f.library.cutout(p.asset)
            assert clip_box(placed_box(cut, tr.move(p, tr.entry - 1), (160, 120))[1], (160, 120)) is None
            assert all(_foot(f, tr.move(p, t)) > plan.scene.horizon for t in range(tr.entry, FRAMES))
    assert entered >= 3


def test_still_classes_stand_still_and_do_not_enter(tiny_assets):
    f = _factory(tiny_assets, clips={"still_classes": ["square"], "enter_rate": 6.0}, objects_per_image=[3, 5])
    plain = _factory(tiny_assets, clips={"enter_rate": 6.0}, objects_per_image=[3, 5])
    squares = 0
    for clip in range(3):
        plan, other = f.plan(clip), plain.plan(clip)
        assert plan.scene == other.scene  # the same layout
        for tr, p in zip(plan.tracks, plan.placements):
            if tr.entry:
                assert p.label != "square"
            elif p.label == "square":
                squares += 1
                assert all(tr.move(p, t) == p for t in range(FRAMES))
        moving = [(a, b) for a, b in zip(plan.tracks, other.tracks) if not a.entry and a.velocity != (0.0, 0.0)]
        assert all(a == b for a, b in moving)  # the others move as they would
    assert squares
    from synthgen.errors import ConfigError

    with pytest.raises(ConfigError, match=r"clips.still_classes: lorry .*classes: disc, square"):
        _factory(tiny_assets, clips={"still_classes": ["lorry"]})


@settings(max_examples=60, deadline=None)
@given(h=st.floats(0.0, 200.0), fx=st.floats(-500, 800), below=st.floats(0.05, 1.0), dx=st.floats(-3, 3), dz=st.floats(-0.5, 3))
def test_a_ground_point_maps_to_its_row_and_back(h, fx, below, dx, dz):
    from synthgen.trajectory import Ground

    g = Ground(h, (640, 480), 30.0)
    fy = h + below * (480 - h)
    X, Z = g.world(fx, fy)
    assert g.image(X, Z) == pytest.approx((fx, fy), abs=1e-6)
    assert Z == pytest.approx(1.0 / below)  # depth 1 on the bottom row, further up the image
    # a step on the ground: the row moves towards the horizon as the depth grows, never past it
    Z2 = max(Z + dz, 0.25)
    x2, y2 = g.image(X + dx, Z2)
    assert y2 > h
    if abs(Z2 - Z) > 1e-6:
        assert (y2 < fy) == (Z2 > Z)
