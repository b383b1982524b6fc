"""Background classes ("stuff"): a background's label image, through the background's crop,
resize, flip and geometric effects, under the objects, in the semantic and panoptic outputs.

The expected maps are made here by hand from the label image and the scene record (numpy
indexing for crop / resize / flip, a rotation matrix written out from the recorded angle),
never by the code that wrote them."""

from __future__ import annotations

import json
import math
import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import cv2
import numpy as np
import pytest

from synthgen.config import load_config
from synthgen.errors import AssetError
from synthgen.generator import Generator
from synthgen.io.coco import annotation_mask
from synthgen.io.panoptic import decode_segments, read_panoptic
from synthgen.io.semantic import read_class_map, read_semantic_classes
from synthgen.runner import generate
from synthgen.tools.validate import validate_path
from synthgen.writers.semantic import IGNORE

from conftest import make_assets, tiny_config_dict

NAMES = {1: "sky", 2: "road", 3: "grass"}


def _label_image(h: int, w: int, seed: int) -> np.ndarray:
    """Blocks of three classes, a not-scored corner and fine stripes (so a wrong resize or flip
    shows): every value 0..3 and 255."""
    lab = np.zeros((h, w), np.uint8)
    lab[: h // 3] = 1
    lab[h // 3 :, : w // 2] = 2
    lab[h // 3 :, w // 2 :] = 3
    lab[:, 7::11] = 2  # thin vertical stripes
    lab[h - 9 :, w - 13 :] = 255
    lab[h // 2 : h // 2 + 5, 3:20] = 0
    rng = np.random.default_rng(seed)
    lab[rng.random((h, w)) < 0.01] = 1
    return lab


def _labeled_assets(root):
    assets = make_assets(root)
    bg = assets / "backgrounds"
    for i, (w, h) in enumerate([(160, 120), (160, 140)]):
        cv2.imwrite(str(bg / f"bg{i}.labels.png"), _label_image(h, w, i))
    # bg0 names its own values; bg1 takes the folder's labels.json
    (bg / "bg0.labels.json").write_text(json.dumps({"classes": {str(k): v for k, v in NAMES.items()}}))
    (bg / "labels.json").write_text(json.dumps({"classes": {str(k): v for k, v in NAMES.items()}}))
    return assets


def _config(assets, effects=(), ignore=("distractors", "unlabeled"), **scene):
    data = tiny_config_dict(assets, objects_per_image=[2, 4], distractors={"count": [1, 2]}, **scene)
    data["canvas"] = {"width": 128, "height": 96}
    data["effects"] = list(effects)
    data["output"] = {"formats": ["coco", "semantic", "panoptic", "voc"], "val_fraction": 0.0, "semantic_ignore": list(ignore)}
    return load_config(data=data)


def _by_hand(label: np.ndarray, crop, flip: bool, canvas_wh) -> np.ndarray:
    """Crop, nearest resize with pixel centres aligned, mirror: numpy indexing only."""
    x, y, w, h = crop
    W, H = canvas_wh
    cols = np.minimum(np.floor((np.arange(W) + 0.5) * w / W).astype(int), w - 1) + x
    rows = np.minimum(np.floor((np.arange(H) + 0.5) * h / H).astype(int), h - 1) + y
    out = label[rows][:, cols]
    return out[:, ::-1] if flip else out


def _to_indices(values: np.ndarray, classes) -> np.ndarray:
    """Label values -> semantic indices through the names in semantic_classes.json."""
    by_name = {n: i for i, n in classes.names.items()}
    lut = np.zeros(256, np.uint8)
    lut[255] = IGNORE
    for v, n in NAMES.items():
        lut[v] = by_name[n]
    return lut[values]


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("stuff")
    assets = _labeled_assets(root / "assets")
    out = root / "out"
    generate(_config(assets), out, 10, shard_size=4)
    return out, assets


def _metadata(out):
    return [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]




def _instance_map(out, name, H, W):
    """Category per pixel from the COCO masks (0 where no annotation)."""
    doc = json.loads((out / "annotations.json").read_text())
    iid = next(im["id"] for im in doc["images"] if im["file_name"].startswith(name))
    want = np.zeros((H, W), np.uint8)
    for a in doc["annotations"]:
        if a["image_id"] == iid:
            want[annotation_mask("test", a["segmentation"], H, W)] = a["category_id"]
    return want


def test_classes_follow_the_things_sorted_and_flagged(plain_run):
    out, _ = plain_run
    classes = read_semantic_classes(out / "semantic_classes.json")
    # two object classes (disc 1, square 2), then the background classes by name
    assert [classes.names[i] for i in (1, 2, 3, 4, 5)] == ["disc", "square", "grass", "road", "sky"]
    assert classes.stuff == {3, 4, 5}
    pan = read_panoptic(out / "panoptic.json")
    assert {c["id"]: (c["name"], c["isthing"]) for c in pan.categories.values()} == {
        1: ("disc", 1), 2: ("square", 1), 3: ("grass", 0), 4: ("road", 0), 5: ("sky", 0)}
    assert json.loads((out / "manifest.json").read_text())["stuff_classes"] == ["grass", "road", "sky"]


def test_stuff_is_the_label_image_cropped_resized_flipped_by_hand(plain_run):
    out, assets = plain_run
    classes = read_semantic_classes(out / "semantic_classes.json")
    flips = crops = 0
    for meta in _metadata(out):
        bg = meta["scene"]["background"]
        W, H = meta["width"], meta["height"]
        label = cv2.imread(str(assets / "backgrounds" / bg["name"].replace(".jpg", ".labels.png")), cv2.IMREAD_UNCHANGED)
        expected = _to_indices(_by_hand(label, bg["crop_xywh"], bg["flip"], (W, H)), classes)
        flips += bg["flip"]
        crops += tuple(bg["crop_xywh"][2:]) != label.shape[::-1]
        got = read_class_map(out / "semantic" / f"{meta['name']}.png")
        things = _instance_map(out, meta["name"], H, W)
        free = (things == 0) & (got != IGNORE)  # every object is annotated or ignored in this run
        assert np.array_equal(got[free], expected[free]), meta["name"]
        assert (things[things > 0] == got[things > 0]).all()
        # objects hide the background classes; what is not hidden shows them
        assert np.count_nonzero(free) > 0.3 * W * H
        # panoptic: one stuff segment per class shown, exactly the semantic map's pixels
        ann = next(a for a in read_panoptic(out / "panoptic.json").annotations.values() if a["file_name"] == f"{meta['name']}.png")
        ids = decode_segments(out / "panoptic" / f"{meta['name']}.png")
        stuff = [s for s in ann["segments_info"] if s["id"] >= 1000]
        assert sorted(s["category_id"] for s in stuff) == sorted(set(got[np.isin(got, list(classes.stuff))].tolist()))
        for s in stuff:
            assert np.array_equal(ids == s["id"], got == s["category_id"])
            assert s["area"] == int(np.count_nonzero(ids == s["id"]))
        # VOC has no background classes: its class map is the things' only
        voc = read_class_map(out / "SegmentationClass" / f"{meta['name']}.png")
        assert not np.isin(voc, list(classes.stuff)).any()
    assert flips and crops


def test_validate_accepts_and_catches_a_wrong_stuff_pixel(plain_run, tmp_path):
    out, _ = plain_run
    report = validate_path(out)
    assert not report.problems, report.problems[:5]
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    meta = _metadata(bad)[0]
    path = bad / "semantic" / f"{meta['name']}.png"
    got = read_class_map(path)
    classes = read_semantic_classes(bad / "semantic_classes.json")
    things = _instance_map(bad, meta["name"], meta["height"], meta["width"])
    ys, xs = np.nonzero(np.isin(got, list(classes.stuff)) & (things == 0))
    from PIL import Image

    img = Image.open(path)
    arr = np.array(img)
    arr[ys[0], xs[0]] = 3 if arr[ys[0], xs[0]] != 3 else 4  # another background class
    out_img = Image.fromarray(arr, "P")
    out_img.putpalette(img.getpalette())
    out_img.save(path)
    problems = validate_path(bad).problems
    assert any("stuff segments" in p.message for p in problems), problems


def _rotation(angle: float, W: int, H: int) -> np.ndarray:
    """Rotate's matrix written out: about the centre, zoomed to cover the frame."""
    t = math.radians(angle)
    c, s = abs(math.cos(t)), abs(math.sin(t))
    zoom = max((W * c + H * s) / W, (W * s + H * c) / H)
    ct, st = math.cos(t) * zoom, math.sin(t) * zoom
    cx, cy = (W - 1) / 2.0, (H - 1) / 2.0
    return np.array([[ct, st, cx - ct * cx - st * cy], [-st, ct, cy + st * cx - ct * cy]])


def test_stuff_follows_a_rotation_warped_by_hand(tmp_path):
    assets = _labeled_assets(tmp_path / "assets")
    cfg = _config(assets, effects=[{"name": "rotate", "p": 1.0, "severity": [2, 5]}])
    gen = Generator(cfg)
    classes_by_name = {n: i for i, n in enumerate((*gen.classes, *gen.stuff_classes), 1)}
    seen = 0
    for index in range(8):
        s = gen.sample(index)
        if s.stuff is None:
            continue
        seen += 1
        bg = s.scene.background
        W, H = s.scene.canvas_wh
        (rot,) = [c for c in s.metadata["conditions"] if c["name"] == "rotate"]
        angle = rot["params"]["angle"] * rot["params"].get("direction", 1)
        label = cv2.imread(str(assets / "backgrounds" / bg.name.replace(".jpg", ".labels.png")), cv2.IMREAD_UNCHANGED)
        lut = np.zeros(256, np.uint8)
        lut[255] = 255
        for v, n in NAMES.items():
            lut[v] = classes_by_name[n]
        before = lut[_by_hand(label, bg.crop_xywh, bg.flip, (W, H))]
        expected = cv2.warpAffine(before, _rotation(angle, W, H), (W, H), flags=cv2.INTER_NEAREST, borderValue=0)
        assert np.array_equal(s.stuff, expected), index
        assert np.mean(s.stuff != before) > 0.05  # the rotation did move it
    assert seen >= 2


def test_no_labels_no_stuff_and_no_cost(tiny_assets):
    data = tiny_config_dict(tiny_assets)
    data["output"] = {"formats": ["coco", "semantic", "panoptic"]}
    gen = Generator(load_config(data=data))
    assert gen.library.labels == {} and gen.stuff_classes == ()
    assert gen.sample(0).stuff is None


def test_only_semantic_and_panoptic_runs_read_labels(tmp_path):
    assets = _labeled_assets(tmp_path / "assets")
    data = tiny_config_dict(assets)
    data["output"] = {"formats": ["coco", "yolo"]}
    gen = Generator(load_config(data=data))
    assert all(gen.sample(i).stuff is None for i in range(3))


@pytest.mark.parametrize(
    "case, message",
    [
        ("no_names", "needs its class names"),
        ("unknown_value", "does not name"),
        ("wrong_size", "but its background is"),
        ("larger", r"label image is 320x240 but its background is 160x120"),  # not an assets.max_pixels matter
        ("dup_value", r"classes key '1' is given twice"),
        ("thing_name", "also classes of pasted objects"),
        ("bad_key", "is not a label value"),
        ("rgb", "label image is a RGB image"),
    ],
)
def test_broken_labels_name_the_file(tmp_path, case, message):
    assets = make_assets(tmp_path / "assets")
    bg = assets / "backgrounds"
    lab = _label_image(120, 160, 0)
    names = {"classes": {str(k): v for k, v in NAMES.items()}}
    if case == "unknown_value":
        lab[0, 0] = 9
    if case == "wrong_size":
        lab = lab[:100]
    if case == "larger":
        lab = cv2.resize(lab, (320, 240), interpolation=cv2.INTER_NEAREST)
    if case == "thing_name":
        names["classes"]["2"] = "disc"
    if case == "bad_key":
        names["classes"]["road"] = "road"
    if case == "rgb":
        lab = np.dstack([lab] * 3)
    cv2.imwrite(str(bg / "bg0.labels.png"), lab)
    if case == "dup_value":  # JSON keeps the last of two equal keys: which class did the user mean?
        (bg / "bg0.labels.json").write_text('{"classes": {"1": "sky", "2": "road", "3": "grass", "1": "road"}}')
    elif case != "no_names":
        (bg / "bg0.labels.json").write_text(json.dumps(names))
    data = tiny_config_dict(assets)
    data["output"] = {"formats": ["semantic"]}
    with pytest.raises(AssetError, match=message) as err:
        gen = Generator(load_config(data=data))
        for i in range(6):
            gen.sample(i)
    assert "bg0.labels" in str(err.value)


def test_bundled_backgrounds_carry_labels():
    from synthgen.assets import load_library

    cfg = load_config(None)
    lib = load_library(cfg.assets)
    labeled = {lib.backgrounds[i].name for i in lib.labels}
    assert {"procedural_road.jpg", "procedural_pavement.jpg", "grass.jpg"} <= labeled
    assert set(lib.stuff) >= {"road", "sidewalk", "vegetation", "sky", "lane_marking"}
    for i in lib.labels:
        lab = lib.label_image(i)
        assert lab.shape == lib.background(i).shape[:2]


def test_road_preset_lane_pixels_lie_on_its_lines():
    """The bundled roads' lane_marking pixels are drawn from the same polylines as their lines:
    a visible lane point of the COCO entry lies on (or next to) a lane_marking pixel, where the
    paint is wide enough to survive a nearest resize (the lower part of the frame)."""
    from synthgen.bundled import preset
    from synthgen.writers.semantic import class_map, with_stuff

    cfg = load_config(preset("road.yaml"), overrides=["output.formats=[coco,semantic]", "canvas.width=320", "canvas.height=240"])
    gen = Generator(cfg)
    lane = len(gen.classes) + 1 + gen.stuff_classes.index("lane_marking")
    curb = len(gen.classes) + 1 + gen.stuff_classes.index("curb")
    hits = total = 0
    for index in range(6):
        s = gen.sample(index)
        sem = with_stuff(class_map(s, cfg.output.semantic_ignore), s)
        # far away a curb's paint, drawn after the lane's, lies over the edge lines
        painted = (sem == lane) | (sem == curb)
        near = cv2.dilate(painted.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        for line in s.image_fields["lines"]:
            if line["class"] != "lane_solid":  # a dashed line's polyline runs through its gaps
                continue
            for (x, y), v in zip(line["points"], line["visibility"]):
                r, c = min(int(y), 239), min(int(x), 319)
                if v == 2 and line["class"] == "lane_solid" and y > 0.6 * 240 and s.id_map[r, c] == 0 and (s.unlabeled is None or s.unlabeled[r, c] == 0):
                    total += 1
                    hits += bool(near[r, c])
    assert total > 50
    assert hits / total > 0.97, (hits, total)


def test_stuff_follows_an_albumentations_flip(tmp_path):
    """The pipeline's draws replayed on the class map: a horizontal flip mirrors it."""
    import albumentations as A

    assets = _labeled_assets(tmp_path / "assets")
    cfg = _config(assets)
    data = cfg.model_dump(mode="json")
    data["albumentations"] = A.to_dict(A.Compose([A.HorizontalFlip(p=0.5)]))
    gen = Generator(load_config(data=data))
    lut = _class_lut(gen)
    flipped = kept = 0
    for index in range(10):
        s = gen.sample(index)
        if s.stuff is None:
            continue
        before = _background_classes_by_hand(assets, s, lut)
        applied = [t[0] for t in s.metadata["conditions"][-1]["params"]["applied"]]
        want = before[:, ::-1] if "HorizontalFlip" in applied else before
        flipped += "HorizontalFlip" in applied
        kept += "HorizontalFlip" not in applied
        assert np.array_equal(s.stuff, want), index
    assert flipped and kept


def _class_lut(gen) -> np.ndarray:
    """Label value of the test label images -> the run's class index (255 stays ignore)."""
    classes_by_name = {n: i for i, n in enumerate((*gen.classes, *gen.stuff_classes), 1)}
    lut = np.zeros(256, np.uint8)
    lut[255] = 255
    for v, n in NAMES.items():
        lut[v] = classes_by_name[n]
    return lut


def _background_classes_by_hand(assets, s, lut) -> np.ndarray:
    """The sample's background classes before any pipeline: its label image cropped, resized and
    flipped by hand as the scene says."""
    bg = s.scene.background
    label = cv2.imread(str(assets / "backgrounds" / bg.name.replace(".jpg", ".labels.png")), cv2.IMREAD_UNCHANGED)
    return lut[_by_hand(label, bg.crop_xywh, bg.flip, s.scene.canvas_wh)]


def test_stuff_follows_a_crop_the_pipeline_chooses_from_the_objects(tmp_path):
    """CropNonEmptyMaskIfExists picks its window from the id map: replayed on the class map (or
    on a map of ones for where the image is), it must pick the same one, the window the
    pipeline recorded for the image."""
    import albumentations as A

    assets = _labeled_assets(tmp_path / "assets")
    cfg = _config(assets)
    W, H = cfg.canvas.width, cfg.canvas.height
    data = cfg.model_dump(mode="json")
    data["albumentations"] = A.to_dict(A.Compose([A.CropNonEmptyMaskIfExists(H // 2, W // 2, p=1),
                                                  A.Resize(H, W, mask_interpolation=cv2.INTER_NEAREST, p=1)]))
    gen = Generator(load_config(data=data))
    lut = _class_lut(gen)
    checked = 0
    for index in range(6):
        s = gen.sample(index)
        if s.stuff is None:
            continue
        before = _background_classes_by_hand(assets, s, lut)
        (name, params), _ = s.metadata["conditions"][-1]["params"]["applied"]
        x0, y0, x1, y1 = params["crop_coords"]  # the image's window, as the pipeline recorded it
        want = _by_hand(before, (x0, y0, x1 - x0, y1 - y0), False, (W, H))
        assert np.array_equal(s.stuff, want), index
        # the background plate (labels' contrast) went through the same window: it is the image
        # wherever no object was drawn, a few pixels away from soft edges
        r = gen.render_frame(s.scene)
        drawn = (r.frame.id_map > 0) | (s.unlabeled > 0)
        free = cv2.dilate(drawn.astype(np.uint8), np.ones((15, 15), np.uint8)) == 0
        assert free.sum() > 500 and np.abs(r.plate[free].astype(int) - r.frame.image[free]).max() <= 4, index
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("case, message", [("wrong_size", "label image is 160x100 but its background is 160x140"),
                                           ("rgb", "label image is a RGB image")])
def test_a_label_image_of_the_wrong_size_or_mode_stops_a_semantic_run_before_its_first_image(tmp_path, case, message):
    # the size and mode are in the header: a run that would meet this background only late (one
    # background of many, image 900 000 of a million) is stopped at once, not there
    assets = _labeled_assets(tmp_path / "assets")
    lab = _label_image(140, 160, 1)
    lab = lab[:100] if case == "wrong_size" else np.dstack([lab] * 3)
    cv2.imwrite(str(assets / "backgrounds" / "bg1.labels.png"), lab)
    data = tiny_config_dict(assets)
    data["output"] = {"formats": ["coco", "semantic"]}
    with pytest.raises(AssetError, match=message) as err:
        Generator(load_config(data=data))
    assert "bg1.labels.png" in str(err.value)
    data["output"] = {"formats": ["coco"]}  # a run that shows no background classes never reads it
    Generator(load_config(data=data)).sample(0)


def test_an_unnamed_label_value_stops_a_semantic_run_before_its_first_image(tmp_path):
    """A value a label image holds and its labels.json does not name was found only when that
    image was first decoded (one background of many: possibly hours into a run). A semantic or
    panoptic run now reads every label image once before it writes anything."""
    assets = _labeled_assets(tmp_path / "assets")
    lab = _label_image(140, 160, 1)
    lab[5, 5] = 9
    cv2.imwrite(str(assets / "backgrounds" / "bg1.labels.png"), lab)
    data = tiny_config_dict(assets)
    data["output"] = {"formats": ["coco", "panoptic"]}
    out = tmp_path / "out"
    with pytest.raises(AssetError, match=r"bg1\.labels\.png: holds values \[9\] that .*labels\.json does not name"):
        generate(load_config(data=data), out, 3, shard_size=1)
    assert not out.exists()  # before the output folder, its manifest or any image
    data["output"] = {"formats": ["coco"]}  # a run that shows no background classes never reads it
    generate(load_config(data=data), tmp_path / "coco", 1)
