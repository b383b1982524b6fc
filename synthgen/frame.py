"""The frame: what rendering makes, every effect takes and returns, and labels read.

A frame is the picture, the instance-id map and one layer per drawn object. Photometric effects
return a new image with the same id map and layers; geometric ones move all three together.
Labels are derived from the last frame's id map, with the layers for visibility and amodal data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from synthgen.types import BBox


@dataclass(frozen=True, eq=False)
class Layer:
    """One object's silhouette as rendering drew it, occlusion ignored: where its alpha, as mixed
    into the image (blurred by a soft edge or a per-object blur), reaches the threshold.

    Two masks, both bool and both stored over a region only (never the whole frame):

    - ``inframe_mask``: the silhouette's pixels inside the frame, over ``roi``. Visible pixels
      (the id map's) are a subset of it; a pixel of it may be hidden by an object above.
    - ``whole_mask``: the whole (amodal) silhouette, in frame or not, its ``[0, 0]`` at canvas
      position ``whole_origin``. ``amodal_area`` and ``amodal_bbox`` describe it.
    """

    instance_id: int
    roi: tuple[int, int, int, int]  # y0, y1, x0, x1: where inframe_mask lies in the frame
    inframe_mask: np.ndarray = field(repr=False)  # bool (y1 - y0) x (x1 - x0)
    amodal_area: int  # pixels of the whole silhouette, in frame or not
    amodal_bbox: BBox  # tight box of the whole silhouette, canvas coordinates; may leave the canvas
    whole_mask: np.ndarray = field(repr=False)  # bool: the whole silhouette
    whole_origin: tuple[int, int]  # x, y: canvas position of whole_mask[0, 0]

    def inframe_full(self, hw: tuple[int, int]) -> np.ndarray:
        """The in-frame silhouette as a uint8 0/1 mask of the whole frame (for tools that only
        take whole-frame masks)."""
        out = np.zeros(hw, np.uint8)
        y0, y1, x0, x1 = self.roi
        out[y0:y1, x0:x1] = self.inframe_mask
        return out

    @property
    def truncated(self) -> bool:
        """Part of the silhouette lies outside the frame."""
        return int(np.count_nonzero(self.inframe_mask)) < self.amodal_area


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
