"""Cost of every effect on a 640x480 image, and of a preset against the effect-free core.

    python bench/bench_effects.py                 # every effect at severities 1, 3, 5; street vs default
    python bench/bench_effects.py --preset configs/night.yaml -n 100

Effect times are per call on a rendered 640x480 sample (single OpenCV thread, as in the
workers), the median of repeated calls, in CPU time. The preset line compares whole `generate` runs on one
worker: the preset's images/second against the default config with its effects removed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import cv2

from synthgen.config import load_config
from synthgen.effects.pipeline import ranges_for
from synthgen.effects.registry import REGISTRY
from synthgen.generator import Generator
from synthgen.render import render
from synthgen.rng import Stream, image_rng
from synthgen.runner import generate

LIMIT_MS = 15.0


def time_effect(name: str, severity: int, frame, repeats: int) -> float:
    cls = REGISTRY[name]
    spec = load_config(overrides=[f"effects=[{{name: {name}, severity: {severity}}}]"]).effects[0]
    times = []
    for r in range(repeats):
        params = cls.sample(ranges_for(spec, severity), image_rng(0, r, Stream.IMAGE_EFFECTS, 0), (640, 480))
        t = time.process_time()  # CPU time: other load on the machine matters less
        cls.apply(frame, params)  # geometric: the image, the id map and every silhouette
        times.append(time.process_time() - t)
    return 1000 * statistics.median(times)


def run_rate(cfg, n: int) -> float:
    out = Path(tempfile.mkdtemp(prefix="synthgen-bench-"))
    try:
        t = time.perf_counter()
        generate(cfg, out / "run", n, workers=1)
        return n / (time.perf_counter() - t)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="configs/street.yaml", help="preset to compare with the core")
    ap.add_argument("-n", type=int, default=150, help="images per generate run")
    ap.add_argument("--repeats", type=int, default=15, help="calls per effect and severity")
    args = ap.parse_args()
    cv2.setNumThreads(1)

    base = load_config(overrides=["canvas.width=640", "canvas.height=480", "effects=[]"])
    gen = Generator(base)
    frame = render(gen.scene(0), gen.library, base.render.alpha_threshold)
    print(f"synthgen effect bench: 640x480, median of {args.repeats} calls, limit {LIMIT_MS:.0f} ms at severity 3")
    print(f"  {'effect':<18}{'family':<11}{'sev 1':>8}{'sev 3':>8}{'sev 5':>8}")
    over = []
    for name in sorted(REGISTRY, key=lambda n: (REGISTRY[n].spec.family, n)):
        ms = [time_effect(name, s, frame, args.repeats) for s in (1, 3, 5)]
        flag = "  OVER" if ms[1] > LIMIT_MS else ""
        if flag:
            over.append(name)
        print(f"  {name:<18}{REGISTRY[name].spec.family:<11}" + "".join(f"{m:8.2f}" for m in ms) + flag)
    print(f"  effects over {LIMIT_MS:.0f} ms at severity 3: {', '.join(over) or 'none'}")

    preset = load_config(args.preset, ["canvas.width=640", "canvas.height=480"])
    core = load_config(args.preset, ["canvas.width=640", "canvas.height=480", "effects=[]"])
    r_plain = run_rate(base, args.n)
    r_core = run_rate(core, args.n)
    r_preset = run_rate(preset, args.n)
    print(f"  default config, no effects:          {r_plain:7.1f} images/s")
    print(f"  {Path(args.preset).name} without its effects:  {r_core:7.1f} images/s")
    print(f"  {Path(args.preset).name} as shipped:           {r_preset:7.1f} images/s"
          f"  ({r_preset / r_plain:.2f}x the default's effect-free speed; the aim is >= 0.33x)")


if __name__ == "__main__":
    main()
