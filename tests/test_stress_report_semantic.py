"""The stress page's "Every slice" table gives the semantic rows that have no drop of their own
(all images, each class) a "vs clean" value: over every image against the clean ones, checked
against IoUs computed by hand from a known number of changed pixels."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from synthgen.io.semantic import read_class_map
from synthgen.stress import run_suite
from synthgen.tools.evaluate import evaluate
from synthgen.tools.stress_report import render
from synthgen.writers.semantic import encode_class_map


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    from conftest import make_assets, tiny_output_config

    root = tmp_path_factory.mktemp("srsem")
    cfg = tiny_output_config(make_assets(root / "assets"), {"formats": ["coco", "semantic"]}, objects_per_image=[3, 4])
    out = root / "suite"
    run_suite(cfg, out, 3, ["fog"], [2])
    return out


def _cell(page: str, slice_name: str) -> str:
    """The "vs clean" cell of the sem row ``slice_name``."""
    m = re.search(rf"<tr><td>{re.escape(slice_name)}</td><td>sem</td>(?:<td>[^<]*</td>){{4}}<td>([^<]*)</td></tr>", page)
    assert m, f"no sem row {slice_name}"
    return m.group(1)


def test_all_images_and_class_rows_have_a_vs_clean(suite, tmp_path):
    gt = json.loads((suite / "annotations.json").read_text())
    square = next(c["id"] for c in gt["categories"] if c["name"] == "square")
    names = [Path(im["file_name"]).stem for im in gt["images"]]
    fog = [Path(im["file_name"]).stem for im in gt["images"] if im["condition"] == "fog"]
    maps = {n: read_class_map(suite / "semantic" / f"{n}.png") for n in names}
    pred = tmp_path / "pred"
    shutil.copytree(suite / "semantic", pred)
    name = next(n for n in fog if (maps[n] == square).sum() >= 40)
    m = maps[name].copy()
    ys, xs = np.nonzero(m == square)
    N = 29
    m[ys[:N], xs[:N]] = 0  # 29 square pixels of one fog image called background
    (pred / f"{name}.png").write_bytes(encode_class_map(m))

    ev = evaluate(suite, semantic=pred)
    page = render(ev, "t")
    A = sum(int((maps[n] == square).sum()) for n in names)  # square pixels over every image
    B = sum(int((maps[n] == 0).sum()) for n in names)
    # square: IoU 1 on clean, (A - N) / A over every image
    assert _cell(page, "class square") == f"{-N / A:+.1%}"
    assert _cell(page, "class background") == f"{(B / (B + N)) - 1:+.1%}"
    present = {int(v) for n in names for v in np.unique(maps[n])} - {255}
    clean_present = {int(v) for im in gt["images"] if im["condition"] == "clean"
                     for v in np.unique(maps[Path(im["file_name"]).stem])} - {255}
    assert clean_present == present  # so clean mean IoU is 1
    every = (len(present) - 2 + (A - N) / A + B / (B + N)) / len(present)
    assert _cell(page, "all images") == f"{every - 1:+.1%}"
    sem_rows = re.findall(r"<tr><td>([^<]*)</td><td>sem</td>(?:<td>[^<]*</td>){3}<td>([^<]*)</td><td>([^<]*)</td></tr>", page)
    assert len(sem_rows) == 3 + len(ev.semantic.indices)  # clean, fog 2, all images, one per class
    assert all(ap50 == "" and (vs not in ("", "n/a") or name == "clean") for name, ap50, vs in sem_rows), sem_rows
