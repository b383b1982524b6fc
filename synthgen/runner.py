"""Running a generation: shards of indices -> workers (a process pool, or Ray) -> files.

One backend for every kind of run: a run is a factory spec (synthgen/worker.py: plain images,
a stress suite) whose sample ``index`` a worker makes; shard plan, progress, resume, manifest
and merge are the same for all. Each shard is a pure function of (spec, index range), written
as a self-contained unit and finished by renaming its done record into place. Re-running the
same command skips shards whose record verifies and redoes the rest; the bytes of every file
do not depend on the worker count, the backend, the ``--shard`` split or where a run was
interrupted.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthgen.config import Config, dump_config
from synthgen.errors import OutputError
from synthgen.io.files import atomic_write
from synthgen.io.manifest import ShardSpec, plan_shards, read_json, write_manifest
from synthgen.worker import FactorySpec, Images, WorkerContext
from synthgen.writers.merge import merge_run
from synthgen.writers.shard import ShardWriter, verify_shard

MERGE_LIMIT = 200_000  # runs up to this size end as one annotations.json; bigger ones: `synthgen merge`
MERGED_FILES = ("annotations.json", "metadata.jsonl", "data.yaml")
OUTPUT_DIRS = ("images", "labels", "masks", "shards", "webdataset")


def auto_shard_size(num_images: int) -> int:
    """At least ~32 shards for small runs (so every worker has work), at most 1000 images each.

    A function of the run size only: the file layout never depends on the worker count.
    """
    return min(1000, max(10, math.ceil(num_images / 32)))


@dataclass(frozen=True)
class Summary:
    images: int  # written by this invocation
    instances: int
    skipped_shards: int  # already finished and verified
    seconds: float
    out: Path
    complete: bool
    merged: bool

    def line(self) -> str:
        rate = self.images / self.seconds if self.seconds > 0 else 0.0
        parts = [f"wrote {self.images} images, {self.instances} instances in {self.seconds:.1f} s ({rate:.1f} images/s)"]
        if self.skipped_shards:
            parts.append(f"{self.skipped_shards} shards already done")
        if not self.complete:
            parts.append("run not complete yet (other shards pending)")
        elif not self.merged:
            parts.append("shards kept; `synthgen merge` makes one annotations.json")
        return "; ".join(parts) + f" -> {self.out}"


def run_info(cfg: Config, classes: tuple[str, ...], num_images: int, shard_size: int) -> dict[str, Any]:
    """What a run is, as its manifest.json records it (before the state of its shards)."""
    from synthgen.version import __version__

    return {
        "config_digest": cfg.digest(),
        "seed": cfg.seed,
        "num_images": num_images,
        "shard_size": shard_size,
        "num_shards": math.ceil(num_images / shard_size),
        "classes": list(classes),
        "formats": list(cfg.output.formats),
        "synthgen_version": __version__,
    }


# --------------------------------------------------------------------------------------------
# The work of one shard, wherever it runs


def run_shard(
    ctx: WorkerContext, spec: FactorySpec, out: str, shard: ShardSpec, tick: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Make and write one shard's samples; returns its summary (the done record stays on disk)."""
    factory = ctx.factory(spec)
    cfg = factory.config
    writer = ShardWriter(Path(out), shard, cfg.output, cfg.labels.amodal_masks)
    for index in range(shard.start, shard.stop):
        writer.add(factory.sample(index))
        if tick is not None:
            tick(1)
    record = writer.finish()
    return {"shard": shard.id, "images": record["images"], "instances": record["instances"]}


# A pool or Ray worker process holds one context for its life (pool: made as it starts; Ray: by its first task).
_PROCESS: WorkerContext | None = None
_QUEUE: Any = None  # pool workers: progress ticks to the driver


def _process_context() -> WorkerContext:
    global _PROCESS
    if _PROCESS is None:
        _PROCESS = WorkerContext(threads=1).__enter__()  # one process per core: no OpenCV threads
    return _PROCESS


