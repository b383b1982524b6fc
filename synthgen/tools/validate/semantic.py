"""Checking synthgen's semantic maps against its COCO annotations: each map is the union of the
image's masks by class, exactly; 255 (not scored) only where no annotation is, or on an
iscrowd region when the run ignores crowds; background classes (isthing 0 in
semantic_classes.json) only where no annotation is, and exactly on the pixels of the panoptic
stuff segments of their class when the run has panoptic output. The WebDataset tars' semantic.png
members (webdataset.py) and the hf layout's class maps (hf.py) are checked the same way."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthgen.io.issues import DatasetError
from synthgen.io.rle import decode
from synthgen.io.semantic import SemanticClasses, read_class_map, read_semantic_classes
from synthgen.tools.validate.findings import Checking

IGNORE = 255  # the ignore index when no semantic_classes.json says


def read_classes(c: Checking) -> SemanticClasses | None:
    """semantic_classes.json beside the maps (a merged run writes it), or None."""
    path = c.layout.root / "semantic_classes.json"
    if not path.is_file():
        return _unmerged_classes(c)
    try:
        return read_semantic_classes(path, c.layout.rel(path))
    except DatasetError as exc:
        c.add(exc.issue.kind, exc.issue.where, exc.issue.message)
        return None


def _unmerged_classes(c: Checking) -> SemanticClasses | None:
    """A run not merged yet has no semantic_classes.json: its classes as the merge will write
    them, from the manifest (classes, background classes) and config.yaml (semantic_ignore)."""
    import yaml

    from synthgen.config import OutputConfig
    from synthgen.writers.semantic import classes_json

    m = c.layout.manifest or {}
    if "semantic" not in (m.get("formats") or ()) or not m.get("classes"):
        return None
    try:
        doc = yaml.safe_load((c.layout.root / "config.yaml").read_text()) or {}
        ignore = (doc.get("output") or {}).get("semantic_ignore")
    except (OSError, yaml.YAMLError, AttributeError):
        ignore = None
    if ignore is None:
        ignore = OutputConfig.model_fields["semantic_ignore"].default
    rows = classes_json(list(m["classes"]), list(ignore), m.get("stuff_classes") or ())
    stuff = frozenset(r["index"] for r in rows["classes"] if r.get("isthing") == 0) - {0, rows["ignore_index"]}
    return SemanticClasses({r["index"]: r["name"] for r in rows["classes"]}, {r["index"]: tuple(r["color"]) for r in rows["classes"]},
                           rows["ignore_index"], tuple(rows["ignored"]), stuff)


def read_map(c: Checking, path: Path, W, H, where: str) -> np.ndarray | None:
    """The class map at ``path``, counted, when it exists, reads and is ``W`` x ``H``; else None,
    the problem added under ``where``."""
    rel = c.layout.rel(path)
    if not path.is_file():
        c.add("missing_file", where, f"semantic map {rel} does not exist")
        return None
    c.count("semantic maps")
    try:
        got = read_class_map(path)
    except DatasetError as exc:
        c.add("semantic", where, f"semantic map {rel} {exc.issue.message}")
        return None
    if got.shape != (H, W):
        c.add("semantic", where, f"semantic map {rel} is {got.shape[1]}x{got.shape[0]}, not {W}x{H}")
        return None
    return got


def check_semantic_file(c: Checking, path: Path, anns: list[tuple[dict, dict]], W: int, H: int, where: str, iid=None) -> None:
    """``anns``: (annotation, its checked RLE) of one image; ``iid``: its id, to compare the
    background classes with its panoptic stuff segments."""
    got = read_map(c, path, W, H, where)
    if got is not None:
        check_class_map(c, got, anns, W, H, c.layout.rel(path), where, iid)


def check_class_map(c: Checking, got: np.ndarray, anns: list[tuple[dict, dict]], W: int, H: int, rel: str, where: str,
                    iid=None) -> None:
    """One class map (``rel`` names it in the problems) against its image's annotations."""
    if got.shape != (H, W):
        c.add("semantic", where, f"semantic map {rel} is {got.shape[1]}x{got.shape[0]}, not {W}x{H}")
        return
    classes = c.semantic_classes
    ignore = classes.ignore_index if classes is not None else IGNORE
    want = np.zeros((H, W), np.uint8)
    crowd = np.zeros((H, W), bool)
    for a, rle in anns:
        m = decode(rle)
        want[m] = a.get("category_id", 0) if isinstance(a.get("category_id"), int) else 0
        if a.get("iscrowd"):
            crowd |= m
    scored = got != ignore
    stuff = np.isin(got, np.fromiter(classes.stuff, np.uint8)) if classes is not None and classes.stuff else None
    wrong = scored & (got != want)
    if stuff is not None:
        wrong &= ~(stuff & (want == 0))  # a background class where no annotation is
    may_ignore = (want == 0) | (crowd if classes is None or "crowd" in classes.ignored else False)
    wrong |= ~scored & ~may_ignore
    if classes is not None:
        unknown = sorted(set(np.unique(got).tolist()) - set(classes.names))
        if unknown:
            c.add("semantic", where, f"semantic map {rel} holds class indices {unknown[:10]} that semantic_classes.json does not list")
            return
    n = int(np.count_nonzero(wrong))
    if n:
        y, x = (int(v[0]) for v in np.nonzero(wrong))
        c.add("semantic", where, f"semantic map {rel}: {n} pixels are not the union of the annotations' masks by class, "
                                 f"first at x={x}, y={y}: {int(got[y, x])}, the annotations say {int(want[y, x])}")
    if classes is not None and classes.stuff and c.segments is not None and iid in c.segments:
        compare_stuff(c, got, classes, c.segments[iid], rel, where)


