"""Checking clips: COCO video fields, tracks, and the MOT Challenge layout beside them.

Run on every COCO file that has video fields (``videos``, or images with ``video_id``):

- frames: every image of a clips dataset has an integer ``video_id`` of a listed video and an
  integer ``frame_id`` >= 0, no two images share a (video, frame), a video's frame_ids run
  0..n-1 without a gap, and a video's ``length`` (when given) is its number of frames;
- tracks: every annotation of a frame has an integer ``track_id``, at most one per track per
  frame, and a track keeps its category over the clip; in a synthgen run, the object a track id
  names (the placement its frames' metadata records under that id: asset and class) is the
  same object in every frame, so an id hidden for some frames comes back on the same object and
  is never reused for another;
- MOT (``mot/<clip>/`` beside a merged annotations.json): gt.txt has exactly the COCO
  annotations (frame = frame_id + 1, id = the track's id within its clip: ``track_id``, or
  ``track_id % 1000`` for ids made unique over a run as video_id * 1000 + id; the same box,
  class = category_id (1 for every object when the run's config.yaml says
  ``clips.mot_class: pedestrian``),
  visibility = visible_fraction), seqinfo.ini the clip's length, size and frame rate, img1/
  every frame and no more, each the clip's own image (a hard link, or a copy of the same size;
  ``--deep``: the same bytes), and no sequence of no video.

Problems are of kind ``track`` and ``mot``, named by file, video and track or line.
"""

from __future__ import annotations

import configparser
import json
import math
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from synthgen.io.coco import Coco
from synthgen.tools.clip_report import object_id
from synthgen.tools.validate.findings import Checking
from synthgen.writers.mot import MOT_CLASSES, PEDESTRIAN

MOT_DIR = "mot"
VIS_TOLERANCE = 5e-6  # gt.txt writes visibility with 6 decimals


def is_clips(coco: Coco) -> bool:
    return "videos" in coco.data or any("video_id" in im for im in coco.images.values())


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_tracks(c: Checking, coco: Coco) -> None:
    """The frame, track and MOT checks of one COCO file with video fields."""
    add, name = c.add, coco.name
    videos: dict[Any, dict] = {}
    for v in coco.data.get("videos") or ():
        if isinstance(v, dict) and _int(v.get("id")):
            if v["id"] in videos:
                add("track", f"{name} video {v['id']}", "video id used twice")
            videos[v["id"]] = v
        else:
            add("track", f"{name} videos", f"video entry {str(v)[:80]} has no integer id")
    frames: dict[Any, dict[int, Any]] = defaultdict(dict)  # video -> frame_id -> image id
    for iid, im in coco.images.items():
        where = f"{name} image {iid}"
        vid, fid = im.get("video_id"), im.get("frame_id")
        if not _int(vid) or not _int(fid) or fid < 0:
            add("track", where, f"video_id {vid!r}, frame_id {fid!r}: a frame of a clip needs both, integers, frame_id >= 0")
            continue
        if videos and vid not in videos:
            add("track", where, f"video_id {vid} is not among the videos {sorted(videos)[:10]}")
        if fid in frames[vid]:
            add("track", where, f"video {vid} frame {fid} is also image {frames[vid][fid]}")
            continue
        frames[vid][fid] = iid
    for vid, by_frame in frames.items():
        n = len(by_frame)
        gaps = sorted(set(range(n)) - set(by_frame))
        where = f"{name} video {vid}"
        if gaps:
            add("track", where, f"frame_ids are not contiguous from 0: {n} frames, frame {gaps[0]} missing, "
                                f"up to frame {max(by_frame)}")
        length = videos.get(vid, {}).get("length")
        if length is not None and length != n:
            add("track", where, f"length {length}, but {n} frames have its video_id")
    c.count("clips", len(frames))
    tracks = _check_track_ids(c, coco, frames)
    c.count("tracks", len(tracks))
    if c.synthgen:
        _check_same_object(c, coco, frames, tracks)
    L = c.layout
    if L.coco_file is not None and coco.path == L.coco_file and (L.root / MOT_DIR).is_dir():
        _check_mot(c, coco, frames, videos)


