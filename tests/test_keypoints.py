"""Keypoints: sidecars and schemas, every transform with hand-computed points, visibility from
the id map, and the COCO and YOLO pose layouts."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from conftest import tiny_config_dict

from synthgen.assets import PAD, load_library
from synthgen.config import AssetsConfig, load_config
from synthgen.effects.pipeline import AppliedEffect
from synthgen.errors import AssetError, ConfigError
from synthgen.generator import Generator
from synthgen.keypoint_labels import point_values, scene_points, visibility
from synthgen.runner import generate
from synthgen.types import BackgroundPlacement, Placement, Scene

# a 21 x 11 opaque bar whose alpha box starts at x=10, y=5 of a 40 x 20 image
X0, Y0, BW, BH = 10, 5, 21, 11
CANVAS = (210, 100)


def _sign_assets(root: Path, schema: dict | None = None, points: dict | None = None) -> Path:
    d = root / "objects" / "bar"
    d.mkdir(parents=True)
    img = np.zeros((20, 40, 4), np.uint8)
    img[Y0 : Y0 + BH, X0 : X0 + BW] = (200, 30, 30, 255)
    cv2.imwrite(str(d / "bar.png"), cv2.cvtColor(img, cv2.COLOR_RGBA2BGRA))
    schema = schema or {"names": ["left", "right", "mid"], "skeleton": [["left", "mid"], ["mid", "right"]], "flip": [["left", "right"]]}
    (d / "keypoints.yaml").write_text(yaml.safe_dump(schema))
    # COCO pixel coordinates: the centres of the top-left and top-right opaque pixels, and the middle
    points = points or {"left": [X0 + 0.5, Y0 + 0.5], "right": [X0 + BW - 0.5, Y0 + 0.5], "mid": [X0 + BW / 2, Y0 + BH / 2]}
    (d / "bar.keypoints.json").write_text(json.dumps(points))
    bg = root / "backgrounds"
    bg.mkdir()
    cv2.imwrite(str(bg / "bg.png"), np.full((100, 210, 3), 90, np.uint8))
    return root


def _library(tmp_path, **kw):
    root = _sign_assets(tmp_path / "assets", **kw)
    return load_library(AssetsConfig(objects=str(root / "objects"), backgrounds=str(root / "backgrounds")))


def _scene(**kw) -> Scene:
    # scale 0.42 of the canvas' shorter side (100) over the bar's longer side (21): 2x
    p = {"instance_id": 1, "label": "bar", "category_id": 1, "asset": "bar/bar.png", "scale": 0.42, "rotation": 0.0,
         "flip": False, "perspective": (0.0,) * 8, "center": (100.0, 50.0), "blend": "none"}
    p.update(kw)
    return Scene(index=0, seed=0, canvas_wh=CANVAS, background=BackgroundPlacement("bg.png", 0, (0, 0, 210, 100), False),
                 placements=(Placement(**p),))


def _points(lib, effects=(), **kw) -> np.ndarray:
    return scene_points(_scene(**kw), lib, 1, tuple(effects)) + 0.5  # back to COCO coordinates


def test_sidecar_points_follow_the_trim(tmp_path):
    lib = _library(tmp_path)
    cut = lib.cutouts["bar"][0]
    assert cut.size_wh == (BW + 2 * PAD, BH + 2 * PAD)
    # the top-left opaque pixel is pixel (PAD, PAD) of the trimmed, padded cutout
    assert cut.keypoints[0].tolist() == [PAD, PAD]
    assert cut.keypoints[1].tolist() == [PAD + BW - 1, PAD]
    assert lib.keypoint_schemas["bar"].flip == (1, 0, 2)


def test_scale_moves_points_about_the_centre(tmp_path):
    # cutout centre (index) = ((BW + 3) / 2, (BH + 3) / 2) = (12, 7); the left point is (-10, -5) from it
    pts = _points(_library(tmp_path))
    assert np.allclose(pts[0], [100 - 20 + 0.5, 50 - 10 + 0.5])
    assert np.allclose(pts[1], [100 + 20 + 0.5, 50 - 10 + 0.5])
    assert np.allclose(pts[2], [100.5, 50.5])


def test_flip_mirrors_and_swaps_left_and_right(tmp_path):
    pts = _points(_library(tmp_path), flip=True)
    # the point named "left" was mirrored to x = +20; the "right" one came to x = -20 and is now the left
    assert np.allclose(pts[0], [80.5, 40.5])
    assert np.allclose(pts[1], [120.5, 40.5])


def test_rotation_turns_points_counter_clockwise(tmp_path):
    # 90 degrees counter-clockwise on screen (y down): (dx, dy) -> (dy, -dx)
    pts = _points(_library(tmp_path), rotation=90.0)
    assert np.allclose(pts[0], [100 + (-10) + 0.5, 50 + 20 + 0.5])
    assert np.allclose(pts[1], [100 + (-10) + 0.5, 50 - 20 + 0.5])


def test_perspective_moves_points_with_their_corners(tmp_path):
    # every corner moved by 0.1 of the width (25 px padded): a shift of 2.5 px before the 2x scale
    pts = _points(_library(tmp_path), perspective=(0.1, 0.0) * 4)
    assert np.allclose(pts[0], [100 - 15 + 0.5, 40.5])


def test_geometric_effect_moves_points_like_pixels(tmp_path):
    # crop_scale 0.5 from the top-left corner doubles every pixel-index coordinate
    crop = AppliedEffect("crop_scale", 3, {"scale": 0.5, "x": 0.0, "y": 0.0})
    pts = _points(_library(tmp_path), effects=[crop])
    assert np.allclose(pts[0], [2 * 80 + 0.5, 2 * 40 + 0.5])
    rot = AppliedEffect("rotate", 3, {"angle": 90.0, "direction": 1})
    M = rot.effect.matrix(rot.params, CANVAS)
    zoom = max((210 * 0 + 100) / 210, (210 + 0) / 100)
    got = _points(_library(tmp_path / "b"), effects=[rot])[2] - 0.5  # the middle: (100, 50) index
    cx, cy = 104.5, 49.5
    want = [cx + zoom * (50 - cy), cy - zoom * (100 - cx)]
    assert np.allclose(got, want) and np.allclose(M @ [100, 50, 1], [*want, 1])


def test_visibility_from_the_id_map():
    ids = np.zeros((10, 10), np.uint16)
    ids[2:6, 2:6] = 1
    ids[4:6, 4:6] = 2  # object 2 covers part of object 1
    assert visibility(3.5, 3.5, ids, 1) == 2  # on its own pixel
    assert visibility(5.5, 5.5, ids, 1) == 1  # covered by 2 (and not within a pixel of its own)
    assert visibility(6.5, 3.5, ids, 1) == 2  # just off its edge: within one pixel
    assert visibility(8.5, 8.5, ids, 1) == 1  # in frame, nowhere near it
    assert visibility(-0.5, 3.0, ids, 1) == 0 and visibility(3.0, 10.0, ids, 1) == 0
    assert visibility(math.nan, 3.0, ids, 1) == 0
    assert point_values(np.array([[3.0, 3.0], [20.0, 3.0]]), ids, 1) == (3.5, 3.5, 2, 0, 0, 0)


def test_bad_sidecars_and_schemas_name_the_file(tmp_path):
    with pytest.raises(AssetError, match=r"bar\.keypoints\.json.*'nose' is not a keypoint"):
        _library(tmp_path / "a", points={"nose": [1, 2]})
    with pytest.raises(AssetError, match=r"keypoints\.yaml: skeleton names 'foot'"):
        _library(tmp_path / "b", schema={"names": ["left"], "skeleton": [["left", "foot"]]})
    with pytest.raises(AssetError, match=r"bar\.keypoints\.json: left must be \[x, y\] \(two numbers\), got \[True, 2\]"):
        _library(tmp_path / "c", points={"left": [True, 2]})  # a JSON true is no coordinate


def _pose_run(tmp_path, **output):
    root = _sign_assets(tmp_path / "assets")
    data = {
        "seed": 5,
        "canvas": {"width": 96, "height": 72},
        "assets": {"objects": str(root / "objects"), "backgrounds": str(root / "backgrounds")},
        "scene": {"objects_per_image": [2, 3], "scale": [0.3, 0.6], "flip_probability": 0.5, "rotation": [-30, 30]},
        "output": {"formats": ["coco", "yolo"], "image_format": "png", "id_maps": True, **output},
    }
    out = tmp_path / "out"
    generate(load_config(data=data), out, 4)
    return out


def test_pose_run_writes_coco_keypoints_and_ultralytics_pose_labels(tmp_path):
    out = _pose_run(tmp_path, yolo_task="pose")
    coco = json.loads((out / "annotations.json").read_text())
    cat = coco["categories"][0]
    assert cat["keypoints"] == ["left", "right", "mid"] and cat["skeleton"] == [[1, 3], [3, 2]]
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["kpt_shape"] == [3, 3] and data["flip_idx"] == [1, 0, 2]
    anns = coco["annotations"]
    assert anns
    for ann in anns:
        kp = ann["keypoints"]
        assert len(kp) == 9 and ann["num_keypoints"] == sum(v > 0 for v in kp[2::3])
        ids = cv2.imread(str(out / "masks" / f"{ann['image_id'] - 1:08d}.png"), cv2.IMREAD_UNCHANGED)
        iid = ann["id"] % 1000
        for x, y, v in zip(kp[0::3], kp[1::3], kp[2::3]):
            if v == 2:  # its own pixel within one pixel
                c, r = int(x), int(y)
                assert (ids[max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2] == iid).any()
            if v == 0:
                assert x == y == 0
    from synthgen.tools.validate import validate_path

    report = validate_path(out)  # pose lines are read as boxes plus kpt_shape points
    assert report.ok, [str(p) for p in report.problems]
    bad = next(iter((out / "labels").glob("*.txt")))
    bad.write_text(bad.read_text().replace("\n", " 0.5\n", 1))
    assert any("kpt_shape" in p.message for p in validate_path(out).problems)
    bad.write_text(bad.read_text().replace(" 0.5\n", "\n", 1))
    # Ultralytics pose: class cx cy w h, then x y v per kpt_shape[0] point, normalized
    for f in (out / "labels").glob("*.txt"):
        for line in f.read_text().splitlines():
            parts = line.split()
            assert len(parts) == 5 + 3 * 3
            assert parts[0] == "0" and all(0 <= float(v) <= 1 for v in parts[1:5])
            for x, y, v in zip(parts[5::3], parts[6::3], parts[7::3]):
                assert v in {"0", "1", "2"} and 0 <= float(x) <= 1 and 0 <= float(y) <= 1


def test_keypoints_are_off_by_default(tmp_path):
    out = _pose_run(tmp_path)
    coco = json.loads((out / "annotations.json").read_text())
    assert "keypoints" not in coco["categories"][0] and "keypoints" not in coco["annotations"][0]
    assert "kpt_shape" not in yaml.safe_load((out / "data.yaml").read_text())


def test_pose_without_any_schema_is_refused(tiny_assets):
    data = tiny_config_dict(tiny_assets)
    data["output"] = {"yolo_task": "pose"}
    with pytest.raises(ConfigError, match="keypoints.yaml"):
        Generator(load_config(data=data))


def _albu_pair(tmp_path, transforms):
    """Image 0 of one config without and with an albumentations pipeline (keypoints on), and
    the same pipeline with keypoints off."""
    import albumentations as A

    root = _sign_assets(tmp_path / "assets")
    data = {
        "seed": 3,
        "canvas": {"width": 96, "height": 72},
        "assets": {"objects": str(root / "objects"), "backgrounds": str(root / "backgrounds")},
        "scene": {"objects_per_image": [2, 2], "flip_probability": 0.5, "rotation": [-20, 20]},
        "output": {"keypoints": True},
    }
    pipeline = A.to_dict(A.Compose(transforms))
    plain = Generator(load_config(data=data)).sample(0)
    moved = Generator(load_config(data={**data, "albumentations": pipeline})).sample(0)
    off = Generator(load_config(data={**data, "albumentations": pipeline, "output": {}})).sample(0)
    return plain, moved, off


def _kp(inst) -> np.ndarray:
    return np.array(inst.keypoints, np.float64).reshape(-1, 3)


def test_albumentations_horizontal_flip_mirrors_points_and_swaps_left_and_right(tmp_path):
    """Through A.HorizontalFlip a point at COCO x lands at W - x (pixel i -> W - 1 - i) and its
    left/right names swap (the flip pairs), as a synthgen flip does; the pixels are those of the
    same pipeline with keypoints off."""
    import albumentations as A

    plain, moved, off = _albu_pair(tmp_path, [A.HorizontalFlip(p=1.0)])
    assert np.array_equal(moved.image, off.image) and np.array_equal(moved.image, plain.image[:, ::-1])
    W = 96
    assert len(plain.instances) == len(moved.instances) == 2
    for before, after in zip(plain.instances, moved.instances):
        b, a = _kp(before), _kp(after)
        b = b[[1, 0, 2]]  # left <-> right
        labeled = b[:, 2] > 0
        assert np.array_equal(a[:, 2], b[:, 2])  # the id map is mirrored with them
        np.testing.assert_allclose(a[labeled, 0], W - b[labeled, 0], atol=2e-3)
        np.testing.assert_allclose(a[labeled, 1], b[labeled, 1], atol=2e-3)


def test_albumentations_affine_moves_points_by_its_matrix(tmp_path):
    """A.Affine with a known matrix: a translation by (7, -3) pixels and a half turn about the
    image centre (pixel i -> W - 1 - i: COCO x -> W - x): no mirror, so no name swaps."""
    import albumentations as A

    W, H = 96, 72
    plain, moved, _ = _albu_pair(tmp_path, [A.Affine(translate_px={"x": 7, "y": -3}, rotate=0, scale=1.0, p=1.0)])
    for before, after in zip(plain.instances, moved.instances):
        b, a = _kp(before), _kp(after)
        for (xb, yb, vb), (xa, ya, va) in zip(b, a):
            x, y = xb + 7, yb - 3
            if vb == 2 and 0 <= x < W and 0 <= y < H:
                assert va > 0 and abs(xa - x) < 2e-3 and abs(ya - y) < 2e-3
    plain, moved, _ = _albu_pair(tmp_path / "half", [A.Affine(rotate=(180, 180), scale=1.0, p=1.0)])
    for before, after in zip(plain.instances, moved.instances):
        b, a = _kp(before), _kp(after)
        labeled = b[:, 2] > 0
        np.testing.assert_allclose(a[labeled, 0], W - b[labeled, 0], atol=2e-3)
        np.testing.assert_allclose(a[labeled, 1], H - b[labeled, 1], atol=2e-3)
        assert (a[labeled, 2] == 2).all() or (a[labeled, 2] == b[labeled, 2]).all()


def test_albumentations_points_land_on_their_objects_pixels(tmp_path):
    """Any geometric pipeline: a point with v = 2 before is on its object after (v = 2 from the
    id map the pipeline moved), not only where the matrix says."""
    import albumentations as A

    plain, moved, _ = _albu_pair(tmp_path, [A.Perspective(scale=(0.05, 0.08), p=1.0),
                                            A.Affine(rotate=(-25, 25), scale=(0.9, 1.1), p=1.0)])
    visible_before = sum(int(v == 2) for i in plain.instances for v in _kp(i)[:, 2])
    visible_after = sum(int(v == 2) for i in moved.instances for v in _kp(i)[:, 2])
    assert visible_before and visible_after >= visible_before - 1


@pytest.mark.parametrize("moves", [False, True], ids=["dropout alone", "flip then dropout"])
def test_a_point_in_a_dropout_hole_is_labeled_not_visible_whether_or_not_the_pipeline_moves_pixels(tmp_path, moves):
    """One rule for dropout holes: a point the pipeline keeps in frame but whose pixel it erased
    is v 1 (labeled, not visible). It was v 1 with CoarseDropout alone but v 0 when the pipeline
    also moved pixels (a flip), the holes being taken for the pipeline's fill. Judged on the
    image: a hole pixel is exactly black (background 90, objects red, nothing else black)."""
    import albumentations as A

    drop = A.CoarseDropout(num_holes_range=(10, 10), hole_height_range=(0.1, 0.2), hole_width_range=(0.05, 0.1),
                           fill=0, fill_mask=0, p=1.0)
    root = _sign_assets(tmp_path / "assets")
    data = {"seed": 3, "canvas": {"width": 96, "height": 72}, "effects": [],
            "assets": {"objects": str(root / "objects"), "backgrounds": str(root / "backgrounds")},
            "scene": {"objects_per_image": [3, 3], "flip_probability": 0.5, "rotation": [-20, 20]},
            "output": {"keypoints": True},
            "albumentations": A.to_dict(A.Compose([A.HorizontalFlip(p=1.0), drop] if moves else [drop]))}
    gen = Generator(load_config(data=data))
    # where the points are without the dropout (a point in a hole may be written 0, 0, 0)
    ref = Generator(load_config(data={**data, "albumentations": A.to_dict(A.Compose([A.HorizontalFlip(p=1.0)]))}
                                if moves else {**data, "albumentations": None}))
    in_hole = hidden = 0
    for index in range(6):
        s, r = gen.sample(index), ref.sample(index)
        hole = cv2.erode((s.image.max(axis=2) == 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        after = {i.instance_id: _kp(i) for i in s.instances}
        for inst in r.instances:
            if inst.instance_id not in after:  # every pixel erased: no instance, no points
                continue
            for k, (x, y, v) in enumerate(_kp(inst)):
                if v and hole[int(y), int(x)]:
                    in_hole += 1
                    hidden += after[inst.instance_id][k, 2] == 1
    assert in_hole and hidden == in_hole, f"{in_hole - hidden} of {in_hole} points in dropout holes are not v 1"


def test_the_bundled_street_preset_makes_a_pose_dataset():
    from conftest import REPO

    cfg = load_config(REPO / "configs" / "street.yaml", overrides=["output.yolo_task=pose"])
    gen = Generator(cfg)
    assert {"person", "stop_sign", "traffic_light"} <= set(gen.library.keypoint_schemas)
    stop = next(c for c in gen.library.cutouts["stop_sign"] if c.keypoints is not None)
    assert not np.isnan(stop.keypoints).any()
    seen = [i for n in range(6) for i in gen.sample(n).instances if i.keypoints is not None]
    assert seen and all(len(i.keypoints) == 3 * len(gen.library.keypoint_schemas[i.label].names) for i in seen)


VEHICLES, TWO_WHEELERS = ("car", "bus", "truck"), ("bicycle", "motorcycle")


def test_every_bundled_class_has_a_schema_and_every_cutout_its_points():
    from conftest import REPO

    from synthgen.keypoints import load_schema, sidecar_path

    objects = REPO / "assets" / "objects"
    for cls in (*VEHICLES, *TWO_WHEELERS, "person", "stop_sign", "traffic_light"):
        load_schema(objects / cls / "keypoints.yaml")  # sound
        for png in sorted((objects / cls).glob("*.png")):
            assert sidecar_path(png).is_file(), png
    vehicle = load_schema(objects / "car" / "keypoints.yaml")
    assert {"front_left_wheel", "rear_left_wheel", "front_left_bottom", "rear_left_top"} <= set(vehicle.names)
    # mirrored, a left wheel is a right wheel and the other way round; nothing else moves
    left, right = vehicle.names.index("front_left_wheel"), vehicle.names.index("front_right_wheel")
    assert vehicle.flip[left] == right and vehicle.flip[right] == left
    assert load_schema(objects / "bus" / "keypoints.yaml") == vehicle == load_schema(objects / "truck" / "keypoints.yaml")
    cycle = load_schema(objects / "bicycle" / "keypoints.yaml")
    assert cycle.names == ("front_wheel", "rear_wheel", "saddle", "handlebar") and cycle.flip == (0, 1, 2, 3)
    assert load_schema(objects / "motorcycle" / "keypoints.yaml") == cycle


def test_bundled_vehicle_points_lie_on_their_cutouts_pixels():
    """Read against the PNGs, not the code that made the sidecars: every labeled point is on an
    opaque pixel (so an uncovered point is visible, v = 2), a side view's front wheel is left of
    its rear wheel and both are below the middle, and the saddle and handlebar are above the hubs."""
    from conftest import REPO

    objects = REPO / "assets" / "objects"
    for cls in (*VEHICLES, *TWO_WHEELERS):
        for side in sorted((objects / cls).glob("*.keypoints.json")):
            alpha = cv2.imread(str(side.with_name(side.name.replace(".keypoints.json", ".png"))), cv2.IMREAD_UNCHANGED)[..., 3]
            H, W = alpha.shape
            pts = json.loads(side.read_text())
            assert pts, side
            for name, (x, y) in pts.items():
                assert 0 <= x < W and 0 <= y < H and alpha[int(y), int(x)] >= 200, (side.name, name, x, y)
            front = pts.get("front_left_wheel", pts.get("front_wheel"))
            rear = pts.get("rear_left_wheel", pts.get("rear_wheel"))
            if front is not None:
                assert front[0] < W / 2 < rear[0] and min(front[1], rear[1]) > H / 2, side.name
            if "saddle" in pts:
                assert max(pts["saddle"][1], pts["handlebar"][1]) < min(front[1], rear[1]), side.name


def test_street_pose_dataset_labels_vehicles_and_flips_their_sides():
    """A side view (facing left) labels its near side, the left; mirrored, it faces right and
    its near side is its right: the points named right carry it, front wheel right of the rear."""
    from conftest import REPO

    cfg = load_config(REPO / "configs" / "street.yaml", overrides=["output.yolo_task=pose"])
    gen = Generator(cfg)
    assert set(VEHICLES + TWO_WHEELERS) <= set(gen.library.keypoint_schemas)
    names = gen.library.keypoint_schemas["car"].names
    seen = {False: 0, True: 0}
    for n in range(12):
        s = gen.sample(n)
        for inst in s.instances:
            p = next(q for q in s.scene.placements if q.instance_id == inst.instance_id)
            if inst.label not in VEHICLES or "oncoming" in p.asset:
                continue
            kp = {name: inst.keypoints[3 * k : 3 * k + 3] for k, name in enumerate(names)}
            near, far = ("right", "left") if p.flip else ("left", "right")
            assert all(kp[f"{e}_{far}_{part}"][2] == 0 for e in ("front", "rear") for part in ("wheel", "top", "bottom"))
            front, rear = kp[f"front_{near}_wheel"], kp[f"rear_{near}_wheel"]
            if front[2] and rear[2]:  # rotations stay within 15 degrees: the order along x holds
                assert (front[0] > rear[0]) == p.flip, (n, p.asset, p.flip, front, rear)
                seen[p.flip] += 1
    assert seen[False] and seen[True], seen


def test_no_keypoint_is_labeled_where_an_albumentations_pipeline_left_only_its_fill():
    """An Affine that shrinks the image by half leaves fill around it; a point of an object cut
    by the frame's edge lands there. The image shows nothing at that point: v 0, not 1 ("in the
    frame, covered"). The content is the frame's corners through the recorded Affine matrix."""
    import albumentations as A
    from conftest import REPO

    cfg = load_config(REPO / "configs" / "street.yaml", overrides=[
        "effects=[]", "canvas.width=160", "canvas.height=120", "output.keypoints=true", "scene.objects_per_image=[6,10]"])
    cfg = cfg.model_copy(update={"albumentations": A.to_dict(A.Compose([A.Affine(scale=0.5, p=1.0)]))})
    gen = Generator(cfg)
    labeled = in_fill = 0
    for index in range(4):
        s = gen.sample(index)
        (name, params), = [t[:2] for t in next(c for c in s.metadata["conditions"] if c["name"] == "albumentations")["params"]["applied"]]
        corners = np.array([[[-0.5, -0.5], [159.5, -0.5], [159.5, 119.5], [-0.5, 119.5]]], np.float64)
        content = cv2.perspectiveTransform(corners, np.array(params["matrix"], np.float64))[0].astype(np.float32)
        for inst in s.instances:
            kp = np.asarray(inst.keypoints or (), float).reshape(-1, 3)
            for x, y, v in kp:
                if v:
                    labeled += 1
                    # COCO coordinates -> pixel index; more than a pixel outside the content
                    in_fill += cv2.pointPolygonTest(content, (float(x - 0.5), float(y - 0.5)), True) < -1.0
    assert labeled and in_fill == 0, f"{in_fill} of {labeled} labeled points lie in the pipeline's fill"


