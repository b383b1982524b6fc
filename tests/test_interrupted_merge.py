"""A merge killed part-way (kill -9, power cut between two renames) leaves nothing that looks
like a finished dataset, and the same command run again finishes it. Reproduced by stopping the
merge right after one of its files is renamed into place."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import tiny_config_dict

from synthgen.config import load_config
from synthgen.runner import generate
from synthgen.writers.merge import merge_run


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs (not an Exception, so no cleanup catches it)."""


def _kill_after(monkeypatch, name: str) -> None:
    """The merge stops right after ``name`` is renamed into place."""
    real = os.replace

    def replace(src, dst, *a, **k):
        real(src, dst, *a, **k)
        if Path(dst).name == name:
            raise Killed(name)

    monkeypatch.setattr(os, "replace", replace)


@pytest.fixture
def run(tmp_path, tiny_assets) -> Path:
    cfg = load_config(data={**tiny_config_dict(tiny_assets), "output": {"formats": ["coco", "yolo"], "val_fraction": 0.5}})
    out = tmp_path / "run"
    generate(cfg, out, 8, workers=1, shard_size=3, merge=False)
    return out


MERGED = ("annotations.json", "train.json", "val.json", "metadata.jsonl", "train.txt", "val.txt", "data.yaml")


@pytest.mark.parametrize("first", ["annotations.json", "train.json", "metadata.jsonl", "train.txt"])
def test_annotations_json_appears_only_when_the_merge_is_done(run, tmp_path, monkeypatch, first):
    merge_run(run, tmp_path / "whole")
    _kill_after(monkeypatch, first)
    with pytest.raises(Killed):
        merge_run(run)
    if (run / "annotations.json").exists():  # the sign of a finished dataset: then everything is there
        assert [n for n in MERGED if not (run / n).exists()] == []


@pytest.mark.parametrize("first", ["annotations.json", "train.json", "metadata.jsonl"])
def test_a_merge_into_another_folder_killed_part_way_runs_again(run, tmp_path, monkeypatch, first):
    whole = tmp_path / "whole"
    merge_run(run, whole)
    dest = tmp_path / "dest"
    with monkeypatch.context() as m:
        _kill_after(m, first)
        with pytest.raises(Killed):
            merge_run(run, dest)
    merge_run(run, dest)  # was refused: "--out dest is not empty and holds no merge of run"
    for name in MERGED:
        assert (dest / name).read_bytes() == (whole / name).read_bytes(), name


@pytest.mark.parametrize("inside", ["images/sub", "merged", "shards/x"])
def test_a_merge_into_a_folder_inside_the_run_is_refused_and_writes_nothing(run, tmp_path, inside):
    """``merge RUN --out RUN/images/sub`` crashed (IsADirectoryError: linking images/ into itself
    met its own new folder) and left a folder in images/ that broke every later merge --out."""
    from synthgen.errors import OutputError

    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    with pytest.raises(OutputError, match="inside the run"):
        merge_run(run, run / inside)
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before
    merge_run(run, tmp_path / "elsewhere")  # still fine


