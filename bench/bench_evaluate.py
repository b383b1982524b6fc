"""Time and peak memory of `synthgen evaluate` on many predictions.

    python bench/bench_evaluate.py                 # a 100-image suite, 100,000 box predictions
    python bench/bench_evaluate.py -p 600000 --scenes 20

Makes a small stress suite, writes N synthetic predictions (ground-truth boxes jittered, plus
false positives, scores spread over [0, 1]) and runs `synthgen evaluate` in a child process,
reporting its wall time and peak resident memory (ru_maxrss of the child).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def predictions(gt: dict, n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    anns, images = gt["annotations"], gt["images"]
    cats = [c["id"] for c in gt["categories"]]
    out = []
    for i in range(n):
        if anns and i % 3 == 0:
            a = anns[int(rng.integers(len(anns)))]
            x, y, w, h = (float(v) + float(rng.normal(0, 2)) for v in a["bbox"])
            out.append({"image_id": a["image_id"], "category_id": a["category_id"],
                        "bbox": [x, y, max(w, 1.0), max(h, 1.0)], "score": float(rng.random())})
        else:
            im = images[int(rng.integers(len(images)))]
            w, h = float(rng.uniform(5, 120)), float(rng.uniform(5, 120))
            out.append({"image_id": im["id"], "category_id": cats[int(rng.integers(len(cats)))],
                        "bbox": [float(rng.uniform(0, im["width"] - w)), float(rng.uniform(0, im["height"] - h)), w, h],
                        "score": float(rng.random())})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", "--predictions", type=int, default=100_000)
    ap.add_argument("--scenes", type=int, default=20, help="base scenes (x5 variants: fog 1/3, night 1/3, clean)")
    ap.add_argument("--keep", help="folder to keep the suite and predictions in")
    args = ap.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="bench-evaluate-")).resolve()
    suite, preds = root / "suite", root / f"preds-{args.predictions}.json"
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}
    if not (suite / "annotations.json").exists():
        subprocess.run([sys.executable, "-m", "synthgen.cli", "stress", "--out", str(suite), "-n", str(args.scenes),
                        "--conditions", "fog,night", "--severities", "1,3", "-q"], check=True, env=env, cwd=root)
    if not preds.exists():
        preds.write_text(json.dumps(predictions(json.loads((suite / "annotations.json").read_text()), args.predictions)))
    t0 = time.perf_counter()
    # cwd=root: `python -m` puts the working folder first on sys.path; PYTHONPATH picks the synthgen measured
    subprocess.run([sys.executable, "-m", "synthgen.cli", "evaluate", str(suite), "-p", str(preds), "-o", str(root / "report")],
                   check=True, env=env, stdout=subprocess.DEVNULL, cwd=root)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    print(f"{args.predictions} predictions on {args.scenes * 5} images: {seconds:.1f} s, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
