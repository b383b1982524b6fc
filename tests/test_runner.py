"""Runs: shards, resume after kill -9, --shard unions, Ray, WebDataset, on-the-fly dataset.

The one property behind all of them: the output bytes do not depend on how the work was split,
where it ran, or where it was interrupted.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from synthgen.config import load_config
from synthgen.errors import OutputError
from synthgen.generator import Generator
from synthgen.io.lock import LOCK_NAME, FolderLock, claim_shard
from synthgen.io.manifest import plan_shards
from synthgen.rng import split_of
from synthgen.runner import generate
from synthgen.worker import Images, WorkerContext
from synthgen.writers.files import encode_id_map
from synthgen.writers.merge import merge_run
from synthgen.writers.shard import verify_shard

from conftest import tiny_config_dict

FORMATS = ["coco", "yolo", "webdataset"]


def _config(assets, **output):
    data = tiny_config_dict(assets)
    data["output"] = {"formats": FORMATS, "id_maps": True, **output}
    return load_config(data=data)


def _digests(folder: Path) -> dict[str, str]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            rel = str(p.relative_to(folder))
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def cfg(tiny_assets):
    return _config(tiny_assets)


@pytest.fixture
def reference(cfg, tmp_path) -> dict[str, str]:
    out = tmp_path / "reference"
    generate(cfg, out, 40, shard_size=6)
    return _digests(out)


def test_a_run_is_a_set_of_finished_verified_shards(cfg, tmp_path):
    out = tmp_path / "out"
    summary = generate(cfg, out, 40, shard_size=6)
    assert summary.complete and summary.merged and summary.images == 40
    shards = plan_shards(40, 6)
    assert len(shards) == 7 and len(shards[-1]) == 4
    for s in shards:
        record = verify_shard(out, s, full=True)
        assert record is not None and record["images"] == len(s)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["images_done"] == 40 and len(manifest["shards"]) == 7


def test_shard_parts_union_equals_the_whole_run(cfg, tmp_path, reference):
    out = tmp_path / "parts"
    for i in range(3):
        s = generate(cfg, out, 40, shard_size=6, part=(i, 3))
        # the part that completes the run merges it
        assert s.complete == s.merged == (i == 2) == (out / "annotations.json").exists()
    assert _digests(out) == reference
    merge_run(out)  # merging again changes nothing
    assert _digests(out) == reference


@pytest.mark.parametrize("part", [(2, 2), (-1, 2), (0, 0)])
def test_a_part_outside_its_count_is_refused_before_anything_is_written(cfg, tmp_path, part):
    # (2, 2) once wrote shards 2, 4, ... and left shard 0 to nobody
    with pytest.raises(OutputError, match="0 <= I < N"):
        generate(cfg, tmp_path / "out", 40, shard_size=6, part=part)
    assert not (tmp_path / "out").exists()


def test_workers_do_not_change_a_byte(cfg, tmp_path, reference):
    out = tmp_path / "two"
    ticks = []
    generate(cfg, out, 40, shard_size=6, workers=2, progress=ticks.append)
    assert _digests(out) == reference
    assert sum(ticks) == 40  # the pool worker's progress too, all of it by the time generate returns


def test_resume_redoes_only_unfinished_or_damaged_shards(cfg, tmp_path, reference):
    out = tmp_path / "out"
    generate(cfg, out, 40, shard_size=6)
    # damage: a truncated image in shard 2, a missing done record for shard 4
    victim = out / "images" / f"{13:08d}.jpg"
    victim.write_bytes(victim.read_bytes()[:100])
    (out / "shards" / "shard-000004.done.json").unlink()
    s = generate(cfg, out, 40, shard_size=6)
    assert s.skipped_shards == 5 and s.images == 12
    assert _digests(out) == reference


def test_kill_9_mid_run_then_resume_gives_the_same_bytes(tiny_assets, tmp_path):
    data = json.loads(_config(tiny_assets).model_dump_json())
    data["canvas"] = {"width": 480, "height": 360}  # slow enough to be killed part-way
    cfg = load_config(data=data)
    reference = tmp_path / "reference"
    generate(cfg, reference, 40, shard_size=6)
    cfg_file = tmp_path / "cfg.yaml"
    cfg_file.write_text(yaml.safe_dump(data))
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "synthgen.cli", "generate", str(cfg_file), "--out", str(out), "-n", "40",
           "--shard-size", "6", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if len(list(out.glob("shards/*.done.json"))) >= 2:
            break
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "manifest.json").exists(), "the run finished before it could be killed"
    # nothing may look finished that is not
    done = [s for s in plan_shards(40, 6) if (out / "shards" / f"{s.name}.done.json").exists()]
    assert 2 <= len(done) < 7
    assert all(verify_shard(out, s, full=True) is not None for s in done)
    assert (out / LOCK_NAME).exists()  # left by the killed run; its flock died with it
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert not list(out.rglob(".*"))  # the resumed run took the lock, removed the temporaries and let go
    assert _digests(out) == _digests(reference)


def test_a_different_shard_size_or_config_is_refused(cfg, tmp_path):
    out = tmp_path / "out"
    generate(cfg, out, 12, shard_size=6)
    with pytest.raises(OutputError, match="--shard-size 6"):
        generate(cfg, out, 12, shard_size=4)
    other = load_config(data={**json.loads(cfg.model_dump_json()), "seed": 99})
    with pytest.raises(OutputError, match="different config"):
        generate(other, out, 12, shard_size=6)


def test_merge_refuses_missing_shards_and_can_merge_elsewhere(cfg, tmp_path):
    out = tmp_path / "out"
    generate(cfg, out, 12, shard_size=6, part=(0, 2))
    with pytest.raises(OutputError, match=r"shards \[1\] of 2 are not finished"):
        merge_run(out)
    generate(cfg, out, 12, shard_size=6, part=(1, 2), merge=False)
    merged = tmp_path / "merged"
    result = merge_run(out, merged)
    assert result["images"] == 12
    ann = json.loads((merged / "annotations.json").read_text())
    assert all((merged / "images" / im["file_name"]).exists() for im in ann["images"])
    assert os.stat(merged / "images" / "00000000.jpg").st_ino == os.stat(out / "images" / "00000000.jpg").st_ino


def test_webdataset_shards_read_back_with_the_webdataset_package(cfg, tmp_path):
    wds = pytest.importorskip("webdataset", reason="reading shards back needs the [webdataset] extra")

    out = tmp_path / "out"
    generate(cfg, out, 12, shard_size=6)
    urls = sorted(str(p) for p in (out / "webdataset").glob("*.tar"))
    assert len(urls) == 2
    gen = Generator(cfg)
    seen = []
    for item in wds.WebDataset(urls, shardshuffle=False):
        labels = json.loads(item["json"])
        index = labels["image"]["index"]
        ids = cv2.imdecode(np.frombuffer(item["ids.png"], np.uint8), cv2.IMREAD_UNCHANGED)
        expected = gen.sample(index)
        assert ids.dtype == np.uint16 and np.array_equal(ids, expected.id_map)
        assert [a["bbox"] for a in labels["annotations"]] == [list(i.bbox) for i in expected.instances]
        assert item["__key__"] == expected.name
        seen.append(index)
    assert seen == list(range(12))


def test_id_maps_keep_ids_above_255():
    ids = np.zeros((5, 5), np.uint16)
    ids[1, 1], ids[2, 2] = 300, 65535
    back = cv2.imdecode(np.frombuffer(encode_id_map(ids), np.uint8), cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16 and np.array_equal(back, ids)


def test_ray_backend_writes_the_same_bytes(cfg, tmp_path, reference, monkeypatch):
    ray = pytest.importorskip("ray", reason="--backend ray needs the [ray] extra")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", logging_level="error")
    try:
        out = tmp_path / "ray"
        generate(cfg, out, 40, shard_size=6, backend="ray")
    finally:
        ray.shutdown()
    assert _digests(out) == reference


def test_torch_dataset_splits_indices_across_workers_without_overlap(cfg):
    torch = pytest.importorskip("torch", reason="SyntheticDataset needs the [torch] extra")
    from torch.utils.data import DataLoader

    from synthgen.dataset import SyntheticDataset

    ds = SyntheticDataset(cfg, num_images=10, start=5)
    items = list(DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context="spawn"))
    assert sorted(i["index"] for i in items) == list(range(5, 15))
    gen = Generator(cfg)
    for item in items[:3]:
        s = gen.sample(item["index"])
        assert torch.equal(item["image"], torch.from_numpy(s.image.transpose(2, 0, 1).copy()))
        assert item["boxes"].shape == (len(s.instances), 4)
        x, y, w, h = s.instances[0].bbox
        assert item["boxes"][0].tolist() == [x, y, x + w, y + h]


def _sample_in_a_worker(spec, index):
    with WorkerContext() as ctx:
        return ctx.factory(spec).sample(index)


def test_a_factory_makes_the_same_sample_in_a_pool_worker_and_in_process(cfg):
    spec = Images(cfg.model_dump_json())
    with mp.get_context("spawn").Pool(1) as pool:
        remote = pool.starmap(_sample_in_a_worker, [(spec, 3), (spec, 7)])
    with WorkerContext() as ctx:
        local = [ctx.factory(spec).sample(i) for i in (3, 7)]
    for r, s in zip(remote, local):
        assert r.index == s.index and r.name == s.name
        assert np.array_equal(r.image, s.image) and np.array_equal(r.id_map, s.id_map)
        assert json.dumps(r.metadata) == json.dumps(s.metadata)
        assert r.image_fields == s.image_fields == {"split": split_of(cfg.seed, r.index, cfg.output.val_fraction)}


def test_a_worker_context_builds_a_factory_once_and_shares_one_copy_of_the_assets(cfg):
    spec = Images(cfg.model_dump_json())
    ctx = WorkerContext()
    factory = ctx.factory(spec)
    assert ctx.factory(Images(cfg.model_dump_json())) is factory  # equal specs: the same factory
    other = load_config(data={**json.loads(cfg.model_dump_json()), "seed": 99})
    rebuilt = ctx.factory(Images(other.model_dump_json()))
    assert rebuilt is not factory and rebuilt.library is factory.library  # same assets: loaded once


def test_a_worker_context_sets_opencv_threads_only_while_entered():
    before = cv2.getNumThreads()
    with WorkerContext(threads=1):
        assert cv2.getNumThreads() == 1
    assert cv2.getNumThreads() == before
    with WorkerContext(threads=None):
        assert cv2.getNumThreads() == before


def test_a_whole_run_is_refused_while_parts_write_and_parts_share_the_folder(cfg, tmp_path, reference):
    out = tmp_path / "parts"
    out.mkdir()
    other_part = FolderLock(out, shared=True).acquire()  # a --shard part of another process, running
    other_part.share()
    try:
        with pytest.raises(OutputError, match=rf"in use by a --shard part \(pid {os.getpid()}\)"):
            generate(cfg, out, 40, shard_size=6)
        assert not (out / "config.yaml").exists()  # refused before anything was written
        first = generate(cfg, out, 40, shard_size=6, part=(0, 2))  # parts join each other
        assert first.images == 22 and not first.complete  # shards 0, 2, 4, 6
        claim = claim_shard(out, "shard-000001")  # the other part is writing shard 1
        second = generate(cfg, out, 40, shard_size=6, part=(1, 2))
        assert second.busy and "shard 1" in second.busy[0] and not second.complete
        claim.release()
        third = generate(cfg, out, 40, shard_size=6, part=(1, 2))
        assert third.images == 6 and third.complete
    finally:
        other_part.release()
    assert not (out / LOCK_NAME).exists()  # the last holder removes the lock file
    assert _digests(out) == reference


def test_a_part_is_refused_while_a_whole_run_holds_the_folder(cfg, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    busy = rf"in use by a synthgen run \(pid {os.getpid()}\)"
    with FolderLock(out, shared=False), pytest.raises(OutputError, match=busy):
        generate(cfg, out, 12, shard_size=6, part=(0, 2))
    generate(cfg, out, 12, shard_size=6, part=(0, 2))  # free again


def test_overwrite_with_shard_parts_replaces_only_a_different_run(cfg, tmp_path, reference):
    out = tmp_path / "parts"
    other = load_config(data={**json.loads(cfg.model_dump_json()), "seed": 99})
    generate(other, out, 40, shard_size=6)
    # every part gets the same command: the first replaces the old run, the next keeps its work
    generate(cfg, out, 40, shard_size=6, part=(0, 2), overwrite=True)
    s = generate(cfg, out, 40, shard_size=6, part=(1, 2), overwrite=True)
    assert s.complete and s.removed == 0
    assert _digests(out) == reference


def test_a_changed_n_removes_only_the_shards_no_longer_in_the_run(cfg, tmp_path):
    out = tmp_path / "out"
    generate(cfg, out, 40, shard_size=6)
    (out / "images" / "mine.jpg").write_bytes(b"user file")
    s = generate(cfg, out, 14, shard_size=6)
    assert s.skipped_shards == 2 and s.images == 2  # shards 0 and 1 kept, shard 2 shrinks: redone
    assert s.removed > 0
    names = sorted(p.name for p in (out / "images").iterdir())
    assert names == [f"{i:08d}.jpg" for i in range(14)] + ["mine.jpg"]
    assert sorted(p.name for p in (out / "webdataset").iterdir()) == [f"shard-{i:06d}.tar" for i in range(3)]
    assert json.loads((out / "manifest.json").read_text())["num_images"] == 14
