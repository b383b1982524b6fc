"""Checking synthgen's semantic maps against its COCO annotations: each map is the union of the
image's masks by class, exactly; 255 (not scored) only where no annotation is, or on an
iscrowd region when the run ignores crowds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthgen.io.issues import DatasetError
from synthgen.io.rle import decode
from synthgen.io.semantic import SemanticClasses, read_class_map, read_semantic_classes
from synthgen.tools.validate.findings import Checking


def read_classes(c: Checking) -> SemanticClasses | None:
    """semantic_classes.json beside the maps (a merged run writes it), or None."""
    path = c.layout.root / "semantic_classes.json"
    if not path.is_file():
        return None
    try:
        return read_semantic_classes(path, c.layout.rel(path))
    except DatasetError as exc:
        c.add(exc.issue.kind, exc.issue.where, exc.issue.message)
        return None


def check_semantic_file(c: Checking, path: Path, anns: list[tuple[dict, dict]], W: int, H: int, where: str) -> None:
    """``anns``: (annotation, its checked RLE) of one image."""
    rel = c.layout.rel(path)
    if not path.is_file():
        c.add("missing_file", where, f"semantic map {rel} does not exist")
        return
    c.count("semantic maps")
    try:
        got = read_class_map(path)
    except DatasetError as exc:
        c.add("semantic", where, f"semantic map {rel} {exc.issue.message}")
        return
    if got.shape != (H, W):
        c.add("semantic", where, f"semantic map {rel} is {got.shape[1]}x{got.shape[0]}, not {W}x{H}")
        return
    classes = c.semantic_classes
    ignore = classes.ignore_index if classes is not None else 255
    want = np.zeros((H, W), np.uint8)
    crowd = np.zeros((H, W), bool)
    for a, rle in anns:
        m = decode(rle)
        want[m] = a.get("category_id", 0) if isinstance(a.get("category_id"), int) else 0
        if a.get("iscrowd"):
            crowd |= m
    scored = got != ignore
    wrong = scored & (got != want)
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
