"""extract and hidden points: a source point with v 1 (labeled but not visible) is left out of the
cutout's sidecar, as v 0 ones are. A sidecar holds positions only, and a pasted point's v comes
from the id map: a point hidden behind the object's own body (on its mask) would come out v 2,
visible, which it is not. The pasted object then has it as v 0 (not labeled). Counted in the report."""

from __future__ import annotations

import json

from conftest import tiny_config_dict
from test_real_keypoints import NAMES, PEOPLE, _dataset

from synthgen.config import load_config
from synthgen.io.real import load_coco
from synthgen.runner import generate
from synthgen.tools.extract import ExtractOptions, extract


def test_hidden_points_stay_out_of_the_sidecar_and_never_become_visible(tmp_path, tiny_assets):
    # PEOPLE[0]'s left_hand (22.0, 45.0) has v 1 and lies on the person's own rectangle (20..50 x 20..70)
    (x0, y0, w, h), kp = PEOPLE[0]
    assert kp[1][2] == 1 and x0 <= kp[1][0] < x0 + w and y0 <= kp[1][1] < y0 + h
    ds = load_coco(_dataset(tmp_path / "real") / "annotations.json", tmp_path / "real" / "images")
    report = extract(ds, tmp_path / "objects", ExtractOptions(min_area=50))
    side = json.loads((tmp_path / "objects" / "person" / "p0_10.keypoints.json").read_text())
    assert set(side) == {"head", "right_hand"}  # v 2 only: the hidden left hand and the unlabeled foot left out
    assert report.skipped["hidden keypoints (v 1)"] == 1
    assert any("hidden keypoints" in line for line in report.lines())
    # pasted: the hand is never v > 0, whatever the id map says under it
    data = tiny_config_dict(tiny_assets, objects_per_image=[1, 1], scale=[0.5, 0.6])
    data["assets"]["objects"] = str(tmp_path / "objects")
    data["scene"]["distractors"] = {"count": [0, 0]}
    data["output"] = {"formats": ["coco"], "keypoints": True}
    out = tmp_path / "out"
    generate(load_config(data=data), out, 6)
    coco = json.loads((out / "annotations.json").read_text())
    hand = NAMES.index("left_hand")
    asset = {}  # annotation id -> the cutout it was pasted from (metadata.jsonl's placements)
    for line in (out / "metadata.jsonl").read_text().splitlines():
        rec = json.loads(line)
        for p in rec["scene"]["placements"]:
            asset[(rec["index"] + 1) * 1000 + p["instance_id"]] = (p["asset"], p["flip"])
    from_p0 = [a for a in coco["annotations"] if asset[a["id"]][0].endswith("p0_10.png")]
    assert from_p0 and len(from_p0) < len(coco["annotations"]), "both cutouts should be pasted: pick another seed"
    for a in from_p0:  # a mirrored person's left hand is its right hand (the schema's flip pairs)
        slot = NAMES.index("right_hand") if asset[a["id"]][1] else hand
        assert a["keypoints"][3 * slot + 2] == 0, (a["id"], a["keypoints"])


def test_a_visible_point_outside_the_objects_mask_box_stays_out_of_the_sidecar(tmp_path):
    # COCO marks some visible points just off the object's outline; the cutout is the mask's box,
    # so such a point has no pixel of the cutout under it (pasting refuses it): left out, counted
    import numpy as np

    from synthgen.assets import load_library
    from synthgen.config import AssetsConfig

    (x0, y0, w, h), kp = PEOPLE[1]
    kp = [list(p) for p in kp]
    kp[3] = [x0 + 5.5, y0 + h + 3.0, 2]  # the foot 3 px below the person's rectangle
    ds = load_coco(_dataset(tmp_path / "real", keypoints=[v for p in kp for v in p]) / "annotations.json",
                   tmp_path / "real" / "images")
    report = extract(ds, tmp_path / "objects", ExtractOptions(min_area=50))
    side = json.loads((tmp_path / "objects" / "person" / "p1_11.keypoints.json").read_text())
    assert "foot" not in side and set(side) == {"head", "left_hand", "right_hand"}
    assert report.skipped["keypoints outside the cutout"] >= 1  # (p0 gets the same points: all off its box)
    bg = tmp_path / "bg"
    bg.mkdir()
    import cv2

    cv2.imwrite(str(bg / "b.png"), np.zeros((50, 60, 3), np.uint8))
    lib = load_library(AssetsConfig(objects=str(tmp_path / "objects"), backgrounds=str(bg)))  # every sidecar loads
    assert next(c for c in lib.cutouts["person"] if c.name.endswith("p1_11.png")).keypoints is not None
