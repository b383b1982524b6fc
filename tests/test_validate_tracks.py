"""validate on clips: a sound clips run passes; each hand-broken track, frame or MOT file is
found, of the right kind, named by file, video, track or line."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import make_assets, tiny_config_dict

from synthgen.tools.validate import validate_path

CLIPS, FRAMES = 2, 8


@pytest.fixture(scope="module")
def sound_run(tmp_path_factory) -> Path:
    from synthgen.clips import clip_config, run_clips
    from synthgen.config import load_config

    root = tmp_path_factory.mktemp("clips")
    data = tiny_config_dict(make_assets(root / "assets"))
    data["scene"]["objects_per_image"] = [3, 4]
    cfg = clip_config(load_config(data=data), ["mot", "coco"])[0]
    run_clips(cfg, root / "run", CLIPS, FRAMES)
    return root / "run"


@pytest.fixture
def run(sound_run, tmp_path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(sound_run, out)
    return out


def _doc(run: Path) -> dict:
    return json.loads((run / "annotations.json").read_text())


def _save(run: Path, doc: dict) -> None:
    (run / "annotations.json").write_text(json.dumps(doc))


def _problems(run: Path, kind: str) -> list[str]:
    report = validate_path(run, max_problems=100)
    return [f"{p.where}: {p.message}" for p in report.problems if p.kind == kind]


def _tracks(doc: dict, video: int = 1) -> dict[int, list[dict]]:
    """track id -> its annotations in frame order, for one video."""
    frame = {im["id"]: im["frame_id"] for im in doc["images"] if im["video_id"] == video}
    out = defaultdict(list)
    for a in sorted((a for a in doc["annotations"] if a["image_id"] in frame), key=lambda a: frame[a["image_id"]]):
        out[a["track_id"]].append(a)
    return out


def test_a_sound_clips_run_passes(sound_run):
    report = validate_path(sound_run)
    assert report.ok, report.lines()
    assert report.counts["clips"] == CLIPS and report.counts["mot sequences"] == CLIPS and report.counts["tracks"] > CLIPS


def test_two_annotations_of_one_track_in_a_frame(run):
    doc = _doc(run)
    a = dict(doc["annotations"][0], id=999_999)
    doc["annotations"].append(a)
    _save(run, doc)
    found = _problems(run, "track")
    assert any(f"annotation 999999 (image {a['image_id']}" in p and f"track {a['track_id']} has two annotations" in p
               for p in found), found


def test_a_track_whose_category_changes(run):
    doc = _doc(run)
    tid, anns = next((t, v) for t, v in _tracks(doc).items() if len(v) > 2)
    other = next(c["id"] for c in doc["categories"] if c["id"] != anns[0]["category_id"])
    anns[-1]["category_id"] = other
    _save(run, doc)
    found = _problems(run, "track")
    assert any(f"video 1 track {tid}: category changes along the track" in p for p in found), found


def test_an_id_reused_for_another_object(run):
    """From frame 4 on, two tracks of clip 1 trade ids: each id now names two objects."""
    doc = _doc(run)
    meta = [json.loads(line) for line in (run / "metadata.jsonl").read_text().splitlines()]
    placed = {p["instance_id"]: p["asset"] for p in meta[0]["scene"]["placements"]}
    tracks = _tracks(doc)
    asset = {t: placed[t % 1000] for t in tracks}  # a track id is its object's id, or video * 1000 + it
    frame = {im["id"]: im["frame_id"] for im in doc["images"]}
    both = [t for t, v in tracks.items() if {frame[a["image_id"]] for a in v} >= set(range(FRAMES))]
    cls = {t: v[0]["category_id"] for t, v in tracks.items()}
    pairs = [(a, b) for a in both for b in both if a < b and asset[a] != asset[b]]
    pair = min(pairs, key=lambda p: cls[p[0]] != cls[p[1]])  # the same class where there is one
    for a in (x for t in pair for x in tracks[t]):
        if frame[a["image_id"]] >= 4:
            a["track_id"] = pair[1] if a["track_id"] == pair[0] else pair[0]
    _save(run, doc)
    found = _problems(run, "track")
    same_class = tracks[pair[0]][0]["category_id"] == tracks[pair[1]][0]["category_id"]
    if same_class:  # only the recorded placements can tell
        assert any(f"video 1 track {pair[0]}: the id names {asset[pair[0]]} in frame 0 and {asset[pair[1]]} in frame 4"
                   in p and "reused for another object" in p for p in found), found
    else:  # the class tells first
        assert any(f"video 1 track {pair[0]}: category changes along the track" in p for p in found), found


def test_frame_ids_with_a_gap_and_a_wrong_length(run):
    doc = _doc(run)
    im = next(im for im in doc["images"] if im["video_id"] == 2 and im["frame_id"] == 3)
    im["frame_id"] = FRAMES + 2
    doc["videos"][0]["length"] = FRAMES + 1
    _save(run, doc)
    found = _problems(run, "track")
    assert any(p.startswith("annotations.json video 2: frame_ids are not contiguous") and "frame 3 missing" in p
               for p in found), found
    assert any(f"annotations.json video 1: length {FRAMES + 1}, but {FRAMES} frames" in p for p in found), found


def test_a_frame_without_video_fields_and_an_object_without_track_id(run):
    doc = _doc(run)
    doc["images"][5].pop("frame_id")
    a = next(a for a in doc["annotations"] if a["image_id"] == doc["images"][1]["id"])
    a.pop("track_id")
    _save(run, doc)
    found = _problems(run, "track")
    assert any(f"image {doc['images'][5]['id']}: video_id 1, frame_id None" in p for p in found), found
    assert any(f"annotation {a['id']} (image {a['image_id']}, video 1 frame 1): track_id None" in p for p in found), found


def test_mot_gt_that_disagrees_with_coco(run):
    gt = run / "mot" / "clip-000001" / "gt" / "gt.txt"
    lines = gt.read_text().splitlines()
    f, i, x, *rest = lines[6].split(",")
    lines[6] = ",".join([f, i, str(int(x) + 1), *rest])
    gt.write_text("\n".join(lines) + "\n")
    found = _problems(run, "mot")
    assert any(p.startswith("mot/clip-000001/gt/gt.txt line 7: ") and f"frame {f} id {i}: box [{int(x) + 1}.0" in p
               for p in found), found
    # a row left out, and one id given a class it does not have
    gt.write_text("\n".join(lines[:3] + lines[4:6]) + "\n")
    f, i = lines[3].split(",")[:2]
    assert any(f"frame {f} id {i}: in the COCO annotations, not in gt.txt" in p for p in _problems(run, "mot"))
    gt.write_text("1,2,3\n")
    assert any("gt.txt line 1" in p and "9 numbers" in p for p in _problems(run, "mot"))


def test_mot_seqinfo_and_frames(run):
    seq = run / "mot" / "clip-000000"
    info = (seq / "seqinfo.ini").read_text().replace(f"seqLength={FRAMES}", f"seqLength={FRAMES + 1}")
    (seq / "seqinfo.ini").write_text(info)
    (seq / "img1" / "000003.jpg").unlink()
    shutil.rmtree(run / "mot" / "clip-000001" / "gt")
    found = _problems(run, "mot")
    assert any(p.startswith("mot/clip-000000/seqinfo.ini: ") and f"seqLength {FRAMES + 1}" in p for p in found), found
    assert any(p.startswith("mot/clip-000000/img1: 1 frames missing, the first 000003.jpg") for p in found), found
    assert any("video 2 has no mot/clip-000001/gt/gt.txt" in p for p in found), found


def test_an_id_that_names_another_asset_in_the_recorded_scene(run):
    """Two objects of one class and asset cannot be told apart by labels; the recorded placements
    can: frame 5's record names another asset under a track's id."""
    lines = (run / "metadata.jsonl").read_text().splitlines()
    rec = json.loads(lines[5])
    doc = _doc(run)
    image = next(im["id"] for im in doc["images"] if im["file_name"].startswith(rec["name"]))
    labeled = {a["track_id"] % 1000: a["track_id"] for a in doc["annotations"] if a["image_id"] == image}
    placed = next(p for p in rec["scene"]["placements"] if p["instance_id"] in labeled)
    old, placed["asset"] = placed["asset"], "elsewhere/other.png"
    lines[5] = json.dumps(rec)
    (run / "metadata.jsonl").write_text("\n".join(lines) + "\n")
    found = _problems(run, "track")
    tid = labeled[placed["instance_id"]]
    assert any(f"video 1 track {tid}: the id names {old} in frame 0 and elsewhere/other.png in frame 5" in p
               for p in found), found
