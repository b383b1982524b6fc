"""Every speed figure of the README, each as a ratio to a floor measured in the same run.

    python bench/run_all.py                 # print the figures (a few minutes on 2 cores)
    python bench/run_all.py --readme        # ... and rewrite the README "Speed" table
    python bench/run_all.py --memory 1000 100000   # ... with peak memory of whole runs (long)
    python bench/run_all.py --smoke         # tiny sizes: checks that the script runs (seconds)

CPU time (``time.process_time``, and ``getrusage`` of child processes) is used wherever one
process does the work, so that other load on the machine matters less; worker scaling is a
matter of wall-clock time by nature. Each generate/floor pair is measured ``--repeats`` times,
interleaved, and the median ratio is reported with its range. Targets are printed beside the
figures; they are not tested (tests/test_bench.py only runs ``--smoke``). synthgen is
byte-compiled first (as an installed copy is), so that start-up figures do not include compiling
it from source where PYTHONDONTWRITEBYTECODE is set.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing as mp
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from floors import composite_floor, composite_floor_worker, encode_floor, file_creation_ms  # noqa: E402
import workload  # noqa: E402

from synthgen.config import load_config  # noqa: E402
from synthgen.generator import Generator  # noqa: E402
from synthgen.runner import generate  # noqa: E402

BEGIN, END = "<!-- speed-table:begin -->", "<!-- speed-table:end -->"
SIZE = ["canvas.width=640", "canvas.height=480"]


@dataclass
class Row:
    what: str
    result: str
    ratio: str
    target: str


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _cli_cpu(args: list[str]) -> float:
    """CPU seconds of one ``synthgen ...`` process (the installed entry point when there is one)."""
    exe = Path(sys.executable).with_name("synthgen")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "synthgen.cli"]
    before = _children_cpu()
    subprocess.run(cmd + args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return _children_cpu() - before


def _generate_cpu(cfg, out: Path, n: int) -> float:
    t = time.process_time()
    generate(cfg, out, n, workers=1, merge=False)
    cpu = time.process_time() - t
    shutil.rmtree(out)
    return cpu


def _ratio_rounds(pairs: list[tuple[float, float]]) -> tuple[float, float, float]:
    ratios = [a / b for a, b in pairs]
    return statistics.median(ratios), min(ratios), max(ratios)


def _fmt_ratio(r: tuple[float, float, float]) -> str:
    med, lo, hi = r
    return f"{med:.2f}x" if lo == hi else f"{med:.2f}x ({lo:.2f}-{hi:.2f})"


def default_config(tmp: Path, n: int, repeats: int) -> list[Row]:
    cfg = load_config(None, [*SIZE, "effects=[]"])
    gen = Generator(cfg)
    q = cfg.output.jpeg_quality
    _generate_cpu(cfg, tmp / "warm", min(n, 20))  # imports and caches warm, as in a long run
    pairs = []
    for r in range(repeats):
        floor = encode_floor(gen, range(n), tmp / f"floor{r}", q)
        shutil.rmtree(tmp / f"floor{r}")
        pairs.append((_generate_cpu(cfg, tmp / f"gen{r}", n), floor))
    floor_ms = 1000 * statistics.median(f for _, f in pairs) / n
    gen_ms = 1000 * statistics.median(g for g, _ in pairs) / n
    steady = _ratio_rounds(pairs)
    whole = []
    for r in range(repeats):
        floor = encode_floor(gen, range(n), tmp / f"floor{r}", q)
        shutil.rmtree(tmp / f"floor{r}")
        cpu = _cli_cpu(["generate", "--out", str(tmp / f"cli{r}"), "-n", str(n), "-q", "--set", "effects=[]", *sum((["--set", s] for s in SIZE), [])])
        shutil.rmtree(tmp / f"cli{r}")
        whole.append((cpu, floor))
    return [
        Row("encode floor, default config (JPEG q%d + write + RLE of ready masks)" % q, f"{floor_ms:.2f} ms/image", "1x", ""),
        Row(f"`generate --workers 1`, default config, effects off, {n} images", f"{gen_ms:.2f} ms/image CPU",
            f"{_fmt_ratio(steady)} encode floor", "<= 2.0x"),
        Row(f"whole `synthgen generate -n {n}` process (start-up, merge)", f"{1000 * statistics.median(c for c, _ in whole) / n:.2f} ms/image CPU",
            f"{_fmt_ratio(_ratio_rounds(whole))} encode floor", "<= 2.5x"),
    ]


def peer_workload(tmp: Path, n: int, repeats: int) -> list[Row]:
    root = workload.make_assets(tmp / "peer-assets")
    cfg = load_config(None, workload.config_overrides(root))
    _generate_cpu(cfg, tmp / "warm", min(n, 20))
    composite_floor(root, range(min(n, 20)), tmp / "warmfloor")
    pairs = []
    for r in range(repeats):
        floor = composite_floor(root, range(n), tmp / f"cfloor{r}")
        shutil.rmtree(tmp / f"cfloor{r}")
        pairs.append((_generate_cpu(cfg, tmp / f"peer{r}", n), floor))
    floor_ms = 1000 * statistics.median(f for _, f in pairs) / n
    gen_ms = 1000 * statistics.median(g for g, _ in pairs) / n
    return [
        Row("composite floor, peer workload (decode once, one warp per object, JPEG + id-map PNG + boxes)",
            f"{floor_ms:.2f} ms/image ({1000 / floor_ms:.0f} images per CPU-second)", "1x", ""),
        Row(f"`generate`, peer workload, {n} images", f"{gen_ms:.2f} ms/image ({1000 / gen_ms:.0f} images per CPU-second)",
            f"{_fmt_ratio(_ratio_rounds(pairs))} composite floor", "<= 1.3x"),
    ]


def _part_worker(args: tuple[str, int, int]) -> None:
    """One of two independent ``--workers 1`` runs, each of every other shard (``--shard k/2``, k = 0, 1)."""
    out, n, k = args
    cv2.setNumThreads(1)
    generate(load_config(None, [*SIZE, "effects=[]"]), Path(out), n, workers=1, merge=False, part=(k, 2))


def scaling(tmp: Path, n: int) -> list[Row]:
    """Wall clock of 1 and 2 workers on the default config, in the same round as two things
    that show what the machine allows right now: the same run as two independent single-worker
    processes (``--shard 0/2`` and ``1/2`` into two folders, no pool, no shared folder), and the
    composite floor split over 1 and 2 processes."""
    cfg = load_config(None, [*SIZE, "effects=[]"])
    walls = {}
    for w in (1, 2):
        t = time.perf_counter()
        generate(cfg, tmp / f"scale{w}", n, workers=w, merge=False)
        walls[w] = time.perf_counter() - t
        shutil.rmtree(tmp / f"scale{w}")
    parts = [(str(tmp / f"part{k}"), n, k) for k in (0, 1)]
    t = time.perf_counter()
    with mp.get_context("spawn").Pool(2) as pool:
        pool.map(_part_worker, parts)
    walls["parts"] = time.perf_counter() - t
    for out, _, _ in parts:
        shutil.rmtree(out)
    root = workload.make_assets(tmp / "peer-assets")
    floor = {}
    for w in (1, 2):
        parts = [(str(root), list(range(k, n, w)), str(tmp / f"fs{w}-{k}")) for k in range(w)]
        t = time.perf_counter()
        if w == 1:
            composite_floor_worker(parts[0])
        else:
            with mp.get_context("spawn").Pool(w) as pool:
                pool.map(composite_floor_worker, parts)
        floor[w] = time.perf_counter() - t
        for _, _, o in parts:
            shutil.rmtree(o)
    return [
        Row(f"`generate --workers 2` vs `--workers 1`, {n} images (wall clock, worker start included)",
            f"{n / walls[2]:.0f} vs {n / walls[1]:.0f} images/s",
            f"{walls[1] / walls[2]:.2f}x (two independent `--workers 1` halves at once: {walls[1] / walls['parts']:.2f}x; "
            f"composite floor on 2 processes: {floor[1] / floor[2]:.2f}x)", ">= 1.85x"),
    ]


def startup() -> list[Row]:
    bare = statistics.median(_bare() for _ in range(3))
    helps = statistics.median(_cli_cpu(["--help"]) for _ in range(3))
    tmp = Path(tempfile.mkdtemp(prefix="synthgen-bench-one-"))
    try:
        one = []
        for r in range(3):
            one.append(_cli_cpu(["generate", "--out", str(tmp / f"r{r}"), "-n", "1", "-q"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [
        Row("`synthgen --help`", f"{helps:.3f} s CPU", f"{helps / bare:.1f}x a bare interpreter ({bare:.3f} s)", "< 0.1 s"),
        Row("`synthgen generate -n 1` (default config)", f"{statistics.median(one):.3f} s CPU", "", "< 0.5 s"),
    ]


def _bare() -> float:
    before = _children_cpu()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return _children_cpu() - before


def effects(repeats: int) -> list[Row]:
    from bench_effects import time_effect
    from synthgen.effects.registry import REGISTRY
    from synthgen.render import render

    base = load_config(None, [*SIZE, "effects=[]"])
    gen = Generator(base)
    frame = render(gen.scene(0), gen.library, base.render.alpha_threshold)
    ms = {name: (time_effect(name, 3, frame, repeats), time_effect(name, 5, frame, repeats)) for name in sorted(REGISTRY)}
    worst3 = max(ms, key=lambda k: ms[k][0])
    worst_ratio = max(ms, key=lambda k: ms[k][1] / ms[k][0])
    named = ", ".join(f"{k} {ms[k][0]:.1f}" for k in ("fog", "night", "motion_blur") if k in ms)
    return [
        Row("slowest effect at severity 3, 640x480", f"{worst3} {ms[worst3][0]:.1f} ms ({named} ms)", "", "<= 8 ms"),
        Row("severity 5 / severity 3, worst effect", f"{worst_ratio} {ms[worst_ratio][1]:.1f} / {ms[worst_ratio][0]:.1f} ms",
            f"{ms[worst_ratio][1] / ms[worst_ratio][0]:.2f}x", "<= 2x"),
    ]


def crowd(n: int) -> list[Row]:
    """CPU per placed object of ``Generator.sample`` (scene, render, labels; no encoding) at 10
    and 300 objects of the crowd preset."""
    per = {}
    for k in (10, 300):
        cfg = load_config(REPO / "configs" / "crowd.yaml", [*SIZE, f"scene.objects_per_image=[{k}, {k}]"])
        gen = Generator(cfg)
        gen.sample(10_000)  # warm
        placed = 0
        t = time.process_time()
        for i in range(n):
            placed += len(gen.sample(i).scene.placements)
        per[k] = 1000 * (time.process_time() - t) / placed
    return [
        Row("crowd preset: CPU per placed object at 300 vs 10 objects (sample, no encoding)",
            f"{per[300]:.3f} vs {per[10]:.3f} ms", f"{per[300] / per[10]:.2f}x", "<= 1.3x"),
    ]


def canvases(tmp: Path, n: int) -> list[Row]:
    """Whole generate runs (default config, effects off) at three canvas sizes, per megapixel."""
    per_mp = {}
    for W, H in ((640, 480), (1920, 1080), (3840, 2160)):
        cfg = load_config(None, [f"canvas.width={W}", f"canvas.height={H}", "effects=[]"])
        k = max(1, n * 640 * 480 // (W * H))
        _generate_cpu(cfg, tmp / "warm", 1)
        per_mp[(W, H)] = _generate_cpu(cfg, tmp / f"c{W}", k) / k / (W * H / 1e6)
    base = per_mp[(640, 480)]
    return [
        Row(f"{W}x{H}, default config, per megapixel", f"{1000 * v:.1f} ms CPU", f"{v / base:.2f}x 640x480", "~1x")
        for (W, H), v in per_mp.items() if (W, H) != (640, 480)
    ]


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


def memory(tmp: Path, sizes: list[int]) -> list[Row]:
    """Peak resident memory of whole `synthgen generate --workers 2` runs (driver + workers)."""
    peaks = {}
    for n in sizes:
        cmd = [sys.executable, "-m", "synthgen.cli", "generate", "--out", str(tmp / "mem"), "-n", str(n), "--workers", "2",
               "-q", "--no-merge", *sum((["--set", s] for s in SIZE), [])]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.05)
        shutil.rmtree(tmp / "mem", ignore_errors=True)
        if proc.returncode:
            raise SystemExit(f"generate -n {n} failed with exit code {proc.returncode}")
        peaks[n] = peak / 2**20
    first = sizes[0]
    return [Row(f"peak memory, `generate --workers 2 -n {n}`", f"{peaks[n]:.0f} MiB", f"{peaks[n] / peaks[first]:.2f}x {first} images", "flat")
            for n in sizes]


def compile_bytecode() -> None:
    """Byte-compile synthgen, as installing it does. Where PYTHONDONTWRITEBYTECODE is set (some
    containers and CI images) every ``synthgen`` process would otherwise compile its modules
    from source (~60 ms of CPU), a cost no installed copy pays; the start-up figures would show it."""
    import compileall

    import synthgen

    try:
        compileall.compile_dir(str(Path(synthgen.__file__).parent), quiet=2)
    except OSError:  # a read-only checkout: measure as it is
        pass


def machine() -> str:
    load = os.getloadavg()
    model = "?"
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}, OpenCV {cv2.__version__}, load average {load[0]:.1f} at the start"


def commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout
        return out.stdout.strip() + ("+changes" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def table(rows: list[Row], header: str) -> str:
    lines = [header, "", "| what | result | ratio | target |", "|---|---|---|---|"]
    lines += [f"| {r.what} | {r.result} | {r.ratio} | {r.target} |" for r in rows]
    return "\n".join(lines) + "\n"


def write_readme(text: str, readme: Path = REPO / "README.md") -> None:
    doc = readme.read_text()
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{readme}: no {BEGIN} ... {END} markers to put the table between")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{text}{END}{tail}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=1000, help="images per generate/floor measurement")
    ap.add_argument("--scaling-n", type=int, default=2000, help="images of the worker-scaling runs")
    ap.add_argument("--repeats", type=int, default=5, help="interleaved generate/floor rounds")
    ap.add_argument("--readme", action="store_true", help="rewrite the README table between its markers")
    ap.add_argument("--memory", type=int, nargs="*", default=[], metavar="N",
                    help="also the peak memory of runs of N images (e.g. 1000 100000; long)")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, to check that the script runs")
    ap.add_argument("--tmp", type=Path, default=None,
                    help="folder the runs write into (default: the system's temporary folder); creating a file "
                         "costs 0.1-0.9 ms of CPU depending on the file system and its load, in the floors and "
                         "in synthgen alike (bench/profile_default.py measures it)")
    args = ap.parse_args()
    if args.smoke:
        args.n, args.scaling_n, args.repeats = 4, 8, 1
    cv2.setNumThreads(1)  # as the workers do
    compile_bytecode()
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    header = (f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC at commit {commit()}; "
              f"{machine()}")
    print(header, flush=True)
    if args.tmp is not None:
        args.tmp.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="synthgen-bench-", dir=args.tmp))
    # paid once per image by the floors and synthgen alike; varies 50-fold between folders and file systems
    file_ms = file_creation_ms(tmp / "files")
    rows: list[Row] = []
    try:
        for part in (lambda: default_config(tmp, args.n, args.repeats), lambda: peer_workload(tmp, args.n, args.repeats),
                     lambda: scaling(tmp, args.scaling_n), startup, lambda: effects(max(1, 3 * args.repeats)),
                     lambda: crowd(max(2, args.n // 50)), lambda: canvases(tmp, max(2, args.n // 10)),
                     lambda: memory(tmp, args.memory) if args.memory else []):
            new = part()
            for r in new:
                print(f"  {r.what}: {r.result}  {r.ratio}  (target {r.target or '-'})", flush=True)
            rows += new
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    header += (f", {os.getloadavg()[0]:.1f} at the end; creating a file in the run folder {file_ms:.3f} ms CPU. "
               "Regenerate with `python bench/run_all.py --readme`.")
    if args.readme:
        write_readme(table(rows, header))
        print("README.md table rewritten")


if __name__ == "__main__":
    main()
