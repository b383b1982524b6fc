"""`--workers auto`: the CPUs a job was given, not the machine's; a hint after long single-worker runs."""

from __future__ import annotations

import os
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner
from conftest import tiny_config_dict

import synthgen.cli as cli
import synthgen.cpus as cpus


@pytest.mark.parametrize(("text", "cpus_allowed"), [
    ("200000 100000\n", 2),  # docker --cpus 2
    ("150000 100000\n", 2),  # 1.5 CPUs: two workers, each partly busy
    ("50000 100000\n", 1),
    ("max 100000\n", None),  # no quota
    ("garbage\n", None),
])
def test_a_cgroup_quota_is_read_as_whole_cpus(tmp_path, text, cpus_allowed):
    f = tmp_path / "cpu.max"
    f.write_text(text)
    assert cpus.cgroup_cpu_limit(f) == cpus_allowed


def test_auto_is_the_affinity_within_the_quota(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    assert cpus.available_cpus(tmp_path / "missing") == affinity
    quota = tmp_path / "cpu.max"
    quota.write_text("100000 100000\n")
    assert cpus.available_cpus(quota) == 1
    quota.write_text(f"{100000 * (affinity + 7)} 100000\n")  # a quota above the affinity does not add CPUs
    assert cpus.available_cpus(quota) == affinity


def test_the_option_takes_a_count_or_auto_and_names_what_is_wrong(monkeypatch):
    monkeypatch.setattr(cpus, "available_cpus", lambda: 5)
    assert cli.WORKERS.convert("auto", None, None) == 5
    assert cli.WORKERS.convert(" AUTO ", None, None) == 5
    assert cli.WORKERS.convert("3", None, None) == 3
    for bad in ("0", "-2", "two", ""):
        with pytest.raises(click.BadParameter, match="number of processes .* or auto"):
            cli.WORKERS.convert(bad, None, None)


@pytest.fixture
def cfg_file(tiny_assets, tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_config_dict(tiny_assets)))
    return path


def test_a_long_run_on_the_default_single_worker_says_how_many_cpus_it_left_idle(cfg_file, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "TIP_AFTER_SECONDS", 0.0)  # every run is "long"
    monkeypatch.setattr(cpus, "available_cpus", lambda: 4)
    run = CliRunner().invoke(cli.main, ["generate", str(cfg_file), "--out", str(tmp_path / "a"), "-n", "3", "-q"])
    assert run.exit_code == 0, run.output
    assert "tip: this ran on 1 of 4 CPUs; --workers auto" in run.output
    # asked for one worker on purpose: no tip
    run = CliRunner().invoke(cli.main, ["generate", str(cfg_file), "--out", str(tmp_path / "b"), "-n", "3", "-q", "-w", "1"])
    assert run.exit_code == 0, run.output
    assert "tip:" not in run.output


def test_auto_runs_and_writes_what_one_worker_writes(cfg_file, tmp_path, monkeypatch):
    monkeypatch.setattr(cpus, "available_cpus", lambda: 2)
    runs = {}
    for w in ("1", "auto"):
        out = tmp_path / w
        run = CliRunner().invoke(cli.main, ["generate", str(cfg_file), "--out", str(out), "-n", "24", "--shard-size", "6", "-q", "-w", w])
        assert run.exit_code == 0, run.output
        runs[w] = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and p.name != "manifest.json"}
    assert runs["1"] == runs["auto"]


def _cgroups(tmp_path: Path, proc: str, files: dict[str, str]) -> tuple[Path, Path]:
    root = tmp_path / "sys_fs_cgroup"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (tmp_path / "proc_self_cgroup").write_text(proc)
    return root, tmp_path / "proc_self_cgroup"


@pytest.mark.parametrize(("proc", "files", "limit"), [
    # cgroup v2 in a container (its own namespace): the quota at the root of what it sees
    ("0::/\n", {"cpu.max": "200000 100000\n"}, 2),
    # cgroup v2 on a host: a systemd unit with CPUQuota=300% (systemd-run -p CPUQuota=300%)
    ("0::/system.slice/job.service\n", {"system.slice/job.service/cpu.max": "300000 100000\n",
                                        "system.slice/cpu.max": "max 100000\n"}, 3),
    # ... a parent's quota binds its children too
    ("0::/jobs/a/b\n", {"jobs/cpu.max": "100000 100000\n", "jobs/a/b/cpu.max": "max 100000\n"}, 1),
    # cgroup v1 (docker --cpus 2 on an older host, Kubernetes nodes with cgroup v1)
    ("12:cpu,cpuacct:/docker/abc\n0::/\n", {"cpu,cpuacct/cpu.cfs_quota_us": "200000\n",
                                            "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, 2),
    ("4:cpu:/kubepods/pod1/c1\n", {"cpu/kubepods/pod1/c1/cpu.cfs_quota_us": "150000\n",
                                   "cpu/kubepods/pod1/c1/cpu.cfs_period_us": "100000\n"}, 2),
    ("4:cpu:/\n", {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),  # v1, no quota
    ("0::/\n", {}, None),  # nothing readable
])
def test_the_quota_of_the_jobs_own_cgroup_is_found(tmp_path, proc, files, limit):
    """Only /sys/fs/cgroup/cpu.max was read: a cgroup v1 quota (docker --cpus on a v1 host) and
    the quota of a job's own cgroup below the root (a systemd unit, a batch job) were missed, and
    --workers auto started one worker per CPU of the machine."""
    root, proc_file = _cgroups(tmp_path, proc, files)
    assert cpus.job_cpu_limit(root, proc_file) == limit
