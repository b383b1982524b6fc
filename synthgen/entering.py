"""Objects that enter a clip part-way through it, through an edge of the frame.

Arrivals are a Poisson process of ``clips.enter_rate`` objects per second, drawn in order from
their own stream of the clip, so a clip's first ``F`` frames are the same whatever its length.
Arrival ``j`` draws its object as the scene sampler draws one (class by the run's weights,
cutout, rotation, flip, perspective, blending, jitter, shadow, scale; on a ground plane a foot
row below the horizon and the scale that row gives) from a stream of its own, and a heading
into the frame within ``SPREAD`` of the edge's inward normal (on a ground plane: through the
left or right edge, nearly level). Its instance id comes after every object of frame 0, so ids
stay unique within the clip. At its entry frame it is placed just outside the edge plus one
frame's motion: at the frame before it, its whole silhouette lies outside the frame.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from synthgen.assets import PAD, AssetLibrary
from synthgen.config import Config
from synthgen.geometry import clip_box
from synthgen.rng import Stream, image_rng
from synthgen.scene import _blend, _maybe, choice_cdf, placed_box
from synthgen.trajectory import Camera, Ground, Track, sample_track
from synthgen.types import MAX_INSTANCES, Placement, Scene

SPREAD = math.radians(40.0)  # heading: within this of the edge's inward normal
GROUND_SPREAD = math.radians(8.0)  # on a ground plane
INWARD = {"left": 0.0, "right": math.pi, "top": math.pi / 2, "bottom": -math.pi / 2}  # image y points down


def foot_per_scale(cut, canvas_wh: tuple[int, int]) -> float:
    """How far below its centre an upright cutout's foot row lies, per unit of scale (the scene
    sampler's ground-plane rule: its height is ``scale * min(W, H)`` for its longer side)."""
    ow, oh = cut.size_wh[0] - 2 * PAD, cut.size_wh[1] - 2 * PAD
    return min(canvas_wh) * oh / max(ow, oh) / 2.0


def ground_of(scene: Scene, cut) -> Ground | None:
    """The ground an object of ``scene`` walks on (None: not a ground-plane scene)."""
    return None if scene.horizon is None else Ground(scene.horizon, tuple(scene.canvas_wh), foot_per_scale(cut, scene.canvas_wh))


def entry_frames(rate: float, fps: float, frames: int, rng: np.random.Generator, room: int) -> list[int]:
    """Entry frames (1..frames-1) of a Poisson process of ``rate`` per second, at most ``room``."""
    out: list[int] = []
    if rate <= 0:
        return out
    time = 0.0
    while len(out) < room:
        time += float(rng.exponential(fps / rate))
        entry = max(1, math.ceil(time))
        if entry >= frames:
            break
        out.append(entry)
    return out


def _movers(cfg: Config, lib: AssetLibrary) -> list[str]:
    """The classes that may enter: every pasted class but ``clips.still_classes``."""
    return [c for c in lib.paste_classes if c not in cfg.clips.still_classes]


def sample_entering(
    cfg: Config, lib: AssetLibrary, class_weights: dict[str, float] | None, scene: Scene, fps: float, frames: int,
    camera: Camera | None,
) -> list[tuple[Placement, Track]]:
    """The objects entering clip ``scene.index`` in its first ``frames`` frames: each placement
    (in frame 0's canvas coordinates, as at its entry frame) with its track."""
    if cfg.clips.enter_rate <= 0 or not _movers(cfg, lib):
        return []
    clip = scene.index
    first = len(scene.real) + len(scene.placements) + 1
    entries = entry_frames(cfg.clips.enter_rate, fps, frames, image_rng(cfg.seed, clip, Stream.CLIPS, 0, 1),
                           MAX_INSTANCES - first)
    return [_enter(cfg, lib, class_weights, scene, fps, e, first + j, camera, j) for j, e in enumerate(entries)]


OUTSIDE_TRIES = 4  # ground plane: nudges that put the silhouette wholly outside the frame before entry


