"""Rendering: Scene + assets -> RGB image and uint16 instance-id map. No randomness here.

Cutouts are warped into their own box (never the whole frame) and composited bottom to top.
The id map takes, at each pixel, the top-most object whose warped alpha is at or above the
threshold. Blending modes change colours near edges; they never change the id map.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from synthgen.assets import AssetLibrary
from synthgen.geometry import alpha_cut, clip_box, tight_box, warp, warp_box
from synthgen.scene import cutout_matrix
from synthgen.types import Layer, Placement, Rendered, Scene


def render_background(scene: Scene, lib: AssetLibrary) -> np.ndarray:
    src = lib.background(scene.background.index)
    x, y, w, h = scene.background.crop_xywh
    W, H = scene.canvas_wh
    crop = src[y : y + h, x : x + w]
    interp = cv2.INTER_AREA if w > W else cv2.INTER_LINEAR
    out = cv2.resize(crop, (W, H), interpolation=interp)
    if scene.background.flip:
        out = np.ascontiguousarray(out[:, ::-1])
    return out


def _margin(p: Placement) -> int:
    if p.blend == "gaussian":
        return int(math.ceil(3 * p.param("sigma"))) + 1
    if p.blend == "motion":
        return int(p.param("length")) // 2 + 1
    return 0


def motion_kernel(length: int, angle: float) -> np.ndarray:
    """A normalised line kernel ``length`` pixels long at ``angle`` degrees."""
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    R = cv2.getRotationMatrix2D(((length - 1) / 2.0, (length - 1) / 2.0), angle, 1.0)
    k = cv2.warpAffine(k, R, (length, length), flags=cv2.INTER_LINEAR)
    return k / max(float(k.sum()), 1e-6)


def soft_alpha(alpha: np.ndarray, p: Placement) -> np.ndarray:
    """Float alpha in [0, 1] used to mix colours, per blending mode."""
    a = alpha.astype(np.float32) * (1.0 / 255.0)
    if p.blend == "gaussian":
        return cv2.GaussianBlur(a, (0, 0), p.param("sigma"), borderType=cv2.BORDER_CONSTANT)
    if p.blend == "motion":
        k = motion_kernel(int(p.param("length")), p.param("angle"))
        return cv2.filter2D(a, -1, k, borderType=cv2.BORDER_CONSTANT)
    return a


def _poisson(dst: np.ndarray, src: np.ndarray, hard: np.ndarray) -> None:
    """Seamless-clone ``src`` into ``dst`` (same size, in place) inside ``hard``."""
    mask = hard.astype(np.uint8) * 255
    # cv2.seamlessClone needs a zero border; pixels there are pasted plainly afterwards.
    mask[0, :] = mask[-1, :] = 0
    mask[:, 0] = mask[:, -1] = 0
    if cv2.countNonZero(mask) and min(mask.shape) >= 3:
        x, y, w, h = cv2.boundingRect(mask)
        if w >= 3 and h >= 3:  # OpenCV's solver fails on thinner masks
            cloned = cv2.seamlessClone(
                np.ascontiguousarray(src), np.ascontiguousarray(dst), mask, (x + w // 2, y + h // 2), cv2.NORMAL_CLONE
            )
            inside = mask > 0
            dst[inside] = cloned[inside]
            rest = hard & ~inside
            dst[rest] = src[rest]
            return
    dst[hard] = src[hard]


def composite(region: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, hard: np.ndarray, p: Placement) -> None:
    """Paint one warped cutout into ``region`` (a canvas view, same size as rgb), in place."""
    if p.blend == "none":
        region[hard] = rgb[hard]
        return
    if p.blend == "poisson":
        _poisson(region, rgb, hard)
        return
    a = soft_alpha(alpha, p)[..., None]
    mixed = rgb.astype(np.float32) * a + region.astype(np.float32) * (1.0 - a)
    np.clip(mixed + 0.5, 0, 255, out=mixed)
    region[...] = mixed.astype(np.uint8)


def render(scene: Scene, lib: AssetLibrary, alpha_threshold: float) -> Rendered:
    W, H = scene.canvas_wh
    image = render_background(scene, lib)
    id_map = np.zeros((H, W), np.uint16)
    cut_value = alpha_cut(alpha_threshold)
    layers = []
    for p in scene.placements:
        cut = lib.cutout(p.asset, distractor=p.distractor)
        Hm = cutout_matrix(cut, p, scene.canvas_wh)
        bare = warp_box(Hm, cut.size_wh)
        m = _margin(p)
        box = (bare[0] - m, bare[1] - m, bare[2] + m, bare[3] + m)
        warped = warp(cut.rgba, Hm, box)
        hard_full = warped[..., 3] >= cut_value
        amodal_area = int(np.count_nonzero(hard_full))
        tb = tight_box(hard_full) or (0, 0, 0, 0)
        amodal_bbox = (tb[0] + box[0], tb[1] + box[1], tb[2], tb[3])
        clip = clip_box(box, scene.canvas_wh)
        if clip is None:
            layers.append(Layer(p.instance_id, (0, 0, 0, 0), np.zeros((0, 0), bool), amodal_area, amodal_bbox))
            continue
        x0, y0, x1, y1 = clip
        sl = (slice(y0 - box[1], y1 - box[1]), slice(x0 - box[0], x1 - box[0]))
        local = warped[sl]
        hard = hard_full[sl]
        composite(image[y0:y1, x0:x1], local[..., :3], local[..., 3], hard, p)
        id_map[y0:y1, x0:x1][hard] = 0 if p.distractor else p.instance_id
        layers.append(Layer(p.instance_id, (y0, y1, x0, x1), hard, amodal_area, amodal_bbox))
    image.flags.writeable = False
    id_map.flags.writeable = False
    return Rendered(image=image, id_map=id_map, layers=tuple(layers))
