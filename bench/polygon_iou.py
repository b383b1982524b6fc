"""How closely YOLO segment polygons reproduce the exact masks, rasterized as Ultralytics does.

    python bench/polygon_iou.py            # generates 300 default images into a temp folder
    python bench/polygon_iou.py OUT        # an existing run written with --format coco,yolo
                                           # and --set output.yolo_task=segment

Each polygon is scaled to pixels and filled with cv2.fillPoly after an int32 cast (truncating, as
Ultralytics' polygon2mask does) and after rounding; the IoU with the annotation's RLE mask is
reported for instances of 64 pixels or more.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as mask_utils


def ious(root: Path, cast) -> np.ndarray:
    data = json.loads((root / "annotations.json").read_text())
    by_image: dict = {}
    for a in data["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a)
    out = []
    for im in data["images"]:
        W, H = im["width"], im["height"]
        label = root / "labels" / (Path(im["file_name"]).stem + ".txt")
        lines = [line for line in label.read_text().splitlines() if line]
        anns = sorted((a for a in by_image.get(im["id"], []) if not a.get("iscrowd")), key=lambda a: a["id"])
        for a, line in zip(anns, lines):
            m = mask_utils.decode(a["segmentation"]).astype(bool)
            if m.sum() < 64:
                continue
            xy = np.array(line.split()[1:], float).reshape(-1, 2) * [W, H]
            f = np.zeros((H, W), np.uint8)
            cv2.fillPoly(f, [cast(xy)], 1)
            f = f.astype(bool)
            out.append((f & m).sum() / (f | m).sum())
    return np.array(out)


def main() -> None:
    if len(sys.argv) > 1:
        root = Path(sys.argv[1])
    else:
        root = Path(tempfile.mkdtemp(prefix="synthgen-polygons-")) / "out"
        subprocess.run(["synthgen", "generate", "--out", str(root), "-n", "300", "-q", "--format", "coco,yolo",
                        "--set", "output.yolo_task=segment", "--set", "output.val_fraction=0"], check=True)
    for name, cast in (("truncated (Ultralytics)", lambda p: p.astype(np.int32)),
                       ("rounded", lambda p: np.round(p).astype(np.int32))):
        v = ious(root, cast)
        p1, p5, med = np.percentile(v, [1, 5, 50])
        print(f"{name:24s} {len(v)} instances >= 64 px: min {v.min():.3f}, 1st pct {p1:.3f}, 5th {p5:.3f}, "
              f"median {med:.3f}, {100 * (v >= 0.98).mean():.1f}% >= 0.98")


if __name__ == "__main__":
    main()
