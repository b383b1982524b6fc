"""Ultralytics YOLO layout: labels/<name>.txt beside images/<name>.jpg, plus data.yaml."""

from __future__ import annotations

import cv2
import numpy as np
import yaml

from synthgen.types import Instance, Sample


def box_line(class_index: int, bbox: tuple[int, int, int, int], W: int, H: int) -> str:
    x, y, w, h = bbox
    return f"{class_index} {(x + w / 2) / W:.6f} {(y + h / 2) / H:.6f} {w / W:.6f} {h / H:.6f}"


def _nearest(a: np.ndarray, b: np.ndarray) -> tuple[float, int, int]:
    """Squared distance and the indices of the closest pair of points of rings ``a`` and ``b``."""
    d = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    i, j = np.unravel_index(int(d.argmin()), d.shape)
    return float(d[i, j]), int(i), int(j)


def join_rings(rings: list[np.ndarray]) -> np.ndarray:
    """One polygon from several rings (outer outlines and hole outlines alike).

    The rings are linked by the shortest bridges that connect them all (a minimum spanning tree
    over the closest pair of points between rings). The walk goes round the first ring and, at
    each bridge point, out over the bridge, once round the linked ring (and its own links), and
    back over the same bridge to the same point: every bridge is walked out and back, so it has
    zero width, and under the even-odd rule that cv2.fillPoly uses a hole stays a hole.
    """
    n = len(rings)
    links: dict[int, list[tuple[int, int, int]]] = {r: [] for r in range(n)}  # ring -> (vertex, child, child vertex)
    best = {k: (*_nearest(rings[0], rings[k]), 0) for k in range(1, n)}  # k -> (d, i, j, parent)
    while best:
        k = min(best, key=lambda r: (best[r][0], r))
        _, i, j, parent = best.pop(k)
        links[parent].append((i, k, j))
        for r in best:
            d, a, b = _nearest(rings[k], rings[r])
            if d < best[r][0]:
                best[r] = (d, a, b, k)

    def walk(r: int, start: int) -> list[np.ndarray]:
        ring = rings[r]
        at: dict[int, list[tuple[int, int]]] = {}
        for i, child, j in links[r]:
            at.setdefault(i, []).append((child, j))
        out = []
        for step in range(len(ring) + 1):
            v = (start + step) % len(ring)
            out.append(ring[v])
            if step < len(ring):
                for child, j in at.get(v, ()):
                    out.extend(walk(child, j))
                    out.append(ring[v])
        return out

    return np.asarray(walk(0, 0)[:-1], np.float64)


def polygon(mask: np.ndarray) -> np.ndarray | None:
    """Outline of a bool mask as one (n, 2) pixel-coordinate polygon: every part and every hole,
    joined by zero-width bridges, so that filling it (cv2.fillPoly) gives the mask back."""
    padded = np.pad(mask.astype(np.uint8), 1)
    contours, _ = cv2.findContours(padded, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    rings = [c.reshape(-1, 2).astype(np.float64) - 1.0 for c in contours if len(c)]
    if not rings:
        return None
    rings.sort(key=lambda r: -len(r))
    poly = join_rings(rings)
    if len(poly) < 3:  # a one- or two-pixel object: use its pixel outline
        (x, y), (x1, y1) = poly.min(0), poly.max(0) + 1
        poly = np.array([[x, y], [x1, y], [x1, y1], [x, y1]], np.float64)
    return poly


def normalized_up(xy: np.ndarray) -> np.ndarray:
    """Normalized coordinates rounded *up* to the 6 decimals written, never down.

    Polygon vertices are pixel indices. Readers turn ``v * W`` back into a pixel either by
    truncating (Ultralytics casts to int32 before cv2.fillPoly) or by rounding; a value rounded
    down by a millionth would come back as the pixel before. Rounded up (by at most 1e-6, less
    than a thousandth of a pixel at 640 px), both kinds of reader recover the exact pixel.
    """
    return np.clip(np.ceil(xy * 1e6 + 1e-3) / 1e6, 0.0, 1.0)


def pose_fields(inst: Instance, slots: int, W: int, H: int) -> str:
    """`` x y v`` for every slot of the pose row (Ultralytics' layout, normalized, v 0/1/2);
    slots that are not this instance's class' are 0 0 0."""
    row = [(0.0, 0.0, 0)] * slots
    kp = inst.keypoints or ()
    for i in range(len(kp) // 3):
        x, y, v = kp[3 * i : 3 * i + 3]
        row[inst.keypoint_slot + i] = (x / W, y / H, int(v)) if v else (0.0, 0.0, 0)
    return "".join(f" {x:.6f} {y:.6f} {v}" for x, y, v in row)


def label_text(sample: Sample, task: str) -> str:
    W, H = sample.scene.canvas_wh
    lines = []
    for inst in sample.instances:
        cls = inst.category_id - 1
        if task == "segment":
            x0, y0, w, h = inst.bbox
            poly = polygon(sample.id_map[y0 : y0 + h, x0 : x0 + w] == inst.instance_id)
            xy = normalized_up((poly + np.array([x0, y0])) / np.array([W, H]))
            lines.append(f"{cls} " + " ".join(f"{v:.6f}" for v in xy.ravel()))
        elif task == "pose":
            lines.append(box_line(cls, inst.bbox, W, H) + pose_fields(inst, sample.keypoint_slots, W, H))
        else:
            lines.append(box_line(cls, inst.bbox, W, H))
    return "\n".join(lines) + ("\n" if lines else "")


def data_yaml(classes: tuple[str, ...], lists: bool = False, keypoints: dict[str, dict] | None = None) -> str:
    """data.yaml with paths relative to its own folder, so a copied or moved dataset trains on
    itself. It has no ``path:`` key on purpose: Ultralytics (``check_det_dataset``) resolves a
    relative ``path:`` against the working directory or its datasets folder, never the yaml's
    folder; without one it uses the folder the yaml is in, from any working directory.
    ``lists``: train.txt and val.txt beside it name the run's two parts."""
    doc = {
        "train": "train.txt" if lists else "images",
        "val": "val.txt" if lists else "images",
        "nc": len(classes),
        "names": {i: c for i, c in enumerate(classes)},
    }
    if keypoints is not None:  # the pose layout: each class with a schema owns its slots, in class order
        flip_idx: list[int] = []
        for c in classes:
            if c in keypoints:
                offset = len(flip_idx)
                flip_idx += [offset + j for j in keypoints[c]["flip"]]
        doc["kpt_shape"] = [len(flip_idx), 3]
        doc["flip_idx"] = flip_idx
    return yaml.safe_dump(doc, sort_keys=False)
