"""Rendering: Scene + assets -> the first Frame (RGB image, uint16 instance-id map, layers).
No randomness here.

Cutouts are warped into their own box (never the whole frame) and composited bottom to top.
The id map takes, at each pixel, the top-most object whose alpha as mixed into the image (its
warped alpha, blurred by a soft blending edge or a per-object blur) is at or above the
threshold: a label follows the pixels.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import cv2
import numpy as np

from synthgen.assets import AssetLibrary, WarpCache
from synthgen.effects.functional import motion_kernel
from synthgen.frame import Frame, Layer
from synthgen.geometry import alpha_cut, clip_box, warp
from synthgen.scene import alpha_mask, blend_margin, hard_key, placed_box, real_objects
from synthgen.types import Placement, Scene


def _harmonize_in_place(image, rgb, hard, clip, strength, target=None):
    """Harmonize against a ring of canvas around the object's box (a quarter of its size)."""
    x0, y0, x1, y1 = clip
    H, W = image.shape[:2]
    m = max(4, (max(x1 - x0, y1 - y0)) // 4)
    ex0, ey0, ex1, ey1 = max(x0 - m, 0), max(y0 - m, 0), min(x1 + m, W), min(y1 + m, H)
    around = image[ey0:ey1, ex0:ex1]
    ring = np.ones(around.shape[:2], bool)
    ring[y0 - ey0 : y1 - ey0, x0 - ex0 : x1 - ex0] = ~hard
    return harmonize(rgb, hard, around, ring, strength, target)


def render_background(scene: Scene, lib: AssetLibrary) -> np.ndarray:
    bg = scene.background
    src = lib.scene_image(bg.index) if bg.real_scene else lib.background(bg.index)
    x, y, w, h = scene.background.crop_xywh
    W, H = scene.canvas_wh
    crop = src[y : y + h, x : x + w]
    # INTER_AREA only where bilinear would alias (strong downscales); it costs ~5x more
    interp = cv2.INTER_AREA if w > 2 * W else cv2.INTER_LINEAR
    out = cv2.resize(crop, (W, H), interpolation=interp)
    if scene.background.flip:
        out = cv2.flip(out, 1)
    return out


def soft_alpha(alpha: np.ndarray, p: Placement) -> np.ndarray:
    """Float alpha in [0, 1] used to mix colours, per blending mode."""
    a = alpha.astype(np.float32) * (1.0 / 255.0)
    if p.blend == "gaussian":
        return cv2.GaussianBlur(a, (0, 0), p.param("sigma"), borderType=cv2.BORDER_CONSTANT)
    if p.blend == "motion":
        k = motion_kernel(int(p.param("length")), p.param("angle"))
        return cv2.filter2D(a, -1, k, borderType=cv2.BORDER_CONSTANT)
    return a


POISSON_MAX_SIDE = 48  # the membrane is solved on a grid this coarse, then upsampled


_DX = np.array([[0, -1, 1]], np.float32)  # forward difference along x (OpenCV's cloning kernels)
_DY = np.ascontiguousarray(_DX.T)
_BX = np.array([[-1, 1, 0]], np.float32)  # backward difference along x: with _DX, the 5-point Laplacian
_BY = np.ascontiguousarray(_BX.T)
_NEAR = np.ones((3, 3), np.uint8)


@functools.lru_cache(maxsize=128)
def _sine_basis(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The orthonormal type-I discrete sine transform of size n (a symmetric matrix, its own
    inverse) and the eigenvalues of the 1-D second difference with zero ends it diagonalizes."""
    k = np.arange(1, n + 1, dtype=np.float64)
    S = np.sqrt(2.0 / (n + 1)) * np.sin(np.pi * np.outer(k, k) / (n + 1))
    return S.astype(np.float32), (2.0 * np.cos(np.pi * k / (n + 1)) - 2.0).astype(np.float32)


def _clone(src: np.ndarray, dst: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """``cv2.seamlessClone(src, dst, mask, centre, NORMAL_CLONE)`` of same-size patches (the
    same equations, solved exactly; OpenCV's own result differs by its float rounding, at most
    one level), or None where it cannot run.

    As OpenCV does: on the mask's bounding box, whose border keeps ``dst``, the result's
    gradients are ``src``'s where the mask eroded three times (3x3) is, ``dst``'s elsewhere.
    With f = dst + m, that is the Poisson equation lap(m) = div(inner * grad(src - dst)),
    m = 0 on the border, solved by a 2-D sine transform (four small matrix products, a quarter
    of seamlessClone's time here). Values are cut to 0..255 and truncated, as OpenCV's are.
    """
    mask = mask.copy()
    mask[0, :] = mask[-1, :] = 0  # the solver needs a zero border around the mask
    mask[:, 0] = mask[:, -1] = 0
    if not cv2.countNonZero(mask):
        return None
    x, y, w, h = cv2.boundingRect(mask)
    if w < 3 or h < 3:  # OpenCV's solver fails on thinner masks
        return None
    d = dst[y : y + h, x : x + w]
    inner = cv2.erode(mask[y : y + h, x : x + w], _NEAR, iterations=3, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    inner = cv2.merge([inner] * 3)
    q = cv2.subtract(src[y : y + h, x : x + w], d, dtype=cv2.CV_32F)
    gx = cv2.filter2D(q, cv2.CV_32F, _DX)
    gy = cv2.filter2D(q, cv2.CV_32F, _DY)
    gx = cv2.multiply(gx, inner, scale=1.0 / 255.0, dtype=cv2.CV_32F)
    gy = cv2.multiply(gy, inner, scale=1.0 / 255.0, dtype=cv2.CV_32F)
    rhs = cv2.add(cv2.filter2D(gx, cv2.CV_32F, _BX), cv2.filter2D(gy, cv2.CV_32F, _BY))[1:-1, 1:-1]
    Sr, lr = _sine_basis(h - 2)
    Sc, lc = _sine_basis(w - 2)
    t = np.matmul(Sr, np.ascontiguousarray(rhs.transpose(2, 0, 1))) @ Sc  # channels first
    t /= lr[:, None] + lc[None, :]
    t = (np.matmul(Sr, t) @ Sc).transpose(1, 2, 0)
    t += d[1:-1, 1:-1]
    t += 1e-3  # float noise on a whole level (m = 0 where only dst's gradients rule) must not truncate down
    out = dst.copy()
    np.clip(t, 0, 255, out=t)
    out[y + 1 : y + h - 1, x + 1 : x + w - 1] = t.astype(np.uint8)  # truncated, as OpenCV's
    return out


def _poisson(dst: np.ndarray, src: np.ndarray, hard: np.ndarray) -> None:
    """Poisson (gradient-domain) blending of ``src`` into ``dst`` inside ``hard``, in place.

    The result is ``src`` plus a smooth membrane that takes the edge colour difference to the
    background. The membrane is smooth, so it is solved on a grid at most POISSON_MAX_SIDE
    pixels a side and upsampled: the same look at a small fraction of the full solve's cost.
    A full membrane can wash a flat-coloured object out entirely (a labeled object nobody can
    see), so it fades from full strength at the edge to nothing a fifth of the way in.
    """
    h, w = hard.shape
    f = min(1.0, POISSON_MAX_SIDE / max(h, w))
    sw, sh = max(3, round(w * f)), max(3, round(h * f))
    interp = cv2.INTER_AREA if f < 1.0 else cv2.INTER_NEAREST
    hard8 = hard.view(np.uint8)
    src_s = cv2.resize(src, (sw, sh), interpolation=interp)
    dst_s = cv2.resize(dst, (sw, sh), interpolation=interp)
    # numpy, not cv2.multiply(hard8, 255): OpenCV takes an array of 4 or fewer rows in one column
    # for a scalar and refuses the pair (a sliver of an object at the frame's edge)
    mask_s = cv2.resize(hard8 * np.uint8(255), (sw, sh), interpolation=cv2.INTER_AREA)
    cloned = _clone(src_s, dst_s, cv2.compare(mask_s, 0, cv2.CMP_GT))
    if cloned is None:
        composite_hard(dst, src, hard)
        return
    membrane = cv2.subtract(cloned, src_s, dtype=cv2.CV_16S)
    membrane = cv2.resize(membrane.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    depth = cv2.distanceTransform(cv2.copyMakeBorder(hard8, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0), cv2.DIST_L2, 3)
    depth = depth[1:-1, 1:-1]
    reach = max(2.0, 0.2 * float(depth.max()) * 2.0)
    fade = depth - 1.0  # in place from here: clip(1 - (depth - 1) / reach, 0, 1)
    fade /= reach
    np.subtract(1.0, fade, out=fade)
    np.clip(fade, 0.0, 1.0, out=fade)
    membrane *= fade[..., None]
    membrane += src  # src + membrane * fade, rounded half up
    membrane += 0.5
    np.clip(membrane, 0, 255, out=membrane)
    out = membrane.astype(np.uint8)
    composite_hard(dst, out, hard)


def composite(region: np.ndarray, rgb: np.ndarray, hard: np.ndarray, p: Placement) -> None:
    """Paint a hard-edged (``none``) or Poisson cutout into ``region`` (a canvas view, same size
    as rgb) inside ``hard``, in place. Soft edges are mixed by their blurred alpha in render."""
    if p.blend == "poisson":
        _poisson(region, rgb, hard)
    else:
        composite_hard(region, rgb, hard)


def composite_hard(region: np.ndarray, rgb: np.ndarray, hard: np.ndarray) -> None:
    """``region[hard] = rgb[hard]``, in place (``region`` may be a canvas view)."""
    out = cv2.copyTo(rgb, hard.view(np.uint8), region)  # as np.copyto(where=), ~40x faster
    if out.ctypes.data != region.ctypes.data:  # OpenCV wrote into a copy of the view
        region[...] = out


def jitter_colours(rgb: np.ndarray, jitter: dict[str, float]) -> np.ndarray:
    """Per-object photometric jitter: hue shift (degrees), saturation and brightness factors."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL)
    idx = np.arange(256, dtype=np.float32)
    hue = ((idx + jitter["hue"] * 256.0 / 360.0) % 256.0).astype(np.uint8)
    sat = np.clip(idx * jitter["saturation"] + 0.5, 0, 255).astype(np.uint8)
    val = np.clip(idx * jitter["brightness"] + 0.5, 0, 255).astype(np.uint8)
    hsv = cv2.merge([cv2.LUT(c, lut) for c, lut in zip(cv2.split(hsv), (hue, sat, val))])
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB_FULL)


def harmonize(
    rgb: np.ndarray, hard: np.ndarray, around: np.ndarray, ring: np.ndarray, strength: float, target: np.ndarray | None = None
) -> np.ndarray:
    """Pull the object's LAB mean and spread towards those of its surroundings.

    ``hard`` marks the object's pixels in ``rgb``; ``ring`` marks background pixels in
    ``around`` (the canvas near the object, before it is pasted). Means move by ``strength``;
    spreads move half as far and at most by a factor of two, so objects keep their identity.
    Works in OpenCV's 8-bit LAB (an affine scaling of CIELAB per channel), so the change is a
    lookup table per channel. The tables are applied to ``target`` (default ``rgb``): the same
    object over a larger region.
    """
    target = rgb if target is None else target
    if strength <= 0 or np.count_nonzero(hard) < 4 or np.count_nonzero(ring) < 4:
        return target
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    env = cv2.cvtColor(np.ascontiguousarray(around), cv2.COLOR_RGB2LAB)
    mo, so = (v.ravel() for v in cv2.meanStdDev(lab, mask=hard.view(np.uint8)))
    me, se = (v.ravel() for v in cv2.meanStdDev(env, mask=ring.view(np.uint8)))
    ratio = np.clip(1.0 + 0.5 * strength * ((se + 1e-3) / (so + 1e-3) - 1.0), 0.5, 2.0)
    x = np.arange(256, dtype=np.float64)
    luts = [np.clip((x - mo[c]) * ratio[c] + mo[c] + strength * (me[c] - mo[c]) + 0.5, 0, 255).astype(np.uint8) for c in range(3)]
    if target is not rgb:
        lab = cv2.cvtColor(target, cv2.COLOR_RGB2LAB)
    lab = cv2.merge([cv2.LUT(ch, lut) for ch, lut in zip(cv2.split(lab), luts)])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def cast_shadow(
    image: np.ndarray, alpha: np.ndarray, origin: tuple[int, int], light_angle: float, shadow: dict[str, float]
) -> None:
    """Darken ``image`` in place under a soft drop shadow of an object.

    ``alpha`` is the object's warped alpha whose top-left sits at canvas ``origin``. The shadow
    is that silhouette moved along the light direction by ``length`` x its height, blurred by
    ``softness`` x its height, and darkens by up to ``opacity``. It never touches the id map.
    """
    rows = np.flatnonzero(alpha.max(axis=1))
    if rows.size == 0:
        return
    height = float(rows[-1] - rows[0] + 1)
    t = math.radians(light_angle)
    dx, dy = math.cos(t) * shadow["length"] * height, math.sin(t) * shadow["length"] * height
    sigma = max(0.5, shadow["softness"] * height)
    pad = int(math.ceil(3 * sigma)) + 1
    a = cv2.copyMakeBorder(alpha, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0).astype(np.float32)
    a = cv2.GaussianBlur(a * (shadow["opacity"] / 255.0), (0, 0), sigma)
    x0 = int(round(origin[0] + dx)) - pad
    y0 = int(round(origin[1] + dy)) - pad
    H, W = image.shape[:2]
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x0 + a.shape[1], W), min(y0 + a.shape[0], H)
    if cx0 >= cx1 or cy0 >= cy1:
        return
    shade = 1.0 - a[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    region = image[cy0:cy1, cx0:cx1]
    region[...] = cv2.multiply(region, cv2.merge([shade, shade, shade]), dtype=cv2.CV_8U)


def _recolour(
    rgb: np.ndarray, image: np.ndarray, hard: np.ndarray, clip, p: Placement, strength: float, sl=None
) -> np.ndarray:
    """Jitter and harmonize an object's colours. Both are per-pixel tables, so ``rgb`` may be the
    in-frame part or the whole warped box (``sl`` then cuts the in-frame part out of it): the
    in-frame pixels come out the same. Harmonization's statistics are those of the in-frame
    pixels ``hard`` against the canvas around them."""
    if p.jitter:
        rgb = jitter_colours(rgb, dict(p.jitter))
    if strength > 0:
        local = rgb if sl is None else np.ascontiguousarray(rgb[sl])
        rgb = _harmonize_in_place(image, local, hard, clip, strength, target=rgb)
    return rgb


SOFT_AFTER_EFFECTS = (("sigma", 0.5),)  # the edge of a hard or Poisson object with per-object effects


def _mixing_blend(p: Placement, has_effects: bool) -> Placement:
    """The placement as it is mixed into the canvas: an object with per-object effects (a
    smeared object) is always mixed by its smeared alpha, with a gaussian edge where its own
    mode has none."""
    if has_effects and p.blend in ("none", "poisson"):
        return dataclasses.replace(p, blend="gaussian", blend_params=SOFT_AFTER_EFFECTS)
    return p


def render(
    scene: Scene,
    lib: AssetLibrary,
    alpha_threshold: float,
    object_effects=None,
    harmonize_strength: float = 0.0,
    background: np.ndarray | None = None,
) -> Frame:
    """Paint the scene into the first frame.

    ``object_effects`` maps instance id -> applied per-object effects (a moving car blurs, the
    street does not). ``background``: the scene's background already rendered
    (:func:`render_background`); it is copied, never written.

    One rule decides the id map, whatever the blending: a pixel belongs to the top-most object
    whose alpha *as mixed into the image* is at or above ``alpha_threshold``. For ``none`` and
    ``poisson`` that is the warped cutout's alpha; for ``gaussian`` and ``motion`` edges and for
    objects with per-object effects it is the blurred (smeared) alpha, computed over the whole
    warped box so that the silhouette partly outside the frame is the same shape. The layer's
    silhouettes follow the same rule, so visible pixels always lie inside them.
    """
    W, H = scene.canvas_wh
    image = render_background(scene, lib) if background is None else background.copy()
    id_map = np.zeros((H, W), np.uint16)
    cut_value = alpha_cut(alpha_threshold)
    threshold = np.float32(alpha_threshold)
    layers = []
    # a real scene's own annotations come first, under everything pasted; its crowd and
    # ignore regions lowest, so that any object's pixel leaves them
    real = list(zip(scene.real, real_objects(scene.background, lib, scene.canvas_wh)))
    for label, obj in sorted(real, key=lambda pair: pair[0].kind == "object"):
        id_map[obj.mask] = label.instance_id
        layers.append(
            Layer(label.instance_id, roi=(0, H, 0, W), inframe_mask=obj.mask, whole_mask=obj.whole,
                  whole_origin=obj.origin, frame_wh=(W, H))
        )
    for p in scene.placements:
        cut = lib.cutout(p.asset, distractor=p.distractor)
        Hm, bare = placed_box(cut, p, scene.canvas_wh)
        effects = (object_effects or {}).get(p.instance_id, ())
        m = blend_margin(p) + sum(e.effect.margin(e.params) for e in effects)
        box = (bare[0] - m, bare[1] - m, bare[2] + m, bare[3] + m)
        key = WarpCache.key(cut, Hm, box)
        warped = lib.warps.take(key)  # scene sampling's warp, when it made this one
        raw_hard = lib.warps.take(hard_key(key))  # and its alpha_mask
        if warped is None and m != blend_margin(p):  # per-object effects widened the box: drop the one kept
            k = blend_margin(p)
            kept = WarpCache.key(cut, Hm, (bare[0] - k, bare[1] - k, bare[2] + k, bare[3] + k))
            lib.warps.take(kept)
            lib.warps.take(hard_key(kept))
        if warped is None:
            warped = warp(cut.rgba, Hm, box)
        if raw_hard is None:
            raw_hard = alpha_mask(warped, cut_value)  # the cutout's own pixels
        mix = _mixing_blend(p, bool(effects))
        soft = None
        if mix.blend in ("gaussian", "motion"):
            # mixed by a blurred alpha over the whole box: the silhouette is where it reaches the threshold
            alpha = cv2.extractChannel(warped, 3)
            for e in effects:
                alpha = e.effect.apply_to_alpha(alpha, e.params)
            soft = soft_alpha(alpha, mix)
            np.clip(soft, 0.0, 1.0, out=soft)
            hard_full = soft >= threshold
        else:
            hard_full = raw_hard
        clip = clip_box(box, scene.canvas_wh)
        if clip is None:
            layers.append(
                Layer(p.instance_id, roi=(0, 0, 0, 0), inframe_mask=np.zeros((0, 0), bool), whole_mask=hard_full,
                      whole_origin=box[:2], frame_wh=(W, H))
            )
            continue
        x0, y0, x1, y1 = clip
        sl = (slice(y0 - box[1], y1 - box[1]), slice(x0 - box[0], x1 - box[0]))
        hard = hard_full[sl]
        if p.shadow:
            cast_shadow(image, warped[..., 3], box[:2], scene.light_angle, dict(p.shadow))
        region = image[y0:y1, x0:x1]
        if soft is None:
            rgb = cv2.cvtColor(warped[sl], cv2.COLOR_RGBA2RGB)  # contiguous; much faster than slicing
            rgb = _recolour(rgb, image, hard, clip, p, harmonize_strength)
            composite(region, rgb, hard, mix)
        else:
            rgb = _recolour(cv2.cvtColor(warped, cv2.COLOR_RGBA2RGB), image, raw_hard[sl], clip, p, harmonize_strength, sl)
            for e in effects:
                rgb = e.effect.apply_to_image(rgb, e.params)
            a = np.ascontiguousarray(soft[sl])
            region[...] = cv2.blendLinear(np.ascontiguousarray(rgb[sl]), region, a, 1.0 - a)
        np.putmask(id_map[y0:y1, x0:x1], hard, 0 if p.distractor else p.instance_id)
        layers.append(
            Layer(p.instance_id, roi=(y0, y1, x0, x1), inframe_mask=hard, whole_mask=hard_full,
                  whole_origin=box[:2], frame_wh=(W, H))
        )
    return Frame(image=image, id_map=id_map, layers=tuple(layers))
