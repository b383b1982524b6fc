"""Drawing point and line labels for people to look at: an instance's keypoints with its
skeleton, and an image's lines (lane markings, stop lines, curbs). Used by
:func:`synthgen.tools.preview.draw_instances`, the one drawing of labels of ``preview`` and
``report``.

Keypoints are COCO's flat ``x, y, v`` (continuous pixel coordinates, a pixel's centre at +0.5):
a point with v = 2 (visible) is a filled green dot, v = 1 (in frame, covered) a hollow orange
ring, v = 0 is not drawn; a skeleton edge is drawn when both its ends have v > 0. Lines are the
COCO image entry's ``lines`` (synthgen/lines.py): a polyline per line in its class' colour, solid
where visible, thin and dark where a pasted object covers it. Malformed values (read from a
user's files) are skipped, never raised: ``validate`` is the place that names them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

VISIBLE = (40, 230, 40)  # v = 2
COVERED = (255, 150, 0)  # v = 1
LINE_COLOURS = {"lane_solid": (255, 255, 255), "lane_dashed": (255, 225, 0), "stop_line": (255, 70, 70), "curb": (0, 200, 255)}
OTHER_LINE = (200, 120, 255)


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _px(x: float, y: float, s: float) -> tuple[int, int]:
    """COCO continuous coordinates -> the pixel index in an image scaled by ``s``."""
    return round(x * s - 0.5), round(y * s - 0.5)


def keypoint_triples(keypoints: Any) -> list[tuple[float, float, int]]:
    """(x, y, v) per point of a flat COCO list; a malformed triple becomes (0, 0, 0)."""
    if not isinstance(keypoints, (list, tuple)) or len(keypoints) % 3:
        return []
    out = []
    for i in range(0, len(keypoints), 3):
        x, y, v = keypoints[i : i + 3]
        ok = _num(x) and _num(y) and v in (0, 1, 2)
        out.append((float(x), float(y), int(v)) if ok else (0.0, 0.0, 0))
    return out


def draw_keypoints(out: np.ndarray, keypoints: Any, skeleton: Sequence[Sequence[int]], colour: tuple[int, int, int],
                   s: float = 1.0) -> None:
    """One instance's skeleton (0-based index pairs, in ``colour``) and points, in place."""
    import cv2
    pts = keypoint_triples(keypoints)
    r = max(2, round(3 * min(s, 1.5)))
    for pair in skeleton:
        if len(pair) != 2 or not all(isinstance(i, int) and 0 <= i < len(pts) for i in pair):
            continue
        (xa, ya, va), (xb, yb, vb) = pts[pair[0]], pts[pair[1]]
        if va and vb:
            cv2.line(out, _px(xa, ya, s), _px(xb, yb, s), colour, 1, cv2.LINE_AA)
    for x, y, v in pts:
        if v == 2:
            cv2.circle(out, _px(x, y, s), r, VISIBLE, -1, cv2.LINE_AA)
            cv2.circle(out, _px(x, y, s), r, (0, 0, 0), 1, cv2.LINE_AA)
        elif v == 1:
            cv2.circle(out, _px(x, y, s), r, COVERED, 2, cv2.LINE_AA)


def draw_lines(out: np.ndarray, lines: Any, s: float = 1.0) -> None:
    """An image's line labels, in place: visible stretches in the class' colour, covered ones
    thin and dark, points outside the frame (v = 0) break the line."""
    import cv2
    if not isinstance(lines, list):
        return
    for line in lines:
        if not isinstance(line, dict) or not isinstance(line.get("points"), list):
            continue
        pts = [p if isinstance(p, (list, tuple)) and len(p) == 2 and all(_num(c) for c in p) else None for p in line["points"]]
        vis = line.get("visibility")
        vis = vis if isinstance(vis, list) and len(vis) == len(pts) else [2] * len(pts)
        colour = LINE_COLOURS.get(line.get("class"), OTHER_LINE)
        dark = tuple(c // 3 for c in colour)
        for p, q, vp, vq in zip(pts[:-1], pts[1:], vis[:-1], vis[1:]):
            if p is None or q is None or not vp or not vq:
                continue
            covered = vp == 1 or vq == 1
            cv2.line(out, _px(p[0], p[1], s), _px(q[0], q[1], s), dark if covered else colour, 1 if covered else 2, cv2.LINE_AA)


def skeletons_from_categories(categories: Any) -> dict[Any, list[tuple[int, int]]]:
    """category id -> 0-based skeleton pairs, from COCO categories (1-based ``skeleton``)."""
    out: dict[Any, list[tuple[int, int]]] = {}
    for c in categories if isinstance(categories, list) else ():
        sk = c.get("skeleton") if isinstance(c, dict) else None
        if isinstance(sk, list):
            out[c.get("id")] = [(p[0] - 1, p[1] - 1) for p in sk
                                if isinstance(p, list) and len(p) == 2 and all(isinstance(i, int) for i in p)]
    return out


def skeletons_from_manifest(manifest: Any) -> dict[int, list[tuple[int, int]]]:
    """category id (1 + class index) -> skeleton pairs, from a run's manifest ``keypoints``."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("keypoints"), dict):
        return {}
    classes = manifest.get("classes") if isinstance(manifest.get("classes"), list) else []
    cats = [{"id": i + 1, "skeleton": [[a + 1, b + 1] for a, b in s.get("skeleton", [])]}
            for i, c in enumerate(classes) if isinstance(s := manifest["keypoints"].get(c), dict)]
    return skeletons_from_categories(cats)
