"""Clips: short labeled video sequences whose objects move, with a track id per object.

A clip is a function of (config, seed, clip index ``c``); frame ``t`` a function of that and
``t``, so any frame can be rendered alone and equals the same frame rendered in sequence. Run
sample ``k`` is clip ``k // F``, frame ``k % F`` (``F`` frames a clip): a ``Clips`` spec is a
factory spec for the runner, one shard per clip, so clips shard, resume, run on any worker count
or on Ray and give the same bytes, as images do.

The model of a clip (options in the config's ``clips`` section, all off by default but ``fall``):

- Layout: the clip's scene is ``Generator.scene(c)`` (background, objects, blends, light), the
  scene sampler's layout as frame 0. One background per clip.
- Trajectories (synthgen/trajectory.py; ``Track``, from the ``Stream.CLIPS`` stream of clip
  ``c``, one member per instance id): constant velocity (direction uniform, speed a share of the
  canvas' shorter side per second), plus a random walk in position, a slow exponential scale
  change and a small rotation drift, all in per-second units divided by ``fps``; a share of
  objects turn (``clips.turning``) or stop for a while (``clips.stopping``); on a ground plane
  the motion is on the ground (``trajectory.Ground``: row and scale follow depth). Frame ``t``
  moves every placement (distractors too) with ``dataclasses.replace`` on its center, scale and
  rotation; everything else (asset, flip, perspective, blend, jitter, shadow) stays. Objects may leave through the edges: labels stay exact (a truncated object is labeled
  by its visible pixels, one that is wholly outside or hidden has no label in that frame and
  keeps its id when it comes back).
- Entering objects (synthgen/entering.py, ``clips.enter_rate``): a Poisson process of new
  objects per second; each has an entry frame, before which it is not in the scene (no label),
  and an instance id after every frame-0 object's (ids unique within the clip).
- Velocity blur (``clips.shutter``): each object at frame ``t`` gets the per-object
  ``motion_blur`` effect of its displacement in the image during the exposure (camera motion
  included), so its label follows the smeared pixels as for images; it replaces the config's
  per-object ``motion_blur`` (an angle drawn once per clip), so a stopped object is sharp.
- Camera (``clips.camera``, ``trajectory.Camera``): pan, zoom and shake as a per-frame crop of
  the background; every placement (and the horizon) goes through the exact map of the crop
  actually used, so a camera pan moves everything in image coordinates. A real scene's own
  objects are labeled as each frame's crop shows them (``ClipPlan.real_in_view``): one that comes
  into view has an id after every placement's.
- Depth order (``clips.depth_order``): on a ground plane each frame paints its objects far to
  near by foot row (``ClipPlan.far_to_near``); stress occluders stay on top.
- Labels: each frame's scene goes through ``Generator.sample_from_scene``, the same pipeline as
  an image. ``track_id`` = the placement's instance id within the clip (MOT id), and
  ``video_id * 1000 + instance id`` in COCO (unique over the run).
- Conditions drawn once per clip: every frame's scene keeps the clip's index ``c`` as its scene
  index, and effects, per-object effects and albumentations draw their parameters from it (the
  image effects once, in the plan); so fog, rain, night level and blur do not flicker. Over the
  frames (effects/timeline.py) rain and snow fall (``clips.weather.fall``), sensor noise is drawn
  anew each frame (``clips.weather.grain``), and fog density, night darkness and brightness may
  drift smoothly (``clips.weather.drift``).
  (A frame's own run index, file name and COCO ids are set after.) The train/val split is drawn
  from ``c`` too: a clip's frames are all in one part.

Output (``run_clips``): the run's formats (COCO always) with COCO video fields (image
``video_id``, ``frame_id``, ``video``; annotation ``track_id``; a top-level ``videos`` list), and
the MOT Challenge layout under ``OUT/mot/`` (writers/mot.py) once the run is complete.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pydantic import ValidationError

from synthgen.assets import AssetLibrary
from synthgen.config import Config
from synthgen.effects.pipeline import (
    AppliedEffect,
    sample_image_effects,
    sample_object_effects,
)
from synthgen.effects.timeline import Drift, conditions_at, sample_drifts
from synthgen.entering import foot_per_scale, ground_of, sample_entering
from synthgen.errors import ConfigError, OutputError
from synthgen.generator import Generator
from synthgen.io.outdir import clear_previews
from synthgen.runner import Summary, run
from synthgen.scene import real_objects
from synthgen.trajectory import (
    Camera,
    Track,
    blur_params,
    exposure_displacement,
    sample_camera,
    sample_track,
)
from synthgen.types import MAX_INSTANCES, Placement, RealLabel, Sample, Scene
from synthgen.worker import WorkerContext
from synthgen.writers.mot import MOT_DIR, remove_stale_sequences

CLIP_FORMATS = ("coco",)  # always written: the MOT layout and the video fields are made from it
LAYOUTS = ("mot",)  # clip-only layouts, written after the run


def clip_name(clip: int) -> str:
    return f"clip-{clip:06d}"


def frame_name(clip: int, frame: int) -> str:
    return f"{clip:06d}_{frame:06d}"


@dataclass(frozen=True)
class ClipPlan:
    """Everything fixed over one clip: its scene at frame 0, every object that is in it at some
    frame with its track, the per-object effects, the camera."""

    clip: int
    scene: Scene  # frame 0 as the scene sampler made it
    tracks: tuple[Track, ...]  # one per placement
    object_effects: dict[int, tuple[AppliedEffect, ...]]  # drawn once, over every placement
    shutter: float = 0.0  # exposure as a share of the frame interval (clips.shutter)
    camera: Camera | None = None  # None: a still camera
    placements: tuple[Placement, ...] = ()  # frame 0's, then the entering ones (default: frame 0's)
    image_effects: tuple[AppliedEffect, ...] | None = None  # the clip's whole-image conditions (None: the scene's own)
    drifts: tuple[Drift | None, ...] = ()  # one per image effect
    fps: float = 15.0
    fall: bool = True  # clips.weather.fall
    drift: float = 0.0  # clips.weather.drift
    feet: tuple[float, ...] = ()  # per placement: its foot row below its centre per unit of scale (depth order)
    on_top: int = 0  # the last placements (stress occluders) stay on top of everything
    depth_order: bool = False  # clips.depth_order (it applies on a ground plane only)
    grain: bool = False  # clips.weather.grain
    real_labels: tuple[RealLabel | None, ...] = ()  # a real scene seen by a moving camera: a label per annotation of its image

    def real_in_view(self, scene: Scene, lib: AssetLibrary) -> Scene:
        """``scene`` (a frame of this clip) labeling the real objects its crop shows: as the camera
        moves, real objects leave the view and others come into it. Frame 0's keep the ids the
        scene sampler gave them, the others have ids after every placement's (``real_labels``)."""
        if not self.real_labels:
            return scene
        instances = lib.scenes.images[scene.background.index].instances
        position = {id(inst): k for k, inst in enumerate(instances)}
        real = []
        for obj in real_objects(scene.background, lib, scene.canvas_wh):
            label = self.real_labels[position[id(obj.instance)]]
            if label is None:  # no id left for it (MAX_INSTANCES): plan_clip refuses such a clip
                raise OutputError(f"clip {self.clip}: real object {obj.instance.ann_id} has no instance id")
            real.append(label)
        return dataclasses.replace(scene, real=tuple(real))

    def __post_init__(self) -> None:
        if not self.placements:
            object.__setattr__(self, "placements", self.scene.placements)

    def scene_at(self, t: int) -> Scene:
        """The clip's scene at frame ``t``; its index stays the clip's (see the module docstring)."""
        moved = tuple(track.move(p, t) for track, p in zip(self.tracks, self.placements) if track.entry <= t)
        if self.depth_order and self.scene.horizon is not None:
            moved = self.far_to_near(moved)
        cam = self.camera
        if cam is None:
            return dataclasses.replace(self.scene, placements=moved)
        horizon = self.scene.horizon
        return dataclasses.replace(
            self.scene,
            placements=tuple(cam.move(p, t) for p in moved),
            background=dataclasses.replace(self.scene.background, crop_xywh=cam.crop(t)),
            horizon=None if horizon is None else cam.point((0.0, horizon), t)[1],
        )

    def foot_row(self, p: Placement, feet: dict[int, float] | None = None) -> float:
        """The row placement ``p`` (as moved, in frame 0's canvas) stands on: the bottom of its
        upright box, as the scene sampler stands objects on a ground plane."""
        return p.center[1] + (feet or self._feet)[p.instance_id] * p.scale

    def far_to_near(self, placements: tuple[Placement, ...]) -> tuple[Placement, ...]:
        """Paint order on a ground plane: the higher foot row (further away) first, ties in paste
        order; the ``on_top`` occluders last, as they are. The camera maps rows monotonically, so
        the order holds in the image too."""
        top = {p.instance_id for p in self.placements[len(self.placements) - self.on_top:]} if self.on_top else set()
        feet = self._feet

        def key(p: Placement) -> tuple[bool, float]:
            return (True, 0.0) if p.instance_id in top else (False, self.foot_row(p, feet))

        return tuple(sorted(placements, key=key))  # stable: ties keep the paste order

    @functools.cached_property
    def _without_config_blur(self) -> dict[int, tuple[AppliedEffect, ...]]:
        """The clip's per-object effects but ``motion_blur`` (the velocity blur's to give)."""
        out = {}
        for iid, effects in self.object_effects.items():
            kept = tuple(e for e in effects if e.name != "motion_blur")
            if kept:
                out[iid] = kept
        return out

    @property
    def _feet(self) -> dict[int, float]:
        return dict(zip((p.instance_id for p in self.placements), self.feet))

    def position(self, k: int, t: int) -> tuple[float, float]:
        """Where the centre of placement ``k`` is in the image at frame ``t``."""
        xy = self.tracks[k].move(self.placements[k], t).center
        return xy if self.camera is None else self.camera.point(xy, t)

    def velocity_blur(self, t: int) -> dict[int, dict[str, float]]:
        """Instance id -> ``motion_blur`` parameters of its displacement during frame ``t``'s
        exposure (objects that move less than a pixel in it are left out)."""
        if self.shutter <= 0:
            return {}
        out = {}
        for k, track in enumerate(self.tracks):
            if track.entry > t:
                continue
            d = exposure_displacement(self.position(k, t - 1), self.position(k, t), self.position(k, t + 1), self.shutter)
            params = blur_params(d)
            if params is not None:
                out[track.instance_id] = params
        return out

    def conditions_at(self, t: int) -> tuple[AppliedEffect, ...] | None:
        """The clip's whole-image effects as they are at frame ``t`` (effects/timeline.py)."""
        if self.image_effects is None:
            return None
        return conditions_at(self.image_effects, self.drifts, t, self.fps, self.scene.canvas_wh, fall=self.fall, drift=self.drift,
                             grain=self.grain)

    def effects_at(self, t: int) -> dict[int, tuple[AppliedEffect, ...]]:
        """Per-object effects of frame ``t``: the clip's own, then each object's velocity blur
        (the ``motion_blur`` effect, so the label follows the smeared pixels as for images).
        With a shutter, the velocity blur replaces the config's per-object ``motion_blur`` (an
        angle drawn once per clip) on every object: blur comes from motion alone, and an object
        that stands still is sharp."""
        if self.shutter <= 0:
            return self.object_effects
        blur = self.velocity_blur(t)
        out = self._without_config_blur
        if not blur:
            return out
        out = dict(out)
        for iid, params in blur.items():
            out[iid] = out.get(iid, ()) + (AppliedEffect("motion_blur", None, params, iid),)
        return out


