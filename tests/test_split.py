"""Padding without leakage: split the real data first, record where every real pixel came from,
and have combine refuse a validation image that fed the synthetic part."""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import tiny_config_dict
from test_realdata import H, W, _real_dataset, _tree_digest

from synthgen.cli import main
from synthgen.config import load_config
from synthgen.runner import generate


@pytest.fixture
def real(tmp_path):
    return _real_dataset(tmp_path / "real")


def _cli(*args) -> CliRunner.Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def _boxes_coco(root: Path, n: int = 20, rare_every: int = 5, order_seed: int | None = None) -> Path:
    """COCO, box-only: every image has a 'common' object, every ``rare_every``-th a 'rare' one.
    ``order_seed`` shuffles the order of the entries in the file (same dataset)."""
    (root / "images").mkdir(parents=True)
    images, anns = [], []
    for i in range(n):
        name = f"img_{i:03d}.png"
        cv2.imwrite(str(root / "images" / name), np.full((16, 16, 3), i, np.uint8))
        images.append({"id": i + 1, "file_name": name, "width": 16, "height": 16})
        anns.append({"id": 2 * i + 1, "image_id": i + 1, "category_id": 1, "bbox": [1, 1, 5, 5], "area": 25, "iscrowd": 0})
        if i % rare_every == 0:
            anns.append({"id": 2 * i + 2, "image_id": i + 1, "category_id": 2, "bbox": [8, 8, 5, 5], "area": 25, "iscrowd": 0})
    if order_seed is not None:
        random.Random(order_seed).shuffle(images)
        random.Random(order_seed + 1).shuffle(anns)
    cats = [{"id": 1, "name": "common"}, {"id": 2, "name": "rare"}]
    (root / "annotations.json").write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    return root


def _where(split_dir: Path) -> dict[str, str]:
    doc = json.loads((split_dir / "split.json").read_text())
    return {r["image"]: r["split"] for r in doc["images"]}


def test_split_is_a_function_of_names_and_seed_not_of_file_order(tmp_path):
    a = _boxes_coco(tmp_path / "a")
    b = _boxes_coco(tmp_path / "b", order_seed=5)
    for src, out in ((a, tmp_path / "sa"), (b, tmp_path / "sb")):
        r = _cli("split", src, "--val", "0.2", "--out", out)
        assert r.exit_code == 0, r.output
    assert _where(tmp_path / "sa") == _where(tmp_path / "sb")
    r = _cli("split", a, "--val", "0.2", "--out", tmp_path / "sc", "--seed", "1")
    assert r.exit_code == 0, r.output
    assert _where(tmp_path / "sc") != _where(tmp_path / "sa")
    assert Counter(_where(tmp_path / "sc").values()) == Counter(_where(tmp_path / "sa").values()) == {"train": 16, "val": 4}


@pytest.mark.parametrize("seed", range(6))
def test_split_is_stratified_by_the_rarest_class(tmp_path, seed):
    src = _boxes_coco(tmp_path / "real", n=20, rare_every=5)  # 4 images with the rare class
    out = tmp_path / "split"
    r = _cli("split", src, "--val", "0.25", "--out", out, "--seed", seed)
    assert r.exit_code == 0, r.output
    counts = json.loads((out / "split.json").read_text())["counts"]
    assert counts["val"]["rare"] == 1 and counts["train"]["rare"] == 3
    assert counts["val"]["common"] == 5
    # the printed table names every class per split
    assert "rare" in r.output and "common" in r.output and "val share" in r.output
    # each part is a COCO dataset of its own images, the entries as they were
    for part, n in (("train", 15), ("val", 5)):
        doc = json.loads((out / part / "annotations.json").read_text())
        assert len(doc["images"]) == n
        assert all((out / part / "images" / im["file_name"]).is_file() for im in doc["images"])
        assert {a["image_id"] for a in doc["annotations"]} == {im["id"] for im in doc["images"]}
    assert _cli("validate", out / "val").exit_code == 0


def test_split_yolo_writes_the_ultralytics_layout(real, tmp_path):
    root, _ = real
    before = _tree_digest(root)
    out = tmp_path / "split"
    r = _cli("split", root / "yolo", "--val", "0.5", "--out", out)
    assert r.exit_code == 0, r.output
    where = _where(out)
    assert Counter(where.values()) == {"train": 2, "val": 2}
    for name, part in where.items():
        assert (out / part / "images" / name).is_file()
        assert (out / part / "labels" / Path(name).with_suffix(".txt")).read_text() == (root / "yolo" / "labels" / Path(name).with_suffix(".txt")).read_text()
    v = _cli("validate", out / "train")
    assert v.exit_code == 0 and "sound" in v.output, v.output
    e = _cli("extract", "--yolo", out / "train", "--out", tmp_path / "cut", "--min-area", "50")
    assert e.exit_code == 0 and "kept 6 cutouts" in e.output, e.output
    side = json.loads(next((tmp_path / "cut").rglob("*.json")).read_text())
    assert side["dataset"] == str((out / "train").resolve()) and where[Path(side["image"]).name] == "train"
    # the parts given one by one keep their roles too
    c = _cli("combine", out / "train", out / "val", "--out", tmp_path / "combined")
    assert c.exit_code == 0 and "2 train images, 2 val images" in c.output, c.output
    assert _tree_digest(root) == before


