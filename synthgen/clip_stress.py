"""Stress suites of clips: the same clips (same scenes, trajectories, camera, entering objects)
rendered clean and under every condition x severity, one clip run per variant.

    OUT/suite.json                   what the suite is (below); written first for a new suite,
                                     and again once every variant is made
    OUT/<variant>/                   a complete clips run (clips.run_clips): config.yaml,
                                     manifest.json, annotations.json (COCO video), images/, shards/
    OUT/<variant>/mot/<clip>/        its MOT Challenge layout (writers/mot.py)

``<variant>`` is ``clean`` or ``<condition>-<severity>`` (e.g. ``fog-3``), the condition as given
on the command line (``glare``, not ``sun_flare``). Every frame's COCO image entry carries
``condition`` and ``severity`` (0 for clean) beside its video fields. A variant's config is the
suite's with ``effects`` replaced by its one condition at ``p: 1`` and no albumentations
(stress.py's ``_variant_config``); the scene, trajectories, camera and entering objects do not
read ``effects``, so they are the same in every variant. ``occlusion`` keeps the clean
conditions and adds the image suite's unlabeled occluders over frame 0's targets, standing still
on top of everything: the objects move out from under them (and others may pass under them).

A suite resumes like a run (each variant resumes its own run); ``--overwrite`` replaces each
variant's run. Run again with fewer conditions or severities, the variants it no longer has
(those an earlier ``suite.json`` listed) are kept and listed under ``"stale"`` (the CLI says so);
with ``--overwrite`` they are removed as runs are (``io.outdir.clear_run``: only the files their
shards list, the merged files and the MOT layout; a file someone else put there stays, and so
does its folder). ``suite.json``::

    {"kind": "clip-stress", "clips": N, "frames": F, "fps": 15.0,
     "conditions": [...], "severities": [...],
     "variants": [{"name": "clean", "condition": "clean", "severity": 0,
                   "run": "clean", "mot": "clean/mot", "sequences": ["clip-000000", ...]}, ...],
     "stale": ["fog-5", ...]}       # only when earlier variants are left in the folder
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from synthgen.clips import (
    check_clip_args,
    check_resumable,
    clip_config,
    clip_name,
    run_clips,
)
from synthgen.config import Config
from synthgen.errors import OutputError
from synthgen.io.files import atomic_write
from synthgen.io.outdir import clear_run, is_run
from synthgen.runner import Summary
from synthgen.stress import OCCLUSION, _variant_config, check_conditions, variants
from synthgen.writers.mot import MOT_DIR

SUITE_FILE = "suite.json"


def variant_name(condition: str, severity: int) -> str:
    return "clean" if condition == "clean" else f"{condition}-{severity}"


def suite_record(num_clips: int, frames: int, fps: float, conditions: list[str], severities: list[int]) -> dict:
    return {
        "kind": "clip-stress",
        "clips": num_clips,
        "frames": frames,
        "fps": float(fps),
        "conditions": list(conditions),
        "severities": list(severities),
        "variants": [
            {
                "name": variant_name(c, s), "condition": c, "severity": s, "run": variant_name(c, s),
                "mot": f"{variant_name(c, s)}/{MOT_DIR}", "sequences": [clip_name(k) for k in range(num_clips)],
            }
            for c, s in variants(conditions, severities)
        ],
    }


_VARIANT = re.compile(r"^[a-z0-9_]+(-\d+)?$")  # a variant folder's name: never a path


def _earlier_variants(out: Path) -> list[str]:
    """The variants an earlier suite.json in ``out`` listed (its stale ones too)."""
    try:
        old = json.loads((out / SUITE_FILE).read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(old, dict):
        return []
    names = [v.get("run") for v in old.get("variants", []) if isinstance(v, dict)] + list(old.get("stale", []))
    return [n for n in names if isinstance(n, str) and _VARIANT.match(n)]


def _stale(out: Path, record: dict, overwrite: bool) -> list[str]:
    """Earlier variants this suite no longer has: removed (as runs) with ``overwrite``, else kept;
    returns those still in the folder."""
    wanted = {v["run"] for v in record["variants"]}
    left = []
    for name in dict.fromkeys(_earlier_variants(out)):
        folder = out / name
        if name in wanted or not folder.is_dir() or folder.is_symlink():
            continue
        if overwrite and is_run(folder):  # a folder of that name that holds no run is not ours
            clear_run(folder)
            try:
                folder.rmdir()
            except OSError:  # files the run did not write: they stay, and so does the folder
                pass
        if folder.is_dir():
            left.append(name)
    return left


def stale_variants(out: Path) -> list[str]:
    """The variant folders of earlier suites that ``out``'s suite.json lists as stale."""
    try:
        return [n for n in json.loads((Path(out) / SUITE_FILE).read_text()).get("stale", []) if isinstance(n, str)]
    except (OSError, ValueError, AttributeError):
        return []


def _check_out(out: Path) -> None:
    """A suite folder holds a suite or nothing: never another run's files mixed with ours."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file")
    if out.is_dir() and any(out.iterdir()) and not (out / SUITE_FILE).is_file():
        raise OutputError(
            f"--out {out} is not empty and holds no clip stress suite ({SUITE_FILE}); "
            "give an empty or new folder"
        )


def run_clip_suite(
    cfg: Config,
    out: Path,
    num_clips: int,
    frames: int,
    conditions: list[str],
    severities: list[int],
    *,
    fps: float = 15.0,
    workers: int = 1,
    backend: str = "local",
    address: str | None = None,
    overwrite: bool = False,
    bar: Callable[[str], object] | None = None,
) -> Iterator[tuple[str, Summary]]:
    """Render the suite variant by variant, yielding (variant name, its run's summary).

    ``bar(name)``, if given, makes a progress reporter for one variant: a context manager with
    ``update(n)`` and ``plan(images, skipped)`` (cli's ``_RunBar``)."""
    check_conditions(conditions, severities)
    check_clip_args(num_clips, frames, fps)
    out = Path(out)
    _check_out(out)
    base, layouts = clip_config(cfg, ["coco", "mot"])
    out.mkdir(parents=True, exist_ok=True)
    record = suite_record(num_clips, frames, fps, conditions, severities)
    if not overwrite:  # refused before anything changes (suite.json, stale variants)
        for v in record["variants"]:
            check_resumable(out / v["run"], frames, float(fps))
    stale = _stale(out, record, overwrite)
    if stale:
        record["stale"] = stale
    text = (json.dumps(record, indent=1) + "\n").encode()
    if not (out / SUITE_FILE).is_file():  # marks the folder as a suite before any variant is in it
        atomic_write(out / SUITE_FILE, text)
    for v in record["variants"]:
        condition, severity = v["condition"], v["severity"]
        vcfg = _variant_config(base, condition, severity)
        occlusion = severity if condition == OCCLUSION else 0
        fields = {"condition": condition, "severity": severity}
        reporter = bar(v["name"]) if bar is not None else None
        with reporter if reporter is not None else _Null() as r:
            summary = run_clips(
                vcfg, out / v["run"], num_clips, frames, fps=fps, layouts=tuple(layouts), workers=workers,
                backend=backend, address=address, overwrite=overwrite, occlusion=occlusion, fields=fields,
                progress=getattr(r, "update", None), on_plan=getattr(r, "plan", None),
            )
        yield v["name"], summary
    atomic_write(out / SUITE_FILE, text)  # the suite as it now is, once every variant is made


class _Null:
    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        return None
