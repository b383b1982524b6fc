"""Keypoints, lane lines and background classes checked against the pixels of the image alone.

The assets make every label visible in colour: each keypoint of the cutout is the centre of a
small square of its own colour (left red, right blue, mid green) on a grey body; the background
is cyan sky over yellow road with magenta lane paint drawn from the very polylines of its
``.lines.json``, and its label image is drawn with the same calls. Whatever moves the pixels
(pose, flips, whole-image geometric effects, an albumentations pipeline with flips, Affine,
Perspective, Rotate and a crop resized back), a label must still sit on its colour:

- a keypoint with v 2 lies within 2 px of the centroid of its colour's blob on its object
  (after an odd number of mirrors, its flip partner's colour: a mirrored left hand is called
  the left one, and the schema's flip pairs say so);
- a lane point with v 2 has lane paint in the 3 x 3 pixels around it;
- pure sky, road and paint pixels where no object was drawn carry their class in the semantic
  map (a pixel or two at the borders of classes may differ: nearest against bilinear).

Nothing here reads the transforms synthgen recorded except whether each image was mirrored."""

from __future__ import annotations

import json
import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import cv2
import numpy as np
import pytest
import yaml

from synthgen.config import load_config
from synthgen.generator import Generator
from synthgen.writers.semantic import class_map, with_stuff

SQUARES = {"left": ((255, 0, 0), (10, 18)), "right": ((0, 0, 255), (49, 18)), "mid": ((0, 255, 0), (30, 6))}
PARTNER = {"left": "right", "right": "left", "mid": "mid"}
LINES = [("lane_solid", [[40, 199.5], [120, 85], [130, 80.5]]), ("lane_dashed", [[260, 199.5], [170, 85]]),
         ("stop_line", [[5, 150.5], [295, 150.5]])]


def _assets(root):
    d = root / "objects" / "bar"
    d.mkdir(parents=True)
    body = np.zeros((36, 60, 4), np.uint8)
    body[...] = (128, 128, 128, 255)
    points = {}
    for name, (colour, (cx, cy)) in SQUARES.items():
        body[cy - 2 : cy + 3, cx - 2 : cx + 3, :3] = colour
        points[name] = [cx + 4.5, cy + 4.5]  # COCO coordinates in the file, 4 px transparent margin
    img = np.zeros((44, 68, 4), np.uint8)
    img[4:40, 4:64] = body
    cv2.imwrite(str(d / "bar.png"), cv2.cvtColor(img, cv2.COLOR_RGBA2BGRA))
    (d / "bar.keypoints.json").write_text(json.dumps(points))
    (d / "keypoints.yaml").write_text(yaml.safe_dump({"names": ["left", "right", "mid"], "flip": [["left", "right"]]}))
    d2 = root / "objects" / "box"
    d2.mkdir()
    cv2.imwrite(str(d2 / "box.png"), np.full((30, 30, 4), 255, np.uint8))
    bg = root / "backgrounds"
    bg.mkdir()
    im = np.zeros((200, 300, 3), np.uint8)
    lab = np.zeros((200, 300), np.uint8)
    im[:80], lab[:80] = (255, 255, 0), 1  # sky: cyan (BGR)
    im[80:], lab[80:] = (0, 255, 255), 2  # road: yellow
    for _, pts in LINES:
        p = np.round(np.array(pts) * 16).astype(np.int32) - 8  # continuous -> pixel centres, 4 bits
        cv2.polylines(im, [p], False, (255, 0, 255), 3, cv2.LINE_8, shift=4)
        cv2.polylines(lab, [p], False, 3, 3, cv2.LINE_8, shift=4)
    cv2.imwrite(str(bg / "road.png"), im)
    cv2.imwrite(str(bg / "road.labels.png"), lab)
    (bg / "road.labels.json").write_text(json.dumps({"classes": {"1": "sky", "2": "road", "3": "lane_marking"}}))
    (bg / "road.lines.json").write_text(json.dumps({"lines": [{"class": c, "points": p} for c, p in LINES]}))
    return root


def _colours(img):
    r, g, b = (img[..., i].astype(int) for i in range(3))
    return {
        "left": (r > 200) & (g < 60) & (b < 60), "right": (b > 200) & (r < 60) & (g < 60),
        "mid": (g > 200) & (r < 60) & (b < 60), "paint": (r > 180) & (b > 180) & (g < 80),
        "sky": (g > 200) & (b > 200) & (r < 50), "road": (r > 200) & (g > 200) & (b < 50),
    }


def _mirrored(sample, placement) -> bool:
    n = placement["flip"]
    for c in sample.metadata["conditions"]:
        if c["name"] == "albumentations":
            n += sum(t[0] == "HorizontalFlip" for t in c["params"]["applied"])
    return n % 2 == 1


