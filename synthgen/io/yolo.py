"""YOLO datasets by Ultralytics' own layout rules.

    data.yaml   ``names`` (a list, or a {0: name, ...} mapping; ``nc`` alone gives "0", "1", ...),
                ``path`` (the dataset root; relative to the yaml's folder, or absolute),
                ``train`` / ``val`` / ``test``: each a folder of images, a .txt file listing
                image paths (``./x.jpg``: beside the list), or a list of those. A name starting with ``../`` that is not
                there is also tried without it (Roboflow's exports say ``../train/images``).
                With none of the three, every image under ``images/`` beside the yaml.
                All of it must lie inside the yaml's folder (io/paths): what leads out is an issue.
    labels      the image path with its last ``/images/`` replaced by ``/labels/`` and its
                extension by ``.txt``: ``train/images/a.jpg`` -> ``train/labels/a.txt``.
    lines       ``class cx cy w h`` (a box) or ``class x1 y1 x2 y2 ...`` (a polygon, >= 3
                points), normalised to [0, 1] of the image as displayed (see io/images).

``read_yolo`` collects what it finds wrong as issues; ``parse_line`` checks one label line.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synthgen.io.images import IMAGE_EXTS
from synthgen.io.issues import DatasetError, Issue
from synthgen.io.paths import is_inside, outside, resolved_root
from synthgen.io.rle import fmt

YAML_NAMES = ("data.yaml", "dataset.yaml")
EPS = 1e-6  # float slack for normalised values


def find_data_yaml(root: Path) -> Path | None:
    return next((Path(root) / n for n in YAML_NAMES if (Path(root) / n).is_file()), None)


def names_of(doc: Any) -> list[str] | None:
    """Class names from a data.yaml document, or None when it has none usable."""
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


def _images_under(folder: Path) -> list[Path]:
    return [f for f in sorted(folder.rglob("*")) if f.suffix.lower() in IMAGE_EXTS and f.is_file()]


def image_files(yaml_path: Path, doc: dict, name: str | None = None) -> tuple[list[Path], list[str], list[Issue]]:
    """The images a data.yaml names (train/val/test: folders or list files), notes, and issues.

    Everything must lie inside the yaml's folder (io/paths): a ``path``, an entry, a list-file
    line or an image (or its label file) that is a symlink leading out of it is never read; it
    is an issue of kind ``"path"`` naming the yaml or list file (and line)."""
    name = name or str(yaml_path)
    notes: list[str] = []
    issues: list[Issue] = []
    ydir = yaml_path.parent
    real_root = resolved_root(ydir)
    root = doc.get("path")
    bases = [ydir]
    if isinstance(root, str) and root:
        given = ydir / root  # an absolute `path` replaces ydir
        if not is_inside(ydir, given, real_root):
            bases.append(given)  # only to name what is found there alone: nothing outside is read
            notes.append(f"data.yaml `path` is {root}, outside the folder it is in ({ydir}): synthgen reads only "
                         "inside that folder (Ultralytics would look there)")
        elif Path(root).is_absolute():
            bases.append(given)
        else:
            bases.insert(0, given)
    entries = []
    for key in ("train", "val", "test"):
        v = doc.get(key)
        entries += [(key, e) for e in (v if isinstance(v, list) else ([v] if isinstance(v, str) else [])) if isinstance(e, str)]
    files: dict[Path, None] = {}

    def add(path: Path, said: str, where: str) -> None:
        issue = outside(ydir, path, said, where, real_root)
        if issue is not None:
            issues.append(issue)
        else:
            files[path] = None

    for key, entry in entries:
        tries = [entry] + ([entry[3:]] if entry.startswith("../") else [])
        found = [(b, e) for e in tries for b in bases if (b / e).exists()]
        safe = next(((b, e) for b, e in found if is_inside(ydir, b / e, real_root)), None)
        if safe is None:
            if found:
                issues.append(outside(ydir, found[0][0] / found[0][1], entry, f"{name} {key}", real_root))
            else:
                notes.append(f"data.yaml names {entry!r}, which is not there")
            continue
        base, e = safe
        p = base / e
        if p.is_dir():
            for f in _images_under(p):
                add(f, str(f.relative_to(p)), f"{name} {key} {entry}")
        else:
            for n, line in enumerate(p.read_text().splitlines(), 1):
                if line.strip():
                    f = Path(line.strip())
                    # "./x.jpg" is relative to the list file, as Ultralytics reads it
                    add(f if f.is_absolute() else (p.parent if line.strip().startswith("./") else base) / f, line.strip(), f"{p}:{n}")
    if not entries and (ydir / "images").is_dir():
        for f in _images_under(ydir / "images"):
            add(f, str(f.relative_to(ydir)), name)
    for f in list(files):
        label = label_path(f)
        if label.exists():
            issue = outside(ydir, label, str(label), f"{name}: label file of {f}", real_root)
            if issue is not None:
                issues.append(issue)
                del files[f]
    return list(files), notes, issues


def label_path(image: Path) -> Path:
    """Ultralytics' rule: the last /images/ of the path becomes /labels/, the suffix .txt."""
    s = str(image)
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    if sa in s:
        s = sb.join(s.rsplit(sa, 1))
    return Path(s.rsplit(".", 1)[0] + ".txt")


