"""Visual truth: a label is what the image shows, checked by rendering, never by the labels.

Two independent expectations, made from pixels only:

- **Removal**: render an image again without one labeled object (same seeds, same effects, the
  full scene's per-object effects) and compare. Every changed pixel must lie in the object's
  silhouette (and its unblurred cutout: a thin part blurred below the threshold still shows)
  grown by the reach of its soft edges (blending edge, per-object blur, whole-image blur, scaled
  by any geometric zoom), and the object's labeled pixels must almost all change.
  The only exceptions, each handled by name: objects above it whose colours depend on what lies
  under them (Poisson blending, harmonization), its own drop shadow (measured by rendering
  without it), effects that read the whole image's mean (a level or two everywhere) and JPEG
  blocks.
- **Alpha**: render each object alone over black and over white; the difference gives the alpha
  it was mixed in with (blending edges and per-object blur included). The id map must be, at
  every pixel, the top-most object whose measured alpha reaches the threshold.

Runs over every config in configs/, each blur effect per object, each geometric effect and an
albumentations pipeline, on small canvases.
"""

from __future__ import annotations

import dataclasses
import math
import os

import cv2
import numpy as np
import pytest

from synthgen.config import load_config
from synthgen.effects.registry import REGISTRY
from synthgen.generator import Generator
from synthgen.render import render

from conftest import REPO

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

SMALL = ["canvas.width=160", "canvas.height=120"]
CONFIGS = sorted((REPO / "configs").glob("*.yaml"))
BLURS = ("motion_blur", "defocus", "gaussian_blur")
GEOMETRIC = ("rotate", "perspective", "crop_scale")
GLOBAL_MEAN = {"contrast", "rain", "snow"}  # read the image's mean luminance


def _albumentations_pipeline() -> dict:
    import albumentations as A

    return A.to_dict(A.Compose([
        A.HorizontalFlip(p=0.5),
        A.Affine(rotate=(-12, 12), scale=(0.95, 1.1), p=1.0),
        A.RandomGamma(p=1.0),
        A.GaussNoise(p=0.5),
    ]))


def _cases():
    for path in CONFIGS:
        yield pytest.param(path, [], id=path.stem)
    default = REPO / "configs" / "default.yaml"
    for name in BLURS:
        entry = f"effects=[{{name: {name}, per_object: true, p: 1.0, severity: 5}}]"
        yield pytest.param(default, [entry], id=f"{name}-per-object")
    for name in GEOMETRIC:
        yield pytest.param(default, [f"effects=[{{name: {name}, p: 1.0, severity: 5}}]"], id=name)
    yield pytest.param(default, ["albumentations"], id="albumentations")


def _generator(path, overrides) -> Generator:
    albu = "albumentations" in overrides
    cfg = load_config(path, SMALL + [o for o in overrides if o != "albumentations"])
    if albu:
        cfg = cfg.model_copy(update={"albumentations": _albumentations_pipeline()})
    return Generator(cfg)


def _without(scene, instance_id):
    return dataclasses.replace(scene, placements=tuple(p for p in scene.placements if p.instance_id != instance_id))


