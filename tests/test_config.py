"""Config errors name the key path, the value and what is allowed; overrides reach every key."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from synthgen.config import DEFAULT_CONFIG, dump_config, load_config
from synthgen.errors import ConfigError

from conftest import REPO, tiny_config_dict


def test_default_config_loads_and_points_at_bundled_assets():
    cfg = load_config()
    assert Path(cfg.assets.objects).is_dir() and Path(cfg.assets.backgrounds).is_dir()
    assert load_config(DEFAULT_CONFIG) == cfg


def test_unknown_key_names_its_path_and_the_allowed_keys(tiny_assets):
    data = tiny_config_dict(tiny_assets)
    data["scene"]["objects_per_imag"] = [1, 2]
    with pytest.raises(ConfigError) as e:
        load_config(data=data)
    msg = str(e.value)
    assert "scene.objects_per_imag: unknown key" in msg
    assert "did you mean 'objects_per_image'" in msg
    assert "rotation" in msg  # the allowed keys are listed


def test_reversed_range_names_key_value_and_rule(tiny_assets):
    data = tiny_config_dict(tiny_assets, scale=[0.5, 0.1])
    with pytest.raises(ConfigError, match=r"scene\.scale: \[0\.5, 0\.1\] -> .*first value must be <= the second"):
        load_config(data=data)


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("canvas.width=-3", "canvas.width: -3"),
        ("output.formats=[coco,kitti]", "output.formats.1: 'kitti' -> expected one of coco, yolo, webdataset"),
        ("render.alpha_threshold=1.5", "render.alpha_threshold: 1.5"),
        ("labels.min_visibility=abc", "labels.min_visibility: 'abc'"),
        ("assets.classes=[]", "assets.classes: [] -> is empty"),
        ("scene.truncation.min_visible=2", "scene.truncation.min_visible: 2"),
    ],
)
def test_bad_values_are_named(tiny_assets, override, fragment):
    with pytest.raises(ConfigError) as e:
        load_config(data=tiny_config_dict(tiny_assets), overrides=[override])
    assert fragment in str(e.value)


def test_set_overrides_any_key_with_yaml_values(tiny_assets):
    cfg = load_config(
        data=tiny_config_dict(tiny_assets),
        overrides=["scene.objects_per_image=[2,4]", "canvas.width=128", "output.formats=[coco, yolo]"],
    )
    assert cfg.scene.objects_per_image == (2, 4)
    assert cfg.canvas.width == 128
    assert cfg.output.formats == ["coco", "yolo"]


def test_malformed_set_is_explained():
    with pytest.raises(ConfigError, match="expected KEY.PATH=VALUE"):
        load_config(overrides=["scene.objects_per_image"])


def test_relative_asset_paths_follow_the_config_file(tmp_path, tiny_assets):
    cfg_file = tmp_path / "my.yaml"
    cfg_file.write_text("assets:\n  objects: assets/objects\n  backgrounds: assets/backgrounds\n")
    cfg = load_config(cfg_file)
    assert Path(cfg.assets.objects) == (tmp_path / "assets" / "objects").resolve()


def test_config_file_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("scene: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml is not valid YAML"):
        load_config(bad)


def test_resolved_config_round_trips(tiny_config, tmp_path):
    f = tmp_path / "resolved.yaml"
    f.write_text(dump_config(tiny_config))
    assert load_config(f) == tiny_config


def test_reading_a_config_loads_no_image_library_and_no_effect_implementation():
    code = (
        "import sys, synthgen.config; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('cv2', 'albumentations') "
        "or m.startswith('synthgen.effects') or m == 'synthgen.generator'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO)
    assert ast.literal_eval(out.stdout) == ["synthgen.effects", "synthgen.effects.specs"]


def _pipeline(*transforms) -> dict:
    import albumentations as A

    return A.to_dict(A.Compose(list(transforms)))


def test_albumentations_argument_errors_name_the_transforms_key(tiny_assets):
    import albumentations as A

    from synthgen.generator import Generator

    spec = _pipeline(A.HorizontalFlip(p=0.5), A.GaussianBlur(blur_limit=(3, 5), p=1.0))
    spec["transform"]["transforms"][1]["blur_limt"] = [3, 5]
    cfg = load_config(data={**tiny_config_dict(tiny_assets), "albumentations": spec})  # the shape is fine
    with pytest.raises(ConfigError, match=r"albumentations\.transform\.transforms\.1 \(GaussianBlur\): "
                                          r"albumentations rejected the pipeline: .*'blur_limt'"):
        Generator(cfg)


@pytest.mark.parametrize(
    "value, fragment",
    [
        ({"foo": 1}, "expected the dict that albumentations.to_dict(pipeline) returns"),
        ({"transform": {"__class_fullname__": "Compose", "transforms": [], "bbox_params": {"format": "coco"}}},
         "bbox_params is not used"),
    ],
)
def test_albumentations_shape_errors_are_config_errors(tiny_assets, value, fragment):
    with pytest.raises(ConfigError) as e:
        load_config(data={**tiny_config_dict(tiny_assets), "albumentations": value})
    assert "albumentations: " in str(e.value) and fragment in str(e.value)


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("clips.weather.period=[5]", "clips.weather.period: [5] -> expected a [min, max] pair"),
        ("clips.camera.pan=[0.1]", "clips.camera.pan: [0.1] -> expected a [min, max] pair"),
        ("scene.scale=[0.5]", "scene.scale: [0.5] -> expected a [min, max] pair"),
    ],
)
def test_a_one_value_range_names_the_key_and_expects_min_max(tiny_assets, override, fragment):
    with pytest.raises(ConfigError) as e:
        load_config(data=tiny_config_dict(tiny_assets), overrides=[override])
    assert fragment in str(e.value)
    assert "required key is missing" not in str(e.value) and ".1:" not in str(e.value)


def test_a_missing_preset_path_names_the_bundled_preset(tmp_path, monkeypatch):
    """The README's `synthgen generate configs/street.yaml ...` run from any folder but the
    checkout (a wheel install, a scratch folder) used to say only "No such file or directory";
    the error now says where the bundled preset of that name is and how to use it."""
    from synthgen import bundled

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as e:
        load_config("configs/street.yaml")
    msg = str(e.value)
    assert "cannot read config file" in msg and str(bundled.CONFIGS / "street.yaml") in msg
    assert "extends: street.yaml" in msg
    with pytest.raises(ConfigError) as e:  # no preset of that name: no hint
        load_config("configs/nope.yaml")
    assert "bundled" not in str(e.value)
