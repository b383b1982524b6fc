"""Paired condition grids: N base scenes, each rendered clean and under every condition x
severity with the same layout, so a change in a model's score is the condition's alone.

Conditions are effect names (`synthgen effects`), the alias ``glare`` (sun_flare), or
``occlusion``: the one condition that changes the layout by design, by pasting unlabeled
occluders over the same targets (larger ones at higher severity). Labels stay exact either way.

Suite image ``k`` = scene ``k // V``, variant ``k % V`` (V = 1 + conditions x severities); one
shard per scene, so a suite resumes and merges like any run.
"""

from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing as mp
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from synthgen.config import Config
from synthgen.errors import ConfigError
from synthgen.generator import Generator
from synthgen.scene import cutout_matrix
from synthgen.types import MAX_INSTANCES, Placement, Scene
from synthgen.io.manifest import ShardSpec, plan_shards, write_manifest
from synthgen.writers.merge import merge_run
from synthgen.writers.shard import ShardWriter, verify_shard

ALIASES = {"glare": "sun_flare", "noise": "gaussian_noise", "blur": "gaussian_blur"}
OCCLUSION = "occlusion"
OCCLUDER_SIZE = {1: 0.35, 2: 0.5, 3: 0.65, 4: 0.8, 5: 0.95}  # of the target's longer side
STREAM_OCCLUSION = 4


def variants(conditions: list[str], severities: list[int]) -> list[tuple[str, int]]:
    return [("clean", 0)] + [(c, s) for c in conditions for s in severities]


def check_conditions(conditions: list[str], severities: list[int]) -> None:
    from synthgen.effects.specs import SPECS

    allowed = sorted(set(SPECS) | set(ALIASES) | {OCCLUSION})
    bad = [c for c in conditions if c not in allowed]
    if bad:
        raise ConfigError(f"--conditions: unknown {bad}; allowed: {', '.join(allowed)}")
    geometric = [c for c in conditions if c in SPECS and SPECS[c].geometric]
    if geometric:
        raise ConfigError(f"--conditions: {geometric} move the layout; a paired grid needs the same layout")
    if not severities or any(not 1 <= s <= 5 for s in severities):
        raise ConfigError(f"--severities: {severities}: levels are 1 to 5")


def _occluders(gen: Generator, scene: Scene, severity: int) -> Scene:
    """The same scene with one unlabeled occluder over each labeled target (pasted on top)."""
    lib = gen.library
    pool = lib.distractors or tuple(c for cs in lib.cutouts.values() for c in cs)
    rng = np.random.default_rng(np.random.SeedSequence(entropy=gen.config.seed, spawn_key=(scene.index, STREAM_OCCLUSION)))
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


def _variant_config(base: Config, condition: str, severity: int) -> Config:
    data = json.loads(base.model_dump_json())
    if condition in ("clean", OCCLUSION):
        data["effects"] = []
    else:
        data["effects"] = [{"name": ALIASES.get(condition, condition), "p": 1.0, "severity": severity}]
    data["albumentations"] = None
    return Config.model_validate(data)


class SuiteWorker:
    def __init__(self, config_json: str, conditions: list[str], severities: list[int]) -> None:
        base = Config.model_validate_json(config_json)
        self.variants = variants(conditions, severities)
        self.gens = {v: Generator(_variant_config(base, *v)) for v in self.variants if v[0] != OCCLUSION}
        self.clean = self.gens[("clean", 0)]
        self.base = base

    def sample(self, scene_id: int, variant: int):
        condition, severity = self.variants[variant]
        if condition == OCCLUSION:
            scene = _occluders(self.clean, self.clean.scene(scene_id), severity)
            s = self.clean.sample_from_scene(scene)
        else:
            s = self.gens[(condition, severity)].sample(scene_id)
        k = scene_id * len(self.variants) + variant
        name = f"{scene_id:06d}_{condition}_{severity}"
        fields = {"scene_id": scene_id, "condition": condition, "severity": severity}
        meta = dict(s.metadata, name=name, suite_index=k, image_fields=fields, **fields)
        return dataclasses.replace(s, index=k, name=name, metadata=meta)


_WORKER: dict[str, Any] = {}


def run_scene(config_json: str, out: str, shard: ShardSpec, conditions, severities, tick=None) -> dict[str, Any]:
    key = json.dumps([config_json, conditions, severities])
    worker = _WORKER.get(key)
    if worker is None:
        import cv2

        cv2.setNumThreads(1)
        _WORKER.clear()
        worker = _WORKER[key] = SuiteWorker(config_json, conditions, severities)
    scene_id = shard.id
    writer = ShardWriter(Path(out), shard, worker.base.output, worker.base.labels.amodal_masks)
    for v in range(len(worker.variants)):
        writer.add(worker.sample(scene_id, v))
        if tick is not None:
            tick(1)
    rec = writer.finish()
    return {"images": rec["images"], "instances": rec["instances"]}


def _task(args):
    return run_scene(*args)


def run_suite(
    cfg: Config,
    out: Path,
    num_scenes: int,
    conditions: list[str],
    severities: list[int],
    *,
    workers: int = 1,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    from synthgen.runner import _run_info, prepare_output

    check_conditions(conditions, severities)
    out = Path(out)
    V = len(variants(conditions, severities))
    gen = Generator(cfg)
    info = _run_info(cfg, gen, num_scenes * V, V)
    info["suite"] = {"conditions": conditions, "severities": severities, "scenes": num_scenes}
    prepare_output(out, cfg, info, overwrite)
    shards = plan_shards(num_scenes * V, V)
    todo = [s for s in shards if verify_shard(out, s) is None]
    cfg_json = cfg.model_dump_json()
    tick = progress or (lambda n: None)
    if workers <= 1 or len(todo) <= 1:
        for s in todo:
            run_scene(cfg_json, str(out), s, conditions, severities, tick)
    else:
        with mp.get_context("spawn").Pool(min(workers, len(todo))) as pool:
            for rec in pool.imap_unordered(_task, [(cfg_json, str(out), s, conditions, severities) for s in todo]):
                tick(rec["images"])
    manifest = write_manifest(out, info, shards)
    merged = merge_run(out) if manifest["complete"] else None
    return {"images": num_scenes * V, "variants": V, "done": len(shards) - len(todo), "merged": merged}
