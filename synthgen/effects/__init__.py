"""Conditions: lighting, weather, blur, camera and geometric effects at controlled severity.

Sampling and applying are separate: ``sample_image_effects`` and ``sample_object_effects`` turn
the config and the image's own generators into plain records (recorded in metadata); the apply
functions are pure functions of those records. Photometric effects never touch the id map;
geometric ones warp it together with the image, and labels are derived again afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from synthgen.effects import blur, camera, geometric, lighting, weather  # noqa: F401  (registration)
from synthgen.effects.base import REGISTRY, Effect, Param, Ranges
from synthgen.rng import Stream, image_rng

if TYPE_CHECKING:
    from synthgen.config import EffectConfig
    from synthgen.types import Layer, Scene


@dataclass(frozen=True)
class AppliedEffect:
    """One effect as applied to one image (or one object): what, how strong, exact values."""

    name: str
    severity: int | None
    params: dict[str, Any] = field(default_factory=dict)
    instance_id: int | None = None  # per-object effects only

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "severity": self.severity, "params": self.params}
        if self.instance_id is not None:
            d["instance_id"] = self.instance_id
        return d

    @property
    def effect(self) -> type[Effect]:
        return REGISTRY[self.name]


def ranges_for(spec: EffectConfig, severity: int | None) -> Ranges:
    """The ranges an effect samples from: its severity level, with explicit params on top."""
    cls = REGISTRY[spec.name]
    ranges = dict(cls.severities[(severity or 3) - 1])
    for key, value in (spec.params or {}).items():
        ranges[key] = (float(value), float(value)) if isinstance(value, (int, float)) else (float(value[0]), float(value[1]))
    return ranges


def _severity(spec: EffectConfig, rng: np.random.Generator) -> int | None:
    if spec.severity is None:
        return None if spec.params else 3
    if isinstance(spec.severity, int):
        return spec.severity
    lo, hi = spec.severity
    return int(rng.integers(lo, hi + 1))


def sample_image_effects(
    specs: list[EffectConfig], seed: int, index: int, canvas_wh: tuple[int, int]
) -> tuple[AppliedEffect, ...]:
    out = []
    for k, spec in enumerate(specs):
        if spec.per_object:
            continue
        rng = image_rng(seed, index, Stream.IMAGE_EFFECTS, k)
        if rng.random() >= spec.p:
            continue
        severity = _severity(spec, rng)
        params = REGISTRY[spec.name].sample(ranges_for(spec, severity), rng, canvas_wh)
        out.append(AppliedEffect(spec.name, severity, params))
    return tuple(out)


def sample_object_effects(
    specs: list[EffectConfig], seed: int, scene: Scene
) -> dict[int, tuple[AppliedEffect, ...]]:
    """Per-object effects, by instance id. Each placement draws in paste order."""
    out: dict[int, list[AppliedEffect]] = {}
    for k, spec in enumerate(specs):
        if not spec.per_object:
            continue
        rng = image_rng(seed, scene.index, Stream.OBJECT_EFFECTS, k)
        for p in scene.placements:
            fires = rng.random() < spec.p
            if not fires or (spec.classes is not None and p.label not in spec.classes):
                continue
            severity = _severity(spec, rng)
            params = REGISTRY[spec.name].sample(ranges_for(spec, severity), rng, scene.canvas_wh)
            out.setdefault(p.instance_id, []).append(AppliedEffect(spec.name, severity, params, p.instance_id))
    return {k: tuple(v) for k, v in out.items()}


def apply_image_effects(
    image: np.ndarray, id_map: np.ndarray, layers: tuple[Layer, ...], applied: tuple[AppliedEffect, ...]
) -> tuple[np.ndarray, np.ndarray, tuple[Layer, ...]]:
    H, W = id_map.shape
    for a in applied:
        cls = a.effect
        if cls.geometric:
            image, id_map, layers = geometric.warp_scene(image, id_map, layers, cls.matrix(a.params, (W, H)))
        else:
            image = cls.apply(image, a.params)
    return image, id_map, layers


__all__ = [
    "REGISTRY",
    "AppliedEffect",
    "Effect",
    "Param",
    "apply_image_effects",
    "ranges_for",
    "sample_image_effects",
    "sample_object_effects",
]
