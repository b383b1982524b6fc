"""A frame's background classes: the background's label image (synthgen/stuff.py) through the
very crop, resize, flip and geometric effects the background went through, resampled nearest
exactly as the id map is (``effects.functional.warp_labels``). Objects are laid over it by the
writers (synthgen/writers/semantic.py): the map here is what lies under everything."""

from __future__ import annotations

import numpy as np

from synthgen.assets import AssetLibrary
from synthgen.effects import functional as F
from synthgen.effects.pipeline import AppliedEffect, geometric_matrices
from synthgen.stuff import crop_resize_flip
from synthgen.types import Scene


def frame_stuff(scene: Scene, library: AssetLibrary, image_effects: tuple[AppliedEffect, ...]) -> np.ndarray | None:
    """H x W uint8 semantic indices of the background classes in the final frame (0: none, 255:
    not scored), or None when the scene's background has no label image."""
    bg = scene.background
    if bg.real_scene or bg.index not in library.labels:
        return None
    out = crop_resize_flip(library.label_image(bg.index), bg.crop_xywh, bg.flip, scene.canvas_wh)
    for m in geometric_matrices(image_effects, scene.canvas_wh):
        out = F.warp_labels(out, m, scene.canvas_wh)
    return out