def _check_track_ids(c: Checking, coco: Coco, frames) -> dict[tuple, Any]:
    """(video, track) -> its category; problems for missing ids, an id twice in a frame, or a
    track whose category changes."""
    add, name = c.add, coco.name
    category: dict[tuple, tuple[Any, Any]] = {}  # (video, track) -> (category, first annotation)
    for vid, by_frame in frames.items():
        for fid in sorted(by_frame):
            iid = by_frame[fid]
            seen: dict[Any, Any] = {}
            for a in coco.annotations.get(iid, ()):
                where = f"{name} annotation {a['id']} (image {iid}, video {vid} frame {fid})"
                tid = a.get("track_id")
                if not _int(tid):
                    if not a.get("iscrowd"):
                        add("track", where, f"track_id {tid!r} is not an integer: every object of a clip has one")
                    continue
                if tid in seen:
                    add("track", where, f"track {tid} has two annotations in this frame (also annotation {seen[tid]})")
                    continue
                seen[tid] = a["id"]
                first = category.setdefault((vid, tid), (a.get("category_id"), a["id"]))
                if first[0] != a.get("category_id"):
                    add("track", f"{name} video {vid} track {tid}",
                        f"category changes along the track: {first[0]} (annotation {first[1]}), "
                        f"{a.get('category_id')} (annotation {a['id']}); one id is one object")
    return {k: v[0] for k, v in category.items()}


def _check_same_object(c: Checking, coco: Coco, frames, tracks: dict[tuple, Any]) -> None:
    """A synthgen run records each frame's placements and real-scene objects (metadata.jsonl): a
    track id must name one of its frame, of the annotation's class, and the same asset (or real
    annotation) in every frame."""
    path = c.layout.root / "metadata.jsonl"
    if not path.is_file() or not tracks:
        return
    placements: dict[str, dict[int, tuple[str, str]]] = {}  # image stem -> instance id -> (asset, label)
    try:
        with path.open() as f:
            for line in f:
                rec = json.loads(line)
                scene = rec.get("scene") or {}
                placed = {p["instance_id"]: (p.get("asset"), p.get("label")) for p in scene.get("placements") or ()}
                for r in scene.get("real") or ():  # a real scene's own objects: named by their annotation
                    placed[r["instance_id"]] = (f"real annotation {r.get('annotation_id')}", r.get("label"))
                placements[str(rec.get("name"))] = placed
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        c.add("track", c.layout.rel(path), f"cannot be read to follow tracks ({exc.__class__.__name__}: {exc})")
        return
    asset_of: dict[tuple, tuple[str, Any]] = {}
    for vid, by_frame in frames.items():
        for fid in sorted(by_frame):
            im = coco.images[by_frame[fid]]
            placed = placements.get(Path(str(im.get("file_name"))).stem)
            if placed is None:
                continue  # metadata of another run: the agreement checks say so
            for a in coco.annotations.get(im["id"], ()):
                tid = a.get("track_id")
                if not _int(tid):
                    continue
                where = f"{coco.name} video {vid} track {tid}"
                oid = object_id(tid, vid)
                got = placed.get(oid)
                label = coco.categories.get(a.get("category_id"))
                if got is None:
                    c.add("track", where, f"frame {fid}: no object placed with id {oid} (metadata.jsonl)")
                    continue
                if got[1] != label:
                    c.add("track", where, f"frame {fid}: annotation {a['id']} is a {label}, the object placed with id {oid} a {got[1]}")
                first = asset_of.setdefault((vid, tid), (got[0], fid))
                if first[0] != got[0]:
                    c.add("track", where, f"the id names {first[0]} in frame {first[1]} and {got[0]} in frame {fid}: "
                                          "an id is reused for another object")


