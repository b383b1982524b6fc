"""The configuration schema: pydantic models, loading, ``--set`` overrides and error messages.

Everything a run depends on lives here, validated once at the edge; inner code trusts it.
Ranges are ``[min, max]`` pairs and must not be reversed. Unknown keys are errors.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import to_jsonable_python

from synthgen import bundled
from synthgen.effects.specs import SPECS
from synthgen.errors import ConfigError
from synthgen.io.text import read_utf8

DEFAULT_CONFIG = bundled.DEFAULT_CONFIG

BLEND_MODES = ("none", "gaussian", "poisson", "motion")


def _ordered(pair: tuple[Any, Any]) -> tuple[Any, Any]:
    if pair[0] > pair[1]:
        raise ValueError(f"[{pair[0]}, {pair[1]}] is empty: the first value must be <= the second")
    return pair


IntRange = Annotated[tuple[int, int], AfterValidator(_ordered)]
FloatRange = Annotated[tuple[float, float], AfterValidator(_ordered)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


def _nonempty_path(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise ValueError("is empty: give a folder or file path, or leave the key out")
    return value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


FilePath = Annotated[Path, BeforeValidator(_nonempty_path)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CanvasConfig(_Model):
    width: int = Field(640, ge=16, le=16384, description="output image width in pixels")
    height: int = Field(480, ge=16, le=16384, description="output image height in pixels")


class ScenesConfig(_Model):
    """Real labeled images used as backgrounds whose own objects keep their labels."""

    coco: FilePath | None = Field(None, description="COCO annotations.json of the real images")
    images: FilePath | None = Field(None, description="folder the COCO file_names are relative to")
    yolo: FilePath | None = Field(None, description="or: a YOLO segmentation dataset folder (data.yaml, images/, labels/)")
    p: Fraction = Field(1.0, description="probability that an image uses a real scene instead of a background")

    @model_validator(mode="after")
    def _one_source(self) -> ScenesConfig:
        if (self.coco is None) == (self.yolo is None):
            raise ValueError("give either coco (with images) or yolo")
        if self.coco is not None and self.images is None:
            raise ValueError("coco needs images: the folder its file_names are relative to")
        return self


class AssetsConfig(_Model):
    objects: FilePath = Field(description="folder with one sub-folder of cutouts per class")
    backgrounds: FilePath = Field(description="folder of background images")
    distractors: FilePath | None = Field(
        None, description="folder of cutouts pasted but never labeled (sub-folders allowed)"
    )
    classes: list[str] | None = Field(
        None, description="classes to use, in category-id order; default: every sub-folder"
    )
    on_error: Literal["raise", "skip"] = Field(
        "raise", description="broken asset file: stop with an error, or skip it with a warning"
    )
    scenes: ScenesConfig | None = Field(None, description="real labeled scenes as backgrounds (their labels are kept)")
    max_pixels: int = Field(
        40_000_000, ge=1, description="largest image (width x height) read as an asset or real scene; larger ones are refused"
    )

    @model_serializer(mode="wrap")
    def _max_pixels_only_when_set(self, handler: Any) -> dict[str, Any]:
        # left out at its default, so configs and digests of runs that never set it stay as they were
        data = handler(self)
        if self.max_pixels == type(self).model_fields["max_pixels"].default:
            data.pop("max_pixels", None)
        return data

    @field_validator("classes")
    @classmethod
    def _classes_nonempty_unique(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            if not v:
                raise ValueError("is empty: list at least one class, or leave it out to use all")
            dup = sorted({c for c in v if v.count(c) > 1})
            if dup:
                raise ValueError(f"lists {dup} more than once")
        return v


class TruncationConfig(_Model):
    allowed: bool = Field(True, description="objects may be cut by the image border")
    min_visible: Fraction = Field(
        0.4, description="a truncated object keeps at least this fraction of itself in frame"
    )


class OcclusionConfig(_Model):
    max_hidden: Fraction = Field(
        0.6, description="no labeled object is hidden more than this fraction by those above it"
    )


class DistractorConfig(_Model):
    count: IntRange = Field((0, 0), description="distractors per image [min, max]")

    @field_validator("count")
    @classmethod
    def _nonneg(cls, v: tuple[int, int]) -> tuple[int, int]:
        if v[0] < 0:
            raise ValueError("must be >= 0")
        return v


class BackgroundConfig(_Model):
    crop_scale: FloatRange = Field(
        (0.6, 1.0),
        description="side of the random background crop as a fraction of the largest crop "
        "with the canvas aspect ratio",
    )
    flip_probability: Fraction = 0.5

    @field_validator("crop_scale")
    @classmethod
    def _in_unit(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not (0 < v[0] <= 1 and 0 < v[1] <= 1):
            raise ValueError("values must be in (0, 1]")
        return v


class LanesConfig(_Model):
    """Objects of some classes stand in the lanes of a background with lane lines (<name>.lines.json)."""

    classes: list[str] = Field(
        [], description="classes whose objects stand in a lane, between two adjacent lane lines "
        "(lane_solid / lane_dashed), on backgrounds with a <name>.lines.json; empty: off"
    )
    fill: FloatRange = Field(
        (0.5, 0.8), description="object width as a fraction of its lane's width at its feet: the lane lines "
        "are the ground plane, so objects shrink as the lane narrows towards the horizon"
    )

    @field_validator("fill")
    @classmethod
    def _fill(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] <= 0 or v[1] > 1:
            raise ValueError("values must be in (0, 1]")
        return v


class PlacementConfig(_Model):
    mode: Literal["uniform", "ground_plane"] = Field(
        "uniform",
        description="uniform: anywhere; ground_plane: objects stand below a horizon, smaller "
        "the higher (further away) they stand",
    )
    horizon: FloatRange = Field(
        (0.3, 0.45), description="ground_plane: horizon height as a fraction of the image height from the top"
    )
    regions: bool = Field(
        True, description="where a background has <name>.region.png beside it, objects stand only on its white pixels"
    )
    lanes: LanesConfig = LanesConfig()

    @model_serializer(mode="wrap")
    def _lanes_only_when_set(self, handler: Any) -> dict[str, Any]:
        # left out while off, so configs and digests of runs that never set it stay as they were
        data = handler(self)
        if not self.lanes.classes:
            data.pop("lanes", None)
        return data

    @field_validator("horizon")
    @classmethod
    def _horizon(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] < 0 or v[1] > 0.95:
            raise ValueError("values must be in [0, 0.95]")
        return v


class BalanceConfig(_Model):
    """Sample pasted classes so that real + synthetic approaches a target class mix."""

    target: Literal["uniform"] | dict[str, float] = Field("uniform", description="uniform, or a weight per class")
    real: FilePath | None = Field(
        None, description="COCO annotations.json or YOLO folder of the real data (default: assets.scenes)"
    )
    synthetic_images: int = Field(1000, ge=1, description="how many images the synthetic run will have")


class SceneConfig(_Model):
    objects_per_image: IntRange = Field((3, 8), description="labeled objects per image [min, max]")
    class_weights: dict[str, float] | None = Field(
        None, description="relative sampling weight per class name; missing classes weigh 1"
    )
    balance: BalanceConfig | None = Field(
        None, description="derive class weights from the real data's counts (replaces class_weights)"
    )
    scale: FloatRange = Field(
        (0.08, 0.35),
        description="object's longer side as a fraction of the canvas' shorter side; "
        "sampled log-uniformly",
    )
    rotation: FloatRange = Field((-15.0, 15.0), description="in-plane rotation in degrees")
    flip_probability: Fraction = 0.5
    perspective: FloatRange = Field(
        (0.0, 0.08), description="corner jitter as a fraction of the object size (tilt)"
    )
    truncation: TruncationConfig = TruncationConfig()
    occlusion: OcclusionConfig = OcclusionConfig()
    distractors: DistractorConfig = DistractorConfig()
    background: BackgroundConfig = BackgroundConfig()
    placement: PlacementConfig = PlacementConfig()
    light_angle: FloatRange = Field(
        (20.0, 160.0), description="direction light travels, degrees (90 = straight down the frame); for shadows"
    )
    max_tries: int = Field(
        30, ge=1, le=10000, description="placement attempts per object before it is left out"
    )

    @field_validator("objects_per_image")
    @classmethod
    def _count_bounds(cls, v: tuple[int, int]) -> tuple[int, int]:
        if v[0] < 0 or v[1] > 500:
            raise ValueError("values must be between 0 and 500")
        return v

    @model_validator(mode="after")
    def _instance_ids_fit(self) -> SceneConfig:
        most = self.objects_per_image[1] + self.distractors.count[1]
        if most > 900:
            raise ValueError(
                f"objects_per_image and distractors.count allow {most} pastes per image; at most 900 "
                "(instance ids, real objects included, must stay below 1000)"
            )
        return self

    @field_validator("scale")
    @classmethod
    def _scale_bounds(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] <= 0 or v[1] > 4:
            raise ValueError("values must be in (0, 4]")
        return v

    @field_validator("perspective")
    @classmethod
    def _persp_bounds(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] < 0 or v[1] > 0.3:
            raise ValueError("values must be in [0, 0.3]")
        return v

    @field_validator("class_weights")
    @classmethod
    def _weights_nonneg(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v:
            bad = {k: w for k, w in v.items() if not w >= 0}
            if bad:
                raise ValueError(f"weights must be >= 0, got {bad}")
        return v


class BlendingConfig(_Model):
    """Probability of each blending mode per object (normalised to sum to 1)."""

    none: float = Field(0.4, ge=0)
    gaussian: float = Field(0.3, ge=0)
    poisson: float = Field(0.1, ge=0)
    motion: float = Field(0.2, ge=0)
    gaussian_sigma: FloatRange = Field((0.6, 1.6), description="feather sigma in pixels")
    motion_length: IntRange = Field((3, 7), description="motion kernel length in pixels")

    @model_validator(mode="after")
    def _some_mode(self) -> BlendingConfig:
        if sum(getattr(self, m) for m in BLEND_MODES) <= 0:
            raise ValueError(f"at least one of {list(BLEND_MODES)} needs a probability > 0")
        if self.gaussian_sigma[0] <= 0 or self.motion_length[0] < 1:
            raise ValueError("gaussian_sigma must be > 0 and motion_length >= 1")
        return self

    def probabilities(self) -> tuple[float, ...]:
        w = [getattr(self, m) for m in BLEND_MODES]
        s = sum(w)
        return tuple(x / s for x in w)


class JitterConfig(_Model):
    """Per-object photometric jitter before pasting."""

    p: Fraction = Field(0.0, description="probability per object")
    brightness: FloatRange = Field((0.8, 1.2), description="multiplier of the object's brightness (HSV value)")
    hue: FloatRange = Field((-10.0, 10.0), description="hue shift in degrees")
    saturation: FloatRange = Field((0.75, 1.25), description="multiplier of the saturation")

    @model_validator(mode="after")
    def _bounds(self) -> JitterConfig:
        if self.brightness[0] < 0 or self.saturation[0] < 0 or self.hue[0] < -180 or self.hue[1] > 180:
            raise ValueError("brightness and saturation must be >= 0 and hue within [-180, 180]")
        return self


class HarmonizeConfig(_Model):
    strength: Fraction = Field(
        0.0, description="pull each object's LAB colour statistics towards its surroundings (0 off, 1 full)"
    )


class ShadowConfig(_Model):
    p: Fraction = Field(0.0, description="probability per object of a soft drop shadow")
    opacity: FloatRange = Field((0.3, 0.55), description="darkening at the shadow's core")
    length: FloatRange = Field((0.05, 0.2), description="offset along the light direction, fraction of object height")
    softness: FloatRange = Field((0.03, 0.08), description="blur sigma as a fraction of object height")

    @model_validator(mode="after")
    def _bounds(self) -> ShadowConfig:
        if not (0 <= self.opacity[0] and self.opacity[1] <= 1 and self.length[0] >= 0 and self.softness[0] >= 0):
            raise ValueError("opacity must be within [0, 1]; length and softness >= 0")
        return self


class RenderConfig(_Model):
    alpha_threshold: float = Field(
        0.5, gt=0.0, le=1.0, description="alpha at or above which a pixel belongs to an object"
    )
    blending: BlendingConfig = BlendingConfig()
    jitter: JitterConfig = JitterConfig()
    harmonize: HarmonizeConfig = HarmonizeConfig()
    shadows: ShadowConfig = ShadowConfig()


class LabelsConfig(_Model):
    min_visibility: Fraction = Field(
        0.1, description="objects less visible than this (of their whole silhouette) get no label"
    )
    min_pixels: int = Field(1, ge=1, description="objects with fewer visible pixels get no label")
    amodal_masks: bool = Field(False, description="also write the amodal (unoccluded) mask RLE")
    contrast: bool = Field(
        True, description="measure each label's contrast: the share of its pixels that differ visibly from the background plate"
    )
    min_contrast: Fraction = Field(
        0.0, description="objects with a smaller share of visibly different pixels get no label (0: off)"
    )

    @model_validator(mode="after")
    def _contrast_measured(self) -> LabelsConfig:
        if self.min_contrast > 0 and not self.contrast:
            raise ValueError(f"min_contrast: {self.min_contrast} needs contrast: true (it is what is measured)")
        return self


class OutputConfig(_Model):
    formats: list[
        Annotated[Literal["coco", "yolo", "webdataset", "semantic", "panoptic", "voc", "hf"], BeforeValidator(_lower)]
    ] = Field(["coco"], min_length=1)
    image_format: Literal["jpg", "png"] = "jpg"
    jpeg_quality: int = Field(95, ge=1, le=100)
    yolo_task: Literal["detect", "segment", "pose"] = Field(
        "detect", description="YOLO labels as boxes (detect), polygons (segment) or boxes with keypoints (pose)"
    )
    keypoints: bool = Field(False, description="write keypoints (classes with a keypoints.yaml); on with yolo_task: pose")
    coco_masks: Literal["rle", "polygon"] = Field(
        "rle", description="COCO instance masks as RLE (exact) or polygons (pixel-edge outlines; holes and parts "
        "joined by zero-width bridges: exact in pycocotools, holes lost where a reader fills polygons solid)"
    )
    id_maps: bool = Field(False, description="also write masks/<name>.png, the uint16 id map")
    lines: bool = Field(
        False, description="write the line labels of backgrounds with a <name>.lines.json (COCO image entry, "
        "CULane lines/<name>.lines.txt, TuSimple shards/<shard>.tusimple.json)"
    )
    val_fraction: Fraction = Field(
        0.1,
        description="share of images in the validation part (train.json/val.json, train.txt/val.txt); "
        "drawn per image from (seed, index)",
    )
    semantic_ignore: list[Literal["distractors", "unlabeled", "crowd"]] = Field(
        ["distractors"],
        description="pixels the semantic maps (and VOC's) mark 255 (not scored): distractors, unlabeled (objects too "
        "hidden or faint to be labeled), crowd (a real scene's iscrowd regions); the rest are their class or 0",
    )

    @model_serializer(mode="wrap")
    def _semantic_ignore_only_when_set(self, handler: Any) -> dict[str, Any]:
        # left out at its default, so configs and digests of runs that never set it stay as they were
        data = handler(self)
        if self.semantic_ignore == ["distractors"]:
            data.pop("semantic_ignore", None)
        if not self.lines:  # likewise
            data.pop("lines", None)
        if self.coco_masks == "rle":  # likewise
            data.pop("coco_masks", None)
        return data

    @property
    def keypoints_on(self) -> bool:
        """Keypoints are written: asked for, or needed by YOLO pose."""
        return self.keypoints or self.yolo_task == "pose"


class EffectConfig(_Model):
    """One entry of ``effects``: an effect by name, how often, and how strong."""

    name: str = Field(description="effect name; `synthgen effects` lists them")
    p: Fraction = Field(1.0, description="probability per image (per object with per_object)")
    severity: int | IntRange | None = Field(
        None, description="1..5, or [lo, hi] to draw a level per image; default 3 unless params are given"
    )
    params: dict[str, float | FloatRange] | None = Field(
        None, description="explicit values or [min, max] ranges, on top of the severity's"
    )
    per_object: bool = Field(False, description="apply to single pasted objects instead of the image")
    classes: list[str] | None = Field(None, description="with per_object: only objects of these classes")

    @model_validator(mode="after")
    def _check(self) -> EffectConfig:
        spec = SPECS.get(self.name)
        if spec is None:
            hint = difflib.get_close_matches(self.name, list(SPECS), n=1)
            raise ValueError(
                f"unknown effect {self.name!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; allowed: {', '.join(sorted(SPECS))}"
            )
        sev = self.severity
        levels = [sev] if isinstance(sev, int) else list(sev or [])
        if any(not 1 <= v <= 5 for v in levels):
            raise ValueError(f"{self.name}: severity {sev} is out of range: levels are 1 to 5")
        for key, value in (self.params or {}).items():
            param = spec.params.get(key)
            if param is None:
                raise ValueError(
                    f"{self.name}: unknown parameter {key!r}; allowed: {', '.join(spec.params) or '(none)'}"
                )
            for v in (value,) if isinstance(value, (int, float)) else value:
                if not param.lo <= v <= param.hi:
                    raise ValueError(f"{self.name}.params.{key}: {v} is outside [{param.lo}, {param.hi}] ({param.doc})")
        if self.per_object and not spec.per_object:
            allowed = sorted(n for n, s in SPECS.items() if s.per_object)
            raise ValueError(f"{self.name} cannot be applied per object; per-object effects: {', '.join(allowed)}")
        if self.classes is not None and not self.per_object:
            raise ValueError(f"{self.name}: `classes` needs per_object: true")
        return self


class ClipCameraConfig(_Model):
    """Slow camera motion of a clip: a per-frame crop of its background (``synthgen clips``)."""

    p: Fraction = Field(0.0, description="share of clips whose camera moves (0: a still camera)")
    pan: Annotated[FloatRange, AfterValidator(lambda v: _within(v, 0.0, 0.5))] = Field(
        (0.0, 0.05), description="pan speed in view widths per second, [min, max] in [0, 0.5]; direction uniform"
    )
    zoom: Annotated[FloatRange, AfterValidator(lambda v: _within(v, -0.5, 0.5))] = Field(
        (-0.03, 0.03), description="zoom speed, log scale per second (> 0 zooms in), [min, max] in [-0.5, 0.5]"
    )
    shake: Annotated[FloatRange, AfterValidator(lambda v: _within(v, 0.0, 0.05))] = Field(
        (0.0, 0.003), description="hand-held shake amplitude in view widths (1 to 3 Hz), [min, max] in [0, 0.05]"
    )


class ClipWeatherConfig(_Model):
    """How conditions change over a clip (``synthgen clips``); parameters still drawn once a clip."""

    fall: bool = Field(True, description="rain streaks and snow flakes fall between frames (false: a frozen layer)")
    grain: bool = Field(
        True, description="sensor noise (gaussian_noise, iso_noise, night's grain) is drawn anew each frame (false: frozen)"
    )
    drift: float = Field(
        0.0, ge=0.0, le=1.0,
        description="fog density, night darkness and brightness change smoothly by up to this share of their value",
    )
    period: Annotated[FloatRange, AfterValidator(lambda v: _within(v, 0.5, 600.0))] = Field(
        (4.0, 12.0), description="seconds of one cycle of that change, [min, max] in [0.5, 600]"
    )


class ClipsConfig(_Model):
    """The clip model's options (read by ``synthgen clips`` and ``stress --clips`` only)."""

    shutter: Fraction = Field(
        0.0, description="exposure as a share of the frame interval: each object is motion-blurred along its "
        "displacement during it (0: no velocity blur)",
    )
    enter_rate: float = Field(0.0, ge=0.0, le=20.0, description="new objects per second entering through the edges")
    turning: Fraction = Field(0.3, description="share of objects whose heading turns, by 10 to 40 degrees a second")
    stopping: Fraction = Field(0.2, description="share of objects that stop for 0.5 to 2 s, 0.5 to 3 s after they appear")
    still_classes: list[str] = Field(
        default_factory=list, description="classes whose objects never move (signs, traffic lights); they enter no clip",
    )
    depth_order: bool = Field(
        True, description="on a ground plane, paint each frame's objects far to near (the lower foot row in front), "
        "so objects passing each other swap order (false: paste order throughout)",
    )
    camera: ClipCameraConfig = ClipCameraConfig()
    weather: ClipWeatherConfig = ClipWeatherConfig()
    mot_class: Literal["category", "pedestrian"] = Field(
        "category", description="class column of the MOT layout's gt.txt: the COCO category id, or 1 (pedestrian) for "
        "every object, so TrackEval's MOT Challenge reader (which scores class 1 only) scores every object",
    )


