"""Scoring a model on a stress suite, slice by slice, with pycocotools.

Slices: the clean images, every condition x severity, and (over the whole suite) object size,
visibility and contrast buckets (contrast: the share of an object's pixels that stand out from
the background behind it, written by synthgen for pasted objects). Output: a terminal table, metrics.csv, metrics.md and ap_vs_severity.png.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from synthgen.errors import SynthgenError
from synthgen.io.rle import MaskError, check_segmentation, fmt, is_number
from synthgen.tools.evaluate_keypoints import check_prediction as check_keypoints
from synthgen.tools.evaluate_keypoints import keypoint_categories, keypoint_rows
from synthgen.tools.predictions import (
    Names,
    PredictionError,
    Predictions,
    read_predictions,
)

VISIBILITY_BUCKETS = ((0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0001))
CONTRAST_BUCKETS = VISIBILITY_BUCKETS
# slice condition -> (annotation key, slice name, buckets)
BUCKETED = {
    "visibility": ("visible_fraction", "visible", VISIBILITY_BUCKETS),
    "contrast": ("contrast", "contrast", CONTRAST_BUCKETS),
}


class EvaluationError(SynthgenError):
    """Predictions or a suite that cannot be scored; the message says which entries."""


@dataclass(frozen=True)
class Row:
    slice: str
    condition: str
    severity: int | None
    images: int
    instances: int
    ap: float  # AP@[.5:.95], NaN when the slice has nothing to score
    ap50: float
    drop: float  # relative to clean: (clean - ap) / clean
    iou: str = "bbox"


def _quiet(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def _coco(dataset: dict[str, Any]) -> COCO:
    c = COCO()
    c.dataset = dataset
    _quiet(c.createIndex)
    return c


KEEP = ("image_id", "category_id", "bbox", "score", "segmentation", "keypoints")  # what COCOeval reads of a prediction


def _prediction_error(p: dict[str, Any], sizes: dict) -> str | None:
    """What is wrong with one prediction on the suite's ids (None when it can be scored):
    which field, and what is allowed."""
    bbox = p.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(is_number(v) for v in bbox)):
        return f"bbox {str(bbox)[:60]} is not [x, y, width, height] of 4 finite numbers"
    if bbox[2] < 0 or bbox[3] < 0:
        return f"bbox {fmt(bbox)} has a negative width or height (COCO boxes are [x, y, width, height])"
    score = p.get("score")
    if not is_number(score):
        shown = repr(score[:40]) if isinstance(score, str) else str(score)[:40]
        return f"score {shown} is not a finite number (higher = more confident)"
    if "segmentation" in p:  # checked here: a malformed mask must not reach pycocotools
        H, W = sizes[p["image_id"]]
        try:
            check_segmentation(p["segmentation"], H, W)
        except MaskError as exc:
            return f"{exc} (masks are RLE or polygons of the image's {W}x{H} pixels)"
    return None


def load_predictions(path: Path, gt: dict[str, Any], names: Names | None = None, stem_ids: bool = False) -> Predictions:
    """The predictions in any accepted format (tools/predictions), each checked (EvaluationError
    naming the file, entry or line, the field and what is allowed), as the annotations COCOeval
    reads: only the fields it needs, with ``id``, ``area`` (the box's, as pycocotools' loadRes
    sets it) and ``iscrowd`` added."""
    try:
        found = read_predictions(Path(path), gt, names, stem_ids)
    except PredictionError as exc:
        raise EvaluationError(str(exc)) from None
    sizes = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    kp_sizes = {c: len(n) for c, n in keypoint_categories(gt).items()}
    for i, p in enumerate(found.results):
        error = _prediction_error(p, sizes) or check_keypoints(p, kp_sizes)
        if error:
            where = p["_where"] if p["_where"].startswith(str(path)) else f"{path}: {p['_where']}"
            raise EvaluationError(f"{where} (image {p['image_id']}): {error}; expected {found.expected}")
        for k in [k for k in p if k not in KEEP]:
            del p[k]
        _, _, w, h = p["bbox"]
        p.update(id=i + 1, area=w * h, iscrowd=0)
    return found


class _Scorer:
    """COCOeval over one ground truth and one set of detections, evaluated once per IoU type
    and read for any subset of images: each image's matching does not depend on the others,
    so a subset's AP is accumulated from the evaluated images it holds (as evaluating it alone
    would give). ``areas=False`` evaluates only the 'all' area range (AP and AP50 need no more)."""

    def __init__(self, gt: COCO, dt: COCO, iou: str, areas: bool = True) -> None:
        self.gt = gt
        ev = COCOeval(gt, dt, iou)
        if not areas:
            ev.params.areaRng, ev.params.areaRngLbl = ev.params.areaRng[:1], ev.params.areaRngLbl[:1]
        _quiet(ev.evaluate)
        self.ev = ev
        self.evaluated = list(ev._paramsEval.imgIds)
        self.position = {i: n for n, i in enumerate(self.evaluated)}
        self.all_images = list(ev.evalImgs)

    def stats(self, image_ids: list) -> tuple[float, float, list[float]]:
        if not image_ids or not self.gt.getAnnIds(imgIds=image_ids, iscrowd=False):
            return math.nan, math.nan, [math.nan] * 12
        ev, pe = self.ev, self.ev._paramsEval
        ids = sorted(set(image_ids), key=self.position.__getitem__)
        I0, A0, K0 = len(self.evaluated), len(pe.areaRng), len(pe.catIds)
        ev.evalImgs = [self.all_images[k * A0 * I0 + a * I0 + self.position[i]] for k in range(K0) for a in range(A0) for i in ids]
        pe.imgIds = ev.params.imgIds = ids
        try:
            _quiet(ev.accumulate)
            _quiet(ev.summarize)
        finally:
            pe.imgIds = ev.params.imgIds = self.evaluated
        stats = [float(v) if v >= 0 else math.nan for v in ev.stats]
        return stats[0], stats[1], stats


def _detections(gt_data: dict[str, Any], preds: list[dict[str, Any]]) -> COCO:
    return _coco({"images": gt_data["images"], "categories": gt_data["categories"], "annotations": preds})


def _read_suite(path: Path) -> dict[str, Any]:
    """The suite's COCO data, checked as any dataset is where it is read (io/coco): ids, sizes,
    categories, and every annotation's box and mask before pycocotools decodes it."""
    from synthgen.io.coco import (
        ENTRY_FIELDS,
        image_shape,
        image_where,
        read_coco,
        require_annotation,
    )
    from synthgen.io.issues import DatasetError, Issue, raise_first

    coco = read_coco(path)
    raise_first(coco.issues)
    for iid, im in coco.images.items():
        shape = image_shape(im)
        if shape is None:
            raise DatasetError(Issue("format", image_where(coco.name, im), ENTRY_FIELDS))
        for a in coco.annotations.get(iid, ()):
            require_annotation(coco.name, a, shape[2], shape[1])
    return coco.data


