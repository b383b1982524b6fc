"""What a new user sees: errors that say what to do, progress and summaries, `synthgen config`.

Each message is tested for the key, the value and what would be right, and for never showing a
Python type.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO, tiny_config_dict

from synthgen.cli import main
from synthgen.config import load_config
from synthgen.errors import ConfigError


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def cfg_file(tiny_assets, tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_config_dict(tiny_assets)))
    return path


# ---------------------------------------------------------------------------------------------
# Errors that explain


def test_a_different_config_names_the_keys_that_differ_and_what_to_do(cfg_file, tmp_path):
    out = tmp_path / "out"
    assert _cli("generate", cfg_file, "--out", out, "-n", "3", "-q", "--format", "coco,yolo").exit_code == 0
    r = _cli("generate", cfg_file, "--out", out, "-n", "3", "-q", "--seed", "9")
    assert r.exit_code == 2
    assert 'output.formats: ["coco", "yolo"] -> ["coco"]' in r.output and "seed: 3 -> 9" in r.output
    assert "another folder" in r.output and "--overwrite" in r.output
    # the same command again resumes; --overwrite replaces
    assert _cli("generate", cfg_file, "--out", out, "-n", "3", "-q", "--format", "coco,yolo").exit_code == 0
    assert _cli("generate", cfg_file, "--out", out, "-n", "3", "-q", "--overwrite").exit_code == 0


@pytest.mark.parametrize(
    "override, wanted",
    [
        ("scene.objects_per_image=3", "scene.objects_per_image: 3 -> expected a [min, max] pair, e.g. [2, 4] (from --set)"),
        ("scene.objects_per_image=[1,2,3]", "expected a [min, max] pair"),
        ("assets.objects=''", "assets.objects: '' -> is empty: give a folder or file path"),
        ("assets.objects=", "assets.objects: null -> expected a path"),
        ("canvas.width=abc", "canvas.width: 'abc' -> expected a whole number"),
        ("labels.amodal_masks=maybe", "expected true or false"),
        ("output.formats=coco", "output.formats: 'coco' -> expected a list"),
        ("output.formats=[cocoo]", "expected one of coco, yolo, webdataset, semantic, panoptic, voc, hf (did you mean 'coco'?)"),
        ("scene=3", "scene: 3 -> expected a mapping (key: value)"),
        ("effects=[fog]", "effects.0: 'fog' -> expected a mapping"),
        ("effects=[{name: fgo}]", "unknown effect 'fgo' (did you mean 'fog'?)"),
        ("effects=[{name: fog, severity: x}]", "effects.0.severity: 'x' -> expected a whole number or a [min, max] pair"),
        ("scene.balance.target=foo", "scene.balance.target: 'foo' -> expected one of uniform or a mapping"),
        ("canvas.width=5", "canvas.width: 5 -> expected a value >= 16"),
    ],
)
def test_config_messages_name_key_value_and_what_is_allowed(tiny_assets, override, wanted):
    with pytest.raises(ConfigError) as e:
        load_config(data=tiny_config_dict(tiny_assets), overrides=[override])
    text = str(e.value)
    assert wanted in text
    for python in ("<class", "tuple", "Input should", "instance of", "function-after", "literal["):
        assert python not in text


def test_format_is_checked_as_format_and_case_insensitive(cfg_file, tmp_path):
    r = _cli("generate", cfg_file, "--out", tmp_path / "a", "-n", "2", "-q", "--format", "coco,vco")
    assert r.exit_code == 2 and "--format 'coco,vco': unknown format 'vco'" in r.output
    assert "allowed: coco, yolo, webdataset" in r.output and "yaml" not in r.output
    assert not (tmp_path / "a").exists()
    r = _cli("generate", cfg_file, "--out", tmp_path / "b", "-n", "2", "-q", "--format", "COCO,Yolo")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "b" / "data.yaml").is_file() and (tmp_path / "b" / "annotations.json").is_file()


def test_unknown_effect_names_get_did_you_mean(cfg_file, tmp_path):
    r = _cli("effects", "fgo")
    assert r.exit_code == 2 and "unknown effect 'fgo' (did you mean 'fog'?)" in r.output
    r = _cli("stress", cfg_file, "--out", tmp_path / "s", "-n", "1", "--conditions", "nigth", "-q")
    assert r.exit_code == 2 and "unknown 'nigth' (did you mean 'night'?)" in r.output


def test_address_needs_the_ray_backend(cfg_file, tmp_path):
    r = _cli("generate", cfg_file, "--out", tmp_path / "o", "-n", "2", "--address", "auto")
    assert r.exit_code == 2 and "--address auto is for Ray: add --backend ray" in r.output
    assert not (tmp_path / "o").exists()


def test_ray_without_a_cluster_is_one_line_and_leaves_nothing(cfg_file, tmp_path, monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    r = _cli("generate", cfg_file, "--out", tmp_path / "o", "-n", "2", "--backend", "ray", "--address", "auto")
    assert r.exit_code == 2
    assert r.output.count("\n") == 1 and "cannot connect to --address auto" in r.output and "ray start --head" in r.output
    assert not (tmp_path / "o").exists()


def test_install_hints_are_the_readme_commands():
    from synthgen.runner import RAY_INSTALL

    readme = (REPO / "README.md").read_text()
    assert "pip install -e '.[ray]'" in RAY_INSTALL and "pip install -e '.[ray]'" in readme
    code = "import sys; sys.modules['torch'] = None; import synthgen.dataset"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False,
                       env={"PYTHONPATH": str(REPO), "PATH": ""})
    last = r.stderr.strip().splitlines()[-1]
    assert r.returncode != 0 and "ModuleNotFoundError: synthgen.dataset needs PyTorch: pip install -e '.[torch]'" in last
    assert "pip install -e '.[torch]'" in readme


def test_extract_that_keeps_nothing_says_why_and_fails(cfg_file, tmp_path):
    out = tmp_path / "boxes"
    assert _cli("generate", cfg_file, "--out", out, "-n", "3", "-q", "--format", "yolo").exit_code == 0
    r = _cli("extract", "--yolo", out, "--out", tmp_path / "cut", "-q")
    assert r.exit_code == 1
    assert "no cutout was kept" in r.output and "no mask" in r.output and "--boxes-only" in r.output


def test_unplaced_objects_are_in_the_summary(cfg_file, tmp_path):
    out = tmp_path / "crowded"
    r = _cli("generate", cfg_file, "--out", out, "-n", "2", "-q", "--set", "scene.objects_per_image=[60,60]")
    assert r.exit_code == 0, r.output
    unplaced = sum(json.loads(line)["scene"]["unplaced"] for line in (out / "metadata.jsonl").read_text().splitlines())
    assert unplaced > 0 and f"{unplaced} objects left out" in r.output and "max_tries" in r.output


def test_validate_fails_a_truncated_jpeg_and_a_changed_file(cfg_file, tmp_path):
    out = tmp_path / "run"
    assert _cli("generate", cfg_file, "--out", out, "-n", "4", "-q").exit_code == 0
    assert _cli("validate", out, "-q").exit_code == 0
    image = sorted((out / "images").iterdir())[2]
    data = image.read_bytes()
    image.write_bytes(data[: len(data) // 3])
    r = _cli("validate", out, "-q")
    assert r.exit_code == 1 and "truncated: the JPEG has no end marker" in r.output
    assert f"[checksum] images/{image.name}" in r.output
    # outside a run (no records): the end marker still catches it; --deep decodes every image
    (out / "manifest.json").unlink()
    r = _cli("validate", out, "--deep", "-q")
    assert r.exit_code == 1 and "truncated" in r.output and "[checksum]" not in r.output


def test_validate_decodes_a_whole_jpeg_that_does_not_decode(cfg_file, tmp_path):
    out = tmp_path / "run"
    assert _cli("generate", cfg_file, "--out", out, "-n", "2", "-q").exit_code == 0
    (out / "manifest.json").unlink()
    image = sorted((out / "images").iterdir())[1]
    data = bytearray(image.read_bytes())
    data[len(data) // 3 : 2 * len(data) // 3] = b"\xff" * (len(data) // 3)  # corrupt, end marker kept
    image.write_bytes(bytes(data))
    r = _cli("validate", out, "--deep", "-q")
    assert r.exit_code == 1 and "cannot be decoded" in r.output


# ---------------------------------------------------------------------------------------------
# Progress and feedback


def test_no_empty_bar_before_the_summary_and_q_is_silent(cfg_file, tmp_path):
    r = _cli("generate", cfg_file, "--out", tmp_path / "o", "-n", "2")
    assert r.exit_code == 0 and r.output.startswith("wrote 2 images") and "0img" not in r.output


def test_tools_report_progress(cfg_file, tmp_path):
    from synthgen.tools.report import write_report
    from synthgen.tools.split import split_dataset
    from synthgen.tools.validate import validate_path

    out = tmp_path / "run"
    assert _cli("generate", cfg_file, "--out", out, "-n", "5", "-q").exit_code == 0
    ticks: list[int] = []
    validate_path(out, progress=ticks.append)
    assert sum(ticks) == 5
    ticks.clear()
    write_report(out, tmp_path / "r.html", progress=ticks.append)
    assert sum(ticks) == 5
    steps: list[tuple[int, int]] = []
    split_dataset(out, tmp_path / "split", 0.4, progress=lambda d, t: steps.append((d, t)))
    assert steps[-1] == (5, 5)


def test_every_long_command_has_quiet():
    for name in ("generate", "stress", "validate", "evaluate", "report", "combine", "split", "extract"):
        assert "--quiet" in _cli(name, "--help").output, name


# ---------------------------------------------------------------------------------------------
# Seeing what a config will do


def test_config_prints_every_key_with_its_source(tmp_path, monkeypatch):
    child = tmp_path / "mine.yaml"
    child.write_text("extends: fog.yaml\nscene: {rotation: [0, 0]}\n")
    monkeypatch.chdir(tmp_path)
    r = _cli("config", child, "--set", "canvas.width=800")
    assert r.exit_code == 0, r.output
    lines = {line.split(":")[0].strip(): line for line in r.output.splitlines()}
    assert lines["rotation"].endswith("# mine.yaml") and "[0.0, 0.0]" in lines["rotation"]
    assert lines["width"].endswith("# --set") and "800" in lines["width"]
    assert lines["effects"].endswith(str(REPO / "configs" / "fog.yaml")) or lines["effects"].endswith("fog.yaml")
    assert lines["objects_per_image"].endswith("default.yaml")
    assert lines["max_hidden"].rstrip().endswith("default.yaml") and lines["mode"].endswith("# default")
    assert "- {name: fog" in r.output
    r = _cli("config", child, "--set", "canvas.width=abc")
    assert r.exit_code == 2 and "canvas.width: 'abc' -> expected a whole number" in r.output


def test_config_prints_the_keys_left_out_of_digests_too():
    """`synthgen config` ("every key ... with its source") left out the keys a run's digest omits
    at their defaults: output.lines, output.coco_masks, output.semantic_ignore, assets.max_pixels,
    scene.placement.lanes and the whole clips section, all of which the README tells users to set."""
    import typing

    from pydantic import BaseModel

    from synthgen.config import Config

    def leaves(model: type[BaseModel], prefix: str = "") -> set[str]:
        out = set()
        for name, field in model.model_fields.items():
            args = (field.annotation,) if typing.get_origin(field.annotation) is list else \
                getattr(field.annotation, "__args__", (field.annotation,))  # X | None: X
            sub = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
            default = field.get_default(call_default_factory=True)
            out |= leaves(sub, f"{prefix}{name}.") if sub is not None and default is not None else {prefix + name}
        return out

    r = _cli("config")
    assert r.exit_code == 0, r.output
    shown = yaml.safe_load(r.output)  # the sources are YAML comments

    def has(key: str) -> bool:
        node = shown
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    missing = sorted(k for k in leaves(Config) if not has(k))
    assert not missing, missing
    for line in ("lines: false", "coco_masks: rle", "max_pixels: 40000000", "mot_class: category"):
        assert any(row.strip().startswith(line) and row.rstrip().endswith("# default") for row in r.output.splitlines()), line


@pytest.mark.parametrize("args", [["generate", "--format", "coco", "yolo"], ["generate", "--format", "coco,", "yolo"],
                                  ["stress", "--conditions", "fog,", "night"], ["stress", "--severities", "1,", "3"]])
def test_a_format_list_with_a_space_says_so(tmp_path, monkeypatch, args):
    """`--format coco yolo` (or `coco, yolo`; `--conditions fog, night`) made click take "yolo"
    as the CONFIG argument, and the error was "cannot read config file .../yolo: No such file or
    directory"."""
    monkeypatch.chdir(tmp_path)
    r = _cli(args[0], "--out", tmp_path / "out", "-n", "1", *args[1:])
    assert r.exit_code == 2
    assert "cannot read config file" not in r.output and "--format coco,yolo" in r.output, r.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["sheet", "sheet.txt"])
