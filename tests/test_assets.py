"""Assets: broken files are errors naming the file (or skipped and counted); cutouts are trimmed."""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pytest

from synthgen.assets import PAD, load_library, prepare_cutout
from synthgen.config import load_config
from synthgen.errors import AssetError, ConfigError
from synthgen.generator import Generator

from conftest import tiny_config_dict


def _cfg(assets, **assets_cfg):
    data = tiny_config_dict(assets)
    data["assets"].update(assets_cfg)
    return load_config(data=data)


def test_cutouts_are_trimmed_to_their_alpha_box_plus_padding():
    rgba = np.zeros((50, 40, 4), np.uint8)
    rgba[10:20, 5:35] = (255, 0, 0, 255)
    out = prepare_cutout(rgba)
    assert out.shape == (10 + 2 * PAD, 30 + 2 * PAD, 4)
    # colours bleed into the transparent border, so interpolation never darkens edges
    assert (out[..., 0] == 255).all() and (out[0, :, 3] == 0).all()


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("broken.png", b"not an image at all", "cannot be read as an image"),
        ("noalpha.jpg", None, "has no alpha channel"),
        ("empty.png", "empty", "alpha channel is empty"),
    ],
)
def test_broken_cutout_is_an_error_naming_the_file(tiny_assets, name, content, message):
    path = tiny_assets / "objects" / "square" / name
    if content is None:
        cv2.imwrite(str(path), np.full((10, 10, 3), 128, np.uint8))
    elif content == "empty":
        cv2.imwrite(str(path), np.zeros((10, 10, 4), np.uint8))
    else:
        path.write_bytes(content)
    with pytest.raises(AssetError) as e:
        load_library(_cfg(tiny_assets).assets)
    assert str(path) in str(e.value) and message in str(e.value)


def test_broken_cutout_can_be_skipped_with_a_warning_and_a_count(tiny_assets):
    (tiny_assets / "objects" / "square" / "broken.png").write_bytes(b"\x89PNG truncated")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lib = load_library(_cfg(tiny_assets, on_error="skip").assets)
    assert len(lib.skipped) == 1 and "broken.png" in lib.skipped[0][0]
    assert any("broken.png" in str(w.message) for w in caught)
    assert len(lib.cutouts["square"]) == 2


def test_image_plus_mask_pairs_are_cutouts(tiny_assets):
    d = tiny_assets / "objects" / "square"
    cv2.imwrite(str(d / "photo.jpg"), np.full((20, 30, 3), 200, np.uint8))
    mask = np.zeros((20, 30), np.uint8)
    mask[5:15, 5:25] = 255
    cv2.imwrite(str(d / "photo.mask.png"), mask)
    lib = load_library(_cfg(tiny_assets).assets)
    photo = lib.cutout("square/photo.jpg")
    assert photo.rgba.shape[:2] == (10 + 2 * PAD, 20 + 2 * PAD)


def test_mask_of_the_wrong_size_is_named(tiny_assets):
    d = tiny_assets / "objects" / "square"
    cv2.imwrite(str(d / "photo.jpg"), np.full((20, 30, 3), 200, np.uint8))
    cv2.imwrite(str(d / "photo.mask.png"), np.full((10, 10), 255, np.uint8))
    with pytest.raises(AssetError, match="photo.mask.png: mask is 10x10 but its image photo.jpg is 30x20"):
        load_library(_cfg(tiny_assets).assets)


def test_missing_folder_and_unknown_class_are_explained(tiny_assets):
    with pytest.raises(AssetError, match="assets.backgrounds: folder .* does not exist"):
        load_library(_cfg(tiny_assets, backgrounds=str(tiny_assets / "nope")).assets)
    with pytest.raises(AssetError, match=r"\['car'\] have no folder .* available classes: disc, square"):
        load_library(_cfg(tiny_assets, classes=["car"]).assets)


def test_class_weights_must_name_known_classes(tiny_assets):
    cfg = load_config(data=tiny_config_dict(tiny_assets, class_weights={"cat": 2.0}))
    with pytest.raises(ConfigError, match=r"scene.class_weights: \['cat'\] .* allowed: disc, square"):
        Generator(cfg)


def test_every_bundled_asset_names_its_source_and_licence():
    from conftest import REPO

    licences = (REPO / "assets" / "LICENSES.md").read_text()
    files = [p for p in (REPO / "assets").rglob("*") if p.is_file() and p.name != "LICENSES.md"]
    assert len(files) > 40
    missing = [str(p.relative_to(REPO / "assets")) for p in files if str(p.relative_to(REPO / "assets")) not in licences]
    assert not missing, f"not in assets/LICENSES.md: {missing}"


def test_cutout_whose_alpha_never_reaches_the_threshold_is_named(tiny_assets):
    """A faint cutout (alpha 60 of 255 everywhere) can never be labeled at alpha_threshold 0.5:
    it used to be pasted, never labeled, and counted as "no place met scene.truncation and
    scene.occlusion.max_hidden", advice that could not help."""
    path = tiny_assets / "objects" / "square" / "faint.png"
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[4:24, 4:24] = (0, 200, 0, 60)
    cv2.imwrite(str(path), rgba)
    with pytest.raises(AssetError) as e:
        Generator(_cfg(tiny_assets))
    msg = str(e.value)
    assert str(path) in msg and "render.alpha_threshold" in msg and "60" in msg
    # a lower threshold labels it: then it is a usable cutout
    data = tiny_config_dict(tiny_assets)
    data["render"] = {**data.get("render", {}), "alpha_threshold": 0.2}
    Generator(load_config(data=data))


