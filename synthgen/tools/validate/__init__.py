"""Checking a dataset's files and labels: ``synthgen validate``.

Works on synthgen's output and on COCO / YOLO datasets made elsewhere. The layouts found at a
path (io/layout) are each checked by one checker over the io readers:

    coco.py         COCO file or a run's shard fragments: ids, files, image sizes, boxes,
                    areas and masks; synthgen's: no overlaps, id maps, YOLO = COCO
    yolo.py         data.yaml, images and label lines by Ultralytics' rules
    webdataset.py   tars: members, labels and id maps per sample
    agreement.py    COCO, YOLO, images/ and the tars of one output list the same images
    masks.py        the per-annotation and per-image mask checks the first and last share
    semantic.py     semantic maps = the union of the COCO masks by class (synthgen's)
    panoptic.py     panoptic.json and its PNGs: segments = pixels; synthgen's = its COCO masks
    voc.py          Pascal VOC: XML, images, lists; synthgen's: boxes and classes = the PNGs
    hf.py           synthgen's imagefolder layout: each split's metadata.jsonl = its COCO images
    single.py       a run with semantic/ or hf/ but no COCO: maps vs metadata.jsonl, hf lines' own form
    keypoints.py    keypoints and lines: in the image, v and num_keypoints; synthgen's: v = the id map
    lanes.py        TuSimple and CULane files: rows, lists; synthgen's: = the COCO entries' lines by part
    tracks.py       clips: frames, track ids, the MOT layout = the COCO video annotations
    findings.py     problems, the report, and what the checkers share

Image sizes follow io/images' EXIF policy (displayed size). ``validate_path`` returns a
``Report``; the CLI prints it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from synthgen.io.layout import detect_layout
from synthgen.tools.validate import lanes, panoptic, semantic, single
from synthgen.tools.validate.agreement import check_agreement
from synthgen.tools.validate.coco import check_coco
from synthgen.tools.validate.findings import (
    KINDS,
    Checking,
    Collector,
    Problem,
    Report,
    recorded_checksums,
)
from synthgen.tools.validate.hf import check_hf
from synthgen.tools.validate.voc import check_voc
from synthgen.tools.validate.webdataset import check_webdataset
from synthgen.tools.validate.yolo import check_yolo, read_names

__all__ = ["KINDS", "Problem", "Report", "validate_path"]


def validate_path(
    path: str | Path,
    images: str | Path | None = None,
    max_problems: int = 20,
    deep: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Check the dataset at PATH (every layout found there); AssetError when there is none.

    Every image's end marker is checked and a sample decoded (``deep``: all of them); a run's
    images are compared with the sizes and checksums its shards recorded. ``progress(1)`` per
    image checked.
    """
    t0 = time.perf_counter()
    layout = detect_layout(path, images)
    report = Report(path=Path(path), layouts=layout.describe())
    # an unmerged run's are read a shard at a time, with its fragment (coco.py)
    checksums = recorded_checksums(layout.root) if layout.manifest is not None and not layout.coco_fragments else {}
    c = Checking(layout, report, Collector(report, max_problems), synthgen=layout.manifest is not None,
                 deep=deep, checksums=checksums, tick=progress)
    if layout.yolo_yaml:
        read_names(c)
    c.semantic_classes = semantic.read_classes(c)
    pan = panoptic.read(c)
    if pan is not None:  # before COCO, which compares its annotations with the segments
        panoptic.check_panoptic(c, pan)
        if c.synthgen and not layout.has_coco and (layout.root / "semantic").is_dir():  # else COCO's check compares them
            semantic.check_against_panoptic(c, pan)
    if lanes.present(layout):
        c.lane_images = {}
    if layout.has_coco:
        if layout.coco_file and layout.images_dir and not layout.images_dir.is_dir():
            report.notes.append(f"no image folder {layout.images_dir} (--images DIR: where the file_names are)")
        check_coco(c)
    if layout.yolo_yaml:
        check_yolo(c)
    if layout.wds_tars:
        check_webdataset(c)
    if layout.voc_root:
        check_voc(c)
    if layout.hf_dir and not (layout.root / "annotations.json").is_file():
        single.check_hf_alone(c)  # nothing to compare it with: its own form
    elif c.synthgen and (layout.root / "hf").is_dir():
        check_hf(c)
    if layout.semantic_dir and not layout.has_coco and not layout.panoptic_file:
        single.check_semantic_alone(c)  # against metadata.jsonl
    if c.lane_images is not None:
        lanes.check_lanes(c)
    check_agreement(c)
    m = layout.manifest
    if m is not None:
        if not m.get("complete"):
            report.notes.append(f"the run is not complete: {m.get('images_done')} of {m.get('num_images')} images done")
        elif layout.coco_file and layout.coco_file.name not in ("train.json", "val.json") and c.coco_images != m.get("images_done"):
            c.add("count_mismatch", layout.rel(layout.coco_file), f"{c.coco_images} images, manifest.json says {m.get('images_done')}")
    report.synthgen = c.synthgen
    report.seconds = time.perf_counter() - t0
    return report
