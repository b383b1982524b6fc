"""output.coco_masks: polygon writes COCO polygons that pycocotools fills back to the exact
masks (holes and separate parts included), the rest of the annotation unchanged; the default
(rle) leaves everything as it was; the tools read polygon COCO."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import tiny_config_dict
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools import mask as mask_utils

from synthgen.cli import main
from synthgen.config import load_config
from synthgen.runner import generate
from synthgen.writers.coco import polygon_segmentation


def _fill(seg, H, W) -> np.ndarray:
    return mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(seg, H, W))).astype(bool)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 14), st.integers(1, 14), st.integers(0, 2**32 - 1), st.floats(0.2, 0.9))
def test_pycocotools_fills_the_polygon_back_to_the_mask(h, w, seed, density):
    """Any mask: several parts, holes, parts touching only at a corner, single pixels."""
    m = np.random.default_rng(seed).random((h, w)) < density
    if not m.any():
        m[h // 2, w // 2] = True
    seg = polygon_segmentation(m)
    assert len(seg) == 1 and len(seg[0]) >= 6 and len(seg[0]) % 2 == 0
    assert all(isinstance(v, int) for v in seg[0])
    assert (_fill(seg, h, w) == m).all()
    # placed in a larger image at its box's corner
    big = np.zeros((h + 9, w + 5), bool)
    big[7 : 7 + h, 3 : 3 + w] = m
    assert (_fill(polygon_segmentation(m, 3, 7), h + 9, w + 5) == big).all()


def test_a_ring_keeps_its_hole_and_vertices_lie_on_pixel_corners():
    m = np.ones((5, 5), bool)
    m[2, 2] = False
    seg = polygon_segmentation(m, 10, 20)
    xy = np.array(seg[0]).reshape(-1, 2)
    assert xy[:, 0].min() == 10 and xy[:, 0].max() == 15 and xy[:, 1].min() == 20 and xy[:, 1].max() == 25
    assert {(12, 22), (13, 22), (13, 23), (12, 23)} <= set(map(tuple, xy.tolist()))  # the hole's corners
    assert _fill(seg, 30, 30).sum() == 24


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from conftest import make_assets

    root = tmp_path_factory.mktemp("polys")
    assets = make_assets(root / "assets")
    out = {}
    for masks in ("rle", "polygon"):
        data = tiny_config_dict(assets, objects_per_image=[3, 6])
        data["output"] = {"formats": ["coco"], "coco_masks": masks, "id_maps": True}
        cfg = load_config(data=data)
        generate(cfg, root / masks, 8)
        out[masks] = (cfg, root / masks)
    return out


def test_polygon_run_equals_the_rle_run_but_for_the_segmentation_form(runs):
    rle = json.loads((runs["rle"][1] / "annotations.json").read_text())
    poly = json.loads((runs["polygon"][1] / "annotations.json").read_text())
    assert rle["images"] == poly["images"] and len(rle["annotations"]) == len(poly["annotations"]) > 10
    sizes = {im["id"]: (im["height"], im["width"]) for im in rle["images"]}
    for a, b in zip(rle["annotations"], poly["annotations"]):
        assert isinstance(a["segmentation"], dict) and isinstance(b["segmentation"], list)
        assert {k: v for k, v in a.items() if k != "segmentation"} == {k: v for k, v in b.items() if k != "segmentation"}
        H, W = sizes[a["image_id"]]
        assert (_fill(b["segmentation"], H, W) == mask_utils.decode(a["segmentation"]).astype(bool)).all(), a["id"]
    # the images are the same bytes: only the annotations differ
    assert (runs["rle"][1] / "images" / "00000000.jpg").read_bytes() == (runs["polygon"][1] / "images" / "00000000.jpg").read_bytes()
    # the default stays out of the resolved config, so digests of runs that never set it are unchanged
    assert "coco_masks" not in runs["rle"][0].model_dump()["output"] and runs["polygon"][0].output.coco_masks == "polygon"


def test_tools_read_polygon_coco(runs, tmp_path):
    out = runs["polygon"][1]
    r = CliRunner().invoke(main, ["validate", str(out), "-q"])
    assert r.exit_code == 0 and "sound" in r.output, r.output
    r = CliRunner().invoke(main, ["report", str(out), "-o", str(tmp_path / "r.html"), "-q", "--gallery", "3"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["combine", str(out), str(runs["rle"][1]), "--out", str(tmp_path / "c"), "-q"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["validate", str(tmp_path / "c"), "-q"])
    assert r.exit_code == 0, r.output


def test_an_unknown_mask_form_is_named(tiny_assets):
    data = tiny_config_dict(tiny_assets)
    data["output"] = {"coco_masks": "polygons"}
    with pytest.raises(Exception, match=r"output.coco_masks: 'polygons' -> expected one of rle, polygon \(did you mean 'polygon'"):
        load_config(data=data)
