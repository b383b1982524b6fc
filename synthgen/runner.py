"""Running a generation: shards of indices -> workers (a process pool, or Ray) -> files.

One backend for every kind of run: a run is a factory spec (synthgen/worker.py: plain images,
a stress suite) whose sample ``index`` a worker makes; shard plan, progress, resume, manifest
and merge are the same for all. Each shard is a pure function of (spec, index range), written
as a self-contained unit and finished by renaming its done record into place. Re-running the
same command skips shards whose record verifies and redoes the rest; the bytes of every file
do not depend on the worker count, the backend, the ``--shard`` split or where a run was
interrupted.

Users' data is safe (synthgen/io/outdir.py, synthgen/io/lock.py):

- ``--out`` may not be, contain or lie inside any folder or file the config reads (asset folders,
  real scenes, the real data of ``scene.balance``), even with ``--overwrite``.
- A run removes only files a synthgen run wrote, as its shards' done records (or the ``.partial``
  list of a shard killed part-way) name them; a folder that is not empty and holds no synthgen
  run is refused. ``--overwrite`` replaces a different run (config, kind, shard size) by removing
  exactly those files; other files in the folder stay.
- A changed ``-n`` is a smaller or larger run of the same images: the shards that are no longer
  part of it, and their files, are removed; the rest are kept or redone.
- One run at a time per folder: a whole run (local or Ray: the driver) holds an exclusive flock
  on ``OUT/.synthgen.lock`` from start to end; a second run is refused at once, naming the
  holder's pid. ``--shard I/N`` parts share the lock instead, so that parts from several
  processes or machines can fill one folder together; each claims the shard it writes
  (``shards/.shard-NNNNNN.claim``), a shard claimed by another part is left to it, and only a part
  that finds the folder free may clear it. With ``--shard``, ``--overwrite`` replaces only a
  different run, so every part can be given the same command.
- While it holds the folder alone, a run removes the temporaries (``.<name>.tmp<pid>``) that
  killed runs left behind.
- The manifest records the kind of run (``generate``, ``stress``); a different kind is refused.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import re
import threading
import time
import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthgen.config import Config, config_differences, dump_config
from synthgen.errors import OutputError
from synthgen.io.files import atomic_write
from synthgen.io.lock import LOCK_NAME, FolderLock, claim_shard
from synthgen.io.manifest import (
    MANIFEST,
    ShardSpec,
    read_json,
    write_manifest,
)
from synthgen.io.outdir import (
    CONFIG,
    MERGED_FILES,
    check_not_an_input,
    clean_temporaries,
    clear_run,
    is_run,
    prune,
    run_kind,
    stale_shards,
)
from synthgen.keypoints import manifest_entry
from synthgen.worker import FactorySpec, Images, SampleFactory, WorkerContext
from synthgen.writers.merge import merge_run
from synthgen.writers.shard import ShardWriter, verify_shard

MERGE_LIMIT = 200_000  # runs up to this size end as one annotations.json; bigger ones: `synthgen merge`
SKIPPED_LISTED = 10  # skipped asset files named in the closing summary (all are in manifest.json)


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
    removed: int = 0  # files of the previous run (or of shards no longer part of this one) removed
    num_images: int = 0  # in the run
    previous_n: int | None = None  # -n of the run the folder held before
    temporaries: int = 0  # temporary files of killed runs removed
    busy: tuple[str, ...] = ()  # shards left to the other --shard parts writing them
    skipped_assets: tuple[dict[str, str], ...] = ()  # {file, reason}, assets.on_error: skip
    unplaced: int = 0  # objects and distractors left out: no placement met the scene's constraints

    def line(self) -> str:
        rate = self.images / self.seconds if self.seconds > 0 else 0.0
        parts = [f"wrote {self.images} images, {self.instances} instances in {self.seconds:.1f} s ({rate:.1f} images/s)"]
        if self.skipped_shards:
            parts.append(f"{self.skipped_shards} shard{'s' if self.skipped_shards != 1 else ''} already done")
        if self.removed:
            was = f" (it had -n {self.previous_n})" if self.previous_n not in (None, self.num_images) else ""
            parts.append(f"removed {self.removed} files of the previous run{was} that are not part of this one")
        if self.temporaries:
            parts.append(f"removed {self.temporaries} temporary files of killed runs")
        if self.busy:
            parts.append(f"{len(self.busy)} shards left to the parts writing them ({self.busy[0]})")
        if self.skipped_assets:
            n = len(self.skipped_assets)
            parts.append(f"skipped {n} broken asset file{'s' if n != 1 else ''}")
        if self.unplaced:
            parts.append(
                f"{self.unplaced} objects left out: no place met scene.truncation and scene.occlusion.max_hidden "
                "within scene.max_tries (per image: `unplaced` in metadata.jsonl; fewer objects_per_image, "
                "a smaller scene.scale or more max_tries place more)"
            )
        if not self.complete:
            parts.append("run not complete yet (other shards pending)")
        elif not self.merged:
            parts.append("shards kept; `synthgen merge` makes one annotations.json")
        return "; ".join(parts) + f" -> {self.out}"

    def lines(self) -> list[str]:
        """The closing summary: ``line()``, then the asset files skipped and why."""
        out = [self.line()]
        if self.skipped_assets:
            out.append(f"skipped asset files (assets.on_error: skip; all {len(self.skipped_assets)} in manifest.json):")
            out += [f"  {s['file']}: {s['reason']}" for s in self.skipped_assets[:SKIPPED_LISTED]]
            if len(self.skipped_assets) > SKIPPED_LISTED:
                out.append(f"  ... and {len(self.skipped_assets) - SKIPPED_LISTED} more")
        return out


def run_info(
    cfg: Config, classes: tuple[str, ...], num_images: int, shard_size: int, kind: str = "generate", stuff: tuple[str, ...] = ()
) -> dict[str, Any]:
    """What a run is, as its manifest.json records it (before the state of its shards); ``stuff``:
    the background classes of its assets (synthgen/stuff.py)."""
    from synthgen.version import __version__

    return {
        "kind": kind,
        "config_digest": cfg.digest(),
        "seed": cfg.seed,
        "num_images": num_images,
        "shard_size": shard_size,
        "num_shards": math.ceil(num_images / shard_size),
        "classes": list(classes),
        "formats": list(cfg.output.formats),
        "synthgen_version": __version__,
        **manifest_entry(Path(cfg.assets.objects), classes, cfg.output.keypoints_on, cfg.output.yolo_task),
        **({"stuff_classes": list(stuff)} if stuff and {"semantic", "panoptic"} & set(cfg.output.formats) else {}),
    }


# --------------------------------------------------------------------------------------------
# The work of one shard, wherever it runs


def run_shard(
    ctx: WorkerContext,
    spec: FactorySpec,
    out: str,
    shard: ShardSpec,
    tick: Callable[[int], None] | None = None,
    claim: bool = False,
) -> dict[str, Any]:
    """Make and write one shard's samples; returns its summary (the done record stays on disk).

    ``claim`` (``--shard`` parts, which share the folder): hold the shard's claim while writing
    it; a shard another part has claimed, or finished meanwhile, is left as it is.
    """
    held = claim_shard(Path(out), shard.name) if claim else None
    if isinstance(held, str):
        return {"shard": shard.id, "images": 0, "instances": 0, "busy": f"shard {shard.id}: {held}"}
    try:
        if held is not None and verify_shard(Path(out), shard) is not None:
            return {"shard": shard.id, "images": 0, "instances": 0}
        factory = ctx.factory(spec)
        cfg = factory.config
        writer = ShardWriter(Path(out), shard, cfg.output, cfg.labels.amodal_masks, spec.kind)
        unplaced = 0
        for index in range(shard.start, shard.stop):
            sample = factory.sample(index)
            writer.add(sample)
            unplaced += int((sample.metadata.get("scene") or {}).get("unplaced", 0))
            if tick is not None:
                tick(1)
        record = writer.finish()
    finally:
        if held is not None:
            held.release()
    return {"shard": shard.id, "images": record["images"], "instances": record["instances"], "unplaced": unplaced}


# A pool or Ray worker process holds one context for its life (pool: made as it starts; Ray: by its first task).
_PROCESS: WorkerContext | None = None
_QUEUE: Any = None  # pool workers: progress ticks to the driver


def _process_context() -> WorkerContext:
    global _PROCESS
    if _PROCESS is None:
        _PROCESS = WorkerContext(threads=1).__enter__()  # one process per core: no OpenCV threads
    return _PROCESS


class _Ticks:
    """Progress of a pool worker, sent to the driver at most every ``every`` seconds (and when
    the shard ends) instead of once per image: fewer wake-ups of the driver's reader thread."""

    def __init__(self, put: Callable[[int], None], every: float = 0.25) -> None:
        self.put, self.every, self.pending, self.last = put, every, 0, time.monotonic()

    def __call__(self, n: int) -> None:
        self.pending += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.flush()
            self.last = now

    def flush(self) -> None:
        if self.pending:
            self.put(self.pending)
            self.pending = 0