def test_split_never_writes_into_its_input(real, tmp_path):
    root, _ = real
    before = _tree_digest(root)
    for out in (root / "coco" / "split", root / "coco", root):
        r = _cli("split", root / "coco", "--out", out)
        assert r.exit_code == 2 and "overlap" in r.output and str(root / "coco") in r.output, r.output
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("mine")
    r = _cli("split", root / "coco", "--out", tmp_path / "full")
    assert r.exit_code == 2 and "not empty" in r.output
    assert _tree_digest(root) == before


def _pad_config(assets: Path, objects: Path, real_coco: Path, real_images: Path):
    data = tiny_config_dict(assets, objects_per_image=[2, 3], distractors={"count": [0, 0]})
    data["canvas"] = {"width": W, "height": H}
    data["assets"]["objects"] = str(objects)
    data["assets"]["scenes"] = {"coco": str(real_coco), "images": str(real_images), "p": 1.0}
    data["output"] = {"formats": ["coco", "yolo"], "image_format": "png"}
    return load_config(data=data)


def _extract(coco: Path, images: Path, out: Path) -> None:
    r = _cli("extract", "--coco", coco, "--images", images, "--out", out, "--min-area", "50")
    assert r.exit_code == 0, r.output


def test_combine_refuses_a_padded_dataset_whose_synthetic_part_used_a_val_image(tiny_assets, tmp_path):
    """The issue's leak: extract and real scenes from all real images, then combine draws a
    validation set among them."""
    root, _ = _real_dataset(tmp_path / "real", n=6)
    coco, images = root / "coco" / "annotations.json", root / "coco" / "images"
    _extract(coco, images, tmp_path / "my_assets")
    generate(_pad_config(tiny_assets, tmp_path / "my_assets", coco, images), tmp_path / "synth", 6)
    r = _cli("combine", root / "coco", tmp_path / "synth", "--out", tmp_path / "combined", "--val-fraction", "0.5")
    assert r.exit_code == 2, r.output
    assert "validation image(s) fed the synthetic data" in r.output
    assert "(scene)" in r.output and "(cutout" in r.output
    assert "synthgen split" in r.output and "real_split/train" in r.output
    val = json.loads((tmp_path / "combined" / "val.json").read_text()) if (tmp_path / "combined" / "val.json").exists() else None
    assert val is None, "nothing is written when combine refuses"
    named = [line.split(" fed ")[0].strip() for line in r.output.splitlines()[1:] if " fed " in line]
    assert named and all(str(images) in n for n in named)

    # a split of the same real data does not help when the synthetic part was made from all of it
    s = _cli("split", root / "coco", "--val", "0.5", "--out", tmp_path / "real_split")
    assert s.exit_code == 0, s.output
    r = _cli("combine", tmp_path / "real_split", tmp_path / "synth", "--out", tmp_path / "combined2")
    assert r.exit_code == 2 and "fed the synthetic data" in r.output
    assert f"from the train part of {tmp_path / 'real_split'} only" in r.output and f"{tmp_path / 'real_split'}/train/images" in r.output
    # nor does a copy of it elsewhere: images are matched by content too
    shutil.copytree(tmp_path / "real_split", tmp_path / "moved_split")
    r = _cli("combine", tmp_path / "moved_split", tmp_path / "synth", "--out", tmp_path / "combined3")
    assert r.exit_code == 2 and "fed the synthetic data" in r.output


