"""Semantic segmentation maps as synthgen writes them: ``semantic/<name>.png`` (a palette PNG
whose values are class indices) and ``semantic_classes.json`` (index, name, colour; the ignore
index; with background classes, ``isthing`` per class: 0 marks a background class). Errors name
the file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from synthgen.io.coco import load_json
from synthgen.io.issues import DatasetError, Issue


@dataclass(frozen=True)
class SemanticClasses:
    names: dict[int, str]  # index -> name, 0 = background
    colors: dict[int, tuple[int, int, int]]
    ignore_index: int | None
    ignored: tuple[str, ...]  # what the ignore index marks (output.semantic_ignore)
    stuff: frozenset[int] = frozenset()  # indices of background classes (isthing 0, not 0 or the ignore index)


def read_class_map(path: Path) -> np.ndarray:
    """H x W uint8 class indices of a semantic PNG (palette or greyscale: the stored values,
    never the colours)."""
    try:
        with Image.open(path) as img:
            if img.mode not in ("P", "L"):
                raise DatasetError(Issue("format", str(path), f"is a {img.mode} image; a class map is a palette (P) or greyscale (L) PNG"))
            return np.asarray(img)
    except OSError as exc:
        raise DatasetError(Issue("format", str(path), f"cannot be read as an image ({exc})")) from exc


def read_semantic_classes(path: Path, name: str | None = None) -> SemanticClasses:
    name = name or str(path)
    doc = load_json(path, name)
    rows = doc.get("classes") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise DatasetError(Issue("format", name, "has no 'classes' list"))
    names, colors, stuff = {}, {}, set()
    for n, row in enumerate(rows):
        if not (isinstance(row, dict) and isinstance(row.get("index"), int) and isinstance(row.get("name"), str)):
            raise DatasetError(Issue("format", f"{name} classes[{n}]", f"{row!r} is not {{index: int, name: str, color: [r, g, b]}}"))
        if row["index"] in names:
            raise DatasetError(Issue("duplicate_id", f"{name} classes[{n}]", f"index {row['index']} is listed twice"))
        names[row["index"]] = row["name"]
        colors[row["index"]] = tuple(row.get("color") or (0, 0, 0))
        if row.get("isthing") == 0:
            stuff.add(row["index"])
    ignore = doc.get("ignore_index")
    ignore = ignore if isinstance(ignore, int) else None
    return SemanticClasses(names, colors, ignore, tuple(doc.get("ignored") or ()), frozenset(stuff - {0, ignore}))
