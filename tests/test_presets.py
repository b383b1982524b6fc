"""Every shipped preset loads, extends the default, and generates exact labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthgen.config import load_config
from synthgen.generator import Generator
from synthgen.geometry import tight_box

from conftest import REPO

# The shipped presets, named: a file a user drops into configs/ is not a test case.
SHIPPED = ("crowd", "fog", "glare", "heavy_occlusion", "motion_blur", "night", "rain", "road", "snow", "street")
PRESETS = [REPO / "configs" / f"{name}.yaml" for name in SHIPPED]
EXAMPLES = [REPO / "configs" / "examples" / name for name in ("albumentations.yaml", "my_objects.yaml")]


def test_the_shipped_presets_are_all_there():
    assert all(p.is_file() for p in PRESETS + EXAMPLES)


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_preset_generates_exact_labels(path: Path):
    cfg = load_config(path, ["canvas.width=320", "canvas.height=240"])
    assert Path(cfg.assets.objects) == (REPO / "assets" / "objects").resolve()  # inherited from default.yaml
    gen = Generator(cfg)
    for i in range(3):
        s = gen.sample(i)
        for inst in s.instances:
            m = s.id_map == inst.instance_id
            assert inst.area == int(m.sum()) and inst.bbox == tight_box(m)


def test_extends_merges_mappings_and_replaces_lists(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text(f"assets: {{objects: {REPO}/assets/objects, backgrounds: {REPO}/assets/backgrounds}}\n"
                    "scene: {objects_per_image: [1, 2], rotation: [-5, 5]}\neffects: [{name: fog}]\n")
    child = tmp_path / "sub" / "child.yaml"
    child.parent.mkdir()
    child.write_text("extends: ../base.yaml\nscene: {rotation: [0, 0]}\neffects: [{name: rain}]\n")
    cfg = load_config(child)
    assert cfg.scene.objects_per_image == (1, 2) and cfg.scene.rotation == (0, 0)
    assert [e.name for e in cfg.effects] == ["rain"]


def test_extends_loop_is_an_error(tmp_path):
    from synthgen.errors import ConfigError

    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ConfigError, match="include each other in a loop"):
        load_config(tmp_path / "a.yaml")


def test_the_albumentations_example_generates_exact_labels():
    cfg = load_config(EXAMPLES[0], ["canvas.width=320", "canvas.height=240"])
    assert cfg.albumentations is not None
    gen = Generator(cfg)  # builds the pipeline: synthgen's label checks pass
    for i in range(3):
        s = gen.sample(i)
        for inst in s.instances:
            m = s.id_map == inst.instance_id
            assert inst.area == int(m.sum()) and inst.bbox == tight_box(m)


def test_the_own_objects_example_works_copied_anywhere(tmp_path):
    """Copied beside the user's objects, it still finds the bundled default and backgrounds."""
    import shutil

    shutil.copy(EXAMPLES[1], tmp_path / "my_objects.yaml")
    shutil.copytree(REPO / "assets" / "objects" / "car", tmp_path / "my_objects" / "car")
    cfg = load_config(tmp_path / "my_objects.yaml", ["canvas.width=320", "canvas.height=240"])
    assert Path(cfg.assets.objects) == tmp_path / "my_objects" and cfg.assets.distractors is None
    assert Path(cfg.assets.backgrounds) == (REPO / "assets" / "backgrounds").resolve()
    s = Generator(cfg).sample(0)
    assert s.instances and {i.label for i in s.instances} == {"car"}
