"""Clips in every format: per-frame YOLO, one WebDataset sample per frame keyed by clip and
frame, semantic and panoptic PNGs and keypoints per frame, all checked against the COCO masks
of the same frames, and the whole run passing `validate`."""

from __future__ import annotations

import json
import tarfile
from collections import defaultdict

import numpy as np
from PIL import Image
from test_keypoints import _sign_assets

from synthgen.clips import clip_config, run_clips
from synthgen.config import load_config
from synthgen.io.rle import decode

CLIPS, FRAMES = 2, 4


def _run(tmp_path):
    root = _sign_assets(tmp_path / "assets")
    data = {
        "seed": 5,
        "canvas": {"width": 96, "height": 72},
        "assets": {"objects": str(root / "objects"), "backgrounds": str(root / "backgrounds")},
        "scene": {"objects_per_image": [2, 3], "scale": [0.3, 0.6]},
        "output": {"keypoints": True, "image_format": "png"},
    }
    cfg, layouts = clip_config(load_config(data=data), ["mot", "coco", "yolo", "webdataset", "semantic", "panoptic"])
    out = tmp_path / "clips"
    run_clips(cfg, out, CLIPS, FRAMES, layouts=tuple(layouts))
    return out


def test_every_format_per_frame(tmp_path):
    out = _run(tmp_path)
    coco = json.loads((out / "annotations.json").read_text())
    names = sorted(im["file_name"].rsplit(".", 1)[0] for im in coco["images"])
    assert names == [f"{c:06d}_{t:06d}" for c in range(CLIPS) for t in range(FRAMES)]
    anns = defaultdict(list)
    for a in coco["annotations"]:
        anns[a["image_id"]].append(a)
    assert len(coco["annotations"]) >= CLIPS * FRAMES
    assert all(len(a["keypoints"]) == 9 and "track_id" in a for a in coco["annotations"])  # keypoints per frame
    samples = {}
    for tar in sorted((out / "webdataset").glob("*.tar")):
        with tarfile.open(tar) as t:
            for m in t.getmembers():
                if m.name.endswith(".json"):
                    samples[m.name[: -len(".json")]] = json.loads(t.extractfile(m).read())
    assert sorted(samples) == names  # one sample per frame, keyed <clip>_<frame>
    for im in coco["images"]:
        name = im["file_name"].rsplit(".", 1)[0]
        W, H = im["width"], im["height"]
        # WebDataset: the frame's COCO entry (clip and frame keys) and its annotations with track ids
        s = samples[name]
        assert {k: s["image"][k] for k in ("video_id", "video", "frame_id")} == {k: im[k] for k in ("video_id", "video", "frame_id")}
        assert (s["metadata"]["clip"], s["metadata"]["frame"]) == (im["video_id"] - 1, im["frame_id"])
        assert sorted(a["track_id"] for a in s["annotations"]) == sorted(a["track_id"] for a in anns[im["id"]])
        # YOLO: the frame's boxes
        lines = [list(map(float, ln.split())) for ln in (out / "labels" / f"{name}.txt").read_text().splitlines()]
        want = sorted((a["bbox"][0] + a["bbox"][2] / 2) / W for a in anns[im["id"]])
        assert np.allclose(sorted(ln[1] for ln in lines), want, atol=1e-5)
        # semantic and panoptic: each frame's masks, by class and by segment
        sem = np.array(Image.open(out / "semantic" / f"{name}.png"))
        pan = np.array(Image.open(out / "panoptic" / f"{name}.png").convert("RGB")).astype(np.int64)
        pan_ids = pan[..., 0] + 256 * pan[..., 1] + 256 * 256 * pan[..., 2]
        union = np.zeros((H, W), bool)
        for a in anns[im["id"]]:
            m = decode(a["segmentation"]).astype(bool)
            assert (sem[m] == a["category_id"]).all()
            assert len(np.unique(pan_ids[m])) == 1 and pan_ids[m][0] != 0
            union |= m
        assert not np.isin(sem[~union], list(range(1, 1 + len(coco["categories"])))).any()
    from synthgen.tools.validate import validate_path

    report = validate_path(out)
    assert report.ok, [str(p) for p in report.problems]
