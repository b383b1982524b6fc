"""validate: COCO, YOLO, images/ and the WebDataset tars of one output agree on its images."""

from __future__ import annotations

import io
import json
import shutil
import tarfile

import pytest
from conftest import tiny_config_dict

from synthgen.config import load_config
from synthgen.runner import generate
from synthgen.tools.validate import validate_path


@pytest.fixture
def run(tiny_assets, tmp_path):
    data = tiny_config_dict(tiny_assets)
    # one part (no train/val lists): data.yaml's images are the folder, so a file moved out of
    # it is missing from the YOLO side
    data["output"] = {"formats": ["coco", "yolo", "webdataset"], "val_fraction": 0.0}
    out = tmp_path / "run"
    generate(load_config(data=data), out, 6)
    assert validate_path(out).ok
    return out


def _image_set(report) -> list[str]:
    return [str(p) for p in report.problems if p.kind == "image_set"]


def _drop_coco_images(out, keep: int) -> list[str]:
    """annotations.json as a smaller run would write it, the old files left behind."""
    doc = json.loads((out / "annotations.json").read_text())
    dropped = [im["file_name"] for im in doc["images"][keep:]]
    ids = {im["id"] for im in doc["images"][:keep]}
    doc["images"] = doc["images"][:keep]
    doc["annotations"] = [a for a in doc["annotations"] if a["image_id"] in ids]
    (out / "annotations.json").write_text(json.dumps(doc))
    return dropped


def test_stale_images_labels_and_samples_of_a_larger_run_are_named(run):
    dropped = _drop_coco_images(run, 4)
    report = validate_path(run, max_problems=100)
    assert not report.ok
    found = _image_set(report)
    for name in dropped:
        stem = name.rsplit(".", 1)[0]
        assert any(f"images/{name}: image file is listed by no annotation file" in f for f in found), found
        assert any(f.startswith(f"[image_set] images/{name}:") and "data.yaml's images include it but annotations.json has no entry" in f for f in found)
        assert any(f"sample {stem}: WebDataset sample has no image in annotations.json" in f for f in found)


def test_a_coco_image_missing_from_yolo_and_webdataset_is_named(run):
    doc = json.loads((run / "annotations.json").read_text())
    name = doc["images"][2]["file_name"]
    moved = run.parent / "elsewhere"
    moved.mkdir()
    shutil.move(str(run / "images" / name), moved / name)  # gone from images/, so from data.yaml's images
    report = validate_path(run, max_problems=100)
    found = _image_set(report)
    assert any(f"images/{name}: annotations.json lists it as {name!r} but data.yaml's images do not include it" in f for f in found), found
    # a tar without one sample
    tar = sorted((run / "webdataset").glob("*.tar"))[0]
    with tarfile.open(tar) as tf:
        members = [(m, tf.extractfile(m).read()) for m in tf.getmembers()]
    gone = min(m.name.split(".")[0] for m, _ in members)  # the first sample of the first tar
    with tarfile.open(tar, "w") as tf:
        for m, data in members:
            if not m.name.startswith(gone + "."):
                tf.addfile(m, io.BytesIO(data))
    found = _image_set(validate_path(run, max_problems=100))
    assert any(f"annotations.json image {gone}." in f and "no WebDataset sample for it" in f for f in found), found


def test_a_yolo_label_without_an_image_is_named(run):
    (run / "labels" / "99999999.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    report = validate_path(run)
    assert any(p.kind == "missing_file" and p.where == "labels/99999999.txt" for p in report.problems)


def test_a_plain_coco_file_with_images_elsewhere_is_not_asked_to_list_the_whole_folder(run, tmp_path):
    doc = json.loads((run / "annotations.json").read_text())
    part = tmp_path / "part.json"
    part.write_text(json.dumps({**doc, "images": doc["images"][:2],
                                "annotations": [a for a in doc["annotations"] if a["image_id"] in {im["id"] for im in doc["images"][:2]}]}))
    report = validate_path(part, images=run / "images")
    assert not _image_set(report)
