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
    r = int(math.ceil(r))
    if r <= 0:
        return mask.copy()
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return cv2.dilate(mask.astype(np.uint8), k).astype(bool)


def _silhouette(frame, instance_id) -> np.ndarray:
    H, W = frame.id_map.shape
    layer = next(layer for layer in frame.layers if layer.instance_id == instance_id)
    return layer.inframe_full((H, W)).astype(bool)


def _unblurred(gen, scene):
    """The frame with every object hard-edged and without per-object effects: its layers are the
    unblurred cutouts (a thin part that a blur fades below the threshold still shows)."""
    hard = tuple(dataclasses.replace(p, blend="none", blend_params=()) for p in scene.placements)
    return gen.render_frame(dataclasses.replace(scene, placements=hard), {}).frame


def _footprint(full, raw, instance_id) -> np.ndarray:
    """Where an object can change pixels before its soft edges: its silhouette (what is labeled)
    and its unblurred cutout."""
    return _silhouette(full.frame, instance_id) | _silhouette(raw, instance_id)


def _canvas_dependent_above(gen, scene, instance_id) -> list:
    """Objects pasted above ``instance_id`` whose colours depend on what lies under them."""
    harmonized = gen.config.render.harmonize.strength > 0
    return [p for p in scene.placements if p.instance_id > instance_id and (p.blend == "poisson" or harmonized)]


@pytest.mark.parametrize("path, overrides", list(_cases()))
def test_removing_an_object_changes_only_its_own_pixels(path, overrides):
    gen = _generator(path, overrides)
    checked = 0
    for index in range(2):
        scene = gen.scene(index)
        full = gen.render_frame(scene)
        sample = gen.sample_from_scene(scene)
        labeled = [i.instance_id for i in sample.instances if i.source == "pasted"]
        reach, zoom = _image_reach(full)
        raw = _unblurred(gen, scene)
        image = full.frame.image.astype(np.int16)
        for iid in labeled[:: max(1, len(labeled) // 2)][:2]:
            p = next(p for p in scene.placements if p.instance_id == iid)
            gone = gen.render_frame(_without(scene, iid), full.object_effects)
            changed_by = np.abs(image - gone.frame.image.astype(np.int16)).max(axis=2)
            margin = (_edge(p, full.object_effects.get(iid, ())) + reach) * zoom + 1.5
            allowed = _grow(_footprint(full, raw, iid), margin)
            ignored = np.zeros_like(allowed)
            for q in _canvas_dependent_above(gen, scene, iid):
                edge = _edge(q, full.object_effects.get(q.instance_id, ()))
                ignored |= _grow(_footprint(full, raw, q.instance_id), (edge + reach) * zoom + 1.5)
            if p.shadow:  # its drop shadow: what changes when only the shadow is left out
                unshadowed = dataclasses.replace(
                    scene, placements=tuple(dataclasses.replace(q, shadow=()) if q is p else q for q in scene.placements)
                )
                no_shadow = gen.render_frame(unshadowed, full.object_effects)
                assert np.array_equal(no_shadow.frame.id_map, full.frame.id_map), "a shadow changed the id map"
                ignored |= np.any(no_shadow.frame.image != full.frame.image, axis=2)
            names = {e.name for e in full.image_effects}
            if "jpeg" in names:  # JPEG codes 16 x 16 blocks: a change anywhere in one changes all of it
                blocks = cv2.resize(allowed.astype(np.uint8), None, fx=1 / 16, fy=1 / 16, interpolation=cv2.INTER_AREA) > 0
                allowed |= _grow(cv2.resize(blocks.astype(np.uint8), allowed.shape[::-1], interpolation=cv2.INTER_NEAREST), 8)
            # effects that read the image's mean move every level a little when the object leaves
            tolerance = 0
            if names & GLOBAL_MEAN:
                tolerance = int(math.ceil(255.0 * allowed.sum() / allowed.size)) + 1
            outside = (changed_by > tolerance) & ~allowed & ~ignored
            assert not outside.any(), (
                f"{path.stem} {overrides} image {index}: removing {iid} ({p.label}, blend {p.blend}) changed "
                f"{int(outside.sum())} px beyond its silhouette + {margin:.1f} px, by up to {int(changed_by[outside].max())} levels"
            )
            # its labeled pixels are ones the object decides
            label = sample.id_map == iid
            unchanged = label & (changed_by == 0)
            inst = next(i for i in sample.instances if i.instance_id == iid)
            share = unchanged.sum() / label.sum()
            assert share <= 0.02 + (1.0 - inst.contrast), (
                f"{path.stem} {overrides} image {index}: {int(unchanged.sum())} of {int(label.sum())} labeled px of "
                f"{iid} ({p.label}) do not change when it is removed (contrast {inst.contrast})"
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
