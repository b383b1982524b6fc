"""Stress suites keep the line labels of backgrounds with lines (output.lines), like every other
label: in each image entry, in CULane lines/<name>.lines.txt and in the run-level TuSimple file."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import tiny_config_dict
from test_lines import _make

from synthgen.config import load_config
from synthgen.generator import Generator
from synthgen.stress import _variant_config, run_suite
from synthgen.tools.validate import validate_path


def test_a_suite_with_lines_writes_them_for_every_variant(tmp_path):
    data = tiny_config_dict(_make(tmp_path / "assets"), objects_per_image=[2, 3])
    data["output"] = {"formats": ["coco"], "lines": True}
    cfg = load_config(data=data)
    out = tmp_path / "suite"
    run_suite(cfg, out, 4, ["fog", "occlusion"], [2])
    gt = json.loads((out / "annotations.json").read_text())
    clean = Generator(_variant_config(cfg, "clean", 0))  # the scenes, rendered on their own
    with_lines = []
    for im in gt["images"]:
        expected = clean.sample(im["scene_id"]).image_fields.get("lines")
        if expected is None:  # a background without lines
            assert "lines" not in im
            continue
        with_lines.append(im)
        assert [(l["class"], l["points"]) for l in im["lines"]] == [(l["class"], l["points"]) for l in expected]
        if im["condition"] != "occlusion":  # the same layout: the same visibility
            assert [l["visibility"] for l in im["lines"]] == [l["visibility"] for l in expected]
        assert (out / "lines" / f"{Path(im['file_name']).stem}.lines.txt").is_file()
    assert with_lines, "no scene on the background with lines: pick another seed"
    rows = [json.loads(r) for r in (out / "lanes" / "tusimple_train.json").read_text().splitlines()]
    assert [r["raw_file"] for r in rows] == [im["file_name"] if im["file_name"].startswith("images/") else f"images/{im['file_name']}" for im in with_lines]
    listed = (out / "list" / "train.txt").read_text().splitlines()
    assert all((out / line[1:]).is_file() for line in listed) and len(listed) == len(with_lines)
    report = validate_path(out)  # the lane files checked against the entries (tools/validate/lanes.py)
    assert report.ok and report.counts["tusimple images"] == len(with_lines), [str(p) for p in report.problems]
