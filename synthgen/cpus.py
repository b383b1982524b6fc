"""How many CPUs this process may use: what ``--workers auto`` starts.

``os.cpu_count()`` counts the machine's CPUs, not the ones a job was given: a batch job pinned
to 4 of 64 cores (taskset, Slurm, cpusets) or a container limited to 2 CPUs (``docker --cpus``,
a Kubernetes limit: a cgroup quota) would start 64 workers and crawl. Both limits count here.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # cgroup v2: "<quota> <period>" or "max <period>"


def cgroup_cpu_limit(cpu_max: Path = CGROUP_CPU_MAX) -> int | None:
    """CPUs a cgroup v2 quota allows (rounded up, at least 1), or None without a quota."""
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota == "max":
            return None
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        return None


def available_cpus(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """CPUs this process may run on (its affinity), within its cgroup's CPU quota."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        n = os.cpu_count() or 1
    limit = cgroup_cpu_limit(cpu_max)
    return max(1, min(n, limit) if limit else n)