@dataclass
class Evaluation:
    """What ``evaluate`` found: the rows, and what the page needs to look at single images."""

    rows: list[Row]
    detected: str  # the predictions' format, as tools/predictions detected it
    dropped: dict[str, int]  # class name -> predictions of classes the suite does not have
    suite: Path
    gt: dict[str, Any]  # the suite's COCO data
    predictions: list[dict[str, Any]]  # as scored: COCO results on the suite's ids
    semantic: Any = None  # tools/evaluate_semantic.SemanticScores, when class maps were scored


NO_DROP = ("clean", "size", "class", "all", *BUCKETED)  # rows with no "vs clean"


def check_out(out: Path, **inputs: Path | None) -> None:
    """EvaluationError, before anything is scored, when OUT is one of the prediction folders
    (``inputs``: option name -> path) or inside one: the report's files (ap_vs_severity.png,
    metrics.csv, ...) would be read as predictions by the next evaluate of that folder."""
    target = Path(os.path.realpath(out))
    for option, path in inputs.items():
        if path is None or not Path(path).is_dir():
            continue
        folder = Path(os.path.realpath(path))
        if target == folder or folder in target.parents:
            raise EvaluationError(f"--out {out} is inside the {option.replace('_', '-')} folder {path}: the report's "
                                  "files would mix with the predictions (and be read as predictions next time); "
                                  "write the report beside it, e.g. --out report/")