@dataclass
class Yolo:
    yaml_path: Path
    names: list[str] | None  # None when data.yaml has no usable names (an issue says why)
    images: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    kpt_shape: tuple[int, int] | None = None  # pose datasets: (points per line, 2 or 3 values each)


def kpt_shape_of(doc: Any) -> tuple[int, int] | None:
    """data.yaml's ``kpt_shape`` ([points, 2 or 3]) as a tuple, or None."""
    k = doc.get("kpt_shape") if isinstance(doc, dict) else None
    if isinstance(k, list) and len(k) == 2 and all(isinstance(v, int) for v in k) and k[0] > 0 and k[1] in (2, 3):
        return k[0], k[1]
    return None


def read_yolo(yaml_path: Path, name: str | None = None) -> Yolo:
    """The dataset a data.yaml describes: class names and image files, tolerant."""
    import yaml

    name = name or str(yaml_path)
    try:
        doc = yaml.safe_load(Path(yaml_path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        return Yolo(yaml_path, None, issues=[Issue("format", name, f"not readable YAML ({exc.__class__.__name__})")])
    names = names_of(doc)
    if names is None:
        return Yolo(yaml_path, None, issues=[Issue("format", name, "no class names: `names` must be a list or a {0: name, 1: ...} mapping")])
    issues = []
    if isinstance(doc.get("nc"), int) and doc["nc"] != len(names):
        issues.append(Issue("format", name, f"nc is {doc['nc']} but there are {len(names)} names"))
    files, notes, path_issues = image_files(Path(yaml_path), doc, name)
    return Yolo(Path(yaml_path), names, files, notes, issues + path_issues, kpt_shape_of(doc))


def _pose_points(vals: list[str], kpt_shape: tuple[int, int]) -> str | None:
    """What is wrong with a pose line's points (``vals`` after the box), or None."""
    k, d = kpt_shape
    if len(vals) != k * d:
        return f"{4 + len(vals)} values: expected 4 (box) + {k} x {d} (kpt_shape) for a pose line"
    try:
        nums = [float(v) for v in vals]
    except ValueError:
        return "a keypoint value is not a number"
    for i in range(k):
        x, y, v = *nums[i * d : i * d + 2], (nums[i * d + 2] if d == 3 else 2)
        if not (0 <= x <= 1 + EPS and 0 <= y <= 1 + EPS) or v not in (0, 1, 2):
            return f"keypoint {i} ({fmt([x, y])}, v {fmt(v)}) is not normalised or its v is not 0, 1 or 2"
    return None


def parse_line(line: str, nc: int, kpt_shape: tuple[int, int] | None = None) -> tuple[tuple[int, list[float]] | None, str | None, str]:
    """((class, values), None, "") or (None, error, problem kind) for one label line; with
    ``kpt_shape`` (a pose dataset) the values are the box, after the points are checked."""
    parts = line.split()
    if kpt_shape is not None and len(parts) > 5:
        error = _pose_points(parts[5:], kpt_shape)
        if error:
            return None, error, "yolo_line"
        parts = parts[:5]
    try:
        cls = int(parts[0])
    except ValueError:
        return None, f"class {parts[0]!r} is not an integer", "yolo_line"
    if not 0 <= cls < nc:
        return None, f"class {cls} is not in data.yaml names (0..{nc - 1})", "yolo_line"
    vals = parts[1:]
    if not (len(vals) == 4 or (len(vals) >= 6 and len(vals) % 2 == 0)):
        return None, f"{len(vals)} values: expected 4 (box) or an even number >= 6 (polygon)", "yolo_line"
    try:
        nums = [float(v) for v in vals]
    except ValueError:
        return None, "a value is not a number", "yolo_line"
    bad = [v for v in nums if not (math.isfinite(v) and -EPS <= v <= 1 + EPS)]
    if bad:
        return None, f"value {fmt(bad[0])} is not normalised to [0, 1]", "yolo_line"
    if len(nums) == 4:
        cx, cy, w, h = nums
        if w <= 0 or h <= 0:
            return None, "box has no width or height", "yolo_line"
        if cx - w / 2 < -EPS or cy - h / 2 < -EPS or cx + w / 2 > 1 + EPS or cy + h / 2 > 1 + EPS:
            return None, f"box {fmt(nums)} leaves the image", "out_of_bounds"
    return (cls, nums), None, ""


def read_label_lines(path: Path) -> list[tuple[int, str]] | None:
    """(line number, text) of the non-blank lines of a label file; None when there is none."""
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    return [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def read_labels(path: Path, nc: int, kpt_shape: tuple[int, int] | None = None) -> list[tuple[int, list[float]] | None] | None:
    """Parsed lines of a label file (None for malformed ones), or None when there is no file."""
    lines = read_label_lines(path)
    return None if lines is None else [parse_line(line, nc, kpt_shape)[0] for _, line in lines]


def read_labels_strict(path: Path, nc: int, kpt_shape: tuple[int, int] | None = None) -> list[tuple[int, int, list[float]]]:
    """(line number, class, values) of every line; DatasetError naming file:line at the first
    bad one. No label file: no objects."""
    out = []
    for n, line in read_label_lines(path) or []:
        parsed, error, kind = parse_line(line, nc, kpt_shape)
        if error:
            raise DatasetError(Issue(kind, f"{path}:{n}", f"{error}: {line.strip()[:80]!r}"))
        out.append((n, *parsed))
    return out


def to_annotation(vals: list[float], W: int, H: int) -> dict[str, Any]:
    """A label line's values as COCO fields in pixels: ``bbox``, and for a polygon its
    ``segmentation`` ([x1, y1, ...]) and ``area`` (the polygon's)."""
    if len(vals) == 4:
        cx, cy, w, h = vals
        return {"bbox": [(cx - w / 2) * W, (cy - h / 2) * H, w * W, h * H]}
    poly = [v * (W if i % 2 == 0 else H) for i, v in enumerate(vals)]
    xs, ys = poly[0::2], poly[1::2]
    x0, y0 = min(xs), min(ys)
    xy = np.asarray(poly, np.float64).reshape(-1, 2)
    area = float(abs(np.dot(xy[:, 0], np.roll(xy[:, 1], 1)) - np.dot(xy[:, 1], np.roll(xy[:, 0], 1))) / 2)
    return {"bbox": [x0, y0, max(xs) - x0, max(ys) - y0], "segmentation": [poly], "area": area}