def _init_pool(queue) -> None:
    global _QUEUE
    _QUEUE = queue
    # the driver loaded the same assets and warned of each skipped file already
    warnings.filterwarnings("ignore", message="skipping broken asset")
    _process_context()


def _pool_task(args: tuple[FactorySpec, str, ShardSpec, bool]) -> dict[str, Any]:
    spec, out, shard, claim = args
    ticks = _Ticks(_QUEUE.put)
    try:
        return run_shard(_process_context(), spec, out, shard, tick=ticks, claim=claim)
    finally:
        ticks.flush()


def _ray_task(spec: FactorySpec, out: str, shard: ShardSpec, claim: bool) -> dict[str, Any]:
    return run_shard(_process_context(), spec, out, shard, claim=claim)


# --------------------------------------------------------------------------------------------
# Backends


def _run_local(
    ctx: WorkerContext, spec: FactorySpec, out: Path, todo: Collection[ShardSpec], workers: int, tick, claim: bool
) -> list[dict]:
    """``workers`` processes: the driver itself (its factory is built and its caches are warm)
    and ``workers - 1`` pool processes; each takes the next shard when it is free."""
    if workers <= 1 or len(todo) <= 1:
        return [run_shard(ctx, spec, str(out), s, tick, claim) for s in todo]
    mp_ctx = mp.get_context("spawn")  # no forked OpenCV/BLAS thread state; the same path everywhere
    queue = mp_ctx.Queue()
    stop = threading.Event()
    shards = iter(todo)
    take, ticking = threading.Lock(), threading.Lock()
    results: list[dict] = []
    errors: list[BaseException] = []

    def next_shard() -> ShardSpec | None:
        with take:
            return None if stop.is_set() else next(shards, None)

    def safe_tick(n: int) -> None:  # the driver's own shards and the reader thread both report
        with ticking:
            tick(n)

    def drain() -> None:  # until the driver's None, put after the pool's processes have exited
        while True:
            try:
                n = queue.get(timeout=0.5)
            except Exception:  # queue.Empty, or closed at shutdown
                if stop.is_set() and queue.empty():
                    return
                continue
            if n is None:
                return
            safe_tick(n)

    def feed(pool) -> None:  # keeps one pool process busy, a shard at a time
        try:
            while (s := next_shard()) is not None:
                pending = pool.apply_async(_pool_task, ((spec, str(out), s, claim),))
                while not pending.ready():
                    if stop.is_set():
                        return
                    pending.wait(0.2)
                results.append(pending.get())
        except BaseException as exc:  # noqa: BLE001 - re-raised by the driver
            errors.append(exc)
            stop.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        processes = min(workers, len(todo)) - 1
        with mp_ctx.Pool(processes, initializer=_init_pool, initargs=(queue,)) as pool:
            feeders = [threading.Thread(target=feed, args=(pool,), daemon=True) for _ in range(processes)]
            for f in feeders:
                f.start()
            try:
                while (s := next_shard()) is not None:
                    results.append(run_shard(ctx, spec, str(out), s, safe_tick, claim))
            except BaseException:
                stop.set()
                raise
            for f in feeders:
                f.join()
            pool.close()
            pool.join()  # workers exit cleanly: their last progress reaches the queue
        if errors:
            raise errors[0]
        return results
    finally:
        stop.set()
        queue.put(None)  # behind every worker's last tick: wakes the reader at once
        reader.join()