def _edge(p, effects) -> float:
    """How far an object's pixels reach past its silhouette: blending edge and per-object blur."""
    reach = {"gaussian": math.ceil(3 * p.param("sigma")) + 1, "motion": p.param("length") // 2 + 1}.get(p.blend, 0)
    if effects and p.blend in ("none", "poisson"):
        reach = 3  # mixed with a gaussian edge of sigma 0.5
    return reach + sum(e.effect.margin(e.params) for e in effects)


def _image_reach(rendered) -> tuple[float, float]:
    """(blur reach in pixels, largest local zoom) of the whole-image effects."""
    reach, zoom = 0.0, 1.0
    W, H = rendered.frame.size_wh
    for e in rendered.image_effects:
        if e.name in BLURS:
            reach += e.effect.margin(e.params)
        elif e.name == "rain":  # the wet scene is slightly blurred
            reach += 3 * (0.3 + 2.5 * e.params["darkening"]) + 1
        elif e.effect.spec.geometric:
            zoom *= _zoom(REGISTRY[e.name].matrix(e.params, (W, H)), W, H)
    if rendered.albumentations is not None:
        zoom *= 1.1 * 1.05  # the pipeline's Affine: scale <= 1.1, rotation resampling
    return reach, zoom


def _margin(reach: float, zoom: float) -> float:
    """How far from its silhouette an object may change pixels: the reach of its soft edges and of
    whole-image blur, plus a pixel of rounding; after a geometric effect, all of it zoomed, and a
    pixel more of the source image each for bilinear pixels and nearest-neighbour labels."""
    return reach + 1.5 if zoom == 1.0 else (reach + 2.5) * zoom + 1.0


def _zoom(M: np.ndarray, W: int, H: int) -> float:
    """The largest local magnification of a matrix over the frame (numerical Jacobian)."""
    xs, ys = np.meshgrid(np.linspace(0, W - 1, 9), np.linspace(0, H - 1, 9))
    pts = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)], 1)

    def f(q):
        o = q @ M.T
        return o[:, :2] / o[:, 2:]

    dx = (f(pts + [1, 0, 0]) - f(pts)).T
    dy = (f(pts + [0, 1, 0]) - f(pts)).T
    return max(float(np.linalg.svd(np.array([[dx[0, i], dy[0, i]], [dx[1, i], dy[1, i]]]), compute_uv=False)[0])
               for i in range(pts.shape[0]))


def _grow(mask: np.ndarray, r: float) -> np.ndarray:
    r = math.ceil(r)
    if r <= 0:
        return mask.copy()
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return cv2.dilate(mask.astype(np.uint8), k).astype(bool)


