"""Throughput of `synthgen generate` beside its floor, measured in the same run.

    python bench/bench_generate.py                  # 400 images, default config, 640x480
    python bench/bench_generate.py -n 1000 --workers 1 2 --set render.blending.poisson=0
    python bench/bench_generate.py --memory 1000 20000   # peak memory of whole runs

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
from synthgen.io.files import atomic_write
from synthgen.writers.files import encode_image


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


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            continue
    return total


def peak_memory(config: str | None, n: int, overrides: list[str], workers: int) -> tuple[int, float]:
    """Run `synthgen generate` in a subprocess, sampling the whole process tree's memory."""
    import subprocess

    out = Path(tempfile.mkdtemp(prefix="synthgen-mem-"))
    cmd = [sys.executable, "-m", "synthgen.cli", "generate", *([config] if config else []), "--out", str(out / "run"),
           "-n", str(n), "--workers", str(workers), "-q", "--no-merge",
           "--set", "canvas.width=640", "--set", "canvas.height=480", *[a for o in overrides for a in ("--set", o)]]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.05)
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode:
        raise SystemExit(f"generate failed with exit code {proc.returncode}")
    return peak, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config", nargs="?", help="config file (default: configs/default.yaml)")
    ap.add_argument("-n", type=int, default=400, help="images per measurement")
    ap.add_argument("--memory", type=int, nargs="*", metavar="N", help="only measure peak memory of runs of N images")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to time")
    ap.add_argument("--set", dest="overrides", action="append", default=[], help="config override KEY=VALUE")
    args = ap.parse_args()

    if args.memory:
        for n in args.memory:
            peak, seconds = peak_memory(args.config, n, args.overrides, workers=max(args.workers))
            print(f"  {n:>8} images, {max(args.workers)} workers: peak resident memory {peak / 2**20:7.1f} MiB "
                  f"(driver + workers), {seconds:.0f} s")
        return
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
            generate(cfg, out, args.n, workers=w, merge=False)
            dt = time.perf_counter() - t
            rates[w] = args.n / dt
            per = 1000 * dt / args.n
            print(
                f"  generate --workers {w}:                 {rates[w]:8.1f} images/s  {per:6.2f} ms/image"
                f"  ({per / floor_ms:.2f}x floor per image{', wall clock incl. worker start' if w > 1 else ''})"
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
