"""Hostile inputs: every command that reads a dataset, run on files made to escape or to break it.

Each case is built inside a sandbox folder: a small COCO or YOLO dataset, and beside it a
``secret/`` folder that no dataset may reach (a valid image, so that reading it would succeed).
Every run must leave the sandbox's parent exactly as it was outside ``--out`` (no file made,
changed or removed: the inputs stay intact and nothing is written beside them), never copy a
file from outside its dataset, and end with a clear message naming the file and the image or
annotation id (exit 2; ``validate``: exit 1 with the problem listed). ``evaluate`` is fed
predictions that are not scores, and cutouts over the pixel limit are refused by name.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from conftest import make_assets, tiny_config_dict

from synthgen.assets import load_library
from synthgen.cli import main
from synthgen.config import load_config

W, H = 48, 40
SQUARE = [[8.0, 8.0, 30.0, 8.0, 30.0, 30.0, 8.0, 30.0]]
FAR = "../" * 40  # enough to reach / from any folder


# ---------------------------------------------------------------------------------------------
# The sandbox


def _png(path: Path, colour=(90, 120, 60), size=(H, W)) -> None:
    img = np.full((*size, 3), colour, np.uint8)
    img[8:30, 8:30] = (220, 40, 40)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img)


def _coco_data() -> dict:
    images = [{"id": i, "file_name": f"a{i}.png", "width": W, "height": H} for i in (1, 2)]
    anns = [{"id": 10 + i, "image_id": i, "category_id": 1, "segmentation": copy.deepcopy(SQUARE),
             "bbox": [8.0, 8.0, 22.0, 22.0], "area": 484.0, "iscrowd": 0} for i in (1, 2)]
    return {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "square"}]}


def _sandbox(tmp_path: Path) -> Path:
    box = tmp_path / "sandbox"
    _png(box / "secret" / "secret.png", colour=(255, 0, 255))
    _png(box / "secret" / "images" / "s.png", colour=(255, 0, 255))
    (box / "secret" / "labels").mkdir(parents=True)
    (box / "secret" / "labels" / "s.txt").write_text("0 0.2 0.2 0.6 0.2 0.6 0.7 0.2 0.7\n")
    (box / "secret" / "notes.jpg").write_text("not for you\n")
    for i in (1, 2):
        _png(box / "coco" / "images" / f"a{i}.png")
        _png(box / "yolo" / "images" / f"a{i}.png")
        (box / "yolo" / "labels").mkdir(parents=True, exist_ok=True)
        (box / "yolo" / "labels" / f"a{i}.txt").write_text("0 0.2 0.2 0.6 0.2 0.6 0.7 0.2 0.7\n")
    (box / "coco" / "annotations.json").write_text(json.dumps(_coco_data()))
    (box / "yolo" / "data.yaml").write_text("names: [square]\n")
    make_assets(box / "assets")
    return box


def _snapshot(root: Path, skip: Path) -> dict[str, str]:
    """Every entry under ``root`` but ``skip``: files by content, links by target, folders."""
    out = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if here == skip or skip in here.parents:
            continue
        for d in dirs:
            p = here / d
            if p == skip:
                continue
            out[str(p)] = f"link:{os.readlink(p)}" if p.is_symlink() else "dir"
        for f in files:
            p = here / f
            out[str(p)] = f"link:{os.readlink(p)}" if p.is_symlink() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _secret_hashes(box: Path) -> set[str]:
    return {hashlib.sha256(p.read_bytes()).hexdigest() for p in (box / "secret").rglob("*") if p.is_file()}


def _run(tmp_path: Path, box: Path, args: list[str]):
    """Run ``synthgen ARGS`` and check it left everything outside ``box/out`` as it was and
    copied nothing from ``secret/`` into it."""
    out = box / "out"
    before = _snapshot(tmp_path, out)
    result = CliRunner().invoke(main, args)
    assert _snapshot(tmp_path, out) == before, f"synthgen {' '.join(args)} changed files outside --out"
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    if out.is_dir():
        secrets = _secret_hashes(box)
        leaked = [p for p in out.rglob("*") if p.is_file() and not p.is_symlink()
                  and hashlib.sha256(p.read_bytes()).hexdigest() in secrets]
        assert not leaked, f"copied from outside the dataset: {leaked}"
    return result


def _scenes_config(box: Path, scenes: dict, **assets) -> Path:
    data = tiny_config_dict(box / "assets")
    data["assets"].update(scenes=scenes, **assets)
    path = box / "scenes.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _coco_commands(box: Path) -> dict[str, list[str]]:
    ann, images, out = str(box / "coco" / "annotations.json"), str(box / "coco" / "images"), str(box / "out")
    scenes = _scenes_config(box, {"coco": ann, "images": images, "p": 1.0})
    return {
        "combine": ["combine", str(box / "coco"), "--out", out],
        "extract": ["extract", "--coco", ann, "--images", images, "--out", out, "--min-area", "10"],
        "validate": ["validate", str(box / "coco")],
        "report": ["report", str(box / "coco"), "-o", str(box / "out" / "report.html")],
        "generate": ["generate", str(scenes), "--out", out, "-n", "2", "-q"],
    }


def _yolo_commands(box: Path) -> dict[str, list[str]]:
    out = str(box / "out")
    scenes = _scenes_config(box, {"yolo": str(box / "yolo"), "p": 1.0})
    return {
        "combine": ["combine", str(box / "yolo"), "--out", out],
        "extract": ["extract", "--yolo", str(box / "yolo"), "--out", out, "--min-area", "10"],
        "validate": ["validate", str(box / "yolo")],
        "report": ["report", str(box / "yolo"), "-o", str(box / "out" / "report.html")],
        "generate": ["generate", str(scenes), "--out", out, "-n", "2", "-q"],
    }


def _expect_refusal(result, command: str, *named: str) -> None:
    """exit 2 with a message naming each of ``named`` (validate: exit 1, the problem listed)."""
    assert result.exit_code == (1 if command == "validate" else 2), result.output
    assert "Traceback" not in result.output
    for text in named:
        assert text in result.output, f"{command}: {text!r} not named in:\n{result.output}"


# ---------------------------------------------------------------------------------------------
# Paths that leave the dataset


def _coco_path_case(box: Path, case: str) -> str:
    """Point image 2's file_name outside the dataset; returns the name as the file says it."""
    secret = box / "secret" / "secret.png"
    names = {
        "traversal": os.path.relpath(secret, box / "coco" / "images"),
        "far_traversal": FAR + str(secret).lstrip("/"),
        "absolute": str(secret),
        "symlink": "link.png",
    }
    if case == "symlink":
        (box / "coco" / "images" / "link.png").symlink_to(secret)
    data = _coco_data()
    data["images"][1]["file_name"] = names[case]
    (box / "coco" / "annotations.json").write_text(json.dumps(data))
    return names[case]


