"""The loaders training code uses: WebDataset samples decoded with their uint16 id maps, a collate
for detection batches, and a map-style dataset over a written COCO folder.

Each loader is checked against what synthgen wrote: boxes against the masks' extents, masks
against the annotations' RLE, and ids above 255 kept (webdataset's own image decoders clip them).
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from synthgen.config import load_config
from synthgen.io.images import read_rgb
from synthgen.io.issues import DatasetError
from synthgen.io.rle import decode_segmentation, encode_rle
from synthgen.runner import generate
from synthgen.webdataset import annotation_of, decode_member, decode_sample
from synthgen.writers.files import encode_id_map

from conftest import tiny_config_dict

WDS_REASON = "reading WebDataset shards needs the [webdataset] extra"
TORCH_REASON = "the PyTorch loaders need the [torch] extra"


def _config(assets: Path, formats: list[str]):
    data = tiny_config_dict(assets)
    data["output"] = {"formats": formats}
    return load_config(data=data)


@pytest.fixture
def run(tiny_assets, tmp_path) -> Path:
    """A small run written as COCO and WebDataset (two tars)."""
    out = tmp_path / "run"
    generate(_config(tiny_assets, ["coco", "webdataset"]), out, 8, shard_size=4)
    return out


def _urls(out: Path) -> list[str]:
    return sorted(str(p) for p in (out / "webdataset").glob("*.tar"))


def _extent(mask: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(mask)
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def _many_instances_tar(path: Path, n: int = 300) -> np.ndarray:
    """A one-sample tar as synthgen writes it, whose image (index 0, image id 1) holds ``n`` labeled
    instances, each a 2x3 block with id 1..n: most of them above 255."""
    cols = 20
    H, W = 2 * (n // cols + 1), 3 * cols
    ids = np.zeros((H, W), np.uint16)
    anns = []
    for k in range(1, n + 1):
        y, x = 2 * (k // cols), 3 * (k % cols)
        ids[y:y + 2, x:x + 3] = k
        anns.append({"id": 1000 + k, "image_id": 1, "category_id": 1 + k % 2, "bbox": [x, y, 3, 2], "area": 6,
                     "segmentation": encode_rle(ids == k), "iscrowd": 0})
    doc = {"image": {"id": 1, "file_name": "00000000.png", "width": W, "height": H, "index": 0}, "annotations": anns, "metadata": {}}
    _, png = cv2.imencode(".png", np.zeros((H, W, 3), np.uint8))
    members = {"png": png.tobytes(), "ids.png": encode_id_map(ids), "json": json.dumps(doc).encode()}
    with tarfile.open(path, "w") as tf:
        for ext in sorted(members):
            info = tarfile.TarInfo(f"00000000.{ext}")
            info.size = len(members[ext])
            tf.addfile(info, io.BytesIO(members[ext]))
    return ids


# --- WebDataset --------------------------------------------------------------------------------


def test_webdataset_image_decoders_clip_ids_from_255_up(tmp_path):
    """The README's warning, checked: pil, rgb8 and l8 turn every id >= 255 into 255."""
    wds = pytest.importorskip("webdataset", reason=WDS_REASON)
    tar = tmp_path / "many.tar"
    ids = _many_instances_tar(tar)
    for spec in ("pil", "rgb8", "l8"):
        got = np.asarray(next(iter(wds.WebDataset(str(tar), shardshuffle=False).decode(spec)))["ids.png"])
        got = got if got.ndim == 2 else got[..., 0]
        assert got.dtype == np.uint8, spec
        assert np.array_equal(got[ids < 255], ids[ids < 255]), spec
        assert (got[ids >= 255] == 255).all(), spec  # instances 255..300 merged into one


