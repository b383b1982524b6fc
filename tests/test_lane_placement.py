"""Objects standing in lanes (scene.placement.lanes): every placed object's feet lie between two
adjacent lane lines, found by hand from the background's lines file (crop, resize and flip done
here, not by synthgen), on the bundled roads; the option is off by default."""

from __future__ import annotations

import json

import pytest
from conftest import REPO

from synthgen.config import load_config
from synthgen.errors import ConfigError
from synthgen.generator import Generator
from synthgen.runner import generate

LANE_CLASSES = {"car", "bus", "truck"}


def _config(extra=()):
    return load_config(REPO / "configs" / "road.yaml", [
        "canvas.width=320", "canvas.height=240", "effects=[]", "scene.rotation=[0,0]",
        "scene.perspective=[0,0]", "scene.truncation.allowed=false", "scene.objects_per_image=[4,6]",
        "scene.placement.lanes.classes=[car,bus,truck]", *extra,
    ])


def _lane_xs_by_hand(lines_file, crop, flip, W, H, y):
    """x of every lane line (solid, dashed) of the background at canvas row y, sorted."""
    cx, cy, cw, ch = crop
    xs = []
    for line in json.loads(lines_file.read_text())["lines"]:
        if line["class"] not in ("lane_solid", "lane_dashed"):
            continue
        pts = [((x - cx) * W / cw, (yy - cy) * H / ch) for x, yy in line["points"]]
        if flip:
            pts = [(W - x, yy) for x, yy in pts]
        for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
            if y0 != y1 and min(y0, y1) <= y <= max(y0, y1):
                xs.append(x0 + (x1 - x0) * (y - y0) / (y1 - y0))
    return sorted(xs)


def test_objects_of_the_chosen_classes_stand_between_two_adjacent_lane_lines(tmp_path):
    out = tmp_path / "out"
    generate(_config(), out, 8)
    coco = json.loads((out / "annotations.json").read_text())
    meta = {json.loads(s)["name"]: json.loads(s) for s in (out / "metadata.jsonl").read_text().splitlines()}
    names = {c["id"]: c["name"] for c in coco["categories"]}
    images = {im["id"]: im for im in coco["images"]}
    checked = 0
    for ann in coco["annotations"]:
        if names[ann["category_id"]] not in LANE_CLASSES or ann.get("iscrowd"):
            continue
        im = images[ann["image_id"]]
        bg = meta[im["file_name"].rsplit("/", 1)[-1].rsplit(".", 1)[0]]["scene"]["background"]
        x, y, w, h = ann["amodal_bbox"]  # the whole silhouette: no rotation, no tilt, never cut by the frame
        foot_x, bottom = x + w / 2, y + h - 0.5  # the centre of the lowest pixel row
        xs = _lane_xs_by_hand(REPO / "assets" / "roads" / bg["name"].replace(".jpg", ".lines.json"),
                              bg["crop_xywh"], bg["flip"], im["width"], im["height"], bottom)
        left = [v for v in xs if v < foot_x]
        right = [v for v in xs if v > foot_x]
        assert left and right, (im["file_name"], ann["id"], foot_x, bottom, xs)
        gap = min(right) - max(left)  # adjacent: nothing between the two
        # the object is a share of its lane's width (fill <= 0.8, plus the cutout's own rounding)
        assert w <= 0.8 * gap + 3, (im["file_name"], ann["id"], w, gap)
        checked += 1
    assert checked >= 10


def test_lanes_are_off_by_default_and_unknown_classes_are_refused():
    base = load_config(REPO / "configs" / "road.yaml", ["canvas.width=320", "canvas.height=240"])
    assert "lanes" not in base.model_dump()["scene"]["placement"]  # configs and digests unchanged
    with pytest.raises(ConfigError, match=r"scene.placement.lanes.classes: \['tram'\]"):
        Generator(_config(["scene.placement.lanes.classes=[car,tram]"]))
    with pytest.raises(ConfigError, match="fill"):
        _config(["scene.placement.lanes.fill=[0.5,1.5]"])


def test_other_classes_and_backgrounds_without_lines_place_as_before():
    """Only the chosen classes move: the first image's other objects keep their placement when
    lanes are on for a class that image does not draw."""
    plain = Generator(load_config(REPO / "configs" / "road.yaml", ["canvas.width=320", "canvas.height=240"]))
    lanes = Generator(load_config(REPO / "configs" / "road.yaml",
                                  ["canvas.width=320", "canvas.height=240", "scene.placement.lanes.classes=[stop_sign]"]))
    for i in range(4):
        a, b = plain.scene(i), lanes.scene(i)
        if "stop_sign" not in {p.label for p in a.placements}:
            assert a.placements == b.placements
