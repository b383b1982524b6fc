"""stress --clips: the same clips under every condition x severity, each variant a clip run
with its MOT layout, described by suite.json."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
import yaml
from click.testing import CliRunner
from conftest import tiny_config_dict
from test_runner import _digests

from synthgen.cli import main
from synthgen.clip_stress import SUITE_FILE, run_clip_suite
from synthgen.config import load_config
from synthgen.errors import OutputError


def _tracks(run):
    """(video, frame, track) -> amodal box, from a variant's COCO video annotations"""
    doc = json.loads((run / "annotations.json").read_text())
    image = {im["id"]: im for im in doc["images"]}
    out = {}
    for a in doc["annotations"]:
        im = image[a["image_id"]]
        out[(im["video_id"], im["frame_id"], a["track_id"])] = tuple(a["amodal_bbox"])
    return out, doc


def test_every_variant_is_a_clip_run_of_the_same_clips(tiny_assets, tmp_path):
    data = tiny_config_dict(tiny_assets)
    data["clips"] = {"shutter": 0.5, "enter_rate": 2.0, "camera": {"p": 1.0}}
    cfg = load_config(data=data)
    out = tmp_path / "suite"
    names = [n for n, _ in run_clip_suite(cfg, out, 2, 5, ["fog", "occlusion"], [1, 5])]
    assert names == ["clean", "fog-1", "fog-5", "occlusion-1", "occlusion-5"]
    suite = json.loads((out / SUITE_FILE).read_text())
    assert [v["name"] for v in suite["variants"]] == names and suite["frames"] == 5 and suite["clips"] == 2
    clean, _ = _tracks(out / "clean")
    for v in suite["variants"]:
        run = out / v["run"]
        assert (run / "manifest.json").is_file()
        boxes, doc = _tracks(run)
        assert {(im["condition"], im["severity"]) for im in doc["images"]} == {(v["condition"], v["severity"])}
        for seq in v["sequences"]:
            mot = out / v["mot"] / seq
            assert (mot / "seqinfo.ini").is_file() and (mot / "gt" / "gt.txt").is_file()
            assert len(list((mot / "img1").iterdir())) == 5
        # the same objects in the same places: every track's whole silhouette where the clean run has it
        common = set(boxes) & set(clean)
        assert all(boxes[k] == clean[k] for k in common)
        if v["condition"] == "fog":
            assert set(boxes) == set(clean)
        else:  # occluders hide some objects wholly: fewer labels, never new ones
            assert set(boxes) <= set(clean) and (v["severity"] == 5 or len(common) >= 0.3 * len(clean))
    # the occluders hide more at the higher severity
    vis = defaultdict(float)
    for name in ("clean", "occlusion-5"):
        doc = json.loads((out / name / "annotations.json").read_text())
        vis[name] = sum(a["visible_fraction"] * a["area"] for a in doc["annotations"])
    assert vis["occlusion-5"] < vis["clean"]


def test_a_clip_suite_resumes_and_refuses_a_foreign_folder(tiny_assets, tmp_path):
    cfg_file = tmp_path / "cfg.yaml"
    cfg_file.write_text(yaml.safe_dump(tiny_config_dict(tiny_assets)))
    out = tmp_path / "suite"
    cmd = ["stress", str(cfg_file), "--out", str(out), "--clips", "2", "--frames", "3", "--conditions", "night",
           "--severities", "2", "-q"]
    r = CliRunner().invoke(main, cmd)
    assert r.exit_code == 0, r.output
    assert "clean: 2 clips x 3 frames" in r.output and "night-2:" in r.output
    before = {p.name: _digests(p) for p in out.iterdir() if p.is_dir()}
    r = CliRunner().invoke(main, cmd)  # again: everything is done already
    assert r.exit_code == 0, r.output
    assert {p.name: _digests(p) for p in out.iterdir() if p.is_dir()} == before
    r = CliRunner().invoke(main, [*cmd, "-n", "3"])
    assert r.exit_code == 2 and "give one" in r.output
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("x")
    with pytest.raises(OutputError, match="no clip stress suite"):
        list(run_clip_suite(load_config(cfg_file), foreign, 1, 2, ["fog"], [1]))
    assert sorted(p.name for p in foreign.iterdir()) == ["mine.txt"]


def test_a_rerun_with_fewer_variants_lists_the_old_ones_and_overwrite_removes_only_their_runs(tiny_assets, tmp_path):
    cfg_file = tmp_path / "cfg.yaml"
    cfg_file.write_text(yaml.safe_dump(tiny_config_dict(tiny_assets)))
    out = tmp_path / "suite"
    cmd = ["stress", str(cfg_file), "--out", str(out), "--clips", "1", "--frames", "2", "-q"]
    r = CliRunner().invoke(main, [*cmd, "--conditions", "night,fog", "--severities", "1,3"])
    assert r.exit_code == 0, r.output
    (out / "fog-3" / "notes.txt").write_text("mine")  # not the run's: it must survive
    kept = _digests(out / "night-1")
    r = CliRunner().invoke(main, [*cmd, "--conditions", "night", "--severities", "1"])
    assert r.exit_code == 0, r.output
    suite = json.loads((out / SUITE_FILE).read_text())
    assert [v["name"] for v in suite["variants"]] == ["clean", "night-1"]
    assert suite["stale"] == ["night-3", "fog-1", "fog-3"] and "fog-1, fog-3" in r.output
    assert all((out / n / "annotations.json").is_file() for n in suite["stale"])  # kept as they were
    from synthgen.tools.evaluate_tracks import find_sequences

    assert {s.name.split("/")[0] for s in find_sequences(out, tmp_path)} == {"clean", "night-1"}  # scored: the suite's own
    r = CliRunner().invoke(main, [*cmd, "--conditions", "night", "--severities", "1", "--overwrite"])
    assert r.exit_code == 0, r.output
    suite = json.loads((out / SUITE_FILE).read_text())
    assert suite["stale"] == ["fog-3"] and "left from an earlier suite" in r.output
    assert sorted(p.name for p in out.iterdir()) == ["clean", "fog-3", "night-1", SUITE_FILE]
    assert sorted(p.relative_to(out / "fog-3").as_posix() for p in (out / "fog-3").rglob("*")) == ["notes.txt"]
    assert _digests(out / "night-1") == kept  # the variants it has are the same runs
