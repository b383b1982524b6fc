"""synthgen: composite object cutouts onto backgrounds and write exact labels.

    >>> from synthgen import Generator, load_config
    >>> gen = Generator(load_config())          # configs/default.yaml, bundled assets
    >>> sample = gen.sample(0)                  # image, id map, instances, metadata
"""

from typing import Any

from synthgen.config import Config, load_config
from synthgen.errors import AssetError, ConfigError, SynthgenError
from synthgen.types import Instance, Sample


def __getattr__(name: str) -> Any:
    # The Generator brings OpenCV and every effect: loaded on first use, so that importing a
    # light module (synthgen.config, synthgen.types) does not pay for them.
    if name == "Generator":
        from synthgen.generator import Generator

        return Generator
    raise AttributeError(f"module 'synthgen' has no attribute {name!r}")

__all__ = [
    "AssetError",
    "Config",
    "ConfigError",
    "Generator",
    "Instance",
    "Sample",
    "SynthgenError",
    "load_config",
]
__version__ = "0.1.0"