@pytest.mark.parametrize("command", ["combine", "extract", "validate", "report", "generate"])
@pytest.mark.parametrize("case", ["traversal", "far_traversal", "absolute", "symlink"])
def test_coco_file_names_leaving_the_dataset_are_refused(tmp_path, case, command):
    box = _sandbox(tmp_path)
    said = _coco_path_case(box, case)
    args = _coco_commands(box)[command]
    result = _run(tmp_path, box, args)
    _expect_refusal(result, command, "annotations.json image 2", said, "paths in dataset files must stay inside it")


def _yolo_path_case(box: Path, case: str) -> str:
    """Make the YOLO dataset name something outside it; returns what the files say."""
    y, secret = box / "yolo", box / "secret"
    if case == "list_traversal":
        (y / "train.txt").write_text("images/a1.png\n../secret/secret.png\n")
        (y / "data.yaml").write_text("names: [square]\ntrain: train.txt\n")
        return "../secret/secret.png"
    if case == "list_absolute":
        (y / "train.txt").write_text(f"images/a1.png\n{secret / 'secret.png'}\n")
        (y / "data.yaml").write_text("names: [square]\ntrain: train.txt\n")
        return str(secret / "secret.png")
    if case == "yaml_path":  # `path` outside, and the folder it names only there
        shutil.rmtree(y / "images")
        (y / "data.yaml").write_text("names: [square]\npath: ../secret\ntrain: images\n")
        return "images"
    if case == "yaml_train":
        (y / "data.yaml").write_text("names: [square]\ntrain: ../secret/images\n")
        return "../secret/images"
    if case == "image_symlink":
        (y / "images" / "link.png").symlink_to(secret / "secret.png")
        return "link.png"
    if case == "label_symlink":
        (y / "labels" / "a2.txt").unlink()
        (y / "labels" / "a2.txt").symlink_to(secret / "labels" / "s.txt")
        return "a2.txt"
    raise AssertionError(case)


