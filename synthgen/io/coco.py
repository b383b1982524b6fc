"""COCO instances files: read, index by image, and name what is wrong.

``read_coco`` reads an annotations file (or one of synthgen's shard fragments, which carry
images and annotations only) into a :class:`Coco`: categories by id, image entries by id,
annotations grouped by image, all in file order. It is tolerant: entries without ids,
duplicate ids, annotations of unknown images or categories are recorded as issues (naming the
file and the id) and left out or kept as ``validate`` needs; ``Coco.issues`` lists them and
``raise_first(coco.issues)`` stops a tool at the first. A file that is not JSON or not COCO at
all raises :class:`DatasetError` naming it. Masks go through :mod:`synthgen.io.rle`, checked.
"""

from __future__ import annotations

import json
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synthgen.io.issues import DatasetError, Issue
from synthgen.io.paths import inside
from synthgen.io.rle import (
    MaskError,
    check_segmentation,
    decode_segmentation,
    fmt,
    is_empty,
    is_number,
)

COCO_KEYS = ("images", "annotations", "categories")


def id_order(k: Any) -> tuple:
    """Sort key for ids that are ints or strings: ints first, by value."""
    return (isinstance(k, str), k)


class IdSet:
    """A set of ids (ints or strings) that holds the ints arriving in increasing order, as a
    run's fragments list them, in an array of 8 bytes each: a set of Python ints costs ~60
    bytes an id, gigabytes over a run of millions of images. Others go to a set."""

    def __init__(self) -> None:
        self.rising = array("q")
        self.others: set = set()

    def __contains__(self, k: Any) -> bool:
        if k in self.others:
            return True
        if isinstance(k, int) and self.rising and self.rising[0] <= k <= self.rising[-1]:
            return self.rising[bisect_left(self.rising, k)] == k
        return False

    def add(self, k: Any) -> None:
        if isinstance(k, int) and -(2**63) <= k < 2**63 and (not self.rising or k > self.rising[-1]):
            self.rising.append(k)
        else:
            self.others.add(k)


@dataclass
class SeenIds:
    """Image and annotation ids across several files of one dataset (a run's fragments)."""

    images: IdSet = field(default_factory=IdSet)
    annotations: IdSet = field(default_factory=IdSet)


@dataclass
class Coco:
    path: Path
    name: str  # how messages name the file
    info: dict | None
    categories: dict[Any, str]  # id -> name
    images: dict[Any, dict]  # id -> image entry, in file order
    annotations: dict[Any, list[dict]]  # image id -> its annotations, in file order
    issues: list[Issue] = field(default_factory=list)
    data: dict = field(default_factory=dict, repr=False)  # the file as read (for pycocotools' COCO)

    @property
    def num_annotations(self) -> int:
        return sum(len(v) for v in self.annotations.values())

    def category_names(self) -> tuple[str, ...]:
        """Names in id order, each once."""
        return tuple(dict.fromkeys(self.categories[k] for k in sorted(self.categories, key=id_order)))


def load_json(path: Path, name: str | None = None) -> Any:
    name = name or str(path)
    try:
        return json.loads(Path(path).read_bytes())  # UTF-8 (BOM or not), -16 or -32 as JSON allows, whatever the locale
    except OSError as exc:
        raise DatasetError(Issue("format", name, f"cannot be read ({exc.strerror or exc})")) from exc
    except ValueError as exc:
        raise DatasetError(Issue("format", name, f"is not valid JSON ({exc})")) from exc


def read_coco(path: Path, name: str | None = None, categories: list[dict] | None = None,
              seen: SeenIds | None = None) -> Coco:
    """The COCO file at ``path``. With ``categories``, a shard fragment (images and annotations
    only) under those categories. DatasetError when it is no COCO file at all."""
    name = name or str(path)
    data = load_json(path, name)
    if categories is not None:
        if not (isinstance(data, dict) and isinstance(data.get("images"), list) and isinstance(data.get("annotations"), list)):
            raise DatasetError(Issue("format", name, "not a COCO shard fragment (needs lists `images` and `annotations`)"))
        data = {**data, "categories": categories}
    elif not (isinstance(data, dict) and all(isinstance(data.get(k), list) for k in COCO_KEYS)):
        raise DatasetError(Issue("format", name, "not a COCO instances file: needs lists `images`, `annotations` and `categories`"))
    return index_coco(data, Path(path), name, seen)


