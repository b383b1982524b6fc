"""The clip model's motion: velocity blur along each object's own displacement, checked against
the trajectory by hand and against the pixels the blur kernel smears."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from conftest import clip_factory, tiny_clip_config

from synthgen.clips import plan_clip
from synthgen.effects import functional as F
from synthgen.trajectory import blur_params

FRAMES = 6


_config = tiny_clip_config


def _factory(cfg, frames=FRAMES):
    return clip_factory(cfg, frames)


def _blurs(sample) -> dict[int, dict]:
    """instance id -> the velocity blur recorded in a frame's metadata"""
    return {c["instance_id"]: c["params"] for c in sample.metadata["conditions"] if c["name"] == "motion_blur"}


@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, 135.0, -60.0, 180.0])
def test_the_blur_kernel_smears_a_point_along_the_displacement(angle):
    """blur_params' angle convention, checked on pixels: a dot smears along (dx, dy)."""
    d = (12 * math.cos(math.radians(angle)), 12 * math.sin(math.radians(angle)))  # image coordinates, y down
    p = blur_params(d)
    assert p["length"] == 13
    img = np.zeros((61, 61), np.float32)
    img[30, 30] = 1000.0
    out = F.motion_blur(img, p["length"], p["angle"])
    ys, xs = np.nonzero(out > 1e-3 * out.max())
    w = out[ys, xs]
    cx, cy = np.average(xs, weights=w), np.average(ys, weights=w)
    cov = np.cov(np.stack([xs - cx, ys - cy]), aweights=w)
    evals, evecs = np.linalg.eigh(cov)
    axis = evecs[:, -1]
    got = math.degrees(math.atan2(axis[1], axis[0])) % 180.0
    assert abs((got - angle % 180.0 + 90.0) % 180.0 - 90.0) < 3.0, (got, angle)
    assert evals[-1] > 20 * max(evals[0], 1e-6)  # a line, not a blob
    assert math.hypot(cx - 30, cy - 30) < 0.6  # centred on the frame's instant


def test_velocity_blur_follows_each_objects_displacement(tiny_assets):
    shutter = 0.8
    cfg = _config(tiny_assets, clips={"shutter": shutter})
    f = _factory(cfg)
    checked = 0
    for clip in range(3):
        plan = plan_clip(f.gen, clip, 15.0)
        for t in range(FRAMES):
            blurs = _blurs(f.sample(clip * FRAMES + t))
            for tr, p in zip(plan.tracks, plan.placements):
                # by hand: the centre at t-1 and t+1 from the track's own offsets (mirrored before 0)
                ox0, oy0 = tr.offset(t - 1) if t else (-tr.offset(1)[0], -tr.offset(1)[1])
                ox1, oy1 = tr.offset(t + 1)
                dx, dy = shutter / 2 * (ox1 - ox0), shutter / 2 * (oy1 - oy0)
                if round(math.hypot(dx, dy)) < 1:
                    assert tr.instance_id not in blurs
                    continue
                got = blurs[tr.instance_id]
                assert got["angle"] == pytest.approx(math.degrees(math.atan2(-dy, dx)), abs=1e-9)
                assert got["length"] == round(math.hypot(dx, dy)) + 1
                checked += 1
    assert checked >= 10


def test_no_velocity_no_blur_and_shutter_zero_changes_nothing(tiny_assets):
    still = _factory(_config(tiny_assets, clips={"shutter": 1.0}))
    plain = _factory(_config(tiny_assets))
    plan = still.plan(0)
    still._plan = dataclasses.replace(  # every object stands still
        plan, tracks=tuple(dataclasses.replace(tr, velocity=(0.0, 0.0), jitter=0.0) for tr in plan.tracks)
    )
    plain._plan = dataclasses.replace(still._plan, shutter=0.0)
    for t in range(3):
        a, b = still.sample(t), plain.sample(t)
        assert not _blurs(a)
        assert np.array_equal(a.image, b.image) and np.array_equal(a.id_map, b.id_map)


