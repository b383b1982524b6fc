"""evaluate reads predictions in the formats detectors write (COCO results with ids, file names
or stems; YOLO txt folders with confidences, boxes or polygons; torchvision-style JSON), made
here from the ground truth with known perturbations, and scores them as expected. The
Ultralytics formats are built from their documented layout (Ultralytics is not installed)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import tiny_config_dict

from synthgen.cli import main
from synthgen.config import load_config
from synthgen.stress import run_suite
from synthgen.tools.evaluate import EvaluationError, evaluate, write_report
from synthgen.tools.predictions import Names, load_names
from synthgen.tools.stress_report import best_threshold, match, robustness

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    from conftest import make_assets

    root = tmp_path_factory.mktemp("formats")
    cfg = load_config(data=tiny_config_dict(make_assets(root / "assets"), objects_per_image=[3, 4]))
    out = root / "suite"
    run_suite(cfg, out, 4, ["fog", "occlusion"], [1, 3])
    return out, json.loads((out / "annotations.json").read_text())


# --------------------------------------------------------------------------------------------
# prediction files made from the ground truth


def _gt(gt, keep=lambda im: True):
    images = {im["id"]: im for im in gt["images"]}
    return [(images[a["image_id"]], a) for a in gt["annotations"] if keep(images[a["image_id"]])]


def _shift(im, bbox, f):
    """The box moved sideways by f of its width, inside the image: IoU (1 - f) / (1 + f)."""
    x, y, w, h = bbox
    d = f * w
    return [x + d if x + w + d <= im["width"] else x - d, y, w, h]


def coco_results(gt, image_key="id", cat=lambda c: c, f=0.0, keep=lambda im: True, score=1.0):
    key = {"id": lambda im: im["id"], "file": lambda im: im["file_name"], "stem": lambda im: Path(im["file_name"]).stem}[image_key]
    return [{"image_id": key(im), "category_id": cat(a["category_id"]), "bbox": _shift(im, a["bbox"], f), "score": score}
            for im, a in _gt(gt, keep)]


def ultralytics_json(gt, order):
    """As Ultralytics' save_json writes on a non-COCO dataset: image_id the stem (not numeric),
    category_id = class index + 1 in the model's order, bbox xywh rounded to 3 decimals."""
    names = [c["name"] for c in gt["categories"]]
    cls = {i + 1: order.index(n) for i, n in enumerate(names)}
    return [{"image_id": Path(im["file_name"]).stem, "category_id": cls[a["category_id"]] + 1,
             "bbox": [round(v, 3) for v in a["bbox"]], "score": 0.87654}
            for im, a in _gt(gt)]


def yolo_folder(folder: Path, gt, cls=lambda c: c - 1, polygons=False, f=0.0, extra=None, conf=0.9):
    """One <stem>.txt per image with detections, lines 'class cx cy w h conf' (or a polygon),
    normalised, as save_txt + save_conf write them; ``extra(im)``: more lines."""
    folder.mkdir(parents=True, exist_ok=True)
    lines: dict[str, list[str]] = {}
    for im, a in _gt(gt):
        W, H = im["width"], im["height"]
        x, y, w, h = _shift(im, a["bbox"], f)
        c = cls(a["category_id"])
        if polygons:
            pts = [x / W, y / H, (x + w) / W, y / H, (x + w) / W, (y + h) / H, x / W, (y + h) / H]
            line = f"{c} " + " ".join(f"{v:.6f}" for v in pts) + f" {conf:.5f}"
        else:
            line = f"{c} {(x + w / 2) / W:.6f} {(y + h / 2) / H:.6f} {w / W:.6f} {h / H:.6f} {conf:.5f}"
        lines.setdefault(Path(im["file_name"]).stem, []).append(line)
    for im in gt["images"]:
        if extra:
            lines.setdefault(Path(im["file_name"]).stem, []).extend(extra(im))
    for stem, ls in lines.items():
        (folder / f"{stem}.txt").write_text("\n".join(ls) + "\n")
    return folder


def torchvision_json(gt, label=lambda c: c, keyed=False):
    per: dict = {}
    for im in gt["images"]:
        per[im["file_name"]] = {"boxes": [], "labels": [], "scores": []}
    for im, a in _gt(gt):
        x, y, w, h = a["bbox"]
        e = per[im["file_name"]]
        e["boxes"].append([x, y, x + w, y + h])
        e["labels"].append(label(a["category_id"]))
        e["scores"].append(0.99)
    if keyed:
        return per
    return [{"file_name": k, **v} for k, v in per.items()]


