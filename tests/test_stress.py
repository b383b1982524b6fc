"""Stress suites: paired layouts across conditions, and per-slice scores from pycocotools."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from pycocotools import mask as mask_utils

from synthgen.cli import main
from synthgen.config import load_config
from synthgen.errors import ConfigError
from synthgen.tools.evaluate import EvaluationError, evaluate
from synthgen.geometry import tight_box
from synthgen.stress import Suite, run_suite
from synthgen.worker import WorkerContext

from conftest import tiny_config_dict

CONDITIONS = ["fog", "night", "occlusion"]
SEVERITIES = [1, 3]


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    from conftest import make_assets

    root = tmp_path_factory.mktemp("stress")
    assets = make_assets(root / "assets")
    cfg = load_config(data=tiny_config_dict(assets, objects_per_image=[3, 4]))
    out = root / "suite"
    run_suite(cfg, out, 5, CONDITIONS, SEVERITIES)
    return out, json.loads((out / "annotations.json").read_text())


def _by_variant(gt):
    groups = {}
    for im in gt["images"]:
        groups.setdefault((im["scene_id"], im["condition"], im["severity"]), im)
    return groups


def test_every_scene_has_every_variant(suite):
    _, gt = suite
    assert len(gt["images"]) == 5 * (1 + len(CONDITIONS) * len(SEVERITIES))
    groups = _by_variant(gt)
    for sid in range(5):
        for c in CONDITIONS:
            for s in SEVERITIES:
                im = groups[(sid, c, s)]
                if c != "occlusion":
                    assert [x["name"] for x in im["conditions"]] == [c] and im["conditions"][0]["severity"] == s


def test_layouts_are_identical_across_photometric_conditions(suite):
    _, gt = suite
    groups = _by_variant(gt)
    anns = {}
    for a in gt["annotations"]:
        anns.setdefault(a["image_id"], []).append((a["category_id"], a["bbox"], a["segmentation"]["counts"]))
    for sid in range(5):
        clean = anns.get(groups[(sid, "clean", 0)]["id"])
        for c in ("fog", "night"):
            for s in SEVERITIES:
                assert anns.get(groups[(sid, c, s)]["id"]) == clean


def test_occlusion_hides_the_same_targets_more_with_severity(suite):
    _, gt = suite
    groups = _by_variant(gt)
    vis = {}
    for a in gt["annotations"]:
        vis.setdefault(a["image_id"], []).append(a["visible_fraction"])
    for key in [("clean", 0), ("occlusion", 1), ("occlusion", 3)]:
        vals = [v for sid in range(5) for v in vis.get(groups[(sid, *key)]["id"], [])]
        vis[key] = np.mean(vals)
    assert vis[("clean", 0)] > vis[("occlusion", 1)] > vis[("occlusion", 3)]
    for a in gt["annotations"]:  # still exact
        m = mask_utils.decode({**a["segmentation"], "counts": a["segmentation"]["counts"].encode()}).astype(bool)
        assert a["bbox"] == list(tight_box(m)) and a["area"] == int(m.sum())


def _preds(gt, keep=lambda im: True):
    images = {im["id"]: im for im in gt["images"]}
    return [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0,
             "segmentation": a["segmentation"]} for a in gt["annotations"] if keep(images[a["image_id"]])]


def test_ground_truth_as_predictions_scores_1_on_every_slice(suite, tmp_path):
    out, gt = suite
    p = tmp_path / "p.json"
    p.write_text(json.dumps(_preds(gt)))
    rows = evaluate(out, p).rows
    assert {r.iou for r in rows} == {"bbox", "segm"}
    for r in rows:
        if r.instances:
            assert r.ap == pytest.approx(1.0), r
            assert r.condition in ("clean", "size", "visibility") or r.drop == pytest.approx(0.0)


def test_missing_fog_predictions_lower_only_fog_slices(suite, tmp_path):
    out, gt = suite
    p = tmp_path / "p.json"
    p.write_text(json.dumps(_preds(gt, keep=lambda im: im["condition"] != "fog")))
    for r in evaluate(out, p).rows:
        if r.condition == "fog":
            assert r.ap == pytest.approx(0.0) and r.drop == pytest.approx(1.0)
        elif r.condition not in ("size", "visibility", "contrast"):
            assert r.ap == pytest.approx(1.0), r


def test_evaluate_cli_writes_table_csv_markdown_and_plot(suite, tmp_path):
    out, gt = suite
    p = tmp_path / "p.json"
    p.write_text(json.dumps(_preds(gt)))
    res = CliRunner().invoke(main, ["evaluate", str(out), "-p", str(p), "-o", str(tmp_path / "report")])
    assert res.exit_code == 0, res.output
    assert "fog 3" in res.output and "visible" in res.output and "contrast 0.75-1.00" in res.output
    assert "predictions: COCO results JSON" in res.output and "images by integer ids" in res.output
    for name in ("metrics.csv", "metrics.md", "ap_vs_severity.png", "report.html"):
        assert (tmp_path / "report" / name).stat().st_size > 100


def test_a_suite_is_also_a_yolo_dataset_whose_val_is_the_whole_suite(suite):
    import yaml

    from synthgen.io.yolo import read_yolo

    out, gt = suite
    doc = yaml.safe_load((out / "data.yaml").read_text())
    assert doc["val"] == "images" and doc["names"] == {i: c["name"] for i, c in enumerate(gt["categories"])}
    assert not (out / "val.txt").exists()
    labels = sorted(p.stem for p in (out / "labels").glob("*.txt"))
    assert labels == sorted(Path(im["file_name"]).stem for im in gt["images"])
    n = sum(len(p.read_text().splitlines()) for p in (out / "labels").glob("*.txt"))
    assert n == len(gt["annotations"])
    yolo = read_yolo(out / "data.yaml")
    assert not yolo.issues


def test_unknown_ids_in_predictions_are_named(suite, tmp_path):
    out, gt = suite
    p = tmp_path / "p.json"
    p.write_text(json.dumps([{"image_id": 99999, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]))
    with pytest.raises(EvaluationError, match=r"1 unknown image ids, e.g. \[99999\]"):
        evaluate(out, p)
    p.write_text(json.dumps([{"image_id": 1, "category_id": 42, "bbox": [0, 0, 1, 1], "score": 1}]))
    with pytest.raises(EvaluationError, match=r"entry 0: category 42 is not one of the suite's category ids"):
        evaluate(out, p)


def test_malformed_prediction_masks_are_named_before_pycocotools(suite, tmp_path):
    out, gt = suite
    preds = _preds(gt)
    preds[3]["segmentation"] = {"size": preds[3]["segmentation"]["size"], "counts": "\x7f\x7f"}
    p = tmp_path / "p.json"
    p.write_text(json.dumps(preds))
    with pytest.raises(EvaluationError, match=r"p.json: entry 3 \(image \d+\): RLE counts string is malformed"):
        evaluate(out, p)


@pytest.mark.parametrize("poly", [[1, 2, 1e9, 4, 5, 1e9], [-3e8, 0, 5, 0, 5, 5]])
def test_a_polygon_far_outside_its_image_is_refused_not_a_crash(suite, tmp_path, poly):
    # pycocotools rasterises polygons at 5x in C ints: a point at 1e9 overflows and segfaulted
    # the whole evaluate process with no message; points near 1e8 allocate gigabytes first.
    out, gt = suite
    preds = _preds(gt)
    preds[2]["segmentation"] = [poly]
    p = tmp_path / "p.json"
    p.write_text(json.dumps(preds))
    with pytest.raises(EvaluationError, match=r"p.json: entry 2 \(image \d+\): a polygon point lies more than"):
        evaluate(out, p)


def test_evaluate_leaves_the_matplotlib_backend_alone(suite, tmp_path, monkeypatch):
    import matplotlib

    from synthgen.tools.evaluate import write_report

    def no_switch(*args, **kwargs):
        raise AssertionError("evaluate must not switch the process-wide matplotlib backend")

    monkeypatch.setattr(matplotlib, "use", no_switch)
    out, gt = suite
    p = tmp_path / "p.json"
    p.write_text(json.dumps(_preds(gt)))
    written = write_report(evaluate(out, p), tmp_path / "r")
    assert (tmp_path / "r" / "ap_vs_severity.png") in written


def test_bad_conditions_are_config_errors(tiny_config, tmp_path):
    with pytest.raises(ConfigError, match="unknown 'smog'"):
        run_suite(tiny_config, tmp_path / "s", 1, ["smog"], [1])
    with pytest.raises(ConfigError, match="move the layout"):
        run_suite(tiny_config, tmp_path / "s", 1, ["rotate"], [1])


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "data.yaml"}


@pytest.fixture(scope="module")
def small_suite(tmp_path_factory):
    from conftest import make_assets

    root = tmp_path_factory.mktemp("small")
    cfg = load_config(data=tiny_config_dict(make_assets(root / "assets")))
    out = root / "suite"
    summary = run_suite(cfg, out, 3, ["fog", "occlusion"], [2])
    assert summary.complete and summary.merged and summary.images == 9
    return cfg, out, _digests(out)


def test_a_suite_resumes_after_a_damaged_shard_like_any_run(small_suite, tmp_path):
    cfg, reference, digests = small_suite
    out = tmp_path / "suite"
    run_suite(cfg, out, 3, ["fog", "occlusion"], [2])
    victim = out / "images" / "000001_fog_2.jpg"
    victim.write_bytes(victim.read_bytes()[:100])  # scene 1 = shard 1
    summary = run_suite(cfg, out, 3, ["fog", "occlusion"], [2])
    assert summary.skipped_shards == 2 and summary.images == 3
    assert _digests(out) == digests


@pytest.mark.parametrize("kill", [False, True])
def test_a_suite_with_other_conditions_is_refused_not_resumed(small_suite, tmp_path, kill):
    # Same config and variant count: the runner saw the same run, kept the fog images, said
    # "3 shards already done" and wrote a manifest claiming night. A killed run (no manifest
    # yet) must be caught from its finished shards.
    from synthgen.errors import OutputError

    cfg, _, digests = small_suite
    out = tmp_path / "suite"
    run_suite(cfg, out, 3, ["fog", "occlusion"], [2])
    if kill:
        (out / "manifest.json").unlink()
    for conditions, severities in ((["night", "occlusion"], [2]), (["fog", "occlusion"], [3]), (["occlusion", "fog"], [2])):
        with pytest.raises(OutputError, match=r"--conditions fog,occlusion --severities 2.*--overwrite"):
            run_suite(cfg, out, 3, conditions, severities)
    summary = run_suite(cfg, out, 3, ["night", "occlusion"], [2], overwrite=True)
    assert summary.images == 9
    assert sorted(p.name for p in (out / "images").iterdir())[:3] == [
        "000000_clean_0.jpg", "000000_night_2.jpg", "000000_occlusion_2.jpg"]
    run_suite(cfg, out, 3, ["night", "occlusion"], [2])  # the same command again resumes


def test_a_killed_suite_of_a_condition_with_an_underscore_resumes(small_suite, tmp_path):
    cfg, _, _ = small_suite
    out = tmp_path / "suite"
    run_suite(cfg, out, 2, ["motion_blur"], [1])
    (out / "manifest.json").unlink()
    assert run_suite(cfg, out, 2, ["motion_blur"], [1]).skipped_shards == 2


def test_evaluating_a_killed_suite_says_to_finish_it(small_suite, tmp_path):
    # A suite killed part-way (config.yaml and shards/, no manifest nor annotations.json yet)
    # was told to "make the suite with `synthgen stress` first", as if there were none.
    cfg, reference, _ = small_suite
    out = tmp_path / "suite"
    run_suite(cfg, out, 3, ["fog", "occlusion"], [2])
    for name in ("manifest.json", "annotations.json"):
        (out / name).unlink()
    p = tmp_path / "p.json"
    p.write_text("[]")
    with pytest.raises(EvaluationError, match=r"suite: the run has not finished .*run the same command again"):
        evaluate(out, p)


def test_suite_workers_do_not_change_a_byte(small_suite, tmp_path):
    cfg, _, digests = small_suite
    out = tmp_path / "two"
    run_suite(cfg, out, 3, ["fog", "occlusion"], [2], workers=2)
    assert _digests(out) == digests


def test_suite_images_carry_their_grid_position_in_typed_fields(small_suite):
    cfg, out, _ = small_suite
    with WorkerContext() as ctx:
        factory = ctx.factory(Suite(cfg.model_dump_json(), ("fog", "occlusion"), (2,)))
        s = factory.sample(5)  # scene 1, variant 2 of clean, fog 2, occlusion 2
    assert (s.index, s.name) == (5, "000001_occlusion_2")
    assert s.image_fields == {"scene_id": 1, "condition": "occlusion", "severity": 2}
    assert "image_fields" not in s.metadata and s.metadata["suite_index"] == 5
    line = json.loads((out / "metadata.jsonl").read_text().splitlines()[5])
    assert line["image_fields"] == s.image_fields and line["condition"] == "occlusion"
    image = json.loads((out / "annotations.json").read_text())["images"][5]
    assert {k: image[k] for k in s.image_fields} == s.image_fields
