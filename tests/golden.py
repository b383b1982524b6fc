"""Fixed runs whose every output byte is recorded: the guard rail for refactors.

``python tests/golden.py --record`` writes ``tests/golden_sha256.json`` (run it only when a
change is *meant* to change output bytes, and say so in the commit). ``tests/test_golden.py``
makes the same runs and compares. The record also stores the versions of the libraries that
produce the bytes (OpenCV's JPEG/PNG encoders, numpy, Pillow, albumentations): on another
stack the bytes may legitimately differ, and the test says so instead of failing.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

REPO = Path(__file__).resolve().parent.parent
RECORD = Path(__file__).resolve().parent / "golden_sha256.json"
N = 3  # images per config run: every config, small


def stack() -> dict[str, str]:
    import albumentations
    import cv2
    import numpy
    import PIL
    import pycocotools

    return {
        "opencv": cv2.__version__,
        "numpy": numpy.__version__,
        "pillow": PIL.__version__,
        "albumentations": albumentations.__version__,
        "pycocotools": getattr(pycocotools, "__version__", "?"),
    }


def _cli(*args: str) -> None:
    from click.testing import CliRunner

    from synthgen.cli import main

    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(f"synthgen {' '.join(args)} exited {result.exit_code}:\n{result.output}")


def _hashes(root: Path, prefix: str) -> dict[str, str]:
    """sha256 of every file, with what depends on where the checkout and the runs live written
    as placeholders: the temporary folder, the repository, and the config digest (a hash of the
    resolved config, whose asset paths are absolute)."""
    subst = [(str(root.parent).encode(), b"<tmp>"), (str(REPO).encode(), b"<repo>")]
    # every run's digest: a dataset made from a run (a split of it) copies its digest along
    for manifest in sorted(root.parent.glob("*/manifest.json")):
        subst.append((json.loads(manifest.read_text())["config_digest"].encode(), b"<digest>"))
    def placeheld(p: Path) -> bytes:
        data = p.read_bytes()
        for old, new in subst:
            data = data.replace(old, new)
        return data

    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            data = placeheld(p)
            if p.name.endswith(".done.json") and any(placeheld(root / r) != (root / r).read_bytes() for r in json.loads(data)["files"]):
                # a shard's record of its files' sizes and hashes, when one of them names the
                # temporary folder (a run on real data records its sources' resolved paths):
                # of the files as placeheld too
                record = json.loads(data)
                record["files"] = {rel: [len(placeheld(root / rel)), hashlib.sha256(placeheld(root / rel)).hexdigest()]
                                   for rel in record.get("files", {})}
                data = json.dumps(record, indent=1).encode()
            out[f"{prefix}/{p.relative_to(root).as_posix()}"] = hashlib.sha256(data).hexdigest()
    return out


# the shipped configs, named (files a user adds to configs/ are not part of the record)
PRESETS = ("crowd", "default", "fog", "glare", "heavy_occlusion", "motion_blur", "night", "rain", "road", "snow", "street")


def runs(tmp: Path) -> dict[str, str]:
    """Every fixed run, into ``tmp``; returns {run/relative path: sha256}."""
    hashes: dict[str, str] = {}
    for cfg in [REPO / "configs" / f"{name}.yaml" for name in PRESETS]:
        out = tmp / f"config-{cfg.stem}"
        _cli("generate", str(cfg), "--out", str(out), "-n", str(N), "-q")
        hashes.update(_hashes(out, out.name))
    # every writer at once: COCO, YOLO polygons, WebDataset tars, id maps, two workers
    out = tmp / "formats"
    _cli("generate", "--out", str(out), "-n", "8", "-q", "--workers", "2", "--shard-size", "4",
         "--format", "coco,yolo,webdataset", "--set", "output.yolo_task=segment",
         "--set", "output.id_maps=true", "--set", "labels.amodal_masks=true")
    hashes.update(_hashes(out, out.name))
    # a stress suite
    out = tmp / "stress"
    _cli("stress", "--out", str(out), "-n", "2", "--conditions", "fog,motion_blur,occlusion",
         "--severities", "1,5", "-q")
    hashes.update(_hashes(out, out.name))
    # padding a "real" dataset: split it, extract the train part's objects, paste onto the train
    # part's scenes, combine the split with the synthetic part (provenance checked)
    real = tmp / "formats"
    split = tmp / "real_split"
    _cli("split", str(real), "--val", "0.25", "--out", str(split))
    hashes.update(_hashes(split, split.name))
    train = split / "train"
    cut = tmp / "extracted"
    _cli("extract", "--coco", str(train / "annotations.json"), "--images", str(train / "images"),
         "--out", str(cut), "--min-area", "100")
    hashes.update(_hashes(cut, cut.name))
    out = tmp / "padded"
    _cli("generate", "--out", str(out), "-n", "4", "-q",
         "--set", f"assets.scenes={{coco: {train / 'annotations.json'}, images: {train / 'images'}, p: 1.0}}")
    hashes.update(_hashes(out, out.name))
    out = tmp / "combined"
    _cli("combine", str(split), str(tmp / "padded"), "--out", str(out))
    hashes.update(_hashes(out, out.name))
    out = tmp / "yolo-extract"
    _cli("extract", "--yolo", str(real), "--out", str(out), "--min-area", "100")
    hashes.update(_hashes(out, out.name))
    # semantic, panoptic and VOC segmentation of the street config (last: it adds a run's digest)
    out = tmp / "segmentation"
    _cli("generate", str(REPO / "configs" / "street.yaml"), "--out", str(out), "-n", str(N), "-q",
         "--format", "coco,semantic,panoptic,voc", "--set", "output.semantic_ignore=[distractors,unlabeled]")
    hashes.update(_hashes(out, out.name))
    return hashes


def main() -> None:
    import tempfile

    if "--record" not in sys.argv:
        sys.exit("usage: python tests/golden.py --record   (rewrites tests/golden_sha256.json)")
    with tempfile.TemporaryDirectory() as tmp:
        hashes = runs(Path(tmp))
    RECORD.write_text(json.dumps({"stack": stack(), "files": hashes}, indent=1, sort_keys=True) + "\n")
    print(f"recorded {len(hashes)} files -> {RECORD}")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