def test_blurred_labels_follow_the_smeared_pixels(tiny_assets):
    """With a long exposure an object's visible mask grows along its motion, not across it."""
    sharp = _factory(_config(tiny_assets, scene={"objects_per_image": [1, 1], "scale": [0.4, 0.5], "distractors": {"count": [0, 0]}}))
    blurred = _factory(_config(tiny_assets, clips={"shutter": 1.0}, scene={"objects_per_image": [1, 1], "scale": [0.4, 0.5], "distractors": {"count": [0, 0]}}))
    grown = 0
    for clip in range(4):
        t = 2
        a, b = sharp.sample(clip * FRAMES + t), blurred.sample(clip * FRAMES + t)
        blur = _blurs(b)
        if not blur or not a.instances or not b.instances or a.instances[0].truncated or b.instances[0].truncated:
            continue
        (iid, params), = blur.items()
        ang = math.radians(params["angle"])
        along = np.array([math.cos(ang), -math.sin(ang)])
        across = np.array([-along[1], along[0]])

        def extent(mask, axis):
            ys, xs = np.nonzero(mask)
            proj = xs * axis[0] + ys * axis[1]
            return proj.max() - proj.min()

        ma, mb = a.id_map == iid, b.id_map == iid
        d_along = extent(mb, along) - extent(ma, along)
        d_across = extent(mb, across) - extent(ma, across)
        assert d_along > d_across - 1.0 and d_along > 0.3 * (params["length"] - 1) - 2, (d_along, d_across, params)
        grown += 1
    assert grown >= 1


CAMERA = {"camera": {"p": 1.0, "pan": [0.15, 0.25], "zoom": [0.1, 0.3], "shake": [0.0, 0.002]}}


def _still(factory, clip):
    """The factory's plan of ``clip`` with every object standing still on the ground."""
    plan = factory.plan(clip)
    factory._plan = dataclasses.replace(
        plan, tracks=tuple(dataclasses.replace(tr, velocity=(0.0, 0.0), jitter=0.0, growth=0.0, spin=0.0) for tr in plan.tracks)
    )
    return factory._plan


def test_a_camera_pan_and_zoom_moves_background_and_objects_together(tiny_assets):
    """Objects that stand still on the ground stay on their spot of it while the camera moves:
    frame t is frame 0 moved by the camera's map (boxes by hand, background pixels by warping)."""
    import cv2

    cfg = _config(tiny_assets, clips=CAMERA, canvas={"width": 160, "height": 120},
                  scene={"objects_per_image": [3, 5], "scale": [0.2, 0.35]})
    f = _factory(cfg, frames=10)
    checked_boxes = 0
    for clip in range(3):
        plan = _still(f, clip)
        first = f.sample(clip * 10)
        t = 9
        frame = f.sample(clip * 10 + t)
        ax, bx, ay, by = plan.camera.transform(t)
        assert (ax, ay) != (1.0, 1.0) and frame.metadata["scene"]["background"]["crop_xywh"] != first.metadata["scene"]["background"]["crop_xywh"]
        boxes = {i.instance_id: i for i in frame.instances}
        for i in first.instances:
            j = boxes.get(i.instance_id)
            if j is None or i.truncated or j.truncated:
                continue
            x, y, w, h = i.amodal_bbox
            want = (ax * x + bx, ay * y + by, ax * w, ay * h)
            assert np.allclose(j.amodal_bbox, want, atol=1.6), (j.amodal_bbox, want)
            checked_boxes += 1
        # the background: frame 0 warped by the map equals frame t where neither shows an object
        H, W = frame.image.shape[:2]

        def mismatch(ex, ey):  # frame 0 moved by the map shifted by (ex, ey) px, against frame t
            M = np.array([[ax, 0, bx + ex], [0, ay, by + ey]], np.float64)
            warped = cv2.warpAffine(first.image, M, (W, H), flags=cv2.INTER_LINEAR)
            inside = cv2.warpAffine(np.full((H, W), 255, np.uint8), M, (W, H), flags=cv2.INTER_NEAREST) == 255
            objects0 = cv2.warpAffine((first.id_map > 0).astype(np.uint8) * 255, M, (W, H), flags=cv2.INTER_NEAREST) > 0
            free = inside & ~objects0 & (frame.id_map == 0)
            free = cv2.erode(free.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0  # away from edges
            assert free.sum() > 1000
            return np.abs(warped.astype(int) - frame.image.astype(int)).mean(axis=2)[free].mean()

        exact = mismatch(0, 0)
        unmoved = np.abs(first.image.astype(int) - frame.image.astype(int)).mean()
        assert exact < 0.3 * unmoved, (exact, unmoved)  # the textured background resampled twice: not 0
        assert all(exact < mismatch(ex, ey) for ex, ey in [(-0.5, 0), (0.5, 0), (0, -0.5), (0, 0.5)])
    assert checked_boxes >= 2


def test_the_camera_is_off_by_default_and_frame_0_is_the_scene(tiny_assets):
    f = _factory(_config(tiny_assets))
    assert f.plan(0).camera is None
    g = _factory(_config(tiny_assets, clips=CAMERA))
    assert g.plan(0).camera is not None
    a, b = f.sample(0), g.sample(0)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.id_map, b.id_map)


