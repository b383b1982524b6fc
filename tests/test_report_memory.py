"""``synthgen report`` of a merged run reads annotations.json (one entry a line, as merge
writes it) a chunk of images at a time: the same page as reading it whole, and memory that
does not grow by the ~5 KB an image that decoding the whole file cost."""

from __future__ import annotations


from conftest import peaks_by_run_size, tiny_config_dict

from synthgen.config import load_config
from synthgen.runner import generate
from synthgen.tools.report import build_report


def test_a_merged_report_read_in_chunks_is_the_page_read_whole(tmp_path, tiny_assets, monkeypatch):
    import synthgen.io.coco as coco_io
    from synthgen.tools import report

    cfg = load_config(data={**tiny_config_dict(tiny_assets), "output": {"val_fraction": 0.3}})
    run = tmp_path / "run"
    generate(cfg, run, 29, workers=1, shard_size=5)
    monkeypatch.setattr(coco_io, "CHUNK_IMAGES", 4)
    assert coco_io.coco_in_chunks(run / "annotations.json") is not None
    page, stats = build_report(run, gallery=6)
    monkeypatch.setattr(report, "coco_in_chunks", lambda *a, **k: None)
    whole_page, whole_stats = build_report(run, gallery=6)
    assert stats == whole_stats and stats.images == 29 and stats.instances > 29
    assert page == whole_page


def test_report_memory_of_a_merged_run_hardly_grows_with_the_run(tmp_path, tiny_assets, monkeypatch):
    import synthgen.io.coco as coco_io

    monkeypatch.setattr(coco_io, "CHUNK_IMAGES", 10)  # as 1000 of a run of millions
    peaks = peaks_by_run_size(tmp_path, load_config(data=tiny_config_dict(tiny_assets)), lambda run: build_report(run, gallery=2))
    # was ~5 KB an image (annotations.json decoded whole); the statistics keep a few numbers an
    # object (box sides, visible fractions) by design
    assert peaks[400] - peaks[40] < 360 * 200, peaks
