"""--format hf: the run folder loads with datasets.load_dataset("imagefolder", data_dir=OUT), its
splits the run's parts, each image's objects the COCO annotations' boxes and classes; the
layout is checked without datasets too, and the default run writes none of it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_config_dict

from synthgen.config import load_config
from synthgen.io.images import read_rgb
from synthgen.io.outdir import clear_run
from synthgen.io.semantic import read_class_map
from synthgen.runner import generate


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from conftest import make_assets

    root = tmp_path_factory.mktemp("hf")
    data = tiny_config_dict(make_assets(root / "assets"), objects_per_image=[1, 4])
    data["output"] = {"formats": ["coco", "yolo", "semantic", "hf"], "val_fraction": 0.3}
    out = root / "out"
    generate(load_config(data=data), out, 14, shard_size=5)
    return out


def _coco(out: Path) -> dict:
    return json.loads((out / "annotations.json").read_text())


def test_layout_and_metadata_match_the_coco_annotations(run):
    gt = _coco(run)
    anns: dict = {}
    for a in gt["annotations"]:
        anns.setdefault(a["image_id"], []).append(a)
    names = {c["id"]: c["name"] for c in gt["categories"]}
    seen = {}
    for meta in sorted((run / "hf").glob("*/shard-*/metadata.jsonl")):
        split = meta.parent.parent.name
        for line in meta.read_text().splitlines():
            rec = json.loads(line)
            assert (meta.parent / rec["file_name"]).read_bytes() == (run / "images" / rec["file_name"]).read_bytes()
            seen[rec["image_id"]] = split
            want = anns.get(rec["image_id"], [])
            assert rec["objects"]["bbox"] == [a["bbox"] for a in want]
            assert rec["objects"]["category"] == [a["category_id"] - 1 for a in want]
            assert rec["objects"]["category_name"] == [names[a["category_id"]] for a in want]
            assert rec["objects"]["id"] == [a["id"] for a in want] and rec["objects"]["area"] == [a["area"] for a in want]
            stem = Path(rec["file_name"]).stem
            assert (meta.parent / rec["semantic_file_name"]).read_bytes() == (run / "semantic" / f"{stem}.png").read_bytes()
    parts = {im["id"]: {"train": "train", "val": "validation"}[im["split"]] for im in gt["images"]}
    assert seen == parts and set(parts.values()) == {"train", "validation"}


def test_loads_with_datasets_imagefolder(run, tmp_path):
    datasets = pytest.importorskip("datasets", reason="the datasets package is not installed (pip install -e '.[hf]')")
    ds = datasets.load_dataset("imagefolder", data_dir=str(run), cache_dir=str(tmp_path / "cache"))
    gt = _coco(run)
    by_id = {im["id"]: im for im in gt["images"]}
    assert set(ds) == {"train", "validation"}
    assert len(ds["train"]) == sum(im["split"] == "train" for im in gt["images"])
    assert len(ds["validation"]) == sum(im["split"] == "val" for im in gt["images"])
    boxes = {}
    for a in gt["annotations"]:
        boxes.setdefault(a["image_id"], []).append(a["bbox"])
    for split in ds.values():
        for row in split:
            im = by_id[row["image_id"]]
            assert row["objects"]["bbox"] == boxes.get(row["image_id"], [])
            assert np.array_equal(np.asarray(row["image"].convert("RGB")), read_rgb(run / "images" / im["file_name"]))
            stem = Path(im["file_name"]).stem  # the class map as an image column, its values the indices
            assert row["semantic"].mode == "P"
            assert np.array_equal(np.asarray(row["semantic"]), read_class_map(run / "semantic" / f"{stem}.png"))
    assert "category" in ds["train"].features["objects"] and "bbox" in ds["train"].features["objects"]


def test_default_runs_write_no_hf_and_overwrite_removes_it(run, tmp_path, tiny_assets):
    out = tmp_path / "plain"
    generate(load_config(data=tiny_config_dict(tiny_assets)), out, 3)
    assert not (out / "hf").exists()
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    (copy / "hf" / "mine.txt").write_text("a user's file")
    clear_run(copy)
    assert [p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file()] == ["hf/mine.txt"]


def test_merging_elsewhere_links_the_hf_layout(run, tmp_path):
    from synthgen.writers.merge import merge_run

    merge_run(run, tmp_path / "merged")
    src = sorted(p.relative_to(run).as_posix() for p in (run / "hf").rglob("*") if p.is_file())
    dst = sorted(p.relative_to(tmp_path / "merged").as_posix() for p in (tmp_path / "merged" / "hf").rglob("*") if p.is_file())
    assert src == dst and len(src) > 14
