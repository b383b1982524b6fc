"""Pascal VOC layout, made from the final id map like every other label.

    OUT/JPEGImages/<name>.jpg            the image (the same bytes as images/)
    OUT/Annotations/<name>.xml           size, and per object: name, truncated, difficult,
                                         bndbox (1-based, inclusive: xmin = x + 1, xmax = x + w)
    OUT/SegmentationClass/<name>.png     class index per pixel, VOC palette (the semantic map)
    OUT/SegmentationObject/<name>.png    object index per pixel: k = the k-th <object> of the
                                         XML, 0 background, 255 not scored, VOC palette
    OUT/ImageSets/Main/{train,val,trainval}.txt, ImageSets/Segmentation/... (written at merge)

VOC has no crowd regions: a real scene's iscrowd regions are 255 in SegmentationObject and have
no <object>. ``difficult`` is 1 for objects less than DIFFICULT_BELOW visible.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import numpy as np

from synthgen.errors import OutputError
from synthgen.types import Sample
from synthgen.writers.semantic import IGNORE, encode_palette_png, palette

DIFFICULT_BELOW = 0.25  # visible share of the whole silhouette under which an object is "difficult"
VOC_IGNORE_COLOR = (224, 224, 192)  # the colour VOC gives its 255 (void) pixels


def _voc_palette() -> list[int]:
    pal = palette()
    pal[IGNORE] = VOC_IGNORE_COLOR
    return [v for rgb in pal for v in rgb]


_PALETTE = _voc_palette()


def encode_indexed(values: np.ndarray) -> bytes:
    """A palette PNG with the VOC colours whose values are the indices; fast compression."""
    return encode_palette_png(values, _PALETTE)


def object_map(sample: Sample, classes: np.ndarray) -> np.ndarray:
    """H x W uint8: the k-th labeled instance's pixels k; pixels ``classes`` (the class map)
    marks 255 and crowd regions 255; else 0."""
    if len(sample.instances) >= IGNORE:
        raise OutputError(
            f"image {sample.name}: {len(sample.instances)} objects; a VOC SegmentationObject PNG holds at most "
            f"{IGNORE - 1} (255 marks pixels not scored): lower scene.objects_per_image"
        )
    lut = np.zeros(int(sample.id_map.max(initial=0)) + 1, np.uint8)
    for k, inst in enumerate(sample.instances, 1):
        lut[inst.instance_id] = k
    for region in sample.crowd:
        lut[region.instance_id] = IGNORE
    out = lut[sample.id_map]
    out[classes == IGNORE] = IGNORE
    return out


def annotation_xml(sample: Sample, file_name: str) -> str:
    W, H = sample.scene.canvas_wh
    objects = []
    for inst in sample.instances:
        x, y, w, h = inst.bbox
        difficult = inst.visible_fraction is not None and inst.visible_fraction < DIFFICULT_BELOW
        truncated = inst.truncated
        if truncated is None:  # a pipeline lost what lay outside: cut there only if it reaches the border
            truncated = x == 0 or y == 0 or x + w == W or y + h == H
        objects.append(
            "  <object>\n"
            f"    <name>{escape(inst.label)}</name>\n"
            "    <pose>Unspecified</pose>\n"
            f"    <truncated>{int(bool(truncated))}</truncated>\n"
            f"    <difficult>{int(difficult)}</difficult>\n"
            f"    <bndbox><xmin>{x + 1}</xmin><ymin>{y + 1}</ymin><xmax>{x + w}</xmax><ymax>{y + h}</ymax></bndbox>\n"
            "  </object>\n"
        )
    return (
        "<annotation>\n"
        "  <folder>JPEGImages</folder>\n"
        f"  <filename>{escape(file_name)}</filename>\n"
        "  <source><database>synthgen</database></source>\n"
        f"  <size><width>{W}</width><height>{H}</height><depth>3</depth></size>\n"
        "  <segmented>1</segmented>\n"
        + "".join(objects)
        + "</annotation>\n"
    )


def image_sets(stems_by_part: dict[str, list[str]]) -> dict[str, str]:
    """{relative path: text} of the ImageSets lists: train, val and trainval, for detection
    (Main) and segmentation alike."""
    train, val = stems_by_part.get("train", []), stems_by_part.get("val", [])
    lists = {"train": train, "val": val, "trainval": sorted(train + val)}
    return {
        f"ImageSets/{task}/{part}.txt": "".join(f"{s}\n" for s in stems)
        for task in ("Main", "Segmentation")
        for part, stems in lists.items()
    }
