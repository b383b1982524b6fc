"""Reading WebDataset tars as synthgen writes them: samples of ``<key>.<ext>`` members.

Members per sample: the image (``jpg``/``jpeg``/``png``/``webp``), ``ids.png`` (uint16 instance
ids) and ``json`` (``{"image": COCO image entry, "annotations": [...], "metadata": {...}}``).
Tars are streamed, one sample in memory at a time.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthgen.io.issues import DatasetError, Issue

IMAGE_MEMBERS = ("jpg", "jpeg", "png", "webp")


def tar_samples(tf: tarfile.TarFile) -> Iterator[tuple[str, dict[str, bytes]]]:
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


def read_tar(path: Path) -> Iterator[tuple[str, dict[str, bytes]]]:
    """The samples of one tar, streamed; tarfile.TarError / OSError when it is not readable."""
    with tarfile.open(path, mode="r|*") as tf:
        yield from tar_samples(tf)


def image_member(members: dict[str, bytes]) -> str | None:
    """The extension of a sample's image member, or None."""
    return next((e for e in IMAGE_MEMBERS if e in members), None)


def parse_labels(doc: Any, where: str) -> tuple[dict[str, Any], list, dict[str, Any]]:
    """(image entry, annotations, metadata) of a sample's json member, as bytes, text or already
    decoded; DatasetError naming ``where`` when it is not synthgen's {image, annotations}."""
    try:
        if isinstance(doc, (bytes, bytearray, str)):
            doc = json.loads(doc)
        im, anns = doc["image"], doc["annotations"]
        im["id"], im["width"], im["height"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DatasetError(Issue("format", where, f"json member is not {{image, annotations}} ({exc.__class__.__name__}: {exc})")) from None
    if not isinstance(anns, list):
        raise DatasetError(Issue("format", where, "json member's annotations are not a list"))
    meta = doc.get("metadata")
    return im, anns, meta if isinstance(meta, dict) else {}


def sample_labels(members: dict[str, bytes], where: str) -> tuple[dict[str, Any], list]:
    """(image entry, annotations) of a sample's json member; DatasetError naming ``where``."""
    try:
        doc = members["json"]
    except KeyError as exc:
        raise DatasetError(Issue("format", where, f"json member is not {{image, annotations}} ({exc.__class__.__name__}: {exc})")) from None
    im, anns, meta = parse_labels(doc, where)
    im.setdefault("conditions", meta.get("conditions") if meta else None)
    return im, anns


def count_samples(tars: list[Path]) -> int:
    """Samples in the tars, from member names only."""
    keys = set()
    for tar in tars:
        with tarfile.open(tar) as tf:
            keys.update((tar, n.rsplit("/", 1)[-1].partition(".")[0]) for n in tf.getnames())
    return len(keys)
