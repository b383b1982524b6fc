"""Line labels: sidecars, the background's crop/resize/flip and geometric effects checked against
the pixels they move, clipping, visibility from the id map, and the COCO, CULane and TuSimple
outputs."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from conftest import tiny_config_dict

from synthgen.assets import load_library
from synthgen.config import AssetsConfig, load_config
from synthgen.effects.pipeline import AppliedEffect
from synthgen.errors import AssetError, ConfigError
from synthgen.generator import Generator
from synthgen.lines import Line, background_matrix, clip, frame_lines, load_lines, pixel_matrix, through
from synthgen.render import render_background
from synthgen.runner import generate
from synthgen.types import BackgroundPlacement
from synthgen.writers import lanes

# a bent line in a 400 x 300 background, continuous coordinates
LINE = np.array([[40.5, 290.5], [200.5, 150.5], [260.5, 20.5]])


def _drawn(shape=(300, 400)) -> np.ndarray:
    img = np.zeros((*shape, 3), np.uint8)
    pts = np.round((LINE - 0.5) * 16).astype(np.int32)  # pixel indices, 4 fractional bits
    cv2.polylines(img, [pts], False, (255, 255, 255), 5, cv2.LINE_AA, shift=4)
    return img


def _centres(img: np.ndarray, rows) -> dict[int, float]:
    """Per row: the brightness-weighted x centre (continuous) of the drawn line."""
    g = img[..., 0].astype(np.float64) if img.ndim == 3 else img.astype(np.float64)
    out = {}
    for r in rows:
        w = g[r]
        if w.sum() > 200 and (w > 0).sum() < 0.2 * len(w):
            out[r] = float((w * (np.arange(len(w)) + 0.5)).sum() / w.sum())
    return out


def _x_at(points: np.ndarray, y: float, margin: float = 0.0) -> float | None:
    """x of the polyline at row y; None there and within ``margin`` of a corner (where a
    stroke's centroid is not on its centre line)."""
    if margin and any(abs(y - v) < margin for v in points[1:-1, 1]):
        return None
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        if min(y0, y1) <= y <= max(y0, y1) and y0 != y1:
            return x0 + (x1 - x0) * (y - y0) / (y1 - y0)
    return None


@pytest.mark.parametrize("crop,flip,canvas", [
    ((0, 0, 400, 300), False, (400, 300)),
    ((30, 20, 300, 240), False, (160, 120)),
    ((50, 10, 320, 280), True, (200, 150)),
    ((100, 60, 200, 150), True, (640, 480)),
])
def test_background_matrix_is_where_render_background_puts_the_pixels(crop, flip, canvas):
    img = _drawn()
    scene = SimpleNamespace(background=SimpleNamespace(index=0, real_scene=False, crop_xywh=crop, flip=flip), canvas_wh=canvas)
    out = render_background(scene, SimpleNamespace(background=lambda i: img))
    pts = through(LINE, background_matrix(crop, flip, canvas))
    checked = 0
    for r, x in _centres(out, range(0, canvas[1], 3)).items():
        want = _x_at(pts, r + 0.5, margin=6 * canvas[1] / crop[3])
        if want is not None and 3 < want < canvas[0] - 3:
            assert abs(x - want) <= 1.0, (r, x, want)
            checked += 1
    assert checked > 10


@pytest.mark.parametrize("effect", [
    AppliedEffect("rotate", 3, {"angle": 20.0, "direction": 1}),
    AppliedEffect("crop_scale", 3, {"scale": 0.7, "x": 0.3, "y": 0.6}),
])
def test_geometric_effects_move_lines_like_pixels(effect):
    img = _drawn()
    W, H = 400, 300
    moved = effect.effect.apply_to_image(img, effect.params)
    M = pixel_matrix(effect.effect.matrix(effect.params, (W, H)))
    pts = through(LINE, M)
    checked = 0
    for r, x in _centres(moved, range(0, H, 3)).items():
        want = _x_at(pts, r + 0.5, margin=8)
        if want is not None and 5 < want < W - 5:
            assert abs(x - want) <= 1.0, (r, x, want)
            checked += 1
    assert checked > 10


def test_clip_splits_a_line_that_leaves_and_comes_back():
    parts = clip(np.array([[-10.0, 5], [10, 5], [30, -5], [50, 5], [70, 5]]), (60, 20))
    assert len(parts) == 2
    assert np.allclose(parts[0][0], [0, 5]) and np.allclose(parts[0][-1], [20, 0])
    assert np.allclose(parts[1][0], [40, 0]) and np.allclose(parts[1][-1], [60, 5])
    assert clip(np.array([[-5.0, -5], [-1, 30]]), (60, 20)) == []


def test_visibility_from_the_id_map_and_resampling():
    covered = np.zeros((20, 60), bool)
    covered[:, 20:30] = True
    out = frame_lines((Line("lane_solid", np.array([[0.0, 10], [60, 10]])),), (0, 0, 60, 20), False, (60, 20), [], covered)
    (line,) = out
    xs = [p[0] for p in line["points"]]
    assert xs[0] == 0 and xs[-1] == 60 and all(b - a <= 8 for a, b in zip(xs, xs[1:]))
    for (x, _), v in zip(line["points"], line["visibility"]):
        assert v == (1 if 20 <= x < 30 else 2)


def test_bad_sidecars_name_the_file(tmp_path):
    p = tmp_path / "bg.lines.json"
    for text, msg in [
        ("{", "cannot read"),
        ('{"lines": [{"class": "zebra", "points": [[0, 0], [1, 1]]}]}', "lane_solid"),
        ('{"lines": [{"class": "curb", "points": [[0, 0]]}]}', "two or more"),
        ('{"lines": [{"class": "curb", "points": [[0, 0], [9000, 1]]}]}', "far outside"),
        ('{"lines": [{"class": "curb", "points": [[0, 0], [3, "4"]]}]}', "pairs of numbers"),  # not read as 4.0
        ('{"lines": [{"class": "curb", "points": [[0, 0], [true, false]]}]}', "pairs of numbers"),
        ('{"lines": [{"class": "curb", "points": [[0, 0], [10, -90]]}]}', "far outside"),  # y beyond -H (80)
        ('{"lines": [{"class": "curb", "points": [[0.1, 0.5], [0.9, 1.0]]}, {"class": "curb", "points": [[0, 0.2], [1, 1]]}]}',
         "normalised"),  # 0..1 coordinates would squash every line into the top-left pixel
    ]:
        p.write_text(text)
        with pytest.raises(AssetError, match=msg) as e:
            load_lines(p, (100, 80))
        assert str(p) in str(e.value)


def test_culane_and_tusimple_layouts():
    lines = [
        {"class": "lane_dashed", "points": [[10.5, 0.5], [30.5, 40.5]], "visibility": [2, 1]},
        {"class": "stop_line", "points": [[0.0, 30.0], [60.0, 30.0]], "visibility": [2, 2]},
    ]
    assert lanes.culane_text(lines) == "30.50 40.50 10.50 0.50\n"  # lanes only, bottom first
    e = lanes.tusimple_entry(lines, "images/x.jpg", 45)
    assert e["h_samples"] == [0, 10, 20, 30, 40]
    assert e["lanes"] == [[10, 15, 20, 25, 30]]
    short = lanes.tusimple_entry([{"class": "lane_solid", "points": [[10.5, 20.5], [10.5, 44.0]], "visibility": [2, 2]}], "x", 45)
    assert short["lanes"] == [[-2, -2, 10, 10, 10]]


def _lined_assets(root: Path) -> dict:
    data = tiny_config_dict(_make(root))
    return data


def _make(root: Path) -> Path:
    from conftest import make_assets

    assets = make_assets(root)
    bg = next(p for p in sorted((assets / "backgrounds").iterdir()) if p.suffix in {".jpg", ".png"})
    h, w = cv2.imread(str(bg)).shape[:2]
    (bg.with_name(bg.stem + ".lines.json")).write_text(json.dumps({"lines": [
        {"class": "lane_solid", "points": [[w * 0.2, h - 0.5], [w * 0.45, h * 0.3]]},
        {"class": "lane_dashed", "points": [[w * 0.8, h - 0.5], [w * 0.55, h * 0.3]]},
        {"class": "stop_line", "points": [[0, h * 0.9], [w, h * 0.9]]},
    ]}))
    return assets


def test_a_run_with_lines_writes_coco_culane_and_tusimple(tmp_path):
    data = tiny_config_dict(_make(tmp_path / "assets"))
    data["output"] = {"formats": ["coco"], "lines": True}
    data["effects"] = [{"name": "rotate", "p": 0.5, "severity": [1, 2]}]
    out = tmp_path / "out"
    generate(load_config(data=data), out, 6)
    coco = json.loads((out / "annotations.json").read_text())
    with_lines = [im for im in coco["images"] if "lines" in im]
    assert with_lines
    for im in with_lines:
        for line in im["lines"]:
            assert line["class"] in {"lane_solid", "lane_dashed", "stop_line"}
            assert len(line["points"]) == len(line["visibility"]) >= 2
            assert all(0 <= x <= im["width"] and 0 <= y <= im["height"] for x, y in line["points"])
        stem = Path(im["file_name"]).stem
        assert (out / "lines" / f"{stem}.lines.txt").is_file()
    rows = [json.loads(s) for f in (out / "shards").glob("*.tusimple.json") for s in f.read_text().splitlines()]
    assert len(rows) == len(with_lines) and all(r["raw_file"].startswith("images/") for r in rows)


def test_lines_are_off_by_default_and_refused_without_sidecars(tmp_path, tiny_assets):
    data = tiny_config_dict(_make(tmp_path / "lined"))
    s = Generator(load_config(data=data)).sample(0)
    assert "lines" not in s.image_fields
    with pytest.raises(ConfigError, match="output.lines"):
        Generator(load_config(data={**tiny_config_dict(tiny_assets), "output": {"lines": True}}))
    lib = load_library(AssetsConfig(objects=data["assets"]["objects"], backgrounds=data["assets"]["backgrounds"]))
    assert len(lib.lines) == 1 and BackgroundPlacement


def test_the_bundled_roads_are_painted_where_their_lines_say():
    from conftest import REPO

    lib = load_library(AssetsConfig(objects=str(REPO / "assets" / "objects"), backgrounds=str(REPO / "assets" / "roads")))
    assert len(lib.lines) == len(lib.backgrounds) >= 8
    kinds = set()
    for i, ref in enumerate(lib.backgrounds):
        img = cv2.cvtColor(lib.background(i), cv2.COLOR_RGB2GRAY).astype(np.float64)
        H, W = img.shape
        for line in lib.lines[i]:
            kinds.add(line.label)
            if line.label != "lane_solid":
                continue
            asphalt = np.median(img[int(H * 0.75) :, int(W * 0.3) : int(W * 0.7)])
            on = [img[int(y), int(x)] for x, y in line.points if 0 <= x < W and H * 0.75 < y < H - 1]  # near, wide paint
            if on:
                assert np.mean(on) > asphalt + 60, (ref.name, np.mean(on), asphalt)
    assert {"lane_solid", "lane_dashed", "curb", "stop_line"} <= kinds


def test_the_road_preset_writes_lane_labels(tmp_path):
    from conftest import REPO

    out = tmp_path / "out"
    generate(load_config(REPO / "configs" / "road.yaml", ["canvas.width=320", "canvas.height=240"]), out, 3)
    assert len(list((out / "lines").glob("*.lines.txt"))) == 3
    rows = [json.loads(s) for s in (out / "shards" / "shard-000000.tusimple.json").read_text().splitlines()]
    assert len(rows) == 3 and all(r["lanes"] and len(r["lanes"][0]) == len(r["h_samples"]) == 24 for r in rows)


def test_a_complete_run_merges_tusimple_files_and_culane_lists_by_part(tmp_path):
    from synthgen.writers.merge import merge_run

    data = tiny_config_dict(_make(tmp_path / "assets"))
    data["output"] = {"formats": ["coco"], "lines": True, "val_fraction": 0.5}
    out = tmp_path / "out"
    generate(load_config(data=data), out, 9, shard_size=4)
    part = {Path(json.loads(s)["file_name"]).name: json.loads(s)["split"] for s in (out / "metadata.jsonl").read_text().splitlines()}
    assert set(part.values()) == {"train", "val"}
    shard_rows = [s for f in sorted((out / "shards").glob("*.tusimple.json")) for s in f.read_text().splitlines()]
    assert 2 <= len(shard_rows) < 9  # images on the one background with lines
    for p in ("train", "val"):
        rows = (out / "lanes" / f"tusimple_{p}.json").read_text().splitlines()
        assert rows == [r for r in shard_rows if part[Path(json.loads(r)["raw_file"]).name] == p]  # index order
        listed = (out / "list" / f"{p}.txt").read_text().splitlines()
        assert listed == ["/" + json.loads(r)["raw_file"] for r in rows]
        for line in listed:  # CULane: the image, and its lanes under lines/
            assert (out / line[1:]).is_file() and (out / "lines" / f"{Path(line).stem}.lines.txt").is_file()
    # merged elsewhere: the same files, the lines linked there too
    merge_run(out, tmp_path / "merged")
    assert (tmp_path / "merged" / "lanes" / "tusimple_val.json").read_text() == (out / "lanes" / "tusimple_val.json").read_text()
    assert len(list((tmp_path / "merged" / "lines").glob("*.lines.txt"))) == len(shard_rows)
    # --overwrite by another run removes them, and only them
    (out / "lanes" / "mine.txt").write_text("keep")
    generate(load_config(data={**data, "seed": 5, "output": {"formats": ["coco"]}}), out, 2, overwrite=True)
    assert [p.name for p in (out / "lanes").iterdir()] == ["mine.txt"]
    assert not (out / "list").exists() and not (out / "lines").exists()


def test_a_run_without_a_validation_part_puts_every_lane_in_train(tmp_path):
    data = tiny_config_dict(_make(tmp_path / "assets"))
    data["output"] = {"formats": ["coco"], "lines": True, "val_fraction": 0.0}
    out = tmp_path / "out"
    generate(load_config(data=data), out, 6)
    shard_rows = (out / "shards" / "shard-000000.tusimple.json").read_text().splitlines()
    assert shard_rows and (out / "lanes" / "tusimple_train.json").read_text().splitlines() == shard_rows
    assert not (out / "lanes" / "tusimple_val.json").exists() and not (out / "list" / "val.txt").exists()


def _hand_lines(lines_file: Path, bg: dict, W: int, H: int, then) -> list[np.ndarray]:
    """The background's lines in the frame, by hand: crop, resize, the background's mirror, then
    ``then`` (the pipeline's move, continuous coordinates); not clipped."""
    cx, cy, cw, ch = bg["crop_xywh"]
    out = []
    for line in json.loads(lines_file.read_text())["lines"]:
        pts = np.array([((x - cx) * W / cw, (y - cy) * H / ch) for x, y in line["points"]])
        if bg["flip"]:
            pts[:, 0] = W - pts[:, 0]
        out.append(np.array([then(x, y) for x, y in pts]))
    return out


def _distance_to(polyline: np.ndarray, p: np.ndarray) -> float:
    a, b = polyline[:-1], polyline[1:]
    d = b - a
    t = np.clip(((p - a) * d).sum(1) / np.maximum((d * d).sum(1), 1e-12), 0, 1)
    return float(np.hypot(*(a + t[:, None] * d - p).T).min())


@pytest.mark.parametrize("name,then", [
    ("flip", lambda x, y: (96 - x, y)),  # A.HorizontalFlip: pixel i -> W - 1 - i, COCO x -> W - x
    ("affine", lambda x, y: (x + 7, y - 5)),  # A.Affine(translate_px=(7, -5))
    ("half_turn", lambda x, y: (96 - x, 72 - y)),  # A.Affine(rotate=180) about the centre
])
def test_lines_go_through_a_pixel_moving_albumentations_pipeline_as_keypoints(tmp_path, name, then):
    import albumentations as A

    transform = {"flip": A.HorizontalFlip(p=1.0),
                 "affine": A.Affine(translate_px={"x": 7, "y": -5}, rotate=0, scale=1.0, p=1.0),
                 "half_turn": A.Affine(rotate=(180, 180), scale=1.0, p=1.0)}[name]
    assets = _make(tmp_path / "assets")
    data = tiny_config_dict(assets)
    data["output"] = {"formats": ["coco"], "lines": True}
    data["albumentations"] = A.to_dict(A.Compose([transform]))
    gen = Generator(load_config(data=data))
    checked = 0
    for i in range(8):
        s = gen.sample(i)
        if "lines" not in s.image_fields:
            continue
        bg = s.metadata["scene"]["background"]
        W, H = s.image.shape[1], s.image.shape[0]
        lines_file = assets / "backgrounds" / bg["name"].rsplit(".", 1)[0]
        hand = _hand_lines(Path(str(lines_file) + ".lines.json"), bg, W, H, then)
        got = s.image_fields["lines"]
        for line in got:
            pts = np.array(line["points"])
            assert (pts >= 0).all() and (pts[:, 0] <= W).all() and (pts[:, 1] <= H).all()
            # every point lies on its line where the hand-moved polyline says
            assert min(max(_distance_to(h, p) for p in pts) for h in hand) < 0.02, (i, line["class"])
            for (x, y), v in zip(line["points"], line["visibility"]):
                # the translation leaves fill in its first 7 columns and last 5 rows: nothing visible there
                c, r = min(int(x), W - 1), min(int(y), H - 1)
                assert (v == 0) == (name == "affine" and (c < 7 or r >= H - 5)), (i, x, y, v)
        # and every part of the hand-moved lines inside the frame is labeled
        for h in hand:
            for part in clip(h, (W, H)):
                fine = np.array([part[0] + (part[-1] - part[0]) * t for t in np.linspace(0.02, 0.98, 9)]) if len(part) == 2 else part
                for p in fine:
                    near = min(float(np.hypot(*(np.array(line["points"]) - p).T).min()) for line in got)
                    assert near <= 4.01, (i, p, near)  # points every 8 px along the line
        checked += 1
    assert checked >= 2


def test_a_still_pipeline_leaves_the_lines_as_they_were(tmp_path):
    """A pipeline that moves no pixel: lines as computed without it, byte for byte."""
    import albumentations as A

    data = tiny_config_dict(_make(tmp_path / "assets"))
    data["output"] = {"formats": ["coco"], "lines": True}
    plain = Generator(load_config(data=data))
    still = Generator(load_config(data={**data, "albumentations": A.to_dict(A.Compose([A.RandomBrightnessContrast(p=1.0)]))}))
    for i in range(4):
        assert plain.sample(i).image_fields.get("lines") == still.sample(i).image_fields.get("lines")


def test_no_line_point_is_visible_where_an_albumentations_pipeline_left_only_its_fill():
    """An Affine that shrinks the image leaves a border of fill (black, fill=0): the background's
    lines continue there in coordinates, but the image shows nothing, so no point there may be
    v > 0 (they were v 2, and went into CULane and TuSimple). Judged on the image itself: a fill
    pixel is exactly black, as nothing after the pipeline changes pixels here."""
    import albumentations as A
    from conftest import REPO

    cfg = load_config(REPO / "configs" / "road.yaml", overrides=[
        "effects=[]", "canvas.width=160", "canvas.height=120", "scene.objects_per_image=[0,1]"])
    cfg = cfg.model_copy(update={"albumentations": A.to_dict(A.Compose([A.Affine(scale=0.6, rotate=(-10, 10), p=1.0)]))})
    gen = Generator(cfg)
    checked = in_fill = 0
    for index in range(3):
        s = gen.sample(index)
        fill = cv2.erode((s.image.max(axis=2) == 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        assert fill.any()
        for line in s.image_fields["lines"]:
            for (x, y), v in zip(line["points"], line["visibility"]):
                if v:
                    checked += 1
                    in_fill += bool(fill[min(int(y), 119), min(int(x), 159)])
    assert checked and in_fill == 0, f"{in_fill} of {checked} visible line points lie in the pipeline's fill"


@pytest.mark.parametrize("moves", [False, True], ids=["dropout alone", "flip then dropout"])
def test_no_line_point_is_visible_where_a_dropout_erased_the_paint(moves):
    """CoarseDropout (fill 0, fill_mask 0) moves no pixel but erases holes: a lane point in a hole
    is hidden as one under an object is (v 1), never v 2 (it went into CULane and TuSimple as seen,
    on black pixels). Judged on the image: a hole pixel is exactly black. The same when the
    pipeline also moves pixels (a flip first): the holes were taken for its fill (v 0)."""
    import albumentations as A
    from conftest import REPO

    cfg = load_config(REPO / "configs" / "road.yaml", overrides=[
        "effects=[]", "canvas.width=160", "canvas.height=120", "scene.objects_per_image=[0,1]"])
    drop = A.CoarseDropout(num_holes_range=(4, 6), hole_height_range=(0.15, 0.3), hole_width_range=(0.15, 0.3),
                           fill=0, fill_mask=0, p=1.0)
    cfg = cfg.model_copy(update={"albumentations": A.to_dict(A.Compose([A.HorizontalFlip(p=1.0), drop] if moves else [drop]))})
    gen = Generator(cfg)
    in_hole = hidden = 0
    for index in range(4):
        s = gen.sample(index)
        hole = cv2.erode((s.image.max(axis=2) == 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        for line in s.image_fields["lines"]:
            for (x, y), v in zip(line["points"], line["visibility"]):
                if hole[min(int(y), 119), min(int(x), 159)]:
                    in_hole += 1
                    hidden += v == 1
    assert in_hole and hidden == in_hole, f"{in_hole - hidden} of {in_hole} line points in dropout holes are not v 1"
