"""Paired condition grids: N base scenes, each rendered clean and under every condition x
severity with the same layout, so a change in a model's score is the condition's alone.

Conditions are effect names (`synthgen effects`), the alias ``glare`` (sun_flare), or
``occlusion``: the one condition that changes the layout by design, by pasting unlabeled
occluders over the same targets (larger ones at higher severity). Labels stay exact either way.

Suite image ``k`` = scene ``k // V``, variant ``k % V`` (V = 1 + conditions x severities): a
``Suite`` is a factory spec for the runner, one shard per scene, so a suite runs, resumes and
merges like any run, on the same backends. A suite is written as COCO and YOLO (``data.yaml``
whose val set is the whole suite), plus the config's other formats; with ``output.lines`` each
image keeps its lines (entry, CULane and TuSimple files, all in the run's one part, train).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from synthgen.config import Config
from synthgen.errors import ConfigError, OutputError, did_you_mean
from synthgen.generator import Generator
from synthgen.rng import Stream, image_rng
from synthgen.runner import Summary, run
from synthgen.scene import cutout_matrix
from synthgen.types import MAX_INSTANCES, Placement, Sample, Scene
from synthgen.worker import WorkerContext

ALIASES = {"glare": "sun_flare", "noise": "gaussian_noise", "blur": "gaussian_blur"}
OCCLUSION = "occlusion"
OCCLUDER_SIZE = {1: 0.35, 2: 0.5, 3: 0.65, 4: 0.8, 5: 0.95}  # of the target's longer side


def variants(conditions: list[str], severities: list[int]) -> list[tuple[str, int]]:
    return [("clean", 0)] + [(c, s) for c in conditions for s in severities]


def check_conditions(conditions: list[str], severities: list[int]) -> None:
    from synthgen.effects.specs import SPECS

    allowed = sorted(set(SPECS) | set(ALIASES) | {OCCLUSION})
    bad = [c for c in conditions if c not in allowed]
    if bad:
        hints = "".join(did_you_mean(c, allowed) for c in bad)
        raise ConfigError(f"--conditions: unknown {', '.join(map(repr, bad))}{hints}; allowed: {', '.join(allowed)}")
    geometric = [c for c in conditions if c in SPECS and SPECS[c].geometric]
    if geometric:
        raise ConfigError(f"--conditions: {geometric} move the layout; a paired grid needs the same layout")
    if not severities or any(not 1 <= s <= 5 for s in severities):
        raise ConfigError(f"--severities: {severities}: levels are 1 to 5")


def _occluders(gen: Generator, scene: Scene, severity: int) -> Scene:
    """The same scene with one unlabeled occluder over each labeled target (pasted on top)."""
    lib = gen.library
    pool = lib.distractors or tuple(c for cs in lib.cutouts.values() for c in cs)
    rng = image_rng(gen.config.seed, scene.index, Stream.OCCLUSION)
    W, H = scene.canvas_wh
    extra = []
    next_id = len(scene.real) + len(scene.placements) + 1
    for p in scene.placements:
        if p.distractor or next_id >= MAX_INSTANCES:
            continue
        cut = lib.cutout(p.asset)
        corners = np.array([[0, 0, 1], [cut.size_wh[0], 0, 1], [cut.size_wh[0], cut.size_wh[1], 1], [0, cut.size_wh[1], 1]])
        pts = corners @ cutout_matrix(cut, p, scene.canvas_wh).T
        pts = pts[:, :2] / pts[:, 2:3]
        size = float(max(np.ptp(pts[:, 0]), np.ptp(pts[:, 1])))
        angle = float(rng.uniform(0, 2 * math.pi))
        reach = 0.35 * size * (1.0 - 0.15 * severity)  # stronger: closer to the target's centre
        occ = pool[int(rng.integers(len(pool)))]
        cx = float(np.clip(p.center[0] + math.cos(angle) * reach, 0, W))
        cy = float(np.clip(p.center[1] + math.sin(angle) * reach, 0, H))
        extra.append(
            Placement(
                instance_id=next_id,
                label=occ.label,
                category_id=None,
                asset=occ.name,
                scale=OCCLUDER_SIZE[severity] * size / min(W, H),
                rotation=float(rng.uniform(-20, 20)),
                flip=bool(rng.random() < 0.5),
                perspective=(0.0,) * 8,
                center=(cx, cy),
                blend="none",
            )
        )
        next_id += 1
    # occluders from the object pool are still unlabeled: mark them as distractors by asset
    return dataclasses.replace(scene, placements=scene.placements + tuple(extra))


SUITE_FORMATS = ("coco", "yolo")


def suite_config(cfg: Config) -> Config:
    """The config a suite runs with: COCO and YOLO always, then what else the config writes."""
    formats = [*SUITE_FORMATS, *(f for f in cfg.output.formats if f not in SUITE_FORMATS)]
    if formats == list(cfg.output.formats):
        return cfg
    data = json.loads(cfg.model_dump_json())
    data["output"]["formats"] = formats
    return Config.model_validate(data)


def _variant_config(base: Config, condition: str, severity: int) -> Config:
    data = json.loads(base.model_dump_json())
    if condition in ("clean", OCCLUSION):
        data["effects"] = []
    else:
        data["effects"] = [{"name": ALIASES.get(condition, condition), "p": 1.0, "severity": severity}]
    data["albumentations"] = None
    return Config.model_validate(data)


@dataclass(frozen=True)
class Suite:
    """A stress suite as a factory spec: sample ``k`` is scene ``k // V`` in variant ``k % V``."""

    kind: ClassVar[str] = "stress"
    config_json: str
    conditions: tuple[str, ...]
    severities: tuple[int, ...]

    def build(self, ctx: WorkerContext) -> SuiteFactory:
        return SuiteFactory(ctx, self)