def _enter(cfg, lib, class_weights, scene: Scene, fps, entry: int, instance_id: int, camera, j: int):
    rng = image_rng(cfg.seed, scene.index, Stream.CLIPS, 0, 2, j)
    sc = cfg.scene
    W, H = scene.canvas_wh
    classes = _movers(cfg, lib)
    weights_by_class = class_weights if class_weights is not None else (sc.class_weights or {})
    w = np.array([weights_by_class.get(c, 1.0) for c in classes], np.float64)
    w = w / w.sum() if w.sum() > 0 else np.full(len(classes), 1.0 / len(classes))
    label = classes[int(rng.choice(len(classes), p=w))]
    pool = lib.cutouts[label]
    cut = pool[int(rng.integers(len(pool)))]
    rotation = float(rng.uniform(*sc.rotation))
    flip = bool(rng.random() < sc.flip_probability)
    tilt = float(rng.uniform(*sc.perspective))
    persp = tuple(float(v) for v in rng.uniform(-tilt, tilt, size=8)) if tilt > 0 else (0.0,) * 8
    blend, blend_params = _blend(cfg, rng, choice_cdf(np.array(cfg.render.blending.probabilities(), np.float64)))
    jit, shadows = cfg.render.jitter, cfg.render.shadows
    jitter = _maybe(rng, jit.p, {"brightness": jit.brightness, "hue": jit.hue, "saturation": jit.saturation})
    shadow = _maybe(rng, shadows.p, {"opacity": shadows.opacity, "length": shadows.length, "softness": shadows.softness})
    scale = float(math.exp(rng.uniform(math.log(sc.scale[0]), math.log(sc.scale[1]))))
    ground = scene.horizon is not None
    edge = ("left", "right")[int(rng.integers(2))] if ground else str(rng.choice(list(INWARD), p=np.array([H, H, W, W]) / (2 * (W + H))))
    if ground:  # a foot row below the horizon (as the camera sees it at the entry frame) and its scale
        horizon = scene.horizon if camera is None else camera.point((0.0, scene.horizon), entry)[1]
        horizon = min(max(horizon, 0.0), H - 1.0)
        fy = float(rng.uniform(horizon + 0.02 * (H - horizon), H))
        scale *= max((fy - horizon) / (H - horizon), 0.1)
        along = fy - scale * foot_per_scale(cut, scene.canvas_wh)
    else:
        along = float(rng.uniform(0.0, H if edge in ("left", "right") else W))
    spread = GROUND_SPREAD if ground else SPREAD
    p = Placement(
        instance_id=instance_id, label=label, category_id=lib.classes.index(label) + 1, asset=cut.name, scale=scale,
        rotation=rotation, flip=flip, perspective=persp, center=(0.0, 0.0), blend=blend, blend_params=blend_params,
        jitter=jitter, shadow=shadow,
    )
    heading = (INWARD[edge] - spread, INWARD[edge] + spread)  # on a ground plane: in ground coordinates, along the edge's normal
    if ground:
        p = dataclasses.replace(p, center=(0.0, along))  # its depth sets its speed on the ground
    clips = cfg.clips
    track = dataclasses.replace(
        sample_track(cfg.seed, scene.index, p, scene.canvas_wh, fps, heading, turning=clips.turning, stopping=clips.stopping,
                     ground=ground_of(scene, cut)),
        entry=entry,
    )
    # the silhouette one frame before entry, around the centre it then has (image pixels)
    _, (x0, y0, x1, y1) = placed_box(cut, track.move(p, entry - 1), scene.canvas_wh)
    margin = 2.0 + 0.05 * max(x1 - x0, y1 - y0)
    cx, cy = {
        "left": (-margin - x1, along), "right": (W + margin - x0, along),
        "top": (along, -margin - y1), "bottom": (along, H + margin - y0),
    }[edge]
    if ground:  # perspective: lateral motion is not quite a shift; nudge until wholly outside
        for _ in range(OUTSIDE_TRIES):
            box = placed_box(cut, track.move(dataclasses.replace(p, center=(cx, cy)), entry - 1), scene.canvas_wh)[1]
            if clip_box(box, scene.canvas_wh) is None:
                break
            bx0, _, bx1, _ = box
            cx += -(bx1 + margin) if edge == "left" else (W + margin - bx0)
    if camera is not None:  # the image point at the entry frame, in frame 0's canvas (where tracks live)
        ax, bx, ay, by = camera.transform(entry - 1)
        cx, cy = (cx - bx) / ax, (cy - by) / ay
        p = dataclasses.replace(p, scale=p.scale / math.sqrt(ax * ay))
    return dataclasses.replace(p, center=(cx, cy)), track