@pytest.mark.parametrize("xy", [[-30, 5], [41, 6], [12, 20.5], [400, 500]])
def test_a_sidecar_point_outside_its_cutout_image_is_refused(tmp_path, xy):
    # the 40 x 20 image holds no such pixel: pasted, the point would be labeled v 1 ("covered")
    # on whatever lies there, or silently dropped
    with pytest.raises(AssetError, match=r"bar\.keypoints\.json: left .* lies outside the 40x20 image"):
        _library(tmp_path, points={"left": xy, "right": [X0 + BW - 0.5, Y0 + 0.5]})


def test_sidecar_points_on_the_image_edges_are_kept(tmp_path):
    lib = _library(tmp_path, points={"left": [0, 0], "right": [40, 20]})
    assert lib.cutouts["bar"][0].keypoints is not None


def test_a_schema_or_sidecar_that_is_not_utf8_names_the_file(tmp_path):
    root = _sign_assets(tmp_path / "a")
    (root / "objects" / "bar" / "keypoints.yaml").write_bytes("names: [l\xe9ft, right, mid]\n".encode("latin-1"))
    with pytest.raises(AssetError, match=r"bar/keypoints\.yaml: cannot read keypoint schema.*not UTF-8"):
        load_library(AssetsConfig(objects=str(root / "objects"), backgrounds=str(root / "backgrounds")))
    # UTF-8 names are read as UTF-8 whatever the locale
    root = _sign_assets(tmp_path / "b", schema={"names": ["gauche", "droite", "tête"]}, points={"tête": [12, 7]})
    lib = load_library(AssetsConfig(objects=str(root / "objects"), backgrounds=str(root / "backgrounds")))
    assert lib.keypoint_schemas["bar"].names[2] == "tête" and not np.isnan(lib.cutouts["bar"][0].keypoints[2]).any()


def test_a_distractor_copied_with_its_sidecar_loads_and_is_never_given_points(tmp_path):
    # a class folder copied into distractors/ keeps its .keypoints.json (and keypoints.yaml):
    # distractors are never labeled, so their points are not read (it asked for a keypoints.yaml
    # in the distractor folder, which no run reads)
    root = _sign_assets(tmp_path / "a")
    import shutil

    shutil.copytree(root / "objects" / "bar", root / "distractors" / "bars")
    lib = load_library(AssetsConfig(objects=str(root / "objects"), backgrounds=str(root / "backgrounds"),
                                    distractors=str(root / "distractors")))
    assert lib.distractors and all(d.keypoints is None for d in lib.distractors)


def test_a_sidecar_naming_a_point_twice_is_refused(tmp_path):
    root = _sign_assets(tmp_path / "a")
    (root / "objects" / "bar" / "bar.keypoints.json").write_text('{"left": [11, 6], "right": [30, 6], "left": [30, 15]}')
    with pytest.raises(AssetError, match=r"bar\.keypoints\.json: 'left' is given twice"):
        load_library(AssetsConfig(objects=str(root / "objects"), backgrounds=str(root / "backgrounds")))
