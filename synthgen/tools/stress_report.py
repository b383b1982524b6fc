"""The stress-test page: one self-contained HTML file written by ``synthgen evaluate``.

AP against severity per condition and the relative drop; a robustness summary per condition
(the first severity at which box AP falls more than 10% and 50% below clean, and a corruption
error in the spirit of ImageNet-C's CE, against the model's own clean error); every slice's
numbers; and for each condition x severity the images where the model lost most against the
clean version of the same scene, drawn beside it with hits, misses and false alarms.

Hits and errors of single images are counted at one score threshold: the one that maximises
F1 on the clean images (a detection is a hit when it overlaps an unmatched object of its class
by IoU >= 0.5, greedily in descending score). Style and helpers come from tools/report.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from synthgen.errors import SynthgenError
from synthgen.io.files import atomic_write
from synthgen.tools.report import (
    ACCENT,
    CSS,
    _card,
    _e,
    _figure,
    _jpeg_uri,
    _panel,
    _plot,
    _png_uri,
)

TILE = 320
IOU = 0.5
PER_CELL = 3  # images shown per condition x severity
HIT, MISS, FALSE = (40, 200, 90), (230, 40, 40), (255, 200, 0)


# --------------------------------------------------------------------------------------------
# robustness numbers


def _nan(v: float) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def robustness(rows: list) -> tuple[float, list[dict[str, Any]]]:
    """(clean box AP, one summary per condition): AP per severity, relative drops, the first
    severity more than 10% / 50% below clean, CE = mean over severities of (1 - AP) / (1 - clean
    AP) (1.0: no worse than clean; n/a when clean AP is 1) and the mean relative drop."""
    bbox = [r for r in rows if r.iou == "bbox"]
    clean = next((r.ap for r in bbox if r.condition == "clean"), math.nan)
    out = []
    for cond in sorted({r.condition for r in bbox if r.severity is not None}):
        pts = sorted((r.severity, r.ap, r.drop) for r in bbox if r.condition == cond and r.severity is not None)
        first = {t: next((s for s, _, d in pts if not _nan(d) and d > t), None) for t in (0.1, 0.5)}
        errs = [1 - ap for _, ap, _ in pts if not _nan(ap)]
        ce = float(np.mean(errs)) / (1 - clean) if errs and not _nan(clean) and clean < 1 else math.nan
        drops = [d for _, _, d in pts if not _nan(d)]
        out.append({"condition": cond, "points": pts, "first10": first[0.1], "first50": first[0.5], "ce": ce,
                    "mean_drop": float(np.mean(drops)) if drops else math.nan, "max_severity": max(s for s, _, _ in pts)})
    return clean, out


def semantic_vs_clean(scores) -> dict[tuple[str, str], float]:
    """Relative drops against clean of the semantic rows that have none of their own (keyed by
    the row's condition and slice, as tools/evaluate_semantic.rows names them): "all images" =
    mean IoU over every image against mean IoU on the clean ones; "class X" = the class' IoU over
    every image against its IoU on the clean ones. NaN where the clean value is 0 or missing."""
    if scores is None:
        return {}
    clean = next((s for s in scores.slices if s.condition == "clean"), None)
    if clean is None:
        return {}
    every, idx = scores.overall, scores.indices

    def drop(base: float, value: float) -> float:
        return (base - value) / base if base and not _nan(base) and not _nan(value) else math.nan

    out = {("all", "all images"): drop(clean.mean_iou(idx), every.mean_iou(idx))}
    for i in idx:
        out[("class", f"class {scores.classes.names[i]}"[:21])] = drop(clean.iou(i), every.iou(i))
    return out


# --------------------------------------------------------------------------------------------
# single images: hits, misses, false alarms


def _iou(a: list[float], b: np.ndarray) -> np.ndarray:
    x0 = np.maximum(a[0], b[:, 0])
    y0 = np.maximum(a[1], b[:, 1])
    x1 = np.minimum(a[0] + a[2], b[:, 0] + b[:, 2])
    y1 = np.minimum(a[1] + a[3], b[:, 1] + b[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    union = a[2] * a[3] + b[:, 2] * b[:, 3] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def match(gts: list[dict], preds: list[dict]) -> tuple[list[bool], list[bool]]:
    """(per object: found, per prediction in descending score: a hit), greedy at IoU >= 0.5 by class.
    Greedy in score order, so the hits above any threshold are the same as matching only those."""
    found = [False] * len(gts)
    hits = []
    boxes = np.array([g["bbox"] for g in gts], np.float64).reshape(-1, 4)
    for p in preds:
        best, k = IOU, -1
        if len(gts):
            ious = _iou(p["bbox"], boxes)
            for j in np.argsort(-ious):
                if ious[j] < best:
                    break
                if not found[j] and gts[j]["category_id"] == p["category_id"]:
                    k = int(j)
                    break
        if k >= 0:
            found[k] = True
        hits.append(k >= 0)
    return found, hits


def _per_image(gt: dict[str, Any], preds: list[dict[str, Any]]) -> dict[Any, tuple[list, list]]:
    anns: dict[Any, list] = defaultdict(list)
    for a in gt["annotations"]:
        if not a.get("iscrowd"):
            anns[a["image_id"]].append(a)
    dets: dict[Any, list] = defaultdict(list)
    for p in preds:
        dets[p["image_id"]].append(p)
    return {im["id"]: (anns[im["id"]], sorted(dets[im["id"]], key=lambda p: -p["score"])) for im in gt["images"]}


def best_threshold(per_image: dict, clean_ids: list) -> float:
    """The score threshold that maximises F1 on the clean images (0.5 when they have no objects)."""
    scored, n_gt = [], 0
    for i in clean_ids:
        gts, preds = per_image[i]
        n_gt += len(gts)
        _, hits = match(gts, preds)
        scored += [(p["score"], h) for p, h in zip(preds, hits)]
    if not n_gt or not scored:
        return 0.5
    scored.sort(key=lambda t: -t[0])
    tp = np.cumsum([h for _, h in scored])
    fp = np.cumsum([not h for _, h in scored])
    f1 = 2 * tp / (2 * tp + fp + (n_gt - tp))
    scores = np.array([s for s, _ in scored])
    last = np.r_[scores[1:] != scores[:-1], True]  # a threshold takes every prediction of its score
    k = int(np.argmax(np.where(last, f1, -1)))
    return float(scores[k])


def errors(per_image: dict, image_id: Any, thr: float) -> tuple[list, list, list]:
    """(hits, misses, false alarms) of one image at score >= thr: hits and false alarms are
    predictions, misses objects."""
    gts, preds = per_image[image_id]
    kept = [p for p in preds if p["score"] >= thr]
    found, hits = match(gts, kept)
    return ([p for p, h in zip(kept, hits) if h], [g for g, f in zip(gts, found) if not f],
            [p for p, h in zip(kept, hits) if not h])


# --------------------------------------------------------------------------------------------
# drawing


def _tile(suite: Path, im: dict, hits: list, misses: list, false: list, caption: str) -> np.ndarray:
    import cv2

    from synthgen.io.images import read_rgb

    try:
        rgb = read_rgb(suite / "images" / im["file_name"])
    except (OSError, SynthgenError):  # a missing or broken image is drawn grey, not fatal to the page
        rgb = np.full((im["height"], im["width"], 3), 60, np.uint8)
    s = TILE / rgb.shape[1]
    out = cv2.resize(rgb, (TILE, max(1, round(rgb.shape[0] * s))), interpolation=cv2.INTER_AREA)
    for items, colour, thick in ((hits, HIT, 1), (misses, MISS, 2), (false, FALSE, 2)):
        for a in items:
            x, y, w, h = a["bbox"]
            cv2.rectangle(out, (round(x * s), round(y * s)), (round((x + w) * s), round((y + h) * s)), colour, thick)
    bar = np.full((18, TILE, 3), 255, np.uint8)
    cv2.putText(bar, caption, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (36, 41, 47), 1, cv2.LINE_AA)
    return np.vstack([bar, out])


def gallery(ev, thr: float, per_cell: int = PER_CELL) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(condition x severity, [(image uri, caption), ...])]: per cell, the images whose errors
    grew most against the clean version of their scene, each drawn beside it."""
    per_image = _per_image(ev.gt, ev.predictions)
    images = {im["id"]: im for im in ev.gt["images"]}
    clean_of = {im.get("scene_id"): im["id"] for im in ev.gt["images"] if im.get("condition", "clean") == "clean"}
    cells: dict[tuple[str, int], list] = defaultdict(list)
    counts = {}
    for im in ev.gt["images"]:
        cond = im.get("condition", "clean")
        if cond == "clean" or im.get("scene_id") not in clean_of:
            continue
        c_id = clean_of[im["scene_id"]]
        if c_id not in counts:
            counts[c_id] = errors(per_image, c_id, thr)
        e = errors(per_image, im["id"], thr)
        c = counts[c_id]
        loss = (len(e[1]) + len(e[2])) - (len(c[1]) + len(c[2]))
        cells[(cond, int(im.get("severity", 0)))].append((loss, im["id"], e, c_id, c))
    out = []
    for key in sorted(cells):
        worst = sorted(cells[key], key=lambda t: (-t[0], str(t[1])))[:per_cell]
        figs = []
        for loss, iid, e, c_id, c in worst:
            if loss <= 0:
                continue
            a = _tile(ev.suite, images[c_id], *c, f"clean: {len(c[1])} missed, {len(c[2])} false")
            b = _tile(ev.suite, images[iid], *e, f"{key[0]} {key[1]}: {len(e[1])} missed, {len(e[2])} false")
            h = max(a.shape[0], b.shape[0])
            a, b = (np.vstack([t, np.full((h - t.shape[0], TILE, 3), 255, np.uint8)]) for t in (a, b))
            pair = np.hstack([a, np.full((h, 6, 3), 255, np.uint8), b])
            figs.append((_jpeg_uri(pair), f"{images[iid]['file_name']}: {loss:+d} errors against clean"))
        out.append((f"{key[0]} {key[1]}", figs))
    return out


# --------------------------------------------------------------------------------------------
# plots and page


def plot_ap(clean: float, summary: list[dict], drop: bool = False) -> str:
    fig, ax = _figure(6.4, 3.6)
    for c in summary:
        xs = [0] + [s for s, _, _ in c["points"]]
        ys = [0.0 if drop else clean] + [(-d * 100 if drop else ap) for _, ap, d in c["points"]]
        ax.plot(xs, ys, marker="o", label=c["condition"])
    if drop:
        for t in (-10, -50):
            ax.axhline(t, color="#8c959f", linestyle=":", linewidth=1)
        ax.set_ylabel("box AP against clean (%)")
    else:
        ax.axhline(clean, color=ACCENT, linestyle="--", linewidth=1, label="clean")
        ax.set_ylabel("box AP@[.5:.95]")
        top = max([ap for c in summary for _, ap, _ in c["points"] if not _nan(ap)] + [0 if _nan(clean) else clean, 0.05])
        ax.set_ylim(0, min(1.02, top * 1.2 + 0.01))
    ax.set_xlabel("severity (0 = clean)")
    ax.set_xticks(range(6))
    ax.legend(fontsize=8, ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)  # above: no line hidden
    return _png_uri(fig)


def _f(v: float, pct: bool = False) -> str:
    if _nan(v):
        return "n/a"
    return f"{v + 0.0:+.1%}" if pct else f"{v:.3f}"


def render(ev, title: str, per_cell: int = PER_CELL) -> str:
    clean, summary = robustness(ev.rows)
    per_image = _per_image(ev.gt, ev.predictions)
    clean_ids = [im["id"] for im in ev.gt["images"] if im.get("condition", "clean") == "clean"]
    thr = best_threshold(per_image, clean_ids)
    ces = [c["ce"] for c in summary if not _nan(c["ce"])]
    drops = [c["mean_drop"] for c in summary if not _nan(c["mean_drop"])]
    n_pred = len(ev.predictions)
    cards = [
        _card(f"{len(ev.gt['images']):,}", "images"),
        _card(f"{n_pred:,}", "predictions scored"),
        _card(_f(clean), "clean box AP@[.5:.95]"),
        _card(f"{float(np.mean(ces)):.2f}" if ces else "n/a", "mCE (1.0 = as on clean)"),
        _card(_f(-float(np.mean(drops)), pct=True) if drops else "n/a", "mean AP against clean"),
        _card(f"{thr:.3f}", "score threshold for single images (best F1 on clean)"),
    ]
    dropped = sum(ev.dropped.values())
    sub = ev.detected + (f"; {dropped:,} predictions of classes the suite does not have left out "
                         f"({', '.join(sorted(ev.dropped)[:8])}{' ...' if len(ev.dropped) > 8 else ''})" if dropped else "")
    parts = [f'<header><h1>{_e(title)}</h1><p class="sub">{_e(sub)}</p></header>', '<div class="cards">' + "".join(cards) + "</div>"]
    if summary:
        plots = (f'<div>{_plot(plot_ap(clean, summary), "box AP against severity")}</div>'
                 f'<div>{_plot(plot_ap(clean, summary, drop=True), "box AP against clean")}</div>')
        parts.append(_panel("AP against severity", f'<div class="conds">{plots}</div>',
                            "left: box AP@[.5:.95] per condition (severity 0 = clean); right: the same against clean, "
                            "with the 10% and 50% lines"))
        head = "<tr><th>condition</th>" + "".join(f"<th>sev. {s}</th>" for s in sorted({s for c in summary for s, _, _ in c["points"]})) \
            + "<th>&gt;10% below clean from</th><th>&gt;50% below clean from</th><th>CE</th><th>mean vs clean</th></tr>"
        sevs = sorted({s for c in summary for s, _, _ in c["points"]})
        body = []
        for c in summary:
            at = {s: (ap, d) for s, ap, d in c["points"]}
            cells = "".join(f"<td>{_f(at[s][0])} ({_f(-at[s][1], pct=True)})</td>" if s in at else "<td></td>" for s in sevs)
            ce = "n/a" if _nan(c["ce"]) else f"{c['ce']:.2f}"
            first = [f"severity {c[k]}" if c[k] is not None else f"not up to {c['max_severity']}" for k in ("first10", "first50")]
            body.append(f"<tr><td>{_e(c['condition'])}</td>{cells}<td>{first[0]}</td><td>{first[1]}</td>"
                        f"<td>{ce}</td><td>{_f(-c['mean_drop'], pct=True)}</td></tr>")
        note = ("box AP (and against clean) per severity. CE: the mean over severities of the error 1 - AP, divided by the "
                "clean error 1 - AP (ImageNet-C's corruption error, with the model's own clean error as the baseline; "
                "1.0 = no worse than clean, n/a when clean AP is 1); mCE on top: the mean over conditions.")
        parts.append(_panel("Robustness per condition", "<table>" + head + "".join(body) + "</table>", _e(note)))
    sem_drops = semantic_vs_clean(ev.semantic)

    def vs_clean(r) -> str:
        if r.condition in ("clean", "size", "visibility", "contrast"):
            return ""
        return _f(-sem_drops.get((r.condition, r.slice), r.drop) if r.iou == "sem" else -r.drop, pct=True)

    rows = "".join(
        f"<tr><td>{_e(r.slice)}</td><td>{r.iou}</td><td>{r.images:,}</td><td>{r.instances:,}</td><td>{_f(r.ap)}</td>"
        f"<td>{'' if r.iou == 'sem' else _f(r.ap50)}</td><td>{vs_clean(r)}</td></tr>"
        for r in ev.rows)
    parts.append(_panel("Every slice", "<table><tr><th>slice</th><th>iou</th><th>images</th><th>objects</th><th>AP</th>"
                        f"<th>AP50</th><th>vs clean</th></tr>{rows}</table>",
                        "size: COCO's small / medium / large by area, over the whole suite; visible and contrast buckets: "
                        "objects outside the bucket count as crowd (hits on them are neither rewarded nor punished); "
                        "sem: mean IoU of class maps (all images, and each class over all images) against the same on "
                        "the clean images"))
    cells = gallery(ev, thr, per_cell)
    if cells:
        blocks = []
        for name, figs in cells:
            inner = "".join(f'<figure><img alt="{_e(cap)}" src="{uri}"><figcaption>{_e(cap)}</figcaption></figure>' for uri, cap in figs)
            blocks.append(f"<h3>{_e(name)}</h3>" + (f'<div class="gallery pairs">{inner}</div>' if figs
                                                    else '<div class="missing">no image lost anything against clean</div>'))
        legend = (f"clean scene (left) and the same scene under the condition (right), at score >= {thr:.3f}: "
                  "green = hit, red = missed object, yellow = false alarm")
        parts.append(_panel("Where the model lost most", "".join(blocks), _e(legend)))
    parts.append("<footer>synthgen evaluate &middot; everything in this file is inline; it needs no network</footer>")
    css = CSS + ".gallery.pairs{grid-template-columns:repeat(auto-fill,minmax(560px,1fr))}h3{font-size:14px;margin:14px 0 6px}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{css}</style></head>\n<body><main>\n" + "\n".join(parts) + "\n</main></body></html>\n"
    )


def write_page(ev, path: Path, title: str | None = None) -> Path:
    path = Path(path)
    atomic_write(path, render(ev, title or f"Stress test: {Path(ev.suite).name}").encode())
    return path
