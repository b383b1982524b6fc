"""End to end through the CLI on the bundled assets, checked with pycocotools."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from synthgen.cli import main

N = 200  # as in the issue: a default run of 200 images


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("e2e") / "out"
    _run("generate", "--out", str(out), "-n", str(N), "--format", "coco,yolo", "-q",
         "--set", "output.id_maps=true", "--set", "labels.amodal_masks=true")
    return out


def test_layout_and_summary(dataset):
    assert sorted(p.name for p in dataset.iterdir() if not p.name.startswith(".")) == [
        "annotations.json", "config.yaml", "data.yaml", "images", "labels", "manifest.json", "masks",
        "metadata.jsonl", "shards", "train.json", "train.txt", "val.json", "val.txt",
    ]
    assert len(list((dataset / "images").glob("*.jpg"))) == N
    assert not list(dataset.rglob(".*"))  # no temporary file left behind
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert manifest["complete"] and manifest["images_done"] == N


def test_every_label_is_exact_in_pycocotools(dataset):
    coco = COCO(str(dataset / "annotations.json"))
    assert len(coco.getImgIds()) == N
    assert len(coco.getAnnIds()) > N  # several objects per image
    for img_id in coco.getImgIds():
        img = coco.loadImgs(img_id)[0]
        assert (dataset / "images" / img["file_name"]).exists()
        union = np.zeros((img["height"], img["width"]), np.int32)
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=img_id)):
            m = coco.annToMask(ann).astype(bool)
            ys, xs = np.nonzero(m)
            tight = [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]
            assert ann["bbox"] == tight, ann["id"]
            assert ann["area"] == int(m.sum()), ann["id"]
            assert ann["iscrowd"] == 0
            assert isinstance(ann["segmentation"]["counts"], str)
            union += m
            # the visible mask lies inside the amodal one
            amodal = mask_utils.decode({**ann["amodal_segmentation"], "counts": ann["amodal_segmentation"]["counts"].encode()})
            assert not (m & ~amodal.astype(bool)).any()
        assert union.max() <= 1, f"visible masks overlap in image {img_id}"


def test_id_maps_agree_with_annotations(dataset):
    import cv2

    coco = COCO(str(dataset / "annotations.json"))
    for img_id in coco.getImgIds()[:6]:
        img = coco.loadImgs(img_id)[0]
        id_map = cv2.imread(str(dataset / "masks" / (Path(img["file_name"]).stem + ".png")), cv2.IMREAD_UNCHANGED)
        assert id_map.dtype == np.uint16
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
        assert set(np.unique(id_map)) - {0} == {a["id"] % 1000 for a in anns}
        for a in anns:
            assert np.array_equal(id_map == a["id"] % 1000, coco.annToMask(a).astype(bool))


def test_yolo_labels_agree_with_coco_boxes(dataset):
    coco = COCO(str(dataset / "annotations.json"))
    data = yaml.safe_load((dataset / "data.yaml").read_text())
    names = [c["name"] for c in coco.loadCats(coco.getCatIds())]
    assert data["names"] == dict(enumerate(names)) and data["nc"] == len(names)
    assert "path" not in data  # Ultralytics then resolves train/val against data.yaml's own folder
    for img in coco.loadImgs(coco.getImgIds()):
        W, H = img["width"], img["height"]
        lines = (dataset / "labels" / (Path(img["file_name"]).stem + ".txt")).read_text().splitlines()
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img["id"]))
        assert len(lines) == len(anns)
        for line, ann in zip(lines, anns):
            c, cx, cy, w, h = line.split()
            x, y, bw, bh = ann["bbox"]
            assert int(c) == ann["category_id"] - 1
            assert float(cx) == pytest.approx((x + bw / 2) / W, abs=1e-6)
            assert float(cy) == pytest.approx((y + bh / 2) / H, abs=1e-6)
            assert float(w) == pytest.approx(bw / W, abs=1e-6)
            assert float(h) == pytest.approx(bh / H, abs=1e-6)


def test_metadata_has_one_line_per_image_with_its_parameters(dataset):
    lines = (dataset / "metadata.jsonl").read_text().splitlines()
    assert len(lines) == N
    first = json.loads(lines[0])
    assert first["index"] == 0 and first["file_name"] == "00000000.jpg"
    assert first["scene"]["placements"] and "blend" in first["scene"]["placements"][0]


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_one_and_two_workers_write_byte_identical_files(tmp_path):
    out = tmp_path / "out"
    args = ["generate", "--out", str(out), "-n", "16", "--format", "coco,yolo", "-q", "--set", "output.id_maps=true"]
    _run(*args, "--workers", "1")
    one = _digests(out)
    shutil.rmtree(out)
    _run(*args, "--workers", "2")
    two = _digests(out)
    assert one == two
    shards = len(list((out / "shards").glob("*.done.json")))
    assert shards == 2 and len(one) == 16 * 3 + 3 * shards + 5 + 4  # + train/val .json and .txt


def test_a_different_config_is_refused_on_an_existing_output(tmp_path):
    out = tmp_path / "out"
    _run("generate", "--out", str(out), "-n", "2", "-q")
    result = CliRunner().invoke(main, ["generate", "--out", str(out), "-n", "2", "-q", "--seed", "9"])
    assert result.exit_code == 2
    assert "different config" in result.output and "--overwrite" in result.output
    _run("generate", "--out", str(out), "-n", "2", "-q", "--seed", "9", "--overwrite")


def test_config_error_exits_cleanly_with_the_key(tmp_path):
    result = CliRunner().invoke(main, ["generate", "--out", str(tmp_path / "o"), "-n", "2", "--set", "scene.bogus=1"])
    assert result.exit_code == 2
    assert "scene.bogus: unknown key" in result.output
    assert not (tmp_path / "o").exists()


def test_preview_writes_a_sheet(tmp_path):
    out = tmp_path / "sheet.png"
    text = _run("preview", "-o", str(out), "-n", "4", "--cols", "2")
    import cv2

    sheet = cv2.imread(str(out))
    assert sheet is not None and sheet.shape[1] > 700
    assert "4 samples" in text
