"""Scene sampling: a pure function of (config, assets, seed, index) -> a frozen Scene.

All randomness of an image is drawn here, from the image's own generator, before any pixel is
painted. Placement controls (truncation, occlusion) are checked against the exact silhouettes the
renderer will paint, using the same warp.
"""

from __future__ import annotations

import bisect
import functools
import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from synthgen.assets import PAD, AssetLibrary, Cutout, WarpCache
from synthgen.config import BLEND_MODES, Config
from synthgen.geometry import alpha_cut, clip_box, homography, tight_box, warp, warp_box
from synthgen.lane_placement import lane_spots
from synthgen.types import (
    MAX_INSTANCES,
    BackgroundPlacement,
    Placement,
    RealLabel,
    Scene,
)


def cutout_matrix(cut: Cutout, p: Placement, canvas_wh: tuple[int, int]) -> np.ndarray:
    w, h = cut.size_wh
    return homography(
        (w, h),
        (w - 2 * PAD, h - 2 * PAD),
        canvas_wh,
        scale=p.scale,
        rotation=p.rotation,
        flip=p.flip,
        perspective=p.perspective,
        center=p.center,
    )


def placed_box(cut: Cutout, p: Placement, canvas_wh: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The placement's matrix (:func:`cutout_matrix`) and the canvas box its warp fills
    (``warp_box``, no margin); scene sampling and rendering ask for the same ones."""
    return _matrix_box(cut.size_wh, canvas_wh, p.scale, p.rotation, p.flip, p.perspective, p.center)


@functools.lru_cache(maxsize=256)
def _matrix_box(size_wh, canvas_wh, scale, rotation, flip, perspective, center):
    w, h = size_wh
    Hm = homography(
        (w, h), (w - 2 * PAD, h - 2 * PAD), canvas_wh,
        scale=scale, rotation=rotation, flip=flip, perspective=perspective, center=center,
    )
    return Hm, warp_box(Hm, size_wh)


def _sample_background(cfg: Config, lib: AssetLibrary, rng: np.random.Generator) -> BackgroundPlacement:
    W, H = cfg.canvas.width, cfg.canvas.height
    real = lib.scenes is not None and bool(rng.random() < cfg.assets.scenes.p)
    if real:
        bi = int(rng.integers(len(lib.scenes.images)))
        im = lib.scenes.images[bi]
        bw, bh, name = im.width, im.height, im.path.name
    else:
        bi = int(rng.integers(len(lib.backgrounds)))
        bw, bh = lib.backgrounds[bi].size_wh
        name = lib.backgrounds[bi].name
    aspect = W / H
    cw = min(bw, bh * aspect)
    s = uniform(rng, *cfg.scene.background.crop_scale)
    w = max(1, min(bw, int(round(cw * s))))
    h = max(1, min(bh, int(round(cw * s / aspect))))
    x = int(rng.integers(bw - w + 1))
    y = int(rng.integers(bh - h + 1))
    flip = bool(rng.random() < cfg.scene.background.flip_probability)
    return BackgroundPlacement(name=name, index=bi, crop_xywh=(x, y, w, h), flip=flip, real_scene=real)


@dataclass(frozen=True, eq=False)
class RealObject:
    """An annotation of a real scene, moved like the background.

    ``kind`` is "object" (labeled like a pasted one), "crowd" (an ``iscrowd`` region, kept as
    one) or "box" (a box-only annotation: its box becomes an ``iscrowd`` ignore region, since
    the object is visible but its pixels are unknown). The annotation's pixels (a box-only one:
    every pixel its box touches) are rasterized once, in canvas coordinates, as far as the
    annotation goes: ``whole`` (at canvas ``origin``) is the amodal extent, and ``mask`` its part
    in the frame, the same nearest-neighbour resize of the crop as the background's.
    """

    instance: Any  # io.real.RealInstance
    kind: str
    mask: np.ndarray  # bool, canvas-sized
    whole: np.ndarray  # bool
    origin: tuple[int, int]  # x, y


def real_objects(bg: BackgroundPlacement, lib: AssetLibrary, canvas_wh: tuple[int, int]) -> list[RealObject]:
    """The annotations of a real scene that show in the canvas, in annotation order."""
    if not bg.real_scene:
        return []
    # sampling and rendering of one image both ask; the bounded cache keeps it to one decode
    return lib.cached(("real", bg.index, bg.crop_xywh, bg.flip, canvas_wh), lambda: _move_real_objects(bg, lib, canvas_wh))


def _canvas_axis(lo: int, hi: int, start: int, length: int, out: int) -> tuple[int, np.ndarray]:
    """Canvas positions along one axis whose nearest source pixel lies in [lo, hi) when the
    source span [start, start + length) is resized to ``out`` pixels: (first position, source
    index of each). Inside the canvas the source index is OpenCV's own (INTER_NEAREST), so the
    in-frame part is exactly ``cv2.resize``; outside it the same rule, floor(u * length / out),
    continues in exact integers."""
    ramp = np.arange(length, dtype=np.float32)[None, :]
    inside = cv2.resize(ramp, (out, 1), interpolation=cv2.INTER_NEAREST)[0].astype(np.int64)
    first = min(0, -((-(lo - start) * out) // length)) - 1  # ceil, and one more for safety
    last = max(out, -((-(hi - start) * out) // length)) + 1
    u = np.arange(first, last)
    src = (u * length) // out  # exact floor outside the canvas
    src[-first : -first + out] = inside
    src += start
    keep = np.flatnonzero((src >= lo) & (src < hi))
    if keep.size == 0:
        return 0, keep
    return int(u[keep[0]]), src[keep[0] : keep[-1] + 1]


def _move_real_objects(bg: BackgroundPlacement, lib: AssetLibrary, canvas_wh: tuple[int, int]) -> list[RealObject]:
    im = lib.scenes.images[bg.index]
    W, H = canvas_wh
    x, y, w, h = bg.crop_xywh
    out = []
    for inst in im.instances:
        region = inst.region(im.height, im.width)
        tb = tight_box(region)
        if tb is None:
            continue
        u0, cols = _canvas_axis(tb[0], tb[0] + tb[2], x, w, W)
        v0, rows = _canvas_axis(tb[1], tb[1] + tb[3], y, h, H)
        if cols.size == 0 or rows.size == 0:
            continue
        whole = region[np.ix_(rows, cols)]
        if bg.flip:
            whole = whole[:, ::-1]
            u0 = W - (u0 + whole.shape[1])
        mask = np.zeros((H, W), bool)
        cy0, cy1 = max(v0, 0), min(v0 + whole.shape[0], H)
        cx0, cx1 = max(u0, 0), min(u0 + whole.shape[1], W)
        if cy0 < cy1 and cx0 < cx1:
            mask[cy0:cy1, cx0:cx1] = whole[cy0 - v0 : cy1 - v0, cx0 - u0 : cx1 - u0]
        if not mask.any():
            continue
        mask.flags.writeable = False
        whole = np.ascontiguousarray(whole)
        whole.flags.writeable = False
        out.append(RealObject(inst, inst.kind, mask, whole, (u0, v0)))
    return out


def region_in_canvas(scene_bg: BackgroundPlacement, lib: AssetLibrary, canvas_wh: tuple[int, int]) -> np.ndarray | None:
    """The background's placement region cropped, resized and flipped like the background."""
    out = _region_unflipped(scene_bg, lib, canvas_wh)
    if out is None:
        return None
    out = out.astype(bool)
    return out[:, ::-1] if scene_bg.flip else out


