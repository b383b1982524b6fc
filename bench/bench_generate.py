"""Throughput of `synthgen generate` beside its floor, measured in the same run.

    python bench/bench_generate.py                  # 200 images, default config, 640x480
    python bench/bench_generate.py -n 500 --workers 1 2 --set render.blending.poisson=0

The floor is the cost of just JPEG-encoding and writing the same images plus the RLE of their
masks: what any generator writing this dataset must pay. The generator's time per image is
reported as a multiple of it. Stage times (scene sampling, rendering, labels) come from
calling the stages one by one on the same indices in this process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from synthgen.config import load_config
from synthgen.generator import Generator
from synthgen.labels import derive_instances
from synthgen.render import render
from synthgen.runner import generate
from synthgen.writers.files import atomic_write, encode_image


def floor_seconds(samples, out: Path, quality: int) -> float:
    (out / "images").mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    for s in samples:
        atomic_write(out / "images" / f"{s.name}.jpg", encode_image(s.image, "jpg", quality))
        for inst in s.instances:  # the reference way: pycocotools on the full-frame mask
            mask_utils.encode(np.asfortranarray(s.id_map == inst.instance_id, dtype=np.uint8))
    return time.perf_counter() - t


def stage_seconds(gen: Generator, n: int) -> dict[str, float]:
    times = {"scene": 0.0, "render": 0.0, "labels": 0.0}
    for i in range(n):
        t0 = time.perf_counter()
        scene = gen.scene(i)
        t1 = time.perf_counter()
        r = render(scene, gen.library, gen.config.render.alpha_threshold)
        t2 = time.perf_counter()
        derive_instances(scene, r, gen.config.labels)
        t3 = time.perf_counter()
        times["scene"] += t1 - t0
        times["render"] += t2 - t1
        times["labels"] += t3 - t2
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config", nargs="?", help="config file (default: configs/default.yaml)")
    ap.add_argument("-n", type=int, default=200, help="images per measurement")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to time")
    ap.add_argument("--set", dest="overrides", action="append", default=[], help="config override KEY=VALUE")
    args = ap.parse_args()

    cfg = load_config(args.config, ["canvas.width=640", "canvas.height=480", *args.overrides])
    cv2.setNumThreads(1)  # as the workers do
    gen = Generator(cfg)
    tmp = Path(tempfile.mkdtemp(prefix="synthgen-bench-"))
    try:
        print(f"synthgen bench: {args.n} images, 640x480, jpeg q{cfg.output.jpeg_quality}, cores {os.cpu_count()}")
        samples = [gen.sample(i) for i in range(args.n)]
        instances = sum(len(s.instances) for s in samples)
        floor = floor_seconds(samples, tmp / "floor", cfg.output.jpeg_quality)
        floor_ms = 1000 * floor / args.n
        print(f"  floor (jpeg encode + write + mask RLE): {args.n / floor:8.1f} images/s  {floor_ms:6.2f} ms/image")
        del samples
        stages = stage_seconds(gen, args.n)
        print(
            "  stages, 1 process: "
            + "  ".join(f"{k} {1000 * v / args.n:.2f} ms" for k, v in stages.items())
            + f"  ({instances / args.n:.1f} instances/image)"
        )
        rates = {}
        for w in args.workers:
            out = tmp / f"gen{w}"
            t = time.perf_counter()
            generate(cfg, out, args.n, workers=w)
            dt = time.perf_counter() - t
            rates[w] = args.n / dt
            per = 1000 * dt / args.n
            print(
                f"  generate --workers {w}:                 {rates[w]:8.1f} images/s  {per:6.2f} ms/image"
                f"  ({per / floor_ms:.2f}x floor per image{', wall clock incl. pool start' if w > 1 else ''})"
            )
            shutil.rmtree(out)
        if 1 in rates and len(rates) > 1:
            for w in sorted(rates):
                if w != 1:
                    print(f"  scaling {w} workers / 1 worker: {rates[w] / rates[1]:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
