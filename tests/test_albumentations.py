"""A user's albumentations pipeline: labels follow the pixels it moves or erases, and settings that
would break that are refused by name. Checked against the image, not against the id map."""

from __future__ import annotations

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import albumentations as A
import cv2
import pytest

from synthgen.config import load_config
from synthgen.errors import ConfigError
from synthgen.generator import Generator

from conftest import tiny_config_dict


def _config(assets, pipeline):
    data = tiny_config_dict(assets, objects_per_image=[3, 6])
    data["canvas"] = {"width": 160, "height": 120}
    if pipeline is not None:
        data["albumentations"] = A.to_dict(A.Compose(pipeline))
    return load_config(data=data)


@pytest.mark.parametrize(
    "transform, named",
    [
        (lambda: A.Affine(rotate=20, mask_interpolation=cv2.INTER_LINEAR, p=1), "Affine: mask_interpolation=1"),
        (lambda: A.Rotate(limit=20, mask_interpolation=cv2.INTER_CUBIC, p=1), "Rotate: mask_interpolation=2"),
        (lambda: A.Resize(120, 160, mask_interpolation=cv2.INTER_AREA, p=1), "Resize: mask_interpolation=3"),
        (lambda: A.CoarseDropout(p=1), "CoarseDropout erases pixels"),
        (lambda: A.GridDropout(p=1), "GridDropout erases pixels"),
        (lambda: A.CoarseDropout(fill_mask=3, p=1), "fill_mask=3"),
        (lambda: A.Affine(rotate=20, fill_mask=7, p=1), "fill_mask=7"),
        (lambda: A.PixelDropout(p=1), "PixelDropout: mask_drop_value=None"),
        (lambda: A.OneOf([A.HorizontalFlip(), A.Affine(mask_interpolation=1)]), "Affine: mask_interpolation=1"),
    ],
)
def test_settings_that_would_break_labels_are_refused_by_name(tiny_assets, transform, named):
    with pytest.raises(ConfigError) as err:
        Generator(_config(tiny_assets, [transform()]))
    assert "albumentations" in str(err.value) and named in str(err.value)


def test_erased_pixels_leave_the_labels(tiny_assets):
    """Render the same images with and without a dropout: where the image was blanked out, no
    object is labeled any more, and nothing else changed in the labels."""
    plain = Generator(_config(tiny_assets, None))
    dropped = Generator(_config(tiny_assets, [A.CoarseDropout(num_holes_range=(3, 6), hole_height_range=(0.1, 0.3),
                                                              hole_width_range=(0.1, 0.3), fill=0, fill_mask=0, p=1)]))
    erased_object_pixels = 0
    for i in range(6):
        a, b = plain.sample(i), dropped.sample(i)
        erased = (a.image != b.image).any(-1)
        assert (b.image[erased] == 0).all()  # what changed was blanked out
        assert not b.id_map[erased].any()
        assert (b.id_map[~erased] == a.id_map[~erased]).all()
        erased_object_pixels += int((a.id_map[erased] > 0).sum())
        for inst in b.instances:
            assert not erased[b.id_map == inst.instance_id].any()
    assert erased_object_pixels > 0  # the dropout did cover objects


def test_a_flip_moves_labels_with_the_pixels(tiny_assets):
    """A flip is known exactly: the flipped run's id map is the plain run's, mirrored."""
    plain = Generator(_config(tiny_assets, None))
    flipped = Generator(_config(tiny_assets, [A.HorizontalFlip(p=1)]))
    for i in range(4):
        a, b = plain.sample(i), flipped.sample(i)
        assert (b.image == a.image[:, ::-1]).all()
        assert (b.id_map == a.id_map[:, ::-1]).all()
        boxes_a = {inst.instance_id: inst.bbox for inst in a.instances}
        W = a.image.shape[1]
        for inst in b.instances:
            x, y, w, h = boxes_a[inst.instance_id]
            assert inst.bbox == (W - x - w, y, w, h)


def _every_serializable_transform():
    """Every albumentations transform that builds with its defaults and that ``A.to_dict`` saves."""
    import inspect
    import warnings

    out = []
    for name in sorted(dir(A)):
        cls = getattr(A, name)
        if not (inspect.isclass(cls) and issubclass(cls, A.BasicTransform)):
            continue
        kwargs = {}
        params = inspect.signature(cls.__init__).parameters
        if "fill_mask" in params and name in ("CoarseDropout", "ConstrainedCoarseDropout", "GridDropout", "XYMasking", "Erasing"):
            kwargs["fill_mask"] = 0
        if "mask_drop_value" in params:
            kwargs["mask_drop_value"] = 0
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                spec = A.to_dict(A.Compose([cls(**kwargs)]))
        except Exception:  # needs arguments (crops, resizes), or is not serializable: nothing to check
            continue
        out.append((name, spec))
    return out


def test_every_transform_saved_by_to_dict_loads_from_the_config():
    """albumentations' own to_dict writes some arguments its constructors do not take
    (SafeRotate, PadIfNeeded, RGBShift) and calls some transforms deprecated (ShiftScaleRotate):
    a pipeline saved with A.to_dict must still load; only unknown arguments are refused."""
    import json

    from synthgen.effects.albu import build

    transforms = _every_serializable_transform()
    assert len(transforms) > 80
    refused = []
    for name, spec in transforms:
        try:
            build(load_config(None, [f"albumentations={json.dumps(spec)}"]).albumentations)
        except ConfigError as err:
            refused.append(f"{name}: {err}")
    assert not refused, "\n".join(refused)


def test_a_misspelled_argument_is_still_refused():
    spec = A.to_dict(A.Compose([A.SafeRotate(limit=10, p=1)]))
    spec["transform"]["transforms"][0]["limt"] = 5
    from synthgen.effects.albu import build

    with pytest.raises(ConfigError, match="limt"):
        build(load_config(None, [f"albumentations={__import__('json').dumps(spec)}"]).albumentations)


def test_a_pipeline_that_changes_the_image_size_is_a_config_error(tiny_assets):
    # a ConfigError is what the CLI prints as one line; a ValueError came out as a traceback
    gen = Generator(_config(tiny_assets, [A.RandomCrop(96, 128, p=1)]))
    with pytest.raises(ConfigError, match=r"albumentations: .*changed the image size to 128x96.*canvas\.width"):
        gen.sample(0)
