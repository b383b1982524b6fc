"""Merging reads a shard's COCO fragment laid out as the shard writer lays it out without
decoding the annotations to find the images, and takes the train/val split from the COCO image
entries: the merged files must be the same as from a fragment decoded whole, and the split the
same as the metadata lines give."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

from synthgen.config import load_config
from synthgen.runner import generate
from synthgen.writers.merge import _shard_splits, merge_run

from conftest import peaks_by_run_size, tiny_config_dict


def _merged(run: Path, out: Path) -> dict[str, bytes]:
    merge_run(run, out)
    return {p.name: p.read_bytes() for p in out.glob("*.json")}


def test_merge_of_a_refitted_fragment_equals_the_writers_layout(tmp_path, tiny_assets):
    cfg = load_config(data={**tiny_config_dict(tiny_assets), "output": {"val_fraction": 0.5}})
    run = tmp_path / "run"
    generate(cfg, run, 8, workers=1, shard_size=3, merge=False)
    frags = sorted((run / "shards").glob("shard-*.coco.json"))
    assert frags and all(f.read_text().startswith('{"images":[{') for f in frags)
    compact = _merged(run, tmp_path / "a")
    assert {"annotations.json", "train.json", "val.json"} <= set(compact)
    # the split from the COCO image entries is the one of the metadata lines
    names = [f.name.removesuffix(".coco.json") for f in frags]
    by_coco = {}
    for f in frags:
        for im in json.loads(f.read_text())["images"]:
            by_coco[im["file_name"]] = im["split"]
    by_metadata = {}
    for name in names:
        by_metadata.update(_shard_splits(run, name, coco_run=False))
    assert by_coco == by_metadata and set(by_coco.values()) == {"train", "val"}
    # any other layout of the same JSON (spaces, keys in another order) is decoded whole
    for i, f in enumerate(frags):
        doc = json.loads(f.read_text())
        f.write_text(json.dumps(doc, indent=1) if i % 2 else json.dumps({"annotations": doc["annotations"], "images": doc["images"]}))
    shutil.rmtree(tmp_path / "a")
    assert _merged(run, tmp_path / "b") == compact


def test_merge_memory_does_not_grow_with_the_run(tmp_path, tiny_assets):
    # coco, yolo lists and a validation part: everything a merge once kept per image (the
    # file name -> part map, image id -> part, list lines) for the whole run at once
    cfg = load_config(data={**tiny_config_dict(tiny_assets), "output": {"val_fraction": 0.3, "formats": ["coco", "yolo"]}})
    dests = itertools.count()
    peaks = peaks_by_run_size(tmp_path, cfg, lambda run: merge_run(run, tmp_path / f"merged{next(dests)}"), merge=False)
    assert all((tmp_path / f"merged{k}" / "val.txt").read_text().count("\n") > 0 for k in range(4))
    assert peaks[400] < peaks[40] + 20_000, peaks  # ten times the images, the same shard size


def test_a_merge_killed_halfway_can_be_run_again_into_the_same_folder(tmp_path, tiny_assets, monkeypatch):
    """A merge into --out that stopped before its end (Ctrl-C, a crash) left a folder without
    config.yaml, and running the same merge again was refused: '--out ... is not empty and holds
    no merge of run'. config.yaml, which marks the folder as this run's merge, now comes first."""
    import pytest

    from synthgen.writers import merge as merge_module

    cfg = load_config(data=tiny_config_dict(tiny_assets))
    run = tmp_path / "run"
    generate(cfg, run, 4, workers=1, shard_size=2, merge=False)
    out = tmp_path / "merged"
    real_link = merge_module._link_tree

    def killed(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(merge_module, "_link_tree", killed)
    with pytest.raises(KeyboardInterrupt):
        merge_run(run, out)
    monkeypatch.setattr(merge_module, "_link_tree", real_link)
    assert _merged(run, out) == _merged(run, tmp_path / "fresh")
    assert sorted(p.name for p in (out / "images").iterdir()) == sorted(p.name for p in (run / "images").iterdir())


def test_merge_into_another_folder_skips_a_folder_of_the_users_inside_images(tmp_path, tiny_assets):
    """`synthgen merge run --out merged` died with IsADirectoryError (a traceback) when run/images
    held a sub-folder that synthgen did not write (here: cutouts a user extracted there)."""
    cfg = load_config(data=tiny_config_dict(tiny_assets))
    run = tmp_path / "run"
    generate(cfg, run, 4, workers=1, shard_size=2, merge=False)
    (run / "images" / "mine").mkdir()
    (run / "images" / "mine" / "a.png").write_bytes(b"x")
    merge_run(run, tmp_path / "merged")
    assert sorted(p.name for p in (tmp_path / "merged" / "images").iterdir()) == sorted(
        p.name for p in (run / "images").iterdir() if p.is_file())
