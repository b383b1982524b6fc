"""evaluate --panoptic: PQ per condition x severity of COCO panoptic predictions, as panopticapi's
pq_compute gives it (hotcoco). Checked against the paper's formula by hand on a suite whose
predictions are its ground truth with one thing segment removed; broken predictions refused
with the file named."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from synthgen.cli import main
from synthgen.stress import run_suite
from synthgen.tools.evaluate import EvaluationError, evaluate

pytest.importorskip("hotcoco", reason="scoring panoptic predictions needs the panoptic extra (hotcoco)")


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    from conftest import make_assets, tiny_output_config

    root = tmp_path_factory.mktemp("pansuite")
    cfg = tiny_output_config(make_assets(root / "assets"), {"formats": ["coco", "panoptic"]}, objects_per_image=[3, 4])
    out = root / "suite"
    run_suite(cfg, out, 3, ["fog"], [1, 3])
    return out


def _rgb2id(path):
    rgb = np.asarray(Image.open(path).convert("RGB"), np.uint32)
    return rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]


def test_one_missing_segment_gives_the_hand_computed_pq(suite, tmp_path):
    doc = json.loads((suite / "panoptic.json").read_text())
    images = {im["id"]: im for im in doc["images"]}
    pred_dir = tmp_path / "pred"
    shutil.copytree(suite / "panoptic", pred_dir)
    fog3 = [a for a in doc["annotations"] if images[a["image_id"]].get("condition") == "fog" and images[a["image_id"]].get("severity") == 3]
    first = fog3[0]
    drop = first["segments_info"][0]
    first["segments_info"] = first["segments_info"][1:]
    rgb = np.array(Image.open(pred_dir / first["file_name"]).convert("RGB"))
    rgb[_rgb2id(suite / "panoptic" / first["file_name"]) == drop["id"]] = 0
    Image.fromarray(rgb).save(pred_dir / first["file_name"])
    (tmp_path / "pred.json").write_text(json.dumps(doc))

    ev = evaluate(suite, panoptic=tmp_path / "pred.json")
    rows = {r.slice: r for r in ev.rows if r.iou == "pq"}
    truth = json.loads((suite / "panoptic.json").read_text())["annotations"]
    in_fog3 = Counter(s["category_id"] for a in truth if a["image_id"] in {b["image_id"] for b in fog3} for s in a["segments_info"])
    n, k = in_fog3[drop["category_id"]], len(in_fog3)
    want = (k - 1 + (n - 1) / (n - 0.5)) / k  # PQ = sum IoU / (TP + FP/2 + FN/2), mean over categories
    assert rows["clean"].ap == pytest.approx(1.0) and rows["fog 1"].ap == pytest.approx(1.0)
    assert rows["fog 3"].ap == pytest.approx(want) and rows["fog 3"].ap50 == pytest.approx(1.0)
    assert rows["fog 3"].drop == pytest.approx(1 - want)
    assert rows["things (all images)"].ap < 1.0 and "all images" in rows

    res = CliRunner().invoke(main, ["evaluate", str(suite), "--panoptic", str(tmp_path / "pred.json"), "-o", str(tmp_path / "r"), "-q"])
    assert res.exit_code == 0, res.output
    assert f"{want:.3f}" in res.output and (tmp_path / "r" / "metrics.csv").read_text().count(",pq,") == len(rows)


def test_missing_predictions_are_named(suite, tmp_path):
    doc = json.loads((suite / "panoptic.json").read_text())
    gone = doc["annotations"].pop(2)
    (tmp_path / "p.json").write_text(json.dumps(doc))
    shutil.copytree(suite / "panoptic", tmp_path / "p")
    with pytest.raises(EvaluationError, match=f"no prediction for image {gone['image_id']}"):
        evaluate(suite, panoptic=tmp_path / "p.json")
    (tmp_path / "q.json").write_text(json.dumps(json.loads((suite / "panoptic.json").read_text())))
    with pytest.raises(EvaluationError, match="neither is a folder"):
        evaluate(suite, panoptic=tmp_path / "q.json")


def test_a_png_named_outside_the_predictions_folder_is_refused(suite, tmp_path):
    """A prediction's file_name must stay inside its PNG folder: '../x.png' was read from anywhere."""
    doc = json.loads((suite / "panoptic.json").read_text())
    shutil.copytree(suite / "panoptic", tmp_path / "p")
    first = doc["annotations"][0]
    shutil.copy(tmp_path / "p" / first["file_name"], tmp_path / "elsewhere.png")
    first["file_name"] = "../elsewhere.png"
    (tmp_path / "p.json").write_text(json.dumps(doc))
    with pytest.raises(EvaluationError, match=r"p\.json.*image %s.*'\.\./elsewhere\.png'.*climbs out" % first["image_id"]):
        evaluate(suite, panoptic=tmp_path / "p.json")


