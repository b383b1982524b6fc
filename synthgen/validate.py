"""Checking a dataset's files and labels: ``synthgen validate``.

Works on synthgen's output and on COCO datasets made elsewhere. The layout is detected:

    DIR/annotations.json (+ DIR/images/)     COCO; or a COCO json file with ``images=DIR``
    DIR/shards/shard-*.coco.json             an unmerged synthgen run (COCO fragments)
    DIR/data.yaml (+ images/, labels/)       YOLO (Ultralytics layout)
    DIR/webdataset/*.tar, or one tar         WebDataset shards as synthgen writes them

and every layout present is checked. Work goes image by image: masks are checked in their
run-length encoding (pycocotools ``toBbox`` / ``area`` / ``merge``, no decoding to pixels), and
only id maps are decoded, one at a time. ``validate_path`` returns a ``Report``; the CLI prints it.
"""

from __future__ import annotations

import io
import json
import math
import os
import tarfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synthgen.errors import AssetError
from synthgen.writers.coco import MAX_INSTANCES

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
WDS_IMAGE_EXTS = ("jpg", "jpeg", "png", "webp")
EPS = 1e-6  # float slack for box bounds and normalised YOLO values

# Problem kinds, in the order the summary lists them
KINDS = (
    "layout", "format", "missing_file", "unreadable_image", "image_size", "duplicate_id", "unknown_image",
    "unknown_category", "bbox", "area", "out_of_bounds", "empty_mask", "mask_size", "overlap", "yolo_line",
    "yolo_mismatch", "wds_member", "id_map", "count_mismatch",
)


@dataclass(frozen=True)
class Problem:
    kind: str  # one of KINDS
    where: str  # file, and the image / annotation id
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.where}: {self.message}"


@dataclass
class Report:
    path: Path
    layouts: list[str] = field(default_factory=list)
    synthgen: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    problem_counts: Counter = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)  # the first ``max_problems``
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problem_counts

    @property
    def total_problems(self) -> int:
        return sum(self.problem_counts.values())

    def lines(self) -> list[str]:
        out = [f"{self.path}: {', '.join(self.layouts)}" + (" (synthgen dataset)" if self.synthgen else "")]
        if self.counts:
            out.append("  " + ", ".join(f"{k}: {v}" for k, v in self.counts.items()))
        out += [f"  note: {n}" for n in self.notes]
        if self.ok:
            out.append(f"sound: no problems found ({self.seconds:.1f} s)")
            return out
        kinds = sorted(self.problem_counts, key=lambda k: KINDS.index(k) if k in KINDS else len(KINDS))
        out.append(
            f"PROBLEMS: {self.total_problems} ("
            + ", ".join(f"{k}: {self.problem_counts[k]}" for k in kinds)
            + f") ({self.seconds:.1f} s)"
        )
        out += [f"  {p}" for p in self.problems]
        if self.total_problems > len(self.problems):
            out.append(f"  ... and {self.total_problems - len(self.problems)} more (--max-problems to list more)")
        return out


class _Collector:
    """Counts problems by kind and keeps the first ones; one problem per (kind, where)."""

    def __init__(self, report: Report, max_problems: int) -> None:
        self.report = report
        self.max = max_problems
        self.seen: set[tuple[str, str]] = set()

    def __call__(self, kind: str, where: str, message: str) -> None:
        if (kind, where) in self.seen:
            return
        self.seen.add((kind, where))
        self.report.problem_counts[kind] += 1
        if len(self.report.problems) < self.max:
            self.report.problems.append(Problem(kind, where, message))


# --------------------------------------------------------------------------------------------
# Layout


@dataclass
class Layout:
    root: Path
    coco_file: Path | None = None
    coco_fragments: list[Path] = field(default_factory=list)  # an unmerged synthgen run
    images_dir: Path | None = None  # COCO file_names are relative to this
    yolo_yaml: Path | None = None
    wds_tars: list[Path] = field(default_factory=list)
    manifest: dict[str, Any] | None = None

    def rel(self, p: Path) -> str:
        try:
            return str(Path(p).relative_to(self.root))
        except ValueError:
            return str(p)

    def describe(self) -> list[str]:
        out = []
        if self.coco_file:
            out.append(f"coco ({self.rel(self.coco_file)})")
        if self.coco_fragments:
            out.append(f"coco ({len(self.coco_fragments)} unmerged shard fragments)")
        if self.yolo_yaml:
            out.append(f"yolo ({self.rel(self.yolo_yaml)})")
        if self.wds_tars:
            out.append(f"webdataset ({len(self.wds_tars)} tar{'s' if len(self.wds_tars) != 1 else ''})")
        return out


