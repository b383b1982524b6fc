"""Semantic, panoptic and VOC outputs: the semantic map is the union of the COCO masks by class, pixel
for pixel, and the panoptic PNGs hold exactly the segments panoptic.json lists, after effects
and an albumentations pipeline; everything read back through synthgen.io."""

from __future__ import annotations

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import json

import albumentations as A
import numpy as np
import pytest
from click.testing import CliRunner

from synthgen.cli import main
from synthgen.config import load_config
from synthgen.generator import Generator
from synthgen.io.coco import annotation_mask, read_coco
from synthgen.io.panoptic import decode_segments, read_panoptic
from synthgen.io.rle import encode_fortran, tight_box
from synthgen.io.semantic import read_class_map, read_semantic_classes
from synthgen.io.voc import read_image_set, read_voc_xml
from synthgen.runner import generate
from synthgen.tools.validate import validate_path
from synthgen.writers.semantic import IGNORE, class_map

from conftest import tiny_config_dict

N = 8


def _config(assets, albu: bool = True, **output):
    data = tiny_config_dict(assets, objects_per_image=[3, 6], distractors={"count": [1, 2]})
    data["canvas"] = {"width": 160, "height": 120}
    data["effects"] = [
        {"name": "fog", "p": 0.5, "severity": [1, 5]},
        {"name": "motion_blur", "p": 0.5, "severity": [1, 5]},
        {"name": "rotate", "p": 0.7, "severity": [1, 5]},
        {"name": "perspective", "p": 0.5, "severity": [1, 5]},
    ]
    if albu:
        data["albumentations"] = A.to_dict(A.Compose([A.HorizontalFlip(p=0.5), A.Affine(rotate=(-15, 15), scale=(0.8, 1.2), p=1)]))
    data["output"] = {"formats": ["coco", "semantic", "panoptic", "voc"], "val_fraction": 0.0, **output}
    return load_config(data=data)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from conftest import make_assets

    root = tmp_path_factory.mktemp("semantic")
    assets = make_assets(root / "assets")
    out = root / "out"
    generate(_config(assets), out, N, shard_size=3)
    return out, assets


def _expected(coco, im):
    H, W = im["height"], im["width"]
    want = np.zeros((H, W), np.uint8)
    for a in coco.annotations.get(im["id"], []):
        m = annotation_mask(f"annotation {a['id']}", a["segmentation"], H, W)
        assert not want[m].any(), "visible masks overlap"
        want[m] = a["category_id"]
    return want


def test_semantic_is_the_union_of_the_coco_masks_by_class(run):
    out, _ = run
    coco = read_coco(out / "annotations.json")
    assert not coco.issues
    classes = read_semantic_classes(out / "semantic_classes.json")
    assert classes.ignore_index == IGNORE and classes.ignored == ("distractors",)
    assert [classes.names[k] for k in sorted(coco.categories)] == [coco.categories[k] for k in sorted(coco.categories)]
    ignored = labeled = 0
    for im in coco.images.values():
        got = read_class_map(out / "semantic" / (im["file_name"].rsplit(".", 1)[0] + ".png"))
        want = _expected(coco, im)
        assert got.shape == want.shape
        scored = got != IGNORE
        assert (got[scored] == want[scored]).all(), im["file_name"]
        assert not want[~scored].any(), "an ignored pixel belongs to a labeled instance"
        ignored += int((~scored).sum())
        labeled += int(want.astype(bool).sum())
    assert ignored > 0 and labeled > 0  # distractors were drawn and marked; objects labeled


def test_ignore_marks_exactly_the_distractors_visible_pixels(tiny_assets):
    """In memory, without effects: the 255 pixels are where a distractor is the top-most object."""
    gen = Generator(_config(tiny_assets, albu=False, semantic_ignore=["distractors"]))
    for i in range(4):
        s = gen.sample(i)
        sem = class_map(s, ["distractors"])
        distractors = [p.instance_id for p in s.scene.placements if p.distractor]
        assert ((sem == IGNORE) == np.isin(s.unlabeled, distractors)).all()
        none = class_map(s, [])
        assert not (none == IGNORE).any()
        assert (none[sem != IGNORE] == sem[sem != IGNORE]).all()


