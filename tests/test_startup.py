"""Start-up stays light: ``synthgen --help`` loads none of the heavy libraries, and the command
runs numpy with one OpenBLAS thread (its pool costs CPU at every start and buys nothing for
3x3 products) unless the user chose otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PROBE = """
import os, sys
sys.argv = ["synthgen"] + sys.argv[1:]
try:
    import synthgen.cli
    synthgen.cli.main()
except SystemExit:
    pass
heavy = sorted(m for m in ("numpy", "cv2", "pydantic", "PIL", "yaml", "albumentations") if m in sys.modules)
print("HEAVY", ",".join(heavy))
print("BLAS", os.environ.get("OPENBLAS_NUM_THREADS"))
"""


def _probe(*args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    e.update(env or {})
    out = subprocess.run([sys.executable, "-c", PROBE, *args], env=e, capture_output=True, text=True, check=True).stdout
    return dict(line.split(" ", 1) for line in out.splitlines() if line.startswith(("HEAVY", "BLAS")))


def test_help_loads_no_heavy_library():
    got = _probe("--help")
    assert got["HEAVY"] == ""
    got = _probe("generate", "--help")
    assert got["HEAVY"] == ""


def test_the_command_runs_numpy_on_one_blas_thread_unless_told_otherwise():
    assert _probe("--help")["BLAS"] == "1"
    assert _probe("--help", env={"OPENBLAS_NUM_THREADS": "4"})["BLAS"] == "4"
