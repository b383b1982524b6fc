"""One shard: a fixed range of indices written as a self-contained unit.

    OUT/images/<name>.jpg, OUT/labels/<name>.txt, OUT/masks/<name>.png   per image (coco/yolo)
    OUT/shards/shard-000003.coco.json    the shard's COCO images and annotations
    OUT/shards/shard-000003.jsonl        the shard's metadata lines
    OUT/webdataset/shard-000003.tar      the shard's samples (format webdataset)
    OUT/semantic/<name>.png              class index per pixel (format semantic)
    OUT/panoptic/<name>.png              segment ids (format panoptic)
    OUT/JPEGImages, Annotations, SegmentationClass, SegmentationObject   per image (format voc)
    OUT/shards/shard-000003.panoptic.json  the shard's panoptic images and annotations
    OUT/shards/shard-000003.done.json    written last: counts, and size + sha256 of every file
    OUT/shards/shard-000003.partial      while the shard is written: each file it starts, one a line

Every file goes to a temporary name and is renamed when whole; the done record is renamed into
place only after all of them, so a shard killed at any moment never looks finished. The done
record (or, for a shard killed part-way, its ``.partial`` list) names every file the shard wrote:
the only files a later run removes (synthgen/io/outdir.py).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from synthgen.config import OutputConfig
from synthgen.io.files import atomic_write
from synthgen.io.manifest import ShardSpec, done_path, partial_path
from synthgen.types import Sample
from synthgen.writers import coco
from synthgen.writers.files import encode_id_map, encode_image

# yolo, semantic, voc, panoptic and webdataset are imported where their format is on: a run
# that writes none of them does not pay for their imports (xml, tarfile) at start-up.


def _digest(data: bytes) -> list:
    return [len(data), hashlib.sha256(data).hexdigest()]


class ShardWriter:
    """Collects one shard's files; ``finish`` writes the run-wide pieces and the done record."""

    def __init__(self, out: Path, shard: ShardSpec, cfg: OutputConfig, amodal: bool, kind: str = "generate") -> None:
        self.out = out
        self.shard = shard
        self.cfg = cfg
        self.amodal = amodal
        self.kind = kind
        self.files: dict[str, list] = {}
        self.images: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []
        self.metadata: list[str] = []
        self.panoptic: list[dict[str, Any]] = []
        self.panoptic_images: list[dict[str, Any]] = []
        self.instances = 0
        self.tusimple: list[dict[str, Any]] = []
        self.hf: dict[str, list[str]] = {}  # imagefolder split -> metadata lines (writers/hf)
        self.per_image = bool({"coco", "yolo", "semantic", "panoptic"} & set(cfg.formats))
        for sub in (["images"] if self.per_image else []) + (["labels"] if "yolo" in cfg.formats else []) + (
            ["masks"] if cfg.id_maps and self.per_image else []
        ) + [f for f in ("semantic", "panoptic") if f in cfg.formats] + (
            ["JPEGImages", "Annotations", "SegmentationClass", "SegmentationObject"] if "voc" in cfg.formats else []
        ):
            (out / sub).mkdir(parents=True, exist_ok=True)
        (out / "shards").mkdir(parents=True, exist_ok=True)
        self.partial = open(partial_path(out, shard), "a")  # appends to the list of an attempt killed before
        self.tar = None
        if "webdataset" in cfg.formats:
            (out / "webdataset").mkdir(parents=True, exist_ok=True)
            self._started(f"webdataset/{shard.name}.tar")
            from synthgen.writers.webdataset import TarShardWriter

            self.tar = TarShardWriter(out / "webdataset" / f"{shard.name}.tar")

    def _started(self, rel: str) -> None:
        self.partial.write(rel + "\n")
        self.partial.flush()

    def _put(self, rel: str, data: bytes) -> None:
        self._started(rel)
        atomic_write(self.out / rel, data)
        self.files[rel] = _digest(data)

    def add(self, sample: Sample) -> None:
        cfg = self.cfg
        file_name = f"{sample.name}.{cfg.image_format}"
        image_bytes = encode_image(sample.image, cfg.image_format, cfg.jpeg_quality)
        id_png = encode_id_map(sample.id_map) if (cfg.id_maps or self.tar) else None
        if self.per_image:
            self._put(f"images/{file_name}", image_bytes)
            if cfg.id_maps:
                self._put(f"masks/{sample.name}.png", id_png)
        if "yolo" in cfg.formats:
            from synthgen.writers import yolo

            self._put(f"labels/{sample.name}.txt", yolo.label_text(sample, cfg.yolo_task).encode())
        if {"semantic", "voc"} & set(cfg.formats):
            from synthgen.writers import semantic, voc

            classes = semantic.class_map(sample, cfg.semantic_ignore)
            if "semantic" in cfg.formats:
                semantic_png = semantic.encode_class_map(semantic.with_stuff(classes, sample))
                self._put(f"semantic/{sample.name}.png", semantic_png)
            if "voc" in cfg.formats:
                self._put(f"JPEGImages/{file_name}", image_bytes)
                self._put(f"Annotations/{sample.name}.xml", voc.annotation_xml(sample, file_name).encode())
                self._put(f"SegmentationClass/{sample.name}.png", voc.encode_indexed(classes))
                self._put(f"SegmentationObject/{sample.name}.png", voc.encode_indexed(voc.object_map(sample, classes)))
        image = coco.image_entry(sample, file_name)
        if "panoptic" in cfg.formats:
            from synthgen.writers import panoptic

            ids = panoptic.segment_ids(sample)
            self._put(f"panoptic/{sample.name}.png", panoptic.segment_png(sample, ids))
            self.panoptic_images.append(image)
            self.panoptic.append(panoptic.annotation_entry(sample, image["id"], ids))
        if "hf" in cfg.formats:
            from synthgen.writers import hf

            where, shard = hf.folder(sample, self.shard.name), self.shard.name
            (self.out / where).mkdir(parents=True, exist_ok=True)
            self._put(f"{where}/{file_name}", image_bytes)
            semantic_file = f"{sample.name}.semantic.png" if "semantic" in cfg.formats else None
            if semantic_file:
                self._put(f"{where}/{semantic_file}", semantic_png)
            self.hf.setdefault(hf.split_of(sample), []).append(
                hf.metadata_line(sample, f"{shard}/{file_name}", semantic_file and f"{shard}/{semantic_file}"))
        anns = coco.annotation_entries(sample, amodal=self.amodal, polygons=cfg.coco_masks == "polygon")
        meta = metadata_line(sample, file_name)
        if self.tar is not None:
            labels = {"image": image, "annotations": anns, "metadata": meta}
            members = {cfg.image_format: image_bytes, "ids.png": id_png, "json": _json(labels).encode()}
            if "semantic" in cfg.formats:  # the class map too (synthgen.webdataset decodes it)
                members["semantic.png"] = semantic_png
            self.tar.add(sample.name, members)
        self.images.append(image)
        self.annotations += anns
        self.metadata.append(_json(meta))
        self.instances += len(sample.instances)
        if "lines" in image:  # output.lines and a background with lines (synthgen/writers/lanes.py)
            from synthgen.writers import lanes

            (self.out / "lines").mkdir(exist_ok=True)
            self._put(f"lines/{sample.name}.lines.txt", lanes.culane_text(image["lines"]).encode())
            self.tusimple.append(lanes.tusimple_entry(image["lines"], f"images/{file_name}", image["height"]))

    def finish(self) -> dict[str, Any]:
        base = f"shards/{self.shard.name}"
        if self.tusimple:
            from synthgen.writers import lanes

            self._put(f"{base}.tusimple.json", lanes.tusimple_text(self.tusimple).encode())
        if "coco" in self.cfg.formats:
            self._put(f"{base}.coco.json", _json({"images": self.images, "annotations": self.annotations}).encode())
        if "panoptic" in self.cfg.formats:
            self._put(f"{base}.panoptic.json", _json({"images": self.panoptic_images, "annotations": self.panoptic}).encode())
        self._put(f"{base}.jsonl", ("\n".join(self.metadata) + "\n").encode())
        if self.hf:
            from synthgen.writers import hf

            for split, lines in self.hf.items():
                self._put(hf.fragment(self.shard.name, split), ("\n".join(lines) + "\n").encode())
        if self.tar is not None:
            self.files[f"webdataset/{self.shard.name}.tar"] = self.tar.close()
        record = {
            "kind": self.kind,
            "shard": self.shard.id,
            "start": self.shard.start,
            "stop": self.shard.stop,
            "images": len(self.images),
            "instances": self.instances,
            "files": dict(sorted(self.files.items())),
        }
        atomic_write(done_path(self.out, self.shard), (json.dumps(record, indent=1) + "\n").encode())
        self.partial.close()
        partial_path(self.out, self.shard).unlink(missing_ok=True)
        return record