def _write(tmp_path, data, name="p.json"):
    p = tmp_path / name
    p.write_text(json.dumps(data))
    return p


def _box(ev, cond="clean"):
    return {r.slice: r for r in ev.rows if r.iou == "bbox"}[cond].ap


# --------------------------------------------------------------------------------------------
# ground truth as predictions: AP 1.0 in every format


@pytest.mark.parametrize("key", ["id", "file", "stem"])
def test_coco_results_with_ids_file_names_or_stems(suite, tmp_path, key):
    out, gt = suite
    ev = evaluate(out, _write(tmp_path, coco_results(gt, key)))
    want = {"id": "integer ids", "file": "file names", "stem": "file stems"}[key]
    assert ev.detected.startswith("COCO results JSON") and f"images by {want}" in ev.detected
    for r in ev.rows:
        if r.instances:
            assert r.ap == pytest.approx(1.0), r


@pytest.mark.parametrize("polygons", [False, True])
def test_yolo_txt_folder_boxes_and_polygons(suite, tmp_path, polygons):
    out, gt = suite
    ev = evaluate(out, yolo_folder(tmp_path / "labels", gt, polygons=polygons))
    assert ev.detected.startswith("YOLO txt folder") and ("polygons" if polygons else "boxes") in ev.detected
    assert {r.iou for r in ev.rows} == ({"bbox", "segm"} if polygons else {"bbox"})
    for r in ev.rows:
        if r.instances and r.iou == "bbox":
            assert r.ap == pytest.approx(1.0), r


@pytest.mark.parametrize("keyed", [False, True])
def test_torchvision_style_json(suite, tmp_path, keyed):
    out, gt = suite
    ev = evaluate(out, _write(tmp_path, torchvision_json(gt, keyed=keyed)))
    assert ev.detected.startswith("torchvision-style JSON")
    for r in ev.rows:
        if r.instances:
            assert r.ap == pytest.approx(1.0), r


def test_ultralytics_save_json_with_the_model_names_in_another_order(suite, tmp_path):
    out, gt = suite
    names = [c["name"] for c in gt["categories"]]
    order = names[::-1]
    (tmp_path / "model.yaml").write_text("names:\n" + "".join(f"  {i}: {n}\n" for i, n in enumerate(order)))
    p = _write(tmp_path, ultralytics_json(gt, order), "predictions.json")
    res = CliRunner().invoke(main, ["evaluate", str(out), "-p", str(p), "--names", str(tmp_path / "model.yaml"),
                                    "-o", str(tmp_path / "report"), "-q"])
    assert res.exit_code == 0, res.output
    assert "images by file stems" in res.output and "classes matched by name" in res.output
    clean = next(line for line in res.output.splitlines() if line.startswith("clean "))
    assert clean.split()[4:6] == ["1.000", "1.000"]
    # the same file scored by position alone is wrong
    if len(names) > 1:
        assert _box(evaluate(out, p)) < 1.0


# --------------------------------------------------------------------------------------------
# known perturbations give the expected AP


def test_boxes_shifted_by_a_tenth_of_their_width_score_ap_0_7_and_ap50_1(suite, tmp_path):
    """IoU = 0.9 / 1.1 = 0.818 for every box: the thresholds .50 to .80 pass, .85 to .95 fail."""
    out, gt = suite
    for p in (_write(tmp_path, coco_results(gt, "stem", f=0.1)), yolo_folder(tmp_path / "y", gt, f=0.1)):
        ev = evaluate(out, p)
        for r in ev.rows:
            if r.instances and r.condition != "size":
                assert r.ap == pytest.approx(0.7, abs=1e-6) and r.ap50 == pytest.approx(1.0), (p, r)


def test_dropped_detections_on_fog_images_zero_only_fog(suite, tmp_path):
    out, gt = suite
    ev = evaluate(out, _write(tmp_path, coco_results(gt, "file", keep=lambda im: im["condition"] != "fog")))
    for r in ev.rows:
        if r.condition == "fog":
            assert r.ap == pytest.approx(0.0) and r.drop == pytest.approx(1.0)
        elif r.severity is not None or r.condition == "clean":
            assert r.ap == pytest.approx(1.0), r
    clean, summary = robustness(ev.rows)
    fog = next(c for c in summary if c["condition"] == "fog")
    assert clean == pytest.approx(1.0) and fog["first10"] == 1 and fog["first50"] == 1
    occ = next(c for c in summary if c["condition"] == "occlusion")
    assert occ["first10"] is None and occ["mean_drop"] == pytest.approx(0.0)