def _read_manifest(root: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((root / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def detect_layout(path: str | Path, images: str | Path | None = None) -> Layout:
    """Which dataset layouts PATH holds; AssetError when none."""
    p = Path(path)
    if not p.exists():
        raise AssetError(f"{p} does not exist")
    if p.is_file():
        name = p.name.lower()
        if name.endswith(".json"):
            root = p.parent
            img = Path(images) if images else (root / "images" if (root / "images").is_dir() else root)
            return Layout(root=root, coco_file=p, images_dir=img, manifest=_read_manifest(root))
        if name.endswith(".tar"):
            root = p.parent.parent if p.parent.name == "webdataset" else p.parent
            return Layout(root=root, wds_tars=[p], manifest=_read_manifest(root))
        if name.endswith((".yaml", ".yml")):
            return Layout(root=p.parent, yolo_yaml=p, manifest=_read_manifest(p.parent))
        raise AssetError(f"{p}: not a dataset file: give a COCO .json, a YOLO data.yaml, a WebDataset .tar or a folder")
    layout = Layout(root=p, manifest=_read_manifest(p))
    if (p / "annotations.json").is_file():
        layout.coco_file = p / "annotations.json"
    elif layout.manifest is not None and (p / "shards").is_dir():
        layout.coco_fragments = sorted((p / "shards").glob("shard-*.coco.json"))
    if layout.coco_file or layout.coco_fragments:
        layout.images_dir = Path(images) if images else p / "images"
    if (p / "data.yaml").is_file():
        layout.yolo_yaml = p / "data.yaml"
    layout.wds_tars = sorted((p / "webdataset").glob("*.tar")) if (p / "webdataset").is_dir() else []
    if not (layout.coco_file or layout.coco_fragments or layout.yolo_yaml or layout.wds_tars):
        layout.wds_tars = sorted(p.glob("*.tar"))
    if not (layout.coco_file or layout.coco_fragments or layout.yolo_yaml or layout.wds_tars):
        raise AssetError(
            f"{p}: no dataset found: expected annotations.json (COCO), data.yaml (YOLO), webdataset/*.tar, "
            "or give a COCO json file with --images"
        )
    return layout


def is_synthgen(layout: Layout, coco: dict[str, Any] | None = None) -> bool:
    if layout.manifest is not None:
        return True
    info = (coco or {}).get("info")
    return isinstance(info, dict) and info.get("description") == "synthgen"


# --------------------------------------------------------------------------------------------
# Masks in run-length encoding


def rle_counts(s: str) -> np.ndarray | None:
    """The run lengths of a COCO compressed RLE string (as pycocotools' rleFrString decodes it),
    or None when the string is malformed. Checked here so a bad string never reaches C code."""
    c = np.frombuffer(s.encode("latin-1", "replace"), np.uint8).astype(np.int64) - 48
    if len(c) == 0:
        return np.zeros(0, np.int64)
    if c.min() < 0 or c.max() >= 64 or c[-1] & 0x20:
        return None
    ends = np.flatnonzero((c & 0x20) == 0)  # the last character of each number
    starts = np.concatenate([[0], ends[:-1] + 1])
    k = np.arange(len(c)) - np.repeat(starts, ends - starts + 1)  # 5-bit digit within its number
    if k.max() > 11:
        return None
    x = np.add.reduceat((c & 0x1F) << (5 * k), starts)
    negative = (c[ends] & 0x10) != 0
    x[negative] -= np.left_shift(1, 5 * (k[ends][negative] + 1))
    # from the fourth number on, each is a difference to the one two before
    if len(x) > 3:
        x[3::2] = x[1] + np.cumsum(x[3::2])
    if len(x) > 4:
        x[4::2] = x[2] + np.cumsum(x[4::2])
    if (x < 0).any():
        return None
    return x


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _fmt(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def segmentation_rle(seg: Any, H: int, W: int) -> tuple[dict | None, tuple[str, str] | None, float]:
    """(RLE for pycocotools, (problem kind, message) or None, polygon perimeter; 0 for RLE)."""
    from pycocotools import mask as mask_utils

    if isinstance(seg, dict):
        size, counts = seg.get("size"), seg.get("counts")
        if not (isinstance(size, list) and len(size) == 2):
            return None, ("mask_size", "RLE segmentation has no [height, width] size"), 0.0
        if list(size) != [H, W]:
            return None, ("mask_size", f"mask size {_fmt(size)} is not the image's [height, width] [{H}, {W}]"), 0.0
        if isinstance(counts, str):
            runs = rle_counts(counts)
            if runs is None:
                return None, ("format", "RLE counts string is malformed"), 0.0
            if int(runs.sum()) != H * W or (runs[1:] == 0).any():
                return None, ("mask_size", f"RLE counts cover {int(runs.sum())} pixels, not {H}x{W} = {H * W}"), 0.0
            return {"size": [H, W], "counts": counts.encode()}, None, 0.0
        if isinstance(counts, list):
            if not all(isinstance(c, int) and c >= 0 for c in counts) or sum(counts) != H * W:
                return None, ("mask_size", f"uncompressed RLE counts do not cover {H}x{W} = {H * W} pixels"), 0.0
            return mask_utils.frPyObjects(seg, H, W), None, 0.0
        return None, ("format", "RLE counts are neither a string nor a list"), 0.0
    if isinstance(seg, list):
        perimeter = 0.0
        for poly in seg:
            if not (isinstance(poly, list) and len(poly) >= 6 and len(poly) % 2 == 0 and all(_num(v) for v in poly)):
                return None, ("format", "a polygon is not a list of >= 3 x, y pairs"), 0.0
            xy = np.asarray(poly, np.float64).reshape(-1, 2)
            perimeter += float(np.hypot(*(np.roll(xy, -1, 0) - xy).T).sum())
        return mask_utils.merge(mask_utils.frPyObjects(seg, H, W)), None, perimeter
    return None, ("format", "segmentation is neither RLE nor a list of polygons"), 0.0


def check_annotation(ann: dict, H: int, W: int, where: str, add) -> dict | None:
    """Box inside the image, box = tight box of the mask, area = pixel count. The mask's RLE."""
    from pycocotools import mask as mask_utils

    bbox = ann.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(_num(v) for v in bbox)):
        add("format", where, f"bbox {_fmt(bbox)} is not four numbers [x, y, w, h]")
        return None
    x, y, w, h = bbox
    if w <= 0 or h <= 0:
        add("bbox", where, f"bbox {_fmt(bbox)} has no width or height")
    if x < -EPS or y < -EPS or x + w > W + EPS or y + h > H + EPS:
        add("out_of_bounds", where, f"bbox {_fmt(bbox)} leaves the {W}x{H} image")
    seg = ann.get("segmentation")
    if seg is None or seg == []:
        return None  # a box-only annotation
    rle, error, perimeter = segmentation_rle(seg, H, W)
    if error:
        add(error[0], where, error[1])
        return None
    area = int(mask_utils.area(rle))
    if area == 0:
        add("empty_mask", where, "the mask has no pixel")
        return rle
    tight = [float(v) for v in mask_utils.toBbox(rle)]
    stated = ann.get("area")
    if perimeter == 0.0:  # RLE: exact
        if [float(v) for v in bbox] != tight:
            add("bbox", where, f"bbox {_fmt(bbox)} is not the mask's tight box {_fmt(tight)}")
        if not _num(stated) or stated != area:
            add("area", where, f"area {_fmt(stated)} is not the mask's pixel count {area}")
    else:  # polygons: rasterising moves edges by up to a pixel
        tx, ty, tw, th = tight
        if max(abs(x - tx), abs(y - ty), abs(x + w - tx - tw), abs(y + h - ty - th)) > 1.0:
            add("bbox", where, f"bbox {_fmt(bbox)} is more than 1 pixel off the polygon mask's tight box {_fmt(tight)}")
        if not _num(stated) or abs(stated - area) > perimeter / 2 + 1:
            add("area", where, f"area {_fmt(stated)} is far from the polygon mask's {area} pixels")
    return rle


def check_overlaps(rles: list[tuple[Any, dict]], where: str, add) -> None:
    """Visible masks of one image share no pixel (synthgen: the top-most object owns a pixel)."""
    from pycocotools import mask as mask_utils

    if len(rles) < 2:
        return
    masks = [r for _, r in rles]
    if int(mask_utils.area(mask_utils.merge(masks, intersect=False))) == int(mask_utils.area(masks).sum()):
        return
    for i in range(len(rles)):
        for j in range(i + 1, len(rles)):
            shared = int(mask_utils.area(mask_utils.merge([rles[i][1], rles[j][1]], intersect=True)))
            if shared:
                add("overlap", f"{where} annotations {rles[i][0]} and {rles[j][0]}", f"visible masks share {shared} pixels")


def check_id_map(idm: np.ndarray, anns: list[dict], image_id: Any, where: str, add, ann_where=None) -> None:
    """Each annotation is exactly the pixels of (id map == annotation id % MAX_INSTANCES).

    ``ann_where(id)`` names an annotation as the other checks do, so one fault is one problem."""
    from pycocotools import mask as mask_utils

    idm_t = np.ascontiguousarray(idm.T)  # (idm_t == k).T is Fortran-ordered, as pycocotools wants
    labelled: dict[int, int] = {}  # instance id -> pixel count
    for a in anns:
        aid = a.get("id")
        if not isinstance(aid, int):
            continue
        k = aid % MAX_INSTANCES
        aw = ann_where(aid) if ann_where else f"{where} annotation {aid}"
        if isinstance(image_id, int) and aid // MAX_INSTANCES != image_id:
            add("id_map", aw, f"annotation id does not encode image {image_id} (synthgen: (index + 1) * {MAX_INSTANCES} + instance id)")
        rle = mask_utils.encode((idm_t == k).view(np.uint8).T)
        area = labelled[k] = int(mask_utils.area(rle))
        if area == 0:
            add("id_map", aw, f"the id map has no pixel of instance {k}")
            continue
        tight = [int(v) for v in mask_utils.toBbox(rle)]
        bbox = a.get("bbox")
        if bbox != tight:
            add("bbox", aw, f"bbox {_fmt(bbox)} is not the tight box {tight} of id-map pixels == {k}")
        if a.get("area") != area:
            add("area", aw, f"area {_fmt(a.get('area'))} is not the {area} id-map pixels == {k}")
        seg = a.get("segmentation")
        if isinstance(seg, dict) and isinstance(seg.get("counts"), str) and rle["counts"].decode() != seg["counts"]:
            add("id_map", aw, f"the segmentation is not the id-map pixels == {k}")
    if np.count_nonzero(idm) != sum(labelled.values()):
        extra = [int(v) for v in np.unique(idm) if v and int(v) not in labelled]
        add("id_map", where, f"id-map pixels with id(s) {extra[:10]} belong to no annotation")


def image_size(path: Path, cache: dict[Path, Any]) -> tuple[int, int] | str | None:
    """(width, height) from the file header; None when missing; an error message when unreadable."""
    from PIL import Image

    if path in cache:
        return cache[path]
    if not path.is_file():
        result: Any = None
    else:
        try:
            with Image.open(path) as im:
                result = im.size
        except Exception as exc:  # PIL raises many kinds
            result = f"cannot read the image ({exc.__class__.__name__}: {exc})"
    cache[path] = result
    return result


def read_id_map(data: bytes | Path) -> np.ndarray | None:
    import cv2

    if isinstance(data, Path):
        return cv2.imread(str(data), cv2.IMREAD_UNCHANGED)
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


# --------------------------------------------------------------------------------------------
# YOLO


def yolo_names(doc: Any) -> list[str] | None:
    if not isinstance(doc, dict):
        return None
    names = doc.get("names")
    if isinstance(names, list):
        return [str(n) for n in names]
    if isinstance(names, dict):
        try:
            keys = sorted(int(k) for k in names)
        except (TypeError, ValueError):
            return None
        if keys != list(range(len(keys))):
            return None
        return [str(names.get(k, names.get(str(k)))) for k in keys]
    if isinstance(doc.get("nc"), int):
        return [str(i) for i in range(doc["nc"])]
    return None


def yolo_image_files(yaml_path: Path, doc: dict) -> tuple[list[Path], list[str]]:
    """The images a data.yaml names (train/val/test: folders or list files), and notes."""
    notes = []
    ydir = yaml_path.parent
    root = doc.get("path")
    bases = []
    if isinstance(root, str) and root and not Path(root).is_absolute():
        bases.append(ydir / root)
    bases.append(ydir)
    if isinstance(root, str) and Path(root).is_absolute():
        bases.append(Path(root))
        if Path(root).resolve() != ydir.resolve():
            notes.append(f"data.yaml `path` is {root}, not the folder it is in ({ydir}): Ultralytics will look there")
    entries = []
    for key in ("train", "val", "test"):
        v = doc.get(key)
        entries += v if isinstance(v, list) else ([v] if isinstance(v, str) else [])
    files: dict[Path, None] = {}
    for entry in entries:
        base = next((b for b in bases if (b / entry).exists()), None)
        if base is None:
            notes.append(f"data.yaml names {entry!r}, which is not there")
            continue
        p = base / entry
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file():
                    files[f] = None
        else:
            for line in p.read_text().splitlines():
                if line.strip():
                    f = Path(line.strip())
                    files[f if f.is_absolute() else base / f] = None
    if not entries and (ydir / "images").is_dir():
        for f in sorted((ydir / "images").rglob("*")):
            if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file():
                files[f] = None
    return list(files), notes


def yolo_label_path(image: Path) -> Path:
    """Ultralytics' rule: the last /images/ of the path becomes /labels/, the suffix .txt."""
    s = str(image)
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    if sa in s:
        s = sb.join(s.rsplit(sa, 1))
    return Path(s.rsplit(".", 1)[0] + ".txt")


def parse_yolo_line(line: str, nc: int) -> tuple[tuple[int, list[float]] | None, str | None, str]:
    """((class, values), None, kind) or (None, error, kind) for one label line."""
    parts = line.split()
    try:
        cls = int(parts[0])
    except ValueError:
        return None, f"class {parts[0]!r} is not an integer", "yolo_line"
    if not 0 <= cls < nc:
        return None, f"class {cls} is not in 0..{nc - 1} (data.yaml names)", "yolo_line"
    vals = parts[1:]
    if not (len(vals) == 4 or (len(vals) >= 6 and len(vals) % 2 == 0)):
        return None, f"{len(vals)} values: expected 4 (box) or an even number >= 6 (polygon)", "yolo_line"
    try:
        nums = [float(v) for v in vals]
    except ValueError:
        return None, "a value is not a number", "yolo_line"
    bad = [v for v in nums if not (math.isfinite(v) and -EPS <= v <= 1 + EPS)]
    if bad:
        return None, f"value {_fmt(bad[0])} is not normalised to [0, 1]", "yolo_line"
    if len(nums) == 4:
        cx, cy, w, h = nums
        if w <= 0 or h <= 0:
            return None, "box has no width or height", "yolo_line"
        if cx - w / 2 < -EPS or cy - h / 2 < -EPS or cx + w / 2 > 1 + EPS or cy + h / 2 > 1 + EPS:
            return None, f"box {_fmt(nums)} leaves the image", "out_of_bounds"
    return (cls, nums), None, ""


def read_yolo_labels(path: Path, nc: int) -> list[tuple[int, list[float]] | None] | None:
    """Parsed lines of a label file (None for malformed ones), or None when there is no file."""
    try:
        text = path.read_text()
    except OSError:
        return None
    return [parse_yolo_line(line, nc)[0] for line in text.splitlines() if line.strip()]


# --------------------------------------------------------------------------------------------
# The checks, layout by layout


class _Validator:
    def __init__(self, layout: Layout, report: Report, add: _Collector) -> None:
        self.layout = layout
        self.report = report
        self.add = add
        self.sizes: dict[Path, Any] = {}
        self.synthgen = layout.manifest is not None
        self.yolo_names: list[str] | None = None
        self.coco_images = 0
        self.counts = report.counts

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    # ---------------------------------------------------------------- COCO

    def coco_sources(self) -> Iterator[tuple[Path, dict]]:
        add, L = self.add, self.layout
        if L.coco_file:
            rel = L.rel(L.coco_file)
            try:
                data = json.loads(L.coco_file.read_text())
            except (OSError, ValueError) as exc:
                add("format", rel, f"not readable JSON ({exc})")
                return
            if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("images", "annotations", "categories")):
                add("format", rel, "not a COCO instances file: needs lists `images`, `annotations` and `categories`")
                return
            yield L.coco_file, data
            return
        classes = (L.manifest or {}).get("classes", [])
        categories = [{"id": i + 1, "name": c} for i, c in enumerate(classes)]
        for frag in L.coco_fragments:
            try:
                data = json.loads(frag.read_text())
                images, anns = data["images"], data["annotations"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                add("format", L.rel(frag), f"not a COCO shard fragment ({exc})")
                continue
            yield frag, {"images": images, "annotations": anns, "categories": categories}

    def check_coco(self) -> None:
        add, L = self.add, self.layout
        image_ids: set = set()
        ann_ids: set = set()
        masks_dir = L.root / "masks"
        for src, data in self.coco_sources():
            rel = L.rel(src)
            if src == L.coco_file and is_synthgen(L, data):
                self.synthgen = True
            cats: dict[Any, str] = {}
            for c in data["categories"]:
                if not isinstance(c, dict) or not isinstance(c.get("id"), (int, str)):
                    add("format", f"{rel} categories", f"category {str(c)[:80]} has no id")
                elif c["id"] in cats:
                    add("duplicate_id", f"{rel} category {c['id']}", "category id used twice")
                else:
                    cats[c["id"]] = str(c.get("name", c["id"]))
            images: dict[Any, dict] = {}
            for im in data["images"]:
                iid = im.get("id") if isinstance(im, dict) else None
                if not isinstance(iid, (int, str)):
                    add("format", f"{rel} images", f"image entry {str(im)[:80]} has no id")
                    continue
                if iid in image_ids:
                    add("duplicate_id", f"{rel} image {iid}", "image id used twice")
                    continue
                image_ids.add(iid)
                images[iid] = im
            by_image: dict[Any, list] = {}
            for a in data["annotations"]:
                aid = a.get("id") if isinstance(a, dict) else None
                if not isinstance(aid, (int, str)):
                    add("format", f"{rel} annotations", f"annotation {str(a)[:80]} has no id")
                    continue
                where = f"{rel} annotation {aid}"
                if aid in ann_ids:
                    add("duplicate_id", where, "annotation id used twice")
                    continue
                ann_ids.add(aid)
                if a.get("category_id") not in cats:
                    add("unknown_category", where, f"category_id {a.get('category_id')!r} is not among the categories")
                if a.get("image_id") not in images:
                    add("unknown_image", where, f"image_id {a.get('image_id')!r} is not among the images")
                    continue
                by_image.setdefault(a["image_id"], []).append(a)
            self.count("images", len(images))
            self.count("annotations", sum(len(v) for v in by_image.values()))
            self.coco_images += len(images)
            for iid, im in images.items():
                self.check_coco_image(rel, im, by_image.get(iid, []), cats, masks_dir)
            del data, images, by_image

    def check_coco_image(self, rel: str, im: dict, anns: list[dict], cats: dict, masks_dir: Path) -> None:
        add, L = self.add, self.layout
        iid, name = im["id"], im.get("file_name")
        where = f"{rel} image {iid}" + (f" ({name})" if name else "")
        W, H = im.get("width"), im.get("height")
        if not isinstance(name, str) or not (isinstance(W, int) and isinstance(H, int) and W > 0 and H > 0):
            add("format", where, "image entry needs file_name, and width and height as positive integers")
            return
        path = L.images_dir / name
        size = image_size(path, self.sizes)
        if size is None:
            add("missing_file", where, f"image file {L.rel(path)} does not exist")
        elif isinstance(size, str):
            add("unreadable_image", where, size)
        elif size != (W, H):
            add("image_size", where, f"the file is {size[0]}x{size[1]}, the entry says {W}x{H}")
        def ann_where(aid: Any) -> str:
            return f"{rel} annotation {aid} (image {iid})"

        rles = []
        for a in anns:
            rle = check_annotation(a, H, W, ann_where(a["id"]), add)
            if rle is not None and not a.get("iscrowd"):
                rles.append((a["id"], rle))
        if self.synthgen:
            check_overlaps(rles, where, add)
            if masks_dir.is_dir():
                self.check_mask_file(masks_dir / (Path(name).stem + ".png"), anns, iid, W, H, where, ann_where)
            if L.yolo_yaml and self.yolo_names is not None:
                self.compare_yolo(L.root / "labels" / (Path(name).stem + ".txt"), anns, cats, W, H, where)

    def check_mask_file(self, path: Path, anns: list[dict], iid: Any, W: int, H: int, where: str, ann_where) -> None:
        add = self.add
        if not path.is_file():
            add("missing_file", where, f"id map {self.layout.rel(path)} does not exist")
            return
        self.count("id maps")
        idm = read_id_map(path)
        if idm is None or idm.dtype != np.uint16 or idm.shape != (H, W):
            got = "unreadable" if idm is None else f"{idm.dtype} {idm.shape[1]}x{idm.shape[0]}"
            add("id_map", where, f"id map {self.layout.rel(path)} is {got}, not uint16 {W}x{H}")
            return
        check_id_map(idm, anns, iid, f"{where} id map", add, ann_where)

    def compare_yolo(self, label: Path, anns: list[dict], cats: dict, W: int, H: int, where: str) -> None:
        """synthgen's YOLO lines are its COCO annotations, in order, normalised."""
        names = self.yolo_names
        lines = read_yolo_labels(label, len(names))
        if lines is None:
            return  # reported by the YOLO pass
        lw = self.layout.rel(label)
        if len(lines) != len(anns):
            self.add("yolo_mismatch", lw, f"{len(lines)} lines, but {len(anns)} COCO annotations for {where}")
            return
        for n, (line, a) in enumerate(zip(lines, anns), 1):
            if line is None or not (isinstance(a.get("bbox"), list) and len(a["bbox"]) == 4):
                continue
            cls, vals = line
            x, y, w, h = a["bbox"]
            if names[cls] != cats.get(a.get("category_id")):
                self.add("yolo_mismatch", f"{lw} line {n}", f"class {names[cls]!r}, COCO annotation {a['id']} is {cats.get(a.get('category_id'))!r}")
            elif len(vals) == 4:
                want = [(x + w / 2) / W, (y + h / 2) / H, w / W, h / H]
                if max(abs(u - v) for u, v in zip(vals, want)) > EPS:
                    self.add("yolo_mismatch", f"{lw} line {n}", f"box {_fmt(vals)} is not COCO annotation {a['id']}'s {_fmt([round(v, 6) for v in want])}")
            else:
                xy = np.asarray(vals).reshape(-1, 2)
                lo, hi = xy.min(0), xy.max(0)
                if lo[0] < x / W - EPS or lo[1] < y / H - EPS or hi[0] > (x + w) / W + EPS or hi[1] > (y + h) / H + EPS:
                    self.add("yolo_mismatch", f"{lw} line {n}", f"polygon leaves COCO annotation {a['id']}'s box {_fmt(a['bbox'])}")

    # ---------------------------------------------------------------- YOLO

    def load_yolo_yaml(self) -> dict | None:
        import yaml

        rel = self.layout.rel(self.layout.yolo_yaml)
        try:
            doc = yaml.safe_load(self.layout.yolo_yaml.read_text())
        except (OSError, yaml.YAMLError) as exc:
            self.add("format", rel, f"not readable YAML ({exc.__class__.__name__})")
            return None
        names = yolo_names(doc)
        if names is None:
            self.add("format", rel, "no class names: `names` must be a list or a {0: name, 1: ...} mapping")
            return None
        if isinstance(doc.get("nc"), int) and doc["nc"] != len(names):
            self.add("format", rel, f"nc is {doc['nc']} but there are {len(names)} names")
        self.yolo_names = names
        return doc

    def check_yolo(self, doc: dict) -> None:
        add, L = self.add, self.layout
        names = self.yolo_names
        files, notes = yolo_image_files(L.yolo_yaml, doc)
        self.report.notes += notes
        labels_seen = set()
        lines_total = 0
        for img in files:
            label = yolo_label_path(img)
            labels_seen.add(label)
            size = image_size(img, self.sizes)
            if size is None:
                add("missing_file", L.rel(img), "image file listed in data.yaml does not exist")
            elif isinstance(size, str):
                add("unreadable_image", L.rel(img), size)
            try:
                text = label.read_text()
            except OSError:
                if self.synthgen:
                    add("missing_file", L.rel(img), f"no label file {L.rel(label)}")
                continue
            for n, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                lines_total += 1
                parsed, error, kind = parse_yolo_line(line, len(names))
                if error:
                    add(kind, f"{L.rel(label)} line {n}", f"{error}: {line.strip()[:80]!r}")
        label_dirs = {yolo_label_path(img / "x").parent for img in {f.parent for f in files}}
        for d in sorted(label_dirs):
            if d.is_dir():
                for t in sorted(d.glob("*.txt")):
                    if t not in labels_seen and t.name != "classes.txt":
                        add("missing_file", L.rel(t), "label file has no image")
        self.count("yolo images", len(files))
        self.count("yolo labels", lines_total)

    # ---------------------------------------------------------------- WebDataset

    def check_wds(self) -> None:
        add, L = self.add, self.layout
        classes = (L.manifest or {}).get("classes")
        cats = set(range(1, len(classes) + 1)) if isinstance(classes, list) else None
        keys: set[str] = set()
        image_ids: set = set()
        ann_ids: set = set()
        samples = anns_total = 0
        for tar in L.wds_tars:
            rel = L.rel(tar)
            try:
                with tarfile.open(tar, mode="r|*") as tf:
                    for key, members in _tar_samples(tf):
                        samples += 1
                        where = f"{rel} sample {key}"
                        if key in keys:
                            add("duplicate_id", where, "sample key used twice")
                        keys.add(key)
                        anns_total += self.check_wds_sample(members, where, cats, image_ids, ann_ids)
            except (tarfile.TarError, OSError) as exc:
                add("format", rel, f"not a readable tar ({exc})")
        self.count("webdataset samples", samples)
        self.count("webdataset annotations", anns_total)
        if (L.coco_file or L.coco_fragments) and self.coco_images and samples != self.coco_images:
            add("count_mismatch", "webdataset", f"{samples} samples, but {self.coco_images} COCO images")

    def check_wds_sample(self, members: dict[str, bytes], where: str, cats, image_ids: set, ann_ids: set) -> int:
        from PIL import Image

        add = self.add
        img_ext = next((e for e in WDS_IMAGE_EXTS if e in members), None)
        missing = ([] if img_ext else ["image (jpg/png)"]) + [e for e in ("ids.png", "json") if e not in members]
        if missing:
            add("wds_member", where, f"missing {', '.join(missing)} (has {', '.join(sorted(members))})")
        if "json" not in members:
            return 0
        try:
            doc = json.loads(members["json"])
            im, anns = doc["image"], doc["annotations"]
            iid, W, H = im["id"], im["width"], im["height"]
        except (ValueError, KeyError, TypeError) as exc:
            add("format", where, f"json member is not {{image, annotations}} ({exc.__class__.__name__}: {exc})")
            return 0
        if iid in image_ids:
            add("duplicate_id", where, f"image id {iid} used twice")
        image_ids.add(iid)
        if img_ext:
            try:
                with Image.open(io.BytesIO(members[img_ext])) as pil:
                    size = pil.size
                if size != (W, H):
                    add("image_size", where, f"the {img_ext} is {size[0]}x{size[1]}, the json says {W}x{H}")
            except Exception as exc:
                add("unreadable_image", where, f"cannot read the {img_ext} ({exc.__class__.__name__})")
        rles = []
        for a in anns:
            aid = a.get("id") if isinstance(a, dict) else None
            aw = f"{where} annotation {aid}"
            if not isinstance(aid, int):
                add("format", where, f"annotation {str(a)[:60]} has no integer id")
                continue
            if aid in ann_ids:
                add("duplicate_id", aw, "annotation id used twice")
            ann_ids.add(aid)
            if a.get("image_id") != iid:
                add("unknown_image", aw, f"image_id {a.get('image_id')!r} is not the sample's image {iid}")
            if cats is not None and a.get("category_id") not in cats:
                add("unknown_category", aw, f"category_id {a.get('category_id')!r} is not among the run's {len(cats)} classes")
            rle = check_annotation(a, H, W, aw, add)
            if rle is not None and not a.get("iscrowd"):
                rles.append((aid, rle))
        check_overlaps(rles, where, add)
        if "ids.png" in members:
            idm = read_id_map(members["ids.png"])
            if idm is None or idm.dtype != np.uint16 or idm.shape != (H, W):
                got = "undecodable" if idm is None else f"{idm.dtype} {idm.shape[1]}x{idm.shape[0]}"
                add("id_map", where, f"ids.png is {got}, not uint16 {W}x{H}")
            else:
                check_id_map(idm, [a for a in anns if isinstance(a, dict)], iid, where, add)
        return len(anns)


def _tar_samples(tf: tarfile.TarFile) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {extension: bytes}) per sample; the key is the member name up to its first dot."""
    key, members = None, {}
    for info in tf:
        if not info.isfile():
            continue
        base = info.name.rsplit("/", 1)[-1]
        prefix = info.name[: len(info.name) - len(base)]
        k, _, ext = base.partition(".")
        k = prefix + k
        if k != key and key is not None:
            yield key, members
            members = {}
        key = k
        f = tf.extractfile(info)
        members[ext] = f.read() if f else b""
    if key is not None:
        yield key, members


# --------------------------------------------------------------------------------------------


def validate_path(path: str | Path, images: str | Path | None = None, max_problems: int = 20) -> Report:
    """Check the dataset at PATH (every layout found there); AssetError when there is none."""
    t0 = time.perf_counter()
    layout = detect_layout(path, images)
    report = Report(path=Path(path), layouts=layout.describe())
    add = _Collector(report, max_problems)
    v = _Validator(layout, report, add)
    doc = v.load_yolo_yaml() if layout.yolo_yaml else None
    if layout.coco_file or layout.coco_fragments:
        if layout.coco_file and layout.images_dir and not layout.images_dir.is_dir():
            report.notes.append(f"no image folder {layout.images_dir} (--images DIR: where the file_names are)")
        v.check_coco()
    if doc is not None:
        v.check_yolo(doc)
    if layout.wds_tars:
        v.check_wds()
    m = layout.manifest
    if m is not None:
        if not m.get("complete"):
            report.notes.append(f"the run is not complete: {m.get('images_done')} of {m.get('num_images')} images done")
        elif layout.coco_file and v.coco_images != m.get("images_done"):
            add("count_mismatch", layout.rel(layout.coco_file), f"{v.coco_images} images, manifest.json says {m.get('images_done')}")
    report.synthgen = v.synthgen
    report.seconds = time.perf_counter() - t0
    return report
