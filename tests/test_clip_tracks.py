"""Tracks over a clip: objects that enter through the edges part-way through, and objects that
are hidden for some frames and come back under the same id."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from conftest import clip_factory, tiny_clip_config

from synthgen.clips import run_clips
from synthgen.geometry import clip_box
from synthgen.scene import placed_box

FRAMES = 16


_config = tiny_clip_config


def _factory(cfg, frames=FRAMES):
    return clip_factory(cfg, frames)


def test_objects_enter_through_the_edges_with_new_ids(tiny_assets):
    extra = {"canvas": {"width": 128, "height": 96}, "scene": {"objects_per_image": [1, 3], "scale": [0.2, 0.4]}}
    f = _factory(_config(tiny_assets, clips={"enter_rate": 4.0}, **extra))
    plain = _factory(_config(tiny_assets, **extra))
    entered = labeled_after_entry = 0
    for clip in range(4):
        plan = f.plan(clip)
        ids = [tr.instance_id for tr in plan.tracks]
        assert len(set(ids)) == len(ids) and ids == [p.instance_id for p in plan.placements]
        frame0 = {p.instance_id for p in plan.scene.placements}
        entering = [(tr, p) for tr, p in zip(plan.tracks, plan.placements) if tr.entry > 0]
        assert all(tr.instance_id > max(frame0 | {0}) for tr, _ in entering)
        assert all(1 <= tr.entry < FRAMES for tr, _ in entering)
        entered += len(entering)
        seen = defaultdict(list)
        for t in range(FRAMES):
            s = f.sample(clip * FRAMES + t)
            for i in s.instances:
                seen[i.instance_id].append(t)
            present = {p.instance_id for p in s.scene.placements}
            assert present == frame0 | {tr.instance_id for tr, _ in entering if tr.entry <= t}
            if all(tr.entry > t for tr, _ in entering):  # nobody has entered yet: the clip as without entering
                q = plain.sample(clip * FRAMES + t)
                assert np.array_equal(s.image, q.image) and np.array_equal(s.id_map, q.id_map)
        for tr, p in entering:
            assert all(t >= tr.entry for t in seen.get(tr.instance_id, [])), "no label before the entry frame"
            labeled_after_entry += bool(seen.get(tr.instance_id))
            # one frame before entry the whole silhouette lies outside the frame
            cut = f.library.cutout(p.asset)
            _, box = placed_box(cut, tr.move(p, tr.entry - 1), plan.scene.canvas_wh)
            assert clip_box(box, plan.scene.canvas_wh) is None, (box, tr)
            # and it heads into the frame
            W, H = plan.scene.canvas_wh
            a, b = tr.move(p, tr.entry).center, tr.move(p, tr.entry + 3).center
            to_centre = (W / 2 - a[0], H / 2 - a[1])
            assert (b[0] - a[0]) * to_centre[0] + (b[1] - a[1]) * to_centre[1] > 0
    assert entered >= 4 and labeled_after_entry >= 2, (entered, labeled_after_entry)


def test_an_object_hidden_for_some_frames_comes_back_with_its_id(tiny_assets, tmp_path):
    """Gaps in a track in gt.txt: in the gap the object is hidden or outside (its frame's record
    says so), and after it the same id sits where that object's own trajectory puts it."""
    cfg = _config(tiny_assets, scene={"objects_per_image": [5, 8], "scale": [0.35, 0.6], "occlusion": {"max_hidden": 0.9}})
    out = tmp_path / "clips"
    run_clips(cfg, out, 4, FRAMES)
    f = _factory(cfg)
    gaps = 0
    for clip in range(4):
        rows = [list(map(float, r.split(","))) for r in (out / "mot" / f"clip-{clip:06d}" / "gt" / "gt.txt").read_text().splitlines()]
        frames_of = defaultdict(dict)
        for r in rows:
            frames_of[int(r[1])][int(r[0]) - 1] = r  # MOT frames count from 1
        plan = f.plan(clip)
        track_of = {tr.instance_id: (tr, p) for tr, p in zip(plan.tracks, plan.placements)}
        for tid, frames in frames_of.items():
            ts = sorted(frames)
            for before, after in zip(ts, ts[1:]):
                if after == before + 1:
                    continue
                gaps += 1
                for t in range(before + 1, after):  # the gap: its frame dropped it, or it left the frame
                    s = f.sample(clip * FRAMES + t)
                    assert tid not in {i.instance_id for i in s.instances}
                    assert str(tid) in s.metadata["dropped"] or not any(
                        p.instance_id == tid and clip_box(placed_box(f.library.cutout(p.asset), p, s.scene.canvas_wh)[1], s.scene.canvas_wh)
                        for p in s.scene.placements
                    )
                # back: the same category, and the object its own trajectory puts there
                assert frames[after][7] == frames[before][7]
                s = f.sample(clip * FRAMES + after)
                inst = next(i for i in s.instances if i.instance_id == tid)
                tr, p = track_of[tid]
                if not inst.truncated:
                    x, y, w, h = inst.amodal_bbox
                    cx, cy = tr.move(p, after).center
                    assert math.hypot(x + w / 2 - cx, y + h / 2 - cy) < 0.25 * max(w, h) + 2
    assert gaps >= 1