def test_confidence_is_read_from_yolo_lines(suite, tmp_path):
    """A false alarm per image ranked above every hit lowers AP; ranked below, it does not."""
    out, gt = suite
    far = lambda conf: lambda im: [f"0 0.020000 0.020000 0.010000 0.010000 {conf}"]
    low = evaluate(out, yolo_folder(tmp_path / "low", gt, conf=0.5, extra=far(0.1)))
    high = evaluate(out, yolo_folder(tmp_path / "high", gt, conf=0.5, extra=far(0.99)))
    assert _box(low) == pytest.approx(1.0)
    assert _box(high) < 0.9


def test_swapped_class_order_is_fixed_by_names_in_every_format(suite, tmp_path):
    out, gt = suite
    names = [c["name"] for c in gt["categories"]]
    nc = len(names)
    rev = names[::-1]
    swap = lambda c: nc - c
    given = Names(dict(enumerate(rev)), False, "reversed")
    y = yolo_folder(tmp_path / "y", gt, cls=swap)
    assert _box(evaluate(out, y, names=given)) == pytest.approx(1.0)
    c = _write(tmp_path, coco_results(gt, "stem", cat=lambda k: swap(k) + 1), "c.json")
    assert _box(evaluate(out, c, names=given)) == pytest.approx(1.0)
    tv_names = Names(dict(enumerate(["__background__", *rev])), False, "torchvision")
    t = _write(tmp_path, torchvision_json(gt, label=lambda k: swap(k) + 1), "t.json")
    assert _box(evaluate(out, t, names=tv_names)) == pytest.approx(1.0)
    if nc > 2:
        assert _box(evaluate(out, y)) < 1.0


def test_names_of_classes_the_suite_lacks_are_left_out_and_counted(suite, tmp_path):
    out, gt = suite
    names = [c["name"] for c in gt["categories"]]
    model = [*names, "zebra"]
    preds = coco_results(gt, "stem")
    preds.append({"image_id": preds[0]["image_id"], "category_id": len(model), "bbox": [1, 1, 5, 5], "score": 1.0})
    ev = evaluate(out, _write(tmp_path, preds), names=Names(dict(enumerate(model)), False, "model"))
    assert ev.dropped == {"zebra": 1} and _box(ev) == pytest.approx(1.0)


def test_load_names_from_yaml_list_file_and_comma_list(suite, tmp_path):
    out, gt = suite
    assert load_names(str(out / "data.yaml")).names == {i: c["name"] for i, c in enumerate(gt["categories"])}
    (tmp_path / "n.txt").write_text("a\nb\n\nc\n")
    assert load_names(str(tmp_path / "n.txt")).names == {0: "a", 1: "b", 2: "c"}
    assert load_names("car, person").names == {0: "car", 1: "person"}
    coco = {"categories": [{"id": 3, "name": "car"}, {"id": 7, "name": "person"}]}
    (tmp_path / "c.json").write_text(json.dumps(coco))
    n = load_names(str(tmp_path / "c.json"))
    assert n.keyed and n.names == {3: "car", 7: "person"}


# --------------------------------------------------------------------------------------------
# malformed files: the file and the line or entry are named


def _line(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "000000_clean_0.txt").write_text("0 0.5 0.5 0.1 0.1 0.9\n" + text + "\n")
    return folder