def standing(track: Track) -> Track:
    """A track that does not move (its draws are made all the same: nothing else changes)."""
    return dataclasses.replace(track, velocity=(0.0, 0.0), jitter=0.0, growth=0.0, spin=0.0, turn=0.0, stop=(0, 0, 1))


def plan_clip(gen: Generator, clip: int, fps: float, frames: int = 0, occlusion: int = 0) -> ClipPlan:
    """The plan of clip ``clip``; objects enter (``clips.enter_rate``) in its first ``frames``.
    ``occlusion`` (a stress severity, 1-5; 0: none): the stress suite's unlabeled occluders over
    frame 0's targets, standing still on top of everything (objects pass under them)."""
    cfg, lib = gen.config, gen.library
    scene = gen.scene(clip)
    seed = cfg.seed
    bg = scene.background
    if bg.real_scene:
        im = lib.scenes.images[bg.index]
        source_wh = (im.width, im.height)
    else:
        source_wh = lib.backgrounds[bg.index].size_wh
    camera = sample_camera(cfg.clips.camera, seed, clip, scene.canvas_wh, bg.crop_xywh, source_wh, bg.flip, fps)
    motion = dict(turning=cfg.clips.turning, stopping=cfg.clips.stopping)
    tracks = [sample_track(seed, clip, p, scene.canvas_wh, fps, **motion, ground=ground_of(scene, lib.cutout(p.asset, distractor=p.distractor)))
              for p in scene.placements]
    still = set(cfg.clips.still_classes)
    tracks = [standing(tr) if not p.distractor and p.label in still else tr for tr, p in zip(tracks, scene.placements)]
    placements = list(scene.placements)
    for p, track in sample_entering(cfg, lib, gen.class_weights, scene, fps, frames, camera):
        placements.append(p)
        tracks.append(track)
    movers = len(placements)
    if occlusion:
        from synthgen.stress import _occluders  # only stress suites pay its import

        extra = _occluders(gen, scene, occlusion).placements[len(scene.placements):]
        for p in extra:
            iid = len(scene.real) + len(placements) + 1
            if iid >= MAX_INSTANCES:
                break
            placements.append(dataclasses.replace(p, instance_id=iid))
            tracks.append(Track(iid, (0.0, 0.0), 0.0, 0, 0.0, 0.0))
    on_top = len(placements) - movers
    real_labels = _real_labels(lib, scene, placements, clip) if bg.real_scene and camera is not None else ()
    # per-object effects are drawn in paste order: the entering objects' come after frame 0's
    effects = sample_object_effects(cfg.effects, seed, dataclasses.replace(scene, placements=tuple(placements)))
    # whole-image conditions: the clip's scene index draws them, as for an image, once
    image_effects = sample_image_effects(cfg.effects, seed, clip, scene.canvas_wh)
    weather = cfg.clips.weather
    drifts = sample_drifts(image_effects, seed, clip, weather.period)
    feet = tuple(foot_per_scale(lib.cutout(p.asset, distractor=p.distractor), scene.canvas_wh) for p in placements)
    return ClipPlan(clip, scene, tuple(tracks), effects, cfg.clips.shutter, camera, tuple(placements), image_effects,
                    drifts, fps, weather.fall, weather.drift, feet, on_top, cfg.clips.depth_order,
                    weather.grain, real_labels)


