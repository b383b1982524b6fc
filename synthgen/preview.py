"""Contact sheets: samples drawn with their masks, boxes and class names, for people to look at."""

from __future__ import annotations

import colorsys
from collections.abc import Sequence

import cv2
import numpy as np

from synthgen.types import Sample


def class_colour(category_id: int) -> tuple[int, int, int]:
    h = (category_id * 0.61803398875) % 1.0
    r, g, b = colorsys.hsv_to_rgb(h, 0.85, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


def draw_sample(sample: Sample, mask_alpha: float = 0.45) -> np.ndarray:
    """RGB image with each labeled instance's visible mask tinted, outlined, boxed and named."""
    img = sample.image.astype(np.float32)
    for inst in sample.instances:
        m = sample.id_map == inst.instance_id
        img[m] = img[m] * (1 - mask_alpha) + np.array(class_colour(inst.category_id), np.float32) * mask_alpha
    out = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    for inst in sample.instances:
        colour = class_colour(inst.category_id)
        m = (sample.id_map == inst.instance_id).astype(np.uint8)
        contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, colour, 1)
        x, y, w, h = inst.bbox
        real = inst.source == "real"
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), (255, 255, 255) if real else colour, 2 if real else 1)
        text = f"real {inst.label}" if real else inst.label
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
        ty = y - 3 if y - th - 4 >= 0 else y + th + 3
        cv2.rectangle(out, (x, ty - th - 2), (x + tw + 2, ty + base - 1), colour, -1)
        cv2.putText(out, text, (x + 1, ty - 1), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def contact_sheet(samples: Sequence[Sample], cols: int = 4, tile_width: int = 400) -> np.ndarray:
    """A grid of drawn samples, each with a caption line (index, instance count)."""
    tiles = []
    for s in samples:
        drawn = draw_sample(s)
        h, w = drawn.shape[:2]
        tile = cv2.resize(drawn, (tile_width, round(h * tile_width / w)), interpolation=cv2.INTER_AREA)
        caption = np.full((22, tile_width, 3), 30, np.uint8)
        real = sum(1 for i in s.instances if i.source == "real")
        unlabeled = len(s.scene.placements) + len(s.scene.real) - len(s.instances)
        text = f"#{s.index}  {len(s.instances)} objects" + (f" ({real} real)" if real else "") + f", {unlabeled} unlabeled"
        cv2.putText(caption, text, (6, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (235, 235, 235), 1, cv2.LINE_AA)
        tiles.append(np.vstack([caption, tile]))
    th = max(t.shape[0] for t in tiles)
    tiles = [np.pad(t, ((0, th - t.shape[0]), (0, 0), (0, 0))) for t in tiles]
    rows = []
    for r in range(0, len(tiles), cols):
        row = tiles[r : r + cols]
        row += [np.zeros_like(tiles[0])] * (cols - len(row))
        rows.append(np.hstack([np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=15) for t in row]))
    return np.vstack(rows)