def index_coco(data: dict, path: Path, name: str, seen: SeenIds | None = None) -> Coco:
    seen = seen or SeenIds()
    issues: list[Issue] = []
    cats: dict[Any, str] = {}
    for c in data["categories"]:
        if not isinstance(c, dict) or not isinstance(c.get("id"), (int, str)):
            issues.append(Issue("format", f"{name} categories", f"category {str(c)[:80]} has no id"))
        elif c["id"] in cats:
            issues.append(Issue("duplicate_id", f"{name} category {c['id']}", "category id used twice"))
        else:
            cats[c["id"]] = str(c.get("name", c["id"]))
    images: dict[Any, dict] = {}
    for im in data["images"]:
        iid = im.get("id") if isinstance(im, dict) else None
        if not isinstance(iid, (int, str)):
            issues.append(Issue("format", f"{name} images", f"image entry {str(im)[:80]} has no id"))
            continue
        if iid in seen.images:
            issues.append(Issue("duplicate_id", f"{name} image {iid}", "image id used twice"))
            continue
        seen.images.add(iid)
        images[iid] = im
    by_image: dict[Any, list[dict]] = {}
    for a in data["annotations"]:
        aid = a.get("id") if isinstance(a, dict) else None
        if not isinstance(aid, (int, str)):
            issues.append(Issue("format", f"{name} annotations", f"annotation {str(a)[:80]} has no id"))
            continue
        where = f"{name} annotation {aid}"
        if aid in seen.annotations:
            issues.append(Issue("duplicate_id", where, "annotation id used twice"))
            continue
        seen.annotations.add(aid)
        if a.get("category_id") not in cats:
            issues.append(Issue("unknown_category", where,
                                f"category_id {a.get('category_id')!r} is not among the categories {sorted(cats, key=id_order)}"))
        if a.get("image_id") not in images:
            issues.append(Issue("unknown_image", where, f"image_id {a.get('image_id')!r} is not among the images"))
            continue
        by_image.setdefault(a["image_id"], []).append(a)
    info = data.get("info") if isinstance(data.get("info"), dict) else None
    return Coco(path, name, info, cats, images, by_image, issues, data)


def image_where(coco_name: str, im: dict) -> str:
    name = im.get("file_name")
    return f"{coco_name} image {im.get('id')}" + (f" ({name})" if name else "")


def image_shape(im: dict) -> tuple[str, int, int] | None:
    """(file_name, width, height) of an image entry, or None when they are not all there."""
    name, W, H = im.get("file_name"), im.get("width"), im.get("height")
    ok = isinstance(name, str) and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (W, H))
    return (name, W, H) if ok else None


ENTRY_FIELDS = "image entry needs file_name, and width and height as positive integers"


def image_file(images: Path, coco_name: str, im: dict, real_root: Path | None = None) -> Path:
    """The file of an image entry: its ``file_name`` under ``images``, symlinks resolved;
    DatasetError (kind ``"path"``) naming the file and image id when it leaves ``images``."""
    return inside(images, im["file_name"], image_where(coco_name, im), real_root=real_root)


def annotation_where(coco_name: str, a: dict) -> str:
    return f"{coco_name} annotation {a.get('id')} (image {a.get('image_id')})"


def require_annotation(coco_name: str, a: dict, H: int, W: int) -> None:
    """DatasetError naming the file and annotation id when an annotation of an H x W image
    cannot be used as it is: a malformed or wrong-size segmentation (checked without
    pycocotools) or a bbox that is not 4 finite numbers with width and height >= 0."""
    where = annotation_where(coco_name, a)
    bbox = a.get("bbox")
    if bbox is not None and not (isinstance(bbox, list) and len(bbox) == 4 and all(is_number(v) for v in bbox)
                                 and bbox[2] >= 0 and bbox[3] >= 0):
        raise DatasetError(Issue("bbox", where, f"bbox {fmt(bbox) if isinstance(bbox, list) else repr(bbox)[:60]} "
                                                "is not [x, y, width, height] with width, height >= 0"))
    seg = a.get("segmentation")
    if not is_empty(seg):
        try:
            check_segmentation(seg, H, W)
        except MaskError as exc:
            raise DatasetError(Issue(exc.kind, where, str(exc))) from None


def annotation_mask(where: str, seg: Any, H: int, W: int) -> np.ndarray | None:
    """Bool H x W mask of a segmentation, None for a box-only annotation; DatasetError naming
    ``where`` (file and annotation id) when it is malformed: it never reaches pycocotools."""
    if seg is None or (isinstance(seg, list) and not seg):
        return None
    try:
        return decode_segmentation(seg, H, W)
    except MaskError as exc:
        raise DatasetError(Issue(exc.kind, where, str(exc))) from None


def is_synthgen(manifest: dict | None, coco: Coco | None = None) -> bool:
    if manifest is not None:
        return True
    return coco is not None and coco.info is not None and coco.info.get("description") == "synthgen"


# A COCO file laid out one entry a line, as writers/merge writes it, read a chunk of images at a
# time: a run's annotations.json decoded whole costs ~5 KB an image (10 GB for 2M images).

CHUNK_IMAGES = 1000


