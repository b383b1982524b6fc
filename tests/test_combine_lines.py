"""combine keeps the image-level line labels (``lines``) of its inputs, refuses malformed ones
where it reads them, and validate checks them in the combined output."""

from __future__ import annotations

import json
import shutil

import pytest
from test_keypoint_tools import road_run  # noqa: F401  (module fixture: a small road run with lines)

from synthgen.errors import AssetError
from synthgen.tools.combine import combine
from synthgen.tools.validate import validate_path


def test_combine_keeps_the_lines_and_validate_checks_them(road_run, tmp_path):  # noqa: F811
    src = {im["id"]: im for im in json.loads((road_run / "annotations.json").read_text())["images"]}
    assert any(im.get("lines") for im in src.values())
    out = tmp_path / "combined"
    combine([road_run], out, val_fraction=0.0)
    got = json.loads((out / "train.json").read_text())
    assert len(got["images"]) == len(src)
    for im in got["images"]:
        assert im.get("lines") == src[im["source_image_id"]].get("lines")
    assert validate_path(out).ok
    # a line the combined file breaks is found there
    im = next(i for i in got["images"] if i.get("lines"))
    im["lines"][0]["points"][0] = [im["width"] + 40.0, 1.0]
    im["lines"][0]["visibility"][0] = 2
    (out / "train.json").write_text(json.dumps(got))
    problems = [str(p) for p in validate_path(out).problems]
    assert any("[lines]" in p and "outside" in p for p in problems), problems


def test_combine_refuses_an_input_with_malformed_lines(road_run, tmp_path):  # noqa: F811
    bad = tmp_path / "bad"
    shutil.copytree(road_run, bad)
    coco = json.loads((bad / "annotations.json").read_text())
    im = next(i for i in coco["images"] if i.get("lines"))
    im["lines"][0]["visibility"] = im["lines"][0]["visibility"][:-1]  # one v short
    (bad / "annotations.json").write_text(json.dumps(coco))
    out = tmp_path / "combined"
    with pytest.raises(AssetError, match=rf"annotations.json.*image {im['id']}\b.*lines"):
        combine([bad], out, val_fraction=0.0)
    assert not out.exists()
