"""Merging reads a shard's COCO fragment laid out as the shard writer lays it out without
decoding the annotations to find the images, and takes the train/val split from the COCO image
entries: the merged files must be the same as from a fragment decoded whole, and the split the
same as the metadata lines give."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from synthgen.config import load_config
from synthgen.runner import generate
from synthgen.writers.merge import _splits, merge_run

from conftest import tiny_config_dict


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
    assert by_coco == _splits(run, names) and set(by_coco.values()) == {"train", "val"}
    # any other layout of the same JSON (spaces, keys in another order) is decoded whole
    for i, f in enumerate(frags):
        doc = json.loads(f.read_text())
        f.write_text(json.dumps(doc, indent=1) if i % 2 else json.dumps({"annotations": doc["annotations"], "images": doc["images"]}))
    shutil.rmtree(tmp_path / "a")
    assert _merged(run, tmp_path / "b") == compact