def _entry(line: bytes) -> dict | None:
    text = line.rstrip(b"\r\n")
    try:
        v = json.loads(text[:-1] if text.endswith(b",") else text)
    except ValueError:
        return None
    return v if isinstance(v, dict) else None


def _plain_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _line_layout(path: Path) -> tuple[dict, int, int] | None:
    """(the file without its images and annotations, where its annotations start, its number of
    images) when it is
    laid out one entry a line as merge writes it and reading it whole would find nothing wrong
    in its ids: increasing whole-number image and annotation ids, every annotation's image
    listed, annotations grouped by image in the images' order, categories known, no videos.
    Otherwise None (read it whole: read_coco names what is wrong). One pass, 8 bytes an image."""
    try:
        with open(path, "rb") as f:
            return _scan_lines(f)
    except OSError:
        return None


def _scan_lines(f: Any) -> tuple[dict, int, int] | None:
    first = f.readline()
    if not (first.startswith(b"{") and first.rstrip(b"\r\n").endswith(b'"images":[')):
        return None
    head = first.rstrip(b"\r\n")[: -len(b'"images":[')]
    offset = len(first)
    ids = array("q")
    while True:
        line = f.readline()
        offset += len(line)
        if not line:
            return None
        if line.startswith(b"],"):
            break
        im = _entry(line)
        if im is None or not _plain_int(im.get("id")) or (ids and im["id"] <= ids[-1]) or "video_id" in im:
            return None
        if not -(2**63) <= im["id"] < 2**63:
            return None
        ids.append(im["id"])
    if line.rstrip(b"\r\n") != b'],"annotations":[':
        return None
    start, k, last, used = offset, 0, None, set()
    while True:
        line = f.readline()
        if not line:
            return None
        if line.startswith(b"],"):
            break
        a = _entry(line)
        if a is None or not _plain_int(a.get("id")) or (last is not None and a["id"] <= last):
            return None
        iid, cid = a.get("image_id"), a.get("category_id")
        if not _plain_int(iid) or not isinstance(cid, (int, str)):
            return None
        while k < len(ids) and ids[k] < iid:
            k += 1
        if k == len(ids) or ids[k] != iid:
            return None
        used.add(cid)
        last = a["id"]
    if not line.startswith(b'],"categories":'):
        return None
    try:
        doc = json.loads(head + line.rstrip(b"\r\n")[2:] + f.read())
    except ValueError:
        return None
    cats = doc.get("categories") if isinstance(doc, dict) else None
    if not isinstance(cats, list) or "images" in doc or "annotations" in doc or "videos" in doc:
        return None
    known = [c.get("id") if isinstance(c, dict) else None for c in cats]
    if not all(isinstance(k, (int, str)) for k in known) or len(set(known)) != len(known) or not used <= set(known):
        return None
    return doc, start, len(ids)


def read_coco_chunks(path: Path, name: str, seen: SeenIds, chunk: int | None = None) -> Iterator[Coco] | None:
    """The COCO file at ``path`` as Cocos of ``chunk`` images each with their annotations (the
    same entries, in the same order, as read_coco's), when it is laid out one entry a line and
    its ids are sound (_line_layout); else None."""
    laid = _line_layout(path)
    return None if laid is None else _chunks(path, name, seen, laid, chunk)


def coco_in_chunks(path: Path, name: str | None = None) -> tuple[Coco, int, Callable[[], Iterator[Coco]]] | None:
    """For a file read_coco_chunks can read: a Coco of its info and categories (no images), its
    number of images, and a function giving its chunks (each call reads them again); else None."""
    name = name or str(path)
    laid = _line_layout(path)
    if laid is None:
        return None
    head = index_coco({**laid[0], "images": [], "annotations": []}, Path(path), name)
    return head, laid[2], lambda: _chunks(path, name, SeenIds(), laid, None)


def _chunks(path: Path, name: str, seen: SeenIds, laid: tuple[dict, int, int], chunk: int | None) -> Iterator[Coco]:
    doc, start, _ = laid
    chunk = chunk or CHUNK_IMAGES

    def chunks() -> Iterator[Coco]:
        with open(path, "rb") as fi, open(path, "rb") as fa:
            fi.readline()
            fa.seek(start)
            ahead: dict | None = None
            last_chunk = False
            while not last_chunk:
                images = []
                while len(images) < chunk:
                    line = fi.readline()
                    if not line or line.startswith(b"],"):  # the images' end
                        last_chunk = True
                        break
                    images.append(_entry(line))
                if not images:
                    return
                anns = []
                while True:
                    if ahead is None:
                        line = fa.readline()
                        if not line or line.startswith(b"],"):
                            break
                        ahead = _entry(line)
                    if ahead["image_id"] > images[-1]["id"]:
                        break
                    anns.append(ahead)
                    ahead = None
                yield index_coco({**doc, "images": images, "annotations": anns}, Path(path), name, seen)

    return chunks()
