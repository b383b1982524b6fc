"""evaluate scores semantic class maps: IoU per class and mean IoU, per condition x severity,
beside box AP. Checked against hand-computed confusion counts (a hand-drawn 4x4 map) and
against a suite's own maps with a known number of pixels changed; broken predictions are
refused with a message naming the file."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import tiny_config_dict
from PIL import Image

from synthgen.cli import main
from synthgen.config import load_config
from synthgen.io.semantic import read_class_map
from synthgen.stress import run_suite
from synthgen.tools.evaluate import EvaluationError, evaluate, table, write_report
from synthgen.writers.semantic import encode_class_map


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    from conftest import make_assets, tiny_output_config

    root = tmp_path_factory.mktemp("semsuite")
    cfg = tiny_output_config(make_assets(root / "assets"), {"formats": ["coco", "semantic"]}, objects_per_image=[3, 4])
    out = root / "suite"
    run_suite(cfg, out, 3, ["fog", "occlusion"], [1, 3])
    return out


def _copy_maps(suite: Path, dest: Path) -> Path:
    shutil.copytree(suite / "semantic", dest)
    return dest


def _sem_rows(ev):
    return {r.slice: r for r in ev.rows if r.iou == "sem"}


def test_ground_truth_as_prediction_scores_one_everywhere(suite, tmp_path):
    ev = evaluate(suite, semantic=_copy_maps(suite, tmp_path / "pred"))
    rows = _sem_rows(ev)
    assert {"clean", "fog 1", "fog 3", "occlusion 1", "occlusion 3", "all images"} <= set(rows)
    for name, r in rows.items():
        if name.startswith("class "):
            assert math.isnan(r.ap) or r.ap == 1.0, name  # n/a: a class in no map
        else:
            assert r.ap == 1.0 and (r.drop == 0.0 or math.isnan(r.drop)), name
    assert rows["class square"].ap == 1.0 and rows["class disc"].ap == 1.0
    # a folder of PNGs given as --predictions is taken as semantic maps
    auto = evaluate(suite, predictions=tmp_path / "pred")
    assert auto.semantic is not None and not auto.detected and _sem_rows(auto)["all images"].ap == 1.0
    from synthgen.tools.evaluate_semantic import is_semantic_folder

    (tmp_path / "pred" / "labels").mkdir()  # a YOLO predict folder: drawn PNGs beside labels/*.txt
    (tmp_path / "pred" / "labels" / "000000_clean_0.txt").write_text("")
    assert is_semantic_folder(suite / "semantic") and not is_semantic_folder(tmp_path / "pred")


def test_known_wrong_pixels_give_the_hand_computed_iou(suite, tmp_path):
    pred = _copy_maps(suite, tmp_path / "pred")
    gt = json.loads((suite / "annotations.json").read_text())
    square = next(c["id"] for c in gt["categories"] if c["name"] == "square")
    clean = [Path(im["file_name"]).stem for im in gt["images"] if im["condition"] == "clean"]
    maps = {n: read_class_map(suite / "semantic" / f"{n}.png") for n in clean}
    name = next(n for n in clean if (maps[n] == square).sum() >= 40)
    m = maps[name].copy()
    ys, xs = np.nonzero(m == square)
    N = 37
    m[ys[:N], xs[:N]] = 0  # 37 square pixels called background
    (pred / f"{name}.png").write_bytes(encode_class_map(m))
    A = sum(int((maps[n] == square).sum()) for n in clean)  # square pixels of the clean images
    B = sum(int((maps[n] == 0).sum()) for n in clean)  # background pixels
    ev = evaluate(suite, semantic=pred)
    clean_slice = ev.semantic.slices[0]
    assert clean_slice.slice == "clean"
    assert clean_slice.iou(square) == pytest.approx((A - N) / A)
    assert clean_slice.iou(0) == pytest.approx(B / (B + N))
    others = [clean_slice.iou(i) for i in ev.semantic.indices if i not in (0, square)]
    expected_miou = np.nanmean([(A - N) / A, B / (B + N), *others])
    assert _sem_rows(ev)["clean"].ap == pytest.approx(expected_miou)
    assert _sem_rows(ev)["fog 1"].ap == 1.0  # other slices untouched
    assert _sem_rows(ev)["fog 1"].drop == pytest.approx((expected_miou - 1.0) / expected_miou)


def _hand_run(root: Path, truth: np.ndarray) -> Path:
    (root / "semantic").mkdir(parents=True)
    rows = [{"index": 0, "name": "background", "color": [0, 0, 0]}, {"index": 1, "name": "a", "color": [128, 0, 0]},
            {"index": 2, "name": "b", "color": [0, 128, 0]}, {"index": 3, "name": "stuff", "color": [128, 128, 0]},
            {"index": 255, "name": "ignore", "color": [255, 255, 255]}]
    (root / "semantic_classes.json").write_text(json.dumps({"ignore_index": 255, "ignored": ["distractors"], "classes": rows}))
    (root / "semantic" / "x.png").write_bytes(encode_class_map(truth))
    return root


TRUTH = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 255, 255], [2, 2, 2, 2]], np.uint8)
PRED = np.array([[0, 0, 1, 0], [0, 0, 1, 1], [2, 1, 0, 1], [2, 2, 2, 2]], np.uint8)


def test_hand_drawn_map_ignore_pixels_and_absent_classes(tmp_path):
    run = _hand_run(tmp_path / "run", TRUTH)
    (tmp_path / "pred").mkdir()
    (tmp_path / "pred" / "x.png").write_bytes(encode_class_map(PRED))
    ev = evaluate(run, semantic=tmp_path / "pred")
    s = ev.semantic.overall
    # background: TP 4, FP 1 (an a pixel); a: TP 3, FP 1 (a b pixel), FN 1; b: TP 5, FN 1; the
    # two 255 pixels are not scored whatever is predicted there; "stuff" is in neither: n/a
    assert s.iou(0) == pytest.approx(4 / 5) and s.iou(1) == pytest.approx(3 / 5) and s.iou(2) == pytest.approx(5 / 6)
    assert math.isnan(s.iou(3)) and s.pixels == 14 and s.accuracy == pytest.approx(12 / 14)
    rows = _sem_rows(ev)
    assert rows["clean"].ap == pytest.approx((4 / 5 + 3 / 5 + 5 / 6) / 3)
    assert "all images" not in rows  # one slice only
    # the same prediction as an RGB picture in semantic_classes.json's colours
    colours = {0: (0, 0, 0), 1: (128, 0, 0), 2: (0, 128, 0)}
    rgb = np.array([[colours[v] for v in row] for row in PRED], np.uint8)
    Image.fromarray(rgb, "RGB").save(tmp_path / "pred" / "x.png")
    assert evaluate(run, semantic=tmp_path / "pred").semantic.overall.iou(1) == pytest.approx(3 / 5)


def test_broken_predictions_are_refused_naming_the_file(tmp_path):
    run = _hand_run(tmp_path / "run", TRUTH)
    pred = tmp_path / "pred"
    pred.mkdir()
    (pred / "x.png").write_bytes(encode_class_map(np.zeros((5, 4), np.uint8)))
    with pytest.raises(EvaluationError, match=r"pred/x\.png: 4x5 pixels, its image is 4x4"):
        evaluate(run, semantic=pred)
    (pred / "x.png").write_bytes(encode_class_map(np.full((4, 4), 9, np.uint8)))
    with pytest.raises(EvaluationError, match=r"pred/x\.png: values \[9\] are no class"):
        evaluate(run, semantic=pred)
    Image.fromarray(np.full((4, 4, 3), 7, np.uint8), "RGB").save(pred / "x.png")
    with pytest.raises(EvaluationError, match=r"pred/x\.png: 1 colours that are no class.*\(7, 7, 7\)"):
        evaluate(run, semantic=pred)
    (pred / "x.png").write_bytes(b"not a png")
    with pytest.raises(EvaluationError, match=r"pred/x\.png: cannot be read"):
        evaluate(run, semantic=pred)
    (pred / "x.png").unlink()
    (pred / "y.png").write_bytes(encode_class_map(TRUTH))
    with pytest.raises(EvaluationError, match=r"1 PNGs name no image .*'y\.png'"):
        evaluate(run, semantic=pred)
    (pred / "y.png").unlink()
    (pred / "other.txt").write_text("")
    with pytest.raises(EvaluationError, match=r"pred/x\.png: missing"):
        evaluate(run, semantic=pred)
    r = CliRunner().invoke(main, ["evaluate", str(run), "--semantic", str(pred), "-q", "-o", str(tmp_path / "rep")])
    assert r.exit_code == 2 and "x.png: missing" in r.output
    r = CliRunner().invoke(main, ["evaluate", str(run), "-q"])
    assert r.exit_code == 2 and "--semantic" in r.output
    with pytest.raises(EvaluationError, match="no semantic/ maps"):
        evaluate(tmp_path, semantic=pred)


def test_semantic_rows_beside_box_ap_in_one_report(suite, tmp_path):
    gt = json.loads((suite / "annotations.json").read_text())
    preds = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 0.9} for a in gt["annotations"]]
    (tmp_path / "preds.json").write_text(json.dumps(preds))
    pred = _copy_maps(suite, tmp_path / "pred")
    r = CliRunner().invoke(main, ["evaluate", str(suite), "-p", str(tmp_path / "preds.json"), "--semantic", str(pred),
                                  "-q", "-o", str(tmp_path / "rep")])
    assert r.exit_code == 0, r.output
    assert "predictions: COCO" in r.output and "semantic: semantic PNG folder" in r.output
    kinds = {line[22:28].strip() for line in r.output.splitlines() if line.startswith(("clean", "fog 3", "class"))}
    assert kinds == {"bbox", "sem"}
    rep = tmp_path / "rep"
    assert {p.name for p in rep.iterdir()} >= {"metrics.csv", "metrics.md", "ap_vs_severity.png", "semantic_iou.csv", "report.html"}
    lines = (rep / "semantic_iou.csv").read_text().splitlines()
    assert lines[0].startswith("slice,condition,severity,images,pixels,pixel_accuracy,mean_iou,iou_background")
    assert len(lines) == 1 + 6  # clean, 2 conditions x 2 severities, all
    assert "| fog 3 | sem |" in (rep / "metrics.md").read_text()
    ev = evaluate(suite, semantic=pred)
    assert "class square" in table(ev.rows)
    written = write_report(ev, tmp_path / "rep2")  # semantic only: no detection page
    assert [p.name for p in written] == ["metrics.csv", "metrics.md", "ap_vs_severity.png", "semantic_iou.csv"]


def test_an_unmerged_run_is_refused_with_how_to_merge_it(tmp_path):
    """A run made with --no-merge has semantic/ maps but no semantic_classes.json nor
    annotations.json yet: the message says to merge it, not to make a suite or semantic maps."""
    from conftest import make_assets

    from synthgen.runner import generate

    data = tiny_config_dict(make_assets(tmp_path / "assets"), objects_per_image=[1, 2])
    data["output"] = {"formats": ["coco", "semantic"]}
    run = tmp_path / "run"
    generate(load_config(data=data), run, 2, merge=False)
    assert (run / "semantic").is_dir()
    with pytest.raises(EvaluationError, match=r"not merged yet: run `synthgen merge .*run`"):
        evaluate(run, semantic=run / "semantic")
    with pytest.raises(EvaluationError, match=r"not merged yet: run `synthgen merge .*run`"):
        evaluate(run, predictions=run / "shards" / "shard-000000.coco.json")