def _init_pool(queue) -> None:
    global _QUEUE
    _QUEUE = queue
    _process_context()


def _pool_task(args: tuple[FactorySpec, str, ShardSpec]) -> dict[str, Any]:
    spec, out, shard = args
    return run_shard(_process_context(), spec, out, shard, tick=_QUEUE.put)


def _ray_task(spec: FactorySpec, out: str, shard: ShardSpec) -> dict[str, Any]:
    return run_shard(_process_context(), spec, out, shard)


# --------------------------------------------------------------------------------------------
# Backends


def _run_local(
    ctx: WorkerContext, spec: FactorySpec, out: Path, todo: list[ShardSpec], workers: int, tick
) -> list[dict]:
    if workers <= 1 or len(todo) <= 1:
        return [run_shard(ctx, spec, str(out), s, tick) for s in todo]
    mp_ctx = mp.get_context("spawn")  # no forked OpenCV/BLAS thread state; the same path everywhere
    queue = mp_ctx.Queue()
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set() or not queue.empty():
            try:
                tick(queue.get(timeout=0.1))
            except Exception:  # queue.Empty, or closed at shutdown
                continue

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        with mp_ctx.Pool(min(workers, len(todo)), initializer=_init_pool, initargs=(queue,)) as pool:
            return list(pool.imap_unordered(_pool_task, [(spec, str(out), s) for s in todo]))
    finally:
        stop.set()
        reader.join()


def _run_ray(spec: FactorySpec, out: Path, todo: list[ShardSpec], address: str | None, tick) -> list[dict]:
    try:
        import ray
    except ImportError:
        raise OutputError("--backend ray needs Ray: pip install 'synthgen[ray]'") from None
    if not ray.is_initialized():
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage reports unless the user opts in
        ray.init(address=address, include_dashboard=False, logging_level="warning")
    task = ray.remote(num_cpus=1)(_ray_task)
    pending = {task.remote(spec, str(out.resolve()), s): s for s in todo}
    results = []
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            pending.pop(ref)
            rec = ray.get(ref)
            tick(rec["images"])
            results.append(rec)
    return results


# --------------------------------------------------------------------------------------------
# The driver


