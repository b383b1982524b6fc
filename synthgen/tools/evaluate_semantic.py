"""Scoring semantic segmentation predictions against a run's or a stress suite's class maps.

Ground truth: ``RUN/semantic/<name>.png`` and ``RUN/semantic_classes.json`` (``--format
semantic``). Predictions: a folder of ``<name>.png``, one per ground-truth map, of the same
size, holding class indices (a palette or greyscale PNG: the stored values) or the colours of
semantic_classes.json (an RGB PNG). Pixels whose ground truth is the ignore index (255) are not
scored; a prediction of 255, or of any index, on a scored pixel is simply wrong unless it is
the true class.

Scores come from one confusion matrix per slice (the clean images, every condition x severity
of a stress suite, read from the suite's COCO image entries): IoU of class c = TP / (TP + FP +
FN) over the slice's pixels, n/a when the class is in neither ground truth nor prediction;
mean IoU = the mean over the classes semantic_classes.json lists (background and any "stuff"
class included, the ignore index not) that are not n/a; pixel accuracy = scored pixels right /
scored pixels.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from synthgen.errors import SynthgenError
from synthgen.io.semantic import SemanticClasses, read_class_map, read_semantic_classes

FORMAT = ("a folder of <image name>.png, one per image, the image's size: class indices as a palette or "
          "greyscale PNG (0 = background, k = the class of index k in semantic_classes.json), "
          "or an RGB PNG in semantic_classes.json's colours")


class SemanticError(SynthgenError):
    """Semantic predictions or ground truth that cannot be scored; the message names the file."""


@dataclass
class SliceScore:
    slice: str
    condition: str
    severity: int | None
    images: int
    confusion: np.ndarray  # 256 x 256 int64: [true index, predicted index] -> scored pixels

    def iou(self, index: int) -> float:
        cm = self.confusion
        tp = cm[index, index]
        union = cm[index, :].sum() + cm[:, index].sum() - tp
        return float(tp / union) if union else math.nan

    def mean_iou(self, indices: list[int]) -> float:
        vals = [v for v in (self.iou(i) for i in indices) if not math.isnan(v)]
        return float(np.mean(vals)) if vals else math.nan

    @property
    def pixels(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        n = self.pixels
        return float(np.trace(self.confusion) / n) if n else math.nan


@dataclass
class SemanticScores:
    classes: SemanticClasses
    slices: list[SliceScore]  # clean first, then conditions x severities; the last one is "all"
    detected: str
    images: list[str] = field(default_factory=list)  # names scored

    @property
    def indices(self) -> list[int]:
        """The scored classes: every index semantic_classes.json lists but the ignore index."""
        return sorted(i for i in self.classes.names if i != self.classes.ignore_index)

    @property
    def overall(self) -> SliceScore:
        return self.slices[-1]


def is_semantic_folder(path: Path) -> bool:
    """A folder of PNGs (or holding a semantic/ folder of them) and no .txt: semantic predictions.
    Not a YOLO predict folder (its drawn images beside labels/*.txt)."""
    path = Path(path)
    if not path.is_dir() or ((path / "labels").is_dir() and any((path / "labels").glob("*.txt"))):
        return False
    folder = _png_folder(path)
    names = [f.suffix.lower() for f in folder.iterdir() if f.is_file()]
    return ".png" in names and ".txt" not in names


def _png_folder(path: Path) -> Path:
    if not any(f.suffix.lower() == ".png" for f in path.iterdir()) and (path / "semantic").is_dir():
        return path / "semantic"  # a run folder given: its semantic/
    return path


def _ground_truth(run: Path) -> tuple[SemanticClasses, list[tuple[str, str, int]]]:
    """semantic_classes.json and [(name, condition, severity)]: from the COCO image entries of
    annotations.json when there is one (a stress suite's carry condition and severity), else
    the maps in semantic/."""
    from synthgen.io.coco import load_json
    from synthgen.io.issues import DatasetError

    classes_file = run / "semantic_classes.json"
    if not (run / "semantic").is_dir() or not classes_file.is_file():
        raise SemanticError(f"{run}: no semantic/ maps and semantic_classes.json to score against; make the run or suite "
                            "with semantic maps (--format coco,semantic, or output.formats in the config)")
    try:
        classes = read_semantic_classes(classes_file)
        entries: list[tuple[str, str, int]] = []
        if (run / "annotations.json").is_file():
            data = load_json(run / "annotations.json")
            for im in data.get("images", []) if isinstance(data, dict) else []:
                name = Path(str(im.get("file_name", ""))).stem
                entries.append((name, str(im.get("condition", "clean")), int(im.get("severity", 0) or 0)))
        if not entries:
            entries = [(p.stem, "clean", 0) for p in sorted((run / "semantic").glob("*.png"))]
    except DatasetError as exc:
        raise SemanticError(str(exc)) from None
    if not entries:
        raise SemanticError(f"{run / 'semantic'}: no maps to score against")
    return classes, entries


def _colour_lut(classes: SemanticClasses) -> dict[int, int]:
    return {(r << 16) | (g << 8) | b: i for i, (r, g, b) in classes.colors.items()}


def read_prediction(path: Path, shape: tuple[int, int], classes: SemanticClasses,
                    lut: dict[int, int] | None = None) -> np.ndarray:
    """One predicted map as H x W class indices; SemanticError naming the file when it is
    missing, unreadable, of another size or holds values no class has."""
    if not path.is_file():
        raise SemanticError(f"{path}: missing: every image needs a prediction <image name>.png; expected {FORMAT}")
    try:
        with Image.open(path) as img:
            mode, size = img.mode, img.size
            if mode in ("P", "L"):
                values = np.asarray(img)
            elif mode in ("RGB", "RGBA"):
                rgb = np.asarray(img.convert("RGB")).astype(np.int32)
                values = None
            else:
                raise SemanticError(f"{path}: a {mode} image; expected {FORMAT}")
    except OSError as exc:
        raise SemanticError(f"{path}: cannot be read as an image ({exc}); expected {FORMAT}") from None
    H, W = shape
    if size != (W, H):
        raise SemanticError(f"{path}: {size[0]}x{size[1]} pixels, its image is {W}x{H}; a prediction has its image's size")
    allowed = set(classes.names) | ({classes.ignore_index} if classes.ignore_index is not None else set())
    if values is None:
        lut = _colour_lut(classes) if lut is None else lut
        packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
        keys, inverse = np.unique(packed, return_inverse=True)
        bad = [int(k) for k in keys if int(k) not in lut]
        if bad:
            colours = ", ".join(f"({k >> 16}, {(k >> 8) & 255}, {k & 255})" for k in bad[:5])
            raise SemanticError(f"{path}: {len(bad)} colours that are no class of semantic_classes.json, e.g. {colours}; "
                                f"expected {FORMAT}")
        values = np.array([lut[int(k)] for k in keys], np.uint8)[inverse.reshape(H, W)]
        return values
    present = np.flatnonzero(np.bincount(values.ravel(), minlength=256))
    bad = [int(v) for v in present if int(v) not in allowed]
    if bad:
        listed = ", ".join(str(i) for i in sorted(allowed))
        raise SemanticError(f"{path}: values {bad[:8]} are no class of semantic_classes.json (indices {listed}); "
                            f"expected {FORMAT}")
    return values


def confusion(truth: np.ndarray, pred: np.ndarray, ignore: int | None) -> np.ndarray:
    """256 x 256 counts of (true, predicted) index pairs over the pixels whose truth is not ``ignore``."""
    t = truth.ravel().astype(np.int64)
    p = pred.ravel().astype(np.int64)
    if ignore is not None:
        keep = t != ignore
        t, p = t[keep], p[keep]
    return np.bincount(t * 256 + p, minlength=256 * 256).reshape(256, 256)


def score(run: Path, predictions: Path, progress: Callable[[int, int], None] | None = None) -> SemanticScores:
    """Per-class IoU, mean IoU and pixel accuracy of the maps in ``predictions`` against
    ``run``'s, per condition x severity and over all images; ``progress(done, total)`` per image."""
    run, predictions = Path(run), Path(predictions)
    classes, entries = _ground_truth(run)
    if not predictions.is_dir():
        raise SemanticError(f"{predictions}: not a folder; expected {FORMAT}")
    folder = _png_folder(predictions)
    names = {n for n, _, _ in entries}
    extra = sorted(f.name for f in folder.iterdir() if f.suffix.lower() == ".png" and f.stem not in names)
    if extra:
        raise SemanticError(f"{folder}: {len(extra)} PNGs name no image of {run}, e.g. {extra[:5]}; a prediction is named "
                            "after its image (000003_fog_5.png for images/000003_fog_5.jpg)")
    groups: dict[tuple[str, int], np.ndarray] = {}
    counts: dict[tuple[str, int], int] = defaultdict(int)
    lut = _colour_lut(classes)
    from synthgen.io.issues import DatasetError

    for k, (name, cond, sev) in enumerate(entries, 1):
        gt_path = run / "semantic" / f"{name}.png"
        if not gt_path.is_file():
            raise SemanticError(f"{gt_path}: missing; the ground truth of image {name} (`synthgen validate {run}`)")
        try:
            truth = read_class_map(gt_path)
        except DatasetError as exc:
            raise SemanticError(str(exc)) from None
        pred = read_prediction(folder / f"{name}.png", truth.shape, classes, lut)
        key = (cond, sev if cond != "clean" else 0)
        cm = confusion(truth, pred, classes.ignore_index)
        groups[key] = groups[key] + cm if key in groups else cm
        counts[key] += 1
        if progress is not None:
            progress(k, len(entries))
    slices = []
    for (cond, sev) in sorted(groups, key=lambda k: (k[0] != "clean", k)):
        slices.append(SliceScore("clean" if cond == "clean" else f"{cond} {sev}", cond, None if cond == "clean" else sev,
                                 counts[(cond, sev)], groups[(cond, sev)]))
    total = sum(groups.values())
    slices.append(SliceScore("all", "all", None, len(entries), total))
    png = sum(1 for _ in folder.glob("*.png"))
    detected = f"semantic PNG folder {folder}: {png} maps, {len(classes.names) - (classes.ignore_index in classes.names)} classes " \
               f"of {run / 'semantic_classes.json'}"
    return SemanticScores(classes, slices, detected, [n for n, _, _ in entries])


def write_csv(scores: SemanticScores, path: Path) -> Path:
    """One row per slice: images, scored pixels, pixel accuracy, mean IoU and the IoU of every class."""
    idx = scores.indices
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["slice", "condition", "severity", "images", "pixels", "pixel_accuracy", "mean_iou",
                    *[f"iou_{scores.classes.names[i]}" for i in idx]])
        for s in scores.slices:
            w.writerow([s.slice, s.condition, "" if s.severity is None else s.severity, s.images, s.pixels,
                        _num(s.accuracy), _num(s.mean_iou(idx)), *[_num(s.iou(i)) for i in idx]])
    return path


def _num(v: float) -> str:
    return "" if math.isnan(v) else f"{v:.4f}"


def rows(scores: SemanticScores, objects: dict[tuple[str, int], int] | None = None,
         class_objects: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """The evaluate table's rows (each a dict of the fields of tools/evaluate.Row, ``ap`` the
    IoU): mean IoU per slice (clean, every condition x severity with its drop against clean,
    all images), then the IoU of every class over all images. ``objects``: instances per
    (condition, severity), ``class_objects``: per class name, where the run has COCO."""
    idx = scores.indices
    objects, class_objects = objects or {}, class_objects or {}
    clean = next((s.mean_iou(idx) for s in scores.slices if s.condition == "clean"), math.nan)
    out = []
    for s in scores.slices:
        if s.condition == "all" and len(scores.slices) == 2:
            continue  # one slice: "all" is "clean" again
        m = s.mean_iou(idx)
        scored = s.condition not in ("clean", "all") and clean and not math.isnan(clean) and not math.isnan(m)
        n = sum(objects.values()) if s.condition == "all" else objects.get((s.condition, s.severity or 0), 0)
        out.append(dict(slice="all images" if s.condition == "all" else s.slice, condition=s.condition, severity=s.severity,
                        images=s.images, instances=n, ap=m, ap50=math.nan, drop=(clean - m) / clean if scored else math.nan,
                        iou="sem"))
    every = scores.overall
    for i in idx:
        name = scores.classes.names[i]
        out.append(dict(slice=f"class {name}"[:21], condition="class", severity=None, images=every.images,
                        instances=class_objects.get(name, 0), ap=every.iou(i), ap50=math.nan, drop=math.nan, iou="sem"))
    return out