def _within(v: tuple[float, float], lo: float, hi: float) -> tuple[float, float]:
    if not (lo <= v[0] and v[1] <= hi):
        raise ValueError(f"values must be in [{lo}, {hi}]")
    return v


class Config(_Model):
    seed: int = Field(0, ge=0, description="run seed; image i depends only on (config, seed, i)")
    canvas: CanvasConfig = CanvasConfig()
    assets: AssetsConfig
    scene: SceneConfig = SceneConfig()
    render: RenderConfig = RenderConfig()
    labels: LabelsConfig = LabelsConfig()
    effects: list[EffectConfig] = Field(default_factory=list, description="conditions, applied in order")
    albumentations: dict[str, Any] | None = Field(
        None, description="an albumentations pipeline as A.to_dict() gives it, applied after `effects`"
    )
    output: OutputConfig = OutputConfig()
    clips: ClipsConfig = Field(ClipsConfig(), description="clips only: velocity blur, entering objects, camera, weather over time")

    @model_serializer(mode="wrap")
    def _clips_only_when_set(self, handler: Any) -> dict[str, Any]:
        # left out at its default, so configs and digests of runs that never set it stay as they were
        data = handler(self)
        if self.clips == ClipsConfig():
            data.pop("clips", None)
        elif self.clips.mot_class == "category":  # added later: runs that never set it keep their digest
            data.get("clips", {}).pop("mot_class", None)
        return data

    @field_validator("albumentations")
    @classmethod
    def _albumentations_shape(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        """The shape only: the pipeline is built, and each transform's arguments checked, when
        the Generator is made (reading a config loads no image library)."""
        if v is not None:
            transform = v.get("transform", v)
            if not isinstance(transform, dict) or "__class_fullname__" not in transform:
                raise ValueError("expected the dict that albumentations.to_dict(pipeline) returns")
            for key in ("bbox_params", "keypoint_params"):
                if transform.get(key):
                    raise ValueError(f"{key} is not used: synthgen derives every box from its mask; remove it")
        return v

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def digest(self) -> str:
        """A short hash of the resolved config, recorded with every run."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# Loading, overrides and error messages


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names allowed at the parent of ``loc`` (for 'unknown key' messages)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        current = next(
            (a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)),
            ann,
        )
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
    return list(getattr(current, "model_fields", {}))


# pydantic's error types -> what a user can act on (never a Python type name)
_EXPECTED = {
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "float_type": "a number", "float_parsing": "a number",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "text", "list_type": "a list, e.g. [a, b]",
    "dict_type": "a mapping (key: value)", "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)", "path_type": "a path",
    "none_required": "nothing (null)",
}
_BOUNDS = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">", "less_than": "<"}
_TYPE_TAGS = {"int", "float", "str", "bool", "list", "dict", "tuple", "none", "path"}


def _is_tag(part: Any) -> bool:
    """A union member's tag in an error location (``int``, ``function-after[...]``), not a key."""
    return isinstance(part, str) and ("[" in part or part in _TYPE_TAGS)


def _range_field(loc: tuple[Any, ...]) -> bool:
    field = _field_at(Config, loc)
    return field is not None and "tuple[" in str(field.annotation)


def _field_at(model: type[BaseModel], loc: tuple[Any, ...]):
    current: Any = model
    field = None
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return None
        ann = field.annotation
        args = getattr(ann, "__args__", (ann,))
        current = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if current is None:  # list[Model]
            inner = [getattr(a, "__args__", ()) for a in args]
            current = next((b for a in inner for b in a if isinstance(b, type) and issubclass(b, BaseModel)), None)
    return field


def _expected(e: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """What was expected, in words, for one pydantic error."""
    kind, ctx = e["type"], e.get("ctx") or {}
    if kind in ("tuple_type", "too_short", "too_long") and (_range_field(loc) or "tuple" in e["msg"].lower()):
        return "a [min, max] pair, e.g. [2, 4]"
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = difflib.get_close_matches(str(e.get("input")), allowed, n=1)
        return "one of " + ", ".join(allowed) + (f" (did you mean {hint[0]!r}?)" if hint else "")
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()), "?")
        return f"a value {_BOUNDS[kind]} {bound}"
    if kind in ("too_short", "too_long"):
        return e["msg"].replace("List should", "a list that should").replace("Tuple should", "a list that should")
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    text = re.sub(r"<class '[\w.]+'>|instance of \w+", "", e["msg"].removeprefix("Value error, "))
    return text.replace("Input should be ", "").strip(" ,")


