"""Keypoint AP: COCOeval's ``keypoints`` mode (object keypoint similarity, OKS) per class, with
each class' own sigmas, for ``synthgen evaluate`` when the predictions carry keypoints.

OKS between a predicted and a true object is COCO's: the mean over the true object's labeled
points (v > 0) of ``exp(-d^2 / (2 * area * (2 * sigma)^2))``, d the distance between the two
points, area the true object's (visible) area. A point's sigma says how far off a prediction
may be: it comes from the class' ``keypoints.yaml`` (``sigmas: {name: value}``, as the run's
manifest.json records it), and is ``DEFAULT_SIGMA`` for every point a schema leaves out
(COCO's person sigmas run from 0.025 for the eyes to 0.107 for the hips).

COCOeval holds one sigma list, so each class with keypoints is evaluated alone and the AP is
the mean over classes (and IoU thresholds, recall levels) of the precision, as COCO's AP is
over categories. A prediction is scored on keypoints when it has ``keypoints``: a flat x, y, v
list with one triple per name of its class (COCO results, as Ultralytics' ``save_json`` writes
them for a pose model); a prediction of a class without keypoints is left out.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from synthgen.io.rle import is_number

DEFAULT_SIGMA = 0.05  # per point, in units of sqrt(area); COCOeval reads (2 * sigma)^2


def keypoint_categories(gt: dict[str, Any]) -> dict[Any, list[str]]:
    """category id -> its keypoint names, for the categories that have them."""
    return {c["id"]: list(c["keypoints"]) for c in gt["categories"]
            if isinstance(c.get("keypoints"), list) and c["keypoints"]}


def category_sigmas(gt: dict[str, Any], manifest: dict[str, Any] | None) -> dict[Any, np.ndarray]:
    """Per category with keypoints: its sigmas, from the manifest's schema (``keypoints``:
    class -> {names, sigmas}) or ``DEFAULT_SIGMA``."""
    schemas = (manifest or {}).get("keypoints") if isinstance(manifest, dict) else None
    out = {}
    for c in gt["categories"]:
        names = keypoint_categories(gt).get(c["id"])
        if names is None:
            continue
        given = ((schemas or {}).get(c.get("name")) or {}).get("sigmas") or {}
        out[c["id"]] = np.array([float(given.get(n, DEFAULT_SIGMA)) for n in names])
    return out


def prediction_error(p: dict[str, Any], size: int) -> str | None:
    """What is wrong with one prediction's keypoints (None when they can be scored)."""
    kp = p.get("keypoints")
    if not (isinstance(kp, list) and len(kp) == 3 * size and all(is_number(v) for v in kp)):
        return f"keypoints must be a flat list of x, y, v for each of its class' {size} points ({3 * size} numbers)"
    return None