def _mot_class(c: Checking) -> str:
    """The run's ``clips.mot_class`` (config.yaml beside the run): what gt.txt's class column holds."""
    import yaml

    try:
        doc = yaml.safe_load((c.layout.root / "config.yaml").read_text()) or {}
        value = (doc.get("clips") or {}).get("mot_class", "category")
    except (OSError, ValueError, yaml.YAMLError, AttributeError):
        value = "category"
    return value if value in MOT_CLASSES else "category"


def _gt_expected(coco: Coco, vid: Any, by_frame: dict[int, Any], mot_class: str = "category") -> dict[tuple[int, int], tuple]:
    """(frame, MOT id) -> (x, y, w, h, class, visibility) of one video's COCO annotations;
    class 1 for all with ``mot_class`` pedestrian, as writers/mot.py writes it."""
    out = {}
    for fid, iid in by_frame.items():
        for a in coco.annotations.get(iid, ()):
            if a.get("iscrowd") or not _int(a.get("track_id")):
                continue
            vis = a.get("visible_fraction")
            cls = PEDESTRIAN if mot_class == "pedestrian" else a.get("category_id")
            out[(fid + 1, object_id(a["track_id"], vid))] = (*a.get("bbox", ()), cls, 1.0 if vis is None else vis)
    return out