class SuiteFactory:
    """One generator per photometric variant, all over the worker's one copy of the assets."""

    def __init__(self, ctx: WorkerContext, spec: Suite) -> None:
        self.config = Config.model_validate_json(spec.config_json)
        self.variants = variants(list(spec.conditions), list(spec.severities))
        self.gens = {v: ctx.generator(_variant_config(self.config, *v)) for v in self.variants if v[0] != OCCLUSION}
        self.clean = self.gens[("clean", 0)]
        self.classes = self.clean.classes
        self.library = self.clean.library

    def sample(self, index: int) -> Sample:
        scene_id, variant = divmod(index, len(self.variants))
        condition, severity = self.variants[variant]
        if condition == OCCLUSION:
            scene = _occluders(self.clean, self.clean.scene(scene_id), severity)
            s = self.clean.sample_from_scene(scene)
        else:
            s = self.gens[(condition, severity)].sample(scene_id)
        name = f"{scene_id:06d}_{condition}_{severity}"
        fields = {"scene_id": scene_id, "condition": condition, "severity": severity}
        # the scene's own labels in its entry (lines) stay; its split does not: a suite is all val
        fields.update((k, v) for k, v in s.image_fields.items() if k != "split")
        meta = dict(s.metadata, name=name, suite_index=index)
        return dataclasses.replace(s, index=index, name=name, metadata=meta, image_fields=fields)


def _grid_in(out: Path) -> tuple[list[str], list[int]] | None:
    """(conditions, severities) of the suite in ``out``: its manifest's, or, for a run killed
    before its manifest, read from the image names of its first finished shard (one scene, every
    variant in order); None when there is nothing to tell."""
    try:
        grid = json.loads((out / "manifest.json").read_text()).get("suite")
        if isinstance(grid, dict):
            return list(grid["conditions"]), list(grid["severities"])
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        pass
    for part in sorted(out.glob("shards/shard-*.jsonl"))[:1]:
        conditions, severities = [], []
        try:
            for line in part.read_text().splitlines():
                cond, sev = json.loads(line)["name"].split("_", 1)[1].rsplit("_", 1)  # motion_blur
                if cond != "clean":
                    conditions += [cond] if cond not in conditions else []
                    severities += [int(sev)] if int(sev) not in severities else []
        except (OSError, ValueError, AttributeError, KeyError, TypeError, IndexError):
            return None  # a damaged shard, or no suite's (the runner says whose): the runner redoes it
        return conditions, severities
    return None


def check_resumable(out: Path, conditions: list[str], severities: list[int]) -> None:
    """The grid is not part of the config, and another one with as many variants would look
    like the same run: its finished scenes would be kept under the new grid's name. Refused,
    naming the options that resume the suite in ``out``."""
    old = _grid_in(out)
    if old is not None and old != (list(conditions), list(severities)):
        raise OutputError(
            f"--out {out} holds a suite of --conditions {','.join(old[0])} --severities "
            f"{','.join(map(str, old[1]))}; resume it with those, or add --overwrite to replace it"
        )


def run_suite(
    cfg: Config,
    out: Path,
    num_scenes: int,
    conditions: list[str],
    severities: list[int],
    *,
    workers: int = 1,
    backend: str = "local",
    address: str | None = None,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
    on_plan: Callable[[int, int], None] | None = None,
) -> Summary:
    """Write the suite of ``num_scenes`` scenes into ``out`` (options as for ``runner.run``);
    it is merged into one annotations.json as soon as it is complete.

    A suite is always written as COCO (what ``evaluate`` reads) and as YOLO, with a data.yaml
    whose ``val`` is the whole suite (a suite has no training part), so standard validators run
    on it as it is; other formats the config asks for are written too."""
    check_conditions(conditions, severities)
    if not overwrite:
        check_resumable(Path(out), conditions, severities)
    cfg = suite_config(cfg)
    V = len(variants(conditions, severities))
    spec = Suite(cfg.model_dump_json(), tuple(conditions), tuple(severities))
    suite = {"conditions": list(conditions), "severities": list(severities), "scenes": num_scenes}
    return run(
        spec, cfg, out, num_scenes * V, V, extra_info={"suite": suite}, workers=workers, backend=backend,
        address=address, overwrite=overwrite, merge=True, progress=progress, on_plan=on_plan,
    )