def evaluate(suite: Path, predictions: Path | None = None, names: Names | None = None,
             progress: Callable[[int, int], None] | None = None, semantic: Path | None = None,
             panoptic: Path | None = None, stem_ids: bool = False) -> Evaluation:
    """Box and mask AP of ``predictions`` (see _evaluate_detections) and / or the IoU of the
    semantic class maps in the folder ``semantic`` (tools/evaluate_semantic) and / or the PQ of
    ``panoptic`` predictions (tools/evaluate_panoptic), as rows of one table. A ``predictions``
    folder of PNGs is taken as semantic maps."""
    from synthgen.tools import evaluate_semantic as sem

    suite = Path(suite)
    if predictions is not None and semantic is None and sem.is_semantic_folder(Path(predictions)):
        predictions, semantic = None, Path(predictions)
    if predictions is None and semantic is None and panoptic is None:
        raise EvaluationError("nothing to score: give --predictions (boxes, masks), --semantic (a folder of class-map PNGs) "
                              "and / or --panoptic (COCO panoptic JSON and PNGs)")
    if not (suite / "annotations.json").is_file() and (suite / "manifest.json").is_file() and (suite / "shards").is_dir():
        raise EvaluationError(f"{suite}: the run is not merged yet: run `synthgen merge {suite}` first (it writes "
                              "annotations.json, semantic_classes.json and panoptic.json)")
    if not (suite / "annotations.json").is_file() and (suite / "config.yaml").is_file() and (suite / "shards").is_dir():
        raise EvaluationError(f"{suite}: the run has not finished (no manifest.json yet; killed part-way?): run the "
                              "same command again (it resumes, and merges it when complete), then evaluate it")
    if predictions is not None:
        ev = _evaluate_detections(suite, Path(predictions), names, progress, stem_ids)
    else:
        gt = {"images": [], "annotations": [], "categories": []}
        if (suite / "annotations.json").is_file():
            from synthgen.io.coco import load_json

            gt = load_json(suite / "annotations.json")
        ev = Evaluation([], "", {}, suite, gt, [])
    if semantic is not None:
        try:
            ev.semantic = sem.score(suite, Path(semantic), progress)
        except sem.SemanticError as exc:
            raise EvaluationError(str(exc)) from None
        slice_of = {im["id"]: (im.get("condition", "clean"), int(im.get("severity", 0) or 0)) for im in ev.gt.get("images", [])}
        names_of = {c["id"]: c["name"] for c in ev.gt.get("categories", [])}
        objects: dict = defaultdict(int)
        per_class: dict = defaultdict(int)
        for a in ev.gt.get("annotations", []):
            objects[slice_of.get(a["image_id"], ("clean", 0))] += 1
            per_class[names_of.get(a["category_id"])] += 1
        ev.rows += [Row(**r) for r in sem.rows(ev.semantic, objects, per_class)]
    if panoptic is not None:
        from synthgen.tools import evaluate_panoptic

        try:
            ev.rows += [Row(**r) for r in evaluate_panoptic.score(suite, Path(panoptic))]
        except evaluate_panoptic.PanopticError as exc:
            raise EvaluationError(str(exc)) from None
    return ev


