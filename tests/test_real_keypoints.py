"""Keypoints of real data: `extract` carries a COCO keypoints dataset's points into the cutouts'
sidecars and writes the class schema; real scenes keep their points, moved with the background
and made v = 1 where pasted objects cover them. Checked against a tiny hand-made dataset whose
points are known here, positions and visibility computed by hand."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import tiny_config_dict

from synthgen.config import load_config
from synthgen.errors import AssetError
from synthgen.io.real import load_coco
from synthgen.keypoints import load_schema
from synthgen.runner import generate
from synthgen.tools.extract import ExtractOptions, extract

W, H = 128, 96
NAMES = ["head", "left_hand", "right_hand", "foot"]
# per image: the person's rectangle (x0, y0, w, h) and its points as COCO x, y, v
PEOPLE = [
    ((20, 20, 30, 50), [[35.5, 24.5, 2], [22.0, 45.0, 1], [48.0, 45.25, 2], [0, 0, 0]]),
    ((70, 30, 24, 44), [[82.5, 34.5, 2], [72.5, 50.5, 2], [92.5, 50.5, 2], [80.0, 72.5, 2]]),
]


def _dataset(root: Path, keypoints=None) -> Path:
    """Two images, one person each (a filled rectangle), COCO person_keypoints style."""
    (root / "images").mkdir(parents=True)
    images, anns = [], []
    for i, ((x, y, w, h), kp) in enumerate(PEOPLE):
        img = np.full((H, W, 3), 90, np.uint8)
        img[y : y + h, x : x + w] = (200, 60, 60)
        cv2.imwrite(str(root / "images" / f"p{i}.png"), img)
        images.append({"id": i + 1, "file_name": f"p{i}.png", "width": W, "height": H})
        flat = [v for p in kp for v in p]
        anns.append({"id": 10 + i, "image_id": i + 1, "category_id": 1, "iscrowd": 0, "area": w * h,
                     "bbox": [x, y, w, h], "segmentation": [[x, y, x + w, y, x + w, y + h, x, y + h]],
                     "keypoints": flat if keypoints is None else keypoints, "num_keypoints": sum(p[2] > 0 for p in kp)})
    cats = [{"id": 1, "name": "person", "supercategory": "person", "keypoints": NAMES,
             "skeleton": [[1, 2], [1, 3], [1, 4]]}]
    (root / "annotations.json").write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    return root


def test_extract_writes_the_schema_and_each_cutouts_points_in_its_own_pixels(tmp_path):
    ds = load_coco(_dataset(tmp_path / "real") / "annotations.json", tmp_path / "real" / "images")
    report = extract(ds, tmp_path / "objects", ExtractOptions(min_area=50))
    assert report.kept["person"] == 2
    schema = load_schema(tmp_path / "objects" / "person" / "keypoints.yaml")
    assert schema.names == tuple(NAMES)
    assert schema.skeleton == ((0, 1), (0, 2), (0, 3))
    assert schema.flip == (0, 2, 1, 3)  # left_hand <-> right_hand
    for i, ((x0, y0, _, _), kp) in enumerate(PEOPLE):
        side = json.loads((tmp_path / "objects" / "person" / f"p{i}_{10 + i}.keypoints.json").read_text())
        expected = {n: [x - x0, y - y0] for n, (x, y, v) in zip(NAMES, kp) if v == 2}  # the cutout starts at x0, y0; v 1 left out
        assert side == expected
    assert "foot" not in json.loads((tmp_path / "objects" / "person" / "p0_10.keypoints.json").read_text())


def test_extract_never_replaces_a_different_schema(tmp_path):
    ds = load_coco(_dataset(tmp_path / "real") / "annotations.json", tmp_path / "real" / "images")
    (tmp_path / "objects" / "person").mkdir(parents=True)
    (tmp_path / "objects" / "person" / "keypoints.yaml").write_text("names: [nose]\n")
    with pytest.raises(AssetError, match="keypoints.yaml exists and differs"):
        extract(ds, tmp_path / "objects", ExtractOptions(min_area=50))
    assert (tmp_path / "objects" / "person" / "keypoints.yaml").read_text() == "names: [nose]\n"


@pytest.mark.parametrize("bad,message", [
    ([1, 2, 2], "keypoints must be 12 numbers .* got 3 values"),
    ([1, 2, 2, 3, 4, 7, 0, 0, 0, 0, 0, 0], "keypoint 1 \\(left_hand\\): v 7 is not 0, 1 or 2"),
    ("12", "keypoints must be 12 numbers"),
    ([1, float("nan"), 2, 0, 0, 0, 0, 0, 0, 0, 0, 0], "keypoint 0 \\(head\\): x, y, v must be finite numbers, got \\[1, nan, 2\\]"),
    ([1, 2, 2, "3", 4, 2, 0, 0, 0, 0, 0, 0], "keypoint 1 \\(left_hand\\): x, y, v must be finite numbers"),
])
def test_a_malformed_keypoints_array_is_refused_naming_file_and_annotation(tmp_path, bad, message):
    root = _dataset(tmp_path / "real", keypoints=bad)
    with pytest.raises(AssetError, match=f"annotations.json annotation 10 \\(image 1\\).*{message}"):
        load_coco(root / "annotations.json", root / "images")


def _expected_v(x, y, own: np.ndarray) -> int:
    """COCO v by hand: 0 outside, 2 when the object's own uncovered pixels reach the point's
    pixel or one of the 8 around it, else 1."""
    if not (0 <= x < own.shape[1] and 0 <= y < own.shape[0]):
        return 0
    c, r = int(x), int(y)
    return 2 if own[max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2].any() else 1


def test_real_scenes_keep_their_keypoints_moved_with_the_background_and_covered_by_pasted_objects(tiny_assets, tmp_path):
    real = _dataset(tmp_path / "real")
    extract(load_coco(real / "annotations.json", real / "images"), tmp_path / "objects", ExtractOptions(min_area=50))
    data = tiny_config_dict(tiny_assets, objects_per_image=[3, 5], distractors={"count": [0, 0]},
                            background={"crop_scale": [0.6, 1.0], "flip_probability": 0.5},
                            occlusion={"max_hidden": 0.95}, scale=[0.3, 0.6])
    data["assets"]["objects"] = str(tmp_path / "objects")
    data["assets"]["scenes"] = {"coco": str(real / "annotations.json"), "images": str(real / "images")}
    data["canvas"] = {"width": W, "height": H}
    data["labels"] = {"min_visibility": 0.0}
    data["output"] = {"formats": ["coco"], "id_maps": True, "image_format": "png", "keypoints": True}
    out = tmp_path / "synth"
    generate(load_config(data=data), out, 12)
    coco = json.loads((out / "annotations.json").read_text())
    metas = {m["name"]: m for m in map(json.loads, (out / "metadata.jsonl").read_text().splitlines())}
    seen = {0: 0, 1: 0, 2: 0}
    flipped = 0
    for im in coco["images"]:
        stem = Path(im["file_name"]).stem
        scene = metas[stem]["scene"]
        bg = scene["background"]
        id_map = cv2.imread(str(out / "masks" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        pasted = id_map > len(scene["real"])
        for a in coco["annotations"]:
            if a["image_id"] != im["id"] or a.get("source") != "real":
                continue
            i = a["real_annotation_id"] - 10
            (rx, ry, rw, rh), kp = PEOPLE[i]
            cx, cy, cw, ch = bg["crop_xywh"]
            orig = np.zeros((H, W), np.uint8)
            orig[ry : ry + rh, rx : rx + rw] = 1
            own = cv2.resize(orig[cy : cy + ch, cx : cx + cw], (W, H), interpolation=cv2.INTER_NEAREST).astype(bool)
            names = list(NAMES)
            if bg["flip"]:
                own = own[:, ::-1]
                names = ["head", "right_hand", "left_hand", "foot"]  # the mirrored left hand is the right one
                flipped += 1
            own &= ~pasted
            by_name = dict(zip(NAMES, kp))
            got = np.array(a["keypoints"], float).reshape(-1, 3)
            for j, name in enumerate(names):  # slot j holds the point that is called NAMES[j] after the flip
                x, y, v = by_name[name]
                if v == 0:
                    assert list(got[j]) == [0, 0, 0]
                    continue
                X, Y = (x - cx) * W / cw, (y - cy) * H / ch
                if bg["flip"]:
                    X = W - X
                ev = _expected_v(X, Y, own)
                assert got[j][2] == ev, (stem, a["id"], NAMES[j], got[j], (X, Y))
                if ev:
                    assert got[j][:2] == pytest.approx([X, Y], abs=2e-3)
                seen[ev] += 1
            assert a["num_keypoints"] == int((got[:, 2] > 0).sum())
    assert seen[1] and seen[2] and flipped, (seen, flipped)  # covered and visible points, a flipped scene: all checked


def test_real_scene_points_go_through_an_albumentations_flip_with_their_names_swapped(tmp_path):
    """A.HorizontalFlip on a real scene shown whole (no crop, no flip of its own): COCO x -> W - x,
    and the left hand's slot holds the mirrored right hand."""
    A = pytest.importorskip("albumentations")
    real = _dataset(tmp_path / "real")
    extract(load_coco(real / "annotations.json", real / "images"), tmp_path / "objects", ExtractOptions(min_area=50))
    data = tiny_config_dict(tmp_path, objects_per_image=[0, 0], distractors={"count": [0, 0]},
                            background={"crop_scale": [1.0, 1.0], "flip_probability": 0.0})
    data["assets"] = {"objects": str(tmp_path / "objects"), "backgrounds": str(real / "images"),
                      "scenes": {"coco": str(real / "annotations.json"), "images": str(real / "images"), "p": 1.0}}
    data["canvas"] = {"width": W, "height": H}
    data["output"] = {"keypoints": True}
    data["albumentations"] = A.to_dict(A.Compose([A.HorizontalFlip(p=1.0)]))
    from synthgen.generator import Generator

    s = Generator(load_config(data=data)).sample(0)
    (inst,) = s.instances
    i = inst.real_annotation_id - 10
    kp = dict(zip(NAMES, PEOPLE[i][1]))
    got = np.array(inst.keypoints, float).reshape(-1, 3)
    for j, name in enumerate(["head", "right_hand", "left_hand", "foot"]):
        x, y, v = kp[name]
        if v:
            assert got[j][:2] == pytest.approx([W - x, y], abs=2e-3) and got[j][2] > 0
        else:
            assert list(got[j]) == [0, 0, 0]


def test_coco_person_keypoint_names_get_cocos_sigmas_and_flip_pairs():
    from synthgen.io.real import KeypointCategory
    from synthgen.tools.extract import schema_text

    names = ("nose", "left_eye", "right_eye", "left_wrist", "right_wrist", "tail")
    doc = __import__("yaml").safe_load(schema_text(KeypointCategory(names, ((0, 1),))))
    assert doc["flip"] == [["left_eye", "right_eye"], ["left_wrist", "right_wrist"]]
    # pycocotools' COCOeval sigmas: nose .26, eyes .25, wrists .62 (over 10); "tail" is not COCO's
    assert doc["sigmas"] == {"nose": 0.026, "left_eye": 0.025, "right_eye": 0.025, "left_wrist": 0.062, "right_wrist": 0.062}