def read_manifest(suite: Path) -> dict[str, Any] | None:
    import json

    try:
        data = json.loads((Path(suite) / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _quiet(fn):
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return fn()


class KeypointScorer:
    """COCOeval in ``keypoints`` mode, one per class with keypoints and its sigmas, evaluated
    once and read for any subset of images (each image's matching does not depend on the
    others, as tools/evaluate's box scorer uses)."""

    def __init__(self, gt_data: dict[str, Any], predictions: list[dict[str, Any]], sigmas: dict[Any, np.ndarray]) -> None:
        gt = COCO()
        gt.dataset = gt_data
        _quiet(gt.createIndex)
        dt = COCO()
        dt.dataset = {"images": gt_data["images"], "categories": gt_data["categories"],
                      "annotations": [p for p in predictions if "keypoints" in p]}
        _quiet(dt.createIndex)
        self.gt = gt
        self.evals: dict[Any, COCOeval] = {}
        for cid, s in sigmas.items():
            if not gt.getAnnIds(catIds=[cid]):
                continue
            ev = COCOeval(gt, dt, "keypoints")
            ev.params.catIds = [cid]
            ev.params.kpt_oks_sigmas = s
            _quiet(ev.evaluate)
            self.evals[cid] = ev
        self._all = {cid: (list(ev.evalImgs), list(ev._paramsEval.imgIds)) for cid, ev in self.evals.items()}

    def oks(self, image_id: Any, category_id: Any) -> np.ndarray:
        """The OKS matrix (predictions by score x true objects) of one image and class."""
        return np.asarray(self.evals[category_id].ious[(image_id, category_id)])

    def stats(self, image_ids: list) -> tuple[float, float]:
        """(AP@[.5:.95], AP50) over the classes with keypoints, on ``image_ids``."""
        curves = []
        ids_set = set(image_ids)
        for cid, ev in self.evals.items():
            all_imgs, evaluated = self._all[cid]
            position = {i: n for n, i in enumerate(evaluated)}
            ids = sorted(ids_set & set(evaluated), key=position.__getitem__)
            if not ids or not self.gt.getAnnIds(imgIds=ids, catIds=[cid], iscrowd=False):
                continue
            pe = ev._paramsEval
            I0, A0 = len(evaluated), len(pe.areaRng)
            ev.evalImgs = [all_imgs[a * I0 + position[i]] for a in range(A0) for i in ids]
            pe.imgIds = ev.params.imgIds = ids
            try:
                _quiet(ev.accumulate)
            finally:
                pe.imgIds = ev.params.imgIds = evaluated
                ev.evalImgs = all_imgs
            curves.append(ev.eval["precision"][:, :, 0, 0, -1])  # T x R, area all, the one maxDets
        if not curves:
            return math.nan, math.nan
        p = np.stack(curves)  # classes x T x R
        valid = p > -1
        if not valid.any():
            return math.nan, math.nan
        ap = float(p[valid].mean())
        ap50 = float(p[:, 0][valid[:, 0]].mean()) if valid[:, 0].any() else math.nan
        return ap, ap50


def check_prediction(p: dict[str, Any], sizes: dict[Any, int]) -> str | None:
    """A prediction's keypoints, checked against its class' (``sizes``: category id -> points);
    keypoints on a class that has none in the suite are dropped (its boxes are still scored)."""
    if "keypoints" not in p:
        return None
    size = sizes.get(p.get("category_id"))
    if size is None:
        del p["keypoints"]
        return None
    return prediction_error(p, size)


def keypoint_rows(suite: Path, gt_data: dict[str, Any], predictions: list[dict[str, Any]],
                  groups: dict[tuple[str, int], list], n_inst: dict[Any, int], make_row) -> list:
    """Rows (``make_row(slice, condition, severity, images, objects, ap, ap50, drop, "oks")``)
    of keypoint AP per condition x severity; none when no prediction has keypoints."""
    if not any("keypoints" in p for p in predictions):
        return []
    sigmas = category_sigmas(gt_data, read_manifest(suite))
    if not sigmas:
        return []
    scorer = KeypointScorer(gt_data, predictions, sigmas)
    kp_cats = set(sigmas)
    objects: dict[Any, int] = {}
    for a in gt_data["annotations"]:
        if a.get("category_id") in kp_cats and a.get("num_keypoints", 0) > 0 and not a.get("iscrowd"):
            objects[a["image_id"]] = objects.get(a["image_id"], 0) + 1
    clean = scorer.stats(groups.get(("clean", 0), []))[0]
    rows = []
    for (cond, sev), ids in sorted(groups.items(), key=lambda kv: (kv[0][0] != "clean", kv[0])):
        ap, ap50 = scorer.stats(ids)
        drop = (clean - ap) / clean if clean and not math.isnan(clean) and not math.isnan(ap) else math.nan
        rows.append(make_row("clean" if cond == "clean" else f"{cond} {sev}", cond, sev if cond != "clean" else None,
                             len(ids), sum(objects.get(i, 0) for i in ids), ap, ap50, drop, "oks"))
    return rows