def format_validation_error(err: ValidationError, source: str, overridden: set[str] = frozenset()) -> str:
    """One line per wrong key: the key, the value given, and what is allowed.

    ``overridden``: keys set with ``--set`` (named as the value's source instead of the file).
    """
    lines = [f"invalid config ({source}):"]
    grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not _is_tag(p))
        if e["type"] == "missing" and loc and isinstance(loc[-1], int) and _range_field(loc[:-1]):
            loc = loc[:-1]  # [5] for a [min, max] key: the key is wrong, not an item of it
            e = {**e, "type": "too_short"}
        grouped.setdefault(loc, []).append(e)
    for loc, errors in grouped.items():
        path = ".".join(str(p) for p in loc) or "<root>"
        via = " (from --set)" if any(path == k or path.startswith(k + ".") for k in overridden) else ""
        first = errors[0]
        if first["type"] == "extra_forbidden":
            allowed = _allowed_keys(Config, loc)
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            msg = f"  {path}: unknown key"
            if hint:
                msg += f" (did you mean '{hint[0]}'?)"
            msg += f"; allowed here: {', '.join(allowed)}"
        elif first["type"] == "missing":
            msg = f"  {path}: required key is missing"
        elif first["type"] == "value_error":
            msg = f"  {path}: {_short(first.get('input'))} -> {first['msg'].removeprefix('Value error, ')}"
        else:
            wanted = []
            for e in errors:
                w = _expected(e, loc)
                if w and w not in wanted:
                    wanted.append(w)
            msg = f"  {path}: {_short(first.get('input'))} -> expected {' or '.join(wanted)}"
        lines.append(msg + via)
    return "\n".join(lines)


