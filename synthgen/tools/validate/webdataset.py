"""Checking WebDataset tars read by io/webdataset: members, labels, id maps and class maps per sample."""

from __future__ import annotations

import io
import tarfile

import numpy as np

from synthgen.errors import AssetError
from synthgen.io.images import image_size, read_id_map
from synthgen.io.issues import DatasetError
from synthgen.io.rle import decode
from synthgen.io.semantic import read_class_map
from synthgen.io.webdataset import image_member, read_tar, sample_labels
from synthgen.tools.validate import semantic
from synthgen.tools.validate.findings import Checking
from synthgen.tools.validate.masks import check_annotation, check_id_map, check_overlaps


def check_webdataset(c: Checking) -> None:
    add, L = c.add, c.layout
    classes = (L.manifest or {}).get("classes")
    cats = set(range(1, len(classes) + 1)) if isinstance(classes, list) else None
    keys: set[str] = set()
    c.wds_keys = {}
    image_ids: set = set()
    ann_ids: set = set()
    samples = anns_total = 0
    for tar in L.wds_tars:
        rel = L.rel(tar)
        try:
            for key, members in read_tar(tar):
                samples += 1
                where = f"{rel} sample {key}"
                if key in keys:
                    add("duplicate_id", where, "sample key used twice")
                keys.add(key)
                c.wds_keys.setdefault(key, rel)
                anns_total += check_sample(c, members, where, cats, image_ids, ann_ids)
        except (tarfile.TarError, OSError) as exc:
            add("format", rel, f"not a readable tar ({exc})")
    c.count("webdataset samples", samples)
    c.count("webdataset annotations", anns_total)
    if L.has_coco and c.coco_images and samples != c.coco_images:
        add("count_mismatch", "webdataset", f"{samples} samples, but {c.coco_images} COCO images")


def check_sample(c: Checking, members: dict[str, bytes], where: str, cats, image_ids: set, ann_ids: set) -> int:
    add = c.add
    img_ext = image_member(members)
    missing = ([] if img_ext else ["image (jpg/png)"]) + [e for e in ("ids.png", "json") if e not in members]
    if missing:
        add("wds_member", where, f"missing {', '.join(missing)} (has {', '.join(sorted(members))})")
    if "json" not in members:
        return 0
    try:
        im, anns = sample_labels(members, where)
    except DatasetError as exc:
        add(exc.issue.kind, exc.issue.where, exc.issue.message)
        return 0
    iid, W, H = im["id"], im["width"], im["height"]
    if iid in image_ids:
        add("duplicate_id", where, f"image id {iid} used twice")
    image_ids.add(iid)
    if img_ext:
        try:
            size = image_size(members[img_ext], f"the {img_ext}")
            if size != (W, H):
                add("image_size", where, f"the {img_ext} is {size[0]}x{size[1]}, the json says {W}x{H}")
        except AssetError as exc:
            add("unreadable_image", where, str(exc))
    rles, masks = [], []  # (id, RLE) of the visible masks; (annotation, RLE) of all, crowds too
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
        if rle is not None:
            masks.append((a, rle))
            if not a.get("iscrowd"):
                rles.append((aid, rle))
    check_overlaps(rles, where, add)
    if "semantic.png" in members:
        check_semantic_member(c, members["semantic.png"], masks, W, H, where, iid)
    if "ids.png" in members:
        idm = read_id_map(members["ids.png"])
        if idm is None or idm.dtype != np.uint16 or idm.shape != (H, W):
            got = "undecodable" if idm is None else f"{idm.dtype} {idm.shape[1]}x{idm.shape[0]}"
            add("id_map", where, f"ids.png is {got}, not uint16 {W}x{H}")
        else:
            check_id_map(idm, [a for a in anns if isinstance(a, dict)], iid, where, add)
    return len(anns)


def check_semantic_member(c: Checking, data: bytes, anns: list[tuple[dict, dict]], W: int, H: int, where: str, iid) -> None:
    """A sample's semantic.png: the same bytes as the run's semantic/<key>.png when that exists,
    else (a tar alone) the union of the sample's masks by class, as semantic/ maps are checked."""
    key = where.rsplit(" sample ", 1)[-1]
    beside = c.layout.root / "semantic" / f"{key}.png"
    c.count("webdataset semantic maps")
    if beside.is_file():
        if beside.read_bytes() != data:
            c.add("semantic", where, f"semantic.png is not the same map as {c.layout.rel(beside)}")
        return
    try:
        got = read_class_map(io.BytesIO(data))
    except DatasetError as exc:
        c.add("semantic", where, f"semantic.png {exc.issue.message}")
        return
    if c.semantic_classes is not None:
        semantic.check_class_map(c, got, anns, W, H, "semantic.png", where, iid)
        return
    # no semantic_classes.json: background class indices are unknown, so only the masks' pixels count
    if got.shape != (H, W):
        c.add("semantic", where, f"semantic.png is {got.shape[1]}x{got.shape[0]}, not {W}x{H}")
        return
    want = np.zeros((H, W), np.uint8)
    crowd = np.zeros((H, W), bool)
    for a, rle in anns:
        m = decode(rle).astype(bool)
        want[m] = a["category_id"] if isinstance(a.get("category_id"), int) else 0
        crowd |= m if a.get("iscrowd") else False
    wrong = (want != 0) & (got != want) & ~((got == semantic.IGNORE) & crowd)
    n = int(np.count_nonzero(wrong))
    if n:
        y, x = (int(v[0]) for v in np.nonzero(wrong))
        c.add("semantic", where, f"semantic.png: {n} pixels of the annotations' masks are not their class, first at "
                                 f"x={x}, y={y}: {int(got[y, x])}, the annotations say {int(want[y, x])}")
