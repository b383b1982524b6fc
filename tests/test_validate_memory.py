"""``synthgen validate`` on a big unmerged run holds one shard's records at a time: the sizes and
checksums its shards recorded, the image sizes it found, and the image files it lists are not
kept for the whole run (a run of 2M images once needed 4-5 GB)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import peaks_by_run_size, tiny_config_dict
from hypothesis import given
from hypothesis import strategies as st

from synthgen.config import load_config
from synthgen.io.coco import IdSet
from synthgen.runner import generate
from synthgen.tools.validate import validate_path


def _validate(run: Path) -> None:
    report = validate_path(run)
    assert report.ok, report.lines()


def test_validate_memory_of_an_unmerged_run_hardly_grows_with_the_run(tmp_path, tiny_assets):
    peaks = peaks_by_run_size(tmp_path, load_config(data=tiny_config_dict(tiny_assets)), _validate, merge=False)
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


def _lines(run: Path, **kw) -> list[str]:
    report = validate_path(run, max_problems=1000, **kw)
    report.seconds = 0.0
    return report.lines()


def test_a_merged_file_read_a_chunk_at_a_time_finds_what_reading_it_whole_finds(tmp_path, tiny_assets, monkeypatch):
    """annotations.json as merge writes it (one entry a line) is read a few images at a time;
    edited entries (a wrong width, a box off its mask, a missing image) are found as before, and
    a file in another layout or with ids out of order is read whole, as before."""
    import synthgen.io.coco as coco_io
    import synthgen.tools.validate.coco as validate_coco

    cfg = load_config(data={**tiny_config_dict(tiny_assets), "output": {"val_fraction": 0.3, "formats": ["coco", "yolo"]}})
    run = tmp_path / "run"
    generate(cfg, run, 23, workers=1, shard_size=5)
    ann = run / "annotations.json"
    lines = ann.read_text().split("\n")
    lines[3] = lines[3].replace('"width":96', '"width":95')
    k = next(i for i, line in enumerate(lines) if '"image_id":12,' in line)
    lines[k] = lines[k].replace('"area":', '"area":1000000,"was_area":')
    ann.write_text("\n".join(lines))
    (run / "images" / "00000017.jpg").unlink()
    real = coco_io.read_coco_chunks
    monkeypatch.setattr(coco_io, "CHUNK_IMAGES", 4)
    assert coco_io._line_layout(ann) is not None
    chunked = _lines(run)
    monkeypatch.setattr(validate_coco, "read_coco_chunks", lambda *a, **k: None)
    whole = _lines(run)
    assert chunked == whole and "image_size: 1" in whole[2] and "area" in whole[2] and "missing_file" in whole[2], whole
    # other layouts, ids out of order: read whole, the same problems
    monkeypatch.setattr(validate_coco, "read_coco_chunks", real)
    doc = json.loads(ann.read_text())
    ann.write_text(json.dumps(doc))
    assert coco_io._line_layout(ann) is None and _lines(run) == whole
    lines[k], lines[k + 1] = lines[k + 1].rstrip(",") + ",", lines[k].rstrip(",") + ("," if lines[k + 1].endswith(",") else "")
    ann.write_text("\n".join(lines))
    assert coco_io._line_layout(ann) is None


def test_validate_memory_of_a_merged_run_hardly_grows_with_the_run(tmp_path, tiny_assets, monkeypatch):
    import synthgen.io.coco as coco_io

    monkeypatch.setattr(coco_io, "CHUNK_IMAGES", 10)  # as 1000 of a run of millions
    peaks = peaks_by_run_size(tmp_path, load_config(data=tiny_config_dict(tiny_assets)), _validate)
    # was ~6 KB an image (annotations.json decoded whole); what is left (~0.8 KB) are the run's
    # recorded checksums, the image sizes found and the file names, kept for the image-set checks
    assert peaks[400] - peaks[40] < 360 * 1500, peaks
