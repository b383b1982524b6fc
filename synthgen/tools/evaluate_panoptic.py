"""Panoptic quality of predictions in COCO panoptic format, for ``synthgen evaluate --panoptic``:
PQ, SQ and RQ per slice (clean, each condition x severity, all images; things and stuff over
all images) against the run's or suite's ``panoptic.json`` and ``panoptic/`` PNGs.

Scored by hotcoco (MIT; ``pip install -e '.[panoptic]'`` in the synthgen folder), which follows panopticapi's
``pq_compute`` (a predicted and a true segment of one category match when their IoU, void
pixels left out, is above 0.5; PQ = sum of matched IoUs / (TP + FP/2 + FN/2) per category,
averaged over the categories present) and gives its numbers. Predictions: a panoptic JSON
whose PNGs are in the folder named like it without ``.json`` (panopticapi's convention) or in
``panoptic/`` beside it; or a folder holding ``panoptic.json`` and ``panoptic/``. Every image of
the suite needs a prediction; one that is missing is named by file.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from synthgen.errors import SynthgenError
from synthgen.io.issues import DatasetError
from synthgen.io.panoptic import decode_segments
from synthgen.io.paths import inside


class PanopticError(SynthgenError):
    """Panoptic predictions or ground truth that cannot be scored; the message names the file."""


def prediction_files(path: Path) -> tuple[Path, Path]:
    """(the predictions' JSON, their PNG folder)."""
    path = Path(path)
    if path.is_dir():
        json_file, folder = path / "panoptic.json", path / "panoptic"
    else:
        json_file = path
        folder = path.with_suffix("") if path.with_suffix("").is_dir() else path.parent / "panoptic"
    if not json_file.is_file():
        raise PanopticError(f"{json_file}: no panoptic predictions JSON there (give the JSON, or a folder holding panoptic.json)")
    if not folder.is_dir():
        raise PanopticError(f"{json_file}: its PNGs are looked for in {path.with_suffix('')}/ or {folder}/, and neither is a folder")
    return json_file, folder


def _load(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PanopticError(f"{path}: cannot be read as JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("annotations"), list):
        raise PanopticError(f"{path}: not COCO panoptic: expected a list 'annotations' (one per image, with segments_info)")
    return doc


def _check_prediction(pred_file: Path, png: Path, im: dict[str, Any], a: dict[str, Any], categories: list) -> None:
    """Refuse a prediction that panopticapi would misread: segments_info a list of {id, category_id}
    with each id once (a repeated id was merged into one segment and scored), every id of the PNG
    in segments_info and every one of segments_info in the PNG, known categories, and the PNG the
    image's size. The message names the predictions file and the image id."""
    where = f"{pred_file}: the prediction of image {im['id']}"
    info = a.get("segments_info")
    if not isinstance(info, list) or not all(isinstance(s, dict) and isinstance(s.get("id"), int)
                                             and not isinstance(s.get("id"), bool) for s in info):
        raise PanopticError(f"{where}: segments_info must be a list of {{id, category_id}} with integer ids")
    known = {c.get("id") for c in categories if isinstance(c, dict)}
    seen: set[int] = set()
    for s in info:
        if s["id"] in seen:
            raise PanopticError(f"{where}: segment id {s['id']} twice in segments_info (each segment needs its own id)")
        seen.add(s["id"])
        if s.get("category_id") not in known:
            raise PanopticError(f"{where}: segment id {s['id']} has category {s.get('category_id')!r}, "
                                f"not a category of the ground truth (ids {sorted(known)})")
    try:
        ids = decode_segments(png)
    except DatasetError as exc:
        raise PanopticError(f"{where}: {exc.issue.where} {exc.issue.message}") from None
    if "width" in im and "height" in im and ids.shape != (im["height"], im["width"]):
        raise PanopticError(f"{where}: its PNG is {ids.shape[1]}x{ids.shape[0]}, the image is {im['width']}x{im['height']}")
    in_png = set(np.unique(ids).tolist()) - {0}
    for sid in sorted(in_png - seen):
        raise PanopticError(f"{where}: segment id {sid} in its PNG {png.name} is not in segments_info")
    for sid in sorted(seen - in_png):
        raise PanopticError(f"{where}: segment id {sid} in segments_info has no pixel, not in its PNG {png.name}")


def _result(r: dict[str, Any], key: str) -> tuple[float, float, float]:
    """(PQ, SQ, RQ) of ``key`` (All, Things, Stuff); NaN when it has no category (hotcoco: -1)."""
    part = r.get(key, {})
    if not part.get("n"):
        return math.nan, math.nan, math.nan
    return float(part["pq"]), float(part["sq"]), float(part["rq"])


def score(suite: Path, predictions: Path) -> list[dict[str, Any]]:
    """The evaluate table's rows (fields of tools/evaluate.Row; ``ap`` = PQ, ``ap50`` = SQ,
    ``iou`` = "pq"): per slice, then all images, then things and stuff over all images."""
    try:
        from hotcoco.panoptic import PanopticEval
    except ImportError:
        raise PanopticError("scoring panoptic predictions needs hotcoco: pip install -e '.[panoptic]' in the synthgen folder") from None
    suite = Path(suite)
    gt_file, gt_dir = suite / "panoptic.json", suite / "panoptic"
    if not gt_file.is_file():
        raise PanopticError(f"{suite}: no panoptic.json (a run or suite made with --format ...,panoptic)")
    gt = _load(gt_file)
    pred_file, pred_dir = prediction_files(predictions)
    pred = _load(pred_file)
    by_image: dict[Any, dict[str, Any]] = {}
    for a in pred["annotations"]:
        if isinstance(a, dict):
            if a.get("image_id") in by_image:  # else the last was scored, the first dropped unsaid
                raise PanopticError(f"{pred_file}: image {a.get('image_id')} has two predictions; give one annotation an image")
            by_image[a.get("image_id")] = a
    known = {im["id"] for im in gt.get("images", [])}
    unknown = [i for i in by_image if i not in known]
    if unknown:  # else scored on the ids both share, the rest dropped unsaid (another suite's file)
        raise PanopticError(f"{pred_file}: image {unknown[0]!r} is not an image of the suite {suite} "
                            f"({len(unknown)} such); a prediction's image_id is the suite's image id")
    for im in gt.get("images", []):
        a = by_image.get(im["id"])
        if a is None:
            raise PanopticError(f"{pred_file}: no prediction for image {im['id']} ({im.get('file_name')})")
        if isinstance(a.get("file_name"), str):  # hotcoco reads pred_dir / file_name: keep it inside
            try:
                inside(pred_dir, a["file_name"], f"{pred_file}: the prediction of image {im['id']}")
            except DatasetError as exc:
                raise PanopticError(f"{exc.issue.where}: {exc.issue.message}") from None
        if not isinstance(a.get("file_name"), str) or not (pred_dir / a["file_name"]).is_file():
            raise PanopticError(f"{pred_file}: the prediction of image {im['id']} names {a.get('file_name')!r}, "
                                f"which is not a file in {pred_dir}")
        _check_prediction(pred_file, pred_dir / a["file_name"], im, a, gt.get("categories", []))
    groups: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for im in gt.get("images", []):
        groups[(im.get("condition", "clean"), int(im.get("severity", 0) or 0))].append(im["id"])
    isthing = {c["id"]: c.get("isthing", 1) for c in gt.get("categories", [])}
    things, stuff = defaultdict(int), 0  # thing segments per image, stuff segments
    for a in gt["annotations"]:
        for s in a.get("segments_info", []):
            if isthing.get(s.get("category_id")):
                things[a["image_id"]] += 1
            else:
                stuff += 1

    def run(ids: list[Any]) -> dict[str, Any]:
        keep = set(ids)
        sub = {**gt, "images": [im for im in gt["images"] if im["id"] in keep],
               "annotations": [a for a in gt["annotations"] if a["image_id"] in keep]}
        psub = {**pred, "images": sub["images"], "annotations": [by_image[i] for i in ids]}
        try:
            ev = PanopticEval(sub, psub, gt_folder=str(gt_dir), pred_folder=str(pred_dir))
            ev.evaluate()
            return ev.results()
        except (ValueError, KeyError, OSError) as exc:
            raise PanopticError(f"{pred_file}: cannot be scored against {gt_file} ({exc})") from None

    def row(name: str, cond: str, sev: int | None, images: int, objects: int, result: dict, key: str = "All",
            drop: float = math.nan) -> dict[str, Any]:
        pq, sq, _ = _result(result, key)
        return {"slice": name, "condition": cond, "severity": sev, "images": images, "instances": objects,
                "ap": pq, "ap50": sq, "drop": drop, "iou": "pq"}

    rows = []
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][0] != "clean", kv[0]))
    clean = math.nan
    for (cond, sev), ids in ordered:
        r = row("clean" if cond == "clean" else f"{cond} {sev}", cond, None if cond == "clean" else sev, len(ids),
                sum(things[i] for i in ids), run(ids))
        if cond == "clean":
            clean = r["ap"]
        elif clean and not math.isnan(clean) and not math.isnan(r["ap"]):
            r["drop"] = (clean - r["ap"]) / clean
        rows.append(r)
    all_ids = [i for _, ids in ordered for i in ids]
    every = run(all_ids) if len(ordered) > 1 else None
    if every is not None:
        rows.append(row("all images", "all", None, len(all_ids), sum(things.values()), every))
    every = every or run(all_ids)
    for key, name, objects in (("Things", "things", sum(things.values())), ("Stuff", "stuff", stuff)):
        r = row(f"{name} (all images)", "class", None, len(all_ids), objects, every, key)
        if not math.isnan(r["ap"]):
            rows.append(r)
    return rows