def _evaluate_detections(suite: Path, predictions: Path, names: Names | None = None,
                         progress: Callable[[int, int], None] | None = None, stem_ids: bool = False) -> Evaluation:
    """COCO AP per condition x severity, size, visibility and contrast bucket; ``progress(done,
    total)`` is called after each scoring step. ``predictions``: a file or folder in any format
    tools/predictions reads; ``names``: the model's class names, to match classes by name."""
    from synthgen.io.issues import DatasetError

    suite = Path(suite)
    if not (suite / "annotations.json").is_file():
        if any(suite.glob("*/mot")) or any(suite.glob("*/*/mot")):
            raise EvaluationError(f"{suite} holds clips: score a tracker on them with --tracks PRED_DIR (MOT files)")
        raise EvaluationError(f"{suite}: no annotations.json; make the suite with `synthgen stress` first")
    try:
        gt_data = _read_suite(suite / "annotations.json")
    except DatasetError as exc:
        raise EvaluationError(f"{exc}; `synthgen validate {suite}` lists every problem") from None
    found = load_predictions(predictions, gt_data, names, stem_ids)
    preds = found.results
    gt = _coco(gt_data)
    dt = _detections(gt_data, preds)
    ious = ["bbox"] + (["segm"] if preds and all("segmentation" in p for p in preds) else [])

    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for im in gt_data["images"]:
        groups[(im.get("condition", "clean"), int(im.get("severity", 0)))].append(im["id"])
    n_inst = defaultdict(int)
    for a in gt_data["annotations"]:
        n_inst[a["image_id"]] += 1
    all_ids = [im["id"] for im in gt_data["images"]]
    crowd = {id(a): a.get("iscrowd") for a in gt_data["annotations"]}

    total = len(ious) * (len(groups) + 2 + sum(len(b) for _, _, b in BUCKETED.values()))
    steps = iter(range(1, total + 1))

    def step() -> None:
        if progress is not None:
            progress(next(steps), total)

    rows: list[Row] = []
    for iou in ious:
        scorer = _Scorer(gt, dt, iou)
        clean_ap = scorer.stats(groups.get(("clean", 0), []))[0]
        step()

        def row(name, cond, sev, ids, ap, ap50, objects=None):
            drop = (clean_ap - ap) / clean_ap if clean_ap and not math.isnan(clean_ap) and not math.isnan(ap) else math.nan
            objects = sum(n_inst[i] for i in ids) if objects is None else objects
            rows.append(Row(name, cond, sev, len(ids), objects, ap, ap50, drop, iou))

        for (cond, sev), ids in sorted(groups.items(), key=lambda kv: (kv[0][0] != "clean", kv[0])):
            ap, ap50, _ = scorer.stats(ids)
            step()
            row("clean" if cond == "clean" else f"{cond} {sev}", cond, sev if cond != "clean" else None, ids, ap, ap50)
        _, _, stats = scorer.stats(all_ids)
        step()
        areas = [a["area"] for a in gt_data["annotations"] if not a.get("iscrowd")]
        for (name, k), (lo, hi) in zip(
            (("size small", 3), ("size medium", 4), ("size large", 5)), ((0, 32**2), (32**2, 96**2), (96**2, math.inf))
        ):
            row(name, "size", None, all_ids, stats[k], math.nan, sum(lo <= a < hi for a in areas))
        for condition, (key, name, buckets) in BUCKETED.items():
            if condition == "contrast" and not any("contrast" in a for a in gt_data["annotations"]):
                continue  # a suite written before synthgen measured contrast
            for lo, hi in buckets:
                # objects outside the bucket are marked crowd: detections on them are ignored, not
                # false. Marked on the ground truth in place (and put back), not on a copy of it.
                inside = 0
                for a in gt_data["annotations"]:
                    v = a.get(key, 1.0)
                    a["iscrowd"] = int(bool(crowd[id(a)]) or v is None or not lo <= v < hi)  # null: in no bucket
                    inside += not a["iscrowd"]
                try:
                    ap, ap50, _ = _Scorer(gt, dt, iou, areas=False).stats(all_ids) if inside else (math.nan, math.nan, None)
                finally:
                    for a in gt_data["annotations"]:
                        if crowd[id(a)] is None:
                            a.pop("iscrowd", None)
                        else:
                            a["iscrowd"] = crowd[id(a)]
                step()
                row(f"{name} {lo:.2f}-{min(hi, 1.0):.2f}", condition, None, all_ids, ap, ap50, inside)
    rows += keypoint_rows(suite, gt_data, preds, groups, n_inst, Row)  # OKS AP, when predictions have keypoints
    return Evaluation(rows, found.detected, found.dropped, suite, gt_data, preds)


def _fmt(v: float, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v + 0.0:+.1%}" if pct else f"{v:.3f}"  # + 0.0: no "-0.0%"


