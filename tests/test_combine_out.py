"""combine writes only into a new or empty folder outside its inputs, as split does: it never
overwrites a user's files nor writes into a dataset it reads."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import tiny_config_dict

from synthgen.cli import main
from synthgen.config import load_config
from synthgen.runner import generate


@pytest.fixture
def run(tmp_path, tiny_assets):
    out = tmp_path / "run"
    generate(load_config(data=tiny_config_dict(tiny_assets)), out, 4, workers=1)
    return out


def test_combine_refuses_a_folder_holding_other_files(run, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "train.json").write_text("my own labels")
    result = CliRunner().invoke(main, ["combine", str(run), "--out", str(mine), "-q"])
    assert result.exit_code != 0 and "not empty" in result.output, result.output
    assert (mine / "train.json").read_text() == "my own labels"
    assert sorted(p.name for p in mine.iterdir()) == ["train.json"]


@pytest.mark.parametrize("inside", ["combined", "images/combined"])
def test_combine_refuses_a_folder_inside_an_input(run, inside):
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    result = CliRunner().invoke(main, ["combine", str(run), "--out", str(run / inside), "-q"])
    assert result.exit_code != 0 and "overlap" in result.output, result.output
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before


def test_combine_into_a_new_or_empty_folder_works(run, tmp_path):
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "new", tmp_path / "empty"):
        result = CliRunner().invoke(main, ["combine", str(run), "--out", str(out), "-q"])
        assert result.exit_code == 0, result.output
        assert (out / "train.json").is_file()


def test_a_combine_killed_while_copying_runs_again_into_its_folder(run, tmp_path, monkeypatch):
    import shutil

    out = tmp_path / "combined"
    real = shutil.copy2
    calls = []

    def copy2(src, dst, *a, **k):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C (or kill -9) part-way through the copies
        return real(src, dst, *a, **k)

    with monkeypatch.context() as m:
        m.setattr(shutil, "copy2", copy2)
        CliRunner().invoke(main, ["combine", str(run), "--out", str(out), "-q"])
    assert out.is_dir() and not (out / "train.json").exists()
    result = CliRunner().invoke(main, ["combine", str(run), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert (out / "train.json").is_file()


def test_a_finished_combine_folder_is_not_combined_into_again(run, tmp_path):
    out = tmp_path / "combined"
    assert CliRunner().invoke(main, ["combine", str(run), "--out", str(out), "-q"]).exit_code == 0
    result = CliRunner().invoke(main, ["combine", str(run), "--out", str(out), "-q"])
    assert result.exit_code != 0 and "not empty" in result.output


def test_a_split_killed_part_way_runs_again_into_its_folder(run, tmp_path, monkeypatch):
    """A split stopped after train/annotations.json left a folder the same command refused
    ('exists and is not empty'), and linking again met its own links."""
    import os

    out = tmp_path / "split"
    real = os.replace

    def replace(src, dst, *a, **k):
        real(src, dst, *a, **k)
        if os.path.basename(dst) == "annotations.json":
            raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(os, "replace", replace)
        CliRunner().invoke(main, ["split", str(run), "--out", str(out), "-q", "--val", "0.5"])
    assert (out / "train" / "annotations.json").is_file() and not (out / "split.json").exists()
    result = CliRunner().invoke(main, ["split", str(run), "--out", str(out), "-q", "--val", "0.5"])
    assert result.exit_code == 0, result.output
    assert (out / "split.json").is_file() and sorted(p.name for p in out.iterdir()) == ["split.json", "train", "val"]
    again = CliRunner().invoke(main, ["split", str(run), "--out", str(out), "-q", "--val", "0.5"])
    assert again.exit_code != 0 and "not empty" in again.output  # a finished split is not written over
    # killed again, then run with another share: refused (its links would stay in the wrong part)
    (out / "split.json").unlink()
    (out / ".synthgen-split").write_text("[]")
    other = CliRunner().invoke(main, ["split", str(run), "--out", str(out), "-q", "--val", "0.25"])
    assert other.exit_code != 0 and "other arguments" in other.output, other.output


def test_a_killed_combine_is_not_finished_with_other_arguments(run, tmp_path):
    out = tmp_path / "combined"
    out.mkdir()
    (out / "images").mkdir()
    (out / ".synthgen-combine").write_text("[]")  # what a combine of other inputs, killed, leaves
    result = CliRunner().invoke(main, ["combine", str(run), "--out", str(out), "-q"])
    assert result.exit_code != 0 and "other arguments" in result.output, result.output
