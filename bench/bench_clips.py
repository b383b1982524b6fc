"""Frames/s of a clip run beside images/s of the same config (issue: a frame costs no more than an
image; objects and assets are decoded once per clip, not per frame).

    python bench/bench_clips.py                    # bundled config, 120 images vs 4 clips x 30 frames
    python bench/bench_clips.py configs/street.yaml -n 240 --frames 60 --workload

Both runs: one worker, COCO only, merged, into fresh temporary folders, in this process, one
after the other (best of --repeat), after a 2-image warm-up run. A clip run also writes its MOT layout (hard links and
gt.txt), which is counted. Prints wall and CPU time per image / frame and the ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _time(fn) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def main(argv: list[str] | None = None) -> None:
    from synthgen.clips import clip_config, run_clips
    from synthgen.config import load_config
    from synthgen.runner import generate

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("config", nargs="?", help="YAML config (default: the bundled one)")
    ap.add_argument("-n", "--images", type=int, default=120, help="images, and frames in all clips")
    ap.add_argument("--frames", type=int, default=30, help="frames per clip")
    ap.add_argument("--fps", type=float, default=15.0)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each, the best kept")
    ap.add_argument("--workload", action="store_true", help="bench/workload.py's assets and settings (640x480, 4-8 cutouts)")
    args = ap.parse_args(argv)
    clips = max(1, args.images // args.frames)
    n = clips * args.frames
    with tempfile.TemporaryDirectory() as tmp:
        overrides = ["output.formats=[coco]"]
        if args.workload:
            from workload import config_overrides, make_assets

            overrides += config_overrides(make_assets(Path(tmp) / "assets"))
        cfg = load_config(args.config, overrides)
        clip_cfg, _ = clip_config(cfg, ["mot", "coco"])
        generate(cfg, Path(tmp) / "warm-up", 2, merge=True)  # imports, thread pools: paid by neither
        best: dict[str, tuple[float, float]] = {}
        for r in range(args.repeat):
            for kind, run in (
                ("images", lambda out: generate(cfg, out, n, merge=True)),
                ("frames", lambda out: run_clips(clip_cfg, out, clips, args.frames, fps=args.fps)),
            ):
                wall, cpu = _time(lambda run=run, out=Path(tmp) / f"{kind}-{r}": run(out))
                if kind not in best or wall < best[kind][0]:
                    best[kind] = (wall, cpu)
    name = args.config or "bundled config"
    print(f"{name}{' + workload' if args.workload else ''}: {n} images vs {clips} clips x {args.frames} frames, 1 worker")
    for kind, (wall, cpu) in best.items():
        print(f"  {kind:<7} {n / wall:7.1f} {kind}/s   {1000 * wall / n:6.1f} ms wall, {1000 * cpu / n:6.1f} ms CPU per {kind[:-1]}")
    wall, cpu = (best["frames"][i] / best["images"][i] for i in (0, 1))
    print(f"  a frame costs {cpu:.2f}x an image in CPU time, {wall:.2f}x in wall time (CPU is the steadier on a busy machine)"
          + ("" if cpu <= 1.05 else "  <- more than an image"))


if __name__ == "__main__":
    main()
