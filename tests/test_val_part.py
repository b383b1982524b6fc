"""A run has a real validation part (output.val_fraction): every format names the same images,
whatever the sharding; and combine's output (train.json + val.json) is a dataset the tools read."""

from __future__ import annotations

import json

import yaml
from click.testing import CliRunner

from synthgen.cli import main
from synthgen.io.yolo import read_yolo
from synthgen.rng import split_of

from conftest import tiny_config_dict


def _cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _cfg(tmp_path, tiny_assets, **output):
    data = tiny_config_dict(tiny_assets)
    data["output"] = {"formats": ["coco", "yolo"], **output}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_split_of_is_a_function_of_seed_and_index_with_the_asked_share():
    parts = [split_of(7, i, 0.25) for i in range(4000)]
    assert parts == [split_of(7, i, 0.25) for i in range(4000)]
    assert abs(parts.count("val") / 4000 - 0.25) < 0.03
    assert [split_of(8, i, 0.25) for i in range(50)] != parts[:50]  # another seed, another draw
    assert {split_of(7, i, 0.0) for i in range(100)} == {"train"}


def test_every_format_names_the_same_validation_images(tmp_path, tiny_assets):
    out = tmp_path / "out"
    _cli("generate", _cfg(tmp_path, tiny_assets, val_fraction=0.3), "--out", out, "-n", 30, "--shard-size", 7, "-q")
    full = json.loads((out / "annotations.json").read_text())
    parts = {p: json.loads((out / f"{p}.json").read_text()) for p in ("train", "val")}
    # the parts partition the images and the annotations
    assert sorted(im["id"] for p in parts.values() for im in p["images"]) == sorted(im["id"] for im in full["images"])
    assert sum(len(p["annotations"]) for p in parts.values()) == len(full["annotations"])
    for part, data in parts.items():
        ids = {im["id"] for im in data["images"]}
        assert all(a["image_id"] in ids for a in data["annotations"])
        assert all(im["split"] == part for im in data["images"])
    # the split is the one rng.split_of gives each index, not a property of the shard
    val_names = {im["file_name"] for im in parts["val"]["images"]}
    assert val_names == {f"{i:08d}.jpg" for i in range(30) if split_of(3, i, 0.3) == "val"}
    assert 0 < len(val_names) < 30
    # YOLO: data.yaml's val list is the same set, and Ultralytics' rules read it
    doc = yaml.safe_load((out / "data.yaml").read_text())
    assert doc["train"] == "train.txt" and doc["val"] == "val.txt"
    lines = (out / "val.txt").read_text().split()
    assert {(out / line).resolve().name for line in lines} == val_names
    assert all((out / line).is_file() for line in lines)
    ds = read_yolo(out / "data.yaml")  # train and val lists together: every image, once
    assert not ds.issues
    assert sorted(p.name for p in ds.images) == sorted(im["file_name"] for im in full["images"])


def test_no_validation_part_when_asked_for_none(tmp_path, tiny_assets):
    out = tmp_path / "out"
    _cli("generate", _cfg(tmp_path, tiny_assets, val_fraction=0.0), "--out", out, "-n", 6, "-q")
    assert not (out / "val.json").exists() and not (out / "val.txt").exists()
    assert yaml.safe_load((out / "data.yaml").read_text())["val"] == "images"
    assert all("split" not in im for im in json.loads((out / "annotations.json").read_text())["images"])


def test_combined_output_is_read_by_validate_and_report(tmp_path, tiny_assets):
    real, synth = tmp_path / "real", tmp_path / "synth"
    cfg = _cfg(tmp_path, tiny_assets)
    _cli("generate", cfg, "--out", real, "-n", 8, "-q")
    _cli("generate", cfg, "--out", synth, "-n", 8, "--seed", 11, "-q")
    combined = tmp_path / "combined"
    _cli("combine", real, synth, "--out", combined)
    assert not (combined / "annotations.json").exists()
    result = _cli("validate", combined)
    assert "train.json" in result.output and "val.json" in result.output
    assert "images: 16" in result.output
    _cli("report", combined, "-o", tmp_path / "report.html")
    assert "16 images" in (tmp_path / "report.html").read_text() or (tmp_path / "report.html").stat().st_size > 0