def test_preview_output_without_an_image_suffix_is_an_error_not_a_traceback(cfg_file, tmp_path, name):
    """`synthgen preview -o sheet` (no extension) used to draw the whole sheet, then die in
    cv2.imwrite with a traceback ("could not find a writer for the specified extension")."""
    r = _cli("preview", cfg_file, "-o", tmp_path / name, "-n", "1")
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and "--output" in r.output and ".png" in r.output
    assert not (tmp_path / name).exists()
    r = _cli("preview", cfg_file, "-o", tmp_path / "sheet.JPG", "-n", "1")
    assert r.exit_code == 0 and (tmp_path / "sheet.JPG").read_bytes()[:2] == b"\xff\xd8"


def test_preview_sheet_has_no_black_empty_cells(tiny_config):
    """`synthgen preview -n 6` (4 columns) ended in two pure black cells, and -n 2 in a sheet
    4 tiles wide, half of it black: empty cells are now the sheet's dark grey gutter, and a
    sheet is never wider than its samples."""
    from synthgen.generator import Generator
    from synthgen.tools.preview import contact_sheet

    gen = Generator(tiny_config)
    samples = [gen.sample(i) for i in range(5)]
    one = contact_sheet(samples[:1], cols=4, tile_width=100)
    assert contact_sheet(samples[:2], cols=4, tile_width=100).shape[1] == 2 * one.shape[1]
    sheet = contact_sheet(samples, cols=4, tile_width=100)
    assert sheet.shape[1] == 4 * one.shape[1] and sheet.shape[0] == 2 * one.shape[0]
    empty = sheet[one.shape[0]:, one.shape[1]:]  # the three cells after the fifth sample
    assert (empty == 15).all()