def _real_labels(lib: AssetLibrary, scene: Scene, placements: list[Placement], clip: int) -> tuple[RealLabel, ...]:
    """A label for every annotation of the clip's real scene image, in its order: frame 0's
    objects keep the ids the scene sampler gave them; any other may come into view as the camera
    moves, and is given an id after every placement's (ids stay unique within the clip)."""
    instances = lib.scenes.images[scene.background.index].instances
    position = {id(inst): k for k, inst in enumerate(instances)}
    labels: list[RealLabel | None] = [None] * len(instances)
    for label, obj in zip(scene.real, real_objects(scene.background, lib, scene.canvas_wh)):
        labels[position[id(obj.instance)]] = label
    next_id = max([len(scene.real), *(p.instance_id for p in placements)]) + 1
    for k, inst in enumerate(instances):
        if labels[k] is not None:
            continue
        if next_id >= MAX_INSTANCES:
            raise OutputError(
                f"clip {clip}: its real scene {lib.scenes.images[scene.background.index].path.name} has more annotations "
                f"than instance ids left ({MAX_INSTANCES - 1} a frame) to label them as the camera moves; "
                "use clips.camera.p: 0 or fewer objects"
            )
        labels[k] = RealLabel(next_id, lib.classes.index(inst.category) + 1, inst.category, inst.ann_id, inst.kind)
        next_id += 1
    return tuple(labels)


