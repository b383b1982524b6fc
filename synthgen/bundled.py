"""Where the bundled default config, presets and assets are.

Run from a checkout (an editable install, or ``PYTHONPATH`` on the repository), they are the
top-level ``configs/`` and ``assets/`` folders, the ones to edit. A wheel carries copies of both
inside the package as ``synthgen/_data/configs`` and ``synthgen/_data/assets`` (``setup.py`` puts
them there at build time), found through ``importlib.resources``. Either way the default config
names its assets as ``../assets/...``, relative to itself, so the same file works in both places.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _root() -> Path:
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "configs").is_dir() and (checkout / "assets").is_dir():
        return checkout
    return Path(str(files("synthgen") / "_data"))


ROOT = _root()
CONFIGS = ROOT / "configs"
ASSETS = ROOT / "assets"
DEFAULT_CONFIG = CONFIGS / "default.yaml"


def preset(name: str) -> Path | None:
    """The bundled config file ``name`` (``"street.yaml"``), or None if there is none."""
    if Path(name).name != name:
        return None
    path = CONFIGS / name
    return path if path.is_file() else None


def presets() -> list[str]:
    """File names of the bundled configs, the default among them."""
    return sorted(p.name for p in CONFIGS.glob("*.yaml"))
