"""Turning a real labeled dataset into synthgen cutouts: one folder per class, with provenance.

Instance masks (COCO polygons or RLE, YOLO segmentation polygons) become RGBA cutouts; box-only
annotations can be cut out with OpenCV's GrabCut seeded by the box. Crowd annotations, tiny
objects, objects cut by the image border and heavily occluded ones are skipped and counted.
Beside every cutout, ``<name>.json`` records its source (the resolved dataset root, the image's
path inside it and its sha256: see synthgen.provenance), annotation id and quality.

Keypoints (a COCO ``person_keypoints``-style dataset: categories with ``keypoints`` and
``skeleton``, annotations with ``keypoints``): each cutout gets ``<name>.keypoints.json``, its
visible points (v 2) in the cutout's own pixel coordinates (the annotation's minus the cutout's
top-left corner), and its class folder the schema
``keypoints.yaml`` (the category's names and skeleton; ``flip`` pairs every ``left``-name with its
``right``-name; points named as COCO's person keypoints get COCO's OKS ``sigmas``), so synthgen
pastes them with their keypoints (synthgen/keypoints.py). Points with v 0 (not labeled) and v 1
(labeled, hidden) are left out (the latter counted in the report): a sidecar holds positions only
and a pasted point's v comes from the id map, so a point hidden behind the object's own body
(on its mask) would be pasted as v 2, visible, which it is not; left out, it is v 0 when pasted.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from synthgen.errors import AssetError, OutputError
from synthgen.io.files import atomic_write
from synthgen.io.real import KeypointCategory, RealDataset, RealImage, RealInstance
from synthgen.keypoints import SCHEMA_FILE, sidecar_path
from synthgen.provenance import image_source


@dataclass(frozen=True)
class ExtractOptions:
    min_area: int = 400  # pixels
    keep_truncated: bool = False  # objects touching the image border
    max_occluded: float = 0.25  # share of the object's outline that touches other objects
    boxes_only: bool = False  # GrabCut every annotation from its box, masks or not
    min_quality: float = 0.3


@dataclass
class ExtractReport:
    kept: Counter = field(default_factory=Counter)  # per class
    skipped: Counter = field(default_factory=Counter)  # per reason
    grabcut_tried: int = 0
    grabcut_kept: int = 0

    def lines(self) -> list[str]:
        out = [f"kept {sum(self.kept.values())} cutouts: " + ", ".join(f"{k} {v}" for k, v in sorted(self.kept.items()))]
        if self.skipped:
            out.append("skipped: " + ", ".join(f"{v} {k}" for k, v in sorted(self.skipped.items())))
        if self.grabcut_tried:
            out.append(f"GrabCut from boxes: kept {self.grabcut_kept} of {self.grabcut_tried} (the rest failed quality checks)")
        return out


def _folder(name: str) -> str:
    """A file or folder name made of a class name or id: word characters, dots and dashes,
    never ``..`` or hidden (a category named ``../..`` stays inside --out)."""
    return re.sub(r"[^\w.-]+", "_", name).strip("_").lstrip(".") or "class"


def quality(image: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Holes, fringe and size of a cutout, and a score in [0, 1] (higher is better).

    fringe: share of the mask's inner edge whose colour is nearer the outside than the inside,
    a sign of background pixels included at the border; holes: enclosed empty area / filled area.
    """
    m = np.ascontiguousarray(mask, dtype=np.uint8)
    area = int(m.sum())
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(m)
    cv2.drawContours(filled, contours, -1, 1, -1)
    holes = float((filled.sum() - area) / max(filled.sum(), 1))
    k = np.ones((3, 3), np.uint8)
    inner = m.astype(bool) & ~cv2.erode(m, k).astype(bool)
    core = cv2.erode(m, k, iterations=3).astype(bool)
    outside = cv2.dilate(m, k, iterations=3).astype(bool) & ~m.astype(bool)
    fringe = 0.0
    if inner.any() and core.any() and outside.any():
        img = image.astype(np.float32)
        mi, mo = img[core].mean(0), img[outside].mean(0)
        edge = img[inner]
        fringe = float((np.linalg.norm(edge - mo, axis=1) < np.linalg.norm(edge - mi, axis=1)).mean())
    size = min(1.0, np.sqrt(area) / 32.0)  # below ~32x32 px a cutout is too small to reuse well
    score = (1.0 - holes) * (1.0 - 0.5 * fringe) * size
    return {"score": round(score, 4), "holes": round(holes, 4), "fringe": round(fringe, 4), "area": area}