def test_panoptic_segments_are_the_pixels(run):
    out, _ = run
    pan = read_panoptic(out / "panoptic.json")
    coco = read_coco(out / "annotations.json")
    assert not pan.issues and len(pan.annotations) == N
    assert all(c["isthing"] == 1 for c in pan.categories.values())
    for iid, ann in pan.annotations.items():
        ids = decode_segments(pan.png_dir / ann["file_name"])
        segments = {s["id"]: s for s in ann["segments_info"]}
        present = set(np.unique(ids).tolist()) - {0}
        assert present == set(segments), ann["file_name"]
        anns = {a["id"] % 1000: a for a in coco.annotations.get(iid, [])}
        assert set(anns) == set(segments)
        for sid, seg in segments.items():
            mask = ids == sid
            rle = encode_fortran(np.asfortranarray(mask.astype(np.uint8)))
            assert seg["area"] == int(mask.sum())
            assert seg["bbox"] == [int(v) for v in tight_box(rle)]
            assert seg["category_id"] == anns[sid]["category_id"] and seg["iscrowd"] == 0
            H, W = mask.shape
            assert (annotation_mask("a", anns[sid]["segmentation"], H, W) == mask).all()


def test_validate_checks_semantic_and_panoptic(run, tmp_path):
    import shutil

    out, _ = run
    report = validate_path(out, deep=True)
    assert report.ok, report.lines()
    assert report.counts.get("semantic maps") == N and report.counts.get("panoptic images") == N
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    sem = bad / "semantic" / "00000001.png"
    arr = read_class_map(sem).copy()
    ys, xs = np.nonzero(arr == 0)
    arr[ys[0], xs[0]] = 1
    from PIL import Image

    Image.fromarray(arr, mode="L").save(sem)
    doc = json.loads((bad / "panoptic.json").read_text())
    doc["annotations"][2]["segments_info"][0]["area"] += 1
    (bad / "panoptic.json").write_text(json.dumps(doc))
    report = validate_path(bad, deep=True)
    assert report.problem_counts["semantic"] == 1 and report.problem_counts["panoptic"] == 1, report.lines()


def test_format_flag_and_readers_only_formats(tiny_assets, tmp_path):
    """--format semantic alone writes images, maps and the class list; an unknown format is named."""
    cfg = tmp_path / "c.yaml"
    import yaml

    cfg.write_text(yaml.safe_dump(tiny_config_dict(tiny_assets)))
    r = CliRunner().invoke(main, ["generate", str(cfg), "--out", str(tmp_path / "o"), "-n", "2", "-q", "--format", "semantic"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "o" / "semantic").iterdir()) == ["00000000.png", "00000001.png"]
    assert (tmp_path / "o" / "images" / "00000000.jpg").is_file() and (tmp_path / "o" / "semantic_classes.json").is_file()
    r = CliRunner().invoke(main, ["generate", str(cfg), "--out", str(tmp_path / "p"), "-n", "1", "--format", "semantc"])
    assert r.exit_code != 0 and "did you mean 'semantic'" in r.output


def test_voc_is_the_coco_dataset_in_voc_layout(run):
    out, _ = run
    coco = read_coco(out / "annotations.json")
    names = coco.categories
    for iid, im in coco.images.items():
        stem = im["file_name"].rsplit(".", 1)[0]
        xml = read_voc_xml(out / "Annotations" / f"{stem}.xml")
        assert (xml.width, xml.height, xml.filename) == (im["width"], im["height"], im["file_name"])
        assert (out / "JPEGImages" / im["file_name"]).read_bytes() == (out / "images" / im["file_name"]).read_bytes()
        anns = [a for a in coco.annotations.get(iid, []) if not a.get("iscrowd")]
        assert [(o.name, list(o.bbox)) for o in xml.objects] == [(names[a["category_id"]], a["bbox"]) for a in anns]
        # (null, under a pixel-moving pipeline: the test below)
        assert [o.truncated for o, a in zip(xml.objects, anns) if a["truncated"] is not None] == [
            a["truncated"] for a in anns if a["truncated"] is not None]
        objects = read_class_map(out / "SegmentationObject" / f"{stem}.png")
        for k, a in enumerate(anns, 1):
            assert (objects == k).sum() == a["area"]
            assert (annotation_mask("a", a["segmentation"], im["height"], im["width"]) == (objects == k)).all()
        classes = read_class_map(out / "SegmentationClass" / f"{stem}.png")
        assert (classes == read_class_map(out / "semantic" / f"{stem}.png")).all()
    listed = read_image_set(out / "ImageSets" / "Segmentation" / "trainval.txt")
    assert listed == [im["file_name"].rsplit(".", 1)[0] for im in coco.images.values()]


def test_validate_finds_a_voc_box_off_its_mask(run, tmp_path):
    import shutil

    out, _ = run
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    xml = bad / "Annotations" / "00000003.xml"
    text = xml.read_text()
    i = text.index("<xmax>") + len("<xmax>")
    j = text.index("</xmax>")
    xml.write_text(text[:i] + str(int(text[i:j]) + 1) + text[j:])
    report = validate_path(bad)
    assert report.problem_counts == {"bbox": 1}, report.lines()
    assert "tight box" in report.problems[0].message and "00000003.xml object 1" in report.problems[0].where