def test_safe_workflow_records_provenance_end_to_end_and_combines(tiny_assets, tmp_path):
    root, _ = _real_dataset(tmp_path / "real", n=8)
    s = _cli("split", root / "coco", "--val", "0.25", "--out", tmp_path / "real_split")
    assert s.exit_code == 0, s.output
    train = tmp_path / "real_split" / "train"
    _extract(train / "annotations.json", train / "images", tmp_path / "my_assets")
    side = json.loads(next((tmp_path / "my_assets" / "disc").glob("*.json")).read_text())
    assert side["dataset"] == str(train.resolve())
    assert side["image"].startswith("images/real_") and len(side["sha256"]) == 64

    synth = tmp_path / "synth"
    generate(_pad_config(tiny_assets, tmp_path / "my_assets", train / "annotations.json", train / "images"), synth, 6)
    coco = json.loads((synth / "annotations.json").read_text())
    metas = [json.loads(line) for line in (synth / "metadata.jsonl").read_text().splitlines()]
    train_names = {n for n, p in _where(tmp_path / "real_split").items() if p == "train"}
    kinds = Counter()
    for im, meta in zip(coco["images"], metas):
        assert im["sources"] == meta["sources"]
        scene = [s for s in im["sources"] if s["kind"] == "scene"]
        assert len(scene) == 1 and scene[0]["image"] == f"images/{meta['scene']['background']['name']}"
        for src in im["sources"]:
            kinds[src["kind"]] += 1
            assert src["dataset"] == str(train.resolve()) and Path(src["image"]).name in train_names
            if src["kind"] == "cutout":
                assert (tmp_path / "my_assets" / src["asset"]).is_file()
    assert kinds["scene"] == 6 and kinds["cutout"] > 0

    before = _tree_digest(tmp_path / "real_split")
    r = _cli("combine", tmp_path / "real_split", synth, "--out", tmp_path / "combined", "--balance")
    assert r.exit_code == 0, r.output
    assert "the val part of the split" in r.output
    val = json.loads((tmp_path / "combined" / "val.json").read_text())
    val_names = {n for n, p in _where(tmp_path / "real_split").items() if p == "val"}
    assert {Path(im["file_name"]).name for im in val["images"]} == val_names
    tr = json.loads((tmp_path / "combined" / "train.json").read_text())
    assert len(tr["images"]) == 6 + 6 and sum("sources" in im for im in tr["images"]) == 6
    assert _tree_digest(tmp_path / "real_split") == before


def test_generation_without_real_data_records_no_sources(tiny_config):
    from synthgen.generator import Generator

    s = Generator(tiny_config).sample(0)
    assert "sources" not in s.metadata


def test_combine_refuses_real_scene_images_whose_sources_were_not_recorded(tiny_assets, tmp_path):
    root, _ = _real_dataset(tmp_path / "real", n=4)
    s = _cli("split", root / "coco", "--val", "0.5", "--out", tmp_path / "real_split")
    assert s.exit_code == 0, s.output
    train = tmp_path / "real_split" / "train"
    synth = tmp_path / "synth"
    generate(_pad_config(tiny_assets, tiny_assets / "objects", train / "annotations.json", train / "images"), synth, 3)
    # as a synthgen from before provenance wrote it
    lines = [json.loads(line) for line in (synth / "metadata.jsonl").read_text().splitlines()]
    (synth / "metadata.jsonl").write_text("".join(json.dumps({k: v for k, v in rec.items() if k != "sources"}) + "\n" for rec in lines))
    doc = json.loads((synth / "annotations.json").read_text())
    for im in doc["images"]:
        im.pop("sources")
    (synth / "annotations.json").write_text(json.dumps(doc))
    r = _cli("combine", tmp_path / "real_split", synth, "--out", tmp_path / "combined")
    assert r.exit_code == 2 and "without recording which" in r.output and "00000000.png" in r.output, r.output


def test_splitting_a_synthgen_run_rewrites_each_image_entrys_split_field(tiny_assets, tmp_path):
    """A synthgen run's COCO image entries carry `split` (its own train/val draw): in a split's
    val part they said "train" for images that are validation images now."""
    from synthgen.tools.split import split_dataset

    run = tmp_path / "run"
    data = tiny_config_dict(tiny_assets)
    data["output"] = {"formats": ["coco"], "val_fraction": 0.5}
    generate(load_config(data=data), run, 12)
    assert {im["split"] for im in json.loads((run / "annotations.json").read_text())["images"]} == {"train", "val"}
    split_dataset(run, tmp_path / "s", 0.4)
    for part in ("train", "val"):
        images = json.loads((tmp_path / "s" / part / "annotations.json").read_text())["images"]
        assert images and {im["split"] for im in images} == {part}


def test_validate_and_report_on_a_split_folder_name_its_parts(tmp_path):
    """`synthgen validate real_split/` (the folder `synthgen split` wrote) said only "no dataset
    found: expected annotations.json ..."; it now names the parts to give."""
    src = _boxes_coco(tmp_path / "src")
    out = tmp_path / "split"
    assert _cli("split", src, "--val", "0.2", "--out", out).exit_code == 0
    for command in (["validate", out], ["report", out, "-o", tmp_path / "r.html"]):
        r = _cli(*command)
        assert r.exit_code == 2
        assert "made by synthgen split" in r.output and str(out / "train") in r.output and str(out / "val") in r.output, r.output
