"""Keypoint schemas and sidecars: what the points of a class are called, and where they are.

A class folder may hold ``keypoints.yaml``::

    names: [left_hand, right_hand, head]        # in order: the order written
    skeleton: [[head, left_hand], [head, right_hand]]
    flip: [[left_hand, right_hand]]              # swapped when the object is mirrored
    sigmas: {head: 0.03}                         # optional: OKS sigma per name, for `evaluate`

and a cutout ``car_01.png`` may have ``car_01.keypoints.json`` beside it: ``{"name": [x, y]}``
in the original image's pixel coordinates, COCO style (the top-left pixel covers [0, 1) x
[0, 1), so its centre is 0.5, 0.5). A name left out is unlabeled. Outputs use the same
convention. Pure data and arithmetic: nothing here knows a scene or a frame.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from synthgen.errors import AssetError
from synthgen.io.text import DuplicateKey, read_utf8, unique_keys

SCHEMA_FILE = "keypoints.yaml"
SIDECAR_SUFFIX = ".keypoints"  # car_01.keypoints.json beside car_01.png
# libyaml's parser where PyYAML has it: the same documents (same safe constructor), read ~8x
# faster; every run reads the schemas of all classes when it loads its assets
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Schema:
    """The keypoints of one class."""

    names: tuple[str, ...]
    skeleton: tuple[tuple[int, int], ...]  # 0-based index pairs
    flip: tuple[int, ...]  # flip[i]: the index whose point becomes point i when mirrored
    sigmas: tuple[tuple[str, float], ...] = ()  # (name, OKS sigma) given by the schema; others: evaluate's default

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"names": list(self.names), "skeleton": [list(p) for p in self.skeleton], "flip": list(self.flip)}
        if self.sigmas:  # only when given: the manifests of schemas without sigmas stay as they were
            out["sigmas"] = dict(self.sigmas)
        return out


def _indices(path: Path, key: str, pairs: Any, names: tuple[str, ...]) -> list[tuple[int, int]]:
    if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        raise AssetError(f"{path}: {key} must be a list of [name, name] pairs")
    out = []
    for a, b in pairs:
        for n in (a, b):
            if n not in names:
                raise AssetError(f"{path}: {key} names {n!r}, which is not in names: {', '.join(names)}")
        out.append((names.index(a), names.index(b)))
    return out


def load_schema(path: Path) -> Schema:
    """Read one ``keypoints.yaml``, or raise AssetError naming the file and the key."""
    try:
        doc = yaml.load(read_utf8(path), Loader=_LOADER)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise AssetError(f"{path}: cannot read keypoint schema: {exc}") from exc
    if not isinstance(doc, dict) or set(doc) - {"names", "skeleton", "flip", "sigmas"}:
        raise AssetError(f"{path}: expected a mapping with keys names, skeleton, flip (and optionally sigmas)")
    names = doc.get("names")
    for i, n in enumerate(names if isinstance(names, list) else []):
        if isinstance(n, str) and not n.strip():
            raise AssetError(f"{path}: names[{i}] = {n!r} is not a keypoint name")
        if isinstance(n, str) and n != n.strip():  # a sidecar's "right" would not match "right "
            raise AssetError(f"{path}: names[{i}] = {n!r} has surrounding whitespace; write {n.strip()!r}")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise AssetError(f"{path}: names must be a non-empty list of distinct strings")
    names_t = tuple(names)
    skeleton = _indices(path, "skeleton", doc.get("skeleton") or [], names_t)
    for i, (a, b) in enumerate(skeleton):
        if a == b:
            raise AssetError(f"{path}: skeleton[{i}] joins {names_t[a]!r} to itself; an edge joins two points")
    flip = list(range(len(names_t)))
    for a, b in _indices(path, "flip", doc.get("flip") or [], names_t):
        if flip[a] != a or flip[b] != b or a == b:
            raise AssetError(f"{path}: flip pairs {names_t[a]!r} and {names_t[b]!r}: each name may be in one pair only")
        flip[a], flip[b] = b, a
    sigmas = doc.get("sigmas") or {}
    if not isinstance(sigmas, dict):
        raise AssetError(f"{path}: sigmas must be a mapping {{name: positive number}}")
    for n, v in sigmas.items():
        if n not in names_t:
            raise AssetError(f"{path}: sigmas names {n!r}, which is not in names: {', '.join(names_t)}")
        if not (isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 10):
            raise AssetError(f"{path}: sigmas: {n} must be a positive number (COCO's run 0.025..0.107), got {v!r}")
    return Schema(names_t, tuple(skeleton), tuple(flip), tuple((n, float(sigmas[n])) for n in names_t if n in sigmas))


def load_schemas(objects_root: Path, classes: tuple[str, ...] | list[str]) -> dict[str, Schema]:
    """The schemas of the classes that have one (a class without a folder has none)."""
    out = {}
    for c in classes:
        path = Path(objects_root) / c / SCHEMA_FILE
        if path.is_file():
            out[c] = load_schema(path)
    return out


def sidecar_path(image: Path) -> Path:
    return image.with_name(image.stem + SIDECAR_SUFFIX + ".json")


def load_points(path: Path, schema: Schema | None, label: str, size_wh: tuple[int, int] | None = None) -> np.ndarray:
    """The points of one sidecar as an (n, 2) float array in COCO pixel coordinates of the
    original image, NaN for a name left out. ``size_wh``: the image's size; a point outside it
    (0..width, 0..height) is refused, as no pixel of the cutout is there."""
    if schema is None:
        raise AssetError(f"{path}: class {label!r} has no {SCHEMA_FILE} in its folder; add one that names these points")
    try:
        doc = json.loads(read_utf8(path), object_pairs_hook=unique_keys)
    except DuplicateKey as exc:
        raise AssetError(f"{path}: {exc.args[0]!r} is given twice; give each point once") from exc
    except (OSError, ValueError) as exc:
        raise AssetError(f"{path}: cannot read keypoints: {exc}") from exc
    if not isinstance(doc, dict):
        raise AssetError(f"{path}: expected an object {{name: [x, y]}}")
    pts = np.full((len(schema.names), 2), np.nan)
    for name, xy in doc.items():
        if name not in schema.names:
            raise AssetError(f"{path}: {name!r} is not a keypoint of {label}; allowed: {', '.join(schema.names)}")
        if not (isinstance(xy, list) and len(xy) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in xy)):
            raise AssetError(f"{path}: {name} must be [x, y] (two numbers), got {xy!r}")
        if size_wh is not None and not (0 <= xy[0] <= size_wh[0] and 0 <= xy[1] <= size_wh[1]):
            raise AssetError(f"{path}: {name} {xy!r} lies outside the {size_wh[0]}x{size_wh[1]} image "
                             f"(x in 0..{size_wh[0]}, y in 0..{size_wh[1]}: COCO pixel coordinates of the cutout's own file)")
        pts[schema.names.index(name)] = xy
    return pts


def apply_matrix(points: np.ndarray, M: np.ndarray) -> np.ndarray:
    """(n, 2) pixel-index points through a 3x3 matrix (NaN stays NaN)."""
    h = np.hstack([points, np.ones((len(points), 1))]) @ np.asarray(M, np.float64).T
    return h[:, :2] / h[:, 2:3]


@dataclass(frozen=True)
class PoseLayout:
    """One keypoint row for every class, as YOLO pose needs: each class with a schema owns the
    slots ``offset .. offset + len(names)``, classes in order; other slots are written 0 0 0."""

    offsets: dict[str, int]
    size: int  # kpt_shape[0]
    flip_idx: tuple[int, ...]


def pose_layout(classes: tuple[str, ...] | list[str], schemas: dict[str, Schema]) -> PoseLayout:
    offsets, flip_idx = {}, []
    for c in classes:
        if c in schemas:
            offsets[c] = len(flip_idx)
            flip_idx += [offsets[c] + i for i in schemas[c].flip]
    return PoseLayout(offsets, len(flip_idx), tuple(flip_idx))


def manifest_entry(objects_root: Path, classes: tuple[str, ...] | list[str], on: bool, yolo_task: str) -> dict[str, Any]:
    """What a run's manifest records of its keypoints, for the merge step to write categories
    and data.yaml (nothing when they are off)."""
    if not on:
        return {}
    schemas = {c: s.to_dict() for c, s in load_schemas(objects_root, classes).items()}
    return {"keypoints": schemas, "yolo_task": yolo_task}