def _conditions(sample, name):
    return next(c["params"] for c in sample.metadata["conditions"] if c["name"] == name and "instance_id" not in c)


def test_rain_and_snow_fall_between_frames(tiny_assets):
    from synthgen.effects import functional as F
    from synthgen.effects.timeline import RAIN_FALL, SNOW_FALL

    for name, fall, shape in (("rain", RAIN_FALL, "streaks"), ("snow", SNOW_FALL, "flakes")):
        cfg = _config(tiny_assets, effects=[{"name": name, "p": 1.0}], canvas={"width": 128, "height": 96})
        f = _factory(cfg, frames=FRAMES)
        first = _conditions(f.sample(0), name)
        assert "shift" not in first  # frame 0 is the image the clip's index makes
        for t in (1, 3, 5):
            p = _conditions(f.sample(t), name)
            a = math.radians(first["angle"])
            dist = fall * 96 * t / 15.0
            assert p["shift"] == [round(dist * math.sin(a)), round(dist * math.cos(a))]  # down along the fall
            assert {k: v for k, v in p.items() if k != "shift"} == first  # the same drops, moved
            # the layer: frame 0's layer moved by the shift
            if name == "rain":
                layer0 = F.rain_streaks((96, 128), first["density"], first["length"], first["angle"], first["seed"])
            else:
                layer0 = F.snow_flakes((96, 128), first["density"], first["angle"], first["seed"])
            from synthgen.effects.registry import REGISTRY

            black = np.zeros((96, 128, 3), np.uint8)
            got = REGISTRY[name].apply_to_image(black, p).astype(int)
            want = REGISTRY[name].apply_to_image(black, first).astype(int)
            dx, dy = p["shift"]
            assert np.array_equal(got, np.roll(want, (dy, dx), axis=(0, 1))), (name, shape, t)
            assert layer0.any()
    frozen = _factory(_config(tiny_assets, clips={"weather": {"fall": False}}, effects=[{"name": "rain", "p": 1.0}]))
    assert _conditions(frozen.sample(3), "rain") == _conditions(frozen.sample(0), "rain")


def test_fog_and_night_drift_smoothly_over_a_clip(tiny_assets):
    drift, frames = 0.5, 40
    cfg = _config(tiny_assets, clips={"weather": {"drift": drift, "period": [2.0, 3.0]}},
                  effects=[{"name": "fog", "p": 1.0}, {"name": "night", "p": 1.0}, {"name": "gaussian_noise", "p": 1.0}])
    f = _factory(cfg, frames=frames)
    for key, name in (("density", "fog"), ("darkness", "night")):
        values = [_conditions(f.sample(t), name)[key] for t in range(frames)]
        base = values[0]
        assert base == _conditions(_factory(_config(tiny_assets, effects=cfg.model_dump()["effects"])).sample(0), name)[key]
        steps = np.diff(values)
        # smooth: a sine of period >= 2 s moves at most drift * base * pi / (2 s * fps) a frame
        assert np.abs(steps).max() <= drift * base * math.pi / (2.0 * 15.0) + 1e-9
        assert np.abs(np.diff(steps)).max() < 0.25 * np.abs(steps).max()  # no flicker: the steps change slowly
        assert max(values) - min(values) > 0.3 * drift * base  # and it does change, by up to drift
        assert all(base * (1 - drift) - 1e-9 <= v <= base * (1 + drift) + 1e-9 for v in values)
    noise = [{k: v for k, v in _conditions(f.sample(t), "gaussian_noise").items() if k != "seed"} for t in range(3)]
    assert noise[0] == noise[1] == noise[2]  # what does not drift stays as drawn (the noise's seed changes)


