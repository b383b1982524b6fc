"""Every registered effect, at every severity: deterministic, recorded, and exact labels.

Driven by the registry, as albumentations' own tests are: a new effect is covered the moment it
is registered, and must appear in the severity-monotonicity table below (or be listed as exempt).
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgen.config import load_config
from synthgen.effects import functional as F
from synthgen.effects.geometric import warp_layer
from synthgen.effects.pipeline import AppliedEffect, sample_image_effects
from synthgen.effects.registry import REGISTRY
from synthgen.effects.specs import SPECS
from synthgen.frame import Layer
from synthgen.generator import Generator
from synthgen.geometry import tight_box
from synthgen.render import render

from conftest import REPO, tiny_config_dict

NAMES = sorted(REGISTRY)
LEVELS = [1, 2, 3, 4, 5]


def _photo() -> np.ndarray:
    """A deterministic textured test image with edges, flats and gradients."""
    img = cv2.imread(str(REPO / "assets" / "backgrounds" / "coffee.jpg"))
    return cv2.cvtColor(cv2.resize(img, (160, 120), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)


def _params(name: str, severity: int, seed: int = 0) -> dict:
    spec = load_config(overrides=[f"effects=[{{name: {name}, severity: {severity}}}]"]).effects
    (applied,) = sample_image_effects(spec, seed, 7, (160, 120))
    return applied.params


@pytest.mark.parametrize("severity", LEVELS)
@pytest.mark.parametrize("name", NAMES)
def test_effect_is_deterministic_json_ready_and_pure(name, severity):
    cls = REGISTRY[name]
    params = _params(name, severity)
    assert params == json.loads(json.dumps(params))
    assert params == _params(name, severity)  # same image seed, same parameters
    if cls.spec.geometric:
        M = cls.matrix(params, (160, 120))
        assert M.shape == (3, 3)
        return
    img = _photo()
    img.flags.writeable = False  # an effect that writes into its input fails here
    a, b = cls.apply_to_image(img, params), cls.apply_to_image(img, params)
    assert a.dtype == np.uint8 and a.shape == img.shape
    assert np.array_equal(a, b)


def _sharpness(img: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def _contrast(img: np.ndarray) -> float:
    return float(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).std())


def _mean(img: np.ndarray) -> float:
    return float(img.mean())


def _change(img: np.ndarray, ref: np.ndarray) -> float:
    return float(np.abs(img.astype(np.float32) - ref.astype(np.float32)).mean())


def _zoom(name):
    def measure(img, ref, params):
        M = REGISTRY[name].matrix(params, (160, 120))
        return float(abs(np.linalg.det(M[:2, :2])) + abs(M[2, 0]) + abs(M[2, 1]))

    return measure


# name -> (measure(out, ref, params), direction as severity rises). Each is an honest physical
# expectation: fog lowers contrast, blur lowers sharpness, noise moves pixels further, ...
MONOTONE = {
    "brightness": (lambda o, r, p: _mean(o), "down"),
    "fog": (lambda o, r, p: _contrast(o), "down"),
    "motion_blur": (lambda o, r, p: _sharpness(o), "down"),
    "gaussian_noise": (lambda o, r, p: _change(o, r), "up"),
    "rotate": (lambda o, r, p: abs(p["angle"]), "up"),
    "perspective": (lambda o, r, p: p["strength"], "up"),
    "crop_scale": (lambda o, r, p: -p["scale"], "up"),
    "contrast": (lambda o, r, p: _contrast(o), "down"),
    "gamma": (lambda o, r, p: _mean(o), "down"),
    "color_temperature": (
        lambda o, r, p: abs(float(o[..., 0].mean() - o[..., 2].mean()) - float(r[..., 0].mean() - r[..., 2].mean())),
        "up",
    ),
    "light_gradient": (lambda o, r, p: _mean(o), "down"),
    "night": (lambda o, r, p: _mean(o), "down"),
    "rain": (lambda o, r, p: _change(o, r), "up"),
    "snow": (lambda o, r, p: _change(o, r), "up"),
    "sun_flare": (lambda o, r, p: _change(o, r), "up"),
    "defocus": (lambda o, r, p: _sharpness(o), "down"),
    "gaussian_blur": (lambda o, r, p: _sharpness(o), "down"),
    "iso_noise": (lambda o, r, p: _change(o, r), "up"),
    "jpeg": (lambda o, r, p: _change(o, r), "up"),
    "vignette": (lambda o, r, p: _mean(o), "down"),
}


def test_every_effect_has_a_monotonicity_case():
    assert sorted(MONOTONE) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_severity_is_monotone(name):
    measure, direction = MONOTONE[name]
    cls = REGISTRY[name]
    ref = _photo()
    values = []
    for level in LEVELS:
        # average a few image seeds so a random angle or position cannot decide the order
        vals = []
        for seed in range(3):
            params = _params(name, level, seed)
            out = ref if cls.spec.geometric else cls.apply_to_image(ref, params)
            vals.append(measure(out, ref, params))
        values.append(np.mean(vals))
    ordered = values if direction == "up" else [-v for v in values]
    assert all(a < b for a, b in zip(ordered, ordered[1:])), f"{name}: {values}"


@pytest.mark.parametrize("name", NAMES)
def test_labels_stay_exact_under_each_effect(tiny_assets, name):
    data = tiny_config_dict(tiny_assets)
    data["effects"] = [{"name": name, "severity": 5}]
    gen = Generator(load_config(data=data))
    plain = Generator(load_config(data=tiny_config_dict(tiny_assets)))
    for index in range(4):
        s = gen.sample(index)
        assert [c["name"] for c in s.metadata["conditions"]] == [name]
        for inst in s.instances:
            m = s.id_map == inst.instance_id
            assert inst.area == int(m.sum()) and inst.bbox == tight_box(m)
            assert 0 < inst.visible_fraction <= 1
        if not SPECS[name].geometric:
            # photometric effects change no label
            p = plain.sample(index)
            assert np.array_equal(s.id_map, p.id_map)
            assert [(i.bbox, i.area) for i in s.instances] == [(i.bbox, i.area) for i in p.instances]


def test_geometric_effect_moves_masks_with_the_image(tiny_assets):
    data = tiny_config_dict(tiny_assets)
    gen = Generator(load_config(data=data))
    base = gen.sample(1)
    data["effects"] = [{"name": "crop_scale", "params": {"scale": 0.5}}]
    zoomed = Generator(load_config(data=data)).sample(1)
    (applied,) = [c for c in zoomed.metadata["conditions"]]
    M = REGISTRY["crop_scale"].matrix(applied["params"], (96, 72))
    expected = cv2.warpAffine(base.id_map, M[:2], (96, 72), flags=cv2.INTER_NEAREST)
    kept = {i.instance_id for i in zoomed.instances}
    expected[~np.isin(expected, list(kept))] = 0
    assert np.array_equal(zoomed.id_map, expected)
    for inst in zoomed.instances:
        before = next(i for i in base.instances if i.instance_id == inst.instance_id)
        # a 2x zoom: four times the pixels, unless the window cut the object
        assert inst.area <= 4 * before.area + 4 * (before.bbox[2] + before.bbox[3]) + 4


def test_per_object_blur_moves_only_the_labels_of_the_blurred_objects(tiny_assets):
    data = tiny_config_dict(tiny_assets)
    data["effects"] = [{"name": "motion_blur", "per_object": True, "p": 1.0, "classes": ["disc"], "severity": 3}]
    blurred = Generator(load_config(data=data))
    plain = Generator(load_config(data=tiny_config_dict(tiny_assets)))
    moved_any = False
    for index in range(6):
        s, p = blurred.sample(index), plain.sample(index)
        discs = {c["instance_id"]: c["params"] for c in s.metadata["conditions"]}
        assert set(discs) == {pl.instance_id for pl in s.scene.placements if pl.label == "disc"}
        # labels move (the smeared alpha decides them) only within a blur's reach of a disc
        near = np.zeros(s.id_map.shape, np.uint8)
        for iid, params in discs.items():
            reach = REGISTRY["motion_blur"].margin(params)
            k = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
            near |= cv2.dilate((p.id_map == iid).astype(np.uint8), k)
        moved = s.id_map != p.id_map
        moved_any |= bool(moved.any())
        assert not (moved & ~near.astype(bool)).any()
    assert moved_any


def test_effect_config_errors_name_the_entry():
    from synthgen.errors import ConfigError

    with pytest.raises(ConfigError, match=r"effects\.0: .*unknown effect 'fgo' \(did you mean 'fog'\?\)"):
        load_config(overrides=["effects=[{name: fgo}]"])
    with pytest.raises(ConfigError, match=r"fog: unknown parameter 'densty'; allowed: density"):
        load_config(overrides=["effects=[{name: fog, params: {densty: 1}}]"])
    with pytest.raises(ConfigError, match="severity 7 is out of range"):
        load_config(overrides=["effects=[{name: fog, severity: 7}]"])
    with pytest.raises(ConfigError, match=r"fog\.params\.density: 99.0 is outside"):
        load_config(overrides=["effects=[{name: fog, params: {density: 99}}]"])
    with pytest.raises(ConfigError, match="fog cannot be applied per object"):
        load_config(overrides=["effects=[{name: fog, per_object: true}]"])


def test_applied_effect_round_trips():
    a = AppliedEffect("fog", 3, {"density": 1.0}, None)
    assert a.to_dict() == {"name": "fog", "severity": 3, "params": {"density": 1.0}}


def test_photometric_effects_keep_the_frames_id_map_and_layers(tiny_assets):
    gen = Generator(load_config(data=tiny_config_dict(tiny_assets)))
    frame = render(gen.scene(0), gen.library, 0.5)
    params = _params("fog", 3)
    out = REGISTRY["fog"].apply(frame, params)
    assert out.id_map is frame.id_map and out.layers is frame.layers
    assert not out.image.flags.writeable and not np.array_equal(out.image, frame.image)


def test_geometric_effects_move_the_whole_frame(tiny_assets):
    gen = Generator(load_config(data=tiny_config_dict(tiny_assets)))
    frame = render(gen.scene(2), gen.library, 0.5)
    params = _params("rotate", 4)
    M = REGISTRY["rotate"].matrix(params, frame.size_wh)
    out = REGISTRY["rotate"].apply(frame, params)
    assert np.array_equal(out.id_map, F.warp_labels(frame.id_map, M, frame.size_wh))
    assert np.array_equal(out.image, REGISTRY["rotate"].apply_to_image(frame.image, params))
    H, W = frame.id_map.shape
    for before, after in zip(frame.layers, out.layers):
        expected = F.warp_labels(before.inframe_full((H, W)), M, (W, H)).astype(bool)
        assert np.array_equal(after.inframe_full((H, W)).astype(bool), expected)
        # every visible pixel stays inside its silhouette's region
        y0, y1, x0, x1 = after.roi
        assert np.count_nonzero(out.id_map == after.instance_id) == np.count_nonzero(
            out.id_map[y0:y1, x0:x1] == after.instance_id
        )


def _matrix(data, W: int, H: int) -> np.ndarray:
    """A random affine or perspective matrix, from gentle to wild (mirrors, shears, horizons)."""
    if data.draw(st.booleans(), label="affine"):
        angle = data.draw(st.floats(-180, 180), label="angle")
        sx, sy = data.draw(st.floats(0.3, 3.0), label="sx"), data.draw(st.floats(0.3, 3.0), label="sy")
        shear = data.draw(st.floats(-0.5, 0.5), label="shear")
        tx, ty = data.draw(st.floats(-W, W), label="tx"), data.draw(st.floats(-H, H), label="ty")
        c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
        linear = np.array([[c, -s], [s, c]]) @ np.array([[sx, shear], [0, sy]])
        return np.array([[*linear[0], tx], [*linear[1], ty], [0, 0, 1.0]])
    frame = np.array([[0, 0], [W - 1, 0], [W - 1, H - 1], [0, H - 1]], np.float32)
    jitter = np.array(data.draw(st.lists(st.floats(-0.3, 0.3), min_size=8, max_size=8), label="corners"), np.float32)
    src = frame + jitter.reshape(4, 2) * np.array([W, H], np.float32)
    return cv2.getPerspectiveTransform(src, frame).astype(np.float64)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_roi_warp_of_a_layer_equals_cropping_the_whole_frame_warp(data):
    W, H = data.draw(st.integers(8, 90), label="W"), data.draw(st.integers(8, 90), label="H")
    M = _matrix(data, W, H)
    y0 = data.draw(st.integers(0, H - 1), label="y0")
    y1 = data.draw(st.integers(y0 + 1, H), label="y1")
    x0 = data.draw(st.integers(0, W - 1), label="x0")
    x1 = data.draw(st.integers(x0 + 1, W), label="x1")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="bits"))
    mask = rng.random((y1 - y0, x1 - x0)) < 0.6
    layer = Layer(1, roi=(y0, y1, x0, x1), inframe_mask=mask, whole_mask=mask, whole_origin=(x0, y0), frame_wh=(W, H))
    moved = warp_layer(layer, M, F.SourcePixels.of(M, (W, H)))
    expected = F.warp_labels(layer.inframe_full((H, W)), M, (W, H)).astype(bool)
    assert np.array_equal(moved.inframe_full((H, W)).astype(bool), expected)
    whole, origin = F.warp_whole_mask(mask, (x0, y0), M)
    # the amodal silhouette: the in-frame one, plus the whole warp's pixels outside the frame
    ox, oy = origin
    inside = whole[max(-oy, 0) : max(H - oy, 0), max(-ox, 0) : max(W - ox, 0)]
    assert moved.amodal_area == int(expected.sum()) + int(whole.sum() - inside.sum()) and moved.whole_origin == origin


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_source_pixels_are_the_pixels_the_label_warp_copies(data):
    W, H = data.draw(st.integers(4, 300), label="W"), data.draw(st.integers(4, 300), label="H")
    M = _matrix(data, W, H)
    ids = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).integers(0, 65535, (H, W)).astype(np.uint16)
    xs, ys = F.SourcePixels.of(M, (W, H)).xy((0, H, 0, W))
    gathered = np.where(xs >= 0, ids[ys.clip(0), xs.clip(0)], 0)
    assert np.array_equal(gathered, F.warp_labels(ids, M, (W, H)))


def test_every_spec_is_implemented_once_and_names_its_class():
    assert sorted(SPECS) == NAMES
    assert all(REGISTRY[name].spec is SPECS[name] for name in NAMES)


def test_albumentations_pipeline_moves_image_id_map_and_silhouettes_together(tiny_assets):
    import albumentations as A

    data = tiny_config_dict(tiny_assets)
    data["albumentations"] = A.to_dict(A.Compose([A.HorizontalFlip(p=1.0), A.Affine(rotate=(-20, 20), p=1.0)]))
    gen = Generator(load_config(data=data))
    for index in range(3):
        s = gen.sample(index)
        assert s.metadata["conditions"][-1]["name"] == "albumentations"
        for inst in s.instances:
            m = s.id_map == inst.instance_id
            assert inst.area == int(m.sum()) and inst.bbox == tight_box(m)
            # the pipeline moved pixels: what lies outside the frame is unknown, so is the amodal data
            assert (inst.visible_fraction, inst.truncated, inst.amodal_bbox) == (None, None, None)


@pytest.mark.parametrize("name", NAMES)
def test_the_plate_goes_through_an_effect_as_the_frames_image_does(name):
    from synthgen.effects.pipeline import apply_effects, apply_effects_to_image
    from synthgen.frame import Frame

    applied = (AppliedEffect(name, 4, _params(name, 4)),)
    img = _photo()
    frame = Frame(img.copy(), np.zeros(img.shape[:2], np.uint16), ())
    assert np.array_equal(apply_effects_to_image(img, applied), apply_effects(frame, applied).image)


def test_an_object_blurred_below_the_threshold_is_not_called_hidden(tiny_assets):
    """A per-object blur long against a small object leaves no pixel whose alpha reaches
    render.alpha_threshold: the object is dropped, but nothing covers it (alone in the scene it
    still has no label), so the reason names the threshold, not occlusion."""
    import dataclasses

    data = tiny_config_dict(tiny_assets, scale=[0.08, 0.12], objects_per_image=[3, 5])
    data["effects"] = [{"name": "motion_blur", "per_object": True, "p": 1.0, "severity": 5}]
    gen = Generator(load_config(data=data))
    seen = 0
    for index in range(6):
        s = gen.sample(index)
        for key, reason in s.metadata["dropped"].items():
            p = next(q for q in s.scene.placements if q.instance_id == int(key))
            alone = gen.sample_from_scene(dataclasses.replace(s.scene, placements=(p,)),
                                          object_effects=gen.render_frame(s.scene).object_effects)
            if alone.instances:
                continue  # it has a label of its own: covered here, "hidden" is right
            seen += 1
            assert "hidden" not in reason and "render.alpha_threshold" in reason, reason
    assert seen
