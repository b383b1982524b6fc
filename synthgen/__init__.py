"""synthgen: composite object cutouts onto backgrounds and write exact labels.

    >>> from synthgen import Generator, load_config
    >>> gen = Generator(load_config())          # configs/default.yaml, bundled assets
    >>> sample = gen.sample(0)                  # image, id map, instances, metadata
"""

from synthgen.config import Config, load_config
from synthgen.errors import AssetError, ConfigError, SynthgenError
from synthgen.generator import Generator
from synthgen.types import Instance, Sample

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