def _short(value: Any) -> str:
    s = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return s if len(s) <= 80 else s[:77] + "..."


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists and values are leaves."""
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): data}


def config_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Each key whose value differs between two resolved configs, as ``key: old -> new``."""
    a, b = flatten(old), flatten(new)
    missing = object()
    lines = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key, missing), b.get(key, missing)
        if x != y:
            lines.append(f"{key}: {'(unset)' if x is missing else _short(x)} -> {'(unset)' if y is missing else _short(y)}")
    return lines


def parse_override(item: str) -> tuple[list[str], Any]:
    """``a.b.c=value`` -> (["a", "b", "c"], yaml-parsed value)."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected KEY.PATH=VALUE, e.g. scene.objects_per_image=[2,4]")
    key, _, raw = item.partition("=")
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise ConfigError(f"--set {item!r}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {item!r}: value is not valid YAML ({exc})") from exc
    return parts, value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for item in overrides:
        parts, value = parse_override(item)
        node = data
        for p in parts[:-1]:
            child = node.get(p)
            if child is None:
                child = node[p] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"--set {item!r}: {p} is a value, not a section")
            node = child
        node[parts[-1]] = value
    return data


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Relative asset paths are relative to the config file's folder."""
    assets = data.get("assets")
    if not isinstance(assets, dict):
        return
    nodes = [(assets, ("objects", "backgrounds", "distractors"))]
    if isinstance(assets.get("scenes"), dict):
        nodes.append((assets["scenes"], ("coco", "images", "yolo")))
    if isinstance(data.get("scene"), dict) and isinstance(data["scene"].get("balance"), dict):
        nodes.append((data["scene"]["balance"], ("real",)))
    for node, keys in nodes:
        for key in keys:
            v = node.get(key)
            if isinstance(v, str) and v and not Path(v).expanduser().is_absolute():
                node[key] = str((base / v).resolve())


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key; lists and values from ``top`` replace."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a config file, its ``extends`` chain merged in, asset paths made absolute."""
    merged: dict[str, Any] = {}
    for _, data in config_chain(path):
        merged = _merge(merged, data)
    return merged


