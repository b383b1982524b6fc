"""Label maths: boxes, areas and masks are exactly the visible pixels, under any placement.

Every check compares labels with an expectation made apart from the call that labels: pixel
coordinates worked out by hand for axis-aligned rectangles, and, for arbitrary warps, the
painter's algorithm over each object's silhouette rendered alone (what each object covers does
not depend on the others; which one shows is the top-most)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycocotools import mask as mask_utils

from synthgen.assets import PAD, AssetLibrary, BackgroundRef, Cutout, prepare_cutout
from synthgen.config import LabelsConfig
from synthgen.geometry import tight_box
from synthgen.io.rle import encode_rle
from synthgen.labels import derive_instances
from synthgen.render import render
from synthgen.types import BackgroundPlacement, Placement, Scene

W, H = 64, 48


def _rect_cutout(w: int, h: int, name: str = "rect/a.png", label: str = "rect", rgb=(200, 0, 0)) -> Cutout:
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = 255
    return Cutout(name=name, label=label, rgba=prepare_cutout(rgba))


def _library(cutouts: list[Cutout], tmp_path) -> AssetLibrary:
    import cv2

    bg = tmp_path / "bg.png"
    cv2.imwrite(str(bg), np.full((H, W, 3), 90, np.uint8))
    by_class: dict[str, list[Cutout]] = {}
    for c in cutouts:
        by_class.setdefault(c.label, []).append(c)
    return AssetLibrary(
        classes=tuple(by_class),
        cutouts={k: tuple(v) for k, v in by_class.items()},
        distractors=(),
        backgrounds=(BackgroundRef("bg.png", bg, (W, H)),),
    )


def _placement(iid: int, cut: Cutout, *, scale_px: float | None = None, **kw) -> Placement:
    w, h = cut.size_wh[0] - 2 * PAD, cut.size_wh[1] - 2 * PAD
    scale = (scale_px or max(w, h)) / min(W, H)
    base = dict(
        instance_id=iid,
        label=cut.label,
        category_id=1,
        asset=cut.name,
        scale=scale,
        rotation=0.0,
        flip=False,
        perspective=(0.0,) * 8,
        center=(W / 2, H / 2),
        blend="none",
    )
    base.update(kw)
    return Placement(**base)


def _scene(*placements: Placement) -> Scene:
    return Scene(
        index=0,
        seed=0,
        canvas_wh=(W, H),
        background=BackgroundPlacement("bg.png", 0, (0, 0, W, H), False),
        placements=tuple(placements),
    )


def _labels(scene: Scene, lib: AssetLibrary, **cfg):
    frame = render(scene, lib, 0.5)
    instances, id_map, dropped = derive_instances(scene, frame, LabelsConfig(**cfg))
    return frame, instances, id_map, dropped


def _rect_map(*rects) -> np.ndarray:
    """The expected id map of axis-aligned rectangles (id, x, y, w, h), later ones on top."""
    out = np.zeros((H, W), np.uint16)
    for iid, x, y, w, h in rects:
        out[max(y, 0) : y + h, max(x, 0) : x + w] = iid
    return out


def _check_exact(instances, expected):
    """Every label equals the pixels ``expected`` (an id map made apart from the labels) gives it,
    and every object with pixels there has a label."""
    assert sorted(i.instance_id for i in instances) == sorted(int(v) for v in np.unique(expected) if v)
    for inst in instances:
        mask = expected == inst.instance_id
        assert inst.area == int(mask.sum())
        assert inst.bbox == tight_box(mask)
        decoded = mask_utils.decode(inst.rle).astype(bool)
        assert np.array_equal(decoded, mask)
        assert [int(v) for v in mask_utils.toBbox(inst.rle)] == list(inst.bbox)
        assert int(mask_utils.area(inst.rle)) == inst.area


def test_tight_box_of_one_pixel_is_one_by_one():
    m = np.zeros((5, 7), bool)
    m[3, 4] = True
    assert tight_box(m) == (4, 3, 1, 1)
    assert tight_box(np.zeros((3, 3), bool)) is None


def test_rle_matches_pycocotools_and_is_json_ready():
    m = np.zeros((6, 5), bool)
    m[1:3, 1:4] = True
    rle = encode_rle(m)
    assert isinstance(rle["counts"], str) and rle["size"] == [6, 5]
    assert np.array_equal(mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode()}), m)


def test_integer_translation_keeps_an_opaque_rectangle_exact(tmp_path):
    cut = _rect_cutout(11, 7)
    lib = _library([cut], tmp_path)
    # cutout pixel (0,0) lands on canvas (20 - 5, 30 - 3): the centre of an 11x7 box is (5, 3)
    _, (inst,), _, _ = _labels(_scene(_placement(1, cut, center=(20.0 + PAD, 30.0))), lib)
    # padding shifts the centre by nothing: the padded cutout is symmetric
    assert inst.bbox == (20 - 5 + PAD, 30 - 3, 11, 7)
    assert inst.area == 77 and inst.visible_fraction == 1.0 and not inst.truncated
    _check_exact([inst], _rect_map((1, 15 + PAD, 27, 11, 7)))


def test_quarter_turn_swaps_width_and_height(tmp_path):
    cut = _rect_cutout(13, 5)
    lib = _library([cut], tmp_path)
    _, (inst,), _, _ = _labels(_scene(_placement(1, cut, rotation=90.0, center=(30.0, 24.0))), lib)
    assert (inst.bbox[2], inst.bbox[3]) == (5, 13)
    assert inst.area == 65
    _check_exact([inst], _rect_map((1, 28, 18, 5, 13)))


def test_object_on_top_takes_the_overlap(tmp_path):
    a, b = _rect_cutout(20, 20, "rect/a.png"), _rect_cutout(10, 10, "rect/b.png")
    lib = _library([a, b], tmp_path)
    # even sizes: centres on half pixels keep edges on the pixel grid
    scene = _scene(_placement(1, a, center=(19.5, 19.5)), _placement(2, b, center=(29.5, 19.5)))
    _, instances, _, _ = _labels(scene, lib)
    lower, upper = instances
    # a: x 10..29, y 10..29; b on top: x 25..34, y 15..24; they share 5 x 10 pixels
    assert upper.area == 100 and lower.area == 400 - 50
    assert lower.visible_fraction == pytest.approx(350 / 400)
    _check_exact(instances, _rect_map((1, 10, 10, 20, 20), (2, 25, 15, 10, 10)))


def test_object_split_by_an_occluder_stays_one_instance(tmp_path):
    wide, bar = _rect_cutout(30, 8, "rect/wide.png"), _rect_cutout(4, 20, "rect/bar.png")
    lib = _library([wide, bar], tmp_path)
    scene = _scene(_placement(1, wide, center=(31.5, 23.5)), _placement(2, bar, center=(31.5, 23.5)))
    _, instances, id_map, _ = _labels(scene, lib)
    split = instances[0]
    assert split.area == 30 * 8 - 4 * 8
    assert split.bbox[2] == 30  # the box still spans both parts
    import cv2

    n_parts, _ = cv2.connectedComponents((id_map == 1).astype(np.uint8))
    assert n_parts - 1 == 2
    _check_exact(instances, _rect_map((1, 17, 20, 30, 8), (2, 30, 14, 4, 20)))


def test_truncated_object_has_amodal_box_outside_the_image(tmp_path):
    cut = _rect_cutout(20, 10)
    lib = _library([cut], tmp_path)
    _, (inst,), _, _ = _labels(_scene(_placement(1, cut, center=(1.5, 23.5))), lib)
    assert inst.truncated
    assert inst.amodal_bbox[0] < 0 and inst.amodal_bbox[2] == 20
    assert inst.bbox[0] == 0 and inst.bbox[2] < 20
    assert inst.visible_fraction == pytest.approx(inst.area / 200)
    _check_exact([inst], _rect_map((1, -8, 19, 20, 10)))


def test_instances_below_min_visibility_lose_their_label_but_still_occlude(tmp_path):
    big, small = _rect_cutout(10, 10, "rect/big.png"), _rect_cutout(9, 10, "rect/small.png")
    lib = _library([big, small], tmp_path)
    # `small` is almost entirely under `big`
    scene = _scene(_placement(1, small, center=(20.0, 19.5)), _placement(2, big, center=(19.5, 19.5)))
    frame, instances, id_map, dropped = _labels(scene, lib, min_visibility=0.5)
    assert [i.instance_id for i in instances] == [2]
    assert 1 in dropped
    assert not (id_map == 1).any()  # an unlabeled id never stays in the written map
    assert (frame.id_map == 1).sum() < 45


placement_params = st.fixed_dictionaries(
    {
        "scale_px": st.floats(3, 40),
        "rotation": st.floats(-180, 180),
        "flip": st.booleans(),
        "perspective": st.lists(st.floats(-0.2, 0.2), min_size=8, max_size=8).map(tuple),
        "center": st.tuples(st.floats(-10, W + 10), st.floats(-10, H + 10)),
        "blend": st.sampled_from(["none", "gaussian", "motion", "poisson"]),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(placement_params, min_size=1, max_size=5))
def test_labels_are_exact_for_any_warp_truncation_and_occlusion(tmp_path, params):
    cuts = [_rect_cutout(9, 14, "rect/a.png"), _rect_cutout(15, 6, "rect/b.png")]
    lib = _library(cuts, tmp_path)
    placements = []
    for i, p in enumerate(params):
        blend_params = {"gaussian": (("sigma", 1.0),), "motion": (("length", 5.0), ("angle", 30.0))}.get(p["blend"], ())
        placements.append(_placement(i + 1, cuts[i % 2], blend_params=blend_params, **p))
    scene = _scene(*placements)
    frame, instances, id_map, _ = _labels(scene, lib, min_visibility=0.0)
    # each object's silhouette rendered alone, stacked bottom to top
    expected = np.zeros((H, W), np.uint16)
    for p in placements:
        alone = render(_scene(p), lib, 0.5).id_map
        expected[alone == p.instance_id] = p.instance_id
    _check_exact(instances, expected)
    for inst, layer in zip(instances, [frame.layers[i.instance_id - 1] for i in instances]):
        assert 0 < inst.visible_fraction <= 1
        assert inst.area <= layer.amodal_area
        # the visible box lies inside the whole-silhouette box
        ax, ay, aw, ah = inst.amodal_bbox
        x, y, w, h = inst.bbox
        assert ax <= x and ay <= y and x + w <= ax + aw and y + h <= ay + ah
    # each pixel belongs to at most one instance, and only labeled ids remain
    assert set(np.unique(id_map)) <= {0} | {i.instance_id for i in instances}


@settings(max_examples=400, deadline=None)
@given(
    st.integers(1, 12),
    st.integers(1, 12),
    st.data(),
)
def test_roi_rle_equals_pycocotools_on_the_full_mask(h, w, data):
    from synthgen.io.rle import encode_rle_roi

    # the roi may span the whole height or width, and reach the last pixel
    H, W = h + data.draw(st.integers(0, 3)), w + data.draw(st.integers(0, 4))
    y0 = data.draw(st.integers(0, H - h))
    x0 = data.draw(st.integers(0, W - w))
    bits = data.draw(st.lists(st.booleans(), min_size=h * w, max_size=h * w))
    local = np.array(bits, bool).reshape(h, w)
    full = np.zeros((H, W), bool)
    full[y0 : y0 + h, x0 : x0 + w] = local
    assert encode_rle_roi((H, W), (y0, y0 + h, x0, x0 + w), local) == encode_rle(full)


def test_contrast_is_the_share_of_pixels_that_stand_out_from_the_plate(tmp_path):
    red = _rect_cutout(10, 10, "rect/red.png")
    grey = _rect_cutout(10, 10, "rect/grey.png", rgb=(90, 90, 90))  # the background's colour: nothing shows
    lib = _library([red, grey], tmp_path)
    scene = _scene(_placement(1, red, center=(14.5, 14.5)), _placement(2, grey, center=(44.5, 24.5)))
    frame = render(scene, lib, 0.5)
    plate = np.full((H, W, 3), 90, np.uint8)
    instances, _, dropped = derive_instances(scene, frame, LabelsConfig(), plate)
    assert [(i.instance_id, i.contrast) for i in instances] == [(1, 1.0), (2, 0.0)]
    instances, id_map, dropped = derive_instances(scene, frame, LabelsConfig(min_contrast=0.2), plate)
    assert [i.instance_id for i in instances] == [1]
    assert "contrast 0.000 below labels.min_contrast" in dropped[2]
    assert not (id_map == 2).any()
    # without a plate nothing is measured and nothing is dropped for it
    assert [i.contrast for i in derive_instances(scene, frame, LabelsConfig())[0]] == [None, None]


def test_min_contrast_needs_contrast_measured():
    from synthgen.config import load_config
    from synthgen.errors import ConfigError

    with pytest.raises(ConfigError, match="min_contrast: 0.3 needs contrast: true"):
        load_config(overrides=["labels.contrast=false", "labels.min_contrast=0.3"])
