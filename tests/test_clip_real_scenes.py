"""Clips on real scenes with a moving camera: the real objects' labels follow the crop of each
frame. As the camera zooms or pans, real objects leave the view and others come into it; each
is labeled in every frame it shows in, with its own pixels, class and one id over the clip.

The check is independent of synthgen's real-scene code: each source annotation is decoded with
pycocotools and pushed through the frame's recorded background crop with cv2.resize (nearest
neighbour) and the flip; what of it no pasted object covers is exactly its label's mask."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from conftest import tiny_config_dict
from pycocotools.coco import COCO
from test_realdata import H, W, _real_dataset

from synthgen.clips import Clips, clip_config
from synthgen.config import load_config
from synthgen.worker import WorkerContext

FRAMES = 10


def _factory(tiny_assets, real_root, zoom, crop_scale):
    data = tiny_config_dict(tiny_assets, objects_per_image=[1, 2], distractors={"count": [0, 0]},
                            background={"crop_scale": crop_scale}, occlusion={"max_hidden": 0.9}, scale=[0.2, 0.3])
    data["canvas"] = {"width": W, "height": H}
    data["assets"]["scenes"] = {"coco": str(real_root / "coco" / "annotations.json"), "images": str(real_root / "coco" / "images")}
    data["labels"] = {"min_visibility": 0.0}
    data["clips"] = {"camera": {"p": 1.0, "pan": [0.2, 0.4], "zoom": zoom, "shake": [0.0, 0.0]}}
    cfg = clip_config(load_config(data=data), ["mot", "coco"])[0]
    return WorkerContext(threads=None).factory(Clips(cfg.model_dump_json(), FRAMES, 15.0))


def _through_crop(mask: np.ndarray, crop_xywh, flip: bool) -> np.ndarray:
    x, y, w, h = crop_xywh
    out = cv2.resize(mask[y:y + h, x:x + w].astype(np.uint8), (W, H), interpolation=cv2.INTER_NEAREST).astype(bool)
    return out[:, ::-1] if flip else out


@pytest.mark.parametrize("zoom, crop_scale", [([0.4, 0.5], [0.8, 1.0]), ([-0.5, -0.4], [0.3, 0.4])], ids=["zoom-in", "zoom-out"])
def test_real_objects_are_labeled_in_every_frame_they_show_in(tiny_assets, tmp_path, zoom, crop_scale):
    root, _ = _real_dataset(tmp_path / "real")
    coco = COCO(str(root / "coco" / "annotations.json"))
    factory = _factory(tiny_assets, root, zoom, crop_scale)
    names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
    changed = 0  # frames whose set of real objects in view differs from frame 0's
    for clip in range(4):
        ids_of: dict = {}  # source annotation -> its instance id in this clip
        first = None
        for t in range(FRAMES):
            s = factory.sample(clip * FRAMES + t)
            bg = s.metadata["scene"]["background"]
            assert bg["real_scene"]
            image = next(im for im in coco.dataset["images"] if im["file_name"] == bg["name"])
            pasted = [p["instance_id"] for p in s.metadata["scene"]["placements"]]
            covered = np.isin(s.id_map, pasted)
            labels = {i.real_annotation_id: i for i in s.instances if i.real_annotation_id is not None}
            showing = set()
            for ann in coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]], iscrowd=False)):
                shows = _through_crop(coco.annToMask(ann).astype(bool), bg["crop_xywh"], bg["flip"])
                visible = shows & ~covered
                if shows.any():
                    showing.add(ann["id"])
                if not visible.any():
                    assert ann["id"] not in labels, (clip, t, ann["id"])
                    continue
                inst = labels.get(ann["id"])
                assert inst is not None, f"clip {clip} frame {t}: real annotation {ann['id']} shows but has no label"
                assert inst.label == names[ann["category_id"]]
                assert np.array_equal(s.id_map == inst.instance_id, visible), (clip, t, ann["id"])
                assert ids_of.setdefault(ann["id"], inst.instance_id) == inst.instance_id  # one id over the clip
            first = showing if first is None else first
            changed += showing != first
            assert len(set(ids_of.values())) == len(ids_of)  # no id names two objects
            assert not set(ids_of.values()) & set(pasted)
    assert changed, "the camera never changed which real objects are in view: the test checks nothing"


def test_a_clips_run_on_real_scenes_validates(tiny_assets, tmp_path):
    """validate follows real objects' tracks too (they are recorded under scene.real, not placements)."""
    from synthgen.clips import run_clips
    from synthgen.tools.validate import validate_path

    root, _ = _real_dataset(tmp_path / "real")
    cfg = load_config(data=json.loads(_factory_config_json(tiny_assets, root)))
    out = tmp_path / "clips"
    run_clips(cfg, out, 2, FRAMES)
    report = validate_path(out)
    assert report.ok, report.problems[:3]


def _factory_config_json(tiny_assets, root) -> str:
    data = tiny_config_dict(tiny_assets, objects_per_image=[1, 2], distractors={"count": [0, 0]},
                            background={"crop_scale": [0.3, 0.4]}, scale=[0.2, 0.3])
    data["canvas"] = {"width": W, "height": H}
    data["assets"]["scenes"] = {"coco": str(root / "coco" / "annotations.json"), "images": str(root / "coco" / "images")}
    data["clips"] = {"camera": {"p": 1.0, "pan": [0.2, 0.4], "zoom": [-0.5, -0.4]}}
    return clip_config(load_config(data=data), ["mot", "coco"])[0].model_dump_json()