RAY_INSTALL = ("pip install -e '.[ray]' in the synthgen folder (from a wheel: pip install 'path/to/synthgen-*.whl[ray]'; "
               "PyPI's 'synthgen' is another project)")


def connect_ray(address: str | None) -> None:
    """Start or join Ray before anything is written, so a failure leaves no folder behind."""
    try:
        import ray
    except ImportError:
        raise OutputError(f"--backend ray needs Ray: {RAY_INSTALL}") from None
    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage reports unless the user opts in
    try:
        ray.init(address=address, include_dashboard=False, logging_level="warning")
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"--address {address}" if address else "a local Ray"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        hint = " (start one with `ray start --head`, or leave --address out for a local Ray)" if address else ""
        raise OutputError(f"--backend ray: cannot connect to {where}: {first}{hint}") from None


def _run_ray(spec: FactorySpec, out: Path, todo: Collection[ShardSpec], address: str | None, tick, claim: bool) -> list[dict]:
    import ray

    connect_ray(address)
    task = ray.remote(num_cpus=1)(_ray_task)
    pending = {task.remote(spec, str(out.resolve()), s, claim): s for s in todo}
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


def config_inputs(cfg: Config) -> list[tuple[str, Path]]:
    """Every file and folder a run reads, as (config key, path)."""
    a = cfg.assets
    found = [("assets.objects", a.objects), ("assets.backgrounds", a.backgrounds), ("assets.distractors", a.distractors)]
    if a.scenes is not None:
        found += [(f"assets.scenes.{k}", getattr(a.scenes, k)) for k in ("coco", "images", "yolo")]
    if cfg.scene.balance is not None:
        found.append(("scene.balance.real", cfg.scene.balance.real))
    return [(key, Path(path)) for key, path in found if path is not None]


