"""Clips: any frame alone equals it in sequence, any worker count the same bytes, tracks that
keep their id and move as their trajectory says, MOT gt.txt = the COCO annotations, resume
after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import clip_factory, tiny_clip_config, tiny_config_dict
from test_runner import _digests

from synthgen.clips import plan_clip, run_clips
from synthgen.effects.timeline import GRAIN
from synthgen.errors import OutputError
from synthgen.io.manifest import plan_shards
from synthgen.writers.shard import verify_shard

FRAMES = 6


EFFECTS = [{"name": "gaussian_noise", "p": 0.7}, {"name": "brightness", "p": 0.7}]


def _config(assets, clips=None, **extra):
    return tiny_clip_config(assets, clips, ("mot", "coco", "yolo"), **{"effects": EFFECTS, **extra})


@pytest.fixture
def cfg(tiny_assets):
    return _config(tiny_assets)


@pytest.fixture
def reference(cfg, tmp_path) -> Path:
    out = tmp_path / "reference"
    run_clips(cfg, out, 3, FRAMES)
    return out


def _factory(cfg):
    return clip_factory(cfg, FRAMES)


def _same(a, b) -> None:
    assert np.array_equal(a.image, b.image) and np.array_equal(a.id_map, b.id_map)
    assert [i.bbox for i in a.instances] == [i.bbox for i in b.instances]
    assert a.metadata == b.metadata and a.image_fields == b.image_fields


def test_a_frame_rendered_alone_equals_it_rendered_in_sequence(cfg):
    in_order = _factory(cfg)
    sequence = [in_order.sample(k) for k in range(2 * FRAMES)]
    for k in (FRAMES + 4, 3, 2 * FRAMES - 1, 0):  # fresh factories, out of order
        _same(_factory(cfg).sample(k), sequence[k])
    backwards = _factory(cfg)
    for k in reversed(range(2 * FRAMES)):
        _same(backwards.sample(k), sequence[k])
    assert sequence[FRAMES + 1].image_fields["video_id"] == 2 and sequence[FRAMES + 1].image_fields["frame_id"] == 1


def test_conditions_are_fixed_over_a_clip_and_frames_move(cfg):
    f = _factory(cfg)
    for clip in range(3):
        frames = [f.sample(clip * FRAMES + t) for t in range(FRAMES)]
        # the same conditions throughout, but for the sensor noise's seed (clips.weather.grain)
        still = [[{**c, "params": {k: v for k, v in c["params"].items() if not (c["name"] in GRAIN and k == "seed")}}
                  for c in s.metadata["conditions"]] for s in frames]
        assert all(c == still[0] for c in still)
        seeds = [next((c["params"]["seed"] for c in s.metadata["conditions"] if c["name"] == "gaussian_noise"), None) for s in frames]
        assert seeds[0] is None or len(set(seeds)) == FRAMES
        assert all(s.scene.background == frames[0].scene.background for s in frames)
        assert len({s.image.tobytes() for s in frames}) == FRAMES  # the objects move


def test_any_worker_count_writes_the_same_bytes(cfg, tmp_path, reference):
    out = tmp_path / "two"
    run_clips(cfg, out, 3, FRAMES, workers=2)
    assert _digests(out) == _digests(reference)


def test_the_ray_backend_writes_the_same_bytes(cfg, tmp_path, reference, monkeypatch):
    ray = pytest.importorskip("ray", reason="--backend ray needs the [ray] extra")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", logging_level="error")
    try:
        out = tmp_path / "ray"
        run_clips(cfg, out, 3, FRAMES, backend="ray")
    finally:
        ray.shutdown()
    assert _digests(out) == _digests(reference)


def test_tracks_keep_their_id_and_move_with_their_trajectory(cfg, reference):
    doc = json.loads((reference / "annotations.json").read_text())
    assert [v["length"] for v in doc["videos"]] == [FRAMES] * 3
    image = {im["id"]: im for im in doc["images"]}
    by_track = defaultdict(dict)  # (video, track) -> frame -> annotation
    for a in doc["annotations"]:
        im = image[a["image_id"]]
        key = (im["video_id"], a["track_id"])
        assert im["frame_id"] not in by_track[key], "one annotation per track per frame"
        by_track[key][im["frame_id"]] = a
    assert by_track
    for frames in by_track.values():
        assert len({a["category_id"] for a in frames.values()}) == 1  # the same object throughout
    # untruncated objects: the whole silhouette's (amodal) box centre moves by the trajectory's displacement
    factory = _factory(cfg)
    checked, distance = 0, 0.0
    for clip in range(3):
        plan = plan_clip(factory.gen, clip, 15.0)
        for tr, p in zip(plan.tracks, plan.placements):
            frames = by_track.get((clip + 1, (clip + 1) * 1000 + tr.instance_id), {})
            whole = {t: a for t, a in frames.items() if a["amodal_bbox"] and not a["truncated"]}
            if len(whole) < 2:
                continue
            t0, t1 = min(whole), max(whole)  # the longest span: displacements of several pixels
            (x0, y0, w0, h0), (x1, y1, w1, h1) = whole[t0]["amodal_bbox"], whole[t1]["amodal_bbox"]
            moved = (x1 + w1 / 2 - x0 - w0 / 2, y1 + h1 / 2 - y0 - h0 / 2)
            a, b = tr.offset(t0), tr.offset(t1)
            expected = (b[0] - a[0], b[1] - a[1])
            assert abs(moved[0] - expected[0]) <= 1.5 and abs(moved[1] - expected[1]) <= 1.5, (clip, tr, t0, t1)
            checked += 1
            distance += abs(expected[0]) + abs(expected[1])
    assert checked >= 5 and distance / checked > 3, (checked, distance)


def test_mot_gt_matches_the_coco_annotations(reference):
    doc = json.loads((reference / "annotations.json").read_text())
    image = {im["id"]: im for im in doc["images"]}
    for video in doc["videos"]:
        seq = reference / "mot" / video["name"]
        rows = [line.split(",") for line in (seq / "gt" / "gt.txt").read_text().splitlines()]
        got = sorted((int(r[0]), int(r[1]), *map(int, r[2:6]), int(r[6]), int(r[7]), round(float(r[8]), 6)) for r in rows)
        want = sorted(
            (image[a["image_id"]]["frame_id"] + 1, a["track_id"] - 1000 * video["id"], *a["bbox"], 1, a["category_id"], round(a["visible_fraction"], 6))
            for a in doc["annotations"] if image[a["image_id"]]["video_id"] == video["id"]
        )
        assert got == want and got
        # MOT counts frames and ids from 1: frames 1..F, ids the clip's instance ids (>= 1)
        assert {r[0] for r in got} <= set(range(1, FRAMES + 1)) and min(r[0] for r in got) == 1
        assert min(r[1] for r in got) >= 1 and max(r[1] for r in got) < 1000
        ini = (seq / "seqinfo.ini").read_text()
        assert f"seqLength={FRAMES}" in ini and "imDir=img1" in ini and "frameRate=15" in ini
        for im in (i for i in doc["images"] if i["video_id"] == video["id"]):
            assert os.path.samefile(seq / "img1" / f"{im['frame_id'] + 1:06d}.jpg", reference / "images" / im["file_name"])
    # COCO track ids are unique over the run's clips: one video per track id
    video_of_track = defaultdict(set)
    for a in doc["annotations"]:
        video_of_track[a["track_id"]].add(image[a["image_id"]]["video_id"])
    assert all(len(v) == 1 for v in video_of_track.values())
    assert all(t // 1000 == next(iter(v)) for t, v in video_of_track.items())


def test_a_killed_clip_run_resumes_to_the_same_bytes(tiny_assets, tmp_path):
    cfg = _config(tiny_assets, canvas={"width": 480, "height": 360})  # slow enough to be killed part-way
    reference = tmp_path / "reference"
    run_clips(cfg, reference, 6, FRAMES)
    cfg_file = tmp_path / "cfg.yaml"
    cfg_file.write_text(yaml.safe_dump(json.loads(cfg.model_dump_json())))
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "synthgen.cli", "clips", str(cfg_file), "--out", str(out), "--clips", "6",
           "--frames", str(FRAMES), "--format", "mot,coco,yolo", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if len(list(out.glob("shards/*.done.json"))) >= 2:
            break
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "manifest.json").exists(), "the run finished before it could be killed"
    done = [s for s in plan_shards(6 * FRAMES, FRAMES) if (out / "shards" / f"{s.name}.done.json").exists()]
    assert 2 <= len(done) < 6
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert all(verify_shard(out, s, full=True) is not None for s in plan_shards(6 * FRAMES, FRAMES))
    assert _digests(out) == _digests(reference)


def test_another_fps_is_refused_unless_overwritten(cfg, reference):
    with pytest.raises(OutputError, match="--fps 15"):
        run_clips(cfg, reference, 3, FRAMES, fps=10)
    run_clips(cfg, reference, 3, FRAMES, fps=10, overwrite=True)
    assert json.loads((reference / "annotations.json").read_text())["videos"][0]["fps"] == 10


def test_overwrite_by_another_kind_of_run_removes_the_mot_layout(tmp_path, tiny_assets):
    """A clips run replaced with --overwrite leaves no mot/ folder behind; a user's own file in it stays."""
    import yaml
    from click.testing import CliRunner

    from synthgen.cli import main


    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config_dict(tiny_assets)))
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["clips", str(cfg), "--out", str(out), "--clips", "1", "--frames", "3", "--format", "mot", "-q"])
    assert run.exit_code == 0, run.output
    assert (out / "mot").is_dir()
    (out / "mot" / "notes.txt").write_text("mine")
    run = CliRunner().invoke(main, ["generate", str(cfg), "--out", str(out), "-n", "2", "--overwrite", "-q"])
    assert run.exit_code == 0, run.output
    left = sorted(p.relative_to(out / "mot").as_posix() for p in (out / "mot").rglob("*"))
    assert left == ["notes.txt"]