@pytest.mark.parametrize("text, message", [
    ("0 0.5 0.5 0.1 0.1", r"line 2: 5 values: no confidence \(write with save_conf=True\)"),
    ("car 0.5 0.5 0.1 0.1 0.9", r"line 2: 'car 0.5 0.5 0.1 0.1 0.9' is not numbers"),
    ("0 0.1 0.1 0.2 0.2 0.3 0.3", r"line 2: 7 values: no confidence"),  # a 3-point polygon without one
    ("0 1.5 0.5 0.1 0.1 0.9", r"line 2: coordinates outside \[0, 1\]"),
    ("0.5 0.5 0.5 0.1 0.1 0.9", r"line 2: class 0.5 is not an integer"),
    ("99 0.5 0.5 0.1 0.1 0.9", r"line 2: class 99 is not one of the suite's classes"),
    ("0 0.5 0.5 -0.1 0.1 0.9", r"line 2: negative width or height"),
    ("0 0.5 0.5 0.1 0.1 nan", r"line 2: a value is not finite"),
])
def test_malformed_yolo_lines_are_named_by_file_and_line(suite, tmp_path, text, message):
    out, _ = suite
    folder = _line(tmp_path / "labels", text)
    with pytest.raises(EvaluationError, match=re.escape(str(folder / "000000_clean_0.txt")) + ": " + message):
        evaluate(out, folder)


def test_yolo_files_of_no_suite_image_and_empty_folders_are_refused(suite, tmp_path):
    out, _ = suite
    (tmp_path / "l").mkdir()
    with pytest.raises(EvaluationError, match="no .txt files"):
        evaluate(out, tmp_path / "l")
    (tmp_path / "l" / "labels").mkdir()  # a run folder: its labels/ are read
    with pytest.raises(EvaluationError, match=r"l/labels: no .txt files"):
        evaluate(out, tmp_path / "l")
    (tmp_path / "l" / "labels").rmdir()
    (tmp_path / "l" / "cat_photo.txt").write_text("0 0.5 0.5 0.1 0.1 0.9\n")
    with pytest.raises(EvaluationError, match=r"1 files name no image of the suite, e.g. \['cat_photo.txt'\]"):
        evaluate(out, tmp_path / "l")


def test_malformed_json_predictions_are_named(suite, tmp_path):
    out, gt = suite
    bad = tmp_path / "bad.json"
    bad.write_text('[{"image_id": 1,\n "bbox": [0, 0, 1, 1]\n')
    with pytest.raises(EvaluationError, match=r"bad.json.*line"):
        evaluate(out, bad)
    with pytest.raises(EvaluationError, match=r"entry 0: no category_id, score"):
        evaluate(out, _write(tmp_path, [{"image_id": 1, "bbox": [0, 0, 1, 1]}]))
    with pytest.raises(EvaluationError, match=r"unknown image ids, e.g. \['nope'\].*file name or its stem"):
        evaluate(out, _write(tmp_path, [{"image_id": "nope", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]))
    tv = torchvision_json(gt)
    tv[2]["scores"] = tv[2]["scores"][:-1] if tv[2]["scores"] else [1.0]
    with pytest.raises(EvaluationError, match=r"entry 2: \d+ boxes, \d+ labels, \d+ scores"):
        evaluate(out, _write(tmp_path, tv, "tv.json"))
    tv = torchvision_json(gt)
    tv[0]["boxes"] = [[5, 5, 1, 1]]
    tv[0]["labels"], tv[0]["scores"] = [1], [1.0]
    with pytest.raises(EvaluationError, match=r"entry 0 \(image '[^']+'\) detection 0: box \[5, 5, 1, 1\] has x1 < x0"):
        evaluate(out, _write(tmp_path, tv, "tv.json"))
    with pytest.raises(EvaluationError, match=r"a COCO dataset \(images, annotations\), not results"):
        evaluate(out, out / "annotations.json")
    with pytest.raises(EvaluationError, match=r"class 40 has no name in model"):
        evaluate(out, _write(tmp_path, coco_results(gt, cat=lambda c: 40)), names=Names({0: "car"}, False, "model"))


# --------------------------------------------------------------------------------------------
# single images and the page


def test_matching_and_threshold():
    gts = [{"bbox": [0, 0, 10, 10], "category_id": 1}, {"bbox": [20, 20, 10, 10], "category_id": 1}]
    preds = [{"bbox": [0, 0, 10, 10], "category_id": 1, "score": 0.9},
             {"bbox": [0, 0, 10, 10], "category_id": 1, "score": 0.8},   # duplicate: a false alarm
             {"bbox": [20, 20, 10, 10], "category_id": 2, "score": 0.7}]  # wrong class
    found, hits = match(gts, preds)
    assert found == [True, False] and hits == [True, False, False]
    per_image = {1: (gts, preds)}
    assert best_threshold(per_image, [1]) == 0.9


def test_page_shows_robustness_and_the_images_that_lost_most(suite, tmp_path):
    out, gt = suite
    ev = evaluate(out, _write(tmp_path, coco_results(gt, "stem", keep=lambda im: im["condition"] != "fog")))
    written = write_report(ev, tmp_path / "r")
    page = (tmp_path / "r" / "report.html").read_text()
    assert tmp_path / "r" / "report.html" in written
    assert "Robustness per condition" in page and "Where the model lost most" in page
    assert "<h3>fog 1</h3>" in page and "<h3>occlusion 3</h3>" in page
    pairs = re.findall(r'<figure><img alt="([^"]*)" src="data:image/jpeg;base64,', page)
    assert pairs and all("fog" in p for p in pairs)  # only fog images lost anything
    assert "http://" not in page and "https://" not in page and "<script" not in page
    if CHROMIUM.exists():
        png = tmp_path / "shot.png"
        subprocess.run(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2400", f"--screenshot={png}",
             (tmp_path / "r" / "report.html").as_uri()],
            check=True, capture_output=True, timeout=120,
        )
        shot = cv2.imread(str(png))
        assert shot is not None and shot.std() > 20
        for band in np.array_split(shot[:1800], 3):
            assert band.std() > 10