def _hostile(suite, tmp_path, edit):
    """A copy of the ground truth as predictions, with ``edit(doc, first annotation, rgb of its PNG)``
    applied; returns (the predictions JSON, the edited image's id)."""
    doc = json.loads((suite / "panoptic.json").read_text())
    shutil.copytree(suite / "panoptic", tmp_path / "p")
    first = max(doc["annotations"], key=lambda a: len(a["segments_info"]))
    png = tmp_path / "p" / first["file_name"]
    rgb = np.array(Image.open(png).convert("RGB"))
    rgb = edit(doc, first, rgb)
    Image.fromarray(rgb).save(png)
    (tmp_path / "p.json").write_text(json.dumps(doc))
    return tmp_path / "p.json", first["image_id"]


def _ids(rgb):
    rgb = rgb.astype(np.uint32)
    return rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]


def _repeat_id(doc, a, rgb):
    """Two segments of one id: the PNG's pixels of segment 2 painted with segment 1's colour."""
    s0, s1 = a["segments_info"][:2]
    rgb[_ids(rgb) == s1["id"]] = rgb[_ids(rgb) == s0["id"]][0]
    s1["id"] = s0["id"]
    return rgb


def _png_only(doc, a, rgb):
    a["segments_info"] = a["segments_info"][1:]
    return rgb


def _json_only(doc, a, rgb):
    rgb[_ids(rgb) == a["segments_info"][0]["id"]] = 0
    return rgb


def _unknown_category(doc, a, rgb):
    a["segments_info"][0]["category_id"] = 999
    return rgb


def _wrong_size(doc, a, rgb):
    return np.ascontiguousarray(rgb[:-3])


@pytest.mark.parametrize("edit, says", [
    (_repeat_id, r"segment id \d+ twice"),
    (_png_only, r"segment id \d+ in its PNG .* not in segments_info"),
    (_json_only, r"segment id \d+ in segments_info .* not in its PNG"),
    (_unknown_category, r"category 999, not a category"),
    (_wrong_size, r"PNG is \d+x\d+, the image is \d+x\d+"),
])
def test_a_malformed_prediction_is_refused_naming_file_and_image(suite, tmp_path, edit, says):
    """A malformed panoptic prediction was scored (a repeated segment id gave PQ 1.0): it is
    refused where it is read, naming the predictions file and the image id."""
    pred, image_id = _hostile(suite, tmp_path, edit)
    with pytest.raises(EvaluationError, match=r"p\.json: the prediction of image %s.*" % image_id + says):
        evaluate(suite, panoptic=pred)


def test_two_predictions_for_one_image_are_refused(suite, tmp_path):
    """Two annotations for one image: the last was scored and the first silently dropped."""
    doc = json.loads((suite / "panoptic.json").read_text())
    shutil.copytree(suite / "panoptic", tmp_path / "p")
    twice = doc["annotations"][1]
    doc["annotations"].append({**twice, "segments_info": []})
    (tmp_path / "p.json").write_text(json.dumps(doc))
    with pytest.raises(EvaluationError, match=r"p\.json: image %s has two predictions" % twice["image_id"]):
        evaluate(suite, panoptic=tmp_path / "p.json")


def test_a_prediction_for_an_image_the_suite_lacks_is_refused(suite, tmp_path):
    """A panoptic.json of another, larger suite was scored on the ids both share, the rest
    dropped unsaid: every other prediction format refuses an unknown image."""
    doc = json.loads((suite / "panoptic.json").read_text())
    shutil.copytree(suite / "panoptic", tmp_path / "p")
    doc["annotations"].append({**doc["annotations"][0], "image_id": 99999})
    (tmp_path / "p.json").write_text(json.dumps(doc))
    with pytest.raises(EvaluationError, match=r"p\.json: image 99999 is not an image of the suite"):
        evaluate(suite, panoptic=tmp_path / "p.json")
