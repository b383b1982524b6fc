#!/usr/bin/env python3
"""Regenerate the pictures and references under docs/ from the current code and configs.

    python scripts/make_docs.py

Writes docs/preview.jpg (default config, labels drawn), docs/presets.jpg (one tile per preset
in configs/), docs/presets/<preset>.jpg (a labeled sheet per preset), docs/effects.md and
docs/pose.jpg (the street preset as a pose dataset: keypoints and skeletons drawn; alone with
``--pose``), docs/semantic_overlay.jpg (a street run's semantic maps, read back from the files
it wrote, over its images; alone with ``--semantic``) and docs/lanes.jpg (a road preset run's
lane labels drawn from the files it wrote; alone with ``--lanes``). ``--clips`` (alone) writes
docs/clips.jpg, a filmstrip of a real ``synthgen clips`` run.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import cv2
import numpy as np

from synthgen.config import load_config
from synthgen.effects.reference import effect_reference
from synthgen.generator import Generator
from synthgen.tools.preview import contact_sheet, draw_sample

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PRESETS = ["street", "night", "fog", "rain", "snow", "glare", "motion_blur", "heavy_occlusion"]


def _write(path: Path, rgb: np.ndarray, quality: int = 88) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    print(f"wrote {path.relative_to(ROOT)}")


def _caption(img: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((24, img.shape[1], 3), 30, np.uint8)
    cv2.putText(bar, text, (6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (235, 235, 235), 1, cv2.LINE_AA)
    return np.vstack([bar, img])


def main() -> None:
    gen = Generator(load_config())
    _write(DOCS / "preview.jpg", contact_sheet([gen.sample(i) for i in range(8)], cols=4))

    tiles = []
    for name in PRESETS:
        g = Generator(load_config(ROOT / "configs" / f"{name}.yaml"))
        samples = [g.sample(i) for i in range(8)]
        _write(DOCS / "presets" / f"{name}.jpg", contact_sheet(samples, cols=4, tile_width=320))
        # the tile: the first image that had a condition applied (or the first one)
        pick = next((s for s in samples if s.metadata["conditions"]), samples[0])
        conds = ", ".join(f"{c['name']} {c['severity']}" for c in pick.metadata["conditions"][:3]) or "clear"
        tile = cv2.resize(pick.image, (320, 240), interpolation=cv2.INTER_AREA)
        tiles.append(_caption(tile, f"{name}.yaml: {conds}"))
    rows = [np.hstack(tiles[i : i + 4]) for i in range(0, len(tiles), 4)]
    _write(DOCS / "presets.jpg", np.vstack(rows))

    (DOCS / "effects.md").write_text(effect_reference(markdown=True))
    print("wrote docs/effects.md")
    make_pad_picture()
    make_pose_picture()
    make_semantic_picture()
    make_lanes_picture()


def make_pose_picture() -> None:
    """The street preset with ``output.yolo_task=pose``, as ``synthgen preview`` draws it (large
    tiles: the points of small objects stay visible)."""
    g = Generator(load_config(ROOT / "configs" / "street.yaml", ["output.yolo_task=pose"]))
    skeletons = {c: k.skeleton for c, k in g.library.keypoint_schemas.items()}
    sheet = contact_sheet([g.sample(i) for i in range(4)], cols=2, tile_width=640,
                          draw=partial(draw_sample, skeletons=skeletons))
    _write(DOCS / "pose.jpg", sheet, quality=82)


def make_semantic_picture() -> None:
    """``synthgen generate configs/street.yaml --format coco,yolo,semantic,panoptic,voc``, run for
    real; its ``semantic/`` maps drawn over its images in ``semantic_classes.json``'s colours,
    as the report's gallery draws them: the first six images whose background carries a label
    image (road, sidewalk, sky, ...: the preset also draws unlabeled photos as backgrounds)."""
    import tempfile

    from synthgen.io.images import read_rgb
    from synthgen.io.semantic import read_class_map, read_semantic_classes
    from synthgen.runner import generate
    from synthgen.tools.semantic_view import legend, overlay

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "street"
        cfg = load_config(ROOT / "configs" / "street.yaml", ['output.formats=["coco","yolo","semantic","panoptic","voc"]'])
        generate(cfg, out, 40, workers=1)
        classes = read_semantic_classes(out / "semantic_classes.json")
        tiles = []
        for path in sorted((out / "images").iterdir()):
            cmap = read_class_map(out / "semantic" / f"{path.stem}.png")
            if len(tiles) == 6 or not np.isin(cmap, list(classes.stuff)).any():
                continue
            tile = overlay(read_rgb(path), cmap, classes.colors, width=460, ignore=classes.ignore_index)
            present = [int(k) for k in np.unique(cmap) if k != 0]
            strip = legend(present, classes.names, classes.colors, tile.shape[1])
            tiles.append(np.vstack([tile, strip]))
        h = max(t.shape[0] for t in tiles)
        tiles = [np.vstack([t, np.full((h - t.shape[0], t.shape[1], 3), 255, np.uint8)]) for t in tiles]
        gap = np.full((h, 6, 3), 255, np.uint8)
        rows = [np.hstack([tiles[i], gap, tiles[i + 1], gap, tiles[i + 2]]) for i in (0, 3)]
        sheet = np.vstack([rows[0], np.full((6, rows[0].shape[1], 3), 255, np.uint8), rows[1]])
        _write(DOCS / "semantic_overlay.jpg", sheet, quality=82)


LANES_SET = ["scene.placement.lanes.classes=[car,bus,truck]"]


def make_lanes_picture() -> None:
    """``synthgen generate configs/road.yaml --set scene.placement.lanes.classes=[car,bus,truck]``,
    run for real; its lane labels drawn from the files the run wrote (annotations.json's
    ``lines``), each tile captioned with what its CULane and TuSimple files hold."""
    import json
    import tempfile

    from synthgen.runner import generate
    from synthgen.tools.draw_points import draw_lines

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "road"
        generate(load_config(ROOT / "configs" / "road.yaml", LANES_SET), out, 4, workers=1)
        coco = json.loads((out / "annotations.json").read_text())
        tusimple = {}
        for f in sorted((out / "lanes").glob("tusimple_*.json")):
            for row in f.read_text().splitlines():
                entry = json.loads(row)
                tusimple[entry["raw_file"]] = entry
        tiles = []
        for im in coco["images"]:
            rgb = cv2.cvtColor(cv2.imread(str(out / "images" / im["file_name"])), cv2.COLOR_BGR2RGB)
            draw_lines(rgb, im.get("lines"))
            stem = Path(im["file_name"]).stem
            culane = (out / "lines" / f"{stem}.lines.txt").read_text().splitlines()
            rows = tusimple[f"images/{im['file_name']}"]
            marked = sum(x >= 0 for lane in rows["lanes"] for x in lane)
            tiles.append(_caption(rgb, f"#{stem}: {len(im['lines'])} lines; CULane {len(culane)} lanes; "
                                       f"TuSimple {marked} x at {len(rows['h_samples'])} rows"))
    rows = [np.hstack(tiles[i : i + 2]) for i in range(0, len(tiles), 2)]
    _write(DOCS / "lanes.jpg", cv2.resize(np.vstack(rows), None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA), quality=85)


def make_pad_picture() -> None:
    """The README's "Pad a real dataset" walk-through, run for real on a stand-in dataset:
    split -> extract (train part) -> generate (train scenes) -> combine (provenance checked)."""
    import tempfile

    from synthgen.io.real import load_coco
    from synthgen.runner import generate
    from synthgen.tools.combine import combine
    from synthgen.tools.extract import ExtractOptions, extract
    from synthgen.tools.split import split_dataset

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # a stand-in for a user's small real dataset: COCO with masks
        generate(load_config(None, ["seed=11", "output.image_format=png"]), tmp / "real", 12, workers=1)
        split = split_dataset(tmp / "real", tmp / "real_split", 0.25)
        train = tmp / "real_split" / "train"
        extract(load_coco(train / "annotations.json", train / "images"), tmp / "my_assets", ExtractOptions(min_area=200))
        pad = load_config(None, [
            f"assets.objects={tmp / 'my_assets'}",
            f"assets.scenes={{coco: {train / 'annotations.json'}, images: {train / 'images'}}}",
            "scene.objects_per_image=[2,4]",
            "scene.distractors.count=[0,0]",
            "scene.balance={target: uniform, synthetic_images: 8}",
            "scene.background.crop_scale=[1.0,1.0]",
        ])
        generate(pad, tmp / "synth", 4, workers=1)
        combined = combine([tmp / "real_split", tmp / "synth"], tmp / "combined")  # refuses a leak
        g = Generator(pad)
        samples = [g.sample(i) for i in range(4)]
        n_val = split["images"]["val"]
        sheet = contact_sheet(samples, cols=4, tile_width=320)
        note = (f"scenes and cutouts from the train part only; combine: {combined['train']} train, "
                f"{combined['val']} val images (the split's {n_val} held-out real ones, none used above)")
        _write(DOCS / "pad.jpg", _caption(sheet, note))


CLIPS_CONFIG = ROOT / "configs" / "road.yaml"
CLIPS_SET = ["scene.objects_per_image=[5,8]", "clips.shutter=0.5", "clips.enter_rate=0.5",
             "clips.still_classes=[stop_sign,traffic_light]"]
CLIP, CLIP_FRAMES, CLIP_STEP, CLIP_FPS = 1, 46, 9, 15  # frames 0, 9, ... 45 of clip 1 (3 s at 15 fps)


def make_clips_picture(clip: int = CLIP) -> None:
    """docs/clips.jpg: one clip made by a real ``synthgen clips`` run (road preset, velocity blur,
    entering objects, depth order), six frames from first to last, each object's visible mask,
    box and track id drawn (a colour per track) from the run's annotations.json."""
    import json
    import tempfile

    from synthgen.clips import clip_config, run_clips
    from synthgen.io.rle import decode
    from synthgen.tools.preview import Drawn, draw_instances

    cfg, layouts = clip_config(load_config(CLIPS_CONFIG, CLIPS_SET), ["mot", "coco"])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clips"
        run_clips(cfg, out, clip + 1, CLIP_FRAMES, fps=CLIP_FPS, layouts=tuple(layouts))
        doc = json.loads((out / "annotations.json").read_text())
        images = {(im["video_id"], im["frame_id"]): im for im in doc["images"]}
        names = {c["id"]: c["name"] for c in doc["categories"]}
        tiles = []
        for t in range(0, CLIP_FRAMES, CLIP_STEP):
            im = images[(clip + 1, t)]
            rgb = cv2.cvtColor(cv2.imread(str(out / "images" / im["file_name"])), cv2.COLOR_BGR2RGB)
            drawn = [
                Drawn(a["track_id"], f"#{a['track_id'] % 1000} {names[a['category_id']]}",
                      decode(a["segmentation"]).astype(bool), tuple(a["bbox"]))
                for a in doc["annotations"] if a["image_id"] == im["id"]
            ]
            tiles.append(_caption(draw_instances(rgb, drawn, width=320), f"{im['video']}  frame {t + 1}  t={t / CLIP_FPS:.1f} s"))
    rows = [np.hstack(tiles[i : i + 3]) for i in range(0, len(tiles), 3)]
    _write(DOCS / "clips.jpg", np.vstack(rows))


if __name__ == "__main__":
    import sys

    alone = {"--clips": make_clips_picture, "--pose": make_pose_picture, "--semantic": make_semantic_picture,
             "--lanes": make_lanes_picture}
    if any(a in alone for a in sys.argv):
        for a in sys.argv:
            if a in alone:
                alone[a]()
    else:
        main()
