"""How closely polygons reproduce the exact masks: YOLO segment polygons rasterized as
Ultralytics does, and COCO polygons (``output.coco_masks: polygon``) as pycocotools does.

    python bench/polygon_iou.py            # generates 300 default images into a temp folder
    python bench/polygon_iou.py OUT        # an existing run written with --format coco,yolo
                                           # and --set output.yolo_task=segment
    python bench/polygon_iou.py --coco [OUT]   # COCO polygons; OUT written with
                                           # --set output.coco_masks=polygon --set output.id_maps=true

YOLO: each polygon is scaled to pixels and filled with cv2.fillPoly after an int32 cast
(truncating, as Ultralytics' polygon2mask does) and after rounding; the IoU with the
annotation's RLE mask is reported for instances of 64 pixels or more.

COCO: each annotation's polygons are filled by pycocotools (frPyObjects + merge, what COCOeval,
torchvision and Detectron2 do) and compared with the exact mask, the id map's pixels of the
instance; and, for a reader that fills every polygon solid (holes lost), the mask with its
holes filled. Instances of 64 pixels or more.
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


def _filled(mask: np.ndarray) -> np.ndarray:
    """The mask with its holes filled: every pixel not reachable from outside it."""
    outside = np.pad(~mask, 1, constant_values=True).astype(np.uint8)
    seen = np.zeros((outside.shape[0] + 2, outside.shape[1] + 2), np.uint8)
    cv2.floodFill(outside, seen, (0, 0), 2)
    return (outside != 2)[1:-1, 1:-1]


def coco_ious(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """(pycocotools IoU, IoU when holes are lost) of every COCO polygon annotation >= 64 px
    with the exact mask from the id map (masks/<name>.png)."""
    from PIL import Image

    from synthgen.types import MAX_INSTANCES

    data = json.loads((root / "annotations.json").read_text())
    by_image: dict = {}
    for a in data["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a)
    exact, solid = [], []
    for im in data["images"]:
        H, W = im["height"], im["width"]
        ids = np.asarray(Image.open(root / "masks" / (Path(im["file_name"]).stem + ".png")))
        for a in by_image.get(im["id"], []):
            if a.get("iscrowd"):
                continue
            if not isinstance(a["segmentation"], list):
                sys.exit(f"{root}: annotation {a['id']} is RLE: write the run with --set output.coco_masks=polygon")
            m = ids == a["id"] % MAX_INSTANCES
            if m.sum() < 64:
                continue
            f = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(a["segmentation"], H, W))).astype(bool)
            exact.append((f & m).sum() / (f | m).sum())
            solid.append(m.sum() / _filled(m).sum())
    return np.array(exact), np.array(solid)


def _line(name: str, v: np.ndarray) -> str:
    p1, p5, med = np.percentile(v, [1, 5, 50])
    return (f"{name:24s} {len(v)} instances >= 64 px: min {v.min():.3f}, 1st pct {p1:.3f}, 5th {p5:.3f}, "
            f"median {med:.3f}, {100 * (v >= 0.98).mean():.1f}% >= 0.98, {100 * (v == 1).mean():.1f}% exact")


def main_coco(args: list[str]) -> None:
    if args:
        root = Path(args[0])
    else:
        root = Path(tempfile.mkdtemp(prefix="synthgen-coco-polygons-")) / "out"
        subprocess.run(["synthgen", "generate", "--out", str(root), "-n", "300", "-q", "--format", "coco",
                        "--set", "output.coco_masks=polygon", "--set", "output.id_maps=true",
                        "--set", "output.val_fraction=0"], check=True)
    exact, solid = coco_ious(root)
    print(_line("pycocotools", exact))
    print(_line("filled solid (no holes)", solid))
    print(f"{int((solid < 1).sum())} of {len(solid)} instances have holes (gaps in the object, a bicycle's wheels, or an occluder inside it)")


def main() -> None:
    if sys.argv[1:2] == ["--coco"]:
        return main_coco(sys.argv[2:])
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