def _region_unflipped(scene_bg: BackgroundPlacement, lib: AssetLibrary, canvas_wh: tuple[int, int]) -> np.ndarray | None:
    """:func:`region_in_canvas` as 0/1 uint8, before the flip."""
    region = None if scene_bg.real_scene else lib.region(scene_bg.index)
    if region is None:
        return None
    x, y, w, h = scene_bg.crop_xywh
    crop = region[y : y + h, x : x + w].astype(np.uint8)
    return cv2.resize(crop, canvas_wh, interpolation=cv2.INTER_NEAREST)


class _Feet:
    """The pixels of a scene's placement region (:func:`region_in_canvas`, rows from ``first``
    down) where objects may stand: ``feet[k]`` is (x, y) of ``np.flatnonzero(region)[k]``, found
    from each row's running count and then in its row, without listing every pixel (a third of
    a millisecond on a 640x480 region)."""

    def __init__(self, region01: np.ndarray, flip: bool, first: int = 0) -> None:
        """``region01``: the region before its flip, 0/1 uint8 (:func:`_region_unflipped`)."""
        counts = cv2.reduce(region01, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()  # flipping keeps them
        counts[: max(first, 0)] = 0
        self._ends = np.cumsum(counts).tolist()
        self.size = self._ends[-1]
        self._rows = region01[:, ::-1] if flip else region01

    def __getitem__(self, k: int) -> tuple[int, int]:
        y = bisect.bisect_right(self._ends, k)  # the first row whose running count passes k
        before = self._ends[y - 1] if y else 0
        return int(np.flatnonzero(self._rows[y])[k - before]), y


def _feet(scene_bg: BackgroundPlacement, lib: AssetLibrary, canvas_wh: tuple[int, int], horizon: float | None) -> _Feet | None:
    """Where objects may stand (``scene.placement.regions``): the background's region, below
    the horizon when there is one; None when it has none or it is empty."""
    region01 = _region_unflipped(scene_bg, lib, canvas_wh)
    if region01 is None:
        return None
    feet = _Feet(region01, scene_bg.flip, 0 if horizon is None else int(math.ceil(horizon)) + 1)
    return feet if feet.size > 0 else None


def alpha_mask(rgba: np.ndarray, cut: int) -> np.ndarray:
    """``rgba[..., 3] >= cut`` as a bool array (OpenCV: a third of numpy's time on the strided
    alpha channel)."""
    alpha = cv2.extractChannel(rgba, 3)
    return cv2.threshold(alpha, cut - 1, 1, cv2.THRESH_BINARY)[1].view(bool)


def hard_key(key: tuple) -> tuple:
    """The WarpCache key under which a kept warp's :func:`alpha_mask` is kept beside it."""
    return (*key, "alpha_mask")


def blend_margin(p: Placement) -> int:
    """Pixels a placement's blending mode spreads beyond its warped box (the renderer's margin)."""
    return _margin(p.blend, p.blend_params)


def _margin(blend: str, params: tuple[tuple[str, float], ...]) -> int:
    if blend == "gaussian":
        return int(math.ceil(3 * dict(params).get("sigma", 0.0))) + 1
    if blend == "motion":
        return int(dict(params).get("length", 0.0)) // 2 + 1
    return 0


def uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """``float(rng.uniform(low, high))`` for scalar bounds: the same draw and the same value
    (numpy computes ``low + (high - low) * next_double``, next_double being ``rng.random()``),
    without the two 0-d arrays numpy makes of the bounds at every call (a quarter of its cost)."""
    low, high = float(low), float(high)
    if high - low < 0:
        raise ValueError("high - low < 0")  # numpy's own refusal
    return low + (high - low) * rng.random()


def _offsets(rng: np.random.Generator, tilt: float) -> tuple[float, ...]:
    """The 8 perspective offsets of a placement: ``rng.uniform(-tilt, tilt, size=8)`` as floats,
    numpy's eight draws of ``-tilt + (tilt - -tilt) * next_double`` (see :func:`uniform`); no
    draw when ``tilt`` is 0."""
    if tilt > 0:
        return tuple([-tilt + (tilt + tilt) * v for v in rng.random(8).tolist()])
    return (0.0,) * 8


def _maybe(rng: np.random.Generator, p: float, ranges: dict[str, tuple[float, float]]) -> tuple[tuple[str, float], ...]:
    """Draw whether a per-object option fires, then its values (always the same draws)."""
    fires = rng.random() < p
    # rng.uniform(*r) for each range in turn: the same draws as one rng.random(n) (see uniform)
    draws = rng.random(len(ranges)).tolist()
    values = tuple([(k, float(lo) + (float(hi) - float(lo)) * d) for (k, (lo, hi)), d in zip(ranges.items(), draws)])
    return values if fires else ()


def choice_cdf(p: np.ndarray) -> list[float]:
    """The cumulative probabilities :func:`pick` draws from, made once for many draws."""
    cdf = np.asarray(p, np.float64).cumsum()
    cdf /= cdf[-1]
    return cdf.tolist()


def pick(rng: np.random.Generator, cdf: list[float]) -> int:
    """``rng.choice(len(p), p=p)`` for ``cdf = choice_cdf(p)``: the same draw and the same index
    (numpy's choice is this very search on one ``rng.random()``), without re-checking ``p`` and
    rebuilding its cumulative sum at every call."""
    return bisect.bisect_right(cdf, rng.random())


def _blend(cfg: Config, rng: np.random.Generator, cdf: list[float]) -> tuple[str, tuple[tuple[str, float], ...]]:
    """``cdf``: :func:`choice_cdf` of the modes' probabilities (``render.blending.probabilities()``)."""
    b = cfg.render.blending
    mode = BLEND_MODES[pick(rng, cdf)]
    if mode == "gaussian":
        return mode, (("sigma", uniform(rng, *b.gaussian_sigma)),)
    if mode == "motion":
        length = int(rng.integers(b.motion_length[0], b.motion_length[1] + 1))
        return mode, (("length", float(length)), ("angle", uniform(rng, 0.0, 180.0)))
    return mode, ()


_NOTHING_UNDER = np.zeros(1, np.intp)  # what _under finds where nothing is painted (callers read counts[1:] only)
_SHORT_COUNTS = 64  # counts up to this long are read in Python; longer ones (crowds) through numpy


def _covered(counts: np.ndarray) -> list[tuple[int, int]]:
    """(id, pixels) of every id above 0 that a bincount ``counts`` holds, in id order."""
    if len(counts) <= _SHORT_COUNTS:
        c = counts.tolist()
        return [(k, c[k]) for k in range(1, len(c)) if c[k]]
    ks = (np.flatnonzero(counts[1:]) + 1).tolist()
    return list(zip(ks, counts[ks].tolist()))


class _Canvas:
    """The sampler's running id map, to measure truncation and occlusion exactly."""

    def __init__(self, W: int, H: int, cut: int) -> None:
        self.wh = (W, H)
        self.ids = np.zeros((H, W), np.uint16)
        self.visible: dict[int, int] = {}  # labeled id -> visible pixels now
        self.inframe: dict[int, int] = {}  # labeled id -> in-frame silhouette pixels
        self.cut = cut
        self._counts = None  # (clip, local, counts) of the last _under()

    def silhouette(self, rgba: np.ndarray, Hm: np.ndarray, box, margin: int, clip):
        """The silhouette of a cutout placed by ``Hm`` in ``box`` (its ``warp_box``), whose
        in-frame part ``clip`` is not empty: (warp, its alpha mask, local mask, pixels in all,
        in frame); the local mask is None when the silhouette is empty.

        The cutout is warped here whole, RGBA, once, into the box the renderer paints it in (the
        warp's box widened by the blending ``margin``), and the silhouette read from the middle
        of it: the sampler hands that warp to the renderer when the placement is accepted.
        """
        wide = box if margin == 0 else (box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin)
        warped = warp(rgba, Hm, wide)
        hard_wide = alpha_mask(warped, self.cut)
        hard = hard_wide if margin == 0 else hard_wide[margin:-margin, margin:-margin]
        total = int(np.count_nonzero(hard))
        if total == 0:
            return warped, hard_wide, None, 0, 0
        if clip == box:  # wholly in the frame
            return warped, hard_wide, hard, total, total
        x0, y0, x1, y1 = clip
        local = hard[y0 - box[1] : y1 - box[1], x0 - box[0] : x1 - box[0]]
        return warped, hard_wide, local, total, int(np.count_nonzero(local))

    def _under(self, clip, local) -> np.ndarray:
        """Pixels of each id the silhouette ``local`` at ``clip`` would cover (bincount); the
        occlusion check and the paint that follows it ask for the same one."""
        last = self._counts
        if last is not None and last[0] == clip and last[1] is local:
            return last[2]
        x0, y0, x1, y1 = clip
        under = self.ids[y0:y1, x0:x1]
        if not cv2.countNonZero(under):
            counts = _NOTHING_UNDER  # nothing painted where it goes
        else:  # counted over the painted pixels only (counts[0] is not read)
            painted = under != 0
            painted &= local
            counts = np.bincount(under[painted], minlength=1)
        self._counts = (clip, local, counts)
        return counts

    def hides_too_much(self, clip, local, max_hidden: float) -> bool:
        counts = self._under(clip, local)
        if len(counts) < 2:
            return False
        keep = 1.0 - max_hidden
        inframe, visible = self.inframe, self.visible
        for k, c in _covered(counts):
            if k in inframe and visible[k] - c < keep * inframe[k] - 1e-9:
                return True
        return False

    def paint(self, clip, local, instance_id: int, labeled: bool, inframe: int) -> None:
        counts = self._under(clip, local)
        if len(counts) > 1:
            visible = self.visible
            for k, c in _covered(counts):
                if k in visible:
                    visible[k] -= c
        x0, y0, x1, y1 = clip
        np.copyto(self.ids[y0:y1, x0:x1], instance_id, where=local)
        self._counts = None  # the id map changed
        if labeled:
            self.visible[instance_id] = inframe
            self.inframe[instance_id] = inframe


def sample_scene(
    cfg: Config,
    lib: AssetLibrary,
    index: int,
    *,
    rng: np.random.Generator,
    class_weights: dict[str, float] | None = None,
) -> Scene:
    """Draw every parameter of image ``index``; checks placements against exact silhouettes.

    ``class_weights`` (default: ``scene.class_weights``) weighs the classes that have cutouts.

    Draws are numpy's own calls or, where noted, the same draws written out (``uniform``:
    ``low + (high - low) * rng.random()``, which is what ``rng.uniform`` computes). A try whose
    warped box misses the canvas is refused before its warp (it could not show a pixel), and
    only an accepted try becomes a ``Placement``: every decision and draw is as if each try had
    been warped and checked in full.
    """
    sc = cfg.scene
    W, H = cfg.canvas.width, cfg.canvas.height
    wh = (W, H)
    background = _sample_background(cfg, lib, rng)

    pool_classes = lib.paste_classes
    weights_by_class = class_weights if class_weights is not None else (sc.class_weights or {})
    weights = np.array([weights_by_class.get(c, 1.0) for c in pool_classes], np.float64)
    if weights.sum() <= 0:
        weights = np.ones_like(weights)
    class_cdf = choice_cdf(weights / weights.sum())
    n_objects = int(rng.integers(sc.objects_per_image[0], sc.objects_per_image[1] + 1))
    n_distract = 0
    if lib.distractors:
        n_distract = int(rng.integers(sc.distractors.count[0], sc.distractors.count[1] + 1))
    # Objects and distractors interleave in z-order.
    kinds = rng.permutation(np.array([True] * n_objects + [False] * n_distract, dtype=bool))

    light_angle = uniform(rng, *sc.light_angle)
    ground = sc.placement.mode == "ground_plane"
    horizon = uniform(rng, *sc.placement.horizon) * H if ground else None
    feet = _feet(background, lib, wh, horizon) if sc.placement.regions else None  # where objects may stand
    lanes = lane_spots(sc.placement.lanes, lib.lines.get(background.index), background, wh)
    jit, shadows = cfg.render.jitter, cfg.render.shadows
    jitter_ranges = {"brightness": jit.brightness, "hue": jit.hue, "saturation": jit.saturation}
    shadow_ranges = {"opacity": shadows.opacity, "length": shadows.length, "softness": shadows.softness}
    blend_cdf = choice_cdf(cfg.render.blending.probabilities())

    canvas = _Canvas(W, H, alpha_cut(cfg.render.alpha_threshold))
    real = []
    for obj in real_objects(background, lib, wh)[: MAX_INSTANCES - 1]:
        rid = len(real) + 1
        inst = obj.instance
        real.append(RealLabel(rid, lib.classes.index(inst.category) + 1, inst.category, inst.ann_id, obj.kind))
        if obj.kind == "object":  # crowd and ignore regions set no occlusion limit
            canvas.paint((0, 0, W, H), obj.mask, rid, labeled=True, inframe=int(obj.mask.sum()))
    # the draws of every try, written out as rng.uniform computes them (see uniform)
    log_lo = math.log(sc.scale[0])
    log_span = math.log(sc.scale[1]) - log_lo
    rot_lo, rot_hi = float(sc.rotation[0]), float(sc.rotation[1])
    tilt_lo, tilt_hi = float(sc.perspective[0]), float(sc.perspective[1])
    fW, fH = float(W), float(H)
    allow_cut, min_visible = sc.truncation.allowed, sc.truncation.min_visible
    max_hidden = sc.occlusion.max_hidden
    placements: list[Placement] = []
    unplaced = 0
    for is_object in kinds:
        if is_object:
            label = pool_classes[pick(rng, class_cdf)]
            pool = lib.cutouts[label]
            category_id: int | None = lib.classes.index(label) + 1
        else:
            pool = lib.distractors
            category_id = None
        cut = pool[int(rng.integers(len(pool)))]
        if not is_object:
            label = cut.label
        rotation = uniform(rng, rot_lo, rot_hi)
        flip = bool(rng.random() < sc.flip_probability)
        tilt = uniform(rng, tilt_lo, tilt_hi)
        persp = _offsets(rng, tilt)
        blend, blend_params = _blend(cfg, rng, blend_cdf)
        jitter = _maybe(rng, jit.p, jitter_ranges)
        shadow = _maybe(rng, shadows.p, shadow_ranges)
        instance_id = len(real) + len(placements) + 1
        if instance_id >= MAX_INSTANCES:  # ids must fit the annotation id scheme
            unplaced += 1
            continue
        ow, oh = cut.size_wh[0] - 2 * PAD, cut.size_wh[1] - 2 * PAD
        in_lane = lanes is not None and is_object and label in lanes.classes  # scene.placement.lanes
        margin = _margin(blend, blend_params)
        accepted = None
        for _ in range(sc.max_tries):
            scale = math.exp(log_lo + log_span * rng.random())
            if in_lane:
                fx, fy, width = lanes.sample(rng)
                scale = width * max(ow, oh) / (ow * min(W, H))
                center = (fx, fy - scale * min(W, H) * oh / max(ow, oh) / 2.0)
            elif feet is None and not ground:
                center = (0.0 + fW * rng.random(), 0.0 + fH * rng.random())
            else:
                if feet is not None:
                    x, y = feet[int(rng.integers(feet.size))]
                    fx, fy = float(x) + rng.random(), float(y) + rng.random()
                else:
                    fx = 0.0 + fW * rng.random()
                    fy = uniform(rng, horizon + 0.02 * (H - horizon), fH)
                if ground:  # further away (closer to the horizon) means smaller
                    scale *= max((fy - horizon) / (H - horizon), 0.1)  # not microscopic at the horizon
                height = scale * min(W, H) * oh / max(ow, oh)
                center = (fx, fy - height / 2.0)
            Hm, box = _matrix_box(cut.size_wh, wh, scale, rotation, flip, persp, center)  # = placed_box
            clip = clip_box(box, wh)
            if clip is None:  # no pixel of it can be in the frame: refused, as its warp would be
                continue
            warped, hard_wide, local, total, inframe = canvas.silhouette(cut.rgba, Hm, box, margin, clip)
            if inframe == 0:
                continue
            if allow_cut:
                if inframe < min_visible * total - 1e-9:
                    continue
            elif inframe != total:
                continue
            if canvas.hides_too_much(clip, local, max_hidden):
                continue
            accepted = (scale, center, Hm, box, clip, local, inframe, warped, hard_wide)
            break
        if accepted is None:
            unplaced += 1
            continue
        scale, center, Hm, box, clip, local, inframe, warped, hard_wide = accepted
        # the renderer takes this warp rather than making it again (see WarpCache)
        key = WarpCache.key(cut, Hm, box if margin == 0 else (box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin))
        lib.warps.put(key, warped)
        lib.warps.put(hard_key(key), hard_wide)
        canvas.paint(clip, local, instance_id, labeled=category_id is not None, inframe=inframe)
        placements.append(
            Placement(
                instance_id=instance_id,
                label=label,
                category_id=category_id,
                asset=cut.name,
                scale=scale,
                rotation=rotation,
                flip=flip,
                perspective=persp,
                center=center,
                blend=blend,
                blend_params=blend_params,
                jitter=jitter,
                shadow=shadow,
            )
        )
    return Scene(
        index=index,
        seed=cfg.seed,
        canvas_wh=wh,
        background=background,
        placements=tuple(placements),
        unplaced=unplaced,
        light_angle=light_angle,
        horizon=horizon,
        real=tuple(real),
    )