def config_chain(path: Path, _seen: tuple[Path, ...] = ()) -> list[tuple[Path, dict[str, Any]]]:
    """The ``extends`` chain of a config file, base first: (file, its keys, paths made absolute)."""
    path = Path(path).resolve()
    if path in _seen:
        chain = " -> ".join(str(p) for p in (*_seen, path))
        raise ConfigError(f"extends: config files include each other in a loop: {chain}")
    data = read_yaml(path)
    _resolve_paths(data, path.parent)
    parent = data.pop("extends", None)
    if parent is None:
        return [(path, data)]
    if not isinstance(parent, str):
        raise ConfigError(f"{path}: extends: expected a path to another config file, got {parent!r}")
    return [*config_chain(_extended(path, parent), (*_seen, path)), (path, data)]


def _extended(path: Path, parent: str) -> Path:
    """The file ``extends: parent`` in ``path`` names: beside ``path``, or else a bundled preset
    of that file name (so a config anywhere can say ``extends: street.yaml``)."""
    base_path = Path(parent).expanduser()
    if not base_path.is_absolute():
        base_path = path.parent / base_path
    if base_path.exists():
        return base_path
    bundled_path = bundled.preset(parent)
    if bundled_path is not None:
        return bundled_path
    raise ConfigError(
        f"{path}: extends: {parent} does not exist (looked at {base_path}); the bundled presets "
        f"are {', '.join(bundled.presets())}"
    )


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = read_utf8(Path(path))  # UTF-8 whatever the machine's locale (a Windows code page), BOM or not
    except ValueError as exc:
        raise ConfigError(f"config file {path} is {exc}") from None
    except OSError as exc:
        hint = ""
        preset = bundled.preset(Path(path).name) if isinstance(exc, FileNotFoundError) else None
        if preset is not None:  # `configs/street.yaml` from a folder other than the checkout
            hint = (f"; {Path(path).name} is a bundled preset: give its path, {preset}, or write a "
                    f"config of your own that says `extends: {Path(path).name}`")
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}{hint}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a mapping of keys at the top level")
    return data