def test_cutouts_put_directly_in_the_objects_folder_are_explained(tiny_assets, tmp_path):
    """A new user's first layout, my_objects/a.png with no class folder, used to get only
    "has no class sub-folders"; the error now says what it found and the layout to use."""
    flat = tmp_path / "flat"
    flat.mkdir()
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[4:16, 4:16] = 255
    cv2.imwrite(str(flat / "a.png"), rgba)
    with pytest.raises(AssetError) as e:
        load_library(_cfg(tiny_assets, objects=str(flat)).assets)
    msg = str(e.value)
    assert "has no class sub-folders" in msg and "1 image" in msg and f"{flat}/<class>/a.png" in msg


def test_a_skipped_asset_is_one_plain_warning_line_whatever_the_workers(tiny_assets, tmp_path):
    """With assets.on_error: skip, `synthgen generate --workers 2` printed Python's raw warning,
    "<path>/synthgen/assets.py:326: UserWarning: skipping broken asset: ..." plus the source line
    "skipper.handle(err, p)", once per process that loaded the assets."""
    import os
    import subprocess
    import sys

    import yaml

    from conftest import REPO

    (tiny_assets / "objects" / "square" / "broken.png").write_bytes(b"not an image")
    data = tiny_config_dict(tiny_assets)
    data["assets"]["on_error"] = "skip"
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(data))
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    r = subprocess.run([sys.executable, "-m", "synthgen.cli", "generate", str(cfg), "--out", str(tmp_path / "out"),
                        "-n", "20", "--shard-size", "5", "--workers", "2", "-q"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    warned = [line for line in r.stderr.splitlines() if "skipping broken asset" in line]
    assert warned == [f"warning: skipping broken asset: {tiny_assets / 'objects' / 'square' / 'broken.png'}: "
                      "cannot be read as an image (cannot identify image file "
                      f"'{tiny_assets / 'objects' / 'square' / 'broken.png'}')"], r.stderr
    assert "UserWarning" not in r.stderr and "skipper.handle" not in r.stderr
    assert "skipped 1 broken asset file ->" in r.stdout, r.stdout


def test_an_all_black_region_mask_is_named_not_taken_as_no_region(tiny_assets):
    """An all-black X.region.png (objects could stand nowhere) is refused naming the file, not
    silently taken as "no region" (objects anywhere); with on_error: skip its background is
    left out and counted."""
    bg = tiny_assets / "backgrounds" / "bg0.jpg"
    w, h = cv2.imread(str(bg)).shape[1::-1]
    region = bg.with_name(bg.stem + ".region.png")
    cv2.imwrite(str(region), np.zeros((h, w), np.uint8))
    with pytest.raises(AssetError) as e:
        load_library(_cfg(tiny_assets).assets)
    assert str(region) in str(e.value) and "no white pixel" in str(e.value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lib = load_library(_cfg(tiny_assets, on_error="skip").assets)
    assert bg.name not in [b.name for b in lib.backgrounds] and len(lib.skipped) == 1


def test_a_mostly_transparent_background_is_named_as_a_likely_cutout(tiny_assets):
    """A background whose alpha is 0 on more than half its pixels (a cutout put in the wrong
    folder) is refused naming the file; one with a little transparency is used as its RGB."""
    folder = tiny_assets / "backgrounds"
    cutout = np.zeros((40, 50, 4), np.uint8)
    cutout[10:20, 10:20] = (0, 200, 0, 255)
    cv2.imwrite(str(folder / "oops.png"), cutout)
    with pytest.raises(AssetError) as e:
        load_library(_cfg(tiny_assets).assets)
    assert str(folder / "oops.png") in str(e.value) and "transparent" in str(e.value) and "objects/" in str(e.value)
    cutout[:, :] = (0, 200, 0, 255)
    cutout[:5, :5, 3] = 0  # a few transparent pixels: a legitimate background
    cv2.imwrite(str(folder / "oops.png"), cutout)
    assert "oops.png" in [b.name for b in load_library(_cfg(tiny_assets).assets).backgrounds]


@pytest.mark.parametrize("side", [1, 3, 15])
def test_a_tiny_cutout_is_refused_naming_the_file_and_the_minimum(tiny_assets, side):
    """A 1x1 or 3x3 opaque cutout was accepted and enlarged ~100x into a blur with a wide soft
    edge below the alpha threshold (unlabeled); cutouts under MIN_CUTOUT_SIDE pixels on their
    longer side are refused (or skipped and listed with on_error: skip)."""
    from synthgen.assets import MIN_CUTOUT_SIDE

    path = tiny_assets / "objects" / "square" / "dot.png"
    rgba = np.zeros((30, 30, 4), np.uint8)
    rgba[5 : 5 + side, 5 : 5 + max(side // 2, 1)] = (0, 0, 255, 255)
    cv2.imwrite(str(path), rgba)
    with pytest.raises(AssetError) as e:
        load_library(_cfg(tiny_assets).assets)
    msg = str(e.value)
    assert str(path) in msg and f"{max(side // 2, 1)}x{side}" in msg and str(MIN_CUTOUT_SIDE) in msg and "on_error" in msg
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lib = load_library(_cfg(tiny_assets, on_error="skip").assets)
    assert [f for f, _ in lib.skipped] == [str(path)]
    rgba[5 : 5 + MIN_CUTOUT_SIDE, 5:7] = (0, 0, 255, 255)  # a thin pole of the minimum height is fine
    cv2.imwrite(str(path), rgba)
    assert "square/dot.png" in [c.name for c in load_library(_cfg(tiny_assets).assets).cutouts["square"]]
