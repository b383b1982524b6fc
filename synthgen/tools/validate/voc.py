"""Checking a Pascal VOC dataset read by io/voc: every XML's image exists at its size, objects
name known classes, the ImageSets lists name annotated images; for synthgen's, each object's
box is the tight box of its SegmentationObject pixels and SegmentationClass gives those pixels
the object's class (and no class where no object is)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthgen.io.issues import DatasetError
from synthgen.io.paths import inside
from synthgen.io.semantic import read_class_map
from synthgen.io.voc import VocAnnotation, read_image_set, read_voc_xml
from synthgen.tools.validate.findings import Checking

IGNORE = 255


def check_voc(c: Checking) -> None:
    L = c.layout
    root = L.voc_root
    classes = list((L.manifest or {}).get("classes") or [])
    index = {name: k for k, name in enumerate(classes, 1)}
    if not index and c.categories:  # a run merged into another folder has no manifest: index = category id
        index = dict(c.categories)
        classes = list(index)
    stems = set()
    for xml in sorted((root / "Annotations").glob("*.xml")):
        try:
            ann = read_voc_xml(xml, L.rel(xml))
        except DatasetError as exc:
            c.add(exc.issue.kind, exc.issue.where, exc.issue.message)
            continue
        stems.add(xml.stem)
        c.count("voc annotations")
        c.count("voc objects", len(ann.objects))
        where = L.rel(xml)
        try:
            image = inside(root / "JPEGImages", ann.filename, where)
        except DatasetError as exc:
            c.add(exc.issue.kind, exc.issue.where, exc.issue.message)
            image = None
        size = c.image_size(image) if image is not None else False
        if size is False:
            pass
        elif size is None:
            c.add("missing_file", where, f"image {L.rel(image)} does not exist")
        elif isinstance(size, str):
            c.add("unreadable_image", where, size)
        elif size != (ann.width, ann.height):
            c.add("image_size", where, f"the image is {size[0]}x{size[1]}, <size> says {ann.width}x{ann.height}")
        for k, obj in enumerate(ann.objects, 1):
            x, y, w, h = obj.bbox
            if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > ann.width or y + h > ann.height:
                c.add("out_of_bounds", f"{where} object {k}", f"bndbox {list(obj.bbox)} (as x, y, w, h) leaves the {ann.width}x{ann.height} image")
            if index and obj.name not in index:
                c.add("unknown_category", f"{where} object {k}", f"{obj.name!r} is not a class of the run ({', '.join(classes)})")
        if c.synthgen:
            _check_masks(c, root, ann, index, where)
    for lst in sorted((root / "ImageSets").rglob("*.txt")) if (root / "ImageSets").is_dir() else ():
        missing = [s for s in read_image_set(lst) if s not in stems]
        if missing:
            c.add("image_set", L.rel(lst), f"names {len(missing)} images without an annotation, e.g. {missing[:3]}")


def _read(c: Checking, path: Path, ann: VocAnnotation, where: str) -> np.ndarray | None:
    if not path.is_file():
        c.add("missing_file", where, f"{c.layout.rel(path)} does not exist")
        return None
    try:
        values = read_class_map(path)
    except DatasetError as exc:
        c.add("voc", where, exc.issue.message)
        return None
    if values.shape != (ann.height, ann.width):
        c.add("voc", where, f"{c.layout.rel(path)} is {values.shape[1]}x{values.shape[0]}, <size> says {ann.width}x{ann.height}")
        return None
    return values


def _check_masks(c: Checking, root: Path, ann: VocAnnotation, index: dict[str, int], where: str) -> None:
    stem = ann.path.stem
    objects = _read(c, root / "SegmentationObject" / f"{stem}.png", ann, where)
    classes = _read(c, root / "SegmentationClass" / f"{stem}.png", ann, where)
    if objects is None or classes is None:
        return
    present = set(np.unique(objects).tolist()) - {0, IGNORE}
    extra = sorted(present - set(range(1, len(ann.objects) + 1)))
    if extra:
        c.add("voc", where, f"SegmentationObject holds object indices {extra[:10]} beyond the XML's {len(ann.objects)} objects")
    want = np.zeros_like(classes)
    for k, obj in enumerate(ann.objects, 1):
        mask = objects == k
        ys, xs = np.nonzero(mask)
        if not len(xs):
            c.add("voc", f"{where} object {k}", "has no pixel in SegmentationObject")
            continue
        tight = (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
        if obj.bbox != tight:
            c.add("bbox", f"{where} object {k}", f"bndbox {list(obj.bbox)} (as x, y, w, h) is not the tight box {list(tight)} of its SegmentationObject pixels")
        want[mask] = index.get(obj.name, 0)
    # object pixels carry their class; 255 only where the object map says so; crowd regions
    # (255 in SegmentationObject) may keep their class
    free = objects == IGNORE
    wrong = (classes != want) & ~free
    n = int(np.count_nonzero(wrong))
    if n:
        y, x = (int(v[0]) for v in np.nonzero(wrong))
        c.add("voc", where, f"SegmentationClass differs from the objects' classes at {n} pixels, first at x={x}, y={y}: "
                            f"{int(classes[y, x])}, the objects say {int(want[y, x])}")