ALBU = [
    {"__class_fullname__": "HorizontalFlip", "p": 0.5},
    {"__class_fullname__": "Affine", "p": 0.7, "rotate": [-20, 20], "scale": [0.8, 1.2], "translate_percent": [-0.1, 0.1],
     "shear": [-10, 10], "mask_interpolation": 0, "fill_mask": 0},
    {"__class_fullname__": "Perspective", "p": 0.5, "scale": [0.05, 0.1], "mask_interpolation": 0, "fill_mask": 0},
    {"__class_fullname__": "Rotate", "p": 0.5, "limit": [-30, 30], "mask_interpolation": 0, "fill_mask": 0},
    {"__class_fullname__": "RandomCrop", "p": 1.0, "height": 120, "width": 160},
    {"__class_fullname__": "Resize", "p": 1.0, "height": 150, "width": 200, "mask_interpolation": 0},
]
GEOMETRIC = [{"name": "rotate", "p": 0.5, "severity": [1, 5]}, {"name": "perspective", "p": 0.5, "severity": [1, 5]},
             {"name": "crop_scale", "p": 0.5, "severity": [1, 5]}]


@pytest.mark.parametrize("effects, albu", [(GEOMETRIC, None), (GEOMETRIC[:1], ALBU)], ids=["geometric", "albumentations"])
def test_keypoints_lines_and_background_classes_sit_on_their_colours(tmp_path, effects, albu):
    root = _assets(tmp_path / "assets")
    data = {
        "seed": 1, "canvas": {"width": 200, "height": 150},
        "assets": {"objects": str(root / "objects"), "backgrounds": str(root / "backgrounds")},
        "scene": {"objects_per_image": [2, 4], "scale": [0.35, 0.6], "rotation": [-30, 30], "flip_probability": 0.5,
                  "perspective": [0.0, 0.08], "background": {"crop_scale": [0.5, 1.0], "flip_probability": 0.5}},
        "render": {"blending": {"none": 1.0, "gaussian": 0.0, "poisson": 0.0, "motion": 0.0}},
        "labels": {"min_visibility": 0.05},
        "effects": effects,
        "output": {"formats": ["coco", "semantic"], "keypoints": True, "lines": True},
    }
    if albu:
        data["albumentations"] = {"__version__": "2.0.8", "transform": {"__class_fullname__": "Compose", "p": 1.0, "transforms": albu}}
    gen = Generator(load_config(data=data))
    index = {n: i for i, n in enumerate((*gen.classes, *gen.stuff_classes), 1)}
    points = mirrors = line_points = stuff_pixels = 0
    for i in range(14):
        s = gen.sample(i)
        col = _colours(s.image)
        drawn = (s.id_map > 0) | (s.unlabeled > 0)
        for inst in s.instances:
            if inst.label != "bar":
                continue
            placement = next(p for p in s.metadata["scene"]["placements"] if p["instance_id"] == inst.instance_id)
            mirrored = _mirrored(s, placement)
            mirrors += mirrored
            near = cv2.dilate(s.mask(inst).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
            for name, (x, y, v) in zip(("left", "right", "mid"), np.array(inst.keypoints).reshape(-1, 3)):
                if v != 2:
                    continue
                blob = col[PARTNER[name] if mirrored else name] & near
                n, blobs, stats, centres = cv2.connectedComponentsWithStats(blob.astype(np.uint8))
                assert n > 1, (i, inst.instance_id, name, "no square of its colour on the object")
                # only whole squares (their surroundings the object's own pixels): the centroid of
                # one cut by an occluder or the frame is not the point's
                H, W = s.id_map.shape
                x0, y0, bw, bh = stats[:, :4].T
                whole = [k for k in range(1, n) if x0[k] >= 2 and y0[k] >= 2 and x0[k] + bw[k] <= W - 2 and y0[k] + bh[k] <= H - 2
                         and s.mask(inst)[cv2.dilate((blobs == k).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0].all()]
                if not whole:
                    continue
                d = min(np.hypot(centres[k, 0] + 0.5 - x, centres[k, 1] + 0.5 - y) for k in whole)
                assert d < 1.5, (i, inst.instance_id, name, x, y, d)
                points += 1
        H, W = s.id_map.shape
        for line in s.image_fields.get("lines", []):
            for (x, y), v in zip(line["points"], line["visibility"]):
                if v == 2:
                    c, r = min(int(x), W - 1), min(int(y), H - 1)
                    assert col["paint"][max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2].any(), (i, line["class"], x, y)
                    line_points += 1
        semantic = with_stuff(class_map(s), s)
        for colour, name in (("sky", "sky"), ("road", "road"), ("paint", "lane_marking")):
            inner = cv2.erode((col[colour] & ~drawn).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
            wrong = inner & (semantic != index[name])
            assert wrong.sum() <= 6, (i, name, int(wrong.sum()), int(inner.sum()))
            stuff_pixels += int(inner.sum())
    assert points >= 8 and mirrors > 0 and line_points > 100 and stuff_pixels > 50_000, (points, mirrors, line_points, stuff_pixels)
