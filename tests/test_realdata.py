"""Padding out a real dataset: extract -> generate on real scenes -> merge, all labels exact."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from click.testing import CliRunner
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from synthgen.balance import balance_weights
from synthgen.cli import main
from synthgen.config import dump_config, load_config
from synthgen.errors import AssetError
from synthgen.generator import Generator
from synthgen.geometry import tight_box
from synthgen.io.real import load_coco, load_yolo
from synthgen.runner import generate

from conftest import tiny_config_dict

W, H = 128, 96


def _tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + p.read_bytes())
    return h.hexdigest()


def _real_dataset(root: Path, n: int = 4) -> tuple[Path, dict]:
    """COCO with polygons and RLE (plus a crowd, a tiny and a border-cut object) and the same
    scenes as YOLO segmentation. Returns the root and {image file: [(name, mask)]}."""
    rng = np.random.default_rng(7)
    (root / "coco" / "images").mkdir(parents=True)
    (root / "yolo" / "images").mkdir(parents=True)
    (root / "yolo" / "labels").mkdir(parents=True)
    cats = [{"id": 1, "name": "square"}, {"id": 2, "name": "disc"}, {"id": 7, "name": "cone"}]
    images, anns, truth = [], [], {}
    aid = 100
    for i in range(n):
        img = (rng.integers(60, 120, (H, W, 3))).astype(np.uint8)
        objs = []
        sq = np.zeros((H, W), np.uint8)
        x0, y0 = 10 + 8 * i, 12
        sq[y0 : y0 + 30, x0 : x0 + 26] = 1
        img[sq.astype(bool)] = (220, 40, 40)
        objs.append(("square", sq.astype(bool), "poly", [[x0, y0, x0 + 26, y0, x0 + 26, y0 + 30, x0, y0 + 30]]))
        dc = np.zeros((H, W), np.uint8)
        cv2.circle(dc, (90, 60 - 2 * i), 16, 1, -1)
        img[dc.astype(bool)] = (40, 90, 230)
        objs.append(("disc", dc.astype(bool), "rle", None))
        cone = np.zeros((H, W), np.uint8)
        cv2.fillPoly(cone, [np.array([[50, 90], [70, 90], [60, 58]])], 1)
        img[cone.astype(bool)] = (240, 160, 30)
        objs.append(("cone", cone.astype(bool), "rle", None))
        tiny = np.zeros((H, W), bool)
        tiny[3:6, 60:63] = True
        objs.append(("disc", tiny, "rle", None))
        edge = np.zeros((H, W), bool)
        edge[50:80, 0:8] = True  # disjoint from the other objects
        objs.append(("square", edge, "rle", None))
        name = f"real_{i}.png"
        cv2.imwrite(str(root / "coco" / "images" / name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(root / "yolo" / "images" / name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        images.append({"id": i + 1, "file_name": name, "width": W, "height": H})
        truth[name] = [(o[0], o[1]) for o in objs]
        lines = []
        for cat, mask, kind, poly in objs:
            aid += 1
            cid = {"square": 1, "disc": 2, "cone": 7}[cat]
            if kind == "poly":
                seg = poly
            else:
                rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
                seg = {"size": [H, W], "counts": rle["counts"].decode()}
            anns.append({"id": aid, "image_id": i + 1, "category_id": cid, "segmentation": seg,
                         "bbox": list(tight_box(mask)), "area": int(mask.sum()), "iscrowd": 0})
            contour = max(cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0], key=len)
            pts = contour.reshape(-1, 2) / [W, H]
            lines.append(f"{[1, 2, 7].index(cid)} " + " ".join(f"{v:.6f}" for v in pts.ravel()))
        crowd = np.zeros((H, W), bool)
        crowd[70:90, 100:120] = True
        rle = mask_utils.encode(np.asfortranarray(crowd.astype(np.uint8)))
        aid += 1
        anns.append({"id": aid, "image_id": i + 1, "category_id": 1, "segmentation": {"size": [H, W], "counts": rle["counts"].decode()},
                     "bbox": list(tight_box(crowd)), "area": int(crowd.sum()), "iscrowd": 1})
        (root / "yolo" / "labels" / f"real_{i}.txt").write_text("\n".join(lines) + "\n")
    (root / "coco" / "annotations.json").write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    (root / "yolo" / "data.yaml").write_text("names:\n  0: square\n  1: disc\n  2: cone\n")
    return root, truth


@pytest.fixture
def real(tmp_path):
    return _real_dataset(tmp_path / "real")


def test_extract_from_coco_keeps_good_cutouts_with_provenance(real, tmp_path):
    root, truth = real
    before = _tree_digest(root)
    out = tmp_path / "assets"
    result = CliRunner().invoke(main, ["extract", "--coco", str(root / "coco" / "annotations.json"),
                                       "--images", str(root / "coco" / "images"), "--out", str(out), "--min-area", "50"])
    assert result.exit_code == 0, result.output
    assert "kept 12 cutouts" in result.output
    for reason in ("4 crowd", "4 tiny", "4 cut by the image border"):
        assert reason in result.output
    assert sorted(p.name for p in out.iterdir()) == ["cone", "disc", "square"]
    png = sorted((out / "disc").glob("*.png"))[0]
    prov = json.loads(png.with_suffix(".json").read_text())
    assert prov["category"] == "disc" and prov["annotation_id"] and prov["source_image"].endswith(".png")
    assert 0 < prov["quality"]["score"] <= 1
    rgba = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
    true_mask = next(m for name, m in truth[Path(prov["source_image"]).name] if name == "disc")
    x, y, w, h = tight_box(true_mask)
    assert np.array_equal(rgba[..., 3] > 0, true_mask[y : y + h, x : x + w])
    assert _tree_digest(root) == before


def test_extract_from_yolo_segmentation(real, tmp_path):
    root, _ = real
    out = tmp_path / "assets"
    result = CliRunner().invoke(main, ["extract", "--yolo", str(root / "yolo"), "--out", str(out), "--min-area", "50"])
    assert result.exit_code == 0, result.output
    assert "kept 12 cutouts" in result.output


def test_boxes_only_cuts_objects_with_grabcut(tmp_path):
    rng = np.random.default_rng(3)
    (tmp_path / "images").mkdir()
    images, anns, masks = [], [], []
    for i in range(3):
        img = np.full((H, W, 3), 200, np.uint8) + rng.integers(0, 10, (H, W, 3)).astype(np.uint8)
        m = np.zeros((H, W), np.uint8)
        cv2.ellipse(m, (64, 48), (24 + 2 * i, 16), 0, 0, 360, 1, -1)
        img[m.astype(bool)] = (30, 60, 160)
        cv2.imwrite(str(tmp_path / "images" / f"b{i}.png"), img)
        images.append({"id": i, "file_name": f"b{i}.png", "width": W, "height": H})
        anns.append({"id": i, "image_id": i, "category_id": 1, "bbox": list(tight_box(m.astype(bool))), "iscrowd": 0})
        masks.append(m.astype(bool))
    (tmp_path / "boxes.json").write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "blob"}]}))
    out = tmp_path / "assets"
    result = CliRunner().invoke(main, ["extract", "--coco", str(tmp_path / "boxes.json"), "--images", str(tmp_path / "images"),
                                       "--out", str(out), "--boxes-only"])
    assert result.exit_code == 0, result.output
    assert "GrabCut from boxes: kept 3 of 3" in result.output
    for png in sorted((out / "blob").glob("*.png")):
        alpha = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)[..., 3] > 0
        i = int(json.loads(png.with_suffix(".json").read_text())["annotation_id"])
        x, y, w, h = tight_box(masks[i])
        truth = masks[i][y : y + h, x : x + w]
        if alpha.shape == truth.shape:
            iou = (alpha & truth).sum() / (alpha | truth).sum()
        else:
            iou = 0.0
        assert iou > 0.85


def _scene_config(tiny_assets, real_root, coco_dir="coco", **extra):
    data = tiny_config_dict(tiny_assets, objects_per_image=[2, 3], distractors={"count": [0, 0]},
                            background={"crop_scale": [0.7, 1.0]}, occlusion={"max_hidden": 0.9})
    data["canvas"] = {"width": W, "height": H}
    data["assets"]["scenes"] = {"coco": str(real_root / coco_dir / "annotations.json"), "images": str(real_root / coco_dir / "images")}
    data["labels"] = {"min_visibility": 0.0}
    data["output"] = {"formats": ["coco"], "id_maps": True, "image_format": "png"}
    data.update(extra)
    return load_config(data=data)


def test_generation_on_real_scenes_keeps_real_labels_exact(tiny_assets, real, tmp_path):
    root, _ = real
    before = _tree_digest(root)
    cfg = _scene_config(tiny_assets, root)
    out = tmp_path / "synth"
    generate(cfg, out, 8)
    coco = COCO(str(out / "annotations.json"))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["disc", "square", "cone"]
    real_anns = {a["id"]: a for a in json.loads((root / "coco" / "annotations.json").read_text())["annotations"]}
    metas = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    occluded = 0
    for img, meta in zip(coco.loadImgs(coco.getImgIds()), metas):
        id_map = cv2.imread(str(out / "masks" / (Path(img["file_name"]).stem + ".png")), cv2.IMREAD_UNCHANGED)
        scene = meta["scene"]
        n_real = len(scene["real"])
        # 5 objects besides the crowd; the crop may cut the small ones away
        assert 3 <= sum(r["kind"] == "object" for r in scene["real"]) <= 5
        pasted = id_map > n_real
        x, y, w, h = scene["background"]["crop_xywh"]
        for a in coco.loadAnns(coco.getAnnIds(imgIds=img["id"])):
            m = coco.annToMask(a).astype(bool)
            assert a["bbox"] == list(tight_box(m)) and a["area"] == int(m.sum())
            if a.get("source") != "real" or a["iscrowd"]:  # crowd regions: see the crowd test
                continue
            src = real_anns[a["real_annotation_id"]]
            seg = src["segmentation"]
            rle = mask_utils.frPyObjects(seg, H, W) if isinstance(seg, list) else {"size": seg["size"], "counts": seg["counts"].encode()}
            if isinstance(rle, list):
                rle = mask_utils.merge(rle)
            orig = mask_utils.decode(rle)[y : y + h, x : x + w]
            moved = cv2.resize(orig, (W, H), interpolation=cv2.INTER_NEAREST).astype(bool)
            if scene["background"]["flip"]:
                moved = moved[:, ::-1]
            # exactly the covered pixels are gone
            assert np.array_equal(m, moved & ~pasted)
            occluded += int((moved & pasted).any())
    assert occluded > 0, "no real object was covered: the test checked nothing"
    assert _tree_digest(root) == before


def test_real_objects_hidden_below_the_threshold_lose_their_label(tiny_assets, real, tmp_path):
    root, _ = real
    cfg = _scene_config(tiny_assets, root, labels={"min_visibility": 0.999})
    gen = Generator(cfg)
    dropped_real = 0
    for i in range(8):
        s = gen.sample(i)
        real_ids = {r.instance_id for r in s.scene.real if r.kind == "object"}
        labeled = {inst.instance_id for inst in s.instances}
        for rid in real_ids - labeled:
            assert rid in {int(k) for k in s.metadata["dropped"]}
            assert not (s.id_map == rid).any()
            dropped_real += 1
    assert dropped_real > 0


def test_balance_weights_favour_rare_classes():
    w = balance_weights({"car": 900, "bus": 100, "bike": 0}, ["car", "bus", "bike"], "uniform", 1000)
    assert w["car"] == 0 and w["bike"] > w["bus"] > 0
    assert sum(w.values()) == pytest.approx(1.0)
    only = balance_weights({"car": 10}, ["car", "bike"], {"car": 1, "bike": 3}, 100)
    assert only["bike"] > only["car"]


def test_balance_config_drives_class_weights(tiny_assets, real):
    root, _ = real
    cfg = _scene_config(tiny_assets, root, scene={"objects_per_image": [3, 3], "balance": {"target": "uniform", "synthetic_images": 5}})
    gen = Generator(cfg)
    # real data: square 8 (incl. border-cut), disc 8, cone 4; cone has no cutouts: weights over square/disc
    assert set(gen.class_weights) == {"disc", "square"}
    assert any("combined" in line for line in gen.balance_report)


def test_combine_joins_real_and_synthetic_with_real_only_validation(tiny_assets, real, tmp_path):
    root, _ = real
    split = CliRunner().invoke(main, ["split", str(root / "coco"), "--val", "0.5", "--out", str(tmp_path / "real_split")])
    assert split.exit_code == 0, split.output
    synth = tmp_path / "synth"
    generate(_scene_config(tiny_assets, tmp_path / "real_split" / "train", coco_dir=""), synth, 6)
    before = (_tree_digest(root), _tree_digest(synth))
    out = tmp_path / "combined"
    result = CliRunner().invoke(main, ["combine", str(tmp_path / "real_split"), str(synth), "--out", str(out), "--balance"])
    assert result.exit_code == 0, result.output
    assert "combined" in result.output and "share" in result.output
    train, val = COCO(str(out / "train.json")), COCO(str(out / "val.json"))
    assert [c["name"] for c in train.loadCats(train.getCatIds())] == ["square", "disc", "cone"]
    assert val.getImgIds() and all(im["source"] == "real" for im in val.loadImgs(val.getImgIds()))
    assert len(train.getImgIds()) + len(val.getImgIds()) == 4 + 6
    ids = [a["id"] for a in train.dataset["annotations"] + val.dataset["annotations"]]
    assert len(ids) == len(set(ids))
    for im in train.loadImgs(train.getImgIds()):
        assert (out / "images" / im["file_name"]).exists()
        for a in train.loadAnns(train.getAnnIds(imgIds=im["id"])):
            m = train.annToMask(a).astype(bool)
            if isinstance(a["segmentation"], dict):  # RLE: exact
                assert a["bbox"] == list(tight_box(m))
    assert (_tree_digest(root), _tree_digest(synth)) == before


def test_clear_errors_for_bad_real_data(real, tmp_path):
    root, _ = real
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(AssetError, match="bad.json: is not valid JSON"):
        load_coco(bad, root / "coco" / "images")
    data = json.loads((root / "coco" / "annotations.json").read_text())
    data["annotations"][1]["segmentation"]["size"] = [10, 10]
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(data))
    with pytest.raises(AssetError, match="wrong.json annotation 102 \\(image 1\\): mask size \\[10, 10\\] does not match its image 96x128"):
        load_coco(wrong, root / "coco" / "images")  # refused where it is read, by file and annotation id
    (root / "yolo" / "labels" / "real_0.txt").write_text("5 0.5 0.5 0.1 0.1\n")
    with pytest.raises(AssetError, match="real_0.txt:1: class 5 is not in data.yaml names"):
        load_yolo(root / "yolo")
    result = CliRunner().invoke(main, ["combine", str(root / "coco"), "--out", str(tmp_path / "m"), "--classes", "square,disc"])
    assert result.exit_code == 2 and "category 'cone' does not map" in result.output


def test_extract_from_image_and_mask_folders(real, tmp_path):
    root, truth = real
    masks = tmp_path / "masks"
    masks.mkdir()
    for name, objs in truth.items():
        ids = np.zeros((H, W), np.uint8)
        for k, (cls, m) in enumerate(objs):
            if cls == "disc":
                ids[m] = k + 1
        cv2.imwrite(str(masks / f"{Path(name).stem}.png"), ids)
    out = tmp_path / "assets"
    result = CliRunner().invoke(main, ["extract", "--images", str(root / "coco" / "images"), "--masks", str(masks),
                                       "--class", "disc", "--out", str(out), "--min-area", "50"])
    assert result.exit_code == 0, result.output
    assert "kept 4 cutouts: disc 4" in result.output and "4 tiny" in result.output
    bad = CliRunner().invoke(main, ["extract", "--images", str(root / "coco" / "images"), "--masks", str(masks), "--out", str(out)])
    assert bad.exit_code == 2 and "--masks needs --class" in bad.output


def test_asset_cache_stays_bounded_over_many_real_scene_images(tiny_assets, real):
    from synthgen.assets import CACHE_SIZE

    root, _ = real
    gen = Generator(_scene_config(tiny_assets, root))
    for i in range(CACHE_SIZE + 40):  # every image has its own random crop: a new cache key
        gen.sample(i)
    assert len(gen.library._cache) <= CACHE_SIZE


def _roboflow_export(root: Path, real_root: Path) -> Path:
    """The real YOLO dataset as Roboflow exports it: train/images + train/labels, valid/...,
    and a data.yaml that says ../train/images (Ultralytics falls back to train/images)."""
    for split, names in (("train", ["real_0", "real_1", "real_2"]), ("valid", ["real_3"])):
        (root / split / "images").mkdir(parents=True)
        (root / split / "labels").mkdir(parents=True)
        for n in names:
            shutil.copy(real_root / "yolo" / "images" / f"{n}.png", root / split / "images")
            shutil.copy(real_root / "yolo" / "labels" / f"{n}.txt", root / split / "labels")
    (root / "data.yaml").write_text("train: ../train/images\nval: ../valid/images\n\nnc: 3\nnames: ['square', 'disc', 'cone']\n")
    return root


def test_roboflow_style_yolo_export_is_extracted_as_it_validates(real, tmp_path):
    root, _ = real
    rf = _roboflow_export(tmp_path / "roboflow", root)
    assert CliRunner().invoke(main, ["validate", str(rf)]).exit_code == 0
    out = tmp_path / "assets"
    result = CliRunner().invoke(main, ["extract", "--yolo", str(rf), "--out", str(out), "--min-area", "50"])
    assert result.exit_code == 0, result.output
    assert "kept 12 cutouts" in result.output
    prov = json.loads(next((out / "disc").glob("*.json")).read_text())
    assert "/train/images/" in prov["source_image"] or "/valid/images/" in prov["source_image"]


def test_combine_names_an_unknown_category(real, tmp_path):
    root, _ = real
    data = json.loads((root / "coco" / "annotations.json").read_text())
    data["annotations"][2]["category_id"] = 99
    (root / "coco" / "annotations.json").write_text(json.dumps(data))
    result = CliRunner().invoke(main, ["combine", str(root / "coco"), "--out", str(tmp_path / "c")])
    assert result.exit_code == 2, result.output
    aid = data["annotations"][2]["id"]
    assert f"annotation {aid}" in result.output and "category_id 99" in result.output and "annotations.json" in result.output


def test_merge_takes_one_run_and_points_at_combine(real, tmp_path):
    root, _ = real
    several = CliRunner().invoke(main, ["merge", str(root / "coco"), str(root / "yolo"), "--out", str(tmp_path / "m")])
    assert several.exit_code == 2 and "synthgen combine" in several.output
    not_a_run = CliRunner().invoke(main, ["merge", str(root / "coco")])
    assert not_a_run.exit_code == 2 and "not a synthgen run" in not_a_run.output and "synthgen combine" in not_a_run.output


def test_grabcut_is_repeatable_and_leaves_the_callers_opencv_rng_alone():
    from synthgen.tools.extract import grabcut

    img = np.full((H, W, 3), 200, np.uint8)
    m = np.zeros((H, W), np.uint8)
    cv2.ellipse(m, (64, 48), (26, 16), 0, 0, 360, 1, -1)
    img[m.astype(bool)] = (30, 60, 160)

    def draws() -> np.ndarray:
        a = np.zeros(4, np.float32)
        cv2.randu(a, 0, 1)
        return a

    cv2.setRNGSeed(11)
    expected = draws()
    cv2.setRNGSeed(11)
    first = grabcut(img, tight_box(m.astype(bool)))
    assert np.array_equal(draws(), expected)  # GrabCut drew from its own thread's RNG
    second = grabcut(img, tight_box(m.astype(bool)))
    assert first is not None and np.array_equal(first, second)


def _moved(mask: np.ndarray, scene: dict) -> np.ndarray:
    """A source-image mask moved like the background: cropped, resized (nearest), flipped."""
    x, y, w, h = scene["background"]["crop_xywh"]
    out = cv2.resize(mask[y : y + h, x : x + w].astype(np.uint8), (W, H), interpolation=cv2.INTER_NEAREST).astype(bool)
    return out[:, ::-1] if scene["background"]["flip"] else out


def _source_masks(root: Path) -> dict:
    """Real annotation id -> its mask (a box-only annotation: every pixel its box covers)."""
    data = json.loads((root / "coco" / "annotations.json").read_text())
    out = {}
    for a in data["annotations"]:
        seg = a.get("segmentation")
        if not seg:
            m = np.zeros((H, W), bool)
            bx, by, bw, bh = a["bbox"]
            m[int(by) : int(by + bh), int(bx) : int(bx + bw)] = True
        else:
            rle = mask_utils.frPyObjects(seg, H, W) if isinstance(seg, list) else {"size": seg["size"], "counts": seg["counts"].encode()}
            m = mask_utils.decode(mask_utils.merge(rle) if isinstance(rle, list) else rle).astype(bool)
        out[a["id"]] = m
    return out


def test_real_objects_have_the_amodal_extent_their_annotation_shows(tiny_assets, real):
    """A real object wholly inside the crop is not truncated; unoccluded, it is wholly visible;
    its amodal box contains its box and spans the annotation's box at the crop's scale."""
    root, _ = real
    masks = _source_masks(root)
    gen = Generator(_scene_config(tiny_assets, root))
    whole = cut = 0
    for i in range(16):
        s = gen.sample(i)
        scene = s.scene.to_dict()
        x, y, w, h = scene["background"]["crop_xywh"]
        for inst in s.instances:
            if inst.source != "real":
                continue
            m = masks[inst.real_annotation_id]
            outside = m.copy()
            outside[y : y + h, x : x + w] = False
            assert inst.truncated == bool(outside.any())
            ax, ay, aw, ah = inst.amodal_bbox
            bx, by, bw, bh = inst.bbox
            assert ax <= bx and ay <= by and bx + bw <= ax + aw and by + bh <= ay + ah
            ys, xs = np.nonzero(m)
            assert abs(aw - (xs.max() - xs.min() + 1) * W / w) <= 1 and abs(ah - (ys.max() - ys.min() + 1) * H / h) <= 1
            if not inst.truncated:
                moved = _moved(m, scene)
                assert inst.visible_fraction == round(inst.area / int(moved.sum()), 6)
                if inst.area == int(moved.sum()):
                    assert inst.visible_fraction == 1.0 and inst.amodal_bbox == inst.bbox
                    whole += 1
            else:
                assert inst.visible_fraction < 1.0
                cut += 1
    assert whole and cut, "the crops never showed a whole or a cut object: the test checked nothing"


def _with_box_only(root: Path) -> None:
    """Add a box-only annotation (no segmentation) to every image of the real COCO dataset."""
    path = root / "coco" / "annotations.json"
    data = json.loads(path.read_text())
    for im in data["images"]:
        data["annotations"].append({"id": 1000 + im["id"], "image_id": im["id"], "category_id": 2,
                                    "bbox": [20, 60, 20, 20], "area": 400, "iscrowd": 0})
    path.write_text(json.dumps(data))


def test_crowd_and_box_only_real_annotations_stay_as_crowd_regions(tiny_assets, real, tmp_path):
    """A crowd region stays a crowd (iscrowd 1) and a box-only object becomes an ignore region,
    each exactly the pixels of its region that no object covers; validate accepts the run."""
    root, _ = real
    _with_box_only(root)
    masks = _source_masks(root)
    src = {a["id"]: a for a in json.loads((root / "coco" / "annotations.json").read_text())["annotations"]}
    cfg = _scene_config(tiny_assets, root, output={"formats": ["coco", "yolo"], "id_maps": True, "image_format": "png"})
    cfg_path = tmp_path / "padding.yaml"
    cfg_path.write_text(dump_config(cfg))
    out = tmp_path / "synth"
    result = CliRunner().invoke(main, ["generate", str(cfg_path), "--out", str(out), "-n", "8", "-q"])
    assert result.exit_code == 0, result.output
    assert "crowd" in result.output and "box-only" in result.output
    coco = COCO(str(out / "annotations.json"))
    metas = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    kinds = {"crowd": 0, "box": 0}
    covered = 0
    for img, meta in zip(coco.loadImgs(coco.getImgIds()), metas):
        scene = meta["scene"]
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img["id"]))
        objects = [coco.annToMask(a).astype(bool) for a in anns if not a["iscrowd"]]
        taken = np.logical_or.reduce(objects) if objects else np.zeros((H, W), bool)
        by_real = {a["real_annotation_id"]: a for a in anns if a["iscrowd"]}
        for r in scene["real"]:
            if r["kind"] == "object":
                continue
            kinds[r["kind"]] += 1
            assert (r["kind"] == "crowd") == bool(src[r["annotation_id"]]["iscrowd"])
            region = _moved(masks[r["annotation_id"]], scene)
            expected = region & ~taken
            covered += int((region & taken).any())
            if not expected.any():
                assert r["annotation_id"] not in by_real
                continue
            a = by_real[r["annotation_id"]]
            m = coco.annToMask(a).astype(bool)
            assert np.array_equal(m, expected)
            assert a["bbox"] == list(tight_box(m)) and a["area"] == int(m.sum())
            assert coco.loadCats(a["category_id"])[0]["name"] == r["label"]
        # YOLO has no crowd: its lines are the objects only
        lines = (out / "labels" / (Path(img["file_name"]).stem + ".txt")).read_text().splitlines()
        assert len(lines) == sum(1 for a in anns if not a["iscrowd"])
    assert kinds["crowd"] and kinds["box"] and covered, "no crowd, box or covered region: the test checked nothing"
    check = CliRunner().invoke(main, ["validate", str(out)])
    assert check.exit_code == 0, check.output


@pytest.mark.parametrize("where", ["inside", "images_inside", "around"])
def test_combine_refuses_an_out_inside_or_around_an_input(real, tmp_path, where):
    """`synthgen combine real_split/ synth/ --out real_split/train` wrote its images/ and
    train.json/val.json into the split's train part (a dataset it read), which then failed
    validate: only --out equal to an input was refused, though combine 'never modifies its
    inputs'. Like split, it now refuses any --out that overlaps an input, before reading it."""
    from synthgen.errors import OutputError
    from synthgen.tools.combine import combine

    root, _ = real
    coco = root / "coco"
    out = {"inside": coco / "combined", "images_inside": coco / "images" / "c", "around": root}[where]
    before = _tree_digest(root)
    with pytest.raises(OutputError, match="overlap"):
        combine([coco / "annotations.json" if where == "around" else coco], out)
    assert _tree_digest(root) == before


@pytest.mark.parametrize("where", ["images", "yolo"])
def test_extract_refuses_an_out_inside_the_dataset_it_reads(real, where):
    """`synthgen extract --coco real/annotations.json --images real/images --out real/images/cut`
    wrote its cutouts into the dataset's images folder, which then failed validate (images listed
    by no annotation file): extract now refuses an --out in (or equal to) a folder it reads."""
    from synthgen.errors import OutputError
    from synthgen.tools.extract import extract

    root, _ = real
    if where == "yolo":
        ds, out = load_yolo(root / "yolo"), root / "yolo" / "labels" / "cut"
    else:
        ds = load_coco(root / "coco" / "annotations.json", root / "coco" / "images")
        out = root / "coco" / "images" / "cut"
    before = _tree_digest(root)
    with pytest.raises(OutputError, match="inside"):
        extract(ds, out)
    assert _tree_digest(root) == before
