"""synthgen installs anywhere: a wheel carries the default config, the presets and the assets.

The wheel is built the way ``python -m build`` does it, sdist first and the wheel from the
unpacked sdist, so the sdist's file list is checked too. It is installed without dependencies
into a fresh venv whose only other packages are this environment's, reached through a .pth
line: synthgen's code and data come from the wheel alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from synthgen import bundled
from synthgen.config import DEFAULT_CONFIG, load_config
from synthgen.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
BUILD = "from setuptools import build_meta as b, sys; print(b.{}(sys.argv[1]).strip())"


def _run(args: list[str], cwd: Path, **kw) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, **kw)
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _build(hook: str, source: Path, dist: Path) -> Path:
    pytest.importorskip("setuptools", reason="building the wheel needs setuptools (in the [test] extra)")
    out = _run([sys.executable, "-c", BUILD.format(hook), str(dist)], cwd=source)
    return dist / out.strip().splitlines()[-1]


def _bundled_files() -> set[str]:
    return {
        p.relative_to(REPO).as_posix()
        for top in ("configs", "assets")
        for p in (REPO / top).rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    sdist = _build("build_sdist", REPO, dist)
    with tarfile.open(sdist) as tar:
        tar.extractall(dist, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    return _build("build_wheel", dist / sdist.name.removesuffix(".tar.gz"), dist)


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed (no deps); dependencies come from this environment."""
    env = tmp_path_factory.mktemp("venv").resolve()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=env).strip())
    here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_synthgen_test_deps.pth").write_text("".join(f"{p}\n" for p in sorted(here)))
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)], cwd=env)
    return env


def test_wheel_carries_the_default_config_presets_and_assets(wheel):
    with zipfile.ZipFile(wheel) as z:
        data = {n.removeprefix("synthgen/_data/") for n in z.namelist() if n.startswith("synthgen/_data/")}
    assert data == _bundled_files()
    assert {"configs/default.yaml", "configs/street.yaml", "assets/LICENSES.md"} <= data


def test_wheel_install_generates_from_any_folder(venv, tmp_path):
    where = _run([str(venv / "bin" / "python"), "-c", "import synthgen; print(synthgen.__file__)"], cwd=tmp_path)
    assert Path(where.strip()).is_relative_to(venv), f"synthgen imported from {where}, not from the wheel"
    _run([str(venv / "bin" / "synthgen"), "generate", "--out", "out", "-n", "10"], cwd=tmp_path)
    out = tmp_path / "out"
    ann = json.loads((out / "annotations.json").read_text())
    assert len(ann["images"]) == 10 and ann["annotations"]
    assert sorted(p.name for p in (out / "images").iterdir()) == sorted(im["file_name"] for im in ann["images"])
    config = (out / "config.yaml").read_text()
    assert str(venv) in config and str(REPO) not in config  # the assets came from the wheel


def test_a_config_anywhere_extends_a_bundled_preset(venv, tmp_path):
    (tmp_path / "mine.yaml").write_text("extends: fog.yaml\ncanvas: {width: 96, height: 64}\n")
    _run([str(venv / "bin" / "synthgen"), "generate", "mine.yaml", "--out", "out", "-n", "2"], cwd=tmp_path)
    config = (tmp_path / "out" / "config.yaml").read_text()
    assert "name: fog" in config and str(venv) in config


def test_a_checkout_reads_the_top_level_folders():
    """Editable installs and PYTHONPATH runs edit and read configs/ and assets/ themselves."""
    assert DEFAULT_CONFIG == REPO / "configs" / "default.yaml"
    assert bundled.ASSETS == REPO / "assets"
    assert load_config().assets.objects == REPO / "assets" / "objects"


def test_extends_falls_back_to_the_bundled_presets_and_names_them(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("extends: street.yaml\n")
    cfg = load_config(mine)
    assert cfg.scene.placement.mode == "ground_plane" and cfg.assets.objects == REPO / "assets" / "objects"
    mine.write_text("extends: streets.yaml\n")
    with pytest.raises(ConfigError, match=r"extends: streets.yaml does not exist .*presets are .*street.yaml"):
        load_config(mine)
    mine.write_text("extends: sub/street.yaml\n")  # a path, not a preset name: no fallback
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(mine)


def test_no_install_hint_sends_users_to_pypis_unrelated_synthgen():
    """"synthgen" on PyPI is another project (a string generator), so `pip install
    'synthgen[tracking]'`, which the README and evaluate's error told users to run, installs
    that instead of motrics (and replaces the `synthgen` command). Every hint names the
    checkout (pip install -e '.[extra]') or a wheel file instead."""
    import re

    from conftest import REPO

    files = [REPO / "README.md", *sorted((REPO / "synthgen").rglob("*.py"))]
    bad = [f"{p.relative_to(REPO)}:{n}" for p in files for n, line in enumerate(p.read_text().splitlines(), 1)
           if re.search(r"pip install '?synthgen\[", line)]
    assert not bad, bad
