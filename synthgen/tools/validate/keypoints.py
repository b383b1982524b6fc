"""Checking point and line labels of a COCO image: keypoints and ``lines`` (synthgen/lines.py).

Keypoints (any COCO keypoints file): a flat list of ``x, y, v`` triples, as many as the
category's ``keypoints`` names, v one of 0, 1, 2; a point with v > 0 lies in the image
(COCO coordinates: 0 <= x <= W, 0 <= y <= H); ``num_keypoints`` is the count of v > 0.
Lines: each ``{"class", "points": [[x, y], ...], "visibility": [...]}`` with one v (0, 1, 2) per
point and the points with v > 0 in the image.

With synthgen's id map beside the file (``masks/``), visibility is checked against the pixels,
as synthgen defines it: a keypoint with v = 2 has its instance's id at its pixel or one of the 8
around it (a point on the object's own edge), one with v = 1 has not (in frame, covered); a
line point with v = 2 is not on a labeled object's pixel (a distractor may cover a line too, so
v = 1 is not checked). Positions are written rounded (3 decimals for keypoints, 2 for lines): a
point that rounding moved across a pixel border is judged by either pixel.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from synthgen.io.images import read_id_map
from synthgen.io.rle import is_number
from synthgen.tools.validate.findings import Checking
from synthgen.types import MAX_INSTANCES

ROUNDING = 1e-2  # the largest move the written rounding makes, pixels


def _names_by_category(coco: Any) -> dict[Any, int]:
    out = {}
    for cat in coco.data.get("categories", []) if isinstance(coco.data, dict) else []:
        if isinstance(cat, dict) and isinstance(cat.get("keypoints"), list):
            out[cat.get("id")] = len(cat["keypoints"])
    return out


def _cols(x: float, lo: int, hi: int, widen: bool) -> tuple[int, int]:
    """The pixel range within one pixel of x, over both pixels the written rounding may have
    come from: their union (``widen``) or their intersection."""
    a, b = math.floor(x - ROUNDING), math.floor(x + ROUNDING)
    first, last = (min(a, b) - 1, max(a, b) + 1) if widen else (max(a, b) - 1, min(a, b) + 1)
    return max(first, lo), min(last, hi)


def _window(idm: np.ndarray, x: float, y: float, widen: bool) -> np.ndarray:
    H, W = idm.shape
    c0, c1 = _cols(x, 0, W - 1, widen)
    r0, r1 = _cols(y, 0, H - 1, widen)
    return idm[r0 : r1 + 1, c0 : c1 + 1]


def check_annotation_keypoints(a: dict, size: int | None, W: int, H: int, where: str, add, idm: np.ndarray | None = None) -> None:
    """One annotation's ``keypoints`` and ``num_keypoints``; with ``idm`` (synthgen's id map),
    each v against the pixels of instance ``id % 1000``."""
    kp = a.get("keypoints")
    if not isinstance(kp, list) or len(kp) % 3 or not all(is_number(v) for v in kp):
        add("keypoints", where, "keypoints must be a flat list of x, y, v numbers")
        return
    n = len(kp) // 3
    if size is None and n:
        add("keypoints", where, f"{n} keypoints, but its category names no keypoints (a `keypoints` list of names)")
    elif size is not None and n != size:
        add("keypoints", where, f"{n} keypoints, its category names {size}")
    triples = [(float(kp[i]), float(kp[i + 1]), kp[i + 2]) for i in range(0, len(kp), 3)]
    bad_v = [k for k, (_, _, v) in enumerate(triples) if v not in (0, 1, 2)]
    if bad_v:
        add("keypoints", where, f"keypoint {bad_v[0]}: v {triples[bad_v[0]][2]} is not 0, 1 or 2")
        return
    labeled = sum(1 for _, _, v in triples if v > 0)
    if a.get("num_keypoints") != labeled:
        add("keypoints", where, f"num_keypoints {a.get('num_keypoints')!r} is not the {labeled} points with v > 0")
    for k, (x, y, v) in enumerate(triples):
        if v and not (0 <= x <= W and 0 <= y <= H):
            add("keypoints", where, f"keypoint {k} ({x:g}, {y:g}) has v {v} but lies outside the {W}x{H} image")
            return
    aid = a.get("id")
    if idm is None or not isinstance(aid, int):
        return
    inst = aid % MAX_INSTANCES
    for k, (x, y, v) in enumerate(triples):
        if v == 2 and not (_window(idm, x, y, widen=True) == inst).any():
            add("keypoints", where, f"keypoint {k} ({x:g}, {y:g}) has v 2 but no pixel of instance {inst} is within one pixel (id map)")
            return
        if v == 1 and (_window(idm, x, y, widen=False) == inst).any():
            add("keypoints", where, f"keypoint {k} ({x:g}, {y:g}) has v 1 (covered) but its pixel is instance {inst}'s (id map): v 2")
            return


def check_lines(lines: Any, W: int, H: int, where: str, add, idm: np.ndarray | None = None) -> None:
    """An image entry's ``lines``."""
    if not isinstance(lines, list):
        add("lines", where, "lines must be a list of {class, points, visibility}")
        return
    for i, line in enumerate(lines):
        w = f"{where} lines[{i}]"
        pts = line.get("points") if isinstance(line, dict) else None
        vis = line.get("visibility") if isinstance(line, dict) else None
        if not isinstance(line, dict) or not isinstance(line.get("class"), str):
            add("lines", w, "a line needs a class (string), points and visibility")
            continue
        if not isinstance(pts, list) or len(pts) < 2 or not all(
                isinstance(p, list) and len(p) == 2 and all(is_number(c) for c in p) for p in pts):
            add("lines", w, "points must be two or more [x, y] pairs of numbers")
            continue
        if not isinstance(vis, list) or len(vis) != len(pts) or any(v not in (0, 1, 2) for v in vis):
            add("lines", w, f"visibility must be one 0, 1 or 2 per point ({len(pts)} points)")
            continue
        for k, ((x, y), v) in enumerate(zip(pts, vis)):
            if v and not (0 <= x <= W and 0 <= y <= H):
                add("lines", w, f"point {k} ({x:g}, {y:g}) has v {v} but lies outside the {W}x{H} image")
                break
            if v == 2 and idm is not None and (_window(idm, min(x, W - 1e-3), min(y, H - 1e-3), widen=False) != 0).all():
                add("lines", w, f"point {k} ({x:g}, {y:g}) has v 2 but lies on a labeled object's pixels (id map)")
                break


def check_points(c: Checking, coco: Any, im: dict, anns: list[dict], W: int, H: int, where: str, ann_where) -> None:
    """The keypoints of an image's annotations and its lines; against its id map when it is
    synthgen's and has one."""
    idm = None
    if c.synthgen:
        path = c.layout.root / "masks" / (Path(str(im.get("file_name", ""))).stem + ".png")
        if path.is_file():
            idm = read_id_map(path)
            if idm is None or idm.shape != (H, W):
                idm = None  # check_mask_file names it
    sizes = _names_by_category(coco)
    for a in anns:
        if "keypoints" in a:
            check_annotation_keypoints(a, sizes.get(a.get("category_id")), W, H, ann_where(a.get("id")), c.add, idm)
    if "lines" in im:
        check_lines(im["lines"], W, H, where, c.add, idm)
