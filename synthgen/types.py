"""The plain data that flows between stages: frozen, serializable, no behaviour beyond views.

Scene (sampled parameters) -> Frame (pixels, id map, layers; see frame.py) -> Sample (image +
instances + metadata).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

BBox = tuple[int, int, int, int]  # COCO [x, y, w, h] in whole pixels
MAX_INSTANCES = 1000  # instance ids are 1..999 per image; annotation id = (index + 1) * 1000 + id


@dataclass(frozen=True)
class Placement:
    """Everything that decides where and how one cutout is pasted."""

    instance_id: int  # 1..N, also the paste order (z): higher is on top; 0 is background
    label: str  # class name, or distractor kind
    category_id: int | None  # 1-based COCO category id; None for distractors (never labeled)
    asset: str  # cutout name, e.g. "car/car_01.png"
    scale: float  # object's longer side / canvas' shorter side
    rotation: float  # degrees, counter-clockwise
    flip: bool  # mirrored left-right before rotation
    perspective: tuple[float, ...]  # 8 corner offsets (x, y per corner) as fractions of size
    center: tuple[float, float]  # canvas pixels
    blend: str  # none | gaussian | poisson | motion
    blend_params: tuple[tuple[str, float], ...] = ()
    jitter: tuple[tuple[str, float], ...] = ()  # brightness, hue, saturation; empty: none
    shadow: tuple[tuple[str, float], ...] = ()  # opacity, length, softness; empty: none

    @property
    def distractor(self) -> bool:
        return self.category_id is None

    def param(self, name: str, default: float = 0.0) -> float:
        return dict(self.blend_params).get(name, default)


@dataclass(frozen=True)
class BackgroundPlacement:
    name: str
    index: int  # position in the library's sorted background list (or its real scenes)
    crop_xywh: tuple[int, int, int, int]  # in the source image
    flip: bool
    real_scene: bool = False  # a real labeled image whose objects keep their labels


@dataclass(frozen=True)
class RealLabel:
    """An object of a real scene: painted first (under every pasted object), labeled like one."""

    instance_id: int
    category_id: int
    label: str
    annotation_id: int | str  # in the real dataset
    kind: str = "object"  # or "crowd" / "box": a crowd region / box-only object, written as an iscrowd region


@dataclass(frozen=True)
class Scene:
    """A frozen record of every random choice made for one image."""

    index: int
    seed: int
    canvas_wh: tuple[int, int]
    background: BackgroundPlacement
    placements: tuple[Placement, ...]
    unplaced: int = 0  # objects left out after ``scene.max_tries`` failed placements
    light_angle: float = 90.0  # degrees: the direction light travels (shadows fall this way)
    horizon: float | None = None  # ground_plane: horizon row in pixels
    real: tuple[RealLabel, ...] = ()  # objects of a real scene, ids 1..R below the placements

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "seed": self.seed,
            "canvas_wh": list(self.canvas_wh),
            "background": {**vars(self.background), "crop_xywh": list(self.background.crop_xywh)},
            "placements": [
                {
                    **p.__dict__,  # every field, in field order (a dataclass sets them in that order)
                    "perspective": list(p.perspective),
                    "center": list(p.center),
                    "blend_params": dict(p.blend_params),
                    "jitter": dict(p.jitter),
                    "shadow": dict(p.shadow),
                }
                for p in self.placements
            ],
            "unplaced": self.unplaced,
            "light_angle": self.light_angle,
            "horizon": self.horizon,
            "real": [vars(r) for r in self.real],
        }


@dataclass(frozen=True, eq=False)
class Instance:
    """One labeled object, derived from the final id map only."""

    instance_id: int
    category_id: int
    label: str
    bbox: BBox  # tight box of the visible mask, COCO [x, y, w, h]
    area: int  # visible pixel count
    rle: dict[str, Any]  # COCO RLE of the visible mask, counts as str
    visible_fraction: float | None  # area / whole-silhouette area; None: unknown
    truncated: bool | None  # part of the silhouette lies outside the image; None: unknown
    amodal_bbox: BBox | None  # None: unknown (after an albumentations pipeline that moved pixels)
    paste_order: int  # 1.. bottom to top; real objects come first
    amodal_rle: dict[str, Any] | None = None
    source: str = "pasted"  # or "real"
    real_annotation_id: int | str | None = None
    crowd: str | None = None  # an iscrowd region: "crowd" or "box" (what the real annotation was)
    contrast: float | None = None  # share of the visible mask that differs visibly from the background plate
    # x, y, v per point of its class' schema (COCO pixel coordinates, v as COCO's); None: no keypoints
    keypoints: tuple[float, ...] | None = None
    keypoint_slot: int = 0  # where its points start in the YOLO pose row (see keypoints.PoseLayout)


@dataclass(frozen=True, eq=False)
class Sample:
    """One finished image with its labels and the parameters that made it."""

    index: int
    name: str  # file stem, e.g. "00000042"
    image: np.ndarray  # H x W x 3 uint8 RGB, read-only
    id_map: np.ndarray  # H x W uint16, read-only; only labeled instances keep their id
    instances: tuple[Instance, ...]
    scene: Scene
    metadata: dict[str, Any]
    # extra fields of the image's COCO entry, e.g. a stress suite's scene_id, condition, severity
    image_fields: dict[str, Any] = field(default_factory=dict)
    # iscrowd regions of a real scene (COCO only), their pixels in id_map like the instances'
    crowd: tuple[Instance, ...] = ()
    # H x W uint16 where the id map is 0: the id of the top-most object drawn there that has no
    # label (a distractor, or an object dropped as too hidden or faint), else 0; None: not made
    # (only the semantic output asks for it, to mark such pixels as not scored)
    unlabeled: np.ndarray | None = None
    keypoint_slots: int = 0  # points per YOLO pose row (kpt_shape[0]); 0: keypoints off
    # H x W uint8 semantic indices of the background's classes under everything (synthgen/stuff.py;
    # 0 none, 255 not scored); None: the background has no label image or no output asks for it
    stuff: np.ndarray | None = None

    def mask(self, instance: Instance) -> np.ndarray:
        """The visible mask (bool H x W) of one instance."""
        return self.id_map == instance.instance_id

    @property
    def boxes(self) -> np.ndarray:
        return np.array([i.bbox for i in self.instances], dtype=np.int64).reshape(-1, 4)

    @property
    def classes(self) -> list[str]:
        return [i.label for i in self.instances]
