"""`synthgen validate`: sound on what the generator writes, and catches each deliberate fault."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from pycocotools import mask as mask_utils

from synthgen.cli import main
from synthgen.config import load_config
from synthgen.runner import generate
from synthgen.io.rle import rle_counts
from synthgen.tools.validate import Problem, validate_path

from conftest import make_assets, tiny_config_dict

N = 24


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> Path:
    return make_assets(tmp_path_factory.mktemp("assets") / "assets")


def _make(assets: Path, out: Path, n: int = N, merge: bool | None = None, **output) -> Path:
    data = tiny_config_dict(assets)
    data["output"] = {"formats": ["coco", "yolo", "webdataset"], "id_maps": True, **output}
    generate(load_config(data=data), out, n, shard_size=10, merge=merge)
    return out


@pytest.fixture(scope="module")
def dataset(assets, tmp_path_factory) -> Path:
    return _make(assets, tmp_path_factory.mktemp("ds") / "out")


@pytest.fixture
def broken(dataset, tmp_path) -> Path:
    """A copy of the generated dataset to break."""
    return Path(shutil.copytree(dataset, tmp_path / "copy"))


def _cli(*args: str):
    return CliRunner().invoke(main, ["validate", *args])


def _coco(ds: Path) -> dict:
    return json.loads((ds / "annotations.json").read_text())


def _save(ds: Path, coco: dict) -> None:
    (ds / "annotations.json").write_text(json.dumps(coco))


def _two_on_one_image(coco: dict) -> tuple[dict, dict]:
    by_image: dict = {}
    for a in coco["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a)
    anns = next(v for v in by_image.values() if len(v) >= 2)
    return anns[0], anns[1]


def _assert_caught(ds: Path, kind: str, *args: str) -> None:
    result = _cli(str(ds), *args)
    assert result.exit_code == 1, result.output
    assert f"[{kind}]" in result.output, result.output
    report = validate_path(ds)
    assert not report.ok and report.problem_counts[kind] >= 1, report.lines()
    assert any(isinstance(p, Problem) and p.kind == kind and p.where for p in report.problems)


# ------------------------------------------------------------------------------ sound datasets


def test_generated_dataset_is_sound(dataset):
    result = _cli(str(dataset))
    assert result.exit_code == 0, result.output
    assert "no problems" in result.output
    report = validate_path(dataset)
    assert report.ok and report.synthgen
    coco = _coco(dataset)
    assert report.counts["images"] == N == report.counts["webdataset samples"] == report.counts["yolo images"]
    assert report.counts["annotations"] == len(coco["annotations"]) == report.counts["yolo labels"]
    assert report.counts["id maps"] == N
    assert [ly.split()[0] for ly in report.layouts] == ["coco", "yolo", "webdataset"]


def test_each_layout_on_its_own_is_sound(dataset):
    for path in [dataset / "annotations.json", dataset / "data.yaml", sorted((dataset / "webdataset").glob("*.tar"))[0]]:
        report = validate_path(path)
        assert report.ok, (path, report.lines())
        assert len(report.layouts) == 1


def test_unmerged_run_and_yolo_segment_are_sound(assets, tmp_path):
    out = _make(assets, tmp_path / "seg", n=20, merge=False, yolo_task="segment")
    assert not (out / "annotations.json").exists()
    report = validate_path(out)
    assert report.ok, report.lines()
    assert "unmerged" in report.layouts[0] and report.counts["images"] == 20


def test_not_a_dataset_is_an_error(tmp_path):
    result = _cli(str(tmp_path))
    assert result.exit_code == 2 and "no dataset found" in result.output


# ------------------------------------------------------------------------------ faults


def test_moved_box(broken):
    coco = _coco(broken)
    coco["annotations"][0]["bbox"][0] += 1
    _save(broken, coco)
    _assert_caught(broken, "bbox")


def test_wrong_area(broken):
    coco = _coco(broken)
    coco["annotations"][3]["area"] += 5
    _save(broken, coco)
    _assert_caught(broken, "area")


def test_missing_image_file(broken):
    name = _coco(broken)["images"][2]["file_name"]
    (broken / "images" / name).unlink()
    _assert_caught(broken, "missing_file")


def test_duplicate_annotation_id(broken):
    coco = _coco(broken)
    coco["annotations"][1]["id"] = coco["annotations"][0]["id"]
    _save(broken, coco)
    _assert_caught(broken, "duplicate_id")


def test_overlapping_masks(broken):
    coco = _coco(broken)
    a, b = _two_on_one_image(coco)
    # b grows to cover a's pixels too: still its own tight box and pixel count, but shared pixels
    ma = mask_utils.decode({**a["segmentation"], "counts": a["segmentation"]["counts"].encode()})
    mb = mask_utils.decode({**b["segmentation"], "counts": b["segmentation"]["counts"].encode()})
    m = np.asfortranarray(ma | mb)
    rle = mask_utils.encode(m)
    b["segmentation"] = {"size": list(m.shape), "counts": rle["counts"].decode()}
    b["bbox"] = [int(v) for v in mask_utils.toBbox(rle)]
    b["area"] = int(m.sum())
    _save(broken, coco)
    result = _cli(str(broken), "--max-problems", "100")
    assert result.exit_code == 1
    assert "[overlap]" in result.output and f"annotations {a['id']} and {b['id']}" in result.output
    report = validate_path(broken)
    assert report.problem_counts["overlap"] == 1
    # b's box and area agree with its new mask; only the id map (masks/) still knows better
    assert all("id-map" in p.message for p in report.problems if p.kind in ("bbox", "area"))


@pytest.mark.parametrize("line", ["0 0.5 0.5 0.2", "1 0.5 1.5 0.2 0.2", "7 0.5 0.5 0.2 0.2", "x 0.5 0.5 0.2 0.2"])
def test_bad_yolo_line(broken, line):
    label = sorted((broken / "labels").glob("*.txt"))[4]
    label.write_text(label.read_text() + line + "\n")
    _assert_caught(broken, "yolo_line")


def test_yolo_box_disagreeing_with_coco(broken):
    label = sorted((broken / "labels").glob("*.txt"))[0]
    lines = label.read_text().splitlines()
    c, cx, cy, w, h = lines[0].split()
    lines[0] = f"{c} {float(cx) + 0.01:.6f} {cy} {w} {h}"
    label.write_text("\n".join(lines) + "\n")
    _assert_caught(broken, "yolo_mismatch")


def test_wrong_image_size(broken):
    name = _coco(broken)["images"][5]["file_name"]
    img = cv2.imread(str(broken / "images" / name))
    cv2.imwrite(str(broken / "images" / name), cv2.resize(img, (50, 40)))
    _assert_caught(broken, "image_size")


def test_id_map_disagreeing_with_annotations(broken):
    name = Path(_coco(broken)["images"][0]["file_name"]).stem
    path = broken / "masks" / f"{name}.png"
    idm = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    idm[idm == idm.max()] = 0  # one instance loses its pixels
    cv2.imwrite(str(path), idm)
    _assert_caught(broken, "id_map")


def _rewrite_tar(path: Path, edit) -> None:
    with tarfile.open(path) as tf:
        members = [(m, tf.extractfile(m).read()) for m in tf.getmembers()]
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tf:
        for i, (m, data) in enumerate(members):
            data = edit(i, m.name, data)
            if data is None:
                continue
            m.size = len(data)
            tf.addfile(m, io.BytesIO(data))


def test_webdataset_faults(broken):
    tar = sorted((broken / "webdataset").glob("*.tar"))[0]

    def edit(i, name, data):
        if i == 0 and name.endswith(".ids.png"):
            return None  # the first sample loses its id map
        if name.endswith(".json") and i > 3:  # a later sample's first box moves
            doc = json.loads(data)
            if doc["annotations"]:
                doc["annotations"][0]["bbox"][1] += 1
                return json.dumps(doc).encode()
        return data

    _rewrite_tar(tar, edit)
    _assert_caught(broken, "wds_member")
    _assert_caught(broken, "bbox")


def test_max_problems_limits_the_list_not_the_count(broken):
    coco = _coco(broken)
    for a in coco["annotations"]:
        a["area"] += 1
    _save(broken, coco)
    result = _cli(str(broken), "--max-problems", "3")
    assert result.exit_code == 1
    assert result.output.count("[area]") == 3 and "more" in result.output
    assert validate_path(broken, max_problems=3).problem_counts["area"] == len(coco["annotations"])


# ------------------------------------------------------------------------------ a COCO dataset made elsewhere


def make_plain_coco(root: Path) -> Path:
    """COCO with polygon segmentations (float vertices, COCO-style boxes and areas), a crowd RLE,
    and overlapping objects, which real annotations may well have."""
    (root / "images").mkdir(parents=True)
    rng = np.random.default_rng(5)
    images, anns = [], []
    polys = [
        [[4.5, 6.2, 30.7, 6.2, 30.7, 28.9, 4.5, 28.9]],  # a rectangle
        [[20.0, 10.0, 55.3, 14.0, 38.0, 40.6]],  # a triangle overlapping it
        [[40.2, 30.1, 50.0, 30.1, 50.0, 44.0, 40.2, 44.0], [2.0, 35.0, 9.0, 35.0, 5.5, 44.0]],  # two parts
    ]
    for i in range(3):
        W, H = 64, 48
        cv2.imwrite(str(root / "images" / f"img{i}.png"), rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
        images.append({"id": 10 + i, "file_name": f"img{i}.png", "width": W, "height": H})
        for k, poly in enumerate(polys):
            xy = np.concatenate([np.reshape(p, (-1, 2)) for p in poly])
            (x0, y0), (x1, y1) = xy.min(0), xy.max(0)
            area = sum(0.5 * abs(np.dot(p[0::2], np.roll(p[1::2], 1)) - np.dot(p[1::2], np.roll(p[0::2], 1))) for p in map(np.array, poly))
            anns.append({"id": 100 * i + k, "image_id": 10 + i, "category_id": k % 2 + 1, "segmentation": poly,
                         "area": float(area), "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)], "iscrowd": 0})
        crowd = np.zeros((H, W), np.uint8)
        crowd[30:40, 20:36] = 1
        rle = mask_utils.encode(np.asfortranarray(crowd))
        anns.append({"id": 100 * i + 50, "image_id": 10 + i, "category_id": 2, "iscrowd": 1, "area": 160,
                     "segmentation": {"size": [H, W], "counts": rle["counts"].decode()}, "bbox": [20, 30, 16, 10]})
    cats = [{"id": 1, "name": "box"}, {"id": 2, "name": "tri"}]
    (root / "annotations.json").write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    return root


def test_plain_coco_with_polygons_is_sound(tmp_path):
    root = make_plain_coco(tmp_path / "plain")
    result = _cli(str(root))
    assert result.exit_code == 0, result.output
    report = validate_path(root)
    assert report.ok and not report.synthgen  # overlaps are allowed outside synthgen
    assert report.counts == {"images": 3, "annotations": 12}
    # the json file with --images, from elsewhere
    moved = tmp_path / "ann.json"
    shutil.copy(root / "annotations.json", moved)
    assert _cli(str(moved), "--images", str(root / "images")).exit_code == 0


def test_plain_coco_faults(tmp_path):
    root = make_plain_coco(tmp_path / "plain")
    coco = json.loads((root / "annotations.json").read_text())
    coco["annotations"][0]["bbox"][0] += 3  # beyond the one-pixel polygon tolerance
    coco["annotations"][1]["area"] *= 1.5
    coco["annotations"][2]["category_id"] = 9
    coco["annotations"][4]["bbox"] = [60.0, 10.0, 10.0, 5.0]  # leaves the 64-pixel-wide image
    coco["annotations"][7]["area"] = 161  # crowd RLE: exact
    (root / "annotations.json").write_text(json.dumps(coco))
    report = validate_path(root)
    for kind in ("bbox", "area", "unknown_category", "out_of_bounds"):
        assert report.problem_counts[kind] >= 1, (kind, report.lines())
    assert any(p.kind == "area" and "annotation 150 " in p.where for p in report.problems)
    assert _cli(str(root)).exit_code == 1


def test_rle_counts_matches_pycocotools():
    rng = np.random.default_rng(0)
    for _ in range(200):
        h, w = (int(v) for v in rng.integers(1, 80, 2))
        m = np.asfortranarray((rng.random((h, w)) < rng.random() * 0.3).astype(np.uint8))
        counts = rle_counts(mask_utils.encode(m)["counts"].decode())
        flat = m.T.ravel()
        assert counts.sum() == h * w and counts[1::2].sum() == flat.sum()
    assert rle_counts("a") is None and rle_counts("\x7f") is None


def test_yolo_segment_vertices_on_a_box_edge_are_sound(tmp_path):
    """At 160 x 120 a pixel edge such as 68/160 = 0.425 has exactly 6 decimals; the writer rounds
    it up to 0.425001 (normalized_up: a reader that truncates gets the pixel back), which lay
    past the COCO box by float noise over 1e-6: `validate` called synthgen's own clean output
    a yolo_mismatch (3 of 516 crowd annotations at 160 x 120)."""
    from types import SimpleNamespace

    from synthgen.tools.validate.yolo import compare_with_coco
    from synthgen.writers.yolo import normalized_up

    W, H = 160, 120
    found = []
    lines, anns = [], []
    for k, (x, y) in enumerate([(66, 4), (41, 36), (76, 57)]):
        w, h = 2, 1
        corners = np.array([[x, y], [x, y + h], [x + w, y + h], [x + w, y]], np.float64) / [W, H]
        lines.append("0 " + " ".join(f"{v:.6f}" for v in normalized_up(corners).ravel()))
        anns.append({"id": k + 1, "category_id": 1, "bbox": [x, y, w, h], "iscrowd": 0})
    label = tmp_path / "a.txt"
    label.write_text("\n".join(lines) + "\n")
    c = SimpleNamespace(yolo=SimpleNamespace(names=["car"], kpt_shape=None), layout=SimpleNamespace(rel=lambda p: p.name),
                        add=lambda kind, where, what: found.append((kind, where, what)))
    compare_with_coco(c, label, anns, {1: "car"}, W, H, "a.png")
    assert found == []
