"""Tracker scoring on clips: ground truth as tracks scores 1.0, a hand-made id switch costs what
the MOT definitions say, per condition x severity for a suite of clip runs, and every unsound
prediction line is refused with its file and line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import make_assets, tiny_config_dict

from synthgen.cli import main
from synthgen.tools.evaluate_tracks import (
    TrackEvaluationError,
    evaluate_tracks,
    read_mot,
    write_report,
)

pytest.importorskip("motrics", reason="scoring tracks needs the tracking extra (motrics)")

FRAMES = 10


def _seq(run: Path, name: str, rows: list[str], frames: int = FRAMES) -> None:
    seq = run / "mot" / name
    (seq / "gt").mkdir(parents=True)
    (seq / "gt" / "gt.txt").write_text("".join(r + "\n" for r in rows))
    (seq / "seqinfo.ini").write_text(f"[Sequence]\nname={name}\nimDir=img1\nframeRate=15\nseqLength={frames}\n"
                                     "imWidth=200\nimHeight=100\nimExt=.jpg\n")


def _two_objects(a_id: int = 1, b_id: int = 2, switch_at: int | None = None) -> list[str]:
    """Object 1 moves right along the top, object 2 left along the bottom: never overlapping.
    With ``switch_at``, object 1 carries id 99 from that frame on."""
    rows = []
    for f in range(1, FRAMES + 1):
        a = 99 if switch_at is not None and f >= switch_at else a_id
        rows.append(f"{f},{a},{10 + 5 * f},10,20,20,1,1,1.0")
        rows.append(f"{f},{b_id},{150 - 5 * f},60,20,20,1,1,1.0")
    return rows


@pytest.fixture(scope="module")
def clips_run(tmp_path_factory) -> Path:
    from synthgen.clips import clip_config, run_clips
    from synthgen.config import load_config

    root = tmp_path_factory.mktemp("clips")
    cfg = clip_config(load_config(data=tiny_config_dict(make_assets(root / "assets"))), ["mot", "coco"])[0]
    run_clips(cfg, root / "run", 2, 8)
    return root / "run"


def test_ground_truth_as_tracks_scores_one(clips_run, tmp_path):
    preds = tmp_path / "tracks"
    preds.mkdir()
    for seq in (clips_run / "mot").iterdir():
        shutil.copy(seq / "gt" / "gt.txt", preds / f"{seq.name}.txt")
    ev = evaluate_tracks(clips_run, preds)
    assert len(ev.clips) == 2 and ev.groups[-1].objects > 0
    for r in [*ev.clips, *ev.groups]:
        assert (r.hota, r.mota, r.idf1, r.idsw, r.fp, r.fn) == (pytest.approx(1.0), 1.0, 1.0, 0, 0, 0)
    # the command: --predictions with a folder of MOT files on clips is read as tracks
    res = CliRunner().invoke(main, ["evaluate", str(clips_run), "--predictions", str(preds), "-o", str(tmp_path / "r"), "-q"])
    assert res.exit_code == 0, res.output
    assert "1.000" in res.output and (tmp_path / "r" / "tracking.png").stat().st_size > 0
    # gt.txt carries classes: each class is scored alone too, and scores 1.0
    assert ev.classes and all(r.name.startswith("class ") and (r.hota, r.mota) == (pytest.approx(1.0), 1.0) for r in ev.classes)
    assert sum(r.objects for r in ev.classes) == ev.groups[-1].objects
    lines = (tmp_path / "r" / "tracking.csv").read_text().splitlines()
    assert lines[0].startswith("name,kind,condition") and len(lines) == 1 + 1 + len(ev.classes) + 2
    assert sum(",class," in ln for ln in lines) == len(ev.classes)


def test_an_id_switch_halfway_costs_what_the_definitions_say(tmp_path):
    run = tmp_path / "run"
    _seq(run, "clip-000000", _two_objects())
    preds = tmp_path / "tracks"
    preds.mkdir()
    (preds / "clip-000000.txt").write_text("\n".join(_two_objects(switch_at=6)) + "\n")
    ev = evaluate_tracks(run, preds)
    r = ev.clips[0]
    # 20 boxes all found; object 1's id changes once (frame 6): one switch.
    assert (r.idsw, r.fp, r.fn) == (1, 0, 0)
    assert r.mota == pytest.approx((20 - 1) / 20)
    # best one-to-one id mapping: 1->1 (5 frames), 2->2 (10): IDTP 15, IDFP 5, IDFN 5
    assert r.idf1 == pytest.approx(15 / (15 + 0.5 * 5 + 0.5 * 5))
    assert 0 < r.hota < 1 and r.deta == pytest.approx(1.0)
    # the same ids with other numbers are no switch: ids are labels, not values
    (preds / "clip-000000.txt").write_text("\n".join(_two_objects(7, 3)) + "\n")
    r = evaluate_tracks(run, preds).clips[0]
    assert (r.hota, r.mota, r.idf1, r.idsw) == (pytest.approx(1.0), 1.0, 1.0, 0)


def test_tracks_with_classes_are_scored_per_class_too(tmp_path):
    run = tmp_path / "run"
    gt = [r.replace(",1,1,1.0", ",1,2,1.0") if r.split(",")[1] == "2" else r for r in _two_objects()]  # object 2: class 2
    _seq(run, "clip-000000", gt)
    (run / "annotations.json").write_text(json.dumps({"categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "bus"}]}))
    preds = tmp_path / "tracks"
    preds.mkdir()
    (preds / "clip-000000.txt").write_text("\n".join(_two_objects()) + "\n")  # object 2 tracked, but called a car
    ev = evaluate_tracks(run, preds)
    assert ev.groups[-1].hota == pytest.approx(1.0)  # class-agnostic: perfect
    car, bus = ev.classes
    assert (car.name, car.objects, car.fp, car.fn, car.mota) == ("class car", FRAMES, FRAMES, 0, 0.0)
    assert (bus.name, bus.objects, bus.fp, bus.fn, bus.hota) == ("class bus", FRAMES, 0, FRAMES, 0.0)
    # MOT Challenge tracker output (-1 where a class would be): class-agnostic only
    (preds / "clip-000000.txt").write_text("".join(f"{r.rsplit(',', 3)[0]},1,-1,-1,-1\n" for r in _two_objects()))
    assert evaluate_tracks(run, preds).classes == []


def test_a_suite_of_clip_runs_is_scored_per_condition_and_severity(tmp_path):
    suite, preds = tmp_path / "suite", tmp_path / "tracks"
    for sub, cond, sev in (("clean", "clean", 0), ("fog-1", "fog", 1), ("fog-3", "fog", 3)):
        run = suite / sub
        _seq(run, "clip-000000", _two_objects())
        videos = [{"id": 1, "name": "clip-000000", "condition": cond, "severity": sev}]
        (run / "annotations.json").write_text(json.dumps({"videos": videos, "images": [], "annotations": []}))
        # worse tracks at higher severity: fog-3 loses object 2 entirely
        rows = _two_objects(switch_at=6 if cond == "fog" else None)
        rows = [r for r in rows if not (sev == 3 and r.split(",")[1] == "2")]
        where = preds / sub if sub != "fog-3" else preds  # nested, or flat with the run's name as prefix
        where.mkdir(parents=True, exist_ok=True)
        (where / (f"{sub}_clip-000000.txt" if sub == "fog-3" else "clip-000000.txt")).write_text("\n".join(rows) + "\n")
    ev = evaluate_tracks(suite, preds)
    assert [(g.name, g.clips) for g in ev.groups] == [("clean", 1), ("fog 1", 1), ("fog 3", 1), ("all", 3)]
    clean, fog1, fog3, _ = ev.groups
    assert clean.hota == pytest.approx(1.0) and fog1.idsw == 1 and fog3.fn == FRAMES
    assert clean.idf1 > fog1.idf1 > fog3.idf1
    assert [c.name for c in ev.clips] == ["clean/clip-000000", "fog-1/clip-000000", "fog-3/clip-000000"]
    written = write_report(ev, tmp_path / "report")
    assert all(p.stat().st_size > 0 for p in written)


@pytest.mark.parametrize("line, says", [
    ("3,4,5,6,7", "5 values"),
    ("3,4,5,abc,7,8,1", "y 'abc' is not a finite number"),
    ("0,4,5,6,7,8,1", "frame 0 is not an integer from 1"),
    ("2.5,4,5,6,7,8,1", "frame 2.5"),
    ("11,4,5,6,7,8,1", "past the clip's last frame, 10"),
    ("3,4.5,5,6,7,8,1", "id 4.5 is not an integer"),
    ("3,4,5,6,-7,8,1", "negative width"),
    ("3,4,5,6,nan,8,1", "w 'nan'"),
    ("1,2,5,6,7,8,1", "id 2 is given twice in frame 1 (also line 2)"),
])
def test_a_malformed_prediction_line_is_refused_naming_file_and_line(tmp_path, line, says):
    run = tmp_path / "run"
    _seq(run, "clip-000000", _two_objects())
    preds = tmp_path / "tracks"
    preds.mkdir()
    rows = _two_objects()
    rows.insert(4, line)  # line 5 of the file
    (preds / "clip-000000.txt").write_text("\n".join(rows) + "\n")
    with pytest.raises(TrackEvaluationError) as err:
        evaluate_tracks(run, preds)
    assert f"{preds / 'clip-000000.txt'}: line 5" in str(err.value) and says in str(err.value)
    res = CliRunner().invoke(main, ["evaluate", str(run), "--tracks", str(preds), "-q"])
    assert res.exit_code == 2 and "line 5" in res.output


def test_tracks_for_no_clip_are_an_error_and_a_missing_clip_scores_nothing(tmp_path):
    run = tmp_path / "run"
    _seq(run, "clip-000000", _two_objects())
    _seq(run, "clip-000001", _two_objects())
    preds = tmp_path / "tracks"
    preds.mkdir()
    (preds / "seq-1.txt").write_text("1,1,10,10,5,5\n")
    with pytest.raises(TrackEvaluationError, match="no tracks for any of the 2 clips"):
        evaluate_tracks(run, preds)
    (preds / "clip-000001.txt").write_text("\n".join(_two_objects()) + "\n")
    ev = evaluate_tracks(run, preds)
    assert ev.missing == ["clip-000000"] and ev.unused == [str(preds / "seq-1.txt")]
    assert ev.clips[0].fn == 2 * FRAMES and ev.clips[0].hota == 0 and ev.clips[1].hota == pytest.approx(1.0)


def test_whitespace_separated_lines_read_as_commas(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("1 3 10 20 30 40 0.9 -1 -1 -1\n\n2,3,11,21,30,40\n")
    got = read_mot(f)
    assert got[1][0][:2] == (3, (10.0, 20.0, 30.0, 40.0)) and got[2][0][2] == 3


def test_evaluate_asks_for_one_kind_of_predictions(tmp_path):
    res = CliRunner().invoke(main, ["evaluate", str(tmp_path), "-q"])
    assert res.exit_code == 2 and "--predictions" in res.output and "--tracks" in res.output


def test_a_clip_stress_suite_is_grouped_by_its_suite_json(tmp_path):
    """`synthgen stress --clips` writes SUITE/suite.json and SUITE/<variant>/ runs."""
    suite, preds = tmp_path / "suite", tmp_path / "tracks"
    variants = [("clean", "clean", 0), ("night-2", "night", 2), ("night-4", "night", 4)]
    for name, cond, sev in variants:
        _seq(suite / name, "clip-000000", _two_objects())
        (suite / name / "manifest.json").write_text("{}")
        rows = _two_objects(switch_at=3 if sev == 4 else None)
        (preds / name).mkdir(parents=True)
        (preds / name / "clip-000000.txt").write_text("\n".join(rows) + "\n")
    record = {"kind": "clip-stress", "variants": [
        {"name": n, "condition": c, "severity": s, "run": n, "mot": f"{n}/mot", "sequences": ["clip-000000"]}
        for n, c, s in variants]}
    (suite / "suite.json").write_text(json.dumps(record))
    ev = evaluate_tracks(suite, preds)
    assert [(g.name, g.condition, g.severity) for g in ev.groups] == [
        ("clean", "clean", None), ("night 2", "night", 2), ("night 4", "night", 4), ("all", "all", None)]
    assert ev.groups[1].idf1 == 1.0 and ev.groups[2].idsw == 1
