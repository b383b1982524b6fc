"""Effects over one image: sample every configured effect, then apply them to the frame.

Sampling and applying are separate: ``sample_image_effects`` and ``sample_object_effects`` turn
the config's effect entries and the image's own generators into plain records (recorded in
metadata); ``apply_effects`` is a pure function of a frame and those records. Photometric
effects never touch the id map; geometric ones warp it together with the image and the layers,
and labels are derived again afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from synthgen.effects.base import Effect
from synthgen.effects.geometric import GeometricEffect
from synthgen.effects.registry import REGISTRY
from synthgen.effects.specs import SPECS, Ranges
from synthgen.frame import Frame
from synthgen.rng import Stream, image_rng
from synthgen.types import Scene


class EffectEntry(Protocol):
    """What sampling reads of one ``effects`` entry of the config (``config.EffectConfig``)."""

    name: str
    p: float
    severity: int | tuple[int, int] | None
    params: dict[str, float | tuple[float, float]] | None
    per_object: bool
    classes: list[str] | None


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


def ranges_for(entry: EffectEntry, severity: int | None) -> Ranges:
    """The ranges an effect samples from: its severity level, with explicit params on top."""
    ranges = dict(SPECS[entry.name].severities[(severity or 3) - 1])
    for key, value in (entry.params or {}).items():
        ranges[key] = (float(value), float(value)) if isinstance(value, (int, float)) else (float(value[0]), float(value[1]))
    return ranges


def _severity(entry: EffectEntry, rng: np.random.Generator) -> int | None:
    if entry.severity is None:
        return None if entry.params else 3
    if isinstance(entry.severity, int):
        return entry.severity
    lo, hi = entry.severity
    return int(rng.integers(lo, hi + 1))


def sample_image_effects(
    entries: list[EffectEntry], seed: int, index: int, canvas_wh: tuple[int, int]
) -> tuple[AppliedEffect, ...]:
    out = []
    for k, entry in enumerate(entries):
        if entry.per_object:
            continue
        rng = image_rng(seed, index, Stream.IMAGE_EFFECTS, k)
        if rng.random() >= entry.p:
            continue
        severity = _severity(entry, rng)
        params = REGISTRY[entry.name].sample(ranges_for(entry, severity), rng, canvas_wh)
        out.append(AppliedEffect(entry.name, severity, params))
    return tuple(out)


def sample_object_effects(
    entries: list[EffectEntry], seed: int, scene: Scene
) -> dict[int, tuple[AppliedEffect, ...]]:
    """Per-object effects, by instance id. Each placement draws in paste order."""
    out: dict[int, list[AppliedEffect]] = {}
    for k, entry in enumerate(entries):
        if not entry.per_object:
            continue
        rng = image_rng(seed, scene.index, Stream.OBJECT_EFFECTS, k)
        for p in scene.placements:
            fires = rng.random() < entry.p
            if not fires or (entry.classes is not None and p.label not in entry.classes):
                continue
            severity = _severity(entry, rng)
            params = REGISTRY[entry.name].sample(ranges_for(entry, severity), rng, scene.canvas_wh)
            out.setdefault(p.instance_id, []).append(AppliedEffect(entry.name, severity, params, p.instance_id))
    return {k: tuple(v) for k, v in out.items()}


def apply_effects(frame: Frame, applied: tuple[AppliedEffect, ...]) -> Frame:
    """The frame after each applied effect in turn."""
    for a in applied:
        frame = a.effect.apply(frame, a.params)
    return frame


def geometric_matrices(applied: tuple[AppliedEffect, ...], canvas_wh: tuple[int, int]) -> list[np.ndarray]:
    """The 3x3 matrices of the geometric effects among ``applied``, in the order they moved the
    pixels: what points, lines and label maps go through after the background's own moves."""
    return [a.effect.matrix(a.params, canvas_wh) for a in applied if issubclass(a.effect, GeometricEffect)]


def apply_effects_to_image(image: np.ndarray, applied: tuple[AppliedEffect, ...]) -> np.ndarray:
    """An image with no objects (the background plate) after the same effects: the pixels
    :func:`apply_effects` would give, without an id map or layers to carry along."""
    for a in applied:
        image = a.effect.apply_to_image(image, a.params)
    return image