@pytest.mark.parametrize("command", ["combine", "extract", "validate", "report", "generate"])
@pytest.mark.parametrize("case", ["list_traversal", "list_absolute", "yaml_path", "yaml_train", "image_symlink", "label_symlink"])
def test_yolo_paths_leaving_the_dataset_are_refused(tmp_path, case, command):
    box = _sandbox(tmp_path)
    said = _yolo_path_case(box, case)
    result = _run(tmp_path, box, _yolo_commands(box)[command])
    _expect_refusal(result, command, said, "paths in dataset files must stay inside it")


def test_extract_from_mask_folders_reads_no_symlink_out_of_them(tmp_path):
    box = _sandbox(tmp_path)
    masks = box / "masks"
    masks.mkdir()
    ids = np.zeros((H, W), np.uint16)
    ids[8:30, 8:30] = 1
    cv2.imwrite(str(masks / "a1.png"), ids)
    (masks / "a2.png").symlink_to(box / "secret" / "secret.png")
    args = ["extract", "--images", str(box / "coco" / "images"), "--masks", str(masks), "--class", "square",
            "--out", str(box / "out")]
    _expect_refusal(_run(tmp_path, box, args), "extract", "a2.png", "paths in dataset files must stay inside it")


def test_merge_with_hostile_entries_writes_only_into_out(tmp_path):
    """merge copies a run's entries and links its files: a file_name that climbs out and a
    symlink in images/ are carried over as they are, and nothing outside --out is touched."""
    box = _sandbox(tmp_path)
    run = box / "run"
    cfg = box / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config_dict(box / "assets")))
    assert CliRunner().invoke(main, ["generate", str(cfg), "--out", str(run), "-n", "2", "-q", "--no-merge"]).exit_code == 0
    frag = next((run / "shards").glob("shard-*.coco.json"))
    data = json.loads(frag.read_text())
    data["images"][0]["file_name"] = FAR + "etc/hostname"
    frag.write_text(json.dumps(data))
    # merge checks shards as a resume does: the edit is refused unless the done record agrees
    refused = _run(tmp_path, box, ["merge", str(run), "--out", str(box / "out")])
    assert refused.exit_code != 0 and "changed since it was written" in refused.output, refused.output
    import hashlib

    done = frag.with_name(frag.name.replace(".coco.json", ".done.json"))
    rec = json.loads(done.read_text())
    rec["files"][f"shards/{frag.name}"] = [frag.stat().st_size, hashlib.sha256(frag.read_bytes()).hexdigest()]
    done.write_text(json.dumps(rec))
    (run / "images" / "evil.png").symlink_to(box / "secret" / "secret.png")
    result = _run(tmp_path, box, ["merge", str(run), "--out", str(box / "out")])
    assert result.exit_code == 0, result.output
    checked = CliRunner().invoke(main, ["validate", str(box / "out")])
    assert checked.exit_code == 1 and "[path]" in checked.output and "climbs out" in checked.output


# ---------------------------------------------------------------------------------------------
# Malformed annotations and images


def _malform(box: Path, case: str) -> tuple[str, ...]:
    """Break image 2 or its annotation 12; returns what a refusal must name."""
    data = _coco_data()
    ann, im = data["annotations"][1], data["images"][1]
    if case == "short_uncompressed_rle":  # pycocotools would decode uninitialised memory
        ann["segmentation"] = {"size": [H, W], "counts": [100, 50]}
    elif case == "polygon_two_points":
        ann["segmentation"] = [[1.0, 1.0, 20.0, 20.0]]
    elif case == "polygon_odd_length":
        ann["segmentation"] = [[1.0, 1.0, 20.0, 20.0, 5.0, 30.0, 7.0]]
    elif case == "empty_polygon":
        ann["segmentation"] = [[]]
    elif case == "garbage_rle":
        ann["segmentation"] = {"size": [H, W], "counts": "\x7f\x7f not rle"}
    elif case == "mask_wrong_size":
        ann["segmentation"] = {"size": [H * 2, W], "counts": [H * W * 2]}
    elif case == "unknown_category":
        ann["category_id"] = 999
    elif case == "garbage_bbox":
        ann["bbox"] = ["x", 1, 2, 3]
    elif case == "stated_size_wrong":
        im["width"] = W * 3
        (box / "coco" / "annotations.json").write_text(json.dumps(data))
        return ("image 2",)
    elif case == "not_an_image":
        (box / "coco" / "images" / "a2.jpg").write_text("this is text, not a JPEG\n")
        im["file_name"] = "a2.jpg"
        (box / "coco" / "annotations.json").write_text(json.dumps(data))
        return ("image 2", "a2.jpg")
    else:
        raise AssertionError(case)
    (box / "coco" / "annotations.json").write_text(json.dumps(data))
    return ("annotation 12",)


