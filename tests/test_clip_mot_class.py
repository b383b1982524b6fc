"""``clips.mot_class``: gt.txt's class column for TrackEval's MOT Challenge reader.

TrackEval's MotChallenge2DBox scores class 1 (pedestrian) alone, drops gt rows of other classes
and treats classes 2, 7, 8 and 12 as distractors (tracks over them removed). The check below
reads gt.txt as that reader does (written here from its documented rules, not from synthgen)."""

from __future__ import annotations

import json

import pytest
from conftest import tiny_config_dict

from synthgen.clips import clip_config, run_clips
from synthgen.config import load_config
from synthgen.errors import ConfigError

PEDESTRIAN, DISTRACTORS = 1, {2, 7, 8, 12}


def _gt(out):
    rows = []
    for f in sorted(out.glob("mot/*/gt/gt.txt")):
        rows += [line.split(",") for line in f.read_text().splitlines()]
    return rows


def _trackeval_mot17_targets(rows):
    """The gt rows TrackEval's MOT17 reader scores: conf not 0 and class pedestrian."""
    return [r for r in rows if float(r[6]) != 0 and int(float(r[7])) == PEDESTRIAN]


def _run(tmp_path, tiny_assets, name, **clips):
    data = tiny_config_dict(tiny_assets, objects_per_image=[3, 5])
    if clips:
        data["clips"] = clips
    cfg, layouts = clip_config(load_config(data=data), ["coco", "mot"])
    out = tmp_path / name
    run_clips(cfg, out, 2, 3, layouts=tuple(layouts))
    return out


def test_pedestrian_makes_every_object_a_trackeval_target(tmp_path, tiny_assets):
    default = _run(tmp_path, tiny_assets, "category")
    ped = _run(tmp_path, tiny_assets, "pedestrian", mot_class="pedestrian")
    coco = json.loads((ped / "annotations.json").read_text())
    labeled = [a for a in coco["annotations"] if not a.get("iscrowd")]
    cats = {a["category_id"] for a in labeled}
    assert len(cats) == 2  # both classes present: with category ids one of them is not scored
    assert len(_trackeval_mot17_targets(_gt(default))) < len(labeled)
    rows = _gt(ped)
    assert len(_trackeval_mot17_targets(rows)) == len(labeled) == len(rows)
    assert not any(int(r[7]) in DISTRACTORS for r in rows)
    # every other column as in the default layout
    assert [r[:7] + r[8:] for r in rows] == [r[:7] + r[8:] for r in _gt(default)]
    # the images are the same: only the MOT class column changed
    base = json.loads((default / "annotations.json").read_text())
    assert (coco["images"], coco["annotations"]) == (base["images"], base["annotations"])


def test_default_keeps_category_ids_and_the_resolved_config(tiny_assets):
    cfg = load_config(data={**tiny_config_dict(tiny_assets), "clips": {"shutter": 0.5}})
    assert cfg.clips.mot_class == "category"
    assert "mot_class" not in cfg.to_dict()["clips"]  # runs that never set it keep their digest


def test_a_wrong_mot_class_names_the_choices(tiny_assets):
    with pytest.raises(ConfigError, match=r"clips\.mot_class: 'person' -> expected one of category, pedestrian"):
        load_config(data=tiny_config_dict(tiny_assets), overrides=["clips.mot_class=person"])


def test_validate_accepts_a_pedestrian_run_and_checks_its_class_column(tmp_path, tiny_assets):
    from synthgen.tools.validate import validate_path

    ped = _run(tmp_path, tiny_assets, "pedestrian", mot_class="pedestrian")
    report = validate_path(ped)
    assert report.ok, report.lines()
    # the class column is still checked: a category id where the run writes 1 is a problem
    gt = sorted(ped.glob("mot/*/gt/gt.txt"))[0]
    rows = [line.split(",") for line in gt.read_text().splitlines()]
    rows[0][7] = "2"
    gt.write_text("".join(",".join(r) + "\n" for r in rows))
    problems = [p.message for p in validate_path(ped).problems if p.kind == "mot"]
    assert problems and "class 2" in problems[0], problems
