"""Where `generate --workers 1` spends its time on the default config (effects off), beside the
encode floor measured in the same process, and what creating one output file costs here.

    PYTHONPATH=. python bench/profile_default.py             # 300 images, top 30 by own time
    PYTHONPATH=. python bench/profile_default.py -n 500 --sort cumulative --top 60 --tmp DIR

The ratio printed is from one unprofiled round of each (CPU time; noisy on a shared machine:
compare figures from the same run only). Creating a file is paid once per image by both the
floor and synthgen; on some file systems it is a large, varying share of both (the "file
creation" line), so ``--tmp`` lets the runs write elsewhere.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from floors import encode_floor, file_creation_ms  # noqa: E402

from synthgen.config import load_config  # noqa: E402
from synthgen.generator import Generator  # noqa: E402
from synthgen.runner import generate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=300, help="images per run")
    ap.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"], help="profile order")
    ap.add_argument("--top", type=int, default=30, help="profile lines shown")
    ap.add_argument("--tmp", type=Path, default=None, help="folder the runs write into (default: the system's temporary folder)")
    args = ap.parse_args()
    cv2.setNumThreads(1)  # as the workers do
    cfg = load_config(None, ["canvas.width=640", "canvas.height=480", "effects=[]"])
    if args.tmp is not None:
        args.tmp.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="synthgen-profile-", dir=args.tmp))
    try:
        generate(cfg, tmp / "warm", 20, workers=1, merge=False)  # imports and caches warm
        t = time.process_time()
        generate(cfg, tmp / "gen", args.n, workers=1, merge=False)
        gen = time.process_time() - t
        floor = encode_floor(Generator(cfg), range(args.n), tmp / "floor", cfg.output.jpeg_quality)
        print(f"generate {1000 * gen / args.n:.2f} ms/image CPU, encode floor {1000 * floor / args.n:.2f} ms/image: "
              f"{gen / floor:.2f}x; file creation here {file_creation_ms(tmp / 'files'):.3f} ms (paid once per image by both)")
        prof = cProfile.Profile()
        prof.enable()
        generate(cfg, tmp / "profiled", args.n, workers=1, merge=False)
        prof.disable()
        pstats.Stats(prof).sort_stats(args.sort).print_stats(args.top)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
