"""Ultralytics YOLO layout: labels/<name>.txt beside images/<name>.jpg, plus data.yaml."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import yaml

from synthgen.types import Sample


def box_line(class_index: int, bbox: tuple[int, int, int, int], W: int, H: int) -> str:
    x, y, w, h = bbox
    return f"{class_index} {(x + w / 2) / W:.6f} {(y + h / 2) / H:.6f} {w / W:.6f} {h / H:.6f}"


def _join_parts(parts: list[np.ndarray]) -> np.ndarray:
    """One polygon from several rings, linked by zero-width bridges (walked out and back)."""
    parts = sorted(parts, key=lambda p: -len(p))
    path = [parts[0]]
    bridges = []
    current = parts[0]
    remaining = parts[1:]
    while remaining:
        # the remaining ring nearest to the last one added
        best = None
        for ri, ring in enumerate(remaining):
            d = ((current[:, None, :] - ring[None, :, :]) ** 2).sum(-1)
            i, j = np.unravel_index(int(d.argmin()), d.shape)
            if best is None or d[i, j] < best[0]:
                best = (d[i, j], ri, i, j)
        _, ri, i, j = best
        ring = remaining.pop(ri)
        # leave `current` at point i, walk the new ring once around from j, and come back later
        bridges.append(current[i])
        path.append(np.concatenate([np.roll(ring, -j, axis=0), ring[j : j + 1]]))
        current = ring
    # the first ring walked from the first bridge point, then the others, then back over bridges
    first = parts[0]
    if bridges:
        k = int(np.flatnonzero((first == bridges[0]).all(1))[0])
        path[0] = np.concatenate([np.roll(first, -k, axis=0), first[k : k + 1]])
    back = [b[None] for b in reversed(bridges[1:])]
    return np.concatenate(path + back)


def polygon(mask: np.ndarray) -> np.ndarray | None:
    """Outline of a bool mask as one (n, 2) pixel-coordinate polygon; parts joined by bridges."""
    padded = np.pad(mask.astype(np.uint8), 1)
    contours, _ = cv2.findContours(padded, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    parts = [c.reshape(-1, 2).astype(np.float64) - 1.0 for c in contours if len(c)]
    if not parts:
        return None
    poly = _join_parts(parts)
    if len(poly) < 3:  # a one- or two-pixel object: use its pixel outline
        (x, y), (x1, y1) = poly.min(0), poly.max(0) + 1
        poly = np.array([[x, y], [x1, y], [x1, y1], [x, y1]], np.float64)
    return poly


def label_text(sample: Sample, task: str) -> str:
    W, H = sample.scene.canvas_wh
    lines = []
    for inst in sample.instances:
        cls = inst.category_id - 1
        if task == "segment":
            x0, y0, w, h = inst.bbox
            poly = polygon(sample.id_map[y0 : y0 + h, x0 : x0 + w] == inst.instance_id)
            xy = np.clip((poly + np.array([x0, y0])) / np.array([W, H]), 0.0, 1.0)
            lines.append(f"{cls} " + " ".join(f"{v:.6f}" for v in xy.ravel()))
        else:
            lines.append(box_line(cls, inst.bbox, W, H))
    return "\n".join(lines) + ("\n" if lines else "")


def data_yaml(out: Path, classes: tuple[str, ...]) -> str:
    doc = {
        "path": str(out.resolve()),
        "train": "images",
        "val": "images",
        "nc": len(classes),
        "names": {i: c for i, c in enumerate(classes)},
    }
    return yaml.safe_dump(doc, sort_keys=False)
