"""Bad input, everywhere: each case gets a clear error naming the file or key, or is handled
correctly, and never leaves a half-written dataset that looks complete."""

from __future__ import annotations

import errno
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from synthgen.assets import load_library
from synthgen.config import load_config
from synthgen.errors import AssetError, ConfigError, OutputError
from synthgen.generator import Generator
from synthgen.geometry import tight_box
from synthgen.runner import generate

from conftest import make_assets, tiny_config_dict


def _png_header_only(path: Path, w: int, h: int) -> None:
    """A PNG that claims to be w x h (a decompression bomb) with almost no data."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def _cfg(assets, **kw):
    data = tiny_config_dict(assets)
    data["assets"].update(kw)
    return load_config(data=data)


def test_truncated_cutout_names_the_file(tiny_assets):
    good = tiny_assets / "objects" / "square" / "square0.png"
    bad = tiny_assets / "objects" / "square" / "cut.png"
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(AssetError, match="cut.png: cannot be read as an image"):
        load_library(_cfg(tiny_assets).assets)


def test_decompression_bomb_is_refused_by_name(tiny_assets):
    _png_header_only(tiny_assets / "objects" / "square" / "bomb.png", 30000, 30000)
    with pytest.raises(AssetError, match="bomb.png: image is too large to load safely"):
        load_library(_cfg(tiny_assets).assets)
    _png_header_only(tiny_assets / "backgrounds" / "huge.png", 30000, 30000)
    (tiny_assets / "objects" / "square" / "bomb.png").unlink()
    with pytest.raises(AssetError, match="huge.png"):
        load_library(_cfg(tiny_assets).assets)


def test_odd_image_modes_are_handled(tiny_assets):
    bg = tiny_assets / "backgrounds"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (50, 70), dtype=np.uint8), "L").save(bg / "grey.png")
    Image.fromarray((rng.integers(0, 65535, (50, 70))).astype(np.uint16)).save(bg / "deep16.png")
    Image.fromarray(rng.integers(0, 255, (50, 70, 3), dtype=np.uint8)).convert("P").save(bg / "palette.png")
    Image.fromarray(rng.integers(0, 255, (50, 70, 3), dtype=np.uint8)).convert("CMYK").save(bg / "cmyk.jpg")
    # EXIF orientation 6: stored 70 wide x 50 high, shown 50 wide x 70 high
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rng.integers(0, 255, (50, 70, 3), dtype=np.uint8)).save(bg / "rotated.jpg", exif=exif)
    # a palette cutout whose colour 0 is transparent
    pal = np.zeros((30, 30), np.uint8)
    pal[5:25, 5:25] = 1
    p = Image.fromarray(pal, "P")
    p.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    p.save(tiny_assets / "objects" / "square" / "palette.png", transparency=0)
    lib = load_library(_cfg(tiny_assets).assets)
    sizes = {b.name: b.size_wh for b in lib.backgrounds}
    assert sizes["rotated.jpg"] == (50, 70)
    for i, b in enumerate(lib.backgrounds):
        img = lib.background(i)
        assert img.dtype == np.uint8 and img.shape == (b.size_wh[1], b.size_wh[0], 3), b.name
    assert lib.cutout("square/palette.png").rgba.shape[:2] == (24, 24)
    gen = Generator(_cfg(tiny_assets))
    for i in range(12):
        s = gen.sample(i)
        for inst in s.instances:
            assert inst.bbox == tight_box(s.id_map == inst.instance_id)


def test_greyscale_cutout_without_alpha_is_explained(tiny_assets):
    Image.new("L", (20, 20), 128).save(tiny_assets / "objects" / "disc" / "grey.png")
    with pytest.raises(AssetError, match=r"grey.png: has no alpha channel \(mode L\)"):
        load_library(_cfg(tiny_assets).assets)


@pytest.mark.parametrize(
    "override, key",
    [
        ("scene.objects_per_image=[5, 2]", "scene.objects_per_image"),
        ("scene.scale=-1", "scene.scale"),
        ("scene.rotation=abc", "scene.rotation"),
        ("canvas.width=[1,2]", "canvas.width"),
        ("assets.classes=[]", "assets.classes"),
        ("effects=[{name: haze}]", "effects.0"),
        ("effects=[{name: fog, severity: [4, 2]}]", "effects.0.severity"),
        ("render.blending={none: 0, gaussian: 0, poisson: 0, motion: 0}", "render.blending"),
        ("output.jpeg_quality=0", "output.jpeg_quality"),
        ("scene.distractors.count=[-1, 2]", "scene.distractors.count"),
        ("scene.distractors.count=[0, 900]", "scene"),  # instance ids must fit below 1000
    ],
)
def test_bad_config_values_name_their_key(tiny_assets, override, key):
    with pytest.raises(ConfigError) as e:
        load_config(data=tiny_config_dict(tiny_assets), overrides=[override])
    assert f"  {key}" in str(e.value)


def test_output_inside_a_file_is_a_clear_error(tiny_config, tmp_path):
    f = tmp_path / "a_file"
    f.write_text("x")
    with pytest.raises(OutputError, match="a_file"):
        generate(tiny_config, f / "out", 2)
    with pytest.raises(OutputError, match="exists and is not a folder"):
        generate(tiny_config, f, 2)


def test_a_foreign_folder_is_not_overwritten(tiny_config, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(OutputError, match="not empty and holds no synthgen run"):
        generate(tiny_config, tmp_path / "mine", 2)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_a_full_disk_fails_clearly_and_nothing_looks_complete(tiny_config, tmp_path, monkeypatch):
    import synthgen.io.files as files

    real_open = open
    writes = {"n": 0}

    def filling_open(path, mode="r", *a, **kw):
        if "w" in mode and ".tmp" in str(path):
            writes["n"] += 1
            if writes["n"] > 5:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, mode, *a, **kw)

    monkeypatch.setattr(files, "open", filling_open, raising=False)
    out = tmp_path / "out"
    with pytest.raises(OutputError, match="No space left on device"):
        generate(tiny_config, out, 20, shard_size=5)
    assert not (out / "manifest.json").exists() and not (out / "annotations.json").exists()
    done = list((out / "shards").glob("*.done.json"))
    assert len(done) <= 1  # at most the shard finished before the disk filled
    monkeypatch.undo()
    generate(tiny_config, out, 20, shard_size=5)  # space again: the same command finishes the run
    assert (out / "annotations.json").exists()


# -- fuzzing: random configs, valid or not, through validation and a tiny generation ----------

value = st.one_of(
    st.integers(-5, 600), st.floats(-2, 5, allow_nan=False), st.text(max_size=5), st.booleans(),
    st.lists(st.floats(-1, 3, allow_nan=False), min_size=0, max_size=3),
    st.lists(st.integers(-2, 9), min_size=2, max_size=2),
)
keys = st.sampled_from([
    "scene.objects_per_image", "scene.scale", "scene.rotation", "scene.perspective", "scene.flip_probability",
    "scene.truncation.min_visible", "scene.occlusion.max_hidden", "scene.distractors.count", "scene.max_tries",
    "render.alpha_threshold", "render.blending.poisson", "render.jitter.p", "render.shadows.p",
    "render.harmonize.strength", "labels.min_visibility", "canvas.width", "scene.placement.horizon",
    "scene.bogus", "seed",
])
effects = st.lists(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["fog", "rain", "night", "rotate", "motion_blur", "jpeg", "nope"])},
        optional={"p": st.floats(-0.5, 1.5, allow_nan=False), "severity": st.one_of(st.integers(0, 6), st.lists(st.integers(0, 6), min_size=2, max_size=2)),
                  "per_object": st.booleans()},
    ),
    max_size=3,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.dictionaries(keys, value, max_size=4), effects)
def test_fuzzed_configs_either_load_and_generate_exactly_or_fail_clearly(tmp_path_factory, overrides, fx):
    import json

    assets = make_assets(tmp_path_factory.mktemp("fuzz"))
    data = tiny_config_dict(assets)
    data["canvas"] = {"width": 64, "height": 48}
    sets = [f"{k}={json.dumps(v)}" for k, v in overrides.items()] + [f"effects={json.dumps(fx)}"]
    try:
        cfg = load_config(data=data, overrides=sets)
    except ConfigError as err:
        assert "invalid config" in str(err) or "--set" in str(err)
        return
    try:
        gen = Generator(cfg)
    except (ConfigError, AssetError):
        return
    s = gen.sample(0)
    for inst in s.instances:
        m = s.id_map == inst.instance_id
        assert inst.area == int(m.sum()) and inst.bbox == tight_box(m)


def test_generator_takes_a_config_dict_and_names_a_mistyped_key(tiny_assets):
    data = tiny_config_dict(tiny_assets)
    assert np.array_equal(Generator(data).sample(1).image, Generator(load_config(data=data)).sample(1).image)
    data["canvas"] = {"widht": 64, "height": 48}
    with pytest.raises(ConfigError, match=r"canvas\.widht.*did you mean 'width'"):
        Generator(data)


@pytest.mark.parametrize("index", [-1, 1.5, "3", None])
def test_generator_refuses_an_index_that_is_not_a_non_negative_integer(tiny_config, index):
    g = Generator(tiny_config)
    with pytest.raises((ValueError, TypeError), match=r"index must be an integer >= 0, not " + repr(index).replace(".", r"\.")):
        g.sample(index)
    assert g.sample(np.int64(2)).index == 2 and g.sample(10**12).index == 10**12