def render_clip_frame(gen: Generator, plan: ClipPlan, t: int, index: int, fps: float, fields: dict | None = None) -> Sample:
    """Frame ``t`` of ``plan``'s clip as run sample ``index`` (``fields``: more COCO image fields)."""
    s = gen.sample_from_scene(plan.real_in_view(plan.scene_at(t), gen.library), plan.effects_at(t), plan.conditions_at(t))
    name = frame_name(plan.clip, t)
    video = {"video_id": plan.clip + 1, "video": clip_name(plan.clip), "frame_id": t, **(fields or {})}
    meta = dict(s.metadata, index=index, name=name, clip=plan.clip, frame=t, fps=fps)
    if plan.camera is not None:
        meta["camera"] = dict(plan.camera.to_dict(), transform=list(plan.camera.transform(t)))
    return dataclasses.replace(s, index=index, name=name, metadata=meta, image_fields={**s.image_fields, **video})


@dataclass(frozen=True)
class Clips:
    """Clips as a factory spec: sample ``k`` is clip ``k // frames``, frame ``k % frames``."""

    kind: ClassVar[str] = "clips"
    config_json: str
    frames: int
    fps: float
    occlusion: int = 0  # stress suites: the occlusion condition's severity (plan_clip)
    fields: tuple[tuple[str, str | int], ...] = ()  # more COCO image fields (a stress variant's condition)

    def build(self, ctx: WorkerContext) -> ClipFactory:
        return ClipFactory(ctx, self)


