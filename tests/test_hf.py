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
    from conftest import make_assets, tiny_output_config

    root = tmp_path_factory.mktemp("hf")
    cfg = tiny_output_config(make_assets(root / "assets"), {"formats": ["coco", "yolo", "semantic", "hf"], "val_fraction": 0.3},
                             objects_per_image=[1, 4])
    out = root / "out"
    generate(cfg, out, 14, shard_size=5)
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
    assert not list((run / "hf").glob("*/shard-*/metadata.jsonl")), "one metadata file per split, none per shard"
    for meta in sorted((run / "hf").glob("*/metadata.jsonl")):
        split = meta.parent.name
        for line in meta.read_text().splitlines():
            rec = json.loads(line)
            assert (meta.parent / rec["file_name"]).read_bytes() == (run / "images" / Path(rec["file_name"]).name).read_bytes()
            seen[rec["image_id"]] = split
            want = anns.get(rec["image_id"], [])
            assert rec["objects"]["bbox"] == [a["bbox"] for a in want]
            assert rec["objects"]["category"] == [a["category_id"] - 1 for a in want]
            assert rec["objects"]["category_name"] == [names[a["category_id"]] for a in want]
            assert rec["objects"]["id"] == [a["id"] for a in want] and rec["objects"]["area"] == [a["area"] for a in want]
            stem = Path(rec["file_name"]).stem
            assert Path(rec["file_name"]).parent == Path(rec["semantic_file_name"]).parent  # shard-NNNNNN/
            assert (meta.parent / rec["semantic_file_name"]).read_bytes() == (run / "semantic" / f"{stem}.png").read_bytes()
    parts = {im["id"]: {"train": "train", "val": "validation"}[im["split"]] for im in gt["images"]}
    assert seen == parts and set(parts.values()) == {"train", "validation"}
    assert [json.loads(line)["image_id"] for line in (run / "hf" / "train" / "metadata.jsonl").read_text().splitlines()] == \
        sorted(i for i, p in parts.items() if p == "train")  # index order


def _mostly_empty_run(root: Path, n: int = 12) -> Path:
    """Shards of 2 images, objects_per_image [0, 1]: many shards and split folders whose images
    have no object at all, whatever the order datasets reads the metadata in."""
    from conftest import make_assets

    data = tiny_config_dict(make_assets(root / "assets"), objects_per_image=[0, 1])
    data["output"] = {"formats": ["coco", "hf"], "val_fraction": 0.3}
    out = root / "out"
    generate(load_config(data=data), out, n, shard_size=2)
    return out


def test_images_without_objects_load_with_the_others(tmp_path):
    """datasets types a metadata file's empty lists as null and refuses to mix it with typed
    ones; it picks the file it infers a split from in hash order (PYTHONHASHSEED 3, 5 and 6
    failed with one file per shard). Each hash seed is tried in a fresh interpreter."""
    pytest.importorskip("datasets", reason="the datasets package is not installed (pip install -e '.[hf]')")
    import os
    import subprocess
    import sys

    out = _mostly_empty_run(tmp_path)
    counts = {s: [len(json.loads(line)["objects"]["id"]) for line in (out / "hf" / s / "metadata.jsonl").read_text().splitlines()]
              for s in ("train", "validation")}
    assert 0 in counts["train"] and 0 in counts["validation"] and max(counts["train"]) > 0 and max(counts["validation"]) > 0
    code = (
        "import datasets, sys; ds = datasets.load_dataset('imagefolder', data_dir=sys.argv[1], cache_dir=sys.argv[2]);"
        "f = ds['train'].features['objects'];"
        "assert str(f['bbox']) == str(datasets.List(datasets.List(datasets.Value('int64')))), f;"
        "print(sorted((s, len(d)) for s, d in ds.items()), [len(r['objects']['bbox']) for r in ds['validation']])"
    )
    for seed in ("3", "5", "6"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        res = subprocess.run([sys.executable, "-c", code, str(out), str(tmp_path / f"cache{seed}")],
                             env=env, capture_output=True, text=True, timeout=300, check=False)
        assert res.returncode == 0, res.stderr[-2000:]
        assert f"[('train', {len(counts['train'])}), ('validation', {len(counts['validation'])})]" in res.stdout
        assert res.stdout.strip().endswith(str(counts["validation"]))


def test_overwrite_leaves_no_empty_hf_folders(tmp_path):
    """--overwrite removes the run's hf files and the shard and split folders they were in;
    a user's file there stays, and so does its folder."""
    out = _mostly_empty_run(tmp_path, n=6)
    (out / "hf" / "validation" / "notes.txt").write_text("a user's file")
    clear_run(out)
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert left == ["hf", "hf/validation", "hf/validation/notes.txt"]


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
