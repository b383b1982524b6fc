"""``synthgen validate`` on a big unmerged run holds one shard's records at a time: the sizes and
checksums its shards recorded, the image sizes it found, and the image files it lists are not
kept for the whole run (a run of 2M images once needed 4-5 GB)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from conftest import tiny_config_dict
from hypothesis import given
from hypothesis import strategies as st

from synthgen.config import load_config
from synthgen.io.coco import IdSet
from synthgen.runner import generate
from synthgen.tools.validate import validate_path


def _validate_peak(run: Path) -> int:
    tracemalloc.start()
    try:
        report = validate_path(run)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.ok, report.lines()
    return peak


def test_validate_memory_of_an_unmerged_run_hardly_grows_with_the_run(tmp_path, tiny_assets):
    cfg = load_config(data=tiny_config_dict(tiny_assets))
    peaks = {}
    for n in (40, 400):
        generate(cfg, tmp_path / f"run{n}", n, workers=1, shard_size=10, merge=False)
        _validate_peak(tmp_path / f"run{n}")  # imports and caches first
        peaks[n] = _validate_peak(tmp_path / f"run{n}")
    # ten times the images, the same shard size; was ~2 KB an image (all checksums, a size per
    # image, Path sets of the image folder, a set of Python ints for the ids); what is left an
    # image (~200 B) is the COCO file names the image-set check compares with images/
    assert peaks[400] - peaks[40] < 360 * 400, peaks



ids = st.one_of(st.integers(-5, 40), st.integers(), st.booleans(), st.sampled_from(["1", "a", ""]))


@given(st.lists(ids, max_size=60), st.lists(ids, max_size=20))
def test_the_id_set_answers_as_a_set_does(added, asked):
    """The compact id set of the duplicate-id check (ints in rising order in an array) finds
    exactly the ids a set finds, whatever the order and kinds of the ids."""
    got, want = IdSet(), set()
    for k in added:
        assert (k in got) == (k in want), k
        if k not in want:
            got.add(k)
            want.add(k)
    for k in added + asked:
        assert (k in got) == (k in want), k


def test_a_runs_ids_take_eight_bytes_each():
    s = IdSet()
    for k in range(1, 100_001):
        s.add(k * 1000 + 3)
    assert not s.others and s.rising.itemsize * len(s.rising) == 800_000
    assert 5003 in s and 5004 not in s and 100_000_003 in s and 3 not in s