ALL_ON = {"shutter": 0.7, "enter_rate": 3.0, "camera": {"p": 1.0, "pan": [0.1, 0.2], "zoom": [-0.2, 0.2], "shake": [0.001, 0.004]},
          "weather": {"drift": 0.4, "period": [1.0, 2.0]}}


@pytest.fixture
def all_on(tiny_assets):
    return _config(tiny_assets, clips=ALL_ON, effects=[{"name": "fog", "p": 1.0}, {"name": "snow", "p": 0.5},
                                                       {"name": "motion_blur", "p": 0.5, "per_object": True},
                                                       {"name": "iso_noise", "p": 1.0}])


def test_with_every_clip_option_on_a_frame_alone_equals_it_in_sequence(all_on):
    in_order = _factory(all_on)
    sequence = [in_order.sample(k) for k in range(3 * FRAMES)]
    assert any(c["name"] == "motion_blur" and "instance_id" in c for s in sequence for c in s.metadata["conditions"])
    assert any("camera" in s.metadata for s in sequence)
    for k in (2 * FRAMES + 5, 4, FRAMES, 0, 2 * FRAMES - 1):
        _same(_factory(all_on).sample(k), sequence[k])
    backwards = _factory(all_on)
    for k in reversed(range(3 * FRAMES)):
        _same(backwards.sample(k), sequence[k])