class ClipFactory:
    """Makes any frame of any clip; keeps the plan of the last clip (frames come in order)."""

    def __init__(self, ctx: WorkerContext, spec: Clips) -> None:
        self.config = Config.model_validate_json(spec.config_json)
        self.gen = ctx.generator(self.config)
        self.classes = self.gen.classes
        self.library = self.gen.library
        unknown = sorted(set(self.config.clips.still_classes) - set(self.library.classes))
        if unknown:
            raise ConfigError(f"clips.still_classes: {', '.join(unknown)} not a class of this run; classes: {', '.join(self.library.classes)}")
        self.frames, self.fps, self.occlusion, self.fields = spec.frames, spec.fps, spec.occlusion, dict(spec.fields)
        self._plan: ClipPlan | None = None

    def plan(self, clip: int) -> ClipPlan:
        if self._plan is None or self._plan.clip != clip:
            self._plan = plan_clip(self.gen, clip, self.fps, self.frames, self.occlusion)
        return self._plan

    def sample(self, index: int) -> Sample:
        clip, t = divmod(index, self.frames)
        return render_clip_frame(self.gen, self.plan(clip), t, index, self.fps, self.fields)


def clip_config(cfg: Config, formats: list[str] | None = None) -> tuple[Config, list[str]]:
    """The config clips run with (COCO always, then the other image formats asked for) and the
    clip-only layouts asked for (``mot``). ``formats`` None: the config's own, plus MOT."""
    asked = list(cfg.output.formats) + list(LAYOUTS) if formats is None else list(formats)
    layouts = [f for f in asked if f in LAYOUTS]
    image_formats = [*CLIP_FORMATS, *(f for f in asked if f not in LAYOUTS and f not in CLIP_FORMATS)]
    data = json.loads(cfg.model_dump_json())
    data["output"]["formats"] = image_formats
    try:
        return Config.model_validate(data), layouts
    except ValidationError as exc:  # pydantic names the bad format and the allowed ones
        raise ConfigError(f"--format {','.join(asked)}: {exc}") from None