def table(rows: list[Row]) -> str:
    lines = [f"{'slice':<22}{'iou':<6}{'images':>7}{'objects':>9}{'AP':>8}{'AP50':>8}{'vs clean':>10}"]
    for r in rows:
        drop = "" if r.condition in NO_DROP else _fmt(-r.drop, pct=True)
        lines.append(f"{r.slice:<22}{r.iou:<6}{r.images:>7}{r.instances:>9}{_fmt(r.ap):>8}{_fmt(r.ap50):>8}{drop:>10}")
    return "\n".join(lines)


def write_report(ev: Evaluation, out: Path) -> list[Path]:
    """OUT/metrics.csv, metrics.md, ap_vs_severity.png and report.html (tools/stress_report; with
    box predictions); semantic_iou.csv (every slice's IoU per class) when class maps were scored."""
    from synthgen.tools.stress_report import write_page

    rows = ev.rows
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path, png_path = out / "metrics.csv", out / "metrics.md", out / "ap_vs_severity.png"
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["slice", "condition", "severity", "iou", "images", "objects", "ap", "ap50", "relative_drop"])
        for r in rows:
            w.writerow([r.slice, r.condition, r.severity if r.severity is not None else "", r.iou, r.images, r.instances,
                        "" if math.isnan(r.ap) else f"{r.ap:.4f}", "" if math.isnan(r.ap50) else f"{r.ap50:.4f}",
                        "" if math.isnan(r.drop) else f"{r.drop:.4f}"])
    md = ["| slice | iou | images | objects | AP | AP50 | vs clean |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        drop = "" if r.condition in NO_DROP else _fmt(-r.drop, pct=True)
        md.append(f"| {r.slice} | {r.iou} | {r.images} | {r.instances} | {_fmt(r.ap)} | {_fmt(r.ap50)} | {drop} |")
    md_path.write_text("# Stress-test results\n\n" + "\n".join(md) + "\n")
    _plot(rows, png_path)
    written = [csv_path, md_path, png_path]
    if ev.semantic is not None:
        from synthgen.tools.evaluate_semantic import write_csv

        written.append(write_csv(ev.semantic, out / "semantic_iou.csv"))
    if ev.detected or not any(r.iou in ("sem", "pq") for r in rows):  # the page is about detections
        written.append(write_page(ev, out / "report.html"))
    return written


def _plot(rows: list[Row], path: Path) -> None:
    """AP against severity (solid), and mean IoU of class maps (dashed) when scored: an explicit
    Agg figure, no pyplot and no global backend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    kinds = [(k, style, what) for k, style, what in (("bbox", "-", "box AP"), ("sem", "--", "mIoU"), ("pq", ":", "PQ"))
             if any(r.iou == k for r in rows)]
    conds = sorted({r.condition for r in rows if r.severity is not None and r.iou in ("bbox", "sem", "pq")})
    colours = {c: f"C{n % 10}" for n, c in enumerate(conds)}
    top = 0.05
    for kind, style, what in kinds:
        some = [r for r in rows if r.iou == kind]
        clean = next((r.ap for r in some if r.condition == "clean"), math.nan)
        for c in conds:
            pts = sorted((r.severity, r.ap) for r in some if r.condition == c)
            if pts:
                xs, ys = [0] + [p[0] for p in pts], [clean] + [p[1] for p in pts]
                ax.plot(xs, ys, marker="o", linestyle=style, color=colours[c], label=c if kind == kinds[0][0] else None)
        ax.axhline(clean, color="grey", linestyle=style, linewidth=1, label=f"clean {what}")
        top = max([top] + [r.ap for r in some if r.condition != "class" and not math.isnan(r.ap)])
    ax.set_xlabel("severity (0 = clean)")
    labels = {"bbox": ("box AP@[.5:.95] (solid)", "box AP@[.5:.95]"), "sem": ("mean IoU (dashed)", "mean IoU"),
              "pq": ("PQ (dotted)", "panoptic quality (PQ)")}
    ax.set_ylabel(" / ".join(labels[k][0] for k, _, _ in kinds) if len(kinds) > 1
                  else labels[kinds[0][0] if kinds else "bbox"][1])
    ax.set_xticks(range(6))
    ax.set_ylim(0, min(1.02, top * 1.25 + 0.01))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    ax.set_title("AP against severity, per condition" + (" (mIoU dashed)" if len(kinds) > 1 else ""))
    fig.tight_layout()
    fig.savefig(path)
