"""A huge clips run starts writing at once: its plan is not one object per clip built up front
(``--clips 100000000`` took minutes, and gigabytes, before the first frame), and resuming or
splitting it into --shard parts still skips exactly the finished clips."""

from __future__ import annotations

import time

import pytest
from conftest import tiny_config_dict

from synthgen.clips import Clips, clip_config, run_clips
from synthgen.config import load_config
from synthgen.runner import run


class _Stop(Exception):
    pass


def _cfg(assets):
    return clip_config(load_config(data=tiny_config_dict(assets)), ["coco"])[0]


def test_a_hundred_million_clips_start_writing_at_once(tmp_path, tiny_assets):
    planned = []

    def first_frame(n):
        raise _Stop

    start = time.process_time()
    with pytest.raises(_Stop):
        run_clips(_cfg(tiny_assets), tmp_path / "out", 100_000_000, 2, layouts=("coco",), progress=first_frame,
                  on_plan=lambda todo, skipped: planned.append((todo, skipped)))
    assert time.process_time() - start < 20  # was ~18 us a clip: half an hour, and a plan of 1e8 objects
    assert planned == [(200_000_000, 0)]
    assert (tmp_path / "out" / "shards").is_dir()


@pytest.mark.parametrize("part", [None, (1, 3)])
def test_resume_skips_exactly_the_finished_clips(tmp_path, tiny_assets, part):
    cfg = _cfg(tiny_assets)
    spec = Clips(cfg.model_dump_json(), 2, 15.0)
    out = tmp_path / "out"
    run(spec, cfg, out, 7 * 2, 2, part=(0, 2), merge=False)  # clips 0, 2, 4, 6 finished
    (out / "shards" / "shard-000002.done.json").unlink()  # one killed before its record
    planned, written = [], []
    run(spec, cfg, out, 7 * 2, 2, part=part, merge=False, on_plan=lambda t, s: planned.append((t, s)),
        progress=written.append)
    mine = [k for k in range(7) if part is None or k % part[1] == part[0]]
    done = [k for k in mine if k in (0, 4, 6)]
    assert planned == [(2 * (len(mine) - len(done)), len(done))]
    assert sum(written) == 2 * (len(mine) - len(done))


def test_a_short_last_shard_is_counted(tmp_path, tiny_assets):
    cfg = _cfg(tiny_assets)
    spec = Clips(cfg.model_dump_json(), 2, 15.0)
    planned = []
    run(spec, cfg, tmp_path / "a", 5, 2, part=(0, 2), merge=False, on_plan=lambda t, s: planned.append((t, s)))
    assert planned == [(2 + 1, 0)]  # shards 0 (2 frames) and 2 (the last: 1 frame)
