"""One dataset folder: per-image files and the run-wide files, in the layouts tools expect.

    OUT/images/<name>.jpg        OUT/labels/<name>.txt (yolo)    OUT/masks/<name>.png (id maps)
    OUT/annotations.json (coco)  OUT/data.yaml (yolo)            OUT/metadata.jsonl (always)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthgen.config import OutputConfig
from synthgen.types import Sample
from synthgen.writers import coco, yolo
from synthgen.writers.files import atomic_write, encode_id_map, encode_image


@dataclass(frozen=True)
class SampleRecord:
    """The small, picklable part of a sample that the driver writes into run-wide files."""

    index: int
    coco_image: dict[str, Any]
    coco_annotations: list[dict[str, Any]]
    metadata_line: str
    instances: int


def write_sample_files(sample: Sample, out: Path, cfg: OutputConfig) -> SampleRecord:
    """Write the image (and its YOLO label and id map) atomically; return what the driver needs."""
    file_name = f"{sample.name}.{cfg.image_format}"
    atomic_write(out / "images" / file_name, encode_image(sample.image, cfg.image_format, cfg.jpeg_quality))
    if "yolo" in cfg.formats:
        atomic_write(out / "labels" / f"{sample.name}.txt", yolo.label_text(sample, cfg.yolo_task).encode())
    if cfg.id_maps:
        atomic_write(out / "masks" / f"{sample.name}.png", encode_id_map(sample.id_map))
    meta = dict(sample.metadata, file_name=file_name)
    return SampleRecord(
        index=sample.index,
        coco_image=coco.image_entry(sample, file_name),
        coco_annotations=coco.annotation_entries(sample, amodal=True),
        metadata_line=json.dumps(meta, separators=(",", ":")),
        instances=len(sample.instances),
    )


RUN_FILES = ("annotations.json", "metadata.jsonl", "data.yaml", "run.json")


class DatasetWriter:
    """Run-wide files, fed records in index order by the driver; all appear at ``close``."""

    def __init__(self, out: Path, cfg: OutputConfig, classes: tuple[str, ...], info: dict[str, Any]) -> None:
        self.out = out
        self.cfg = cfg
        self.classes = classes
        self.info = info
        for sub in ["images"] + (["labels"] if "yolo" in cfg.formats else []) + (["masks"] if cfg.id_maps else []):
            (out / sub).mkdir(parents=True, exist_ok=True)
        self._coco = coco.CocoWriter(out / "annotations.json", classes, info) if "coco" in cfg.formats else None
        self._meta_tmp = out / ".metadata.jsonl.part"
        self._meta = open(self._meta_tmp, "w")
        self.images = 0
        self.instances = 0

    def add(self, rec: SampleRecord) -> None:
        if self._coco is not None:
            self._coco.add(rec.coco_image, rec.coco_annotations)
        self._meta.write(rec.metadata_line + "\n")
        self.images += 1
        self.instances += rec.instances

    def close(self, run_info: dict[str, Any]) -> None:
        self._meta.close()
        if self._coco is not None:
            self._coco.close()
        os.replace(self._meta_tmp, self.out / "metadata.jsonl")
        if "yolo" in self.cfg.formats:
            atomic_write(self.out / "data.yaml", yolo.data_yaml(self.out, self.classes).encode())
        # run.json last: its presence says the folder is a complete dataset
        atomic_write(self.out / "run.json", (json.dumps(run_info, indent=2, sort_keys=True) + "\n").encode())

    def abort(self) -> None:
        self._meta.close()
        self._meta_tmp.unlink(missing_ok=True)
        if self._coco is not None:
            self._coco.discard()