def test_preview_tiles_name_the_conditions():
    from synthgen.tools.preview import conditions_text

    assert conditions_text([]) == "no conditions"
    assert conditions_text([{"name": "fog", "severity": 3}, {"name": "motion_blur", "severity": 2, "instance_id": 4},
                            {"name": "motion_blur", "severity": 2, "instance_id": 5}]) == "fog s3, motion_blur s2 (object) x2"


# ---------------------------------------------------------------------------------------------
# report on a stress suite, balancing


def test_report_on_a_stress_suite_spreads_the_gallery_and_names_conditions(cfg_file, tmp_path):
    from synthgen.tools.report import build_report

    suite = tmp_path / "suite"
    r = _cli("stress", cfg_file, "--out", suite, "-n", "3", "--conditions", "glare,occlusion", "--severities", "1,5", "-q")
    assert r.exit_code == 0, r.output
    page, stats = build_report(suite, gallery=5)
    captions = [c.split(" · ")[-1] for c in __import__("re").findall(r'<figcaption>([^<]*)</figcaption>', page)]
    assert len(set(captions)) == 5  # five variants, not five scenes of one
    assert stats.clear == 3 and stats.condition_images["occlusion"] == 6 and stats.condition_images["glare"] == 6
    assert "sun_flare" not in page