def load_config(
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    data: dict[str, Any] | None = None,
) -> Config:
    """Load and validate a config.

    ``path`` defaults to ``configs/default.yaml``; its relative asset paths are relative to the
    file, and ``extends: other.yaml`` merges it over another config. ``data`` (a dict) may be
    given instead of a file. ``overrides`` are ``a.b=value`` strings applied before validation;
    relative paths in ``data`` and overrides are relative to the current folder.
    """
    if data is not None:
        raw = json.loads(json.dumps(data, default=str))
        source = "<dict>"
    else:
        cfg_path = Path(path) if path is not None else DEFAULT_CONFIG
        if path is None and not cfg_path.exists():
            raise ConfigError(
                f"no config given and the default {cfg_path} is missing: pass a config file "
                "(this synthgen install lacks its bundled data; reinstall it from a wheel or the source tree)"
            )
        raw = read_config_file(cfg_path)
        source = str(cfg_path)
    raw = apply_overrides(raw, list(overrides or []))
    _resolve_paths(raw, Path.cwd())  # paths from a dict or from --set: relative to here
    overridden = {".".join(parse_override(item)[0]) for item in overrides or []}
    try:
        return Config.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, source, overridden)) from None


def config_sources(path: str | Path | None = None, overrides: list[str] | None = None) -> dict[str, str]:
    """Where each key of the resolved config comes from: a file of the ``extends`` chain,
    ``--set``, or ``default`` (the schema's default), as ``{"scene.scale": "configs/fog.yaml"}``."""
    sources: dict[str, str] = {}
    for file, data in config_chain(Path(path) if path is not None else DEFAULT_CONFIG):
        for key in flatten(data):
            sources[key] = str(file)
    for item in overrides or []:
        parts, value = parse_override(item)
        key = ".".join(parts)
        sources = {k: v for k, v in sources.items() if k != key and not k.startswith(key + ".")}
        for sub in flatten(value, key + "."):
            sources[sub] = "--set"
    return sources


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 20, sort_keys=False).strip()
    return text.removesuffix("...").strip()