MALFORMED = ["short_uncompressed_rle", "polygon_two_points", "polygon_odd_length", "empty_polygon", "garbage_rle",
             "mask_wrong_size", "unknown_category", "garbage_bbox", "stated_size_wrong", "not_an_image"]


@pytest.mark.parametrize("command", ["combine", "extract", "validate", "generate"])
@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_annotations_are_refused_where_they_are_read(tmp_path, case, command):
    box = _sandbox(tmp_path)
    named = _malform(box, case)
    result = _run(tmp_path, box, _coco_commands(box)[command])
    _expect_refusal(result, command, "annotations.json", *named)


@pytest.mark.parametrize("case", MALFORMED)
def test_report_on_malformed_annotations_ends_clearly(tmp_path, case):
    box = _sandbox(tmp_path)
    _malform(box, case)
    result = _run(tmp_path, box, _coco_commands(box)["report"])
    assert result.exit_code in (0, 2) and "Traceback" not in result.output, result.output


@pytest.mark.parametrize("case", ["short_uncompressed_rle", "unknown_category", "stated_size_wrong", "not_an_image", "absolute"])
def test_real_scenes_with_on_error_skip_leave_bad_images_out_and_list_them(tmp_path, case):
    box = _sandbox(tmp_path)
    if case == "absolute":
        _coco_path_case(box, case)
    else:
        _malform(box, case)
    scenes = {"coco": str(box / "coco" / "annotations.json"), "images": str(box / "coco" / "images"), "p": 1.0}
    cfg = load_config(data={**tiny_config_dict(box / "assets"),
                            "assets": {**tiny_config_dict(box / "assets")["assets"], "scenes": scenes, "on_error": "skip"}})
    with pytest.warns(UserWarning, match="image 2|annotation 12"):
        lib = load_library(cfg.assets)
    assert [im.image_id for im in lib.scenes.images] == [1]
    assert len(lib.skipped) == 1 and "annotations.json" in lib.skipped[0][0]
    path = _scenes_config(box, scenes, on_error="skip")
    result = _run(tmp_path, box, ["generate", str(path), "--out", str(box / "out"), "-n", "2", "-q"])
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------------------------------------
# Predictions that are not scores


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-suite")
    cfg = root / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config_dict(make_assets(root / "assets"))))
    result = CliRunner().invoke(main, ["stress", str(cfg), "--out", str(root / "suite"), "-n", "2",
                                       "--conditions", "fog", "--severities", "1", "-q"])
    assert result.exit_code == 0, result.output
    return root / "suite", json.loads((root / "suite" / "annotations.json").read_text())


def _good_predictions(gt: dict) -> list[dict]:
    return [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 0.9,
             "segmentation": a["segmentation"]} for a in gt["annotations"]]


BAD_PREDICTIONS = [
    ("score", float("nan"), "score nan is not a finite number"),
    ("score", "0.9", "score '0.9' is not a finite number"),
    ("score", None, "score None is not a finite number"),
    ("bbox", [10, 10, -5, 4], "negative width or height"),
    ("bbox", [10, 10, 5], "is not [x, y, width, height]"),
    ("bbox", [10, "a", 5, 5], "is not [x, y, width, height]"),
    ("segmentation", {"size": [7, 7], "counts": [49]}, "does not match its image"),
    ("segmentation", [[1, 2, 3, 4]], "polygon"),
]


@pytest.mark.parametrize("field, value, text", BAD_PREDICTIONS)
def test_evaluate_names_the_prediction_and_field_that_cannot_be_scored(suite, tmp_path, field, value, text):
    out, gt = suite
    preds = _good_predictions(gt)
    preds[1][field] = value
    p = tmp_path / "preds.json"
    p.write_text(json.dumps(preds))
    before = p.read_bytes()
    result = CliRunner().invoke(main, ["evaluate", str(out), "-p", str(p), "-o", str(tmp_path / "report")])
    assert result.exit_code == 2, result.output
    assert "preds.json: entry 1 (image" in result.output and text in result.output, result.output
    assert "expected a COCO results list" in result.output
    assert p.read_bytes() == before and not (tmp_path / "report").exists()