def grabcut(image: np.ndarray, bbox: tuple[float, float, float, float], iterations: int = 4) -> np.ndarray | None:
    """A mask cut out of ``bbox`` by GrabCut, or None when it does not look like one object."""
    H, W = image.shape[:2]
    x, y, w, h = (int(round(v)) for v in bbox)
    x, y = max(x, 0), max(y, 0)
    w, h = min(w, W - x), min(h, H - y)
    if w < 8 or h < 8:
        return None
    pad = max(4, int(0.15 * max(w, h)))
    x0, y0, x1, y1 = max(x - pad, 0), max(y - pad, 0), min(x + w + pad, W), min(y + h + pad, H)
    crop = np.ascontiguousarray(image[y0:y1, x0:x1, ::-1])  # BGR for OpenCV
    gc = np.zeros(crop.shape[:2], np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    _seeded_grabcut(crop, gc, (x - x0, y - y0, w, h), bgd, fgd, iterations)
    fg = np.isin(gc, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg)
    if n <= 1:
        return None
    main = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    fill = stats[main, cv2.CC_STAT_AREA] / float(w * h)
    if not 0.15 <= fill <= 0.95 or stats[main, cv2.CC_STAT_AREA] < 0.8 * fg.sum():
        return None
    out = np.zeros((H, W), bool)
    out[y0:y1, x0:x1] = labels == main
    return out


def _seeded_grabcut(crop: np.ndarray, gc: np.ndarray, rect: tuple, bgd: np.ndarray, fgd: np.ndarray, iterations: int) -> None:
    """cv2.grabCut with its randomness (k-means initialisation) seeded: the same cut every time.

    GrabCut takes no RNG argument; it draws from OpenCV's RNG of the calling thread, which
    Python can seed (``cv2.setRNGSeed``) but not read back. So it runs in a thread of its own,
    seeded there: the caller's OpenCV RNG is left as it was, nothing process-wide changes.
    """
    from concurrent.futures import ThreadPoolExecutor

    def run() -> None:
        cv2.setRNGSeed(0)
        cv2.grabCut(crop, gc, rect, bgd, fgd, iterations, cv2.GC_INIT_WITH_RECT)

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


def _occluded_share(mask: np.ndarray, others: np.ndarray) -> float:
    m = np.ascontiguousarray(mask, dtype=np.uint8)
    ring = cv2.dilate(m, np.ones((5, 5), np.uint8)).astype(bool) & ~mask
    return float(others[ring].mean()) if ring.any() else 0.0


def _cutout(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    rgba = np.dstack([image[y0:y1, x0:x1], mask[y0:y1, x0:x1].astype(np.uint8) * 255])
    return rgba


def extract(dataset: RealDataset, out: Path, options: ExtractOptions = ExtractOptions(), progress=None) -> ExtractReport:
    out = Path(out)
    source = Path(dataset.source)
    read = ({source} if source.is_dir() else set()) | {im.path.parent for im in dataset.images}
    for folder in sorted(read):  # cutouts written there would become files of the dataset
        if out.resolve() == folder.resolve() or folder.resolve() in out.resolve().parents:
            raise OutputError(f"--out {out} lies inside {folder}, a folder of the dataset extract reads: "
                              "choose an --out outside the dataset (e.g. my_assets/ beside it)")
    report = ExtractReport()
    for im in dataset.images:
        _extract_image(im, dataset, out, options, report)
        if progress is not None:
            progress(1)
    return report


def _extract_image(im: RealImage, dataset: RealDataset, out: Path, o: ExtractOptions, report: ExtractReport) -> None:
    image = None
    masks: list[np.ndarray | None] = []
    for inst in im.instances:
        masks.append(None if (o.boxes_only or inst.iscrowd) else inst.mask(im.height, im.width))
    union = np.zeros((im.height, im.width), np.uint16)
    for m in masks:
        if m is not None:
            union += m
    for inst, mask in zip(im.instances, masks):
        if inst.iscrowd:
            report.skipped["crowd"] += 1
            continue
        via_grabcut = mask is None
        if via_grabcut:
            if not o.boxes_only:
                report.skipped["no mask (use --boxes-only to cut it from its box)"] += 1
                continue
            image = im.read() if image is None else image
            report.grabcut_tried += 1
            mask = grabcut(image, inst.bbox)
            if mask is None:
                report.skipped["GrabCut failed"] += 1
                continue
        area = int(mask.sum())
        if area < o.min_area:
            report.skipped["tiny"] += 1
            continue
        if not o.keep_truncated and (mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any()):
            report.skipped["cut by the image border"] += 1
            continue
        others = (union - (0 if via_grabcut else mask)) > 0
        if _occluded_share(mask, others) > o.max_occluded:
            report.skipped["occluded"] += 1
            continue
        image = im.read() if image is None else image
        q = quality(image, mask)
        if q["score"] < o.min_quality:
            report.skipped["low quality"] += 1
            continue
        if via_grabcut:
            report.grabcut_kept += 1
        _write(out, inst, im, image, mask, q, via_grabcut, dataset.source)
        if inst.category in dataset.keypoints:
            hidden, outside = _write_keypoints(out, inst, im, mask, dataset.keypoints[inst.category], first=not report.kept[inst.category])
            if hidden:
                report.skipped[HIDDEN] += hidden
            if outside:
                report.skipped[OUTSIDE] += outside
        report.kept[inst.category] += 1


def _write(out: Path, inst: RealInstance, im: RealImage, image, mask, q: dict[str, Any], grabcut_used: bool,
           dataset: str) -> None:
    folder = out / _folder(inst.category)
    folder.mkdir(parents=True, exist_ok=True)
    stem = _stem(im, inst)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(_cutout(image, mask), cv2.COLOR_RGBA2BGRA))
    atomic_write(folder / f"{stem}.png", buf.tobytes())
    source = image_source("cutout", dataset, str(im.path))
    provenance = {
        "source_image": str(im.path),
        "dataset": source["dataset"],
        "image": source["image"],
        "sha256": source["sha256"],
        "image_id": im.image_id,
        "annotation_id": inst.ann_id,
        "category": inst.category,
        "bbox": [round(float(v), 2) for v in inst.bbox],
        "mask_from": "grabcut" if grabcut_used else "annotation",
        "quality": q,
    }
    atomic_write(folder / f"{stem}.json", (json.dumps(provenance, indent=1) + "\n").encode())


def _stem(im: RealImage, inst: RealInstance) -> str:
    return f"{_folder(im.path.stem)}_{_folder(str(inst.ann_id))}"


def flip_pairs(names: tuple[str, ...]) -> list[list[str]]:
    """[left-name, right-name] pairs: every name with ``left`` in it whose ``right`` twin is a name
    too (``left_wrist`` / ``right_wrist``, ``LeftEye`` / ``RightEye``)."""
    out = []
    for n in names:
        for a, b in (("left", "right"), ("Left", "Right"), ("LEFT", "RIGHT")):
            if a in n and n.replace(a, b) in names:
                out.append([n, n.replace(a, b)])
                break
    return out


# COCO person keypoints' OKS sigmas (pycocotools' COCOeval), given to points of those names so
# that `synthgen evaluate` scores them as COCO does
COCO_SIGMAS = {
    "nose": 0.026, "left_eye": 0.025, "right_eye": 0.025, "left_ear": 0.035, "right_ear": 0.035,
    "left_shoulder": 0.079, "right_shoulder": 0.079, "left_elbow": 0.072, "right_elbow": 0.072,
    "left_wrist": 0.062, "right_wrist": 0.062, "left_hip": 0.107, "right_hip": 0.107,
    "left_knee": 0.087, "right_knee": 0.087, "left_ankle": 0.089, "right_ankle": 0.089,
}


def schema_text(cat: KeypointCategory) -> str:
    doc: dict[str, Any] = {
        "names": list(cat.names),
        "skeleton": [[cat.names[i], cat.names[j]] for i, j in cat.skeleton],
        "flip": flip_pairs(cat.names),
    }
    sigmas = {n: COCO_SIGMAS[n] for n in cat.names if n in COCO_SIGMAS}
    if sigmas:
        doc["sigmas"] = sigmas
    return "# from the COCO category's keypoints and skeleton (synthgen extract)\n" + yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=100)


