"""The speed bench keeps running: a smoke-sized run of bench/run_all.py (no timing thresholds)."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO


def test_bench_smoke_run_prints_every_figure():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, str(REPO / "bench" / "run_all.py"), "--smoke"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    for figure in ("encode floor", "composite floor", "--workers 2", "--help", "severity 3", "crowd preset", "3840x2160"):
        assert figure in out.stdout, (figure, out.stdout)


def test_peers_script_runs_without_peers():
    """bench/peers.py with no peer checkout given measures synthgen alone (the peers are not
    dependencies; this keeps the script alive)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, str(REPO / "bench" / "peers.py"), "-n", "2", "--repeats", "1"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "synthgen" in out.stdout and "images per CPU-second" in out.stdout, out.stdout
