#!/usr/bin/env python3
"""Regenerate docs/clips.jpg: one clip made by `synthgen clips`, six frames side by side, each
object's visible mask, box and track id drawn (a colour per track) from the clip's annotations.json.

    python scripts/make_clips_picture.py
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import cv2
import numpy as np

from synthgen.clips import clip_config, run_clips
from synthgen.config import load_config
from synthgen.io.rle import decode
from synthgen.tools.preview import Drawn, draw_instances

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "clips.jpg"
CONFIG = ROOT / "configs" / "street.yaml"
CLIP, FRAMES, STEP, SHOWN, FPS = 1, 31, 6, 6, 15  # frames 0, 6, ... 30 of clip 1 (2 s at 15 fps)


def main() -> None:
    cfg, layouts = clip_config(load_config(CONFIG), ["mot", "coco"])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clips"
        run_clips(cfg, out, CLIP + 1, FRAMES, fps=FPS, layouts=tuple(layouts))
        doc = json.loads((out / "annotations.json").read_text())
        images = {(im["video_id"], im["frame_id"]): im for im in doc["images"]}
        names = {c["id"]: c["name"] for c in doc["categories"]}
        tiles = []
        for t in range(0, STEP * SHOWN, STEP):
            im = images[(CLIP + 1, t)]
            rgb = cv2.cvtColor(cv2.imread(str(out / "images" / im["file_name"])), cv2.COLOR_BGR2RGB)
            drawn = [
                Drawn(a["track_id"], f"#{a['track_id']} {names[a['category_id']]}", decode(a["segmentation"]).astype(bool), tuple(a["bbox"]))
                for a in doc["annotations"] if a["image_id"] == im["id"]
            ]
            tile = draw_instances(rgb, drawn, width=320)
            bar = np.full((22, tile.shape[1], 3), 30, np.uint8)
            cv2.putText(bar, f"{im['video']}  frame {t + 1}  t={t / FPS:.1f} s", (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                        (235, 235, 235), 1, cv2.LINE_AA)
            tiles.append(np.vstack([bar, tile]))
        rows = [np.hstack(tiles[i : i + 3]) for i in range(0, len(tiles), 3)]
        OUT.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(OUT), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