HIDDEN = "hidden keypoints (v 1)"  # the report's count of source points left out of sidecars
OUTSIDE = "keypoints outside the cutout"  # visible points off the mask's box: no pixel of the cutout under them


def _write_keypoints(out: Path, inst: RealInstance, im: RealImage, mask: np.ndarray, cat: KeypointCategory, first: bool) -> tuple[int, int]:
    """The class schema (once per class and run; an existing different one is never replaced)
    and the cutout's sidecar, when it has visible (v 2) points; returns how many hidden (v 1)
    points it left out, and how many visible ones outside the cutout (the mask's box) it left out."""
    folder = out / _folder(inst.category)
    schema = folder / SCHEMA_FILE
    text = schema_text(cat)
    if first:
        if schema.exists() and schema.read_text() != text:
            raise AssetError(f"{schema} exists and differs from the keypoints of category {inst.category!r} in "
                             f"{inst.source}: remove it, or extract into another folder")
        atomic_write(schema, text.encode())
    if inst.keypoints is None:
        return 0, 0
    ys, xs = np.nonzero(mask)
    x0, y0 = int(xs.min()), int(ys.min())  # the cutout's top-left pixel in the image (see _cutout)
    w, h = int(xs.max()) + 1 - x0, int(ys.max()) + 1 - y0  # its size
    visible = {cat.names[i]: [round(float(x) - x0, 3), round(float(y) - y0, 3)]
               for i, (x, y, v) in enumerate(inst.keypoints) if v == 2}  # v 1: see the module's text
    points = {n: p for n, p in visible.items() if 0 <= p[0] <= w and 0 <= p[1] <= h}
    if points:
        atomic_write(sidecar_path(folder / f"{_stem(im, inst)}.png"), (json.dumps(points, indent=1) + "\n").encode())
    return int(np.count_nonzero(inst.keypoints[:, 2] == 1)), len(visible) - len(points)