def _read_gt(c: Checking, path: Path) -> dict[tuple[int, int], tuple] | None:
    rows: dict[tuple[int, int], tuple] = {}
    rel = c.layout.rel(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        c.add("mot", rel, f"cannot be read ({exc})")
        return None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(",")
        try:
            vals = [float(p) for p in parts]
        except ValueError:
            vals = []
        if len(vals) != 9 or not all(math.isfinite(v) for v in vals) or not all(vals[i].is_integer() for i in (0, 1, 7)):
            c.add("mot", f"{rel} line {n}", f"{line[:80]!r} is not 'frame, id, x, y, w, h, conf, class, visibility' (9 numbers)")
            return None
        key = (int(vals[0]), int(vals[1]))
        if key in rows:
            c.add("mot", f"{rel} line {n}", f"id {key[1]} twice in frame {key[0]}")
            return None
        rows[key] = (*vals[2:6], int(vals[7]), vals[8], n)
    return rows


def _check_mot(c: Checking, coco: Coco, frames, videos: dict[Any, dict]) -> None:
    root = c.layout.root / MOT_DIR
    mot_class = _mot_class(c)
    for vid, by_frame in sorted(frames.items()):
        video = videos.get(vid) or {}
        clip = video.get("name") or coco.images[next(iter(by_frame.values()))].get("video")
        if not isinstance(clip, str) or not clip or "/" in clip or clip.startswith("."):
            c.add("mot", f"{coco.name} video {vid}", f"name {clip!r} cannot be a MOT sequence folder")
            continue
        seq = root / clip
        gt_file = seq / "gt" / "gt.txt"
        if not gt_file.is_file():
            c.add("mot", c.layout.rel(seq), f"video {vid} has no {MOT_DIR}/{clip}/gt/gt.txt")
            continue
        c.count("mot sequences")
        got = _read_gt(c, gt_file)
        if got is not None:
            _compare_gt(c, c.layout.rel(gt_file), _gt_expected(coco, vid, by_frame, mot_class), got)
        _check_seqinfo(c, seq, coco, by_frame, video)
    if (coco.data.get("info") or {}).get("split"):  # train.json / val.json: the other part's clips are in mot/ too
        return
    named = {v.get("name") for v in videos.values()} | {
        coco.images[i].get("video") for by_frame in frames.values() for i in list(by_frame.values())[:1]}
    for seq in sorted(p for p in root.iterdir() if p.is_dir() and p.name not in named and (p / "gt" / "gt.txt").is_file()):
        c.add("mot", c.layout.rel(seq), f"a sequence of no video of {coco.name}: mot/ holds more clips than the run")


def _compare_gt(c: Checking, rel: str, want: dict, got: dict) -> None:
    for key in sorted(set(want) | set(got)):
        if key not in got:
            c.add("mot", rel, f"frame {key[0]} id {key[1]}: in the COCO annotations, not in gt.txt")
            return
        row = got[key]
        if key not in want:
            c.add("mot", f"{rel} line {row[-1]}", f"frame {key[0]} id {key[1]}: no COCO annotation has it")
            return
        w = want[key]
        box_ok = len(w) == 6 and all(a == b for a, b in zip(row[:4], w[:4]))
        if not box_ok or row[4] != w[4] or abs(row[5] - w[5]) > VIS_TOLERANCE:
            c.add("mot", f"{rel} line {row[-1]}",
                  f"frame {key[0]} id {key[1]}: box {list(row[:4])}, class {row[4]}, visibility {row[5]:g} in gt.txt; "
                  f"the COCO annotation has box {list(w[:4])}, class {w[4]}, visibility {w[5]:g}")
            return


def _check_seqinfo(c: Checking, seq: Path, coco: Coco, by_frame: dict[int, Any], video: dict) -> None:
    rel = c.layout.rel(seq / "seqinfo.ini")
    info = configparser.ConfigParser()
    try:
        info.read(seq / "seqinfo.ini")
        s = info["Sequence"]
        length, W, H, ext = int(s["seqLength"]), int(s["imWidth"]), int(s["imHeight"]), s.get("imExt", ".jpg")
    except (KeyError, ValueError, configparser.Error) as exc:
        c.add("mot", rel, f"no readable [Sequence] seqLength, imWidth, imHeight ({exc.__class__.__name__}: {exc})")
        return
    first = coco.images[by_frame[min(by_frame)]]
    if (length, W, H) != (len(by_frame), first.get("width"), first.get("height")):
        c.add("mot", rel, f"seqLength {length}, {W}x{H}; the clip has {len(by_frame)} frames of "
                          f"{first.get('width')}x{first.get('height')}")
    rate, fps = s.get("frameRate"), video.get("fps")
    try:
        differs = rate is not None and fps is not None and float(rate) != float(fps)
    except (TypeError, ValueError):
        differs = True
    if differs:
        c.add("mot", rel, f"frameRate {rate}; the clip's fps ({coco.name} videos) is {fps}")
    img1 = seq / "img1"
    missing = [t for t in range(1, len(by_frame) + 1) if not (img1 / f"{t:06d}{ext}").is_file()]
    if missing:
        c.add("mot", c.layout.rel(img1), f"{len(missing)} frames missing, the first {missing[0]:06d}{ext}")
    if img1.is_dir():
        past = sorted(p.name for p in img1.iterdir() if p.suffix == ext and p.stem.isdigit() and int(p.stem) > len(by_frame))
        if past:
            c.add("mot", c.layout.rel(img1), f"{len(past)} frames past the clip's {len(by_frame)}, the first {past[0]}")
    images = c.layout.images_dir
    for t, fid in enumerate(sorted(by_frame), 1):  # each frame the clip's own image (a link, or a copy of it)
        frame, name = img1 / f"{t:06d}{ext}", coco.images[by_frame[fid]].get("file_name")
        own = images / str(name) if images is not None and name else None
        if own is None or not own.is_file() or not frame.is_file() or _same_file(frame, own, c.deep):
            continue
        c.add("mot", c.layout.rel(frame), f"{frame.name} is not the clip's frame {name} (frame_id {fid})")
        break


def _same_file(a: Path, b: Path, deep: bool) -> bool:
    """A hard link to it, or a copy: the same size (``deep``: the same bytes)."""
    if os.path.samefile(a, b):
        return True
    if a.stat().st_size != b.stat().st_size:
        return False
    return not deep or a.read_bytes() == b.read_bytes()
