"""Every effect implementation by name: one class per declaration in :mod:`specs`."""

from __future__ import annotations

from synthgen.effects import blur, camera, geometric, lighting, weather
from synthgen.effects.base import Effect
from synthgen.effects.specs import SPECS


def _collect() -> dict[str, type[Effect]]:
    out: dict[str, type[Effect]] = {}
    for module in (lighting, weather, blur, camera, geometric):
        for cls in module.EFFECTS:
            name = cls.spec.name
            if name in out:
                raise ValueError(f"effect {name!r} is implemented twice ({out[name].__name__}, {cls.__name__})")
            out[name] = cls
    unimplemented = sorted(set(SPECS) - set(out))
    if unimplemented:
        raise ValueError(f"effects declared in specs.py without an implementation: {unimplemented}")
    return out


REGISTRY: dict[str, type[Effect]] = _collect()
