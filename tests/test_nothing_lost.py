"""Nothing lost, nothing mixed, nothing written outside --out (issue 12): each case reproduces what a
user did and lost, through the command line, and checks the data is still there."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import tiny_config_dict

from synthgen.cli import main


def _cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def cfg_file(tiny_assets, tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_config_dict(tiny_assets)))
    return path


@pytest.fixture
def real(cfg_file, tmp_path) -> Path:
    """A 'real' COCO dataset (made by synthgen, but from here on the user's only copy)."""
    out = tmp_path / "real"
    assert _cli("generate", cfg_file, "--out", out, "-n", 6, "-q").exit_code == 0
    for junk in ("manifest.json", "config.yaml", "metadata.jsonl"):
        (out / junk).unlink()
    import shutil

    shutil.rmtree(out / "shards")
    return out


def _padding_config(cfg_file: Path, real: Path, tmp_path: Path) -> Path:
    data = yaml.safe_load(cfg_file.read_text())
    data["assets"]["scenes"] = {"coco": str(real / "annotations.json"), "images": str(real / "images"), "p": 1.0}
    path = tmp_path / "pad.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_overwrite_never_deletes_the_dataset_the_config_reads(cfg_file, real, tmp_path):
    before = _tree(real)
    pad = _padding_config(cfg_file, real, tmp_path)
    result = _cli("generate", pad, "--out", real, "-n", 3, "--overwrite", "-q")
    assert result.exit_code != 0
    assert str(real) in result.output and "assets.scenes" in result.output
    assert _tree(real) == before


def test_refusing_an_input_as_out_never_suggests_overwrite(cfg_file, real, tmp_path):
    pad = _padding_config(cfg_file, real, tmp_path)
    result = _cli("generate", pad, "--out", real / "images", "-n", 3, "-q")
    assert result.exit_code != 0
    assert "assets.scenes.images" in result.output and "--overwrite" not in result.output


def test_overwrite_never_replaces_a_folder_that_holds_no_synthgen_run(cfg_file, real):
    before = _tree(real)
    result = _cli("generate", cfg_file, "--out", real, "-n", 3, "--overwrite", "-q")
    assert result.exit_code != 0 and "holds no synthgen run" in result.output
    assert _tree(real) == before


@pytest.mark.parametrize("where", ["objects", "backgrounds"])
def test_out_inside_an_asset_folder_is_refused_naming_both(cfg_file, tiny_assets, where):
    out = tiny_assets / where / "out"
    result = _cli("generate", cfg_file, "--out", out, "-n", 2, "-q")
    assert result.exit_code != 0
    assert str(tiny_assets / where) in result.output
    assert not out.exists()


def test_out_containing_an_input_is_refused(cfg_file, tiny_assets):
    before = _tree(tiny_assets)
    result = _cli("generate", cfg_file, "--out", tiny_assets.parent, "-n", 2, "--overwrite", "-q")
    assert result.exit_code != 0
    assert _tree(tiny_assets) == before


def test_overwrite_removes_only_what_the_previous_run_wrote(cfg_file, tmp_path):
    out = tmp_path / "out"
    assert _cli("generate", cfg_file, "--out", out, "-n", 4, "-q").exit_code == 0
    (out / "notes.txt").write_text("mine")
    (out / "images" / "my_photo.jpg").write_bytes(b"not synthgen's")
    assert _cli("generate", cfg_file, "--out", out, "-n", 3, "--seed", 9, "--overwrite", "-q").exit_code == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "images" / "my_photo.jpg").read_bytes() == b"not synthgen's"
    ann = json.loads((out / "annotations.json").read_text())
    assert len(ann["images"]) == 3


def test_a_smaller_n_leaves_no_stale_images_or_labels(cfg_file, tmp_path):
    out = tmp_path / "out"
    assert _cli("generate", cfg_file, "--out", out, "-n", 8, "--format", "coco,yolo", "-q").exit_code == 0
    result = _cli("generate", cfg_file, "--out", out, "-n", 4, "--format", "coco,yolo", "-q")
    if result.exit_code == 0:  # allowed: the run shrinks and removes what is no longer part of it
        ann = json.loads((out / "annotations.json").read_text())
        assert len(ann["images"]) == 4
        assert len(list((out / "images").iterdir())) == 4
        assert len(list((out / "labels").iterdir())) == 4
    else:  # or refused, saying why
        assert "-n" in result.output
    assert _cli("validate", out).exit_code == 0


def test_validate_notices_images_that_no_annotation_file_lists(cfg_file, tmp_path):
    out = tmp_path / "out"
    assert _cli("generate", cfg_file, "--out", out, "-n", 4, "--format", "coco,yolo", "-q").exit_code == 0
    extra = out / "images" / "99999999.jpg"
    extra.write_bytes((out / "images" / "00000000.jpg").read_bytes())
    result = _cli("validate", out)
    assert result.exit_code == 1
    assert "99999999" in result.output


