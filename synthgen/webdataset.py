"""Decoding synthgen's WebDataset samples for training: image, id map, boxes, labels, masks.

A sample of ``webdataset/shard-NNNNNN.tar`` has three members under one key:

    <key>.jpg (or .png)   the image
    <key>.ids.png         the instance-id map: a 16-bit greyscale PNG, lossless
    <key>.json            {"image": COCO image entry, "annotations": [...], "metadata": {...}}
    <key>.semantic.png    with format semantic: the class map, a uint8 palette PNG (0 background,
                          k = category id k, 255 not scored), as semantic/<name>.png

How an id-map value maps to an annotation: pixel value ``k`` is instance ``k`` of its image
(0 is background). Image index ``i`` has COCO image id ``i + 1``, and its instance ``k`` has
annotation id ``(i + 1) * 1000 + k`` (so ``k = annotation id % 1000``, ``image id =
annotation id // 1000``). An annotation's mask is exactly ``ids == k``. Instance ids without an
annotation are distractors (pasted, never labeled) or objects below ``labels.min_visibility``.
Ids go up to 999, so an image can hold more than 255 instances.

**Do not decode ``ids.png`` with webdataset's image decoders.** ``.decode("pil")``,
``"rgb8"``, ``"l8"`` (and ``"rgb"``, ``"l"``, ``"torch..."``) convert it with Pillow to an 8-bit
mode, which clips: ids 0..254 survive, every id from 255 up becomes 255 (``"rgb"``/``"l"``: 1.0),
so instances 255, 256, ... merge into one and the id-annotation link is lost without an error
(checked with webdataset 1.0.2 and Pillow 13). Use this module instead:

    import webdataset as wds
    from synthgen.webdataset import decode_member, decode_sample

    ds = wds.WebDataset(urls, shardshuffle=False).map(decode_sample)    # raw members in
    ds = wds.WebDataset(urls, shardshuffle=False).decode(decode_member)  # members decoded only
    ds = wds.WebDataset(urls, shardshuffle=False).decode(decode_member).map(decode_sample)

``decode_sample`` gives numpy arrays: ``image`` H x W x 3 uint8 RGB, ``ids`` H x W uint16,
``boxes`` N x 4 float32 ``[x0, y0, x1, y1]`` (pixel edges: x1 = x + w of the COCO box),
``labels`` N int64 (COCO category ids, 1-based), ``masks`` N x H x W bool (``ids == k``),
``instance_ids`` and ``annotation_ids`` N int64, ``entry`` (the COCO image entry),
``annotations`` and ``metadata`` as written, and ``semantic`` H x W uint8 class indices when
the sample has a class map (``semantic.png``: the palette's indices, never its colours: don't let
webdataset's rgb decoders read it either). No torch and no webdataset needed here.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from synthgen.errors import AssetError
from synthgen.io.images import read_id_map, read_rgb
from synthgen.io.issues import DatasetError, Issue
from synthgen.io.webdataset import IMAGE_MEMBERS, parse_labels
from synthgen.types import MAX_INSTANCES

ID_MAP = "ids.png"
SEMANTIC = "semantic.png"
SQUASHED = (
    "was decoded by another decoder ({what}): webdataset's pil/rgb8/l8 decoders clip 16-bit ids "
    "to 255. Put synthgen.webdataset.decode_member before any other decoder, or .map(decode_sample) "
    "on the raw samples"
)


def _name(key: str) -> str:
    """The member extension webdataset passes to a decoder: ``ids.png``, ``jpg``, ``json``."""
    return key.lower().lstrip(".")


def _decode_ids(data: bytes, where: str) -> np.ndarray:
    ids = read_id_map(data)
    if ids is None:
        raise DatasetError(Issue("format", where, "ids.png cannot be decoded as a PNG"))
    if ids.dtype != np.uint16 or ids.ndim != 2:
        raise DatasetError(Issue("id_map", where, f"ids.png is {ids.dtype} with shape {ids.shape}, not a 16-bit greyscale map"))
    return ids


def _decode_semantic(data: bytes, where: str) -> np.ndarray:
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.mode not in ("P", "L"):
                raise DatasetError(Issue("format", where, f"semantic.png is a {img.mode} image, not a palette class map"))
            return np.asarray(img)
    except OSError as exc:
        raise DatasetError(Issue("format", where, f"semantic.png cannot be decoded as a PNG ({exc})")) from None


def _decode_image(data: bytes, where: str) -> np.ndarray:
    try:
        return read_rgb(data, where)
    except AssetError as exc:
        raise DatasetError(Issue("format", where, str(exc))) from None


def decode_member(key: str, data: bytes) -> Any:
    """A webdataset decoder handler: ``wds.WebDataset(urls).decode(decode_member)``.

    ``ids.png`` -> H x W uint16 array, ``semantic.png`` -> H x W uint8 class indices, the image
    (jpg, jpeg, png, webp) -> H x W x 3 uint8 RGB, ``json`` -> dict; None for other members
    (webdataset's next handler, or bytes, takes them).
    """
    name = _name(key)
    where = f"member {name}"
    if name == ID_MAP:
        return _decode_ids(data, where)
    if name == SEMANTIC:
        return _decode_semantic(data, where)
    if name in IMAGE_MEMBERS:
        return _decode_image(data, where)
    if name == "json":
        return json.loads(data)
    return None


def _where(sample: dict[str, Any]) -> str:
    url, key = sample.get("__url__"), sample.get("__key__")
    return f"{url} sample {key}" if url else f"sample {key}"


def _member(sample: dict[str, Any], name: str) -> Any:
    for k, v in sample.items():
        if not k.startswith("__") and _name(k) == name:
            return v
    return None


def _id_map(sample: dict[str, Any], where: str) -> np.ndarray:
    value = _member(sample, ID_MAP)
    if value is None:
        raise DatasetError(Issue("format", where, "has no ids.png member (synthgen writes one per sample)"))
    if isinstance(value, (bytes, bytearray)):
        return _decode_ids(bytes(value), where)
    arr = np.asarray(value)
    if arr.dtype != np.uint16 or arr.ndim != 2:
        what = type(value).__name__ + (f" mode {value.mode}" if hasattr(value, "mode") else f" {arr.dtype} {arr.shape}")
        raise DatasetError(Issue("id_map", where, "ids.png " + SQUASHED.format(what=what)))
    return arr


def _image(sample: dict[str, Any], where: str) -> np.ndarray:
    for name in IMAGE_MEMBERS:
        value = _member(sample, name)
        if value is None:
            continue
        if isinstance(value, (bytes, bytearray)):
            return _decode_image(bytes(value), f"{where} {name}")
        arr = np.asarray(value)
        if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
            raise DatasetError(Issue("format", where, f"{name} was decoded to {arr.dtype} {arr.shape}, not H x W x 3 uint8 "
                                     "(use decode_member, or webdataset's rgb8)"))
        return arr
    raise DatasetError(Issue("format", where, f"has no image member (one of {', '.join(IMAGE_MEMBERS)})"))


def _semantic(sample: dict[str, Any], where: str) -> np.ndarray | None:
    value = _member(sample, SEMANTIC)
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return _decode_semantic(bytes(value), where)
    arr = np.asarray(value)  # a PIL palette image (webdataset's "pil") keeps its indices
    if arr.dtype != np.uint8 or arr.ndim != 2:
        what = type(value).__name__ + (f" mode {value.mode}" if hasattr(value, "mode") else f" {arr.dtype} {arr.shape}")
        raise DatasetError(Issue("format", where, f"semantic.png was decoded by another decoder ({what}) into colours, "
                                 "not class indices: put synthgen.webdataset.decode_member before it"))
    return arr


def _labels(sample: dict[str, Any], where: str) -> tuple[dict, list[dict], dict]:
    return parse_labels(_member(sample, "json"), where)


def instance_id(annotation: dict, image_id: int, where: str) -> int:
    """The id-map value of a synthgen annotation: ``annotation id % 1000``, checked against
    its image (annotation id = image id * 1000 + instance id)."""
    aid = annotation.get("id")
    if not isinstance(aid, int) or isinstance(aid, bool) or aid // MAX_INSTANCES != image_id or aid % MAX_INSTANCES == 0:
        raise DatasetError(Issue("id_map", f"{where} annotation {aid}",
                                 f"annotation id is not image id {image_id} * {MAX_INSTANCES} + instance id (1..{MAX_INSTANCES - 1})"))
    return aid % MAX_INSTANCES


def decode_sample(sample: dict[str, Any]) -> dict[str, Any]:
    """Everything a detection or segmentation model needs from one sample; use it as
    ``wds.WebDataset(urls).map(decode_sample)``. Members may be raw bytes or already decoded by
    :func:`decode_member`; an id map decoded to 8 bits by another decoder raises DatasetError."""
    where = _where(sample)
    ids = _id_map(sample, where)
    image = _image(sample, where)
    entry, anns, metadata = _labels(sample, where)
    H, W = ids.shape
    if image.shape[:2] != (H, W) or (entry["height"], entry["width"]) != (H, W):
        raise DatasetError(Issue("image_size", where, f"image {image.shape[1]}x{image.shape[0]}, id map {W}x{H} and "
                                 f"entry {entry['width']}x{entry['height']} (width x height) differ"))
    semantic = _semantic(sample, where)
    if semantic is not None and semantic.shape != (H, W):
        raise DatasetError(Issue("image_size", where, f"semantic.png is {semantic.shape[1]}x{semantic.shape[0]}, the id map {W}x{H}"))
    inst = np.array([instance_id(a, entry["id"], where) for a in anns], np.int64)
    boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)], np.float32).reshape(-1, 4)
    out = {
        "__key__": sample.get("__key__"),
        "__url__": sample.get("__url__"),
        "image": image,
        "ids": ids,
        "boxes": boxes,
        "labels": np.array([a["category_id"] for a in anns], np.int64),
        "masks": ids[None] == inst[:, None, None].astype(np.uint16) if len(inst) else np.zeros((0, H, W), bool),
        "instance_ids": inst,
        "annotation_ids": np.array([a["id"] for a in anns], np.int64),
        "entry": entry,
        "annotations": anns,
        "metadata": metadata,
    }
    if semantic is not None:
        out["semantic"] = semantic
    return out


def annotation_of(value: int, entry: dict) -> int | None:
    """The annotation id an id-map value stands for in the image of ``entry`` (None for 0,
    background). The annotation exists only when the instance was labeled."""
    if not 0 <= int(value) < MAX_INSTANCES:
        raise ValueError(f"id-map value {value} is not an instance id (0..{MAX_INSTANCES - 1})")
    return None if int(value) == 0 else int(entry["id"]) * MAX_INSTANCES + int(value)
