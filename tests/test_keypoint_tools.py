"""The tools on point and line labels: validate flags hand-broken keypoints and lines, preview
and report draw them, evaluate scores keypoints by OKS."""

from __future__ import annotations

import json
import math
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


def _kp_rows(ev):
    return [r for r in ev.rows if r.iou == "oks"]


def test_ground_truth_as_predictions_scores_keypoint_ap_1(road_run, tmp_path):
    from synthgen.tools.evaluate import evaluate

    coco = json.loads((road_run / "annotations.json").read_text())
    preds = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0,
              **({"keypoints": a["keypoints"]} if "keypoints" in a else {})} for a in coco["annotations"]]
    path = tmp_path / "preds.json"
    path.write_text(json.dumps(preds))
    rows = _kp_rows(evaluate(road_run, path))
    assert rows and all(r.ap == pytest.approx(1.0) and r.ap50 == pytest.approx(1.0) for r in rows)
    assert sum(r.instances for r in rows) == sum(1 for a in coco["annotations"] if a.get("num_keypoints"))
    # no keypoints in the predictions: boxes only, as before
    path.write_text(json.dumps([{k: v for k, v in p.items() if k != "keypoints"} for p in preds]))
    assert not _kp_rows(evaluate(road_run, path))


def _one_object_suite(root: Path, sigmas: dict | None) -> Path:
    root.mkdir()
    gt = {"images": [{"id": 1, "file_name": "a.png", "width": 100, "height": 100}],
          "categories": [{"id": 1, "name": "thing", "keypoints": ["a", "b"], "skeleton": [[1, 2]]}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400, "iscrowd": 0,
                           "keypoints": [12.5, 12.5, 2, 25.5, 20.5, 1], "num_keypoints": 2}]}
    (root / "annotations.json").write_text(json.dumps(gt))
    if sigmas is not None:
        (root / "manifest.json").write_text(json.dumps({"keypoints": {"thing": {"names": ["a", "b"], "sigmas": sigmas}}}))
    return root


def test_a_shifted_point_lowers_oks_as_computed_by_hand(tmp_path):
    """OKS = mean over labeled points of exp(-d^2 / (2 area (2 sigma)^2)): point a (sigma 0.1,
    from the schema) moved by d so that OKS is 0.77, point b (no sigma given: the default) in
    place. Matched at the IoU thresholds .50 .. .75 only: AP = 6 / 10."""
    from synthgen.tools.evaluate import evaluate
    from synthgen.tools.evaluate_keypoints import (
        DEFAULT_SIGMA,
        KeypointScorer,
        category_sigmas,
    )

    suite = _one_object_suite(tmp_path / "suite", {"a": 0.1})
    area, sigma = 400.0, 0.1
    target = 0.77
    d = math.sqrt(-math.log(2 * target - 1) * 2 * area * (2 * sigma) ** 2)
    dx, dy = d * 0.6, d * 0.8
    pred = {"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9,
            "keypoints": [12.5 + dx, 12.5 + dy, 2, 25.5, 20.5, 2]}
    gt = json.loads((suite / "annotations.json").read_text())
    sig = category_sigmas(gt, {"keypoints": {"thing": {"sigmas": {"a": 0.1}}}})
    assert list(sig[1]) == [0.1, DEFAULT_SIGMA]
    scorer = KeypointScorer(gt, [dict(pred, id=1, area=400, iscrowd=0)], sig)
    assert scorer.oks(1, 1)[0, 0] == pytest.approx(target, abs=1e-9)
    (tmp_path / "p.json").write_text(json.dumps([pred]))
    (row,) = _kp_rows(evaluate(suite, tmp_path / "p.json"))
    assert row.ap == pytest.approx(0.6) and row.ap50 == pytest.approx(1.0)
    # the same shift on point b, whose sigma is the smaller default: a lower OKS, by hand
    pred["keypoints"] = [12.5, 12.5, 2, 25.5 + dx, 20.5 + dy, 2]
    scorer = KeypointScorer(gt, [dict(pred, id=1, area=400, iscrowd=0)], sig)
    hand = (1 + math.exp(-d * d / (2 * area * (2 * DEFAULT_SIGMA) ** 2))) / 2
    assert scorer.oks(1, 1)[0, 0] == pytest.approx(hand, abs=1e-9) and hand < target