def metadata_line(sample: Sample, file_name: str) -> dict[str, Any]:
    """One image's metadata.jsonl record: the sample's metadata, its COCO image fields (once
    grouped as ``image_fields``, once at top level, where tools filter on them) and the file name."""
    meta = dict(sample.metadata)
    if sample.image_fields:
        meta["image_fields"] = dict(sample.image_fields)
        meta.update(sample.image_fields)
    meta["file_name"] = file_name
    return meta


_json = json.JSONEncoder(separators=(",", ":")).encode  # json.dumps(obj, separators=...) without a new encoder per call


def verify_shard(out: Path, shard: ShardSpec, full: bool = False) -> dict[str, Any] | None:
    """The shard's done record if the shard is finished and its files are intact, else None.

    Checks that every recorded file exists with its recorded size, and re-hashes the small
    run-wide pieces (annotations, metadata); ``full`` re-hashes every file.
    """
    path = done_path(out, shard)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if (record.get("start"), record.get("stop")) != (shard.start, shard.stop):
        return None
    for rel, (size, sha) in record.get("files", {}).items():
        p = out / rel
        try:
            if p.stat().st_size != size:
                return None
        except OSError:
            return None
        if full or rel.startswith("shards/"):
            if hashlib.sha256(p.read_bytes()).hexdigest() != sha:
                return None
    return record
