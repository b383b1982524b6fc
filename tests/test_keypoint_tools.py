"""The tools on point and line labels: validate flags hand-broken keypoints and lines, preview
and report draw them, evaluate scores keypoints by OKS."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import REPO

from synthgen.config import load_config
from synthgen.runner import generate
from synthgen.tools.validate import validate_path


@pytest.fixture(scope="module")
def road_run(tmp_path_factory) -> Path:
    """A small run of the road preset with keypoints, lines and id maps."""
    out = tmp_path_factory.mktemp("road") / "out"
    cfg = load_config(REPO / "configs" / "road.yaml", overrides=[
        "output.yolo_task=pose", "output.id_maps=true", "output.formats=[coco]", "canvas.width=320", "canvas.height=240",
        "scene.objects_per_image=[4,6]"])
    generate(cfg, out, 4)
    return out


def _broken(run: Path, tmp_path: Path, edit) -> list[str]:
    """The problems validate finds in a copy of the run whose COCO file ``edit`` changed."""
    import shutil
    import tempfile

    copy_ = Path(tempfile.mkdtemp(dir=tmp_path)) / "copy"
    shutil.copytree(run, copy_)
    coco = json.loads((copy_ / "annotations.json").read_text())
    edit(coco, copy_)
    (copy_ / "annotations.json").write_text(json.dumps(coco))
    report = validate_path(copy_)
    return [str(p) for p in report.problems]


def _ann_with(coco: dict, v: int) -> tuple[dict, int]:
    """An annotation and the index of one of its points with visibility v."""
    for a in coco["annotations"]:
        vs = a.get("keypoints", [])[2::3]
        if v in vs:
            return a, vs.index(v)
    raise AssertionError(f"no point with v={v}")


def _id_map(run: Path, coco: dict, image_id: int) -> np.ndarray:
    im = next(i for i in coco["images"] if i["id"] == image_id)
    return cv2.imread(str(run / "masks" / (Path(im["file_name"]).stem + ".png")), cv2.IMREAD_UNCHANGED)


def test_a_sound_run_with_keypoints_and_lines_validates(road_run):
    coco = json.loads((road_run / "annotations.json").read_text())
    assert any(v == 1 for a in coco["annotations"] for v in a["keypoints"][2::3])  # occlusion happens
    assert any(im.get("lines") for im in coco["images"])
    report = validate_path(road_run)
    assert report.ok, [str(p) for p in report.problems]


def test_keypoint_outside_the_image_is_flagged(road_run, tmp_path):
    def edit(coco, _):
        a, k = _ann_with(coco, 2)
        a["keypoints"][3 * k] = coco["images"][0]["width"] + 5.0
    assert any("[keypoints]" in p and "outside" in p for p in _broken(road_run, tmp_path, edit))


def test_wrong_num_keypoints_is_flagged(road_run, tmp_path):
    def edit(coco, _):
        coco["annotations"][0]["num_keypoints"] += 1
    assert any("num_keypoints" in p for p in _broken(road_run, tmp_path, edit))


def test_wrong_number_of_points_and_bad_v_are_flagged(road_run, tmp_path):
    def short(coco, _):
        coco["annotations"][0]["keypoints"] = coco["annotations"][0]["keypoints"][:-3]
    assert any("its category names" in p for p in _broken(road_run, tmp_path, short))

    def bad_v(coco, _):
        coco["annotations"][0]["keypoints"][2] = 3
    assert any("not 0, 1 or 2" in p for p in _broken(road_run, tmp_path, bad_v))


def test_visible_point_off_its_object_is_flagged(road_run, tmp_path):
    def edit(coco, run):
        a, k = _ann_with(coco, 2)
        idm = _id_map(run, coco, a["image_id"])
        inst = a["id"] % 1000
        far = cv2.dilate((idm == inst).astype(np.uint8), np.ones((9, 9), np.uint8)) == 0
        r, c = np.argwhere(far)[0]
        a["keypoints"][3 * k : 3 * k + 2] = [c + 0.5, r + 0.5]
    assert any("has v 2 but no pixel of instance" in p for p in _broken(road_run, tmp_path, edit))


def test_covered_point_on_its_own_pixels_is_flagged(road_run, tmp_path):
    def edit(coco, run):
        a, k = _ann_with(coco, 2)
        idm = _id_map(run, coco, a["image_id"])
        inst = a["id"] % 1000
        inside = cv2.erode((idm == inst).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        r, c = np.argwhere(inside)[0]
        a["keypoints"][3 * k : 3 * k + 3] = [c + 0.5, r + 0.5, 1]
    assert any("has v 1 (covered)" in p for p in _broken(road_run, tmp_path, edit))


def _line(coco):
    im = next(i for i in coco["images"] if i.get("lines"))
    return im, next(ln for ln in im["lines"] if 2 in ln["visibility"])


def test_broken_lines_are_flagged(road_run, tmp_path):
    def outside(coco, _):
        im, line = _line(coco)
        k = line["visibility"].index(2)
        line["points"][k] = [im["width"] + 3.0, 1.0]
    assert any("[lines]" in p and "outside" in p for p in _broken(road_run, tmp_path, outside))

    def lengths(coco, _):
        _line(coco)[1]["visibility"].pop()
        return coco
    assert any("one 0, 1 or 2 per point" in p for p in _broken(road_run, tmp_path, lengths))

    def on_object(coco, run):
        im, line = _line(coco)
        idm = _id_map(run, coco, im["id"])
        inside = cv2.erode((idm > 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        r, c = np.argwhere(inside)[0]
        k = line["visibility"].index(2)
        line["points"][k] = [c + 0.5, r + 0.5]
    assert any("lies on a labeled object" in p for p in _broken(road_run, tmp_path, on_object))


def test_preview_and_report_draw_points_and_lines():
    """The shared drawing puts a green dot on a visible point, an orange ring on a covered one,
    the skeleton between them and a line in its class colour; v = 0 draws nothing."""
    from synthgen.tools.draw_points import COVERED, LINE_COLOURS, VISIBLE
    from synthgen.tools.preview import Drawn, draw_instances

    rgb = np.zeros((60, 80, 3), np.uint8)
    kp = [10.5, 10.5, 2, 50.5, 10.5, 1, 70.5, 50.5, 0]
    lines = [{"class": "lane_solid", "points": [[0.5, 40.5], [79.5, 40.5]], "visibility": [2, 2]}]
    out = draw_instances(rgb, [Drawn(1, "x", keypoints=kp, skeleton=[(0, 1), (1, 2)])], lines=lines)
    assert tuple(out[10, 10]) == VISIBLE
    assert tuple(out[10, 47]) == COVERED or tuple(out[7, 50]) == COVERED  # a ring around (50, 10)
    assert out[10, 30].any()  # the skeleton edge between the two labeled points
    assert not out[45:56, 66:76].any()  # v = 0: nothing, nor its edge
    assert tuple(out[40, 40]) == LINE_COLOURS["lane_solid"]
    # scaled (the report's tiles): the same drawing at half size
    half = draw_instances(rgb, [Drawn(1, "x", keypoints=kp, skeleton=[(0, 1)])], width=40, lines=lines)
    assert tuple(half[5, 5]) == VISIBLE and tuple(half[20, 20]) == LINE_COLOURS["lane_solid"]
