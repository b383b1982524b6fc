#!/usr/bin/env python3
"""The README's "Stress-test a model" walk-through, run end to end with a real (if simple) model.

    python scripts/demo_stress.py            # writes docs/stress_ap.png and docs/stress_metrics.md
    python scripts/demo_stress.py --keep demo/   # ... and keeps the suite, predictions and report.html

It follows the README's flow as a user with their own detector would: render the suite, write
the model's detections the way Ultralytics' `save_txt` + `save_conf` does (one
`<image stem>.txt` per image, lines `class cx cy w h conf`, normalised), and score that folder
with `evaluate`, which writes the tables, the plot and the HTML page.

It shows its progress (render, detect, evaluate) on stderr, and removes its temporary folder
however it ends (Ctrl-C or `kill` included).

The model is a classical one, chosen because it needs no weights: multi-scale template matching
(normalised cross-correlation) with the bundled cutouts as templates, then non-maximum
suppression. It is weak, but it is a real detector run on the suite's images only, and it
degrades under fog, night and blur the way one would expect. Its templates are the very cutouts
pasted into the scenes, so its clean score is flattering: only its drops relative to clean mean
something, not its absolute AP.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import tempfile
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from synthgen.assets import PAD, load_library
from synthgen.config import load_config
from synthgen.stress import run_suite
from synthgen.tools.evaluate import evaluate, table, write_report

ROOT = Path(__file__).resolve().parent.parent
SIZES = (28, 40, 56, 80)  # template long side in pixels


def templates(cfg):
    lib = load_library(cfg.assets)
    out = []
    for ci, cls in enumerate(lib.classes):
        for cut in lib.cutouts.get(cls, ()):
            rgba = cut.rgba[PAD:-PAD, PAD:-PAD]
            a = rgba[..., 3:4].astype(np.float32) / 255.0
            grey = np.full_like(rgba[..., :3], 128)
            flat = (rgba[..., :3] * a + grey * (1 - a)).astype(np.uint8)
            for size in SIZES:
                s = size / max(flat.shape[:2])
                t = cv2.resize(flat, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
                out.append((ci + 1, t))
    return out


def detect(image: np.ndarray, temps, threshold: float = 0.55):
    boxes, scores, classes = [], [], []
    for cid, t in temps:
        if t.shape[0] >= image.shape[0] or t.shape[1] >= image.shape[1]:
            continue
        r = cv2.matchTemplate(image, t, cv2.TM_CCOEFF_NORMED)
        ys, xs = np.nonzero(r >= threshold)
        if len(xs) > 200:  # keep the strongest responses of this template
            order = np.argsort(r[ys, xs])[-200:]
            ys, xs = ys[order], xs[order]
        for y, x in zip(ys, xs):
            boxes.append([int(x), int(y), t.shape[1], t.shape[0]])
            scores.append(float(r[y, x]))
            classes.append(cid)
    keep = cv2.dnn.NMSBoxes(boxes, scores, threshold, 0.3) if boxes else []
    return [(classes[i], boxes[i], scores[i]) for i in np.array(keep).ravel()]


def _terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)  # runs the cleanup below, as Ctrl-C does


def write_yolo_predictions(folder: Path, gt: dict, detections: dict) -> None:
    """``detections``: image id -> [(category id, (x, y, w, h), score)], as YOLO txt files."""
    folder.mkdir(parents=True, exist_ok=True)
    for im in gt["images"]:
        W, H = im["width"], im["height"]
        lines = [f"{cid - 1} {(x + w / 2) / W:.6f} {(y + h / 2) / H:.6f} {w / W:.6f} {h / H:.6f} {score:.5f}"
                 for cid, (x, y, w, h), score in detections.get(im["id"], ())]
        if lines:  # like save_txt: no file for an image without detections
            (folder / f"{Path(im['file_name']).stem}.txt").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="copy the suite, the predictions and the report (report.html) here")
    args = ap.parse_args()
    cfg = load_config(ROOT / "configs" / "default.yaml", ["canvas.width=320", "canvas.height=240",
                                                          "scene.objects_per_image=[3,5]", "scene.scale=[0.15,0.3]"])
    signal.signal(signal.SIGTERM, _terminate)  # `kill` too leaves no temporary folder behind
    tmp = Path(tempfile.mkdtemp(prefix="synthgen-stress-"))
    try:
        suite = tmp / "suite"
        with tqdm(desc="1/3 render the suite", unit="img") as bar:
            def plan(images: int, skipped: int) -> None:
                bar.total = images
                bar.refresh()

            run_suite(cfg, suite, 20, ["fog", "rain", "snow", "night", "glare", "motion_blur", "occlusion"], [1, 3, 5],
                      workers=2, progress=bar.update, on_plan=plan)
        gt = json.loads((suite / "annotations.json").read_text())
        temps = templates(cfg)
        detections = {}
        for im in tqdm(gt["images"], desc="2/3 detect (template matching)", unit="img"):
            image = cv2.imread(str(suite / "images" / im["file_name"]))
            detections[im["id"]] = detect(image[..., ::-1].copy(), temps)
        labels = tmp / "preds" / "labels"
        write_yolo_predictions(labels, gt, detections)
        n = sum(len(d) for d in detections.values())
        with tqdm(desc="3/3 evaluate", unit="slice") as bar:
            def step(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            ev = evaluate(suite, labels, progress=step)
        print(f"predictions: {ev.detected}")
        print(table(ev.rows))
        paths = write_report(ev, tmp / "report")
        shutil.copy(paths[2], ROOT / "docs" / "stress_ap.png")
        shutil.copy(paths[1], ROOT / "docs" / "stress_metrics.md")
        print(f"{len(gt['images'])} images, {n} detections scored; wrote docs/stress_ap.png, docs/stress_metrics.md")
        if args.keep:
            for sub in ("suite", "preds", "report"):
                shutil.copytree(tmp / sub, args.keep / sub, dirs_exist_ok=True)
            print(f"kept {args.keep}/suite, {args.keep}/preds/labels and {args.keep}/report/report.html")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