def test_keypoints_of_the_wrong_length_name_the_entry(tmp_path):
    from synthgen.tools.evaluate import EvaluationError, evaluate

    suite = _one_object_suite(tmp_path / "suite", None)
    (tmp_path / "p.json").write_text(json.dumps([{"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9,
                                                   "keypoints": [12.5, 12.5, 2]}]))
    with pytest.raises(EvaluationError, match=r"entry 0.*2 points \(6 numbers\)"):
        evaluate(suite, tmp_path / "p.json")


def test_schema_sigmas_reach_the_manifest_and_bad_ones_name_the_file(tmp_path):
    import yaml

    from synthgen.errors import AssetError
    from synthgen.keypoints import load_schema

    path = tmp_path / "keypoints.yaml"
    path.write_text(yaml.safe_dump({"names": ["a", "b"], "sigmas": {"b": 0.08}}))
    assert load_schema(path).to_dict()["sigmas"] == {"b": 0.08}
    path.write_text(yaml.safe_dump({"names": ["a", "b"]}))
    assert "sigmas" not in load_schema(path).to_dict()  # a schema without sigmas writes what it always did
    for bad, words in (({"c": 0.1}, "not in names"), ({"a": -1}, "positive number"), ([0.1], "mapping")):
        path.write_text(yaml.safe_dump({"names": ["a", "b"], "sigmas": bad}))
        with pytest.raises(AssetError, match=words) as err:
            load_schema(path)
        assert str(path) in str(err.value)


def test_keypoints_under_a_category_that_names_none_are_flagged(road_run, tmp_path):
    """COCO keypoints need their category's names: without them no reader knows what they are."""
    def edit(coco, _):
        for c in coco["categories"]:
            c.pop("keypoints", None), c.pop("skeleton", None)
    problems = _broken(road_run, tmp_path, edit)
    assert any("names no keypoints" in p for p in problems), problems


def test_combine_keeps_the_categories_keypoints_and_skeleton(road_run, tmp_path):
    """combine carried the annotations' keypoints but wrote categories without their names and
    skeleton: a keypoints dataset no reader could use, and validate called it sound."""
    from synthgen.tools.combine import combine

    out = tmp_path / "combined"
    combine([road_run], out, val_fraction=0.0)
    src = {c["name"]: c for c in json.loads((road_run / "annotations.json").read_text())["categories"]}
    got = json.loads((out / "train.json").read_text())
    assert any("keypoints" in a for a in got["annotations"])
    for c in got["categories"]:
        assert (c.get("keypoints"), c.get("skeleton")) == (src[c["name"]].get("keypoints"), src[c["name"]].get("skeleton"))
    assert not validate_path(out).problems


def test_combine_refuses_one_class_with_two_keypoint_schemas(road_run, tmp_path):
    import shutil

    from synthgen.errors import AssetError
    from synthgen.tools.combine import combine

    other = tmp_path / "other"
    shutil.copytree(road_run, other)
    coco = json.loads((other / "annotations.json").read_text())
    car = next(c for c in coco["categories"] if c["name"] == "car")
    car["keypoints"] = list(reversed(car["keypoints"]))
    (other / "annotations.json").write_text(json.dumps(coco))
    with pytest.raises(AssetError, match="car"):
        combine([road_run, other], tmp_path / "combined", val_fraction=0.0)


def test_an_unmerged_road_run_with_keypoints_and_background_classes_validates(tmp_path):
    """Before `synthgen merge` there is no semantic_classes.json and the fragments' categories
    come from the manifest: validate must know the background classes and the keypoint names
    from it (it called every road pixel and every keypoint wrong)."""
    out = tmp_path / "out"
    cfg = load_config(REPO / "configs" / "road.yaml", overrides=[
        "output.keypoints=true", "output.formats=[coco,semantic,panoptic]", "canvas.width=160", "canvas.height=120"])
    generate(cfg, out, 3, merge=False)
    assert not (out / "semantic_classes.json").exists() and not (out / "annotations.json").exists()
    report = validate_path(out)
    assert report.counts.get("semantic maps") == 3
    assert not report.problems, report.lines()