def check_against_panoptic(c: Checking, pan) -> None:
    """Without COCO annotations (``--format semantic,panoptic``): each semantic map against its
    image's panoptic segments (read by the panoptic check): a segment's pixels carry its
    category (a crowd's may be not scored), void pixels are background or not scored."""
    classes = c.semantic_classes
    ignore = classes.ignore_index if classes is not None else IGNORE
    crowd_ignored = classes is None or "crowd" in classes.ignored
    for iid, im in pan.images.items():
        if not c.segments or iid not in c.segments:
            continue  # the panoptic check named it
        pan_rel, segs, rles = c.segments[iid]
        where = f"{pan.name} image {iid}"
        path = c.layout.root / "semantic" / (Path(str(pan.annotations[iid].get("file_name"))).stem + ".png")
        rel = c.layout.rel(path)
        got = read_map(c, path, im.get("width"), im.get("height"), where)
        if got is None:
            continue
        want = np.zeros(got.shape, np.int32)
        labeled = np.zeros(got.shape, bool)
        may_ignore = np.zeros(got.shape, bool)
        for sid, seg in segs.items():
            if sid in rles:
                m = decode(rles[sid]).astype(bool)
                want[m] = seg.get("category_id") if isinstance(seg.get("category_id"), int) else -1
                labeled |= m
                if seg.get("iscrowd") and crowd_ignored:
                    may_ignore |= m
        wrong = (labeled & (got != want) & ~(may_ignore & (got == ignore))) | (~labeled & (got != 0) & (got != ignore))
        n = int(np.count_nonzero(wrong))
        if n:
            y, x = (int(v[0]) for v in np.nonzero(wrong))
            c.add("semantic", where, f"semantic map {rel}: {n} pixels differ from the segments of {pan_rel}, first at "
                                     f"x={x}, y={y}: {int(got[y, x])}, the panoptic segments say {int(want[y, x])}")


def compare_stuff(c: Checking, got: np.ndarray, classes: SemanticClasses, segments, rel: str, where: str) -> None:
    """Each background class' pixels of the semantic map are exactly its panoptic stuff segment's."""
    from synthgen.io.rle import decode as decode_rle

    pan_rel, segs, rles = segments
    want = np.zeros(got.shape, np.uint8)
    for sid, s in segs.items():
        if s.get("category_id") in classes.stuff and sid in rles:
            want[decode_rle(rles[sid]).astype(bool)] = s["category_id"]
    have = np.where(np.isin(got, np.fromiter(classes.stuff, np.uint8)), got, 0)
    wrong = have != want
    n = int(np.count_nonzero(wrong))
    if n:
        y, x = (int(v[0]) for v in np.nonzero(wrong))
        c.add("semantic", where, f"semantic map {rel}: {n} background-class pixels differ from the stuff segments of {pan_rel}, "
                                 f"first at x={x}, y={y}: {int(got[y, x])}, the panoptic PNG says {int(want[y, x])}")