def test_balance_counts_the_objects_real_scenes_carry():
    from synthgen.balance import balance_weights, carried_objects, report_lines

    real = {"car": 90, "bus": 10}
    carried = carried_objects(real, scene_images=10, synthetic_images=20, p=0.5)  # 10 scenes drawn: 90 cars, 10 buses
    assert carried == {"car": 90.0, "bus": 10.0}
    pasted = 200
    w = balance_weights(real, ["car", "bus"], "uniform", pasted, carried)
    car = real["car"] + carried["car"] + w["car"] * pasted
    bus = real["bus"] + carried["bus"] + w["bus"] * pasted
    assert car == pytest.approx(bus)  # both 200: the promise adds up once carried objects count
    lines = report_lines(real, w, pasted, carried)
    assert "+carried" in lines[0] and all(line.endswith("50.0%") for line in lines[1:])


def test_report_cards_say_their_base_when_not_every_instance_records_it(tmp_path):
    from synthgen.tools.report import build_report

    coco = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
        "categories": [{"id": 1, "name": "car"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4, "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [4, 4, 2, 2], "area": 4, "iscrowd": 0,
             "visible_fraction": 0.5, "truncated": False},
        ],
    }
    (tmp_path / "images").mkdir()
    (tmp_path / "train.json").write_text(json.dumps(coco))
    page, _ = build_report(tmp_path / "train.json", images=tmp_path / "images", gallery=0)
    assert "visible fraction (mean, of 1 instances that record it)" in page
    assert "instances truncated (of 1 that record it)" in page
