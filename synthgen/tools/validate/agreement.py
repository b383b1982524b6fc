"""One output, one set of images: COCO, YOLO, images/ and the WebDataset tars must agree.

Run after the per-format checks (which collect what each lists). Compared, when both are there:

    images/ vs COCO        an image file that no annotation file lists (a folder holding
                           annotations.json and images/ only; a COCO file given with --images
                           may legitimately cover part of a folder)
    COCO vs YOLO           an image COCO lists that data.yaml's images do not include, and the
                           other way round
    COCO vs WebDataset     a COCO image without a sample, a sample without a COCO image (by
                           name without extension: sample keys are the image names)

A YOLO label file without an image is the YOLO check's (``missing_file``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from synthgen.io.images import IMAGE_EXTS
from synthgen.tools.validate.findings import Checking


def _images_under(folder: Path) -> Iterator[str]:
    """The image files under FOLDER (not inside linked folders, as Path.rglob), resolved, as
    strings, one at a time: rglob keeps every Path it yielded, and a run's millions of Path
    objects (and the names pathlib interns) would hold gigabytes."""
    stack = [os.fspath(folder)]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except PermissionError:
            continue
        with entries:
            for e in entries:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                elif os.path.splitext(e.name)[1].lower() in IMAGE_EXTS and e.is_file():
                    yield os.path.realpath(e.path)


def check_agreement(c: Checking) -> None:
    L, add = c.layout, c.add
    if not L.has_coco or L.images_dir is None:
        return
    coco = {os.path.realpath(os.path.join(L.images_dir, n)): n for n in c.coco_names}
    coco_where = (L.rel(L.coco_file) if L.coco_file else
                  " and ".join(L.rel(p) for p in L.coco_parts) if L.coco_parts else "the shard fragments")
    said: dict[str, list[str]] = {}  # one problem per image file, every disagreement in it
    own_folder = L.images_dir == L.root / "images" and (L.coco_fragments or L.coco_parts or L.coco_file == L.root / "annotations.json")
    if own_folder and L.images_dir.is_dir():
        for p in _images_under(L.images_dir):
            if p not in coco and p not in said:
                said[p] = [f"image file is listed by no annotation file ({coco_where} has no entry for it)"]
    if L.yolo_yaml and c.yolo is not None and c.yolo.names is not None:
        yolo = {os.path.realpath(p) for p in c.yolo.images}
        yaml_where = L.rel(L.yolo_yaml)
        for p in coco.keys() - yolo:
            said.setdefault(p, []).append(f"{coco_where} lists it as {coco[p]!r} but {yaml_where}'s images do not include it (no YOLO labels for it)")
        for p in yolo.difference(coco):
            said.setdefault(p, []).append(f"{yaml_where}'s images include it but {coco_where} has no entry for it")
    for p in sorted(said, key=Path):
        add("image_set", L.rel(Path(p)), "; ".join(said[p]))
    if L.wds_tars and c.wds_keys is not None:
        stems = {Path(n).with_suffix("").as_posix(): n for n in c.coco_names}
        for key in sorted(set(c.wds_keys) - set(stems)):
            add("image_set", f"{c.wds_keys[key]} sample {key}", f"WebDataset sample has no image in {coco_where}")
        for stem in sorted(set(stems) - set(c.wds_keys)):
            add("image_set", f"{coco_where} image {stems[stem]}", "no WebDataset sample for it")