def _differences(out: Path, cfg: Config, info: dict[str, Any]) -> list[str]:
    """How the run in ``out`` differs from the one asked for (empty: the same run, resumable)."""
    found = []
    kind = run_kind(out)
    if kind is not None and kind != info["kind"]:
        found.append(f"a `{kind}` run, and this is a `{info['kind']}` run (they would share files)")
    cfg_file = out / CONFIG
    if not cfg_file.is_file() or cfg_file.read_text() != dump_config(cfg):
        found.append(f"a run made with a different config ({_config_change(cfg_file, cfg)})")
    old = read_json(out / MANIFEST)
    if old and old.get("shard_size") != info["shard_size"]:
        hint = ""
        if old.get("num_images") != info["num_images"]:
            hint = f"; -n {old.get('num_images')} -> {info['num_images']} changes the default shard size"
        found.append(
            f"a run written with --shard-size {old.get('shard_size')}, not {info['shard_size']}{hint} "
            "(use the same value to resume)"
        )
    return found


def _config_change(cfg_file: Path, cfg: Config, shown: int = 4) -> str:
    """The keys that differ between the run in the folder and this one: ``key: old -> new``."""
    import yaml

    try:
        old = yaml.safe_load(cfg_file.read_text()) if cfg_file.is_file() else None
    except (OSError, yaml.YAMLError):
        old = None
    if not isinstance(old, dict):
        return f"{cfg_file} is missing or unreadable"
    changes = config_differences(old, cfg.to_dict())
    if not changes:
        return f"see {cfg_file}"
    more = f"; and {len(changes) - shown} more keys, see {cfg_file}" if len(changes) > shown else ""
    return "; ".join(changes[:shown]) + more