def test_decode_sample_end_to_end_on_a_run(run):
    wds = pytest.importorskip("webdataset", reason=WDS_REASON)
    coco = json.loads((run / "annotations.json").read_text())
    by_image = {}
    for a in coco["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a)
    seen = 0
    for s in wds.WebDataset(_urls(run), shardshuffle=False).map(decode_sample):
        entry = s["entry"]
        anns = by_image.get(entry["id"], [])
        H, W = entry["height"], entry["width"]
        assert s["image"].dtype == np.uint8 and s["image"].shape == (H, W, 3)
        assert np.array_equal(s["image"], read_rgb(run / "images" / entry["file_name"]))
        assert s["ids"].dtype == np.uint16 and s["ids"].shape == (H, W)
        assert s["boxes"].dtype == np.float32 and s["boxes"].shape == (len(anns), 4)
        assert s["masks"].dtype == bool and s["masks"].shape == (len(anns), H, W)
        assert s["labels"].tolist() == [a["category_id"] for a in anns]
        assert s["annotation_ids"].tolist() == [a["id"] for a in anns]
        for k, a in enumerate(anns):
            assert np.array_equal(s["masks"][k], decode_segmentation(a["segmentation"], H, W))
            assert s["boxes"][k].tolist() == _extent(s["masks"][k])
            assert annotation_of(s["instance_ids"][k], entry) == a["id"]
        assert annotation_of(0, entry) is None
        seen += 1
    assert seen == 8


def test_decode_member_and_decode_sample_agree(run):
    wds = pytest.importorskip("webdataset", reason=WDS_REASON)
    raw = list(wds.WebDataset(_urls(run), shardshuffle=False).map(decode_sample))
    decoded = list(wds.WebDataset(_urls(run), shardshuffle=False).decode(decode_member))
    both = list(wds.WebDataset(_urls(run), shardshuffle=False).decode(decode_member).map(decode_sample))
    assert len(raw) == len(decoded) == len(both) == 8
    for r, d, b in zip(raw, decoded, both):
        assert d["ids.png"].dtype == np.uint16 and np.array_equal(d["ids.png"], r["ids"])
        assert np.array_equal(d["jpg"], r["image"]) and d["json"]["image"] == r["entry"]
        for key in ("image", "ids", "boxes", "labels", "masks", "instance_ids"):
            assert np.array_equal(r[key], b[key]), key


def test_decode_sample_keeps_ids_above_255(tmp_path):
    wds = pytest.importorskip("webdataset", reason=WDS_REASON)
    tar = tmp_path / "many.tar"
    ids = _many_instances_tar(tar, n=300)
    (s,) = list(wds.WebDataset(str(tar), shardshuffle=False).decode(decode_member).map(decode_sample))
    assert np.array_equal(s["ids"], ids) and int(s["ids"].max()) == 300
    assert s["masks"].shape[0] == 300 and s["instance_ids"].tolist() == list(range(1, 301))
    assert all(m.sum() == 6 for m in s["masks"])  # none merged with another
    assert all(s["boxes"][k].tolist() == _extent(s["masks"][k]) for k in range(300))


def test_decode_sample_refuses_an_id_map_squashed_by_another_decoder(tmp_path):
    wds = pytest.importorskip("webdataset", reason=WDS_REASON)
    tar = tmp_path / "many.tar"
    _many_instances_tar(tar)
    with pytest.raises(DatasetError, match=r"ids.png was decoded by another decoder .*clip 16-bit ids to 255"):
        next(iter(wds.WebDataset(str(tar), shardshuffle=False).decode("l8").map(decode_sample)))


def test_decode_sample_names_a_wrong_annotation_id():
    ids = np.zeros((4, 4), np.uint16)
    ids[1, 1] = 1
    doc = {"image": {"id": 1, "width": 4, "height": 4}, "annotations": [{"id": 2001, "category_id": 1, "bbox": [1, 1, 1, 1]}]}
    sample = {"__key__": "00000000", "ids.png": ids, "png": np.zeros((4, 4, 3), np.uint8), "json": doc}
    with pytest.raises(DatasetError, match=r"sample 00000000 annotation 2001: annotation id is not image id 1 \* 1000"):
        decode_sample(sample)


# --- PyTorch -----------------------------------------------------------------------------------


def test_collate_batches_synthetic_samples_the_default_collate_cannot(tiny_config):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    from torch.utils.data import DataLoader

    from synthgen.dataset import SyntheticDataset, collate

    ds = SyntheticDataset(tiny_config, num_images=6)
    with pytest.raises(RuntimeError):  # images hold different numbers of objects
        list(DataLoader(ds, batch_size=3))
    batches = list(DataLoader(ds, batch_size=3, collate_fn=collate))
    assert len(batches) == 2
    items = list(ds)
    for b, batch in enumerate(batches):
        assert batch["image"].shape == (3, 3, 72, 96) and batch["image"].dtype == torch.uint8
        assert batch["index"] == [3 * b, 3 * b + 1, 3 * b + 2]
        for j in range(3):
            item = items[3 * b + j]
            assert torch.equal(batch["image"][j], item["image"])
            assert torch.equal(batch["boxes"][j], item["boxes"]) and torch.equal(batch["masks"][j], item["masks"])


def test_collate_keeps_images_of_different_sizes_as_a_list():
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    from synthgen.dataset import collate

    a, b = torch.zeros(3, 4, 5, dtype=torch.uint8), torch.zeros(3, 6, 5, dtype=torch.uint8)
    images, targets = collate([(a, {"boxes": 1}), (b, {"boxes": 2})])
    assert isinstance(images, list) and images[1] is b and targets == [{"boxes": 1}, {"boxes": 2}]
    images, _ = collate([(a, {}), (a, {})])
    assert images.shape == (2, 3, 4, 5)


def test_coco_folder_reads_a_run_in_the_torchvision_convention(run):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    wds = pytest.importorskip("webdataset", reason=WDS_REASON)
    from synthgen.dataset import CocoFolder, _tv_tensors

    ds = CocoFolder(run)
    coco = json.loads((run / "annotations.json").read_text())
    assert len(ds) == len(coco["images"]) == 8
    assert ds.categories == {c["id"]: c["name"] for c in coco["categories"]}
    from_tars = {s["entry"]["id"]: s for s in wds.WebDataset(_urls(run), shardshuffle=False).map(decode_sample)}
    for i, entry in enumerate(coco["images"]):
        image, target = ds[i]
        H, W = entry["height"], entry["width"]
        assert image.dtype == torch.uint8 and image.shape == (3, H, W)
        assert torch.equal(image, torch.from_numpy(read_rgb(run / "images" / entry["file_name"]).transpose(2, 0, 1).copy()))
        assert target["image_id"] == entry["id"]
        n = len(target["labels"])
        assert target["boxes"].dtype == torch.float32 and target["boxes"].shape == (n, 4)
        assert target["masks"].dtype == torch.bool and target["masks"].shape == (n, H, W)
        assert target["labels"].dtype == torch.int64 and target["iscrowd"].tolist() == [0] * n
        assert target["area"].tolist() == [float(m.sum()) for m in target["masks"]]
        for k in range(n):
            assert target["boxes"][k].tolist() == _extent(target["masks"][k].numpy())
        s = from_tars[entry["id"]]  # the same labels as the WebDataset shards
        assert np.array_equal(target["masks"].numpy(), s["masks"]) and np.array_equal(target["boxes"].numpy(), s["boxes"])
        assert target["labels"].tolist() == s["labels"].tolist()
        if _tv_tensors() is None:  # plain tensors without torchvision
            assert type(image) is torch.Tensor and type(target["boxes"]) is torch.Tensor


def test_coco_folder_batches_with_collate_and_reads_unmerged_runs(tiny_assets, tmp_path):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    from torch.utils.data import DataLoader

    from synthgen.dataset import CocoFolder, collate

    cfg = _config(tiny_assets, ["coco"])
    generate(cfg, tmp_path / "merged", 6, shard_size=3)
    generate(cfg, tmp_path / "shards", 6, shard_size=3, merge=False)
    assert not (tmp_path / "shards" / "annotations.json").exists()
    merged, shards = CocoFolder(tmp_path / "merged"), CocoFolder(tmp_path / "shards")
    assert len(merged) == len(shards) == 6
    for (im_a, t_a), (im_b, t_b) in zip(merged, shards):
        assert torch.equal(im_a, im_b) and t_a["image_id"] == t_b["image_id"]
        assert torch.equal(t_a["boxes"], t_b["boxes"]) and torch.equal(t_a["masks"], t_b["masks"])
    images, targets = next(iter(DataLoader(merged, batch_size=4, shuffle=False, collate_fn=collate)))
    assert images.shape == (4, 3, 72, 96) and [t["image_id"] for t in targets] == [1, 2, 3, 4]


def test_coco_folder_names_a_box_only_annotation(tiny_assets, tmp_path):
    pytest.importorskip("torch", reason=TORCH_REASON)
    from synthgen.dataset import CocoFolder

    out = tmp_path / "run"
    generate(_config(tiny_assets, ["coco"]), out, 2, shard_size=2)
    ann = json.loads((out / "annotations.json").read_text())
    first = ann["annotations"][0]
    first["segmentation"] = []
    (out / "annotations.json").write_text(json.dumps(ann))
    ds = CocoFolder(out)
    i = next(i for i, im in enumerate(ann["images"]) if im["id"] == first["image_id"])
    with pytest.raises(DatasetError, match=rf"annotation {first['id']}: has no segmentation \(box only\).*masks=False"):
        ds[i]
    _, target = CocoFolder(out, masks=False)[i]
    assert "masks" not in target and len(target["boxes"]) == len(target["labels"]) > 0


def test_coco_folder_applies_transforms_to_image_and_target(tiny_assets, tmp_path):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    from synthgen.dataset import CocoFolder

    out = tmp_path / "run"
    generate(_config(tiny_assets, ["coco"]), out, 2, shard_size=2)
    flipped = CocoFolder(out, transforms=lambda image, target: (image.flip(-1), {**target, "seen": True}))
    (image, target), (plain, _) = flipped[0], CocoFolder(out)[0]
    assert target["seen"] and torch.equal(image, plain.flip(-1))


def test_coco_folder_wraps_tv_tensors_when_torchvision_imports(tiny_assets, tmp_path):
    pytest.importorskip("torch", reason=TORCH_REASON)
    from synthgen.dataset import CocoFolder, _tv_tensors

    tv = _tv_tensors()
    if tv is None:
        pytest.skip("torchvision is not installed (or does not import beside this torch): plain tensors, as tested above")
    out = tmp_path / "run"
    generate(_config(tiny_assets, ["coco"]), out, 2, shard_size=2)
    image, target = CocoFolder(out)[0]
    assert isinstance(image, tv.Image) and isinstance(target["masks"], tv.Mask)
    assert isinstance(target["boxes"], tv.BoundingBoxes) and tuple(target["boxes"].canvas_size) == (72, 96)


def test_synthetic_dataset_workers_start_after_opencv_ran_threads_in_the_parent(tiny_config, tmp_path):
    """A notebook makes one sample (or blurs anything) with OpenCV's thread pool, then trains with
    DataLoader(num_workers=2): the forked workers must not wait forever in cv2.setNumThreads for
    pool threads that stayed behind in the parent. In a subprocess, so a hang fails the test."""
    pytest.importorskip("torch", reason=TORCH_REASON)
    import subprocess
    import sys

    script = tmp_path / "fork_after_cv2.py"
    script.write_text(
        "import json, sys, cv2, numpy as np\n"
        "from torch.utils.data import DataLoader\n"
        "from synthgen.config import load_config\n"
        "from synthgen.dataset import SyntheticDataset\n"
        "cv2.setNumThreads(2)\n"
        "cv2.GaussianBlur(np.zeros((1500, 1500, 3), np.uint8), (31, 31), 5)  # starts the pool's threads\n"
        "ds = SyntheticDataset(load_config(data=json.loads(sys.argv[1])), num_images=4)\n"
        "got = sorted(int(it['index']) for it in DataLoader(ds, batch_size=None, num_workers=2, timeout=30))\n"
        "assert got == [0, 1, 2, 3], got\n"
        "assert cv2.getNumThreads() == 2, cv2.getNumThreads()  # the parent's count is back\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, str(script), tiny_config.model_dump_json()], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_synthetic_dataset_takes_a_config_dict_and_refuses_bad_ranges(tiny_assets):
    pytest.importorskip("torch", reason=TORCH_REASON)
    from synthgen.dataset import SyntheticDataset
    from synthgen.errors import ConfigError

    data = tiny_config_dict(tiny_assets)
    assert [it["index"] for it in SyntheticDataset(data, num_images=2, start=5)] == [5, 6]
    with pytest.raises(ConfigError, match=r"canvas\.widht"):
        SyntheticDataset({**data, "canvas": {"widht": 64}}, num_images=2)
    with pytest.raises(ValueError, match=r"num_images must be an integer >= 0, not -3"):
        SyntheticDataset(data, num_images=-3)
    with pytest.raises(ValueError, match=r"start must be an integer >= 0, not -5"):
        SyntheticDataset(data, num_images=2, start=-5)
