"""How many CPUs this process may use: what ``--workers auto`` starts.

``os.cpu_count()`` counts the machine's CPUs, not the ones a job was given: a batch job pinned
to 4 of 64 cores (taskset, Slurm, cpusets) or a container limited to 2 CPUs (``docker --cpus``,
a Kubernetes limit, a systemd ``CPUQuota``: a cgroup quota, v1 or v2) would start 64 workers
and crawl. Both limits count here.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_CPU_MAX = CGROUP_ROOT / "cpu.max"  # cgroup v2: "<quota> <period>" or "max <period>"
PROC_CGROUP = Path("/proc/self/cgroup")  # "<id>:<controllers>:<path>" a line; v2: "0::<path>"


def cgroup_cpu_limit(cpu_max: Path = CGROUP_CPU_MAX) -> int | None:
    """CPUs a cgroup v2 quota allows (rounded up, at least 1), or None without a quota."""
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota == "max":
            return None
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        return None


def _v1_limit(folder: Path) -> int | None:
    """CPUs a cgroup v1 quota (cpu.cfs_quota_us / cpu.cfs_period_us) allows, or None."""
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return max(1, math.ceil(quota / period)) if quota > 0 and period > 0 else None


def job_cpu_limit(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int | None:
    """The tightest CPU quota over this process's own cgroup and its parents, cgroup v2
    (``cpu.max``) or v1 (``cpu.cfs_quota_us``); None without one. A container sees its own
    cgroup at ``root``; a job on a host (a systemd unit, a batch job) sits below it."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        lines = []
    limits: list[int] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        rel = Path(path.lstrip("/"))
        if controllers == "":  # v2
            bases, read = [root], lambda d: cgroup_cpu_limit(d / "cpu.max")
        elif "cpu" in controllers.split(","):  # v1: mounted under its controllers' names
            bases = [root / name for name in {controllers, "cpu", "cpu,cpuacct", "cpuacct,cpu"}]
            read = _v1_limit
        else:
            continue
        for base in bases:
            for folder in (base / rel, *[base / p for p in rel.parents]):  # the cgroup, then its parents
                limit = read(folder)
                if limit is not None:
                    limits.append(limit)
    return min(limits) if limits else None


def available_cpus(cpu_max: Path | None = None) -> int:
    """CPUs this process may run on (its affinity), within its cgroup's CPU quota (``cpu_max``:
    read that v2 file instead of finding the process's cgroups)."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        n = os.cpu_count() or 1
    limit = cgroup_cpu_limit(cpu_max) if cpu_max is not None else job_cpu_limit()
    return max(1, min(n, limit) if limit else n)