def prepare_output(
    out: Path, cfg: Config, info: dict[str, Any], plan: list[ShardSpec], overwrite: bool, exclusive: bool, part: bool
) -> tuple[int, int]:
    """Make ``out`` ready for the run ``info`` describes, under its lock; returns (files of an old
    run removed, temporaries removed). ``exclusive``: no other process writes into ``out``."""
    if any(p.name != LOCK_NAME for p in out.iterdir()):
        if not is_run(out):
            raise OutputError(
                f"--out {out} is not empty and holds no synthgen run (no config.yaml); synthgen writes only "
                "into an empty folder or one of its own runs, and removes only files it wrote: "
                "choose an empty or new folder"
            )
        if not (out / MANIFEST).exists() and not (out / "shards").is_dir() and any((out / n).is_file() for n in MERGED_FILES):
            raise OutputError(  # `synthgen merge RUN --out OUT`: linked images no run here lists, even to --overwrite
                f"--out {out} holds a merged dataset but no run (no manifest.json, no shards/: a `synthgen merge "
                "--out` folder, or a run whose shards/ were removed), whose files no run lists: generate into another folder"
            )
        different = _differences(out, cfg, info)
        removed = 0
        if different and not overwrite:
            raise OutputError(
                f"--out {out} holds {different[0]}; to keep that run, write this one into another "
                f"folder (--out another/); to replace it, add --overwrite (only the files it wrote are removed)"
            )
        if (different or (overwrite and not part)) and not exclusive:
            raise OutputError(
                f"--out {out} holds {different[0] if different else 'a run'} and other --shard parts are "
                "writing into it; it can be replaced only when none is running"
            )
        if different or (overwrite and not part):  # a whole run with --overwrite starts afresh
            removed += clear_run(out)
        if exclusive:
            removed += prune(out, plan)  # another -n, or shards killed part-way
            temporaries = clean_temporaries(out)
        else:
            stale = stale_shards(out, plan)
            if stale:
                raise OutputError(
                    f"--out {out} holds shards of a run with another -n ({stale[0]}) and other --shard parts "
                    "are writing into it; give every part the same -n"
                )
            temporaries = 0
    else:
        removed = temporaries = 0
    try:
        for name in MERGED_FILES:  # they would go stale: the run merges again when complete
            (out / name).unlink(missing_ok=True)
        cfg_file = out / CONFIG
        if not cfg_file.exists() or cfg_file.read_text() != dump_config(cfg):
            atomic_write(cfg_file, dump_config(cfg).encode())
    except OSError as exc:
        raise OutputError(f"cannot write to --out {out}: {exc.strerror or exc}") from exc
    return removed, temporaries


class ShardPlan(Sequence):
    """``plan_shards(num_images, shard_size)`` made lazily: the same shards, each made when it is
    asked for, so a run of a hundred million clips (a shard each) starts writing at once."""

    def __init__(self, num_images: int, shard_size: int) -> None:
        self.num_images, self.shard_size = num_images, shard_size
        self._len = -(-num_images // shard_size)

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i):  # an int or a slice, as for a list
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._len))]
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(i)
        start = i * self.shard_size
        return ShardSpec(i, start, min(start + self.shard_size, self.num_images))

    def __iter__(self) -> Iterator[ShardSpec]:
        return (self[i] for i in range(self._len))


_DONE = re.compile(r"^shard-(\d+)\.done\.json$")


