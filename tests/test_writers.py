"""Writers: YOLO polygons, PNG output, atomic files."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgen.config import load_config
from synthgen.runner import generate
from synthgen.writers.yolo import polygon

from conftest import tiny_config_dict


def _raster(poly: np.ndarray, shape) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(poly).astype(np.int32)], 1)
    return m.astype(bool)


def test_polygon_outlines_a_shape():
    m = np.zeros((40, 50), bool)
    cv2.ellipse(m.view(np.uint8), (25, 20), (15, 10), 30, 0, 360, 1, -1)
    filled = _raster(polygon(m), m.shape)
    assert (filled & m).sum() / (filled | m).sum() > 0.95


def test_polygon_of_a_split_object_covers_both_parts():
    m = np.zeros((30, 60), bool)
    m[5:25, 5:20] = True
    m[8:20, 40:55] = True
    poly = polygon(m)
    filled = _raster(poly, m.shape)
    assert filled[15, 10] and filled[15, 47]
    # the bridge between the parts has no area: nothing far from it is filled
    assert not filled[3, 30] and not filled[27, 30]


def _bridge_budget(parts: list[tuple[int, int]]) -> int:
    """Pixels a set of 1-px bridges may add: at most the sum of the gaps they span, plus ends."""
    return sum(abs(a - b) + 2 for a, b in parts)


def test_polygon_of_three_parts_fills_them_without_wedges():
    # three squares far apart: a wedge (a ring entered at one point and left at another)
    # would fill area between them; zero-width bridges add only their own 1-px lines
    m = np.zeros((60, 80), bool)
    m[5:15, 5:15] = True
    m[40:50, 8:18] = True
    m[10:20, 60:70] = True
    filled = _raster(polygon(m), m.shape)
    assert (m & ~filled).sum() == 0
    assert (filled & ~m).sum() <= _bridge_budget([(15, 40), (14, 60)])


def test_polygon_keeps_holes():
    m = np.zeros((40, 40), np.uint8)
    cv2.circle(m, (20, 20), 15, 1, -1)
    cv2.circle(m, (14, 20), 4, 0, -1)
    cv2.circle(m, (26, 20), 4, 0, -1)
    m = m.astype(bool)
    filled = _raster(polygon(m), m.shape)
    assert not filled[20, 14] and not filled[20, 26]  # the holes' centres
    assert (filled != m).sum() <= 2  # the bridges run through the object, not the holes


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.8, 3.0))
def test_polygon_never_loses_a_pixel_and_adds_only_bridges(seed, sigma):
    rng = np.random.default_rng(seed)
    m = cv2.GaussianBlur(rng.random((32, 32)), (0, 0), sigma) > 0.5
    if not m.any():
        return
    filled = _raster(polygon(m), m.shape)
    assert (m & ~filled).sum() == 0
    holes = cv2.findContours(np.pad(m.astype(np.uint8), 1), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)[0]
    # every extra pixel lies on a bridge; there are len(rings) - 1 bridges, each at most the
    # image diagonal long
    assert (filled & ~m).sum() <= (len(holes) - 1) * 46


def test_polygon_of_one_pixel_is_its_square():
    m = np.zeros((5, 5), bool)
    m[2, 3] = True
    assert polygon(m).tolist() == [[3, 2], [4, 2], [4, 3], [3, 3]]


def test_yolo_segment_labels_trace_the_coco_masks(tiny_assets, tmp_path):
    data = tiny_config_dict(tiny_assets)
    data["output"] = {"formats": ["coco", "yolo"], "yolo_task": "segment", "image_format": "png", "id_maps": True}
    cfg = load_config(data=data)
    out = tmp_path / "out"
    generate(cfg, out, 6)
    W, H = cfg.canvas.width, cfg.canvas.height
    checked = 0
    for label_file in sorted((out / "labels").glob("*.txt")):
        id_map = cv2.imread(str(out / "masks" / (label_file.stem + ".png")), cv2.IMREAD_UNCHANGED)
        ids = [i for i in np.unique(id_map) if i]
        lines = label_file.read_text().splitlines()
        assert len(lines) == len(ids)
        for line, iid in zip(lines, ids):
            vals = np.array(line.split()[1:], float).reshape(-1, 2) * [W, H]
            assert (vals >= 0).all() and (vals[:, 0] <= W).all() and (vals[:, 1] <= H).all()
            mask = id_map == iid
            assert _raster(vals, mask.shape)[mask].mean() > 0.7  # the outline covers the mask
            checked += 1
    assert checked > 5
    img = cv2.imread(str(out / "images" / "00000000.png"))
    assert img.shape == (H, W, 3)


def test_png_images_are_lossless(tiny_config, tmp_path):
    from synthgen.generator import Generator

    cfg = load_config(data={**tiny_config.to_dict(), "output": {"image_format": "png"}})
    generate(cfg, tmp_path / "out", 2)
    saved = cv2.cvtColor(cv2.imread(str(tmp_path / "out" / "images" / "00000001.png")), cv2.COLOR_BGR2RGB)
    assert np.array_equal(saved, Generator(cfg).sample(1).image)


class _FailingWriter:
    """A shard writer whose third image fails, as a crash mid-shard would."""

    def __init__(self, *args):
        from synthgen.writers.shard import ShardWriter

        self.inner = ShardWriter(*args)
        self.n = 0

    def add(self, sample):
        self.n += 1
        if self.n == 3:
            raise RuntimeError("worker died")
        self.inner.add(sample)

    def finish(self):
        return self.inner.finish()


def test_a_failed_run_leaves_no_file_that_looks_complete(tiny_config, tmp_path, monkeypatch):
    import synthgen.runner as runner

    monkeypatch.setattr(runner, "ShardWriter", _FailingWriter)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        generate(tiny_config, out, 5, shard_size=5)
    names = {p.name for p in out.iterdir()}
    assert "manifest.json" not in names and "annotations.json" not in names and "metadata.jsonl" not in names
    assert not list((out / "shards").glob("*.done.json"))
    assert len(list((out / "images").iterdir())) == 2  # whole files only, no temporaries
