"""Pascal VOC datasets: ``Annotations/<name>.xml`` (size, objects with name, truncated,
difficult and a 1-based inclusive bndbox), ``JPEGImages/``, the indexed ``SegmentationClass/``
and ``SegmentationObject/`` PNGs (read with io/semantic's ``read_class_map``) and the
``ImageSets`` lists. Errors name the file and the object."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from synthgen.io.issues import DatasetError, Issue


@dataclass(frozen=True)
class VocObject:
    name: str
    bbox: tuple[int, int, int, int]  # COCO [x, y, w, h] in whole pixels: x = xmin - 1, w = xmax - xmin + 1
    truncated: bool
    difficult: bool


@dataclass(frozen=True)
class VocAnnotation:
    path: Path
    filename: str
    width: int
    height: int
    objects: tuple[VocObject, ...]


def _int(node: ET.Element | None, tag: str, where: str) -> int:
    text = node.findtext(tag) if node is not None else None
    try:
        return int(round(float(text)))
    except (TypeError, ValueError):
        raise DatasetError(Issue("format", where, f"<{tag}> is {text!r}, not a number")) from None


def read_voc_xml(path: Path, name: str | None = None) -> VocAnnotation:
    name = name or str(path)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise DatasetError(Issue("format", name, f"is not readable VOC XML ({exc})")) from None
    size = root.find("size")
    W, H = _int(size, "width", f"{name} <size>"), _int(size, "height", f"{name} <size>")
    objects = []
    for k, obj in enumerate(root.findall("object"), 1):
        where = f"{name} object {k}"
        box = obj.find("bndbox")
        x0, y0 = _int(box, "xmin", where), _int(box, "ymin", where)
        x1, y1 = _int(box, "xmax", where), _int(box, "ymax", where)
        objects.append(VocObject(
            name=obj.findtext("name") or "",
            bbox=(x0 - 1, y0 - 1, x1 - x0 + 1, y1 - y0 + 1),
            truncated=(obj.findtext("truncated") or "0").strip() == "1",
            difficult=(obj.findtext("difficult") or "0").strip() == "1",
        ))
    return VocAnnotation(Path(path), root.findtext("filename") or "", W, H, tuple(objects))


def read_image_set(path: Path) -> list[str]:
    """The image stems of an ImageSets list, one a line."""
    return [line.split()[0] for line in Path(path).read_text().splitlines() if line.strip()]