class ShardsToDo:
    """The shards of ``plan`` this process writes (``part``) that are not finished, in order,
    lazily: only the done records on disk are read and verified (a shard without one is to do,
    as ``verify_shard`` finds), not one file per planned shard."""

    def __init__(self, out: Path, plan: ShardPlan, part: tuple[int, int] | None, verify: bool) -> None:
        self.plan, self.ids = plan, range(len(plan)) if part is None else range(part[0], len(plan), part[1])
        found = []
        if (out / "shards").is_dir():
            for entry in os.scandir(out / "shards"):
                m = _DONE.match(entry.name)
                if m and int(m.group(1)) in self.ids:
                    found.append(int(m.group(1)))
        self.done = {k for k in found if verify_shard(out, plan[k], full=verify) is not None}

    def __len__(self) -> int:
        return len(self.ids) - len(self.done)

    def __iter__(self) -> Iterator[ShardSpec]:
        return (self.plan[k] for k in self.ids if k not in self.done)

    def images(self) -> int:
        """Images (frames) to write."""
        size, n = self.plan.shard_size, len(self.plan)
        total = len(self.ids) * size
        if n and (n - 1) in self.ids:
            total -= size - len(self.plan[n - 1])
        return total - sum(len(self.plan[k]) for k in self.done)


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
    if part is not None and not (len(part) == 2 and 1 <= part[1] and 0 <= part[0] < part[1]):
        raise OutputError(f"part {part!r}: needs (I, N) with 0 <= I < N, counting from 0 as --shard I/N does")
    out = Path(out)
    check_not_an_input(out, config_inputs(cfg))  # before anything is read or written
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} exists and is not a folder")
    if backend == "ray":
        connect_ray(address)
    with WorkerContext(threads=1) as ctx:
        factory = ctx.factory(spec)  # checks the assets before any file is written
        _check_label_values(factory)
        skipped_assets = _skipped_assets(factory)
        previous = read_json(out / MANIFEST) or {}
        info = {
            **run_info(cfg, factory.classes, num_images, shard_size, spec.kind, factory.library.stuff),
            "skipped_assets": list(skipped_assets),
            **(extra_info or {}),
        }
        shards = ShardPlan(num_images, shard_size)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot write to --out {out}: {exc.strerror or exc}") from exc
        with FolderLock(out, shared=part is not None) as lock:
            removed, temporaries = prepare_output(out, cfg, info, shards, overwrite, lock.exclusive, part is not None)
            old = read_json(out / MANIFEST)
            if old is not None and old.get("num_images") != num_images:  # else, killed, it still describes the old size
                write_manifest(out, info, shards)
            lock.share()

            todo = ShardsToDo(out, shards, part, verify)
            skipped = len(todo.done)
            if on_plan is not None:
                on_plan(todo.images(), skipped)
            tick = progress or (lambda n: None)
            start = time.perf_counter()
            claim = part is not None
            if backend == "ray":
                results = _run_ray(spec, out, todo, address, tick, claim)
            else:
                results = _run_local(ctx, spec, out, todo, workers, tick, claim)
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
        removed=removed,
        num_images=num_images,
        previous_n=previous.get("num_images"),
        temporaries=temporaries,
        busy=tuple(r["busy"] for r in results if "busy" in r),
        skipped_assets=skipped_assets,
        unplaced=sum(r.get("unplaced", 0) for r in results),
    )


def _check_label_values(factory: SampleFactory) -> None:
    """A run that shows background classes (semantic, panoptic) decodes every label image once
    here, in the driver, before anything is written: a value its labels.json does not name would
    otherwise stop the run only when that background is first drawn, perhaps hours in (the
    workers' generators check only the headers, so this is paid once a run, not per worker)."""
    lib = factory.library
    if not lib.labels or not {"semantic", "panoptic"} & set(factory.config.output.formats):
        return
    from synthgen.stuff import check_values

    for i, lab in lib.labels.items():
        check_values(lab, lib.backgrounds[i].size_wh)


def _skipped_assets(factory: SampleFactory) -> tuple[dict[str, str], ...]:
    """The asset files the run's library skipped (``assets.on_error: skip``), with the reason."""
    out = []
    for file, reason in factory.library.skipped:
        prefix = f"{file}: "
        out.append({"file": file, "reason": reason.removeprefix(prefix)})
    return tuple(out)


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
