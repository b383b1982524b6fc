"""Labels from the id map only: visible mask, tight box, area, visibility, RLE.

Nothing here moves a box through a transform: every box is the tight box of the pixels that
carry the instance's id in the final map. The only look at colours is ``contrast``: how much of
a label the image actually shows apart from what lay behind it.
"""

from __future__ import annotations

import cv2
import numpy as np

from synthgen.config import LabelsConfig
from synthgen.frame import Frame
from synthgen.geometry import tight_box
from synthgen.io.rle import encode_rle, encode_rle_roi
from synthgen.types import Instance, Scene

CONTRAST_LEVELS = 8  # a pixel differs visibly from the plate when a channel differs by this many levels


def contrast(
    image: np.ndarray, plate: np.ndarray, roi: tuple[int, int, int, int], mask: np.ndarray, n: int | None = None
) -> float:
    """The share of ``mask`` (bool, over ``roi`` = y0, y1, x0, x1) whose colour differs from the
    background plate by at least CONTRAST_LEVELS in some channel: 1 for an object that stands
    out everywhere, near 0 for one washed out into what lay behind it. ``n``: the mask's pixel
    count, when the caller has it."""
    n = int(np.count_nonzero(mask)) if n is None else n
    if n == 0:
        return 0.0
    y0, y1, x0, x1 = roi
    diff = cv2.absdiff(image[y0:y1, x0:x1], plate[y0:y1, x0:x1])
    differs = cv2.threshold(diff, CONTRAST_LEVELS - 1, 255, cv2.THRESH_BINARY)[1]  # 0 or 255 per channel
    # grey of 0/255 channels is 0 only where all three are (every channel weighs at least 29 / 255)
    visible = cv2.cvtColor(differs, cv2.COLOR_RGB2GRAY)
    return cv2.countNonZero(cv2.bitwise_and(visible, visible, mask=mask.view(np.uint8))) / n


def _why_unseen(layer) -> str:
    """Why an object has no visible pixel: covered by others ("hidden"), or nothing of it to
    cover: outside the frame, or no pixel whose alpha (after a soft edge or a per-object blur)
    reaches the threshold."""
    if layer.inframe_area:
        return "hidden"
    if not layer.amodal_known:
        return "nothing of it left in the frame after the albumentations pipeline"
    if layer.amodal_area:
        return "outside the frame"
    return "no pixel reaches render.alpha_threshold (a per-object blur or soft edge spread it thinner)"


def derive_instances(
    scene: Scene, frame: Frame, cfg: LabelsConfig, plate: np.ndarray | None = None
) -> tuple[tuple[Instance, ...], np.ndarray, dict[int, str]]:
    """Return (instances, id map with unlabeled ids cleared, {dropped id: reason}).

    ``plate``: the background without any object, through the same effects as the frame's
    image; with it, pasted instances get a ``contrast`` (objects of a real scene do not: what lay
    behind them is unknown) and ``cfg.min_contrast`` applies."""
    id_map = frame.id_map
    shape = id_map.shape
    instances: list[Instance] = []
    dropped: dict[int, str] = {}
    layers = {layer.instance_id: layer for layer in frame.layers}
    labeled = [(r.instance_id, r.category_id, r.label, "real", r.annotation_id) for r in scene.real if r.kind == "object"]
    labeled += [(p.instance_id, p.category_id, p.label, "pasted", None) for p in scene.placements if not p.distractor]
    # pasted objects are painted in the order of scene.placements (a clip may reorder them by depth)
    order = {p.instance_id: len(scene.real) + k + 1 for k, p in enumerate(scene.placements)}
    for instance_id, category_id, label, source, real_id in labeled:
        layer = layers[instance_id]
        y0, y1, x0, x1 = layer.roi
        local = id_map[y0:y1, x0:x1] == instance_id  # an instance only ever paints inside its roi
        area = int(np.count_nonzero(local))
        # unknown whole silhouette: the share of the in-frame one that shows (an upper bound)
        whole = layer.amodal_area if layer.amodal_known else layer.inframe_area
        visible = min(1.0, area / whole) if whole else 0.0
        if area == 0:
            dropped[instance_id] = _why_unseen(layer)
            continue
        if visible < cfg.min_visibility or area < cfg.min_pixels:
            dropped[instance_id] = f"visible {visible:.3f} ({area} px) below labels.min_visibility/min_pixels"
            continue
        shown = None if plate is None or source == "real" else round(contrast(frame.image, plate, layer.roi, local, area), 6)
        if shown is not None and shown < cfg.min_contrast:
            dropped[instance_id] = f"contrast {shown:.3f} below labels.min_contrast"
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
                visible_fraction=round(visible, 6) if layer.amodal_known else None,
                truncated=layer.truncated,
                amodal_bbox=layer.amodal_bbox,
                paste_order=order.get(instance_id, instance_id),
                # the amodal mask as far as the image goes: the whole silhouette cut to the frame
                amodal_rle=encode_rle_roi(shape, layer.roi, layer.inframe_mask) if cfg.amodal_masks else None,
                source=source,
                real_annotation_id=real_id,
                contrast=shown,
            )
        )
    if dropped:
        out = id_map.copy()
        out[np.isin(out, np.fromiter(dropped, dtype=np.uint16))] = 0
        out.flags.writeable = False
        id_map = out
    return tuple(instances), id_map, dropped


def derive_crowd(scene: Scene, id_map: np.ndarray) -> tuple[Instance, ...]:
    """The crowd and ignore regions of a real scene (RealLabel kind "crowd" or "box"): each is
    exactly the pixels of the final id map that carry its id, so every object pasted or
    labeled over it has left it. A region with no pixel left is not written."""
    out = []
    for r in scene.real:
        if r.kind == "object":
            continue
        mask = id_map == r.instance_id
        area = int(np.count_nonzero(mask))
        if area == 0:
            continue
        out.append(
            Instance(
                instance_id=r.instance_id,
                category_id=int(r.category_id),
                label=r.label,
                bbox=tight_box(mask),
                area=area,
                rle=encode_rle(mask),
                visible_fraction=None,
                truncated=None,
                amodal_bbox=None,
                paste_order=r.instance_id,
                source="real",
                real_annotation_id=r.annotation_id,
                crowd=r.kind,
            )
        )
    return tuple(out)


def unlabeled_map(frame: Frame, id_map: np.ndarray) -> np.ndarray:
    """Where the final id map is 0 but an object was drawn: that object's id (the top-most one,
    by paint order), else 0. Those objects are distractors and objects without a label."""
    top = np.zeros(id_map.shape, np.uint16)
    for layer in frame.layers:
        y0, y1, x0, x1 = layer.roi
        if y1 > y0 and x1 > x0:
            top[y0:y1, x0:x1][layer.inframe_mask] = layer.instance_id
    top[id_map != 0] = 0
    top.flags.writeable = False
    return top