def test_evaluate_names_predictions_that_are_no_objects(suite, tmp_path):
    out, _ = suite
    p = tmp_path / "preds.json"
    p.write_text(json.dumps([[1, 2, 3]]))
    result = CliRunner().invoke(main, ["evaluate", str(out), "-p", str(p)])
    assert result.exit_code == 2 and "entry 0: is list, not an object" in result.output, result.output
    p.write_text(json.dumps([{"image_id": [1], "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]))
    result = CliRunner().invoke(main, ["evaluate", str(out), "-p", str(p)])
    assert result.exit_code == 2 and "unknown image ids, e.g. ['[1]']" in result.output, result.output


# ---------------------------------------------------------------------------------------------
# Images over the pixel limit


def _png_header_only(path: Path, w: int, h: int) -> None:
    """A PNG that claims to be w x h with almost no data (decoding it would allocate w x h)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def test_a_144_megapixel_cutout_is_refused_by_name_and_size(tmp_path):
    box = _sandbox(tmp_path)
    _png_header_only(box / "assets" / "objects" / "square" / "huge.png", 12000, 12000)
    cfg = box / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config_dict(box / "assets")))
    result = _run(tmp_path, box, ["generate", str(cfg), "--out", str(box / "out"), "-n", "1", "-q"])
    assert result.exit_code == 2, result.output
    assert "huge.png: image is 12000x12000 = 144 Mpx, over the limit of 40 Mpx (assets.max_pixels)" in result.output


def test_max_pixels_is_a_config_key_and_applies_to_backgrounds_and_real_scenes(tmp_path):
    box = _sandbox(tmp_path)
    cfg = load_config(data={**tiny_config_dict(box / "assets")})
    assert cfg.assets.max_pixels == 40_000_000 and "max_pixels" not in cfg.to_dict()["assets"]
    small = load_config(data=tiny_config_dict(box / "assets"), overrides=["assets.max_pixels=1000"])
    assert small.to_dict()["assets"]["max_pixels"] == 1000
    from synthgen.errors import AssetError

    with pytest.raises(AssetError, match=r"0.png: image is 50x60 = 0.003 Mpx, over the limit of 0.001 Mpx"):
        load_library(small.assets)
    data = tiny_config_dict(box / "assets")
    data["assets"].update(max_pixels=20_000)  # the cutouts are smaller, one background is 160x140
    with pytest.raises(AssetError, match=r"bg1.jpg: image is 160x140 = 0.0224 Mpx, over the limit of 0.02 Mpx"):
        load_library(load_config(data=data).assets)
    _png(box / "coco" / "images" / "a1.png", size=(150, 200))
    coco = _coco_data()
    coco["images"][0].update(width=200, height=150)
    (box / "coco" / "annotations.json").write_text(json.dumps(coco))
    scenes = {"coco": str(box / "coco" / "annotations.json"), "images": str(box / "coco" / "images"), "p": 1.0}
    data["assets"].update(scenes=scenes, max_pixels=25_000)
    with pytest.raises(AssetError, match=r"annotations.json image 1 \(a1.png\): .*a1.png: image is 200x150 = 0.03 Mpx"):
        load_library(load_config(data=data).assets)


@pytest.mark.parametrize("name", ["..", "../..", ".hidden", "/etc"])
def test_category_names_never_become_paths_outside_out(tmp_path, name):
    box = _sandbox(tmp_path)
    data = _coco_data()
    data["categories"][0]["name"] = name
    (box / "coco" / "annotations.json").write_text(json.dumps(data))
    result = _run(tmp_path, box, _coco_commands(box)["extract"])
    assert result.exit_code == 0 and "kept 2 cutouts" in result.output, result.output
    folders = {p.parent for p in (box / "out").rglob("*.png")}
    assert len(folders) == 1 and next(iter(folders)).parent == box / "out" and not next(iter(folders)).name.startswith(".")


def test_evaluate_checks_the_suite_it_reads(suite, tmp_path):
    out, gt = suite
    bad = tmp_path / "suite"
    shutil.copytree(out, bad)
    data = copy.deepcopy(gt)
    aid = data["annotations"][0]["id"]
    data["annotations"][0]["segmentation"] = {"size": data["annotations"][0]["segmentation"]["size"], "counts": [5, 3]}
    (bad / "annotations.json").write_text(json.dumps(data))
    p = tmp_path / "preds.json"
    p.write_text(json.dumps(_good_predictions(gt)))
    result = CliRunner().invoke(main, ["evaluate", str(bad), "-p", str(p), "-o", str(tmp_path / "report")])
    assert result.exit_code == 2 and f"annotations.json annotation {aid}" in result.output, result.output
    assert "uncompressed RLE counts do not cover" in result.output
