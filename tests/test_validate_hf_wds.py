"""validate checks the hf layout against the COCO annotations of each split, and the WebDataset
samples' semantic.png against semantic/ (same bytes) or, for tars alone, against the sample's own
masks: each check is shown to find a planted fault, naming the file and what is wrong."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthgen.runner import generate
from synthgen.tools.validate import validate_path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from conftest import make_assets, tiny_output_config

    root = tmp_path_factory.mktemp("vhf")
    cfg = tiny_output_config(make_assets(root / "assets"), {"formats": ["coco", "semantic", "hf", "webdataset"], "val_fraction": 0.3},
                             objects_per_image=[2, 4])
    out = root / "out"
    generate(cfg, out, 10, shard_size=4)
    return out


def _copy(run: Path, dst: Path) -> Path:
    shutil.copytree(run, dst)
    return dst


def _problems(path: Path) -> list[str]:
    report = validate_path(path, deep=True)
    return [str(p) for p in report.problems]


def test_sound_run_counts_hf_and_tar_class_maps(run):
    report = validate_path(run, deep=True)
    assert report.ok, "\n".join(report.lines())
    assert report.counts["hf images"] == 10 and report.counts["webdataset semantic maps"] == 10


def _edit_first_line(meta: Path, edit) -> dict:
    lines = meta.read_text().splitlines()
    rec = json.loads(lines[0])
    edit(rec)
    meta.write_text("\n".join([json.dumps(rec), *lines[1:]]) + "\n")
    return rec


def test_hf_lines_are_checked_against_coco(run, tmp_path):
    out = _copy(run, tmp_path / "a")
    meta = out / "hf" / "train" / "metadata.jsonl"
    rec = _edit_first_line(meta, lambda r: r["objects"]["bbox"][0].__setitem__(0, r["objects"]["bbox"][0][0] + 1))
    probs = _problems(out)
    assert len(probs) == 1 and "[hf] hf/train/metadata.jsonl line 1 objects.bbox" in probs[0] and f"image {rec['image_id']}" in probs[0]

    out = _copy(run, tmp_path / "b")
    meta = out / "hf" / "train" / "metadata.jsonl"
    _edit_first_line(meta, lambda r: r.__setitem__("file_name", "../../images/" + Path(r["file_name"]).name))
    probs = _problems(out)
    assert len(probs) == 1 and probs[0].startswith("[path] hf/train/metadata.jsonl line 1") and "leaves hf/train" in probs[0]

    out = _copy(run, tmp_path / "c")  # a line lost, and a class map gone
    meta = out / "hf" / "validation" / "metadata.jsonl"
    lines = meta.read_text().splitlines()
    meta.write_text("\n".join(lines[1:]) + "\n")
    lost = json.loads(lines[0])
    second = json.loads(lines[1])
    (meta.parent / second["semantic_file_name"]).unlink()
    probs = _problems(out)
    assert any(p.startswith("[hf] hf/validation/metadata.jsonl: has no line for validation image " + str(lost["image_id"])) for p in probs)
    assert any(p.startswith("[missing_file]") and second["semantic_file_name"] in p for p in probs)

    out = _copy(run, tmp_path / "d")  # an image of the other split
    val_id = json.loads((out / "hf" / "validation" / "metadata.jsonl").read_text().splitlines()[0])["image_id"]
    _edit_first_line(out / "hf" / "train" / "metadata.jsonl", lambda r: r.__setitem__("image_id", val_id))
    assert any(p.startswith("[unknown_image]") and "another split" in p for p in _problems(out))


def _retar(tar: Path, key_edit) -> str:
    """Rewrite ``tar`` with the first sample's semantic.png changed by ``key_edit(array)``."""
    with tarfile.open(tar) as t:
        members = [(m, t.extractfile(m).read()) for m in t.getmembers()]
    first = next(m.name for m, _ in members if m.name.endswith(".semantic.png"))
    with tarfile.open(tar, "w") as t:
        for m, data in members:
            if m.name == first:
                with Image.open(io.BytesIO(data)) as im:
                    arr = np.array(im)
                    pal = im.getpalette()
                key_edit(arr)
                out = Image.fromarray(arr, "P")
                out.putpalette(pal)
                buf = io.BytesIO()
                out.save(buf, "PNG")
                data = buf.getvalue()
                m.size = len(data)
            t.addfile(m, io.BytesIO(data))
    return first.removesuffix(".semantic.png")


def _flip_an_object_pixel(arr: np.ndarray) -> None:
    ys, xs = np.nonzero((arr > 0) & (arr < 255))
    arr[ys[0], xs[0]] = 0


def test_tar_class_map_must_be_the_semantic_file(run, tmp_path):
    out = _copy(run, tmp_path / "w")
    tar = min((out / "webdataset").glob("*.tar"))
    key = _retar(tar, _flip_an_object_pixel)
    probs = [p for p in _problems(out) if "semantic.png" in p]
    assert probs == [f"[semantic] webdataset/{tar.name} sample {key}: semantic.png is not the same map as semantic/{key}.png"]


@pytest.mark.parametrize("with_classes", [False, True])
def test_tars_alone_class_map_against_their_masks(run, tmp_path, with_classes):
    alone = tmp_path / "alone"
    shutil.copytree(run / "webdataset", alone)
    if with_classes:
        shutil.copy(run / "semantic_classes.json", alone / "semantic_classes.json")
    assert not [p for p in _problems(alone) if "semantic" in p]
    tar = min(alone.glob("*.tar"))
    key = _retar(tar, _flip_an_object_pixel)
    probs = [p for p in _problems(alone) if "[semantic]" in p]
    assert len(probs) == 1 and f"sample {key}: semantic" in probs[0] and "1 pixels" in probs[0]