@pytest.mark.parametrize("tool", ["combine", "split"])
def test_combine_and_split_of_an_unmerged_run_say_how_to_merge_it(run, tmp_path, tool):
    """A run left unmerged (--no-merge, over 200,000 images, or merged into another folder) was
    refused as 'neither a COCO dataset nor a YOLO one', with no word of `synthgen merge`."""
    from click.testing import CliRunner

    from synthgen.cli import main

    args = [tool, str(run), "--out", str(tmp_path / "o"), "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert "synthgen merge" in result.output and str(run) in result.output, result.output
    (run / "manifest.json").write_text((run / "manifest.json").read_text().replace('"complete": true', '"complete": false'))
    result = CliRunner().invoke(main, args)
    assert "not complete" in result.output, result.output


def test_a_merge_into_another_folder_carries_the_webdataset_tars(tmp_path, tiny_assets):
    """merge --out linked images, labels, masks, ... but not webdataset/: the merged folder of a
    webdataset run had no tars (its only copy of the id maps), and validate said nothing."""
    cfg = load_config(data={**tiny_config_dict(tiny_assets), "output": {"formats": ["coco", "webdataset"]}})
    run = tmp_path / "run"
    generate(cfg, run, 6, workers=1, shard_size=3, merge=False)
    merge_run(run, tmp_path / "dest")
    tars = sorted(p.name for p in (run / "webdataset").glob("*.tar"))
    assert len(tars) == 2
    assert sorted(p.name for p in (tmp_path / "dest" / "webdataset").glob("*.tar")) == tars


def test_merge_is_refused_while_a_run_writes_into_the_folder(run, tmp_path):
    """`synthgen merge RUN` took no lock: beside a generate still writing RUN (e.g. resumed with
    a bigger -n), it merged the old shards and wrote a manifest saying the run was complete."""
    from click.testing import CliRunner

    from synthgen.cli import main
    from synthgen.io.lock import FolderLock

    with FolderLock(run, shared=False):  # a generate writing RUN
        for extra in ([], ["--out", str(tmp_path / "dest")]):
            result = CliRunner().invoke(main, ["merge", str(run), *extra])
            assert result.exit_code != 0 and "in use" in result.output, result.output
            assert not (run / "annotations.json").exists() and not (tmp_path / "dest").exists()
    assert CliRunner().invoke(main, ["merge", str(run)]).exit_code == 0  # free again
    assert (run / "annotations.json").is_file() and not (run / ".synthgen.lock").exists()


def test_merge_of_a_run_killed_before_its_manifest_says_to_resume_it(run):
    """A run killed before it wrote manifest.json was called 'not a synthgen run' by merge."""
    from click.testing import CliRunner

    from synthgen.cli import main

    (run / "manifest.json").unlink()
    result = CliRunner().invoke(main, ["merge", str(run)])
    assert result.exit_code != 0 and "has not finished" in result.output and "resumes" in result.output, result.output
    assert not (run / ".synthgen.lock").exists()


@pytest.mark.parametrize("tool", ["validate", "report"])
def test_validate_and_report_of_a_run_killed_before_its_manifest_say_it_is_unfinished(run, tmp_path, tool):
    """They said 'no dataset found: expected annotations.json ...' of a run killed early."""
    from click.testing import CliRunner

    from synthgen.cli import main

    (run / "manifest.json").unlink()
    args = [tool, str(run)] + (["-o", str(tmp_path / "r.html")] if tool == "report" else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0 and "has not finished" in result.output and "resumes" in result.output, result.output


def test_a_resume_with_another_n_killed_leaves_a_manifest_of_the_new_size(tmp_path, tiny_assets, monkeypatch):
    """Resumed with a bigger -n and killed while writing shards, a run kept the manifest of its
    old size ('complete': true, 6 images): `synthgen merge` then merged the 6 old images into an
    annotations.json that looked like the whole run, beside the new images on disk."""
    from synthgen import runner

    cfg = load_config(data=tiny_config_dict(tiny_assets))
    out = tmp_path / "run"
    generate(cfg, out, 6, workers=1, shard_size=3)

    def killed(*a, **k):
        raise Killed("while writing shards")

    with monkeypatch.context() as m:
        m.setattr(runner, "_run_local", killed)
        with pytest.raises(Killed):
            generate(cfg, out, 12, workers=1, shard_size=3)
    import json

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["num_images"] == 12 and manifest["complete"] is False
    from synthgen.errors import OutputError

    with pytest.raises(OutputError, match="not finished"):
        merge_run(out)
    assert not (out / "annotations.json").exists()
    generate(cfg, out, 12, workers=1, shard_size=3)  # resumes
    assert json.loads((out / "manifest.json").read_text())["complete"] is True


def test_synthgen_merge_refuses_a_shard_whose_files_are_gone(run, tmp_path):
    """`synthgen merge` trusted the done records: with a shard's image deleted (by hand, or a
    resume with a smaller -n killed while removing that shard's files before its record) it
    wrote an annotations.json listing images that are not there."""
    from click.testing import CliRunner

    from synthgen.cli import main

    (run / "images" / "00000004.jpg").unlink()  # shard 1 (images 3..5)
    result = CliRunner().invoke(main, ["merge", str(run)])
    assert result.exit_code != 0 and "shard 1" in result.output and "generate" in result.output, result.output
    assert not (run / "annotations.json").exists()


def test_a_merge_elsewhere_that_runs_out_of_space_leaves_no_truncated_image(run, tmp_path, monkeypatch):
    """merge --out onto another disk (images copied) that filled up: a traceback, the image being
    copied left truncated under its own name, and the next merge skipped it as already there."""
    import errno
    import shutil

    from synthgen.errors import OutputError

    def no_link(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    real_copy2 = shutil.copy2
    copied = []

    def copy2_filling_up(src, dst, *a, **k):
        copied.append(dst)
        if len(copied) == 3:
            Path(dst).write_bytes(Path(src).read_bytes()[:10])  # what the disk took before it was full
            raise OSError(errno.ENOSPC, "No space left on device", str(src), None, str(dst))
        return real_copy2(src, dst, *a, **k)

    dest = tmp_path / "dest"
    with monkeypatch.context() as m:
        m.setattr(os, "link", no_link)
        m.setattr(shutil, "copy2", copy2_filling_up)
        with pytest.raises(OutputError, match="No space left"):
            merge_run(run, dest)
    assert not (dest / "annotations.json").exists()
    assert [p.name for p in dest.rglob("*") if ".tmp" in p.name] == []  # the merge's own temporaries
    for p in (dest / "images").iterdir():  # nothing truncated under a final name
        assert p.read_bytes() == (run / "images" / p.name).read_bytes(), p.name
    merge_run(run, dest)  # space freed: the same command finishes
    for p in (run / "images").iterdir():
        assert (dest / "images" / p.name).read_bytes() == p.read_bytes()


@pytest.mark.parametrize("overwrite", [False, True])
def test_generate_refuses_a_folder_holding_a_merge_made_elsewhere(run, tmp_path, tiny_assets, overwrite):
    """A `merge RUN --out DEST` folder (config.yaml, annotations.json, linked images; no shards)
    was taken as a run of the same config: generating -n 3 into it left the merge's 8 images
    beside an annotations.json of 3 (validate: 'label file has no image' for the rest)."""
    from synthgen.errors import OutputError

    dest = tmp_path / "dest"
    merge_run(run, dest)
    before = sorted(p.relative_to(dest) for p in dest.rglob("*"))
    cfg = load_config(data={**tiny_config_dict(tiny_assets), "output": {"formats": ["coco", "yolo"], "val_fraction": 0.5}})
    with pytest.raises(OutputError, match="merged"):
        generate(cfg, dest, 3, workers=1, shard_size=3, overwrite=overwrite)
    assert sorted(p.relative_to(dest) for p in dest.rglob("*")) == before


def test_a_merge_over_a_merge_of_another_run_of_the_same_config_is_refused(tmp_path, tiny_assets):
    """merge A --out M, then merge B --out M (B: the same config, another -n) was accepted since
    config.yaml matched, and A's extra images stayed in M beside B's annotations."""
    from synthgen.errors import OutputError

    cfg = load_config(data=tiny_config_dict(tiny_assets))
    a, b, m = tmp_path / "a", tmp_path / "b", tmp_path / "m"
    generate(cfg, a, 5, workers=1, shard_size=3, merge=False)
    generate(cfg, b, 3, workers=1, shard_size=3, merge=False)
    merge_run(a, m)
    before = sorted(p.relative_to(m).as_posix() for p in m.rglob("*"))
    with pytest.raises(OutputError) as e:
        merge_run(b, m)
    assert str(m) in str(e.value) and "5 images" in str(e.value) and "3" in str(e.value)
    assert sorted(p.relative_to(m).as_posix() for p in m.rglob("*")) == before  # nothing written or removed
    merge_run(a, m)  # the same run again is still a re-merge
