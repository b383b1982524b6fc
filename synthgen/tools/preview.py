"""Drawing labels for people to look at: instances on an image (masks, boxes, class names),
used by contact sheets of samples (``synthgen preview``) and by the report's gallery."""

from __future__ import annotations

import colorsys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from synthgen.tools import draw_points
from synthgen.types import Sample


def class_colour(category_id: int) -> tuple[int, int, int]:
    h = (category_id * 0.61803398875) % 1.0
    r, g, b = colorsys.hsv_to_rgb(h, 0.85, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


@dataclass(frozen=True)
class Drawn:
    """One instance to draw: its mask (bool, image size) and box in image pixels."""

    category_id: int
    text: str
    mask: np.ndarray | None = None
    bbox: tuple[float, float, float, float] | None = None  # x, y, w, h
    emphasis: bool = False  # a real (not pasted) object: white, thicker box
    keypoints: Sequence[float] | None = None  # COCO flat x, y, v (tools/draw_points)
    skeleton: Sequence[Sequence[int]] = ()  # 0-based index pairs into the points


def draw_instances(rgb: np.ndarray, instances: Sequence[Drawn], width: int | None = None, mask_alpha: float = 0.45,
                   font_scale: float = 0.4, lines: Sequence[dict] | None = None) -> np.ndarray:
    """The image (scaled to ``width`` pixels if given) with each instance's mask tinted and
    outlined, its box and its name drawn, its keypoints and skeleton, and the image's
    ``lines`` (the COCO image entry's): the one drawing of labels, for contact sheets and the
    report's gallery."""
    H, W = rgb.shape[:2]
    s = 1.0 if width is None else width / W
    ow, oh = (W, H) if width is None else (width, max(1, round(H * s)))
    img = rgb.astype(np.float32) if width is None else cv2.resize(rgb, (ow, oh), interpolation=cv2.INTER_AREA).astype(np.float32)
    masks = []
    for d in instances:
        colour = class_colour(d.category_id)
        m = d.mask
        if m is not None and width is not None:
            m = cv2.resize(m.astype(np.uint8), (ow, oh), interpolation=cv2.INTER_NEAREST).astype(bool)
        if m is not None:
            img[m] = img[m] * (1 - mask_alpha) + np.array(colour, np.float32) * mask_alpha
        masks.append(m)
    out = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    draw_points.draw_lines(out, lines, s)
    for d, m in zip(instances, masks):
        colour = class_colour(d.category_id)
        if m is not None:
            contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(out, contours, -1, colour, 1)
        if d.bbox is None:
            continue
        x, y, w, h = (float(v) for v in d.bbox)
        x0, y0 = round(x * s), round(y * s)
        x1, y1 = max(x0, round((x + w) * s) - 1), max(y0, round((y + h) * s) - 1)
        cv2.rectangle(out, (x0, y0), (x1, y1), (255, 255, 255) if d.emphasis else colour, 2 if d.emphasis else 1)
        (tw, th), base = cv2.getTextSize(d.text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
        if y0 - th - 4 >= 0:
            ty = y0 - 3  # above the box
        elif y1 + th + base + 3 < oh:
            ty = y1 + th + 4  # no room above (an object cut by the top edge): below the box, not over it
        else:
            ty = min(y0 + th + 3, oh - 2)  # inside the box, at its top
        tx = max(0, min(x0, ow - tw - 2))
        cv2.rectangle(out, (tx, ty - th - 2), (tx + tw + 2, ty + base - 1), colour, -1)
        cv2.putText(out, d.text, (tx + 1, ty - 1), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), 1, cv2.LINE_AA)
    for d in instances:
        if d.keypoints:
            draw_points.draw_keypoints(out, d.keypoints, d.skeleton, class_colour(d.category_id), s)
    return out


def draw_sample(sample: Sample, mask_alpha: float = 0.45, skeletons: dict[str, Sequence[Sequence[int]]] | None = None) -> np.ndarray:
    """RGB image with each labeled instance's visible mask tinted, outlined, boxed and named,
    its keypoints joined by its class' skeleton (``skeletons``: class -> index pairs), and
    the image's line labels."""
    drawn = [
        Drawn(inst.category_id, f"real {inst.label}" if inst.source == "real" else inst.label,
              sample.id_map == inst.instance_id, inst.bbox, emphasis=inst.source == "real",
              keypoints=inst.keypoints, skeleton=(skeletons or {}).get(inst.label, ()))
        for inst in sample.instances
    ]
    return draw_instances(sample.image, drawn, mask_alpha=mask_alpha, lines=sample.image_fields.get("lines"))


def conditions_text(conditions: Sequence[dict] | None) -> str:
    """The conditions applied to an image, short: ``fog s3, motion_blur s2 (object) x2``."""
    parts: dict[str, int] = {}
    for c in conditions or ():
        if isinstance(c, dict) and "name" in c:
            sev = c.get("severity")
            key = str(c["name"]) + (f" s{sev}" if isinstance(sev, int) else "") + (" (object)" if c.get("instance_id") is not None else "")
            parts[key] = parts.get(key, 0) + 1
    return ", ".join(k + (f" x{n}" if n > 1 else "") for k, n in parts.items()) or "no conditions"


def _fit(text: str, width: int, scale: float) -> str:
    """``text`` cut with '...' to fit ``width`` pixels."""
    while text and cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] > width:
        text = text[:-4] + "..." if len(text) > 4 else ""
    return text


def contact_sheet(samples: Sequence[Sample], cols: int = 4, tile_width: int = 400,
                  draw: Callable[[Sample], np.ndarray] = draw_sample) -> np.ndarray:
    """A grid of drawn samples, each with two caption lines: index and instance counts, and
    the conditions applied (effects with their severity, per-object ones marked). ``draw``:
    how a sample is drawn (instances; tools/semantic_view.draw_semantic_sample: class maps)."""
    tiles = []
    for s in samples:
        drawn = draw(s)
        h, w = drawn.shape[:2]
        tile = cv2.resize(drawn, (tile_width, round(h * tile_width / w)), interpolation=cv2.INTER_AREA)
        caption = np.full((38, tile_width, 3), 30, np.uint8)
        real = sum(1 for i in s.instances if i.source == "real")
        unlabeled = len(s.scene.placements) + len(s.scene.real) - len(s.instances)
        text = f"#{s.index}  {len(s.instances)} objects" + (f" ({real} real)" if real else "") + f", {unlabeled} unlabeled"
        cv2.putText(caption, text, (6, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (235, 235, 235), 1, cv2.LINE_AA)
        conds = _fit(conditions_text(s.metadata.get("conditions")), tile_width - 12, 0.42)
        cv2.putText(caption, conds, (6, 32), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (150, 200, 255), 1, cv2.LINE_AA)
        tiles.append(np.vstack([caption, tile]))
    th = max(t.shape[0] for t in tiles)
    # shorter tiles and empty cells take the gutter's colour, never black; no wider than the samples
    tiles = [np.pad(t, ((0, th - t.shape[0]), (0, 0), (0, 0)), constant_values=15) for t in tiles]
    cols = min(cols, len(tiles))
    rows = []
    for r in range(0, len(tiles), cols):
        row = tiles[r : r + cols]
        row += [np.full_like(tiles[0], 15)] * (cols - len(row))
        rows.append(np.hstack([np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=15) for t in row]))
    return np.vstack(rows)