def run_clips(
    cfg: Config,
    out: Path,
    num_clips: int,
    frames: int,
    *,
    fps: float = 15.0,
    layouts: tuple[str, ...] = LAYOUTS,
    workers: int = 1,
    backend: str = "local",
    address: str | None = None,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
    on_plan: Callable[[int, int], None] | None = None,
    occlusion: int = 0,
    fields: dict[str, str | int] | None = None,
) -> Summary:
    """Write ``num_clips`` clips of ``frames`` frames into ``out`` (options as for ``runner.run``;
    ``cfg`` as ``clip_config`` makes it); merged, then laid out as MOT, once complete.
    ``occlusion`` and ``fields``: a stress variant's occluders and image fields (``Clips``)."""
    check_clip_args(num_clips, frames, fps)
    if not overwrite:
        check_resumable(Path(out), frames, float(fps))
    spec = Clips(cfg.model_dump_json(), frames, float(fps), occlusion, tuple(sorted((fields or {}).items())))
    info = {"clips": {"clips": num_clips, "frames": frames, "fps": float(fps), "layouts": list(layouts), **(fields or {})}}
    summary = run(
        spec, cfg, out, num_clips * frames, frames, extra_info=info, workers=workers, backend=backend,
        address=address, overwrite=overwrite, merge=True, progress=progress, on_plan=on_plan,
    )
    # the merge lays out mot/ (the manifest's clips layouts) before annotations.json: writers/merge.py
    if summary.merged and "mot" not in layouts and (Path(out) / MOT_DIR).is_dir():  # an earlier layout of this run: not of clips it no longer has
        remove_stale_sequences(Path(out) / MOT_DIR, {clip_name(k) for k in range(num_clips)}, cfg.output.image_format)
    if summary.merged:  # previews of clips this run no longer has (resumed with fewer --clips)
        clear_previews(Path(out), keep={f"{clip_name(k)}.gif" for k in range(num_clips)})
    return summary


def check_clip_args(num_clips: int, frames: int, fps: float) -> None:
    if frames < 1 or num_clips < 1:
        raise ConfigError(f"--clips {num_clips} --frames {frames}: both must be at least 1")
    if not 0 < fps < math.inf:  # nan and inf too: a frame's motion is motion per second / fps
        raise ConfigError(f"--fps {fps}: must be a finite number above 0 (frames per second)")


def check_resumable(out: Path, frames: int, fps: float) -> None:
    """Neither the frame count nor the frame rate is part of the config, yet each changes the
    clips: a folder whose clips were made with others (its manifest, or its finished shards,
    record them) is not resumed with these; the refusal names the option to give."""
    old_frames = old_fps = None
    manifest = out / "manifest.json"
    try:
        info = json.loads(manifest.read_text()).get("clips") if manifest.is_file() else None
    except (OSError, ValueError, AttributeError):
        info = None
    if isinstance(info, dict):
        old_frames, old_fps = info.get("frames"), info.get("fps")
    if old_fps is None:
        for part in sorted(out.glob("shards/shard-*.jsonl"))[:1]:
            try:
                old_fps = json.loads(part.open().readline() or "{}").get("fps")
            except (OSError, ValueError, AttributeError):
                pass  # a damaged shard: the runner redoes it
    if old_frames is not None and old_frames != frames:
        raise OutputError(
            f"--out {out} holds clips of {old_frames} frames; resume with --frames {old_frames}, "
            "or add --overwrite to replace them"
        )
    if old_fps is not None and old_fps != fps:
        raise OutputError(
            f"--out {out} holds clips made with --fps {old_fps:g}; resume with --fps {old_fps:g}, "
            "or add --overwrite to replace them"
        )
