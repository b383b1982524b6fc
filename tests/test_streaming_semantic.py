"""Semantic maps in streaming: WebDataset samples carry semantic.png (the bytes of
semantic/<name>.png) when semantic is on, decode_sample returns it as class indices, and the
torch datasets give a ``semantic`` tensor when asked; each checked against the written maps and
against the instance masks and labels of the same sample."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import tiny_config_dict

from synthgen.config import load_config
from synthgen.io.semantic import read_class_map
from synthgen.io.webdataset import read_tar
from synthgen.runner import generate
from synthgen.webdataset import decode_member, decode_sample


def _config(assets, formats):
    data = tiny_config_dict(assets, objects_per_image=[2, 4])
    data["output"] = {"formats": formats}
    return load_config(data=data)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from conftest import make_assets

    root = tmp_path_factory.mktemp("wdsem")
    assets = make_assets(root / "assets")
    cfg = _config(assets, ["coco", "semantic", "webdataset"])
    generate(cfg, root / "out", 6, shard_size=3)
    plain = _config(assets, ["coco", "webdataset"])
    generate(plain, root / "plain", 2)
    return cfg, root / "out", root / "plain"


def _samples(out):
    for tar in sorted((out / "webdataset").glob("*.tar")):
        for key, members in read_tar(tar):
            yield key, members


def test_tar_samples_carry_the_class_map(run):
    cfg, out, plain = run
    n = 0
    for key, members in _samples(out):
        assert members["semantic.png"] == (out / "semantic" / f"{key}.png").read_bytes()
        d = decode_sample({"__key__": key, **members})
        sem = d["semantic"]
        assert sem.dtype == np.uint8 and sem.shape == d["ids"].shape
        assert (sem == read_class_map(out / "semantic" / f"{key}.png")).all()
        for mask, label in zip(d["masks"], d["labels"]):  # every labeled object's pixels are its class
            assert (sem[mask] == label).all()
        labeled = d["masks"].any(0) if len(d["masks"]) else np.zeros(sem.shape, bool)
        assert set(np.unique(sem[~labeled]).tolist()) <= {0, 255}  # elsewhere background or not scored
        # decoded member by member first, as wds.WebDataset(...).decode(decode_member) does
        decoded = {k: decode_member(k, v) for k, v in members.items()}
        assert (decode_sample({"__key__": key, **decoded})["semantic"] == sem).all()
        n += 1
    assert n == 6
    for key, members in _samples(plain):
        assert "semantic.png" not in members and "semantic" not in decode_sample({"__key__": key, **members})


def test_webdataset_package_pipeline(run):
    wds = pytest.importorskip("webdataset", reason="webdataset is not installed (pip install -e '.[webdataset]')")
    _, out, _ = run
    urls = [str(p) for p in sorted((out / "webdataset").glob("*.tar"))]
    items = list(wds.WebDataset(urls, shardshuffle=False).decode(decode_member).map(decode_sample))
    assert len(items) == 6
    for it in items:
        assert (it["semantic"] == read_class_map(out / "semantic" / f"{it['__key__']}.png")).all()


def test_a_colour_decoded_class_map_is_refused(run):
    from synthgen.io.issues import DatasetError

    _, out, _ = run
    key, members = next(_samples(out))
    rgb = np.zeros((*read_class_map(out / "semantic" / f"{key}.png").shape, 3), np.uint8)
    with pytest.raises(DatasetError, match="semantic.png was decoded by another decoder"):
        decode_sample({"__key__": key, **members, "semantic.png": rgb})


def test_torch_datasets_give_the_semantic_map(run, tmp_path):
    pytest.importorskip("torch", reason="torch is not installed (pip install -e '.[torch]')")
    from synthgen.dataset import CocoFolder, SyntheticDataset
    from synthgen.io.issues import DatasetError

    cfg, out, plain = run
    items = list(SyntheticDataset(cfg, 3, semantic=True))
    for it in items:
        want = read_class_map(out / "semantic" / f"{it['index']:08d}.png")
        assert it["semantic"].dtype.is_floating_point is False and (it["semantic"].numpy() == want).all()
    assert "semantic" not in next(iter(SyntheticDataset(cfg, 1)))
    plain_cfg = cfg.model_copy(update={"output": cfg.output.model_copy(update={"formats": ["coco"]})})
    again = next(iter(SyntheticDataset(plain_cfg, 1, semantic=True)))  # a config without format semantic
    assert (again["semantic"] == items[0]["semantic"]).all() and (again["image"] == items[0]["image"]).all()
    ds = CocoFolder(out, semantic=True)
    gt = json.loads((out / "annotations.json").read_text())
    for i, im in enumerate(gt["images"]):
        image, target = ds[i]
        want = read_class_map(out / "semantic" / im["file_name"].replace(".jpg", ".png"))
        assert (np.asarray(target["semantic"]) == want).all()
    assert "semantic" not in CocoFolder(out)[0][1]
    (out / "semantic" / "00000001.png").rename(tmp_path / "kept.png")
    try:
        with pytest.raises(DatasetError, match=r"semantic/00000001\.png: missing"):
            [ds[i] for i in range(len(ds))]
    finally:
        (tmp_path / "kept.png").rename(out / "semantic" / "00000001.png")
    from synthgen.errors import AssetError

    with pytest.raises(AssetError, match="no semantic maps"):
        CocoFolder(plain, semantic=True)
