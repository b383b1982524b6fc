"""Side paths of clips that must not give a wrong answer with exit 0, lose a file that is not
the run's, or crash: scoring a suite or run whose clips are not all there, a suite record a
refused run would leave stale, previews and MOT sequences of an earlier run, deletion through a
symbolic link or of a folder that is no run, per-part video lists, entering objects under a fast
camera, preview timing, and input that is not sound (refused with its name, never a traceback)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import make_assets, tiny_clip_config, tiny_config_dict

from synthgen.cli import main
from synthgen.clips import run_clips
from synthgen.config import load_config

FRAMES = 4


def _cfg(assets: Path, **extra):
    return tiny_clip_config(assets, **extra)


def _gt_as_tracks(run: Path, preds: Path) -> None:
    preds.mkdir(parents=True, exist_ok=True)
    for seq in sorted((run / "mot").iterdir()):
        shutil.copy(seq / "gt" / "gt.txt", preds / f"{seq.name}.txt")


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> Path:
    from synthgen.clip_stress import run_clip_suite

    root = tmp_path_factory.mktemp("suite")
    cfg = load_config(data=tiny_config_dict(make_assets(root / "assets")))
    out = root / "suite"
    list(run_clip_suite(cfg, out, 2, FRAMES, ["fog"], [2]))
    return out


def _copy_with_tracks(suite: Path, tmp_path: Path) -> tuple[Path, Path]:
    copy, preds = tmp_path / "suite", tmp_path / "tracks"
    shutil.copytree(suite, copy)
    for variant in ("clean", "fog-2"):
        _gt_as_tracks(copy / variant, preds / variant)
    return copy, preds


def test_a_suite_scores_every_clip_it_lists(suite, tmp_path):
    pytest.importorskip("motrics", reason="scoring tracks needs the tracking extra (motrics)")
    from synthgen.tools.evaluate_tracks import evaluate_tracks

    copy, preds = _copy_with_tracks(suite, tmp_path)
    ev = evaluate_tracks(copy, preds)
    assert ev.groups[-1].clips == 4 and ev.groups[-1].hota == pytest.approx(1.0)


@pytest.mark.parametrize("remove", ["fog-2/mot/clip-000001", "fog-2/mot", "fog-2"])
def test_a_suite_missing_a_clip_or_variant_it_lists_is_refused(suite, tmp_path, remove):
    """Scoring what is left would report HOTA over fewer clips (or conditions) than the suite has."""
    pytest.importorskip("motrics", reason="scoring tracks needs the tracking extra (motrics)")
    from synthgen.tools.evaluate_tracks import TrackEvaluationError, evaluate_tracks

    copy, preds = _copy_with_tracks(suite, tmp_path)
    shutil.rmtree(copy / remove)
    with pytest.raises(TrackEvaluationError, match="suite.json"):
        evaluate_tracks(copy, preds)
    res = CliRunner().invoke(main, ["evaluate", str(copy), "--tracks", str(preds), "-o", str(tmp_path / "rep"), "-q"])
    assert res.exit_code == 2 and "fog-2" in res.output, res.output
    assert not (tmp_path / "rep" / "tracking.csv").exists()


def test_a_clips_run_missing_a_sequence_or_not_complete_is_refused(tmp_path):
    pytest.importorskip("motrics", reason="scoring tracks needs the tracking extra (motrics)")
    from synthgen.tools.evaluate_tracks import TrackEvaluationError, evaluate_tracks

    run, preds = tmp_path / "run", tmp_path / "tracks"
    run_clips(_cfg(make_assets(tmp_path / "assets")), run, 2, FRAMES)
    _gt_as_tracks(run, preds)
    assert evaluate_tracks(run, preds).groups[-1].clips == 2
    shutil.rmtree(run / "mot" / "clip-000001")
    with pytest.raises(TrackEvaluationError, match="clip-000001"):
        evaluate_tracks(run, preds)
    # a run killed before its merge: its mot/ (if any) is not this run's
    shutil.copytree(run / "mot" / "clip-000000", run / "mot" / "clip-000001")
    (run / "annotations.json").unlink()
    with pytest.raises(TrackEvaluationError, match="not complete"):
        evaluate_tracks(run, preds)


def test_clips_resumed_with_other_frames_is_refused_naming_frames(tmp_path):
    """--frames is no config key: the refusal names it, not a --shard-size the command does not have."""
    from synthgen.errors import OutputError

    cfg, run = _cfg(make_assets(tmp_path / "assets")), tmp_path / "run"
    run_clips(cfg, run, 2, FRAMES)
    with pytest.raises(OutputError, match=f"--frames {FRAMES}") as err:
        run_clips(cfg, run, 2, FRAMES + 2)
    assert "shard-size" not in str(err.value) and "--overwrite" in str(err.value)
    run_clips(cfg, run, 2, FRAMES + 2, overwrite=True)


@pytest.mark.parametrize("change", [{"frames": FRAMES + 2}, {"fps": 30.0}])
def test_a_refused_suite_run_leaves_suite_json_as_it_was(suite, tmp_path, change):
    """suite.json says what the suite folder holds: a run refused (another --frames or --fps,
    without --overwrite) must not rewrite it to describe clips that were never made."""
    from synthgen.clip_stress import run_clip_suite
    from synthgen.errors import OutputError

    copy = tmp_path / "suite"
    shutil.copytree(suite, copy)
    before = (copy / "suite.json").read_bytes()
    cfg = load_config(data=tiny_config_dict(suite.parent / "assets"))
    args = {"frames": FRAMES, "fps": 15.0, **change}
    with pytest.raises(OutputError):
        list(run_clip_suite(cfg, copy, 2, args["frames"], ["fog"], [2], fps=args["fps"]))
    assert (copy / "suite.json").read_bytes() == before
    with pytest.raises(OutputError):  # fewer conditions as well: the earlier variants stay listed
        list(run_clip_suite(cfg, copy, 2, args["frames"], [], [2], fps=args["fps"]))
    assert (copy / "suite.json").read_bytes() == before


def test_previews_of_an_earlier_run_do_not_outlive_it(tmp_path):
    """preview/<clip>.gif shows a clip of the run in the folder, or is not there: replaced with
    --overwrite, or resumed with fewer clips, the earlier run's GIFs go (a file of yours stays)."""
    import yaml

    assets = make_assets(tmp_path / "assets")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config_dict(assets)))
    out = tmp_path / "out"

    def clips(*args):
        res = CliRunner().invoke(main, ["clips", str(cfg), "--out", str(out), "--frames", str(FRAMES), "-q", *args])
        assert res.exit_code == 0, res.output

    clips("--clips", "3", "--preview")
    assert sorted(p.name for p in (out / "preview").iterdir()) == [f"clip-00000{k}.gif" for k in range(3)]
    (out / "preview" / "notes.txt").write_text("mine")
    clips("--clips", "2")  # the same run with fewer clips: clip 2 is gone, so is its preview
    assert sorted(p.name for p in (out / "preview").iterdir()) == ["clip-000000.gif", "clip-000001.gif", "notes.txt"]
    clips("--clips", "2", "--seed", "9", "--overwrite")  # another run: none of the old previews shows it
    assert sorted(p.name for p in (out / "preview").iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("fps", [float("inf"), float("nan"), 0.0, -2.0])
def test_a_frame_rate_that_is_not_a_finite_number_above_0_is_refused(tmp_path, fps):
    from synthgen.clip_stress import run_clip_suite
    from synthgen.errors import ConfigError

    cfg = _cfg(make_assets(tmp_path / "assets"))
    with pytest.raises(ConfigError, match="--fps"):
        run_clips(cfg, tmp_path / "run", 1, FRAMES, fps=fps)
    with pytest.raises(ConfigError, match="--fps"):
        list(run_clip_suite(cfg, tmp_path / "suite", 1, FRAMES, ["fog"], [1], fps=fps))
    assert not (tmp_path / "run").exists() and not (tmp_path / "suite" / "suite.json").exists()
    res = CliRunner().invoke(main, ["clips", "--out", str(tmp_path / "cli"), "--fps", str(fps), "-q"])
    assert res.exit_code == 2 and "--fps" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("tid", ["1e30", "100000000000000000000000000000", "9007199254740993", "-1e300"])
def test_a_track_id_too_large_to_read_exactly_is_refused(tmp_path, tid):
    """Read as a float, ids past 2**53 collapse into one another (two tracks scored as one) and
    past 2**63 the metrics package overflows: refused with file and line instead."""
    pytest.importorskip("motrics", reason="scoring tracks needs the tracking extra (motrics)")
    from synthgen.tools.evaluate_tracks import TrackEvaluationError, read_mot

    f = tmp_path / "t.txt"
    f.write_text(f"1,1,10,10,5,5\n1,{tid},20,20,5,5\n")
    with pytest.raises(TrackEvaluationError, match=r"t.txt: line 2: id"):
        read_mot(f)
    f.write_text("1,9007199254740992,10,10,5,5\n1,-9007199254740992,20,20,5,5\n")  # 2**53 and below: exact
    assert sorted(d[0] for d in read_mot(f)[1]) == [-(2**53), 2**53]


def test_objects_entering_under_a_fast_camera_are_outside_the_frame_before_entry(tmp_path):
    """The README's promise, at the camera's documented limits: the frame before its entry frame,
    an entering object's silhouette lies wholly outside the image (it does not pop in mid-frame)."""
    from synthgen.clips import Clips
    from synthgen.geometry import clip_box
    from synthgen.scene import placed_box
    from synthgen.worker import WorkerContext

    camera = {"p": 1.0, "pan": [0.4, 0.5], "zoom": [-0.5, 0.5], "shake": [0.03, 0.05]}
    cfg = _cfg(make_assets(tmp_path / "assets"), canvas={"width": 128, "height": 96},
               scene={"objects_per_image": [1, 2], "scale": [0.2, 0.4]}, clips={"enter_rate": 15.0, "camera": camera})
    frames = 20
    f = WorkerContext(threads=None).factory(Clips(cfg.model_dump_json(), frames, 15.0))
    checked = 0
    for clip in range(6):
        plan = f.plan(clip)
        for tr, p in zip(plan.tracks, plan.placements):
            if tr.entry <= 0:
                continue
            seen = plan.camera.move(tr.move(p, tr.entry - 1), tr.entry - 1)  # as the image of that frame shows it
            _, box = placed_box(f.library.cutout(p.asset), seen, plan.scene.canvas_wh)
            assert clip_box(box, plan.scene.canvas_wh) is None, (clip, tr.instance_id, tr.entry, box)
            checked += 1
    assert checked >= 20


@pytest.fixture(scope="module")
def sound_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("clips")
    run_clips(_cfg(make_assets(root / "assets")), root / "run", 2, FRAMES, fps=12.5)
    return root / "run"


@pytest.mark.parametrize("damage, says", [
    (lambda r: shutil.copy(r / "mot/clip-000001/img1/000001.jpg", r / f"mot/clip-000001/img1/{FRAMES + 1:06d}.jpg"),
     f"{FRAMES + 1:06d}.jpg"),
    (lambda r: (r / "mot/clip-000001/img1/000002.jpg").unlink() or shutil.copy(r / "images/000001_000002.jpg",
                                                                               r / "mot/clip-000001/img1/000002.jpg"),
     "000002.jpg is not the clip's frame 000001_000001.jpg"),
    (lambda r: shutil.copytree(r / "mot/clip-000001", r / "mot/clip-000007"), "clip-000007"),
    (lambda r: (r / "mot/clip-000000/seqinfo.ini").write_text(
        (r / "mot/clip-000000/seqinfo.ini").read_text().replace("frameRate=12.5", "frameRate=30")), "frameRate 30"),
])
def test_validate_finds_a_mot_layout_that_says_more_or_other_than_the_run(sound_run, tmp_path, damage, says):
    """mot/ must say exactly what annotations.json says: no frame past the clip's length, each
    frame the clip's own image, no sequence of no clip, the clip's frame rate."""
    from synthgen.tools.validate import validate_path

    assert validate_path(sound_run).ok
    run = tmp_path / "run"
    shutil.copytree(sound_run, run)
    damage(run)
    report = validate_path(run)
    found = [f"{p.where}: {p.message}" for p in report.problems if p.kind == "mot"]
    assert any(says in p for p in found), found


@pytest.mark.parametrize("command", ["validate", "report"])
def test_validate_and_report_on_a_clip_suite_say_to_give_a_variant(suite, tmp_path, command):
    res = CliRunner().invoke(main, [command, str(suite), "-q", *(["-o", str(tmp_path / "r.html")] if command == "report" else [])])
    assert res.exit_code == 2 and "stress suite of clips" in res.output and str(suite / "clean") in res.output, res.output


def test_the_mot_layout_removes_nothing_through_a_symbolic_link(tmp_path):
    """OUT/mot linked to a folder of yours: the run may write its sequences there, but it never
    deletes what it finds there (a clip-NNNNNN folder of yours is not a stale sequence of the run)."""
    cfg, run = _cfg(make_assets(tmp_path / "assets")), tmp_path / "run"
    run_clips(cfg, run, 1, FRAMES)
    shutil.rmtree(run / "mot")
    mine = tmp_path / "mine"
    (mine / "clip-000005" / "img1").mkdir(parents=True)
    (mine / "clip-000005" / "img1" / "000001.jpg").write_text("mine")
    (mine / "clip-000005" / "seqinfo.ini").write_text("mine")
    (run / "mot").symlink_to(mine)
    run_clips(cfg, run, 1, FRAMES)
    assert (mine / "clip-000005" / "img1" / "000001.jpg").read_text() == "mine"
    assert (mine / "clip-000005" / "seqinfo.ini").read_text() == "mine"


@pytest.mark.parametrize("option", [["--frames", "10"], ["--fps", "30"]])
def test_stress_refuses_clip_options_without_clips(tmp_path, option):
    """--frames and --fps shape clips only: given to an image suite they would be ignored silently."""
    import yaml

    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config_dict(make_assets(tmp_path / "assets"))))
    res = CliRunner().invoke(main, ["stress", str(cfg), "--out", str(tmp_path / "s"), "-n", "2", "--conditions", "fog",
                                    "--severities", "1", "-q", *option])
    assert res.exit_code == 2 and option[0] in res.output and "--clips" in res.output, res.output
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("fps", [15.0, 30.0, 12.5, 7.0])
def test_a_preview_plays_at_the_clips_frame_rate(fps):
    """GIF delays are whole hundredths of a second: 15 fps as 1000/15 ms rounds down to 60 ms
    (16.7 fps). The delays alternate so that frame k shows at k / fps, to the hundredth."""
    import io

    import numpy as np
    from PIL import Image

    from synthgen.tools.clip_preview import gif

    n = 30
    frames = [np.zeros((8, 8, 3), np.uint8) for _ in range(n)]
    for k, f in enumerate(frames):  # a white dot that moves: every frame differs from the one before
        f[k // 8 % 8, k % 8] = 255
    im = Image.open(io.BytesIO(gif(frames, fps)))
    delays = []
    for k in range(im.n_frames):
        im.seek(k)
        delays.append(im.info["duration"])
    assert len(delays) == n
    starts = np.cumsum([0, *delays[:-1]])
    assert np.all(np.abs(starts - np.arange(n) * 1000 / fps) <= 5), (delays, fps)


def test_overwrite_removes_only_stale_variants_that_are_runs(suite, tmp_path):
    """A folder named like a variant an earlier suite.json lists, but holding no synthgen run
    (its variant deleted, a folder of yours put there): --overwrite leaves all of it alone,
    annotations.json included."""
    from synthgen.clip_stress import run_clip_suite

    copy = tmp_path / "suite"
    shutil.copytree(suite, copy)
    shutil.rmtree(copy / "fog-2")
    mine = copy / "fog-2"
    (mine / "images").mkdir(parents=True)
    for name in ("annotations.json", "train.json", "images/a.jpg"):
        (mine / name).write_text("mine")
    cfg = load_config(data=tiny_config_dict(suite.parent / "assets"))
    list(run_clip_suite(cfg, copy, 2, FRAMES, [], [2], overwrite=True))  # fog-2 is no longer part of the suite
    assert all((mine / name).read_text() == "mine" for name in ("annotations.json", "train.json", "images/a.jpg"))


def test_train_and_val_list_the_videos_whose_frames_they_hold(tmp_path):
    """A clip's frames are all in one part; train.json and val.json each list only their own
    clips as videos (a reader of val.json must not find clips of 60 frames with none in it)."""
    cfg = _cfg(make_assets(tmp_path / "assets"), output={"val_fraction": 0.5})
    run = tmp_path / "run"
    run_clips(cfg, run, 6, FRAMES)
    seen = set()
    for part in ("train", "val"):
        doc = json_load(run / f"{part}.json")
        assert "videos" in doc  # a clips dataset, even a part that holds no clip
        frames: dict[int, int] = {}
        for im in doc["images"]:
            frames[im["video_id"]] = frames.get(im["video_id"], 0) + 1
        assert {v["id"]: v["length"] for v in doc["videos"]} == frames == {v: FRAMES for v in frames}
        seen |= set(frames)
    assert seen == {v["id"] for v in json_load(run / "annotations.json")["videos"]}


def test_a_part_that_holds_no_clip_still_lists_videos(tmp_path):
    """All clips may fall in one part: the other is still a clips dataset, with an empty list."""
    cfg = _cfg(make_assets(tmp_path / "assets"), output={"val_fraction": 0.5})
    run = tmp_path / "run"
    for n in range(1, 6):
        run_clips(cfg, run, n, FRAMES)  # the same run grown clip by clip: stop when one part is empty
        parts = {p: json_load(run / f"{p}.json") for p in ("train", "val")}
        if any(not d["images"] for d in parts.values()):
            break
    else:
        pytest.skip("every part held a clip for 1 to 5 clips")
    assert all(d.get("videos") == [] for d in parts.values() if not d["images"])


def json_load(path: Path) -> dict:
    import json

    return json.loads(path.read_text())


def test_a_run_resumed_with_fewer_clips_and_no_mot_leaves_no_stale_sequence(tmp_path):
    """mot is a layout, not part of the config: the same run resumed with --clips 2 --format coco
    must not leave the sequences of clips 2 and 3 in mot/ (evaluate would skip them, other MOT
    readers would not)."""
    from synthgen.tools.validate import validate_path

    assets = make_assets(tmp_path / "assets")
    run = tmp_path / "run"
    run_clips(_cfg(assets), run, 4, FRAMES, layouts=("mot",))
    run_clips(_cfg(assets), run, 2, FRAMES, layouts=())
    assert sorted(p.name for p in (run / "mot").iterdir()) == ["clip-000000", "clip-000001"]
    assert validate_path(run).ok


def test_tracks_written_with_a_byte_order_mark_and_crlf_are_read(tmp_path):
    """Windows tools write a UTF-8 byte order mark and CRLF line ends: the lines are sound."""
    pytest.importorskip("motrics", reason="scoring tracks needs the tracking extra (motrics)")
    from synthgen.tools.evaluate_tracks import read_mot

    f = tmp_path / "t.txt"
    f.write_bytes("1,3,10,20,30,40,1,-1,-1,-1\r\n2,3,11,21,30,40\r\n".encode("utf-8-sig"))
    got = read_mot(f)
    assert got[1][0][:2] == (3, (10.0, 20.0, 30.0, 40.0)) and got[2][0][0] == 3


def test_validate_on_a_part_file_compares_it_with_its_part_not_the_run(tmp_path):
    """train.json / val.json hold part of a run: 'N images, manifest.json says M' was a false alarm."""
    from synthgen.tools.validate import validate_path

    cfg = _cfg(make_assets(tmp_path / "assets"), output={"val_fraction": 0.5})
    run = tmp_path / "run"
    run_clips(cfg, run, 4, FRAMES)
    for part in ("train", "val"):
        report = validate_path(run / f"{part}.json", images=run / "images")
        assert report.ok, report.problems[:2]
    doc = json_load(run / "annotations.json")
    doc["images"] = doc["images"][:-1]
    doc["annotations"] = [a for a in doc["annotations"] if a["image_id"] != doc["images"][-1]["id"] + 1]
    (run / "annotations.json").write_text(__import__("json").dumps(doc))
    assert validate_path(run).problem_counts["count_mismatch"] == 1  # the whole run is still counted
