"""The reading layer (synthgen.io): malformed masks are refused by name before pycocotools sees
them, YOLO follows Ultralytics' layout rules, and every tool reads images with one EXIF policy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from synthgen.cli import main
from synthgen.errors import AssetError
from synthgen.io.coco import read_coco
from synthgen.io.images import image_size, read_rgb
from synthgen.io.layout import detect_layout
from synthgen.io.real import load_coco
from synthgen.io.rle import MaskError, decode_segmentation, encode_rle, to_rle
from synthgen.io.yolo import image_files, label_path
from synthgen.tools.report import open_source
from synthgen.tools.validate import validate_path

H, W = 40, 50


def _coco(root: Path, segmentation, name: str = "a.png") -> Path:
    (root / "images").mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((H, W, 3), 90, np.uint8)).save(root / "images" / name)
    ann = {"id": 7, "image_id": 3, "category_id": 1, "segmentation": segmentation, "bbox": [1, 1, 5, 5], "area": 25, "iscrowd": 0}
    data = {"images": [{"id": 3, "file_name": name, "width": W, "height": H}], "annotations": [ann],
            "categories": [{"id": 1, "name": "thing"}]}
    (root / "annotations.json").write_text(json.dumps(data))
    return root


MALFORMED = [
    ({"size": [H, W], "counts": "\x7f\x7f"}, "format", "malformed"),
    ({"size": [H, W], "counts": "4"}, "mask_size", f"not {H}x{W}"),
    ({"size": [10, 10], "counts": encode_rle(np.ones((10, 10), bool))["counts"]}, "mask_size", "does not match its image"),
    ({"size": [H, W], "counts": [5, -3]}, "mask_size", "uncompressed RLE"),
    ([[1.0, 2.0, 3.0]], "format", "polygon"),
    ([[1, 2, 3, 4, "x", 6]], "format", "polygon"),
    ({"size": [H, W]}, "format", "neither a string nor a list"),
]


@pytest.mark.parametrize("seg, kind, text", MALFORMED)
def test_malformed_masks_are_refused_by_rle(seg, kind, text):
    with pytest.raises(MaskError, match=text) as caught:
        to_rle(seg, H, W)
    assert caught.value.kind == kind


@pytest.mark.parametrize("seg, kind, text", MALFORMED)
def test_malformed_masks_are_named_by_file_and_annotation(seg, kind, text, tmp_path):
    root = _coco(tmp_path / "ds", seg)
    with pytest.raises(AssetError, match=f"annotations.json annotation 7 \\(image 3\\): .*{text}"):
        load_coco(root / "annotations.json", root / "images")  # refused where it is read
    skipped = []
    ds = load_coco(root / "annotations.json", root / "images", skip=lambda err, file: skipped.append(str(err)))
    assert not ds.images and len(skipped) == 1 and "annotation 7" in skipped[0]
    report = validate_path(root)
    assert any(p.kind == kind and "annotation 7" in p.where for p in report.problems), report.lines()
    result = CliRunner().invoke(main, ["extract", "--coco", str(root / "annotations.json"), "--images", str(root / "images"),
                                       "--out", str(tmp_path / "cut")])
    assert result.exit_code == 2 and "annotation 7" in result.output, result.output


def test_good_masks_decode_as_pycocotools_would():
    m = np.zeros((H, W), bool)
    m[5:20, 8:30] = True
    assert np.array_equal(decode_segmentation(encode_rle(m), H, W), m)
    poly = [[8.0, 5.0, 30.0, 5.0, 30.0, 20.0, 8.0, 20.0]]
    assert decode_segmentation(poly, H, W).sum() > 0


def test_coco_reader_names_duplicate_ids_and_non_coco_files(tmp_path):
    root = _coco(tmp_path / "ds", [])
    data = json.loads((root / "annotations.json").read_text())
    data["annotations"].append({**data["annotations"][0], "category_id": 5})
    (root / "annotations.json").write_text(json.dumps(data))
    coco = read_coco(root / "annotations.json")
    assert [(i.kind, i.where) for i in coco.issues] == [("duplicate_id", f"{root / 'annotations.json'} annotation 7")]
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(AssetError, match="bad.json: not a COCO instances file"):
        read_coco(bad)


def test_yolo_labels_follow_the_last_images_folder(tmp_path):
    assert label_path(Path("/d/images/train/images/x.jpg")) == Path("/d/images/train/labels/x.txt")
    assert label_path(Path("/d/train/images/x.JPG")) == Path("/d/train/labels/x.txt")
    for split in ("train", "valid"):
        (tmp_path / split / "images").mkdir(parents=True)
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / split / "images" / f"{split}.png")
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "val.txt").write_text("./../valid/images/valid.png\n")
    files, notes, issues = image_files(tmp_path / "data.yaml", {"train": "../train/images", "val": "lists/val.txt", "names": ["a"]})
    assert [f.resolve() for f in files] == [tmp_path / "train" / "images" / "train.png", tmp_path / "valid" / "images" / "valid.png"]
    assert not notes and not issues


def _exif_rotated_coco(root: Path) -> tuple[Path, np.ndarray]:
    """A JPEG stored 64 wide x 48 high with EXIF orientation 6 (displayed 48 x 64, turned a
    quarter clockwise), labeled on its displayed pixels: a red block and its RLE mask."""
    (root / "images").mkdir(parents=True)
    shown = np.full((64, 48, 3), 40, np.uint8)
    mask = np.zeros((64, 48), bool)
    mask[4:20, 6:30] = True
    shown[mask] = (230, 20, 20)
    stored = np.ascontiguousarray(np.rot90(shown, 1))  # what exif_transpose turns back into `shown`
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(root / "images" / "photo.jpg", exif=exif.tobytes(), quality=95)
    rle = encode_rle(mask)
    ann = {"id": 1, "image_id": 1, "category_id": 1, "segmentation": rle, "bbox": [6.0, 4.0, 24.0, 16.0],
           "area": int(mask.sum()), "iscrowd": 0}
    data = {"images": [{"id": 1, "file_name": "photo.jpg", "width": 48, "height": 64}], "annotations": [ann],
            "categories": [{"id": 1, "name": "block"}]}
    (root / "annotations.json").write_text(json.dumps(data))
    return root, mask


def test_one_exif_policy_in_validate_report_and_real_data(tmp_path):
    root, mask = _exif_rotated_coco(tmp_path / "exif")
    photo = root / "images" / "photo.jpg"
    with Image.open(photo) as im:
        assert im.size == (64, 48)  # stored
    assert image_size(photo) == (48, 64)  # displayed
    # validate: the entry's size is the displayed one, so nothing is wrong
    report = validate_path(root)
    assert report.ok, report.lines()
    # report's gallery draws on exactly these pixels: the labels' red block is under the mask
    item = next(open_source(detect_layout(root)).items({0}))
    rgb = item.load()
    assert rgb.shape[:2] == (item.height, item.width) == (64, 48)
    assert rgb[mask][:, 0].mean() > 180 and rgb[~mask][:, 0].mean() < 80
    # real data (extract, real scenes) reads the same pixels
    real = load_coco(root / "annotations.json", root / "images").images[0]
    pixels = real.read()
    assert np.array_equal(pixels, rgb) and np.array_equal(pixels, read_rgb(photo))
    assert np.array_equal(real.instances[0].mask(real.height, real.width), mask)


def test_paths_from_dataset_files_stay_inside_their_folder(tmp_path):
    from synthgen.io.issues import DatasetError
    from synthgen.io.paths import inside

    root = tmp_path / "ds" / "images"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.png").write_bytes(b"x")
    (tmp_path / "secret.png").write_bytes(b"s")
    assert inside(root, "sub/a.png", "f image 1") == root / "sub" / "a.png"
    assert inside(root, "./sub//a.png", "f image 1") == root / "sub" / "a.png"
    assert inside(root, str(root / "sub" / "a.png"), "f image 1") == root / "sub" / "a.png"  # absolute, inside
    (root / "inner.png").symlink_to(root / "sub" / "a.png")  # a symlink that stays inside
    assert inside(root, "inner.png", "f image 1") == root / "inner.png"
    (root / "out.png").symlink_to(tmp_path / "secret.png")
    (root / "up").symlink_to(tmp_path)
    refused = {
        "../../secret.png": "climbs out",
        "sub/../../images/sub/a.png": "climbs out",  # leaves on its way, even if it comes back
        str(tmp_path / "secret.png"): "is outside",
        "out.png": f"leads to {tmp_path / 'secret.png'}",
        "up/secret.png": "leads to",
    }
    for name, text in refused.items():
        with pytest.raises(DatasetError, match="must stay inside it") as caught:
            inside(root, name, "f image 1")
        issue = caught.value.issue
        assert issue.kind == "path" and issue.where == "f image 1" and repr(name) in issue.message and text in issue.message


def test_a_dataset_folder_reached_through_a_symlink_is_its_own_root(tmp_path):
    from synthgen.io.paths import inside

    real = tmp_path / "disk" / "images"
    real.mkdir(parents=True)
    (real / "a.png").write_bytes(b"x")
    (tmp_path / "link").symlink_to(real)
    assert inside(tmp_path / "link", "a.png", "f image 1") == tmp_path / "link" / "a.png"
