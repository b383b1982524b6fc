"""The frame: what rendering makes, every effect takes and returns, and labels read.

A frame is the picture, the instance-id map and one layer per drawn object. Photometric effects
return a new image with the same id map and layers; geometric ones move all three together.
Labels are derived from the last frame's id map, with the layers for visibility and amodal data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from synthgen.geometry import tight_box
from synthgen.types import BBox


def _union(a: BBox | None, b: BBox | None) -> BBox | None:
    if a is None or b is None:
        return a if b is None else b
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return x0, y0, x1 - x0, y1 - y0


@dataclass(frozen=True, eq=False)
class Layer:
    """One object's silhouette as rendering drew it, occlusion ignored: where its alpha, as mixed
    into the image (blurred by a soft edge or a per-object blur), reaches the threshold.

    Two masks, both bool and both stored over a region only (never the whole frame):

    - ``inframe_mask``: the silhouette's pixels inside the frame, over ``roi``. Visible pixels
      (the id map's) are a subset of it; a pixel of it may be hidden by an object above.
    - ``whole_mask``: the whole (amodal) silhouette, in frame or not, its ``[0, 0]`` at canvas
      position ``whole_origin``; None where it cannot be known (after an albumentations
      pipeline that moved pixels).

    The amodal silhouette is ``inframe_mask`` plus the pixels of ``whole_mask`` that lie outside
    the frame: inside the frame only one rasterization counts (a warp that rasterizes the two
    masks apart may differ by a pixel), so an object wholly in frame is never truncated and,
    unoccluded, is wholly visible. ``amodal_area``, ``amodal_bbox`` and ``truncated`` describe it
    (None when ``whole_mask`` is).
    """

    instance_id: int
    roi: tuple[int, int, int, int]  # y0, y1, x0, x1: where inframe_mask lies in the frame
    inframe_mask: np.ndarray = field(repr=False)  # bool (y1 - y0) x (x1 - x0)
    whole_mask: np.ndarray | None = field(repr=False)  # bool: the whole silhouette, or None: unknown
    whole_origin: tuple[int, int]  # x, y: canvas position of whole_mask[0, 0]
    frame_wh: tuple[int, int]  # the frame's size, to tell the whole mask's in-frame part

    def inframe_full(self, hw: tuple[int, int]) -> np.ndarray:
        """The in-frame silhouette as a uint8 0/1 mask of the whole frame (for tools that only
        take whole-frame masks)."""
        out = np.zeros(hw, np.uint8)
        y0, y1, x0, x1 = self.roi
        out[y0:y1, x0:x1] = self.inframe_mask
        return out

    @cached_property
    def inframe_area(self) -> int:
        return int(np.count_nonzero(self.inframe_mask))

    @cached_property
    def _outside(self) -> tuple[int, BBox | None]:
        """Pixels of the whole silhouette outside the frame: (count, canvas box)."""
        ox, oy = self.whole_origin
        W, H = self.frame_wh
        h, w = self.whole_mask.shape
        if ox >= 0 and oy >= 0 and ox + w <= W and oy + h <= H:
            return 0, None  # the whole silhouette lies in the frame (most objects)
        outside = self.whole_mask.copy()
        outside[max(-oy, 0) : max(H - oy, 0), max(-ox, 0) : max(W - ox, 0)] = False
        tb = tight_box(outside)
        return int(np.count_nonzero(outside)), None if tb is None else (tb[0] + ox, tb[1] + oy, tb[2], tb[3])

    @property
    def amodal_known(self) -> bool:
        return self.whole_mask is not None

    @property
    def amodal_area(self) -> int | None:
        """Pixels of the whole silhouette, in frame or not; None: unknown."""
        return self.inframe_area + self._outside[0] if self.amodal_known else None

    @cached_property
    def amodal_bbox(self) -> BBox | None:
        """Tight box of the whole silhouette, canvas coordinates (may leave the canvas); None:
        unknown. It contains every box of the object's visible pixels."""
        if not self.amodal_known:
            return None
        tb = tight_box(self.inframe_mask)
        inside = None if tb is None else (tb[0] + self.roi[2], tb[1] + self.roi[0], tb[2], tb[3])
        return _union(inside, self._outside[1]) or (0, 0, 0, 0)

    @property
    def truncated(self) -> bool | None:
        """Part of the silhouette lies outside the frame; None: unknown."""
        return self._outside[0] > 0 if self.amodal_known else None


@dataclass(frozen=True, eq=False)
class Frame:
    """Image, id map and layers, read-only, always of one size."""

    image: np.ndarray  # H x W x 3 uint8 RGB
    id_map: np.ndarray  # H x W uint16: top-most object whose alpha, as mixed in, >= threshold; 0 = none
    layers: tuple[Layer, ...]  # one per drawn object, bottom to top

    def __post_init__(self) -> None:
        for a in (self.image, self.id_map):
            if a.flags.writeable:
                a.flags.writeable = False
        if self.image.shape[:2] != self.id_map.shape:
            raise ValueError(f"image {self.image.shape[:2]} and id map {self.id_map.shape} differ in size")

    @property
    def size_wh(self) -> tuple[int, int]:
        H, W = self.id_map.shape
        return W, H

    def with_image(self, image: np.ndarray) -> Frame:
        """The same objects under a new picture (a photometric effect's result)."""
        return dataclasses.replace(self, image=image)