def test_stress_into_a_generate_run_is_refused(cfg_file, tmp_path):
    out = tmp_path / "out"
    # same config and shard size (a suite of 2 scenes x (clean, fog 1) has shards of 2): the
    # finished shards of the generate run would verify and be taken as the suite's
    assert _cli("generate", cfg_file, "--out", out, "-n", 4, "--shard-size", 2, "-q").exit_code == 0
    result = _cli("stress", cfg_file, "--out", out, "-n", 2, "--conditions", "fog", "--severities", "1", "-q")
    assert result.exit_code != 0
    assert "generate" in result.output and "stress" in result.output


def test_stress_into_a_killed_generate_run_is_refused(cfg_file, tmp_path):
    out = tmp_path / "out"
    assert _cli("generate", cfg_file, "--out", out, "-n", 4, "--shard-size", 2, "-q").exit_code == 0
    (out / "manifest.json").unlink()  # killed before its first manifest: the done records tell the kind
    result = _cli("stress", cfg_file, "--out", out, "-n", 2, "--conditions", "fog", "--severities", "1", "-q")
    assert result.exit_code != 0
    assert "generate" in result.output and "stress" in result.output


def test_a_second_run_into_a_busy_folder_is_refused_naming_the_holder(cfg_file, tmp_path):
    out = tmp_path / "out"
    slow = subprocess.Popen(
        [sys.executable, "-m", "synthgen.cli", "generate", str(cfg_file), "--out", str(out), "-n", "3000", "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 60
        while not (out / "shards").is_dir() and time.time() < deadline:
            time.sleep(0.1)
        result = _cli("generate", cfg_file, "--out", out, "-n", 3000, "--seed", 5, "-q")
        assert result.exit_code != 0
        assert str(slow.pid) in result.output
    finally:
        slow.kill()
        slow.wait()


def test_resume_removes_temporary_files_left_by_kill_9(cfg_file, tmp_path):
    out = tmp_path / "out"
    assert _cli("generate", cfg_file, "--out", out, "-n", 4, "--format", "webdataset", "-q").exit_code == 0
    stale = out / "webdataset" / ".shard-000000.tar.tmp99999"
    stale.write_bytes(b"half a tar")
    done = out / "shards" / "shard-000000.done.json"
    done.unlink()
    assert _cli("generate", cfg_file, "--out", out, "-n", 4, "--format", "webdataset", "-q").exit_code == 0
    assert not stale.exists()


def test_combine_never_writes_outside_out(cfg_file, real, tmp_path):
    ann = json.loads((real / "annotations.json").read_text())
    ann["images"][0]["file_name"] = "../../../escaped.jpg"
    (tmp_path / "escaped.jpg").write_bytes((real / "images" / "00000000.jpg").read_bytes())
    (real / "annotations.json").write_text(json.dumps(ann))
    out = tmp_path / "combined"
    result = _cli("combine", real, "--out", out)
    assert result.exit_code != 0
    assert "escaped.jpg" in result.output
    outside = [p for p in tmp_path.rglob("escaped.jpg") if p.parent != tmp_path]
    assert not outside


def test_skipped_assets_are_listed_in_the_manifest(tiny_assets, tmp_path):
    bad = tiny_assets / "objects" / "square" / "broken.png"
    bad.write_bytes(b"not a png")
    data = tiny_config_dict(tiny_assets)
    data["assets"]["on_error"] = "skip"
    cfg = tmp_path / "skip.yaml"
    cfg.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    result = _cli("generate", cfg, "--out", out, "-n", 2, "-q")
    assert result.exit_code == 0
    assert "broken.png" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert any("broken.png" in json.dumps(s) for s in manifest.get("skipped_assets", []))


def test_yolo_data_yaml_is_portable(cfg_file, tmp_path):
    out = tmp_path / "out"
    assert _cli("generate", cfg_file, "--out", out, "-n", 4, "--format", "yolo", "-q").exit_code == 0
    doc = yaml.safe_load((out / "data.yaml").read_text())
    assert not os.path.isabs(str(doc.get("path", "."))), doc


def test_merge_elsewhere_never_overwrites_a_foreign_folder(cfg_file, tmp_path):
    out = tmp_path / "out"
    assert _cli("generate", cfg_file, "--out", out, "-n", 4, "-q", "--no-merge").exit_code == 0
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "annotations.json").write_text("my own labels")
    result = _cli("merge", out, "--out", foreign)
    assert result.exit_code != 0 and "not empty" in result.output
    assert (foreign / "annotations.json").read_text() == "my own labels"
    # an empty folder, then the same merge again into it, are fine
    dest = tmp_path / "merged"
    assert _cli("merge", out, "--out", dest).exit_code == 0
    assert _cli("merge", out, "--out", dest).exit_code == 0
    assert (dest / "annotations.json").is_file()
    # the folder around the run is refused
    assert _cli("merge", out, "--out", tmp_path).exit_code != 0
