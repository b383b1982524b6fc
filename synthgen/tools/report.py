"""A dataset report: one self-contained HTML file (``synthgen report``).

Counts, plots (instances per class, objects per image, box sizes, visibility, conditions) and a
gallery of sample images with their masks, boxes and class names. Everything is inline: plots
and images are base64 ``data:`` URIs, the CSS is in the page, there is no script and no link to
anything outside, so the file can be mailed, archived or opened offline.

Statistics come from the annotation fields only (boxes, areas, ``visible_fraction``,
``truncated``, each image's ``conditions``); masks are decoded for the gallery images alone.
Datasets made elsewhere work too: what they do not record is shown as "not recorded".
Everything is read through ``synthgen.io``; gallery images are the pixels as io/images reads
them (EXIF orientation applied), the ones the labels refer to.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synthgen.errors import AssetError
from synthgen.io.coco import coco_in_chunks, image_file, is_synthgen, read_coco
from synthgen.io.files import atomic_write
from synthgen.io.images import image_size, read_rgb
from synthgen.io.issues import DatasetError, raise_first
from synthgen.io.layout import Layout, detect_layout
from synthgen.io.paths import resolved_root
from synthgen.io.rle import MaskError, decode_segmentation
from synthgen.io.rle import is_number as _num
from synthgen.io.webdataset import count_samples, image_member, read_tar, sample_labels
from synthgen.io.yolo import (
    label_path,
    parse_line,
    read_label_lines,
    read_yolo,
    to_annotation,
)
from synthgen.tools.draw_points import (
    skeletons_from_categories,
    skeletons_from_manifest,
)

TILE_WIDTH = 320
COCO_SMALL, COCO_LARGE = 32, 96  # sqrt(area) thresholds of COCO's small / medium / large


@dataclass
class _Item:
    """One image as the report needs it; ``load`` gives its RGB pixels (gallery images only)."""

    file_name: str
    width: int
    height: int
    anns: list[dict]
    conditions: list | None
    load: Callable[[], np.ndarray | None]
    lines: Any = None  # the image entry's line labels (synthgen/lines.py), drawn in the gallery


@dataclass
class Stats:
    images: int = 0
    instances: int = 0
    crowd: int = 0
    class_names: dict[int, str] = field(default_factory=dict)
    per_class: Counter = field(default_factory=Counter)
    per_image: Counter = field(default_factory=Counter)  # objects in an image -> images
    box_side: array = field(default_factory=lambda: array("f"))  # sqrt(w * h) of each box, pixels
    size_class: Counter = field(default_factory=Counter)  # small / medium / large by area
    visibility: array = field(default_factory=lambda: array("f"))
    truncated: int = 0
    truncation_recorded: int = 0
    conditions_recorded: int = 0  # images whose conditions are known
    clear: int = 0  # ... of which none applied
    condition_images: Counter = field(default_factory=Counter)  # name -> images it was applied to
    condition_severity: Counter = field(default_factory=Counter)  # (name, highest severity) -> images
    condition_applications: Counter = field(default_factory=Counter)  # name -> times applied (per object: objects)
    image_sizes: Counter = field(default_factory=Counter)

    def add(self, item: _Item) -> None:
        self.images += 1
        self.image_sizes[(item.width, item.height)] += 1
        objects = 0
        for a in item.anns:
            self.instances += 1
            cid = a.get("category_id") if isinstance(a.get("category_id"), (int, str)) else None
            self.per_class[cid] += 1
            if a.get("iscrowd"):
                self.crowd += 1
                continue
            objects += 1
            bbox = a.get("bbox")
            if isinstance(bbox, list) and len(bbox) == 4 and all(_num(v) for v in bbox):
                side = math.sqrt(max(float(bbox[2]) * float(bbox[3]), 0.0))
                self.box_side.append(side)
                area = a.get("area")
                side_by_area = math.sqrt(area) if _num(area) and area >= 0 else side
                self.size_class["small" if side_by_area < COCO_SMALL else "medium" if side_by_area < COCO_LARGE else "large"] += 1
            vis = a.get("visible_fraction")
            if _num(vis):
                self.visibility.append(float(vis))
            trunc = a.get("truncated")
            if isinstance(trunc, bool):
                self.truncation_recorded += 1
                self.truncated += trunc
        self.per_image[objects] += 1
        if isinstance(item.conditions, list):
            self.conditions_recorded += 1
            levels: dict[str, Any] = {}  # name -> the highest severity applied in this image
            for c in item.conditions:
                if not isinstance(c, dict) or "name" not in c:
                    continue
                name = str(c["name"]) + (" (per object)" if c.get("instance_id") is not None else "")
                self.condition_applications[name] += 1
                sev = c.get("severity") if isinstance(c.get("severity"), int) else None
                if name not in levels or (sev is not None and (levels[name] is None or sev > levels[name])):
                    levels[name] = sev
            if not levels:
                self.clear += 1
            for name, sev in levels.items():
                self.condition_images[name] += 1
                self.condition_severity[(name, sev)] += 1


# --------------------------------------------------------------------------------------------
# Reading the layouts


def _dicts(v: Any) -> list[dict]:
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


def _int(v: Any) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else 0


def spread(n: int, k: int) -> list[int]:
    """k positions spread evenly over 0..n-1 (the middle of k equal parts); all when k >= n."""
    if k >= n:
        return list(range(n))
    return [(2 * i + 1) * n // (2 * k) for i in range(k)]


def _pixels(source: Path | bytes | None | Callable[[], Path], name: str) -> Callable[[], np.ndarray | None]:
    """Loads the image as io/images reads it (EXIF orientation applied), None when unreadable.
    A callable ``source`` says where the file is, checked (io/paths): a path leading out of the
    dataset folder stops the report by name, and nothing there is read."""

    def load() -> np.ndarray | None:
        nonlocal source
        if callable(source):
            source = source()
        if source is None or (isinstance(source, Path) and not source.is_file()):
            return None
        try:
            return read_rgb(source, name)
        except AssetError:
            return None

    return load


def _metadata_index(root: Path) -> dict[str, tuple[list, list]]:
    """From a synthgen metadata.jsonl: file stem -> (conditions, [(visible_fraction, truncated)])."""
    out: dict[str, tuple[list, list]] = {}
    path = root / "metadata.jsonl"
    if not path.is_file():
        return out
    with open(path) as f:
        for line in f:
            try:
                m = json.loads(line)
            except ValueError:
                continue
            name = Path(str(m.get("file_name", m.get("name", "")))).stem
            inst = [(i.get("visible_fraction"), i.get("truncated")) for i in m.get("instances", [])]
            out[name] = (m.get("conditions", []), inst)
    return out


@dataclass
class _Listing:
    """What the report needs of a dataset, read through io/: its kind, class names, image count
    and its items in order."""

    kind: str
    names: dict[int, str]
    total: int
    items: Callable[[set[int]], Iterator[_Item]]
    coco: Any = None  # the io.coco.Coco of a COCO file (to tell synthgen's)
    skeletons: dict = field(default_factory=dict)  # category id -> 0-based keypoint skeleton pairs


def open_source(L: Layout) -> _Listing:
    if L.has_coco:
        return _coco_source(L)
    if L.yolo_yaml:
        return _yolo_source(L)
    if not L.wds_tars:  # semantic/, hf/, VOC or panoptic alone: nothing with boxes to read
        raise AssetError(f"{L.root}: report reads COCO, YOLO or WebDataset labels, and it holds {', '.join(L.describe())}: "
                         "write the run with --format coco too (`synthgen validate` checks it as it is)")
    return _wds_source(L)


def _coco_source(L: Layout) -> _Listing:
    chunked = coco_in_chunks(L.coco_file) if L.coco_file else None
    if chunked is not None:  # laid out one entry a line (a merged run's): a chunk of images at a time
        coco, total, files = chunked
        names = dict(coco.categories)
        skeletons = skeletons_from_categories(coco.data.get("categories"))
    elif L.coco_file or L.coco_parts:
        try:
            parts = [read_coco(p) for p in ([L.coco_file] if L.coco_file else L.coco_parts)]
        except DatasetError as exc:
            raise AssetError(f"{exc}; `synthgen validate` says more") from None
        coco = parts[0]
        names = {k: v for part in parts for k, v in part.categories.items()}
        skeletons = {k: v for part in parts for k, v in skeletons_from_categories(part.data.get("categories")).items()}
        total = sum(len(part.images) for part in parts)

        def files() -> Iterator:
            return iter(parts)
    else:
        coco = None
        cats = L.fragment_categories()
        names = {c["id"]: c["name"] for c in cats}
        skeletons = skeletons_from_manifest(L.manifest)
        total = int(L.manifest.get("images_done", 0))

        def files() -> Iterator:
            return (read_coco(p, categories=cats) for p in L.coco_fragments)

    real_root = resolved_root(L.images_dir)

    def items(wanted: set[int]) -> Iterator[_Item]:
        meta: dict | None = None
        for part in files():
            for iid, im in part.images.items():
                conditions = im.get("conditions")
                if isinstance(im.get("condition"), str):  # a stress suite's variant: its condition, as asked
                    cond = im["condition"]
                    conditions = [] if cond == "clean" else [{"name": cond, "severity": im.get("severity")}]
                name = str(im.get("file_name", ""))
                if conditions is None and (L.root / "metadata.jsonl").is_file():
                    if meta is None:
                        meta = _metadata_index(L.root)
                    conditions = meta.get(Path(name).stem, (None, []))[0]
                locate = (lambda part=part, im=im: image_file(L.images_dir, part.name, im, real_root)) if name else None
                yield _Item(name, _int(im.get("width")), _int(im.get("height")), part.annotations.get(iid, []),
                            conditions, _pixels(locate, name), im.get("lines"))

    return _Listing("coco", names, total, items, coco, skeletons)


def _yolo_source(L: Layout) -> _Listing:
    ds = read_yolo(L.yolo_yaml)
    try:
        raise_first([i for i in ds.issues if i.kind == "path"])  # what leads out of the dataset is never read
    except DatasetError as exc:
        raise AssetError(f"{exc}; `synthgen validate` says more") from None
    names = {i + 1: n for i, n in enumerate(ds.names or [])}

    def items(wanted: set[int]) -> Iterator[_Item]:
        meta = _metadata_index(L.root)
        for img in ds.images:
            try:
                W, H = image_size(img)
            except AssetError:
                W, H = 0, 0
            lines = read_label_lines(label_path(img)) or []
            m_conditions, m_inst = meta.get(img.stem, (None, []))
            anns = []
            for n, (_, line) in enumerate(lines):
                parsed, error, _ = parse_line(line, len(ds.names or []), ds.kpt_shape)
                if error:
                    continue
                cls, vals = parsed
                ann: dict[str, Any] = {"category_id": cls + 1, **to_annotation(vals, W, H)}
                if n < len(m_inst) and len(m_inst) == len(lines):
                    ann["visible_fraction"], ann["truncated"] = m_inst[n]
                anns.append(ann)
            yield _Item(str(L.rel(img)), W, H, anns, m_conditions, _pixels(img, str(img)))

    return _Listing("yolo", names, len(ds.images), items)


def _wds_source(L: Layout) -> _Listing:
    names = {i + 1: c for i, c in enumerate((L.manifest or {}).get("classes", []))}

    def items(wanted: set[int]) -> Iterator[_Item]:
        position = 0
        for tar in L.wds_tars:
            for key, members in read_tar(tar):
                name = f"{L.rel(tar)}:{key}"
                try:
                    im, anns = sample_labels(members, name)
                except DatasetError:
                    position += 1
                    continue
                ext = image_member(members)
                data = members[ext] if (position in wanted and ext) else None
                yield _Item(name, _int(im.get("width")), _int(im.get("height")), _dicts(anns), im.get("conditions"),
                            _pixels(data, name), im.get("lines"))
                position += 1

    return _Listing("webdataset", names, count_samples(L.wds_tars), items, skeletons=skeletons_from_manifest(L.manifest))


# --------------------------------------------------------------------------------------------
# Drawing


def draw_tile(rgb: np.ndarray | None, item: _Item, names: dict[int, str], width: int = TILE_WIDTH,
              skeletons: dict | None = None) -> np.ndarray:
    """The image at ``width`` pixels with each instance's mask, box, class name and keypoints
    (joined by its category's skeleton) and the image's lines drawn (tools/preview's drawing). Masks are checked by io/rle and decoded on the pixels as
    io/images reads them, the pixels the labels refer to."""
    import cv2

    from synthgen.tools.preview import Drawn, draw_instances

    W, H = item.width, item.height
    if rgb is None or W <= 0 or H <= 0:
        h = round(width * 0.75)
        tile = np.full((h, width, 3), 60, np.uint8)
        cv2.putText(tile, "image not found", (width // 2 - 70, h // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (230, 230, 230), 1, cv2.LINE_AA)
        return tile
    same_size = rgb.shape[:2] == (H, W)  # else the entry's size is wrong (validate says so): boxes only
    drawn = []
    for a in item.anns:
        cid = a.get("category_id")
        mask = None
        if a.get("segmentation") and same_size:
            try:
                mask = decode_segmentation(a["segmentation"], H, W)
            except MaskError:
                mask = None
        bbox = a.get("bbox")
        ok_box = isinstance(bbox, list) and len(bbox) == 4 and all(_num(v) for v in bbox)
        drawn.append(Drawn(cid if isinstance(cid, int) else 0, names.get(cid, str(cid)), mask, tuple(bbox) if ok_box else None,
                           keypoints=a.get("keypoints"), skeleton=(skeletons or {}).get(cid, ())))
    return draw_instances(rgb, drawn, width=width, font_scale=0.35, lines=item.lines if same_size else None)


def _jpeg_uri(rgb: np.ndarray, quality: int = 85) -> str:
    import cv2

    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode()


# --------------------------------------------------------------------------------------------
# Plots

INK, GRID, ACCENT = "#24292f", "#d8dee4", "#2f6fba"


def _figure(w: float, h: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=110)
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#8c959f")
    ax.tick_params(colors=INK, labelsize=9)
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def _png_uri(fig) -> str:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", metadata={"Software": None}, bbox_inches="tight")  # legends above the axes too
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def plot_classes(stats: Stats) -> str:
    from synthgen.tools.preview import class_colour

    ids = sorted(set(stats.class_names) | {k for k in stats.per_class if isinstance(k, int)})
    ids = sorted(ids, key=lambda k: -stats.per_class[k])[:40]
    labels = [stats.class_names.get(k, str(k)) for k in ids]
    counts = [stats.per_class[k] for k in ids]
    fig, ax = _figure(6.2, max(2.8, 0.5 + 0.26 * len(ids)))
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    colours = [tuple(c / 255 for c in class_colour(k)) for k in ids]
    ax.barh(range(len(ids)), counts, height=0.7 if len(ids) > 4 else 0.5, color=colours, edgecolor="#57606a", linewidth=0.5)
    ax.set_yticks(range(len(ids)), labels)
    ax.invert_yaxis()
    top = max(counts) if counts else 1
    for i, c in enumerate(counts):
        ax.text(c + top * 0.01, i, f"{c:,}", va="center", fontsize=8, color=INK)
    ax.set_xlim(0, top * 1.12 + 1)
    ax.set_xlabel("instances", fontsize=9, color=INK)
    return _png_uri(fig)


def plot_objects_per_image(stats: Stats) -> str:
    fig, ax = _figure(6.2, 2.8)
    ks = sorted(stats.per_image)
    ax.bar(ks, [stats.per_image[k] for k in ks], width=0.8, color=ACCENT)
    if ks:
        pad = max(0.0, (7 - (ks[-1] - ks[0] + 1)) / 2)  # a few bars are not drawn a page wide
        ax.set_xlim(ks[0] - 0.6 - pad, ks[-1] + 0.6 + pad)
    ax.set_xlabel("labeled objects in an image", fontsize=9, color=INK)
    ax.set_ylabel("images", fontsize=9, color=INK)
    if ks and ks[-1] - ks[0] <= 30:
        ax.set_xticks(range(ks[0], ks[-1] + 1))
    return _png_uri(fig)


def plot_box_sizes(stats: Stats) -> str:
    fig, ax = _figure(6.2, 2.8)
    sides = np.frombuffer(stats.box_side, np.float32)
    sides = sides[sides > 0]
    lo, hi = max(1.0, float(sides.min())), max(2.0, float(sides.max()))
    bins = np.geomspace(lo, hi * 1.0001, 40)
    ax.hist(sides, bins=bins, color=ACCENT)
    ax.set_xscale("log")
    from matplotlib.ticker import FixedLocator, NullFormatter

    lo_x, hi_x = lo / 1.15, hi * 1.15
    ax.set_xlim(lo_x, hi_x)
    ticks = [m * 10**e for e in range(0, 5) for m in (1, 2, 5) if lo_x <= m * 10**e <= hi_x]
    if len(ticks) < 3:  # a narrow range: finer steps
        ticks = [m * 10**e for e in range(0, 5) for m in (1, 1.5, 2, 3, 4, 5, 7) if lo_x <= m * 10**e <= hi_x]
    if len(ticks) < 3:  # narrower still
        ticks = sorted({round(float(v)) for v in np.geomspace(lo_x * 1.05, hi_x / 1.05, 4)})
    ticks = [int(t) if float(t).is_integer() else t for t in ticks]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.set_xticklabels([str(t) for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    for v, label in ((COCO_SMALL, "small | medium"), (COCO_LARGE, "medium | large")):
        if lo < v < hi:
            ax.axvline(v, color="#cf222e", linestyle="--", linewidth=0.9)
            ax.text(v, ax.get_ylim()[1] * 0.97, f" {label}", color="#cf222e", fontsize=8, va="top")
    ax.set_xlabel("box size: sqrt(width x height), pixels (log scale)", fontsize=9, color=INK)
    ax.set_ylabel("instances", fontsize=9, color=INK)
    return _png_uri(fig)


def plot_visibility(stats: Stats) -> str:
    fig, ax = _figure(6.2, 2.8)
    ax.hist(np.frombuffer(stats.visibility, np.float32), bins=np.linspace(0, 1, 21), color=ACCENT)
    ax.set_xlim(0, 1)
    ax.set_xlabel("visible fraction (1 = nothing hidden or cut off)", fontsize=9, color=INK)
    ax.set_ylabel("instances", fontsize=9, color=INK)
    return _png_uri(fig)


def _severities(stats: Stats) -> list:
    """The severity levels that occur, then None (a condition without levels) if it occurs."""
    sev = {s for (_, s) in stats.condition_severity}
    return sorted(s for s in sev if s is not None) + ([None] if None in sev else [])


def plot_conditions(stats: Stats, names: list[str]) -> str:
    """Images per condition, split by the highest severity applied; 'clear' first."""
    from matplotlib import colormaps

    rows = ["clear"] + names
    fig, ax = _figure(6.2, max(2.4, 1.0 + 0.32 * len(rows)))
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.barh([0], [stats.clear], color="#8c959f", label="none applied")
    sevs = _severities(stats)
    cmap = colormaps["YlOrRd"]
    left = np.zeros(len(names))
    for j, sev in enumerate(sevs):
        vals = np.array([stats.condition_severity[(n, sev)] for n in names], np.float64)
        colour = "#6e7781" if sev is None else cmap(0.2 + 0.75 * j / max(1, len(sevs) - 1))
        ax.barh(np.arange(1, len(rows)), vals, left=left, color=colour, label="no levels" if sev is None else f"severity {sev}")
        left += vals
    ax.set_yticks(range(len(rows)), rows)
    ax.invert_yaxis()
    ax.set_xlabel("images", fontsize=9, color=INK)
    ax.legend(fontsize=8, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=min(6, len(sevs) + 1),
              handlelength=1.2, columnspacing=1.0)
    return _png_uri(fig)


# --------------------------------------------------------------------------------------------
# The page

CSS = """
body{margin:0;background:#f6f8fa;color:#24292f;font:14px/1.45 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:24px;margin:0 0 2px}
h2{font-size:16px;margin:0 0 8px}
.sub{color:#57606a;margin:0 0 16px;word-break:break-all}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(132px,1fr));gap:10px;margin-bottom:16px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:10px 14px}
.card b{display:block;font-size:22px;font-weight:600}
.card span{color:#57606a;font-size:12px}
.card b.na{color:#8c959f}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:14px;margin-bottom:14px}
.panel{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:14px 16px;margin-bottom:14px}
.grid .panel{margin-bottom:0}
.panel img.plot{width:100%;height:auto;display:block}
.note{color:#57606a;font-size:13px;margin:4px 0 0}
.missing{color:#57606a;background:#f6f8fa;border:1px dashed #d0d7de;border-radius:6px;padding:28px;text-align:center}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{border-bottom:1px solid #eaeef2;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f6f8fa;font-weight:600}
.conds{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:14px;align-items:start}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:12px}
.gallery figure{margin:0;background:#fff;border:1px solid #d0d7de;border-radius:6px;overflow:hidden}
.gallery img{width:100%;height:auto;display:block;background:#222}
.gallery figcaption{padding:5px 8px;font-size:12px;color:#57606a;word-break:break-all}
footer{color:#8c959f;font-size:12px;margin-top:18px}
"""


def _e(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _card(value: str | None, label: str) -> str:
    if value is None:
        return f'<div class="card"><b class="na">&ndash;</b><span>{_e(label)}: not recorded</span></div>'
    return f'<div class="card"><b>{_e(value)}</b><span>{_e(label)}</span></div>'


def _panel(title: str, body: str, note: str = "") -> str:
    return f'<section class="panel"><h2>{_e(title)}</h2>{body}' + (f'<p class="note">{note}</p>' if note else "") + "</section>"


def _plot(uri: str, alt: str) -> str:
    return f'<img class="plot" alt="{_e(alt)}" src="{uri}">'


def _missing(what: str) -> str:
    return f'<div class="missing">{_e(what)}: not recorded in this dataset</div>'


def _conditions_label(conditions: list | None) -> str:
    if conditions is None:
        return ""
    parts: Counter = Counter()
    for c in conditions:
        if isinstance(c, dict) and "name" in c:
            sev = c.get("severity")
            parts[str(c["name"]) + (f" s{sev}" if isinstance(sev, int) else "") + (" (object)" if c.get("instance_id") is not None else "")] += 1
    return ", ".join(p + (f" x{n}" if n > 1 else "") for p, n in parts.items()) if parts else "clear"


def _base(recorded: int, objects: int) -> str:
    """What a card's value is computed over, when not every object: ``of 1,234 that record it``."""
    return f", of {recorded:,} instances that record it" if 0 < recorded != objects else ""


def render_html(title: str, subtitle: str, stats: Stats, gallery: list[tuple[str, str]], extra: list[str] = ()) -> str:
    s = stats
    objects = s.instances - s.crowd
    sizes = ", ".join(f"{w}x{h}" for (w, h), _ in s.image_sizes.most_common(3)) + (" ..." if len(s.image_sizes) > 3 else "")
    cards = [
        _card(f"{s.images:,}", "images"),
        _card(f"{s.instances:,}", "instances" + (f" ({s.crowd:,} crowd)" if s.crowd else "")),
        _card(f"{len(s.class_names) or len(s.per_class):,}", "classes"),
        _card(f"{objects / s.images:.2f}" if s.images else "-", "objects per image (mean)"),
        _card(f"{s.per_image.get(0, 0):,}", "images without objects"),
        _card(f"{float(np.mean(np.frombuffer(s.visibility, np.float32))):.2f}" if len(s.visibility) else None,
              "visible fraction (mean" + _base(len(s.visibility), objects) + ")"),
        _card(f"{s.truncated / s.truncation_recorded:.1%}" if s.truncation_recorded else None,
              "instances truncated" + (f" (of {s.truncation_recorded:,} that record it)" if 0 < s.truncation_recorded != objects else "")),
        _card(sizes or "-", "image size" + ("s" if len(s.image_sizes) > 1 else "")),
    ]
    parts = [f'<header><h1>{_e(title)}</h1><p class="sub">{_e(subtitle)}</p></header>', '<div class="cards">' + "".join(cards) + "</div>"]

    panels = []
    if s.instances:
        ids = sorted(set(s.class_names) | {k for k in s.per_class if isinstance(k, int)}, key=lambda k: (-s.per_class[k], str(k)))
        text = " &middot; ".join(f"{_e(s.class_names.get(k, k))} {s.per_class[k]:,}" for k in ids[:40]) + (" ..." if len(ids) > 40 else "")
        panels.append(_panel("Instances per class", _plot(plot_classes(s), "instances per class"), text))
    else:
        panels.append(_panel("Instances per class", '<div class="missing">no instances</div>'))
    panels.append(_panel("Objects per image", _plot(plot_objects_per_image(s), "objects per image") if s.images else _missing("objects")))
    if len(s.box_side):
        sc = s.size_class
        total = sum(sc.values()) or 1
        note = " &middot; ".join(f"{k} {sc[k]:,} ({sc[k] / total:.0%})" for k in ("small", "medium", "large")) + " (COCO size classes by area)"
        panels.append(_panel("Box sizes", _plot(plot_box_sizes(s), "box sizes"), note))
    else:
        panels.append(_panel("Box sizes", _missing("boxes")))
    if len(s.visibility):
        trunc = (f"{s.truncated:,} of {s.truncation_recorded:,} instances ({s.truncated / s.truncation_recorded:.1%}) truncated by the image border"
                 if s.truncation_recorded else "truncation not recorded")
        panels.append(_panel("Visibility", _plot(plot_visibility(s), "visible fraction"), _e(trunc)))
    else:
        trunc = f'<p class="note">{s.truncated / s.truncation_recorded:.1%} of instances truncated</p>' if s.truncation_recorded else ""
        panels.append(_panel("Visibility", _missing("visible_fraction") + trunc))
    parts.append('<div class="grid">' + "".join(panels) + "</div>")

    if s.conditions_recorded:
        names = sorted(s.condition_images, key=lambda n: (-s.condition_images[n], n))
        sevs = _severities(s)
        per_object = any(n.endswith("(per object)") for n in names)
        head = ("<tr><th>condition</th><th>images</th><th>share</th>"
                + "".join(f"<th>{'sev. ' + str(v) if v is not None else 'no levels'}</th>" for v in sevs)
                + ("<th>objects</th>" if per_object else "") + "</tr>")
        empty = "<td></td>" * (len(sevs) + per_object)
        rows = [f"<tr><td>clear (none applied)</td><td>{s.clear:,}</td><td>{s.clear / s.conditions_recorded:.1%}</td>{empty}</tr>"]
        for n in names:
            cells = "".join(f"<td>{s.condition_severity[(n, v)]:,}</td>" if s.condition_severity[(n, v)] else "<td></td>" for v in sevs)
            if per_object:
                cells += f"<td>{s.condition_applications[n]:,}</td>" if n.endswith("(per object)") else "<td></td>"
            share = s.condition_images[n] / s.conditions_recorded
            rows.append(f"<tr><td>{_e(n)}</td><td>{s.condition_images[n]:,}</td><td>{share:.1%}</td>{cells}</tr>")
        table = "<table>" + head + "".join(rows) + "</table>"
        note = ("images a condition was applied to, by severity level (an image counts once, at the highest level "
                "applied in it)" + ("; objects: how many objects a per-object condition was applied to" if per_object else ""))
        chart = _plot(plot_conditions(s, names), "conditions") if names else '<div class="missing">no condition was applied to any image</div>'
        body = f'<div class="conds"><div>{table}<p class="note">{_e(note)}</p></div><div>{chart}</div></div>'
        parts.append(_panel(f"Conditions ({s.conditions_recorded:,} images recorded)", body))
    else:
        parts.append(_panel("Conditions", _missing("conditions (effects applied per image)")))

    parts += extra  # sections of one kind of dataset (clips: tools/clip_report)
    if gallery:
        figs = "".join(f'<figure><img alt="{_e(cap)}" src="{uri}"><figcaption>{_e(cap)}</figcaption></figure>' for uri, cap in gallery)
        parts.append(_panel(f"Gallery ({len(gallery)} images spread over the dataset)", f'<div class="gallery">{figs}</div>',
                            "masks tinted and outlined, boxes and class names drawn"))
    parts.append("<footer>synthgen report &middot; everything in this file is inline; it needs no network</footer>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head>\n<body><main>\n" + "\n".join(parts) + "\n</main></body></html>\n"
    )


@dataclass(frozen=True)
class ReportSummary:
    path: Path
    images: int
    instances: int
    gallery: int
    bytes: int
    seconds: float

    def line(self) -> str:
        return (f"wrote {self.path} ({self.images:,} images, {self.instances:,} instances, {self.gallery} gallery images, "
                f"{self.bytes / 1e6:.1f} MB) in {self.seconds:.1f} s")


def suite_spread(scenes: int, variants: int, k: int) -> list[int]:
    """k gallery positions of a stress suite (image = scene * variants + variant), spread over
    the variants (conditions x severities) and over the scenes."""
    vs = spread(variants, k) if k <= variants else [i % variants for i in range(k)]
    ss = spread(scenes, k) if k <= scenes else [i % scenes for i in range(k)]
    return sorted({s * variants + v for s, v in zip(ss, vs)})


def _gallery_positions(layout: Layout, total: int, k: int) -> list[int]:
    suite = (layout.manifest or {}).get("suite")
    if isinstance(suite, dict) and isinstance(suite.get("conditions"), list) and isinstance(suite.get("severities"), list):
        V = 1 + len(suite["conditions"]) * len(suite["severities"])
        if total and total % V == 0:
            return suite_spread(total // V, V, k)
    return spread(total, k)


def build_report(path: str | Path, images: str | Path | None = None, gallery: int = 12, title: str | None = None,
                 progress: Callable[[int], None] | None = None) -> tuple[str, Stats]:
    """The report page of the dataset at PATH, and its statistics (``progress(1)`` per image read)."""
    layout = detect_layout(path, images)
    src = open_source(layout)
    stats = Stats(class_names=dict(src.names))
    wanted = set(_gallery_positions(layout, src.total, gallery))
    tiles: list[tuple[str, str]] = []
    from synthgen.tools.semantic_view import ReportSemantic

    semantic = ReportSemantic.find(layout.root)  # class maps beside the dataset: shares and overlays
    for pos, item in enumerate(src.items(wanted)):
        if progress is not None:
            progress(1)
        stats.add(item)
        if pos in wanted:
            rgb = item.load()
            tile = draw_tile(rgb, item, src.names, skeletons=src.skeletons)
            n = sum(1 for a in item.anns if not a.get("iscrowd"))
            cap = f"{item.file_name} · {n} object{'s' if n != 1 else ''}"
            cond = _conditions_label(item.conditions)
            tiles.append((_jpeg_uri(tile), cap + (f" · {cond}" if cond else "")))
            if semantic is not None:
                semantic.add(rgb, item.file_name, TILE_WIDTH)
    extra = []
    if src.coco is not None and src.kind == "coco":
        from synthgen.tools.clip_report import clip_panels, is_clips

        if is_clips(src.coco.data):
            real_root = resolved_root(layout.images_dir)

            def load(im: dict) -> np.ndarray | None:
                return _pixels(lambda: image_file(layout.images_dir, src.coco.name, im, real_root), im["file_name"])()

            extra = clip_panels(src.coco.data, src.coco.annotations, load, src.names, _figure)
    if semantic is not None:  # (title, HTML, note): tools/semantic_view's panel
        title_, body, note = semantic.panel()
        extra.append(_panel(title_, body, _e(note)))
    synth = is_synthgen(layout.manifest, src.coco)
    sub = f"{Path(path).resolve()} · {', '.join(layout.describe())}" + (" · made by synthgen" if synth else "")
    name = Path(path).resolve().name if Path(path).is_dir() else Path(path).resolve().parent.name
    return render_html(title or f"Dataset report: {name}", sub, stats, tiles, extra), stats


def write_report(path: str | Path, output: str | Path, images: str | Path | None = None, gallery: int = 12,
                 title: str | None = None, progress: Callable[[int], None] | None = None) -> ReportSummary:
    t0 = time.perf_counter()
    page, stats = build_report(path, images=images, gallery=gallery, title=title, progress=progress)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = page.encode()
    atomic_write(out, data)
    return ReportSummary(out, stats.images, stats.instances, min(gallery, stats.images), len(data), time.perf_counter() - t0)
