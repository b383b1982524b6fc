"""Running a generation: indices -> worker processes -> files, run-wide files in index order.

Each worker builds its Generator (and so decodes the assets) once. Workers encode and write the
per-image files themselves and send back only small records; the driver writes annotations and
metadata in index order, so the output bytes do not depend on the worker count.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from synthgen.config import Config, dump_config
from synthgen.errors import OutputError
from synthgen.generator import Generator
from synthgen.writers.dataset import RUN_FILES, DatasetWriter, SampleRecord, write_sample_files


@dataclass(frozen=True)
class Summary:
    images: int
    instances: int
    seconds: float
    out: Path

    def line(self) -> str:
        rate = self.images / self.seconds if self.seconds > 0 else float("inf")
        return (
            f"wrote {self.images} images, {self.instances} instances in {self.seconds:.1f} s "
            f"({rate:.1f} images/s) -> {self.out}"
        )


_WORKER: dict[str, Any] = {}


def _init_worker(config_json: str, out: str) -> None:
    cv2.setNumThreads(1)  # one process per core; OpenCV's own threads would only contend
    cfg = Config.model_validate_json(config_json)
    _WORKER["gen"] = Generator(cfg)
    _WORKER["out"] = Path(out)


def _work(index: int) -> SampleRecord:
    gen: Generator = _WORKER["gen"]
    return write_sample_files(gen.sample(index), _WORKER["out"], gen.config.output)


def _records(cfg: Config, out: Path, indices: range, workers: int) -> Iterator[SampleRecord]:
    if workers <= 1:
        _init_worker(cfg.model_dump_json(), str(out))
        for i in indices:
            yield _work(i)
        return
    ctx = mp.get_context("spawn")  # no forked OpenCV/BLAS thread state; same code path everywhere
    with ctx.Pool(workers, initializer=_init_worker, initargs=(cfg.model_dump_json(), str(out))) as pool:
        yield from pool.imap(_work, indices, chunksize=4)


def prepare_output(out: Path, cfg: Config, overwrite: bool) -> None:
    """Refuse to mix two different runs in one folder; clear stale run-wide files."""
    cfg_file = out / "config.yaml"
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not cfg_file.exists() and not overwrite:
            raise OutputError(
                f"--out {out} is not empty and holds no synthgen run (no config.yaml); "
                "choose an empty folder, or pass --overwrite to replace its contents"
            )
        if cfg_file.exists() and cfg_file.read_text() != dump_config(cfg) and not overwrite:
            raise OutputError(
                f"--out {out} holds a run made with a different config (see {cfg_file}); "
                "pass --overwrite to replace it, or choose another folder"
            )
        if overwrite:
            for sub in ("images", "labels", "masks"):
                shutil.rmtree(out / sub, ignore_errors=True)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
        (out / "config.yaml").write_text(dump_config(cfg))
    except OSError as exc:
        raise OutputError(f"cannot write to --out {out}: {exc.strerror or exc}") from exc


def generate(
    cfg: Config,
    out: str | Path,
    num_images: int,
    *,
    workers: int = 1,
    overwrite: bool = False,
    progress: Callable[[SampleRecord], None] | None = None,
) -> Summary:
    """Write images ``0 .. num_images-1`` of the run described by ``cfg`` into ``out``."""
    if num_images < 1:
        raise OutputError(f"-n must be at least 1, got {num_images}")
    out = Path(out)
    gen = Generator(cfg)  # validates assets before any file is written
    prepare_output(out, cfg, overwrite)
    info = {"description": "synthgen", "version": _version(), "seed": cfg.seed, "config_digest": cfg.digest()}
    writer = DatasetWriter(out, cfg.output, gen.classes, info)
    start = time.perf_counter()
    try:
        for rec in _records(cfg, out, range(num_images), workers):
            writer.add(rec)
            if progress is not None:
                progress(rec)
    except BaseException:
        writer.abort()
        raise
    seconds = time.perf_counter() - start
    writer.close(
        {
            "complete": True,
            "images": writer.images,
            "instances": writer.instances,
            "seed": cfg.seed,
            "config_digest": cfg.digest(),
            "classes": list(gen.classes),
            "formats": list(cfg.output.formats),
            "skipped_assets": [list(s) for s in gen.library.skipped],
            "synthgen_version": _version(),
        }
    )
    return Summary(images=writer.images, instances=writer.instances, seconds=seconds, out=out)


def _version() -> str:
    from synthgen import __version__

    return __version__


def read_run(out: Path) -> dict[str, Any]:
    return json.loads((out / "run.json").read_text())
