"""synthgen: composite object cutouts onto backgrounds and write exact labels.

    >>> from synthgen import Generator, load_config
    >>> gen = Generator(load_config())          # configs/default.yaml, bundled assets
    >>> sample = gen.sample(0)                  # image, id map, instances, metadata

The names below are imported on first use, so that ``import synthgen.cli`` (and
``synthgen --help``) do not pay for pydantic, OpenCV and albumentations.
"""

from __future__ import annotations

import importlib
from typing import Any

from synthgen.version import __version__

_LAZY = {
    "AssetError": "synthgen.errors",
    "Config": "synthgen.config",
    "ConfigError": "synthgen.errors",
    "Generator": "synthgen.generator",
    "Instance": "synthgen.types",
    "Sample": "synthgen.types",
    "SynthgenError": "synthgen.errors",
    "load_config": "synthgen.config",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'synthgen' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
