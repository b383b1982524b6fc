"""report on clips: track lengths counted as the annotations say, filmstrips with every track's box
in its own colour, and nothing of it on a dataset of single images."""

from __future__ import annotations

import base64
import json
import re
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import make_assets, tiny_config_dict

from synthgen.tools.clip_report import draw_frame, track_lengths
from synthgen.tools.preview import class_colour
from synthgen.tools.report import build_report

CLIPS, FRAMES = 3, 9


@pytest.fixture(scope="module")
def clips_run(tmp_path_factory) -> Path:
    from synthgen.clips import clip_config, run_clips
    from synthgen.config import load_config

    root = tmp_path_factory.mktemp("clips")
    cfg = clip_config(load_config(data=tiny_config_dict(make_assets(root / "assets"))), ["mot", "coco"])[0]
    run_clips(cfg, root / "run", CLIPS, FRAMES)
    return root / "run"


def test_track_lengths_count_frames_per_track(clips_run):
    doc = json.loads((clips_run / "annotations.json").read_text())
    frame = {im["id"]: (im["video_id"], im["frame_id"]) for im in doc["images"]}
    frames = defaultdict(set)
    for a in doc["annotations"]:
        v, f = frame[a["image_id"]]
        frames[(v, a["track_id"])].add(f)
    want = sorted((len(f), max(f) - min(f) + 1, FRAMES) for f in frames.values())
    by_image = defaultdict(list)
    for a in doc["annotations"]:
        by_image[a["image_id"]].append(a)
    assert sorted(track_lengths(doc, by_image)) == want


def test_report_shows_filmstrips_and_track_lengths(clips_run):
    page, stats = build_report(clips_run, gallery=2)
    assert stats.images == CLIPS * FRAMES
    assert "<h2>Track lengths</h2>" in page and f"<h2>Clips ({CLIPS} of {CLIPS}, frames from first to last)</h2>" in page
    doc = json.loads((clips_run / "annotations.json").read_text())
    tracks = len({(im_v, a["track_id"]) for a in doc["annotations"]
                  for im_v in [next(im["video_id"] for im in doc["images"] if im["id"] == a["image_id"])]})
    assert f"{tracks:,} tracks in {CLIPS:,} clips" in page
    section = page[page.index("<h2>Clips ("):]
    strips = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', section)
    strip = cv2.imdecode(np.frombuffer(base64.b64decode(strips[0]), np.uint8), cv2.IMREAD_COLOR)
    assert len(strips) >= CLIPS and strip.shape[1] > 4 * 200  # five frames side by side


def test_a_track_keeps_its_colour_from_frame_to_frame():
    rgb = np.zeros((100, 200, 3), np.uint8)
    a = {"bbox": [20, 30, 40, 30], "track_id": 7, "category_id": 1}
    b = {"bbox": [120, 40, 40, 30], "track_id": 8, "category_id": 1}
    one = draw_frame(rgb, [a, b], {1: "x"}, width=200)
    two = draw_frame(rgb, [dict(a, bbox=[100, 50, 40, 30]), dict(b, bbox=[10, 50, 40, 30])], {1: "x"}, width=200)
    # the box's left edge, halfway down, in the track's colour wherever the track is
    assert tuple(one[45, 20]) == class_colour(7) == tuple(two[65, 100])
    assert tuple(one[55, 120]) == class_colour(8) == tuple(two[65, 10]) != class_colour(7)


def test_no_clip_sections_for_single_images(tmp_path, tiny_config):
    from synthgen.runner import generate

    generate(tiny_config, tmp_path / "out", 4)
    page, _ = build_report(tmp_path / "out", gallery=1)
    assert "Track lengths" not in page and "<h2>Clips" not in page
