"""validate on a run written with only --format semantic or only --format hf: it finds what is
there and checks it (it said "no dataset found")."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_config_dict
from PIL import Image

from synthgen.config import load_config
from synthgen.errors import AssetError
from synthgen.runner import generate
from synthgen.tools.validate import validate_path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from conftest import make_assets

    root = tmp_path_factory.mktemp("single")
    assets = make_assets(root / "assets")
    out = {}
    for fmt in ("semantic", "hf"):
        data = tiny_config_dict(assets, objects_per_image=[2, 4])
        data["output"] = {"formats": [fmt], "val_fraction": 0.3}
        out[fmt] = root / fmt
        generate(load_config(data=data), out[fmt], 6)
    return out


def _copy(run: Path, tmp_path: Path) -> Path:
    dst = tmp_path / run.name
    shutil.copytree(run, dst)
    return dst


def test_a_semantic_only_run_is_found_and_sound(runs):
    assert not (runs["semantic"] / "annotations.json").exists()
    report = validate_path(runs["semantic"])
    assert report.ok, [str(p) for p in report.problems]
    assert any("semantic" in l for l in report.layouts) and report.counts["semantic maps"] == 6


def test_a_semantic_only_run_with_a_wrong_map_is_flagged(runs, tmp_path):
    run = _copy(runs["semantic"], tmp_path)
    rec = next(json.loads(l) for l in (run / "metadata.jsonl").read_text().splitlines() if json.loads(l)["instances"])
    inst = rec["instances"][0]
    path = run / "semantic" / f"{rec['name']}.png"
    img = Image.open(path)
    arr = np.array(img)
    x, y, w, h = (int(v) for v in inst["bbox"])
    arr[y : y + h, x : x + w] = 0  # the object's pixels erased
    out = Image.fromarray(arr, mode="P")
    out.putpalette(img.getpalette())
    out.save(path)
    (run / "semantic" / "00000001.png").unlink()
    problems = [str(p) for p in validate_path(run).problems]
    assert any("[semantic]" in p and rec["name"] in p and inst["label"] in p for p in problems), problems
    assert any("[missing_file]" in p and "00000001.png" in p for p in problems), problems


def test_an_hf_only_run_is_found_and_sound(runs):
    report = validate_path(runs["hf"])
    assert report.ok, [str(p) for p in report.problems]
    assert any("hf" in l for l in report.layouts) and report.counts["hf images"] == 6


def test_an_hf_only_run_with_broken_lines_is_flagged(runs, tmp_path):
    run = _copy(runs["hf"], tmp_path)
    meta = run / "hf" / "train" / "metadata.jsonl"
    rows = [json.loads(l) for l in meta.read_text().splitlines()]
    row = next(r for r in rows if r["objects"]["id"])
    row["objects"]["bbox"][0] = [0, 0, row["width"] + 10, 5]
    rows[-1]["objects"]["category_name"] = ["nonsense"] * len(rows[-1]["objects"]["id"])
    rows[-1]["file_name"] = "../../x.jpg"
    meta.write_text("".join(json.dumps(r) + "\n" for r in rows))
    problems = [str(p) for p in validate_path(run).problems]
    assert any("bbox" in p and "outside" in p for p in problems), problems
    assert any("[path]" in p for p in problems), problems


def test_a_folder_with_neither_still_says_what_it_needs(tmp_path):
    (tmp_path / "semantic").mkdir()
    with pytest.raises(AssetError, match="no dataset found.*semantic"):
        validate_path(tmp_path)


def test_report_says_what_it_reads_rather_than_an_empty_page(runs, tmp_path):
    from synthgen.tools.report import build_report

    with pytest.raises(AssetError, match="format coco"):
        build_report(runs["semantic"])
