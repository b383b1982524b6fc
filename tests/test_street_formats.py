"""Issue 15's "done when": a street run with --format coco,yolo,semantic,panoptic,voc (and hf)
validates, its COCO loads in pycocotools, its panoptic output in a panopticapi-protocol reader
(hotcoco's pq_compute: ground truth against itself scores PQ 1, and a prediction missing one
thing scores what the paper's definition gives by hand), its hf layout in Hugging Face datasets,
and its semantic maps are the union of the instances by class, exactly.

Everything is read with third-party readers or by hand (rgb2id = R + 256 G + 256^2 B), never with
the writers' own code. Ultralytics (AGPL) is never imported here: the README says how its
training on this output was checked, outside the test suite."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthgen.config import load_config
from synthgen.runner import generate
from synthgen.tools.validate import validate_path

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ["coco", "yolo", "semantic", "panoptic", "voc", "hf"]


@pytest.fixture(scope="module")
def street(tmp_path_factory):
    out = tmp_path_factory.mktemp("street") / "out"
    cfg = load_config(ROOT / "configs" / "street.yaml", [f"output.formats={json.dumps(FORMATS)}", "output.val_fraction=0.3"])
    generate(cfg, out, 8, shard_size=3)
    return out


def _rgb2id(path: Path) -> np.ndarray:
    rgb = np.asarray(Image.open(path).convert("RGB"), np.uint32)
    return rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]


def test_the_street_run_validates(street):
    report = validate_path(street, deep=True)
    assert report.ok, "\n".join(report.lines())
    assert report.counts["panoptic images"] == report.counts["semantic maps"] == 8


def test_semantic_maps_and_panoptic_segments_are_the_pycocotools_masks(street):
    from pycocotools.coco import COCO

    gt = COCO(str(street / "annotations.json"))
    pan = json.loads((street / "panoptic.json").read_text())
    pan_by_image = {a["image_id"]: a for a in pan["annotations"]}
    isthing = {c["id"]: c["isthing"] for c in pan["categories"]}
    classes = json.loads((street / "semantic_classes.json").read_text())
    stuff = {c["index"] for c in classes["classes"] if c["isthing"] == 0 and c["index"] not in (0, classes["ignore_index"])}
    assert stuff, "the street preset's backgrounds carry background classes"
    stuff_pixels = 0
    for iid, im in gt.imgs.items():
        stem = Path(im["file_name"]).stem
        sem = np.asarray(Image.open(street / "semantic" / f"{stem}.png"))
        ids = _rgb2id(street / "panoptic" / f"{stem}.png")
        want = np.zeros(sem.shape, np.int64)
        for a in gt.loadAnns(gt.getAnnIds(imgIds=[iid])):
            m = gt.annToMask(a).astype(bool)
            assert not (want[m] != 0).any(), "visible masks never overlap"
            want[m] = a["category_id"]
            assert np.array_equal(ids == a["id"] % 1000, m)  # the thing segment is the mask
        things = want != 0
        assert np.array_equal(sem[things], want[things])  # the union of the masks by class, exactly
        rest = sem[~things]  # elsewhere: nothing, a background class or not scored (distractors)
        assert np.isin(rest, [0, classes["ignore_index"], *stuff]).all()
        segs = {s["id"]: s for s in pan_by_image[iid]["segments_info"]}
        assert set(np.unique(ids).tolist()) - {0} == set(segs)
        for sid, s in segs.items():
            m = ids == sid
            ys, xs = np.nonzero(m)
            assert s["area"] == m.sum() and s["bbox"] == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
            if not isthing[s["category_id"]]:  # stuff: exactly the semantic map's pixels of its class
                assert np.array_equal(m, sem == s["category_id"])
                stuff_pixels += int(m.sum())
    assert stuff_pixels > 0


def test_panoptic_loads_in_a_pq_reader(street, tmp_path):
    """PQ = sum IoU(TP) / (TP + FP/2 + FN/2) per category, averaged over the categories present
    (Kirillov et al. 2019). Ground truth against itself: 1. Drop one thing of a category with n
    segments in the run (its pixels void, its entry gone): that category gets (n - 1) / (n - 1/2),
    every other 1."""
    hotcoco = pytest.importorskip("hotcoco.panoptic", reason="hotcoco is not installed (pip install -e '.[panoptic]')")
    gt_json, gt_dir = street / "panoptic.json", street / "panoptic"
    same = hotcoco.pq_compute(str(gt_json), str(gt_json), str(gt_dir), str(gt_dir))
    doc = json.loads(gt_json.read_text())
    present = {s["category_id"] for a in doc["annotations"] for s in a["segments_info"]}
    isthing = {c["id"]: c["isthing"] for c in doc["categories"]}
    assert same["All"]["pq"] == pytest.approx(1.0) and same["All"]["n"] == len(present)
    assert same["Things"]["n"] == sum(isthing[c] for c in present) and same["Stuff"]["n"] == sum(not isthing[c] for c in present)

    counts = Counter(s["category_id"] for a in doc["annotations"] for s in a["segments_info"])
    first = doc["annotations"][0]
    drop = next(s for s in first["segments_info"] if isthing[s["category_id"]])
    first["segments_info"] = [s for s in first["segments_info"] if s is not drop]
    pred_dir = tmp_path / "pred"
    pred_dir.mkdir()
    for a in doc["annotations"]:
        rgb = np.array(Image.open(gt_dir / a["file_name"]).convert("RGB"))
        if a is first:
            rgb[_rgb2id(gt_dir / a["file_name"]) == drop["id"]] = 0
        Image.fromarray(rgb).save(pred_dir / a["file_name"])
    (tmp_path / "pred.json").write_text(json.dumps(doc))
    got = hotcoco.pq_compute(str(gt_json), str(tmp_path / "pred.json"), str(gt_dir), str(pred_dir))
    n = counts[drop["category_id"]]
    want = (len(present) - 1 + (n - 1) / (n - 0.5)) / len(present)
    assert got["All"]["pq"] == pytest.approx(want) and got["All"]["sq"] == pytest.approx(1.0)


def test_hf_layout_loads_in_datasets(street, tmp_path):
    datasets = pytest.importorskip("datasets", reason="the datasets package is not installed (pip install -e '.[hf]')")
    ds = datasets.load_dataset("imagefolder", data_dir=str(street), cache_dir=str(tmp_path / "cache"))
    gt = json.loads((street / "annotations.json").read_text())
    boxes: dict = {}
    for a in gt["annotations"]:
        boxes.setdefault(a["image_id"], []).append(a["bbox"])
    assert sum(len(s) for s in ds.values()) == len(gt["images"])
    for split in ds.values():
        for row in split:
            assert row["objects"]["bbox"] == boxes.get(row["image_id"], [])
            assert np.asarray(row["semantic"]).shape == (row["height"], row["width"])