def test_the_readme_flow_runs_as_written(tmp_path, monkeypatch):
    """stress -> a detector's files where Ultralytics puts them -> evaluate on each, by the CLI."""
    import yaml
    from conftest import make_assets

    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config_dict(make_assets(tmp_path / "assets"))))
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["stress", str(cfg), "--out", "suite/", "-n", "2", "--conditions",
                                  "fog,night,rain,motion_blur,occlusion", "--severities", "1,3,5", "-q"])
    assert r.exit_code == 0, r.output
    gt = json.loads(Path("suite/annotations.json").read_text())
    Path("preds/val").mkdir(parents=True)
    names = [c["name"] for c in gt["categories"]]
    Path("preds/val/predictions.json").write_text(json.dumps(ultralytics_json(gt, names)))
    yolo_folder(Path("preds/predict/labels"), gt)
    Path("tv.json").write_text(json.dumps(torchvision_json(gt)))
    for preds, kind in (("preds/val/predictions.json", "COCO results JSON"), ("preds/predict/labels/", "YOLO txt folder"),
                        ("tv.json", "torchvision-style JSON")):
        r = CliRunner().invoke(main, ["evaluate", "suite/", "--predictions", preds, "--out", "report/", "-q"])
        assert r.exit_code == 0, r.output
        assert f"predictions: {kind}" in r.output
        rows = [line.split() for line in r.output.splitlines() if line.startswith(("clean ", "fog ", "occlusion "))]
        assert len(rows) == 7 and all(row.count("1.000") == 2 for row in rows if "n/a" not in row), r.output
        assert Path("report/report.html").stat().st_size > 1000


def test_ultralytics_integer_stem_ids_on_numbered_images_are_refused_with_the_fix_then_scored(tiny_assets, tmp_path):
    # a plain run names image index i 000000ii.jpg and gives it COCO id i + 1; Ultralytics'
    # save_json writes image_id = int(stem) = i: read as COCO ids, every box lands one image off
    from synthgen.runner import generate

    run = tmp_path / "run"
    generate(load_config(data=tiny_config_dict(tiny_assets, objects_per_image=[2, 3])), run, 5, workers=1)
    gt = json.loads((run / "annotations.json").read_text())
    preds = [{**p, "image_id": int(Path(p["image_id"]).stem)} for p in coco_results(gt, "stem")]
    assert any(p["image_id"] == 0 for p in preds)
    (tmp_path / "p.json").write_text(json.dumps(preds))
    with pytest.raises(EvaluationError, match=r"unknown image ids, e\.g\. \[0\].*int\(stem\).*add --stem-ids"):
        evaluate(run, tmp_path / "p.json")
    ev = evaluate(run, tmp_path / "p.json", stem_ids=True)
    assert _box(ev) == 1.0 and "file stem numbers" in ev.detected
    # the suite's own ids stay ids without the flag; with it they are stem numbers, and the
    # last image's id (5) names no image 00000005.jpg
    (tmp_path / "ids.json").write_text(json.dumps(coco_results(gt, "id")))
    assert _box(evaluate(run, tmp_path / "ids.json")) == 1.0
    with pytest.raises(EvaluationError, match="unknown image ids"):
        evaluate(run, tmp_path / "ids.json", stem_ids=True)