def test_a_panoptic_only_run_validates(tiny_assets, tmp_path):
    out = tmp_path / "p"
    generate(_config(tiny_assets, albu=False, formats=["panoptic"]), out, 3)
    report = validate_path(out, deep=True)
    assert report.ok and report.counts.get("panoptic images") == 3, report.lines()
    assert any("panoptic" in layout for layout in report.layouts)


def test_a_run_merged_into_another_folder_validates_its_voc_classes(run, tmp_path):
    """`merge --out` writes no manifest.json: validate must take VOC's class indices from the
    COCO categories (index = category id), not call every object pixel of SegmentationClass wrong."""
    out, _ = run
    merged = tmp_path / "merged"
    r = CliRunner().invoke(main, ["merge", str(out), "--out", str(merged)])
    assert r.exit_code == 0, r.output
    assert not (merged / "manifest.json").exists() and (merged / "SegmentationClass").is_dir()
    report = validate_path(merged)
    assert report.synthgen and not report.problems, report.lines()


def test_validate_refuses_a_panoptic_png_named_outside_its_folder(run, tmp_path):
    """panoptic.json's file_name is read under panoptic/: '../x.png' must be a problem, not a read
    of a file elsewhere (which here is a sound PNG, so nothing else would be reported)."""
    import shutil

    out, _ = run
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    doc = json.loads((bad / "panoptic.json").read_text())
    first = doc["annotations"][0]
    shutil.copy(bad / "panoptic" / first["file_name"], tmp_path / "elsewhere.png")
    first["file_name"] = "../../elsewhere.png"
    (bad / "panoptic.json").write_text(json.dumps(doc))
    report = validate_path(bad)
    assert report.problem_counts["path"] == 1, report.lines()
    path = next(p for p in report.problems if p.kind == "path")
    assert "../../elsewhere.png" in path.message and f"image {first['image_id']}" in path.where


def test_validate_refuses_a_voc_filename_outside_jpegimages(run, tmp_path):
    """An XML's <filename> is read under JPEGImages/: one that climbs out is a path problem."""
    import shutil

    out, _ = run
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    xml = bad / "Annotations" / "00000000.xml"
    shutil.copy(bad / "JPEGImages" / "00000000.jpg", tmp_path / "elsewhere.jpg")
    xml.write_text(xml.read_text().replace("<filename>00000000.jpg</filename>", "<filename>../../elsewhere.jpg</filename>"))
    report = validate_path(bad)
    assert report.problem_counts == {"path": 1}, report.lines()
    assert "../../elsewhere.jpg" in report.problems[0].message and "00000000.xml" in report.problems[0].where


def test_voc_truncated_is_not_a_confident_0_when_the_pipeline_lost_what_lay_outside(run):
    """Under a pixel-moving albumentations pipeline COCO's `truncated` is null (unknown). VOC
    has no unknown: its 0 claimed an object touching the image border was whole. An object whose
    mask touches the border may be cut there (1); one that does not touch it is not cut (0)."""
    out, _ = run
    coco = read_coco(out / "annotations.json")
    unknown = 0
    for iid, im in coco.images.items():
        xml = read_voc_xml(out / "Annotations" / (im["file_name"].rsplit(".", 1)[0] + ".xml"))
        anns = [a for a in coco.annotations.get(iid, []) if not a.get("iscrowd")]
        for obj, a in zip(xml.objects, anns):
            if a["truncated"] is None:
                unknown += 1
                x, y, w, h = a["bbox"]
                assert obj.truncated == (x == 0 or y == 0 or x + w == im["width"] or y + h == im["height"]), (a["id"], a["bbox"])
            else:
                assert obj.truncated == a["truncated"]
    assert unknown


def test_semantic_maps_beside_panoptic_without_coco_are_checked_against_the_segments(run, tmp_path):
    """--format semantic,panoptic writes no COCO file: validate compared nothing with the semantic
    maps (they could disagree with the panoptic segments and it said sound)."""
    _, assets = run
    bare = tmp_path / "bare"
    generate(_config(assets, formats=["semantic", "panoptic"]), bare, 4)
    assert not (bare / "annotations.json").exists()
    report = validate_path(bare)
    assert report.counts.get("semantic maps") == 4 and not report.problems, report.lines()
    path = bare / "semantic" / "00000002.png"
    from PIL import Image

    img = Image.open(path)
    values = np.array(img)
    values[values != 0] = 0  # every labeled pixel called background
    out_img = Image.fromarray(values, "P")
    out_img.putpalette(img.getpalette())
    out_img.save(path)
    report = validate_path(bare)
    assert report.problem_counts == {"semantic": 1}, report.lines()
    assert "00000002.png" in report.problems[0].message and "panoptic" in report.problems[0].message
