"""``synthgen validate`` on a big unmerged run holds one shard's records at a time: the sizes and
checksums its shards recorded, the image sizes it found, and the image files it lists are not
kept for the whole run (a run of 2M images once needed 4-5 GB)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from conftest import tiny_config_dict

from synthgen.config import load_config
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
    # image, Path sets of the image folder); what is left an image is the COCO file names the
    # image-set check compares with images/, and the ids the duplicate check keeps
    assert peaks[400] - peaks[40] < 360 * 800, peaks

