"""The MOT Challenge layout of a finished clip run, made from its merged annotations.json.

    OUT/mot/<clip>/img1/000001.jpg   hard links to the run's images/ (copies where links fail)
    OUT/mot/<clip>/gt/gt.txt         frame, id, x, y, w, h, conf, class, visibility
    OUT/mot/<clip>/seqinfo.ini       name, imDir, frameRate, seqLength, imWidth, imHeight, imExt

Frames count from 1 (frame_id + 1); ids from 1 too: id is the object's instance id within its
clip (the COCO ``track_id`` is ``video_id * 1000 + id``, unique over the run); x, y, w, h the COCO box in the
same pixel coordinates; conf 1; class the COCO category id, or 1 for every object with
``mot_class="pedestrian"`` (``clips.mot_class``: TrackEval's MOT Challenge reader scores class 1,
pedestrian, alone and treats 2, 7, 8 and 12 as distractors); visibility the visible fraction of
the whole silhouette (1 when unknown). Rows are sorted by frame, then id. Rewritten whole each
time the run is merged.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

from synthgen.errors import OutputError
from synthgen.io.files import atomic_write
from synthgen.types import MAX_INSTANCES

MOT_DIR = "mot"
CLIP_DIR = re.compile(r"^clip-\d{6}$")  # the sequence folders clips.clip_name makes


MOT_CLASSES = ("category", "pedestrian")
PEDESTRIAN = 1  # MOT Challenge's class id of the one class its benchmarks score


def gt_rows(images: list[dict[str, Any]], annotations: list[dict[str, Any]], mot_class: str = "category") -> list[tuple]:
    """(frame, id, x, y, w, h, conf, class, visibility) of one clip's annotations; class the
    category id, or ``PEDESTRIAN`` for all with ``mot_class="pedestrian"``."""
    if mot_class not in MOT_CLASSES:
        raise ValueError(f"mot_class {mot_class!r}: expected one of {', '.join(MOT_CLASSES)}")
    frame_of = {im["id"]: im["frame_id"] + 1 for im in images}
    rows = []
    for a in annotations:
        if a.get("iscrowd") or a["image_id"] not in frame_of:
            continue
        vis = a.get("visible_fraction")
        x, y, w, h = a["bbox"]
        rows.append((frame_of[a["image_id"]], a["track_id"] % MAX_INSTANCES, x, y, w, h, 1, PEDESTRIAN if mot_class == "pedestrian" else a["category_id"], 1.0 if vis is None else vis))
    return sorted(rows)


def gt_text(rows: list[tuple]) -> str:
    return "".join(f"{f},{i},{x},{y},{w},{h},{c},{k},{v:.6f}\n" for f, i, x, y, w, h, c, k, v in rows)


def seqinfo(name: str, fps: float, length: int, width: int, height: int, ext: str) -> str:
    rate = int(fps) if float(fps).is_integer() else fps
    return (
        f"[Sequence]\nname={name}\nimDir=img1\nframeRate={rate}\nseqLength={length}\n"
        f"imWidth={width}\nimHeight={height}\nimExt=.{ext}\n"
    )


def _link(src: Path, dst: Path) -> None:
    if dst.exists() and os.path.samefile(src, dst):
        return
    tmp = dst.with_name(f".{dst.name}.tmp{os.getpid()}")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copy2(src, tmp)
    os.replace(tmp, dst)


def write_mot(run: Path, image_format: str, fps: float, mot_class: str = "category", source: Path | None = None) -> list[str]:
    """Write ``run/mot/<clip>/`` for every video of ``run/annotations.json`` (or of ``source``: the
    merge lays out MOT from its annotations before renaming them into place, so a run killed
    here has no annotations.json); returns the clip names. ``mot_class``: gt.txt's class column
    (``gt_rows``)."""
    ann_file = run / "annotations.json" if source is None else source
    try:
        doc = json.loads(ann_file.read_text())
    except (OSError, ValueError) as exc:
        raise OutputError(f"{ann_file}: cannot read the merged clips to lay them out as MOT: {exc}") from None
    images: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for im in doc["images"]:
        if "video_id" not in im:
            raise OutputError(f"{ann_file}: image {im['id']} has no video_id; not a clip run")
        images[im["video_id"]].append(im)
    anns: dict[int, list[dict[str, Any]]] = defaultdict(list)
    video_of = {im["id"]: v for v, ims in images.items() for im in ims}
    for a in doc["annotations"]:
        anns[video_of[a["image_id"]]].append(a)
    names = []
    for video in doc.get("videos") or [{"id": v, "name": ims[0]["video"]} for v, ims in sorted(images.items())]:
        ims = sorted(images[video["id"]], key=lambda im: im["frame_id"])
        seq = run / MOT_DIR / video["name"]
        (seq / "img1").mkdir(parents=True, exist_ok=True)
        (seq / "gt").mkdir(exist_ok=True)
        for im in ims:
            _link(run / "images" / im["file_name"], seq / "img1" / f"{im['frame_id'] + 1:06d}.{image_format}")
        atomic_write(seq / "gt" / "gt.txt", gt_text(gt_rows(ims, anns[video["id"]], mot_class)).encode())
        info = seqinfo(video["name"], fps, len(ims), ims[0]["width"], ims[0]["height"], image_format)
        atomic_write(seq / "seqinfo.ini", info.encode())
        names.append(video["name"])
    remove_stale_sequences(run / MOT_DIR, set(names), image_format)
    return names


def remove_stale_sequences(mot: Path, keep: set[str], image_format: str) -> None:
    """Sequences a previous run with more clips wrote (only the files this module writes). Never
    through a symbolic link: what lies behind one is not known to be the run's."""
    if mot.is_symlink():
        return
    for seq in mot.iterdir():
        if seq.name in keep or not CLIP_DIR.match(seq.name) or seq.is_symlink():
            continue
        for f in [*seq.glob(f"img1/[0-9]*.{image_format}"), seq / "gt" / "gt.txt", seq / "seqinfo.ini"]:
            if not f.parent.is_symlink():
                f.unlink(missing_ok=True)
        for d in (seq / "img1", seq / "gt", seq):
            try:
                d.rmdir()
            except OSError:  # not ours alone: left as it is
                pass