def _shown(source: str) -> str:
    """A source file as the user would type it: relative to the current folder when inside it."""
    path = Path(source)
    if not path.is_absolute():
        return source
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return source


def _every_key(value: Any) -> Any:
    """``value`` as plain data with every field, also those ``to_dict`` leaves out at their
    defaults to keep older runs' digests (``output.lines``, ``clips``, ...): what a user may set."""
    if isinstance(value, BaseModel):
        return {name: _every_key(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, dict):
        return {k: _every_key(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_every_key(v) for v in value]
    return to_jsonable_python(value)


def describe_config(cfg: Config, sources: dict[str, str]) -> str:
    """The resolved config as YAML, each value followed by ``# source``."""
    rows: list[tuple[str, str]] = []  # (yaml text, source or "")

    def source(key: str) -> str:
        while key:
            if key in sources:
                return _shown(sources[key])
            key = key.rpartition(".")[0]
        return "default"

    def walk(node: dict[str, Any], prefix: str, indent: str) -> None:
        for key, value in node.items():
            full = f"{prefix}{key}"
            if isinstance(value, dict) and value:
                rows.append((f"{indent}{key}:", ""))
                walk(value, full + ".", indent + "  ")
            elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                rows.append((f"{indent}{key}:", source(full)))
                rows.extend((f"{indent}  - {_flow(v)}", "") for v in value)
            else:
                rows.append((f"{indent}{key}: {_flow(value)}", source(full)))

    walk(_every_key(cfg), "", "")
    width = max(len(text) for text, src in rows if src)
    return "\n".join(f"{text:<{width}}  # {src}" if src else text for text, src in rows)


def dump_config(cfg: Config) -> str:
    return yaml.safe_dump(cfg.to_dict(), sort_keys=False)