def test_sensor_noise_changes_every_frame_and_nothing_else_does(tiny_assets):
    from synthgen.effects.timeline import GRAIN

    effects = [{"name": "fog", "p": 1.0}, {"name": "night", "p": 1.0}, {"name": "gaussian_noise", "p": 1.0},
               {"name": "iso_noise", "p": 1.0}]
    grain = _factory(_config(tiny_assets, effects=effects), frames=FRAMES)
    frozen = _factory(_config(tiny_assets, clips={"weather": {"grain": False}}, effects=effects), frames=FRAMES)
    assert grain.plan(0).grain and not frozen.plan(0).grain
    for t in range(4):
        a, b = grain.sample(t), frozen.sample(t)
        ca = {c["name"]: c["params"] for c in a.metadata["conditions"]}
        cb = {c["name"]: c["params"] for c in b.metadata["conditions"]}
        for name in ca:  # the same conditions; only the noise's seed moves, and only after frame 0
            same_seed = ca[name]["seed"] == cb[name]["seed"]
            assert same_seed == (t == 0 or name not in GRAIN), (name, t)
            assert {k: v for k, v in ca[name].items() if k != "seed"} == {k: v for k, v in cb[name].items() if k != "seed"}
        assert np.array_equal(a.id_map, b.id_map)  # labels do not see noise
        diff = np.abs(a.image.astype(int) - b.image.astype(int))
        if t == 0:  # frame 0 is the image the clip's index makes, as without grain
            assert not diff.any()
        else:  # a fresh noise field: small differences everywhere, not a few pixels
            assert np.count_nonzero(diff.max(axis=2)) > 0.5 * diff.shape[0] * diff.shape[1]
    seeds = [{c["name"]: c["params"]["seed"] for c in grain.sample(t).metadata["conditions"]} for t in range(FRAMES)]
    for name in GRAIN:
        assert len({s[name] for s in seeds}) == FRAMES  # never the same noise twice in a clip


def test_velocity_blur_replaces_the_configs_per_object_motion_blur(tiny_assets):
    """A config's per-object ``motion_blur`` draws an angle once per clip; with a shutter each
    object is blurred by its own displacement alone (a stopped one stays sharp)."""
    shutter = 0.8
    effects = [{"name": "motion_blur", "p": 1.0, "severity": 3, "per_object": True}]
    f = _factory(_config(tiny_assets, clips={"shutter": shutter}, effects=effects))
    checked = still = 0
    for clip in range(3):
        plan = plan_clip(f.gen, clip, 15.0)
        assert any(e.name == "motion_blur" for es in plan.object_effects.values() for e in es)  # the config drew some
        for t in range(FRAMES):
            conds = [c for c in f.sample(clip * FRAMES + t).metadata["conditions"] if c["name"] == "motion_blur"]
            per = {}
            for c in conds:
                assert c["instance_id"] not in per, "two motion blurs on one object"
                per[c["instance_id"]] = c
            for tr in plan.tracks:
                ox0, oy0 = tr.offset(t - 1) if t else (-tr.offset(1)[0], -tr.offset(1)[1])
                ox1, oy1 = tr.offset(t + 1)
                dx, dy = shutter / 2 * (ox1 - ox0), shutter / 2 * (oy1 - oy0)
                if round(math.hypot(dx, dy)) < 1:
                    assert tr.instance_id not in per
                    still += 1
                    continue
                c = per[tr.instance_id]
                assert c["severity"] is None  # the velocity blur's, not a severity's
                assert c["params"]["angle"] == pytest.approx(math.degrees(math.atan2(-dy, dx)), abs=1e-9)
                checked += 1
    assert checked >= 10


def test_shutter_zero_keeps_the_configs_per_object_motion_blur(tiny_assets):
    effects = [{"name": "motion_blur", "p": 1.0, "severity": 3, "per_object": True}]
    f = _factory(_config(tiny_assets, effects=effects))
    plan = plan_clip(f.gen, 0, 15.0)
    assert plan.effects_at(2) == plan.object_effects
    assert any(e.name == "motion_blur" for es in plan.effects_at(2).values() for e in es)
