"""`synthgen report`: one self-contained HTML page, no network, for synthgen's and other datasets."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from pycocotools import mask as mask_utils

from synthgen.cli import main
from synthgen.config import load_config
from synthgen.tools.report import build_report, spread
from synthgen.runner import generate

from conftest import make_assets, tiny_config_dict

N = 30
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """A run with conditions: fog on about half the images, motion blur on some objects."""
    assets = make_assets(tmp_path_factory.mktemp("assets") / "assets")
    data = tiny_config_dict(assets)
    data["effects"] = [{"name": "fog", "p": 0.5}, {"name": "motion_blur", "per_object": True, "p": 0.3}]
    data["output"] = {"formats": ["coco", "yolo", "webdataset"], "id_maps": True}
    out = tmp_path_factory.mktemp("ds") / "out"
    generate(load_config(data=data), out, N, shard_size=10)
    return out


def _report(path: Path, out: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["report", str(path), "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    return out.read_text()


def _gallery_imgs(page: str) -> list[str]:
    return re.findall(r'<figure><img alt="[^"]*" src="(data:image/jpeg;base64,[^"]+)"', page)


def _plot_imgs(page: str) -> list[str]:
    return re.findall(r'<img class="plot" alt="[^"]*" src="(data:image/png;base64,[^"]+)"', page)


def _no_network(page: str) -> None:
    assert "http://" not in page and "https://" not in page
    text = re.sub(r"data:image/(png|jpeg);base64,[A-Za-z0-9+/=]+", "", page)
    assert "//" not in text  # no protocol-relative reference either
    # every image is inline
    assert all(src.startswith("data:") for src in re.findall(r'src="([^"]*)"', page))
    assert "<script" not in page and "<link" not in page and "url(" not in page


def test_report_of_a_synthgen_run(dataset, tmp_path):
    page = _report(dataset, tmp_path / "r.html", "--gallery", "7")
    _no_network(page)
    assert len(_gallery_imgs(page)) == 7
    plots = _plot_imgs(page)
    assert len(plots) == 5  # classes, objects per image, box sizes, visibility, conditions
    for uri in plots + _gallery_imgs(page):
        data = base64.b64decode(uri.split(",", 1)[1])
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert img is not None and img.std() > 5
    assert all(cv2.imdecode(np.frombuffer(base64.b64decode(u.split(",", 1)[1]), np.uint8), 1).shape[1] == 320
               for u in _gallery_imgs(page))
    assert "fog" in page and "motion_blur (per object)" in page and "clear" in page
    assert f"<b>{N}</b><span>images</span>" in page
    assert "not recorded" not in page
    # counts agree with annotations.json
    coco = json.loads((dataset / "annotations.json").read_text())
    assert f"<b>{len(coco['annotations']):,}</b><span>instances</span>" in page
    fogged = sum(any(c["name"] == "fog" for c in im["conditions"]) for im in coco["images"])
    assert 0 < fogged < N and f"<td>fog</td><td>{fogged}</td>" in page


def test_report_is_deterministic(dataset, tmp_path):
    a = _report(dataset, tmp_path / "a.html", "--gallery", "3")
    b = _report(dataset, tmp_path / "b.html", "--gallery", "3")
    assert a == b


def test_report_of_yolo_and_webdataset_layouts(dataset, tmp_path):
    page = _report(dataset / "data.yaml", tmp_path / "y.html", "--gallery", "4")
    _no_network(page)
    assert len(_gallery_imgs(page)) == 4 and "fog" in page  # conditions from metadata.jsonl
    tar = sorted((dataset / "webdataset").glob("*.tar"))[1]
    page = _report(tar, tmp_path / "w.html", "--gallery", "20")
    _no_network(page)
    assert len(_gallery_imgs(page)) == 10  # the shard's 10 samples
    assert "<b>10</b><span>images</span>" in page


def test_report_of_a_plain_coco_dataset_says_what_is_not_recorded(tmp_path):
    root = tmp_path / "plain"
    (root / "images").mkdir(parents=True)
    images, anns = [], []
    for i in range(5):
        cv2.imwrite(str(root / "images" / f"{i}.jpg"), np.full((60, 80, 3), 40 * i, np.uint8))
        images.append({"id": i, "file_name": f"{i}.jpg", "width": 80, "height": 60})
        anns.append({"id": 2 * i, "image_id": i, "category_id": 1, "iscrowd": 0, "area": 300.0,
                     "segmentation": [[10, 10, 40, 10, 40, 20, 10, 20]], "bbox": [10, 10, 30, 10]})
        m = np.zeros((60, 80), np.uint8)
        m[30:50, 50:70] = 1
        rle = mask_utils.encode(np.asfortranarray(m))
        anns.append({"id": 2 * i + 1, "image_id": i, "category_id": 3, "iscrowd": 0, "area": 400,
                     "segmentation": {"size": [60, 80], "counts": rle["counts"].decode()}, "bbox": [50, 30, 20, 20]})
    cats = [{"id": 1, "name": "cat"}, {"id": 3, "name": "dog"}]
    (root / "annotations.json").write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    page = _report(root, tmp_path / "p.html")
    _no_network(page)
    assert len(_gallery_imgs(page)) == 5
    assert "visible_fraction: not recorded" in page and "conditions (effects applied per image): not recorded" in page
    assert "made by synthgen" not in page and "cat" in page and "dog" in page


def test_gallery_is_spread_over_the_dataset():
    assert spread(100, 4) == [12, 37, 62, 87]
    assert spread(3, 12) == [0, 1, 2]
    assert spread(10, 0) == []


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_report_renders_in_a_browser(dataset, tmp_path):
    html, _ = build_report(dataset, gallery=8)
    page = tmp_path / "report.html"
    page.write_text(html)
    png = tmp_path / "shot.png"
    subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2400", f"--screenshot={png}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    shot = cv2.imread(str(png))
    assert shot is not None and shot.shape[:2] == (2400, 1280)
    assert shot.std() > 20  # not a blank page
    # the plots and gallery drew something in each third of the top of the page
    for band in np.array_split(shot[:1800], 3):
        assert band.std() > 10
