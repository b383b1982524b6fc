"""Semantic segmentation: one class index per pixel, made from the final id map.

    OUT/semantic/<name>.png      uint8 palette PNG: the pixel values are class indices (0 =
                                 background, k = category id k, then the background classes,
                                 255 = not scored), the palette colours them for looking
    OUT/semantic_classes.json    index, name, colour and isthing of every class, and what 255 marks

The map is the union of the instance masks by class, by construction: each labeled instance's
pixels are exactly the id map's pixels with its id. Pixels marked 255 are those
``output.semantic_ignore`` names (distractors by default), and never a labeled instance's.
Where no object at all was drawn, a background with a label image gives its classes
(``Sample.stuff``, synthgen/stuff.py): index len(things) + 1 + position in the sorted names.
A distractor (or unlabeled object) that ``semantic_ignore`` leaves scored is 0, never the
background class under it: it stands on the ground and hides it (panoptic: void).
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
from PIL import Image

from synthgen.errors import OutputError
from synthgen.types import Sample

IGNORE = 255
MAX_CLASSES = IGNORE - 1  # indices 1..254


def palette() -> list[tuple[int, int, int]]:
    """256 colours: 0 black, 255 white, the rest the bit-interleaved colours of the Pascal VOC
    palette (neighbouring indices far apart in colour)."""
    out = []
    for i in range(256):
        r = g = b = 0
        c = i
        for bit in range(8):
            r |= ((c >> 0) & 1) << (7 - bit)
            g |= ((c >> 1) & 1) << (7 - bit)
            b |= ((c >> 2) & 1) << (7 - bit)
            c >>= 3
        out.append((r, g, b))
    out[IGNORE] = (255, 255, 255)
    return out


_PALETTE = [v for rgb in palette() for v in rgb]


def class_map(sample: Sample, ignore: list[str] | tuple[str, ...] = ("distractors",)) -> np.ndarray:
    """H x W uint8: each labeled instance's pixels its category id, crowd regions theirs (or 255
    with ``"crowd"`` in ``ignore``), pixels of distractors / unlabeled objects 255 when ``ignore``
    names them, everything else 0."""
    lut = np.zeros(int(sample.id_map.max(initial=0)) + 1, np.uint8)
    for inst in (*sample.instances, *sample.crowd):
        if not 1 <= inst.category_id <= MAX_CLASSES:
            raise OutputError(
                f"image {sample.name}: category id {inst.category_id} ({inst.label!r}) does not fit a semantic map "
                f"(indices 1..{MAX_CLASSES}; {IGNORE} marks pixels not scored): use at most {MAX_CLASSES} classes"
            )
        lut[inst.instance_id] = IGNORE if inst.crowd and "crowd" in ignore else inst.category_id
    out = lut[sample.id_map]
    marked = _ignored_ids(sample, ignore)
    if marked:
        if sample.unlabeled is None:
            raise OutputError(f"image {sample.name}: no map of unlabeled objects to mark {sorted(ignore)} (Sample.unlabeled)")
        out[np.isin(sample.unlabeled, np.fromiter(marked, np.uint16))] = IGNORE
    return out


def free_pixels(sample: Sample) -> np.ndarray:
    """Where no object at all was drawn (labeled or not): the pixels the background's classes show."""
    free = sample.id_map == 0
    if sample.unlabeled is not None:
        free &= sample.unlabeled == 0
    return free


def with_stuff(classes: np.ndarray, sample: Sample) -> np.ndarray:
    """The class map with the background's classes where no object was drawn; ``classes``
    itself when the background has none."""
    if sample.stuff is None:
        return classes
    return np.where(free_pixels(sample), sample.stuff, classes)


def _ignored_ids(sample: Sample, ignore) -> set[int]:
    labeled = {i.instance_id for i in (*sample.instances, *sample.crowd)}
    ids: set[int] = set()
    for p in sample.scene.placements:
        if p.distractor and "distractors" in ignore:
            ids.add(p.instance_id)
        elif not p.distractor and p.instance_id not in labeled and "unlabeled" in ignore:
            ids.add(p.instance_id)
    if "unlabeled" in ignore:
        ids |= {r.instance_id for r in sample.scene.real if r.instance_id not in labeled}
    return ids


def encode_class_map(classes: np.ndarray) -> bytes:
    """A palette ("P") PNG whose values are the class indices; fast compression."""
    return encode_palette_png(classes, _PALETTE)


def encode_palette_png(values: np.ndarray, palette: list[int]) -> bytes:
    """A palette ("P") PNG of uint8 ``values`` coloured by ``palette`` (flat RGB); fast compression."""
    img = Image.fromarray(np.ascontiguousarray(values, np.uint8), mode="P")
    img.putpalette(palette)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def classes_json(names: list[str], ignore: list[str], stuff: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """semantic_classes.json: every index a map may hold, with its name and colour; with background
    classes, also whether each is a pasted object's class (isthing 1) or not (isthing 0)."""
    if len(names) + len(stuff) > MAX_CLASSES:
        raise OutputError(f"semantic: {len(names) + len(stuff)} classes, at most {MAX_CLASSES} fit a uint8 map beside 0 and {IGNORE}")
    pal = palette()
    rows = [{"index": 0, "name": "background", "color": list(pal[0])}]
    rows += [{"index": k, "name": n, "color": list(pal[k])} for k, n in enumerate(names, 1)]
    rows += [{"index": k, "name": n, "color": list(pal[k])} for k, n in enumerate(stuff, len(names) + 1)]
    rows.append({"index": IGNORE, "name": "ignore", "color": list(pal[IGNORE])})
    if stuff:  # (a run without background classes keeps the rows it always had)
        for r in rows:
            r["isthing"] = 1 if 1 <= r["index"] <= len(names) else 0
    return {"ignore_index": IGNORE, "ignored": list(ignore), "classes": rows}


def classes_text(doc: dict[str, Any]) -> str:
    """The json with one class a line."""
    rows = ",\n".join("  " + json.dumps(r) for r in doc["classes"])
    head = json.dumps({k: v for k, v in doc.items() if k != "classes"})[:-1]
    return f'{head}, "classes": [\n{rows}\n]}}\n'
