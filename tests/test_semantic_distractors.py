"""What a distractor's pixels are in the semantic and panoptic outputs, on a background with
classes ("stuff"): 255 (not scored) by default; with ``output.semantic_ignore: []`` they are 0
(no class), never the background class under them: a distractor is an object standing on the
road, hiding it, and its pixels show no listed class. Panoptic leaves them void either way, and
validate agrees with both. Checked against a run with the default (whose 255 pixels are exactly
the distractors') rather than against the maps' own code."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import REPO

from synthgen.config import load_config
from synthgen.io.panoptic import decode_segments as read_segment_png
from synthgen.io.semantic import read_class_map
from synthgen.runner import generate
from synthgen.tools.validate import validate_path

OVERRIDES = ["canvas.width=160", "canvas.height=120", "output.formats=[coco,semantic,panoptic]",
             "scene.distractors.count=[2,3]", "scene.objects_per_image=[1,3]", "effects=[]"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("distractors")
    out = {}
    for name, extra in (("default", []), ("scored", ["output.semantic_ignore=[]"])):
        out[name] = root / name
        generate(load_config(REPO / "configs" / "road.yaml", OVERRIDES + extra), out[name], 4)
    return out


def _maps(run, sub):
    return {p.stem: p for p in sorted((run / sub).glob("*.png"))}


def test_distractor_pixels_are_no_class_when_scored_and_void_in_panoptic(runs):
    classes = json.loads((runs["scored"] / "semantic_classes.json").read_text())
    assert classes["ignored"] == [] and any(r.get("isthing") == 0 and r["index"] for r in classes["classes"])
    total = 0
    for stem, path in _maps(runs["default"], "semantic").items():
        ignored = read_class_map(path) == 255  # the distractors' pixels (nothing else is ignored by default)
        scored = read_class_map(runs["scored"] / "semantic" / path.name)
        default = read_class_map(path)
        assert (scored[ignored] == 0).all()  # no class, not the road under them
        assert (scored[~ignored] == default[~ignored]).all()  # everything else as before
        for run in runs.values():
            seg = read_segment_png(run / "panoptic" / path.name)
            assert (seg[ignored] == 0).all()  # void
        total += int(ignored.sum())
    assert total > 0, "no distractor in frame: pick other overrides"


@pytest.mark.parametrize("name", ["default", "scored"])
def test_validate_agrees(runs, name):
    report = validate_path(runs[name])
    assert report.ok, [str(p) for p in report.problems]


def test_validate_refuses_the_road_painted_under_a_scored_distractor(runs, tmp_path):
    from PIL import Image

    run = tmp_path / "copy"
    shutil.copytree(runs["scored"], run)
    for stem, path in _maps(runs["default"], "semantic").items():
        ignored = read_class_map(path) == 255
        if ignored.any():
            target = run / "semantic" / path.name
            img = Image.open(target)
            arr = np.array(img)
            ys, xs = np.nonzero(~ignored & (arr > 0) & (arr > 5))  # a background-class pixel somewhere
            arr[ignored] = arr[ys[0], xs[0]] if len(ys) else 6
            fixed = Image.fromarray(arr, mode="P")
            fixed.putpalette(img.getpalette())
            fixed.save(target)
            break
    problems = [str(p) for p in validate_path(run).problems]
    assert any("[semantic]" in p and stem in p for p in problems), problems
