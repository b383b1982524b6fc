"""Build step that puts the bundled data into the package.

The default config, the presets and the assets are edited in the top-level ``configs/`` and
``assets/`` folders (one copy in git). A wheel must carry them inside ``synthgen/`` for
``importlib.resources`` to find them, so ``build_py`` copies both folders to
``synthgen/_data/`` in the build tree. An editable install skips the copy: synthgen then reads
the top-level folders themselves (see ``synthgen/bundled.py``). The sdist carries the folders
through MANIFEST.in, so a wheel built from it gets the same data.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLED = ("configs", "assets")


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in BUNDLED:
            src = HERE / name
            if not src.is_dir():
                raise SystemExit(f"setup.py: {src} is missing; synthgen's wheel needs it as bundled data")
            dest = Path(self.build_lib) / "synthgen" / "_data" / name
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".*", "__pycache__"))


setup(cmdclass={"build_py": BuildPyWithData})
