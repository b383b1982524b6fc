"""The public Python API: ``Generator(config).sample(index)``, one sample in memory.

Wires the stages in one direction: seed -> scene -> render -> labels. Nothing touches the disk
except the asset reads (cached by the library).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthgen.assets import AssetLibrary, load_library
from synthgen.config import Config, load_config
from synthgen.effects.pipeline import (
    AppliedEffect,
    apply_effects,
    apply_effects_to_image,
    geometric_matrices,
    sample_image_effects,
    sample_object_effects,
)
from synthgen.errors import AssetError, ConfigError
from synthgen.frame import Frame
from synthgen.geometry import alpha_cut
from synthgen.keypoints import pose_layout
from synthgen.labels import derive_crowd, derive_instances, unlabeled_map
from synthgen.lines import canvas_lines, dense_lines, label_lines
from synthgen.provenance import scene_sources
from synthgen.render import render, render_background
from synthgen.rng import Stream, image_rng, split_of
from synthgen.scene import sample_scene
from synthgen.types import Sample, Scene


@dataclass(frozen=True, eq=False)
class Rendered:
    """One scene rendered under its conditions, before labeling."""

    frame: Frame  # after every effect
    plate: np.ndarray | None  # the background alone through the same effects; None: labels.contrast off
    object_effects: dict[int, tuple[AppliedEffect, ...]]
    image_effects: tuple[AppliedEffect, ...]
    albumentations: dict[str, Any] | None  # the pipeline's record, if any
    stuff: np.ndarray | None = None  # the background's classes through the same moves (stuff_labels.py)
    keypoints: dict[int, np.ndarray] | None = None  # instance id -> points after the pipeline (keypoints on)
    lines: list[tuple[str, np.ndarray]] | None = None  # the background's lines after the pipeline (output.lines on)
    inside: np.ndarray | None = None  # with points or lines, a pipeline that moved pixels: where it left image (not its fill)
    erased: np.ndarray | None = None  # with lines and a pipeline: where it erased pixels it kept in frame (a dropout's holes)


def _index(index: Any) -> int:
    """A sample index as an int (numpy integers too), refused naming it when it is not one >= 0."""
    try:
        i = operator.index(index)
    except TypeError:
        raise TypeError(f"index must be an integer >= 0, not {index!r}") from None
    if i < 0:
        raise ValueError(f"index must be an integer >= 0, not {index!r}")
    return i


def sample_name(index: int) -> str:
    return f"{index:08d}"


def _check_opaque_enough(library: AssetLibrary, config: Config) -> None:
    """A cutout whose alpha never reaches ``render.alpha_threshold`` has no pixel that could be
    labeled (scaling and warps never raise the largest alpha): it would be pasted and never
    labeled, and counted among the objects that found no place. Refused here, naming it."""
    cut = alpha_cut(config.render.alpha_threshold)
    for items in library.cutouts.values():
        for c in items:
            top = int(c.rgba[..., 3].max())
            if top < cut:
                path = f"{config.assets.objects}/{c.name}"
                raise AssetError(
                    f"{path}: its alpha never reaches render.alpha_threshold {config.render.alpha_threshold} "
                    f"(largest alpha {top} of 255, needs {cut}), so no pixel of it could ever be labeled; "
                    "make the object opaque, or lower render.alpha_threshold"
                )


class Generator:
    """Makes image ``index`` of a run, identically in any process, order or machine."""

    def __init__(self, config: Config | dict | str | None = None, *, library: AssetLibrary | None = None) -> None:
        """``config``: a Config, a config file's path (None: the default config) or a dict of
        the file's form (its keys checked by name). ``library``: the assets of
        ``config.assets``, already loaded (a worker shares one library between generators); by
        default they are loaded here."""
        if isinstance(config, dict):
            config = load_config(data=config)
        elif not isinstance(config, Config):
            config = load_config(config)
        self.config = config
        self.library: AssetLibrary = library if library is not None else load_library(config.assets)
        _check_opaque_enough(self.library, config)
        # background classes, for the outputs that show them (semantic, panoptic)
        self._stuff = bool(self.library.labels) and bool({"semantic", "panoptic"} & set(config.output.formats))
        if self._stuff:  # each label image's size and mode from its header, before any image is made
            from synthgen.stuff import check_header

            for i, lab in self.library.labels.items():
                check_header(lab, self.library.backgrounds[i].size_wh)
        self._albu = None
        if config.albumentations is not None:
            # albumentations is imported only here; a transform it rejects is a ConfigError
            from synthgen.effects.albu import AlbumentationsPipeline

            # keypoints and lines go through the pipeline as keypoints (the pixels are the same either way)
            self._albu = AlbumentationsPipeline(config.albumentations, keypoints=config.output.keypoints_on or config.output.lines)
        self.class_weights, self.balance_report = self._balance()
        self.pose = pose_layout(self.library.classes, self.library.keypoint_schemas) if config.output.keypoints_on else None
        if self.pose is not None and self.pose.size == 0:
            raise ConfigError(
                "output.keypoints / yolo_task: pose: no class of this run has a keypoints.yaml in its folder "
                f"under {config.assets.objects}"
            )
        if config.output.lines and not self.library.lines:
            raise ConfigError(
                f"output.lines: no background in {config.assets.backgrounds} has a <name>.lines.json beside it"
            )
        unknown = sorted(set(config.scene.placement.lanes.classes) - set(self.library.classes))
        if unknown:
            raise ConfigError(
                f"scene.placement.lanes.classes: {unknown} are not classes of this run; "
                f"allowed: {', '.join(self.library.classes)}"
            )
        unknown = sorted(set(config.scene.class_weights or {}) - set(self.library.classes))
        if unknown:
            raise ConfigError(
                f"scene.class_weights: {unknown} are not classes of this run; "
                f"allowed: {', '.join(self.library.classes)}"
            )

    @property
    def stuff_classes(self) -> tuple[str, ...]:
        """Background classes; semantic index = len(classes) + 1 + position."""
        return self.library.stuff

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names; category id = position + 1 (COCO), YOLO id = position."""
        return self.library.classes

    def _balance(self) -> tuple[dict[str, float] | None, list[str]]:
        bal = self.config.scene.balance
        if bal is None:
            return None, []
        from synthgen.balance import (
            balance_weights,
            carried_objects,
            count_classes,
            report_lines,
        )

        if bal.real is not None:
            real = count_classes(bal.real)
        elif self.library.scenes is not None:
            real = self.library.scenes.class_counts()
        else:
            raise ConfigError("scene.balance: set balance.real (the real dataset) or assets.scenes")
        lo, hi = self.config.scene.objects_per_image
        synthetic = bal.synthetic_images * (lo + hi) / 2.0
        carried: dict[str, float] = {}
        scenes = self.library.scenes
        if scenes is not None:  # real objects the synthetic images bring on their real scenes
            carried = carried_objects(scenes.class_counts(), len(scenes.images), bal.synthetic_images, self.config.assets.scenes.p)
        weights = balance_weights(real, list(self.library.paste_classes), bal.target, synthetic, carried)
        return weights, report_lines(real, weights, synthetic, carried)

    def scene(self, index: int) -> Scene:
        index = _index(index)
        return sample_scene(
            self.config, self.library, index, rng=image_rng(self.config.seed, index, Stream.SCENE), class_weights=self.class_weights
        )

    def sample(self, index: int) -> Sample:
        return self.sample_from_scene(self.scene(index))

    def _split_field(self, index: int) -> dict[str, str]:
        """The COCO image field naming the part of the run image ``index`` is in, when the run
        has a validation part (``output.val_fraction``)."""
        fraction = self.config.output.val_fraction
        return {"split": split_of(self.config.seed, index, fraction)} if fraction > 0 else {}

    def render_frame(
        self,
        scene: Scene,
        object_effects: dict[int, tuple[AppliedEffect, ...]] | None = None,
        image_effects: tuple[AppliedEffect, ...] | None = None,
    ) -> Rendered:
        """Render a scene and apply every condition: the final frame, the background plate
        through the same effects, and what was applied.

        ``object_effects`` (instance id -> applied per-object effects) replaces the ones this
        scene would draw: per-object effects are drawn in paste order, so a scene with one
        placement left out draws differently; pass the full scene's to change nothing else.
        ``image_effects`` likewise replaces the whole-image effects the scene's index draws (a
        clip's frame: its clip's conditions as they are at that frame).
        """
        cfg = self.config
        index = scene.index
        # every random choice is made before any pixel moves
        if object_effects is None:
            object_effects = sample_object_effects(cfg.effects, cfg.seed, scene)
        if image_effects is None:
            image_effects = sample_image_effects(cfg.effects, cfg.seed, index, scene.canvas_wh)
        albu_params = self._albu.sample(cfg.seed, index) if self._albu else None

        background = render_background(scene, self.library)
        frame = render(scene, self.library, cfg.render.alpha_threshold, object_effects, cfg.render.harmonize.strength,
                       background=background)
        before_albu = frame = apply_effects(frame, image_effects)
        stuff = None
        if self._stuff:
            from synthgen.stuff_labels import frame_stuff

            stuff = frame_stuff(scene, self.library, image_effects)
        # what lay behind every object: the background alone, through the same effects
        plate = apply_effects_to_image(background, image_effects) if cfg.labels.contrast else None
        albu_record = moved = moved_lines = None
        if self._albu and self._albu.keypoints:  # the points go through the pipeline with the pixels
            from synthgen.keypoint_labels import through_albumentations

            lines = self._canvas_lines(scene, image_effects)
            frame, albu_record, moved, moved_lines = through_albumentations(
                self._albu, frame, albu_params, scene, self.library, image_effects,
                keypoints=cfg.output.keypoints_on, lines=None if lines is None else dense_lines(lines, scene.canvas_wh))
        elif self._albu:
            frame, albu_record = self._albu.apply(frame, albu_params)
        # the same draws again, with the frame's own id map as the mask (a transform may choose from it)
        if self._albu and plate is not None:
            plate = self._albu.apply(Frame(plate, before_albu.id_map, ()), albu_params)[0].image
        if self._albu and stuff is not None:  # the class map
            stuff = self._albu.replay_on_masks(before_albu.image, before_albu.id_map, albu_params, [stuff])[0].astype(np.uint8)
        inside = erased = None
        if (moved or moved_lines) and not all(t[0] in self._albu.still for t in albu_record["params"]["applied"]):
            # where the frame's pixels went (its fill: 0), for points and lines; a dropout's holes
            # are not fill: a point there stays labeled, not visible (v 1), as with no move
            ones = np.ones(frame.id_map.shape, np.uint8)
            kept, image = self._albu.replay_on_masks(before_albu.image, before_albu.id_map, albu_params, [ones, ones], unerased=(1,))
            inside = image != 0
            if cfg.output.lines:
                erased = inside & (kept == 0)
        applied = albu_record["params"]["applied"] if albu_record is not None else ()
        if cfg.output.lines and applied and all(t[0] in self._albu.still for t in applied):
            # a pipeline that moved nothing may still have erased pixels (dropouts): what lay there is hidden
            ones = np.ones(frame.id_map.shape, np.uint8)
            erased = self._albu.replay_on_masks(before_albu.image, before_albu.id_map, albu_params, [ones])[0] == 0
        return Rendered(frame, plate, object_effects, image_effects, albu_record, stuff, moved, moved_lines, inside, erased)

    def _canvas_lines(self, scene: Scene, image_effects: tuple[AppliedEffect, ...]) -> list[tuple[str, np.ndarray]] | None:
        """The background's lines in the frame before labeling (synthgen/lines.py), or None."""
        lines = self.library.lines.get(scene.background.index) if self.config.output.lines and not scene.background.real_scene else None
        if lines is None:
            return None
        bg = scene.background
        return canvas_lines(lines, bg.crop_xywh, bg.flip, scene.canvas_wh, geometric_matrices(image_effects, scene.canvas_wh))

    def sample_from_scene(
        self,
        scene: Scene,
        object_effects: dict[int, tuple[AppliedEffect, ...]] | None = None,
        image_effects: tuple[AppliedEffect, ...] | None = None,
    ) -> Sample:
        """Render, apply conditions and label a given scene (its index seeds the effects);
        ``object_effects`` and ``image_effects`` as in :meth:`render_frame`."""
        cfg = self.config
        index = scene.index
        r = self.render_frame(scene, object_effects, image_effects)
        frame, object_effects, image_effects = r.frame, r.object_effects, r.image_effects
        instances, id_map, dropped = derive_instances(scene, frame, cfg.labels, r.plate)
        if self.pose is not None:
            from synthgen.keypoint_labels import (
                derive_keypoints,  # only runs with keypoints pay its import
            )

            instances = derive_keypoints(scene, self.library, image_effects, id_map, instances, self.pose, r.keypoints, r.inside)
        image_fields = self._split_field(index)
        lines = self._canvas_lines(scene, image_effects)
        if lines is not None:
            inside = None
            if r.albumentations is not None and not all(t[0] in self._albu.still for t in r.albumentations["params"]["applied"]):
                lines, inside = r.lines, r.inside  # the pipeline moved pixels: the lines went through it as keypoints
            covered = (id_map != 0) | (unlabeled_map(frame, id_map) != 0)
            if r.erased is not None:
                covered |= r.erased
            image_fields = {**image_fields, "lines": label_lines(lines, scene.canvas_wh, covered, inside)}
        conditions = [e.to_dict() for e in image_effects]
        conditions += [e.to_dict() for effects in object_effects.values() for e in effects]
        if r.albumentations is not None:
            conditions.append(r.albumentations)
        name = sample_name(index)
        W, H = scene.canvas_wh
        metadata: dict[str, Any] = {
            "index": index,
            "name": name,
            "seed": self.config.seed,
            "width": W,
            "height": H,
            "scene": scene.to_dict(),
            "instances": [
                {
                    "instance_id": i.instance_id,
                    "label": i.label,
                    "bbox": list(i.bbox),
                    "area": i.area,
                    "visible_fraction": i.visible_fraction,
                    "truncated": i.truncated,
                    **({} if i.contrast is None else {"contrast": i.contrast}),
                }
                for i in instances
            ],
            "dropped": {str(k): v for k, v in dropped.items()},
            "conditions": conditions,
        }
        sources = scene_sources(cfg, self.library, scene)  # the real images behind it, if any
        if sources:
            metadata["sources"] = sources
        return Sample(
            index=index,
            name=name,
            image=frame.image,
            id_map=id_map,
            instances=instances,
            scene=scene,
            metadata=metadata,
            crowd=derive_crowd(scene, id_map),
            image_fields=image_fields,
            unlabeled=unlabeled_map(frame, id_map) if {"semantic", "voc"} & set(cfg.output.formats) or r.stuff is not None else None,
            keypoint_slots=self.pose.size if self.pose is not None else 0,
            stuff=r.stuff,
        )
