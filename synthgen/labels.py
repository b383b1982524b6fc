"""Labels from the id map only: visible mask, tight box, area, visibility, RLE.

Nothing here looks at the RGB image or moves a box through a transform: every box is the tight
box of the pixels that carry the instance's id in the final map.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from synthgen.config import LabelsConfig
from synthgen.frame import Frame
from synthgen.geometry import tight_box
from synthgen.types import Instance, Scene


def encode_rle(mask: np.ndarray) -> dict[str, Any]:
    """COCO RLE of a 2-D bool/uint8 mask, ``counts`` as str (JSON-ready)."""
    rle = mask_utils.encode(np.asfortranarray(mask, dtype=np.uint8))
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": rle["counts"].decode("ascii")}


def encode_rle_roi(shape: tuple[int, int], roi: tuple[int, int, int, int], local: np.ndarray) -> dict[str, Any]:
    """COCO RLE of a full-size mask that is zero outside ``roi`` (y0, y1, x0, x1).

    Same result as :func:`encode_rle` on the full mask, without building it: runs are counted
    on the roi's column strip and compressed by pycocotools.
    """
    H, W = shape
    y0, y1, x0, x1 = roi
    if local.size == 0 or not local.any():
        return encode_rle(np.zeros(shape, bool))
    strip = np.zeros((H, x1 - x0), dtype=bool)
    strip[y0:y1] = local
    flat = strip.ravel(order="F")
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    edges = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(edges)
    if flat[0]:  # counts start with a run of zeros
        runs = np.concatenate(([0], runs))
    runs[0] += x0 * H
    if flat[-1]:
        if x1 < W:
            runs = np.concatenate((runs, [(W - x1) * H]))
    else:
        runs[-1] += (W - x1) * H
    rle = mask_utils.frPyObjects({"size": [H, W], "counts": runs.tolist()}, H, W)
    return {"size": [H, W], "counts": rle["counts"].decode("ascii")}


def derive_instances(
    scene: Scene, frame: Frame, cfg: LabelsConfig
) -> tuple[tuple[Instance, ...], np.ndarray, dict[int, str]]:
    """Return (instances, id map with unlabeled ids cleared, {dropped id: reason})."""
    id_map = frame.id_map
    shape = id_map.shape
    instances: list[Instance] = []
    dropped: dict[int, str] = {}
    layers = {layer.instance_id: layer for layer in frame.layers}
    labeled = [(r.instance_id, r.category_id, r.label, "real", r.annotation_id) for r in scene.real]
    labeled += [(p.instance_id, p.category_id, p.label, "pasted", None) for p in scene.placements if not p.distractor]
    for instance_id, category_id, label, source, real_id in labeled:
        layer = layers[instance_id]
        y0, y1, x0, x1 = layer.roi
        local = id_map[y0:y1, x0:x1] == instance_id  # an instance only ever paints inside its roi
        area = int(np.count_nonzero(local))
        visible = min(1.0, area / layer.amodal_area) if layer.amodal_area else 0.0
        if area == 0:
            dropped[instance_id] = "hidden"
            continue
        if visible < cfg.min_visibility or area < cfg.min_pixels:
            dropped[instance_id] = f"visible {visible:.3f} ({area} px) below labels.min_visibility/min_pixels"
            continue
        bx, by, bw, bh = tight_box(local)
        instances.append(
            Instance(
                instance_id=instance_id,
                category_id=int(category_id),
                label=label,
                bbox=(bx + x0, by + y0, bw, bh),
                area=area,
                rle=encode_rle_roi(shape, layer.roi, local),
                visible_fraction=round(visible, 6),
                truncated=layer.truncated,
                amodal_bbox=layer.amodal_bbox,
                paste_order=instance_id,
                # the amodal mask as far as the image goes: the whole silhouette cut to the frame
                amodal_rle=encode_rle_roi(shape, layer.roi, layer.inframe_mask) if cfg.amodal_masks else None,
                source=source,
                real_annotation_id=real_id,
            )
        )
    if dropped:
        out = id_map.copy()
        out[np.isin(out, np.fromiter(dropped, dtype=np.uint16))] = 0
        out.flags.writeable = False
        id_map = out
    return tuple(instances), id_map, dropped
