"""Scoring a model on a stress suite, slice by slice, with pycocotools.

Slices: the clean images, every condition x severity, and (over the whole suite) object size,
visibility and contrast buckets (contrast: the share of an object's pixels that stand out from
the background behind it, written by synthgen for pasted objects). Output: a terminal table, metrics.csv, metrics.md and ap_vs_severity.png.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from synthgen.errors import SynthgenError
from synthgen.io.rle import MaskError, to_rle

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


def load_predictions(path: Path, gt: dict[str, Any]) -> list[dict[str, Any]]:
    from synthgen.io.coco import load_json
    from synthgen.io.issues import DatasetError

    try:
        preds = load_json(Path(path))
    except DatasetError as exc:
        raise EvaluationError(str(exc)) from None
    if not isinstance(preds, list):
        raise EvaluationError(f"{path}: expected a COCO results list ([{{image_id, category_id, bbox, score}}, ...])")
    image_ids = {im["id"] for im in gt["images"]}
    cat_ids = {c["id"] for c in gt["categories"]}
    bad_img = sorted({p.get("image_id") for p in preds if p.get("image_id") not in image_ids}, key=str)
    bad_cat = sorted({p.get("category_id") for p in preds if p.get("category_id") not in cat_ids}, key=str)
    if bad_img:
        raise EvaluationError(f"{path}: {len(bad_img)} unknown image ids, e.g. {bad_img[:5]}; the suite's ids are 1..{max(image_ids)}")
    if bad_cat:
        raise EvaluationError(f"{path}: unknown category ids {bad_cat[:5]}; the suite's categories: {sorted(cat_ids)}")
    sizes = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    for i, p in enumerate(preds):
        if not (isinstance(p.get("bbox"), list) and len(p["bbox"]) == 4) or "score" not in p:
            raise EvaluationError(f"{path}: entry {i} needs a 4-number bbox and a score: {str(p)[:120]}")
        if "segmentation" in p:  # checked here: a malformed mask must not reach pycocotools
            try:
                to_rle(p["segmentation"], *sizes[p["image_id"]])
            except MaskError as exc:
                raise EvaluationError(f"{path}: entry {i} (image {p['image_id']}): {exc}") from None
    return preds


def _ap(gt: COCO, dt: COCO, image_ids: list[int], iou: str) -> tuple[float, float, list[float]]:
    if not image_ids or not gt.getAnnIds(imgIds=image_ids, iscrowd=False):
        return math.nan, math.nan, [math.nan] * 12
    ev = COCOeval(gt, dt, iou)
    ev.params.imgIds = image_ids
    _quiet(ev.evaluate)
    _quiet(ev.accumulate)
    _quiet(ev.summarize)
    stats = [float(v) if v >= 0 else math.nan for v in ev.stats]
    return stats[0], stats[1], stats


def evaluate(suite: Path, predictions: Path) -> list[Row]:
    from synthgen.io.coco import read_coco
    from synthgen.io.issues import DatasetError

    suite = Path(suite)
    if not (suite / "annotations.json").is_file():
        raise EvaluationError(f"{suite}: no annotations.json; make the suite with `synthgen stress` first")
    try:
        gt_data = read_coco(suite / "annotations.json").data
    except DatasetError as exc:
        raise EvaluationError(str(exc)) from None
    preds = load_predictions(predictions, gt_data)
    gt = _coco(gt_data)
    dt = _quiet(gt.loadRes, copy.deepcopy(preds)) if preds else _coco({**gt_data, "annotations": []})
    ious = ["bbox"] + (["segm"] if preds and all("segmentation" in p for p in preds) else [])

    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for im in gt_data["images"]:
        groups[(im.get("condition", "clean"), int(im.get("severity", 0)))].append(im["id"])
    n_inst = defaultdict(int)
    for a in gt_data["annotations"]:
        n_inst[a["image_id"]] += 1

    rows: list[Row] = []
    for iou in ious:
        clean_ap = _ap(gt, dt, groups.get(("clean", 0), []), iou)[0]

        def row(name, cond, sev, ids, ap, ap50, objects=None):
            drop = (clean_ap - ap) / clean_ap if clean_ap and not math.isnan(clean_ap) and not math.isnan(ap) else math.nan
            objects = sum(n_inst[i] for i in ids) if objects is None else objects
            rows.append(Row(name, cond, sev, len(ids), objects, ap, ap50, drop, iou))

        for (cond, sev), ids in sorted(groups.items(), key=lambda kv: (kv[0][0] != "clean", kv[0])):
            ap, ap50, _ = _ap(gt, dt, ids, iou)
            row("clean" if cond == "clean" else f"{cond} {sev}", cond, sev if cond != "clean" else None, ids, ap, ap50)
        all_ids = [im["id"] for im in gt_data["images"]]
        _, _, stats = _ap(gt, dt, all_ids, iou)
        areas = [a["area"] for a in gt_data["annotations"] if not a.get("iscrowd")]
        for (name, k), (lo, hi) in zip(
            (("size small", 3), ("size medium", 4), ("size large", 5)), ((0, 32**2), (32**2, 96**2), (96**2, math.inf))
        ):
            row(name, "size", None, all_ids, stats[k], math.nan, sum(lo <= a < hi for a in areas))
        for condition, (key, name, buckets) in BUCKETED.items():
            if condition == "contrast" and not any("contrast" in a for a in gt_data["annotations"]):
                continue  # a suite written before synthgen measured contrast
            for lo, hi in buckets:
                # objects outside the bucket are marked crowd: detections on them are ignored, not false
                data = copy.deepcopy(gt_data)
                for a in data["annotations"]:
                    v = a.get(key, 1.0)
                    a["iscrowd"] = int(bool(a.get("iscrowd")) or not lo <= v < hi)
                bgt = _coco(data)
                bdt = _quiet(bgt.loadRes, copy.deepcopy(preds)) if preds else _coco({**data, "annotations": []})
                ap, ap50, _ = _ap(bgt, bdt, all_ids, iou)
                inside = sum(1 for a in data["annotations"] if not a["iscrowd"])
                row(f"{name} {lo:.2f}-{min(hi, 1.0):.2f}", condition, None, all_ids, ap, ap50, inside)
    return rows


def _fmt(v: float, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v + 0.0:+.1%}" if pct else f"{v:.3f}"  # + 0.0: no "-0.0%"


def table(rows: list[Row]) -> str:
    lines = [f"{'slice':<22}{'iou':<6}{'images':>7}{'objects':>9}{'AP':>8}{'AP50':>8}{'vs clean':>10}"]
    for r in rows:
        drop = "" if r.condition in ("clean", "size", *BUCKETED) else _fmt(-r.drop, pct=True)
        lines.append(f"{r.slice:<22}{r.iou:<6}{r.images:>7}{r.instances:>9}{_fmt(r.ap):>8}{_fmt(r.ap50):>8}{drop:>10}")
    return "\n".join(lines)


def write_report(rows: list[Row], out: Path) -> list[Path]:
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
        drop = "" if r.condition in ("clean", "size", *BUCKETED) else _fmt(-r.drop, pct=True)
        md.append(f"| {r.slice} | {r.iou} | {r.images} | {r.instances} | {_fmt(r.ap)} | {_fmt(r.ap50)} | {drop} |")
    md_path.write_text("# Stress-test results\n\n" + "\n".join(md) + "\n")
    _plot(rows, png_path)
    return [csv_path, md_path, png_path]


def _plot(rows: list[Row], path: Path) -> None:
    """AP against severity: an explicit Agg figure, no pyplot and no global backend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    bbox = [r for r in rows if r.iou == "bbox"]
    clean = next((r.ap for r in bbox if r.condition == "clean"), math.nan)
    fig = Figure(figsize=(7, 4.2), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    conds = sorted({r.condition for r in bbox if r.severity is not None})
    for c in conds:
        pts = sorted((r.severity, r.ap) for r in bbox if r.condition == c)
        xs, ys = [0] + [p[0] for p in pts], [clean] + [p[1] for p in pts]
        ax.plot(xs, ys, marker="o", label=c)
    ax.axhline(clean, color="grey", linestyle="--", linewidth=1, label="clean")
    ax.set_xlabel("severity (0 = clean)")
    ax.set_ylabel("box AP@[.5:.95]")
    ax.set_xticks(range(0, 6))
    top = max([r.ap for r in bbox if not math.isnan(r.ap)] + [0.05])
    ax.set_ylim(0, min(1.02, top * 1.25 + 0.01))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    ax.set_title("AP against severity, per condition")
    fig.tight_layout()
    fig.savefig(path)
