"""validate checks a run's lane files: TuSimple lanes/tusimple_<part>.json (one JSON object an
image: raw_file inside the run, h_samples, lanes with -2 for none) and the CULane lists
list/<part>.txt (each line an image of that part that exists), against the COCO image entries'
``lines`` and their split; and the per-image CULane lines/<name>.lines.txt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import tiny_config_dict
from test_lines import _make

from synthgen.config import load_config
from synthgen.runner import generate
from synthgen.tools.validate import validate_path


@pytest.fixture(scope="module")
def lane_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lanes")
    data = tiny_config_dict(_make(root / "assets"))
    data["output"] = {"formats": ["coco"], "lines": True, "val_fraction": 0.5}
    out = root / "out"
    generate(load_config(data=data), out, 10, shard_size=4)
    return out


def _problems(run: Path, tmp_path: Path, edit) -> list[str]:
    copy_ = tmp_path / "copy"
    shutil.copytree(run, copy_)
    edit(copy_)
    return [str(p) for p in validate_path(copy_).problems]


def _rows(path: Path) -> list[dict]:
    return [json.loads(s) for s in path.read_text().splitlines()]


def _write_rows(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))


def test_a_sound_lane_run_validates_and_counts_its_lane_files(lane_run):
    assert (lane_run / "lanes" / "tusimple_val.json").read_text() and (lane_run / "list" / "val.txt").read_text()
    report = validate_path(lane_run)
    assert report.ok, [str(p) for p in report.problems]
    assert report.counts.get("tusimple images") == len(_rows(lane_run / "lanes" / "tusimple_train.json")) + len(
        _rows(lane_run / "lanes" / "tusimple_val.json"))


def test_a_missing_tusimple_row_is_flagged(lane_run, tmp_path):
    def edit(run):
        p = run / "lanes" / "tusimple_train.json"
        _write_rows(p, _rows(p)[1:])
    problems = _problems(lane_run, tmp_path, edit)
    assert any("[lines]" in p and "tusimple_train.json" in p for p in problems), problems


def test_a_moved_lane_is_flagged(lane_run, tmp_path):
    def edit(run):
        p = run / "lanes" / "tusimple_val.json"
        rows = _rows(p)
        row = next(r for r in rows if r["lanes"])
        lane = row["lanes"][0]
        k = next(i for i, x in enumerate(lane) if x != -2)
        lane[k] += 3
        _write_rows(p, rows)
    problems = _problems(lane_run, tmp_path, edit)
    assert any("tusimple_val.json line" in p and "lines" in p for p in problems), problems


@pytest.mark.parametrize("bad, says", [
    ({"raw_file": "../../etc/passwd"}, "climbs out"),
    ({"raw_file": "images/nothere.jpg"}, "does not exist"),
    ({"h_samples": "all"}, "h_samples"),
    ({"lanes": [[-2, 5]]}, "h_samples"),  # a lane with fewer values than rows
])
def test_malformed_tusimple_rows_are_flagged(lane_run, tmp_path, bad, says):
    def edit(run):
        p = run / "lanes" / "tusimple_train.json"
        rows = _rows(p)
        rows[0].update(bad)
        _write_rows(p, rows)
    problems = _problems(lane_run, tmp_path, edit)
    assert any("tusimple_train.json line 1" in p and says in p for p in problems), problems


def test_a_row_that_is_not_json_is_flagged(lane_run, tmp_path):
    def edit(run):
        with open(run / "lanes" / "tusimple_train.json", "a") as f:
            f.write("{not json\n")
    problems = _problems(lane_run, tmp_path, edit)
    assert any("tusimple_train.json line" in p and "JSON" in p for p in problems), problems


def test_culane_lists_name_existing_images_of_their_part(lane_run, tmp_path):
    def swap(run):  # a train image listed as val
        t, v = (run / "list" / "train.txt"), (run / "list" / "val.txt")
        v.write_text(v.read_text() + t.read_text().splitlines()[0] + "\n")
    problems = _problems(lane_run, tmp_path, swap)
    assert any("list/val.txt" in p and "train" in p for p in problems), problems

    def missing(run):
        t = run / "list" / "train.txt"
        t.write_text(t.read_text() + "/images/nothere.jpg\n")
    shutil.rmtree(tmp_path / "copy")
    problems = _problems(lane_run, tmp_path, missing)
    assert any("list/train.txt" in p and "does not exist" in p for p in problems), problems


def test_a_culane_lines_file_that_disagrees_is_flagged(lane_run, tmp_path):
    def edit(run):
        p = next(iter(sorted((run / "lines").glob("*.lines.txt"))))
        p.write_text("1.00 2.00 3.00 4.00\n")
    problems = _problems(lane_run, tmp_path, edit)
    assert any(".lines.txt" in p and "lines" in p for p in problems), problems