def test_with_every_clip_option_on_any_worker_count_writes_the_same_bytes(all_on, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    run_clips(all_on, one, 3, FRAMES)
    run_clips(all_on, two, 3, FRAMES, workers=2)
    assert _digests(one) == _digests(two)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_merge_of_a_clips_run_into_another_folder_carries_the_mot_layout(cfg, tmp_path):
    """'synthgen merge RUN --out DEST' of a clips run left mot/ behind: DEST had no MOT layout."""
    from synthgen.writers.merge import merge_run

    run = tmp_path / "run"
    run_clips(cfg, run, 2, 3)
    merge_run(run, tmp_path / "dest")
    mot = _files(run / "mot")
    assert len(mot) == 2 * (3 + 2)
    assert _files(tmp_path / "dest" / "mot") == mot


def test_a_clips_run_killed_while_writing_mot_does_not_look_finished(cfg, tmp_path, monkeypatch):
    """Killed while writing mot/, a clips run had annotations.json (the sign of a finished
    dataset) beside a partial mot/; the rerun completes it."""
    import synthgen.writers.mot as mot

    class Killed(BaseException):
        pass

    reference = tmp_path / "reference"
    run_clips(cfg, reference, 2, 3)
    out = tmp_path / "out"
    real = mot.atomic_write
    seen = []

    def atomic_write(path, data):
        seen.append(Path(path).name)
        if seen.count("gt.txt") == 2:
            raise Killed()
        real(path, data)

    with monkeypatch.context() as m:
        m.setattr(mot, "atomic_write", atomic_write)
        with pytest.raises(Killed):
            run_clips(cfg, out, 2, 3)
    assert not (out / "annotations.json").exists()
    run_clips(cfg, out, 2, 3)
    assert _files(out / "mot") == _files(reference / "mot")
    assert (out / "annotations.json").read_bytes() == (reference / "annotations.json").read_bytes()