def _jpeg_blocks(mask: np.ndarray) -> np.ndarray:
    """The 16 x 16 JPEG blocks (4:2:0 colour) that ``mask`` touches, and the 4 px beyond them
    that the decoder's chroma upsampling reads: a change anywhere in a block may change all of it."""
    H, W = mask.shape
    padded = np.zeros((-(-H // 16) * 16, -(-W // 16) * 16), bool)
    padded[:H, :W] = mask
    tiles = padded.reshape(padded.shape[0] // 16, 16, padded.shape[1] // 16, 16).any(axis=(1, 3))
    return _grow(np.repeat(np.repeat(tiles, 16, axis=0), 16, axis=1)[:H, :W], 4)


def _silhouette(frame, instance_id, r: float = 0.0) -> np.ndarray:
    """An object's whole silhouette in the frame grown by ``r``: a part outside the frame (an
    object a zoom pushed just out of view) still reaches in by its edges."""
    H, W = frame.id_map.shape
    layer = next(layer for layer in frame.layers if layer.instance_id == instance_id)
    pad = math.ceil(r) + 1
    canvas = np.zeros((H + 2 * pad, W + 2 * pad), bool)
    canvas[pad : pad + H, pad : pad + W] = layer.inframe_full((H, W)).astype(bool)
    (ox, oy), (h, w) = layer.whole_origin, layer.whole_mask.shape
    x0, y0, x1, y1 = max(ox + pad, 0), max(oy + pad, 0), min(ox + pad + w, W + 2 * pad), min(oy + pad + h, H + 2 * pad)
    if x0 < x1 and y0 < y1:
        canvas[y0:y1, x0:x1] |= layer.whole_mask[y0 - oy - pad : y1 - oy - pad, x0 - ox - pad : x1 - ox - pad]
    return _grow(canvas, r)[pad : pad + H, pad : pad + W]


def _unblurred(gen, scene):
    """The frame with every object hard-edged and without per-object effects: its layers are the
    unblurred cutouts (a thin part that a blur fades below the threshold still shows)."""
    hard = tuple(dataclasses.replace(p, blend="none", blend_params=()) for p in scene.placements)
    return gen.render_frame(dataclasses.replace(scene, placements=hard), {}).frame


def _footprint(full, raw, instance_id, r: float) -> np.ndarray:
    """Where an object can change pixels: its silhouette (what is labeled) and its unblurred
    cutout, grown by ``r``."""
    return _silhouette(full.frame, instance_id, r) | _silhouette(raw, instance_id, r)


def _reads_canvas_in(gen, frame, q, zone, zoom) -> bool:
    """Whether object ``q``'s colours depend on the canvas in ``zone`` as it was before ``q`` was
    pasted: a Poisson object reads the canvas over its box, a harmonized one a ring around its
    box a quarter of its size wide (render.py)."""
    harmonized = gen.config.render.harmonize.strength > 0
    if not (q.blend == "poisson" or harmonized):
        return False
    y0, y1, x0, x1 = next(layer.roi for layer in frame.layers if layer.instance_id == q.instance_id)
    if y0 >= y1 or x0 >= x1:
        return False
    g = math.ceil(max(4, max(y1 - y0, x1 - x0) // 4) * zoom) + 1 if harmonized else 1
    return bool(zone[max(y0 - g, 0) : y1 + g, max(x0 - g, 0) : x1 + g].any())


def _removal(gen, scene, full, raw, iid):
    """Render without object ``iid``: (how much each pixel changed, where it may change, where
    changes are explained by a named exception, the margin)."""
    p = next(p for p in scene.placements if p.instance_id == iid)
    reach, zoom = _image_reach(full)
    gone = gen.render_frame(_without(scene, iid), full.object_effects)
    changed_by = np.abs(full.frame.image.astype(np.int16) - gone.frame.image.astype(np.int16)).max(axis=2)
    margin = _margin(_edge(p, full.object_effects.get(iid, ())) + reach, zoom)
    allowed = _footprint(full, raw, iid, margin)
    ignored = np.zeros_like(allowed)
    if p.shadow:  # its drop shadow: what changes when only the shadow is left out
        unshadowed = dataclasses.replace(
            scene, placements=tuple(dataclasses.replace(q, shadow=()) if q is p else q for q in scene.placements)
        )
        no_shadow = gen.render_frame(unshadowed, full.object_effects)
        assert np.array_equal(no_shadow.frame.id_map, full.frame.id_map), "a shadow changed the id map"
        ignored |= np.any(no_shadow.frame.image != full.frame.image, axis=2)
    # objects above it whose colours depend on what lies under them, and those above that
    # depend on these in turn (bottom to top)
    for q in scene.placements:
        if q.instance_id > iid and _reads_canvas_in(gen, full.frame, q, allowed | ignored, zoom):
            edge = _edge(q, full.object_effects.get(q.instance_id, ()))
            ignored |= _footprint(full, raw, q.instance_id, _margin(edge + reach, zoom))
    names = {e.name for e in full.image_effects}
    if "jpeg" in names:
        allowed, ignored = _jpeg_blocks(allowed), _jpeg_blocks(ignored)
    if names & GLOBAL_MEAN:  # effects that read the image's mean move every level a little
        ignored |= changed_by <= math.ceil(255.0 * allowed.sum() / allowed.size) + 1
    return changed_by, gone, allowed, ignored, margin


@pytest.mark.parametrize("path, overrides", list(_cases()))
def test_removing_an_object_changes_only_its_own_pixels(path, overrides):
    gen = _generator(path, overrides)
    checked = 0
    for index in range(2):
        scene = gen.scene(index)
        full = gen.render_frame(scene)
        sample = gen.sample_from_scene(scene)
        raw = _unblurred(gen, scene)
        labeled = [i for i in sample.instances if i.source == "pasted"]
        for inst in labeled[:: max(1, len(labeled) // 2)][:2]:
            iid = inst.instance_id
            p = next(p for p in scene.placements if p.instance_id == iid)
            changed_by, gone, allowed, ignored, margin = _removal(gen, scene, full, raw, iid)
            outside = (changed_by > 0) & ~allowed & ~ignored
            assert not outside.any(), (
                f"{path.stem} {overrides} image {index}: removing {iid} ({p.label}, blend {p.blend}) changed "
                f"{int(outside.sum())} px beyond its silhouette + {margin:.1f} px, by up to {int(changed_by[outside].max())} levels"
            )
            # its labeled pixels are ones the object decides: where it lay over the background they
            # change when it leaves, but where it matches the background (its contrast says how
            # often) or Poisson blending matched it to what lay behind
            label = sample.id_map == iid
            unchanged = label & (changed_by == 0) & (gone.frame.id_map == 0)
            share = unchanged.sum() / label.sum()
            assert p.blend == "poisson" or share <= 0.05 + (1.0 - inst.contrast), (
                f"{path.stem} {overrides} image {index}: {int(unchanged.sum())} of {int(label.sum())} labeled px of "
                f"{iid} ({p.label}) over the background do not change when it is removed (contrast {inst.contrast})"
            )
            checked += 1
    assert checked >= 2


def _measured_alpha(scene, lib, p, effects, threshold) -> np.ndarray:
    """The alpha one object was mixed in with: rendered alone over black and over white."""
    W, H = scene.canvas_wh
    alone = dataclasses.replace(scene, placements=(dataclasses.replace(p, shadow=()),), real=())
    on = {}
    for value in (0, 255):
        bg = np.full((H, W, 3), value, np.uint8)
        on[value] = render(alone, lib, threshold, {p.instance_id: effects}, background=bg).image.astype(np.float32)
    return 1.0 - (on[255] - on[0]).mean(axis=2) / 255.0


@pytest.mark.parametrize("effect", [None, *BLURS])
def test_the_id_map_is_the_top_most_object_whose_mixed_alpha_reaches_the_threshold(effect):
    overrides = ["render.shadows.p=0", "render.blending.poisson=0"]
    if effect is not None:
        overrides.append(f"effects=[{{name: {effect}, per_object: true, p: 0.7, severity: 5}}]")
    gen = _generator(REPO / "configs" / "default.yaml", overrides)
    threshold = gen.config.render.alpha_threshold
    disagree = 0
    for index in range(3):
        scene = gen.scene(index)
        object_effects = gen.render_frame(scene).object_effects
        id_map = render(scene, gen.library, threshold, object_effects).id_map
        expected = np.zeros_like(id_map)
        near = np.zeros(id_map.shape, bool)  # within rounding of the threshold: either answer is right
        for p in scene.placements:
            a = _measured_alpha(scene, gen.library, p, object_effects.get(p.instance_id, ()), threshold)
            expected[a >= threshold] = 0 if p.distractor else p.instance_id
            near |= np.abs(a - threshold) <= 1.5 / 255.0
        wrong = (id_map != expected) & ~near
        disagree += int(wrong.sum())
    assert disagree == 0, f"{disagree} px labeled otherwise than the pixels show"


def test_fog_lowers_contrast_and_min_contrast_drops_the_washed_out():
    from synthgen.writers.coco import annotation_entries

    default = REPO / "configs" / "default.yaml"
    clean = _generator(default, [])
    fog = _generator(default, ["effects=[{name: fog, p: 1.0, severity: 5}]"])
    strict = _generator(default, ["effects=[{name: fog, p: 1.0, severity: 5}]", "labels.min_contrast=0.5"])
    before, after, dropped = [], [], 0
    for index in range(4):
        c, f = clean.sample(index), fog.sample(index)
        before += [i.contrast for i in c.instances]
        after += [i.contrast for i in f.instances]
        assert [a["contrast"] for a in annotation_entries(f, amodal=False)] == [i.contrast for i in f.instances]
        s = strict.sample(index)
        assert all(i.contrast >= 0.5 for i in s.instances)
        dropped += sum("below labels.min_contrast" in reason for reason in s.metadata["dropped"].values())
    assert all(0.0 <= v <= 1.0 for v in before + after)
    assert np.mean(after) < np.mean(before) - 0.05
    assert dropped > 0