def prepare_output(out: Path, cfg: Config, info: dict[str, Any], overwrite: bool) -> None:
    """Refuse to mix two different runs in one folder; clear merged files a new run replaces."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} exists and is not a folder")
    cfg_file = out / "config.yaml"
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        if not cfg_file.exists():
            raise OutputError(
                f"--out {out} is not empty and holds no synthgen run (no config.yaml); "
                "choose an empty folder, or pass --overwrite to replace its contents"
            )
        if cfg_file.read_text() != dump_config(cfg):
            raise OutputError(
                f"--out {out} holds a run made with a different config (see {cfg_file}); "
                "pass --overwrite to replace it, or choose another folder"
            )
        old = read_json(out / "manifest.json")
        if old and old.get("shard_size") != info["shard_size"]:
            raise OutputError(
                f"--out {out} was written with --shard-size {old.get('shard_size')}, not {info['shard_size']}; "
                "use the same value to resume, or --overwrite"
            )
    try:
        if overwrite and out.is_dir():
            for sub in OUTPUT_DIRS:
                shutil.rmtree(out / sub, ignore_errors=True)
            for name in (*MERGED_FILES, "manifest.json", "config.yaml"):
                (out / name).unlink(missing_ok=True)
        out.mkdir(parents=True, exist_ok=True)
        for name in MERGED_FILES:  # they would go stale: the run merges again when complete
            (out / name).unlink(missing_ok=True)
        if not cfg_file.exists() or cfg_file.read_text() != dump_config(cfg):
            atomic_write(cfg_file, dump_config(cfg).encode())
    except OSError as exc:
        raise OutputError(f"cannot write to --out {out}: {exc.strerror or exc}") from exc


def parse_part(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise OutputError(f"--shard {text!r}: expected I/N, e.g. 3/16 (part 3 of 16, counting from 0)") from None
    if n < 1 or not 0 <= i < n:
        raise OutputError(f"--shard {text!r}: needs 0 <= I < N")
    return i, n


def run(
    spec: FactorySpec,
    cfg: Config,
    out: str | Path,
    num_images: int,
    shard_size: int,
    *,
    extra_info: dict[str, Any] | None = None,
    workers: int = 1,
    part: tuple[int, int] | None = None,
    backend: str = "local",
    address: str | None = None,
    overwrite: bool = False,
    merge: bool | None = None,
    verify: bool = False,
    progress: Callable[[int], None] | None = None,
    on_plan: Callable[[int, int], None] | None = None,
) -> Summary:
    """Write samples ``0 .. num_images-1`` of ``spec``'s factory into ``out``, ``shard_size`` a shard.

    Any kind of run: ``cfg`` is the config it records (config.yaml, manifest), ``extra_info``
    what else its manifest says about it. ``part=(i, n)`` writes only shards ``i, i+n, i+2n,
    ...`` (one machine of n). ``merge``: one annotations.json at the end (default: when the run
    is complete and not huge). ``on_plan(images_to_do, shards_skipped)`` is called once the
    work is known; ``progress(n)`` as images are written.
    """
    if num_images < 1:
        raise OutputError(f"-n must be at least 1, got {num_images}")
    if backend not in ("local", "ray"):
        raise OutputError(f"--backend {backend!r}: choose local or ray")
    out = Path(out)
    with WorkerContext(threads=1) as ctx:
        factory = ctx.factory(spec)  # checks the assets before any file is written
        info = {**run_info(cfg, factory.classes, num_images, shard_size), **(extra_info or {})}
        prepare_output(out, cfg, info, overwrite)

        shards = plan_shards(num_images, shard_size)
        mine = [s for s in shards if part is None or s.id % part[1] == part[0]]
        todo = [s for s in mine if verify_shard(out, s, full=verify) is None]
        skipped = len(mine) - len(todo)
        if on_plan is not None:
            on_plan(sum(len(s) for s in todo), skipped)
        tick = progress or (lambda n: None)
        start = time.perf_counter()
        if backend == "ray":
            results = _run_ray(spec, out, todo, address, tick)
        else:
            results = _run_local(ctx, spec, out, todo, workers, tick)
        seconds = time.perf_counter() - start

    manifest = write_manifest(out, info, shards)
    do_merge = merge if merge is not None else num_images <= MERGE_LIMIT
    merged = False
    if manifest["complete"] and do_merge:
        merge_run(out)
        merged = True
    return Summary(
        images=sum(r["images"] for r in results),
        instances=sum(r["instances"] for r in results),
        skipped_shards=skipped,
        seconds=seconds,
        out=out,
        complete=manifest["complete"],
        merged=merged,
    )


def generate(
    cfg: Config,
    out: str | Path,
    num_images: int,
    *,
    workers: int = 1,
    shard_size: int | None = None,
    part: tuple[int, int] | None = None,
    backend: str = "local",
    address: str | None = None,
    overwrite: bool = False,
    merge: bool | None = None,
    verify: bool = False,
    progress: Callable[[int], None] | None = None,
    on_plan: Callable[[int, int], None] | None = None,
) -> Summary:
    """Write images ``0 .. num_images-1`` of the run described by ``cfg`` into ``out``
    (``Generator(cfg).sample(index)`` each; the options as for :func:`run`)."""
    return run(
        Images(cfg.model_dump_json()), cfg, out, num_images, shard_size or auto_shard_size(num_images),
        workers=workers, part=part, backend=backend, address=address, overwrite=overwrite, merge=merge,
        verify=verify, progress=progress, on_plan=on_plan,
    )
