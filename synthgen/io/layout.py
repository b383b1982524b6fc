"""Which datasets a path holds: COCO, a run's unmerged shard fragments, YOLO, WebDataset tars.

    DIR/annotations.json (+ DIR/images/)     COCO; or a COCO json file with ``images=DIR``
    DIR/shards/shard-*.coco.json             an unmerged synthgen run (COCO fragments)
    DIR/train.json, DIR/val.json             COCO in parts (``synthgen combine``'s output)
    DIR/data.yaml (+ images/, labels/)       YOLO (Ultralytics layout, see io/yolo)
    DIR/webdataset/*.tar, or one tar         WebDataset shards as synthgen writes them
    DIR/Annotations/ + DIR/JPEGImages/       Pascal VOC
    DIR/panoptic.json (+ DIR/panoptic/)      COCO panoptic
    DIR/semantic/ (+ semantic_classes.json   semantic maps of a synthgen run (checked against its
                   or a manifest)            metadata.jsonl when there is no COCO)
    DIR/hf/<split>/metadata.jsonl            Hugging Face imagefolder (format hf)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthgen.errors import AssetError
from synthgen.io.manifest import find_manifest


@dataclass
class Layout:
    root: Path
    coco_file: Path | None = None
    coco_fragments: list[Path] = field(default_factory=list)  # an unmerged synthgen run
    coco_parts: list[Path] = field(default_factory=list)  # complete COCO files that share the images, ids unique across them
    images_dir: Path | None = None  # COCO file_names are relative to this
    yolo_yaml: Path | None = None
    wds_tars: list[Path] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    voc_root: Path | None = None  # a folder with Annotations/ and JPEGImages/
    panoptic_file: Path | None = None
    semantic_dir: Path | None = None  # DIR/semantic/ with semantic_classes.json or a run's manifest
    hf_dir: Path | None = None  # DIR/hf/ with a split's metadata.jsonl

    @property
    def has_coco(self) -> bool:
        return bool(self.coco_file or self.coco_fragments or self.coco_parts)

    def rel(self, p: Path) -> str:
        try:
            return str(Path(p).relative_to(self.root))
        except ValueError:
            return str(p)

    def fragment_categories(self) -> list[dict]:
        """The categories of a run's fragments, from its manifest (ids 1..K); with keypoints on,
        each class's keypoint names and 1-based skeleton, as the merged file's (writers/coco)."""
        m = self.manifest or {}
        schemas = m.get("keypoints") or {}
        out = []
        for i, c in enumerate(m.get("classes", [])):
            cat: dict[str, Any] = {"id": i + 1, "name": c}
            if isinstance(schemas.get(c), dict):
                cat["keypoints"] = list(schemas[c].get("names") or [])
                cat["skeleton"] = [[a + 1, b + 1] for a, b in schemas[c].get("skeleton") or []]
            out.append(cat)
        return out

    def describe(self) -> list[str]:
        out = []
        if self.coco_file:
            out.append(f"coco ({self.rel(self.coco_file)})")
        if self.coco_fragments:
            out.append(f"coco ({len(self.coco_fragments)} unmerged shard fragments)")
        if self.coco_parts:
            out.append(f"coco ({', '.join(self.rel(p) for p in self.coco_parts)})")
        if self.yolo_yaml:
            out.append(f"yolo ({self.rel(self.yolo_yaml)})")
        if self.wds_tars:
            out.append(f"webdataset ({len(self.wds_tars)} tar{'s' if len(self.wds_tars) != 1 else ''})")
        if self.voc_root:
            out.append("voc (Annotations/, JPEGImages/)")
        if self.panoptic_file:
            out.append(f"coco panoptic ({self.rel(self.panoptic_file)})")
        if self.semantic_dir:
            out.append("semantic (semantic/)")
        if self.hf_dir:
            out.append("hf imagefolder (hf/)")
        if (self.root / "lanes").is_dir() or (self.root / "list").is_dir():
            out.append("lanes (TuSimple lanes/, CULane list/)")
        return out


def detect_layout(path: str | Path, images: str | Path | None = None) -> Layout:
    """Which dataset layouts PATH holds; AssetError when none."""
    p = Path(path)
    if not p.exists():
        raise AssetError(f"{p} does not exist")
    if p.is_file():
        name = p.name.lower()
        if name.endswith(".json"):
            root = p.parent
            img = Path(images) if images else (root / "images" if (root / "images").is_dir() else root)
            return Layout(root=root, coco_file=p, images_dir=img, manifest=find_manifest(root))
        if name.endswith(".tar"):
            root = p.parent.parent if p.parent.name == "webdataset" else p.parent
            return Layout(root=root, wds_tars=[p], manifest=find_manifest(root))
        if name.endswith((".yaml", ".yml")):
            return Layout(root=p.parent, yolo_yaml=p, manifest=find_manifest(p.parent))
        raise AssetError(f"{p}: not a dataset file: give a COCO .json, a YOLO data.yaml, a WebDataset .tar or a folder")
    layout = Layout(root=p, manifest=find_manifest(p))
    if (p / "annotations.json").is_file():
        layout.coco_file = p / "annotations.json"
    elif layout.manifest is not None and (p / "shards").is_dir():
        layout.coco_fragments = sorted((p / "shards").glob("shard-*.coco.json"))
    elif (p / "train.json").is_file():
        layout.coco_parts = [p / f"{part}.json" for part in ("train", "val") if (p / f"{part}.json").is_file()]
    if layout.has_coco:
        layout.images_dir = Path(images) if images else p / "images"
    if (p / "data.yaml").is_file():
        layout.yolo_yaml = p / "data.yaml"
    layout.wds_tars = sorted((p / "webdataset").glob("*.tar")) if (p / "webdataset").is_dir() else []
    if (p / "Annotations").is_dir() and (p / "JPEGImages").is_dir():
        layout.voc_root = p
    if (p / "panoptic.json").is_file():
        layout.panoptic_file = p / "panoptic.json"
    if (p / "semantic").is_dir() and ((p / "semantic_classes.json").is_file() or layout.manifest is not None):
        layout.semantic_dir = p / "semantic"
    if (p / "hf").is_dir() and any((p / "hf").glob("*/metadata.jsonl")):
        layout.hf_dir = p / "hf"
    found = (layout.has_coco or layout.yolo_yaml or layout.wds_tars or layout.voc_root or layout.panoptic_file
             or layout.semantic_dir or layout.hf_dir)
    if not found:
        layout.wds_tars = sorted(p.glob("*.tar"))
    if not (found or layout.wds_tars):
        suite = sorted(d.name for d in p.iterdir() if (d / "annotations.json").is_file()) if (p / "suite.json").is_file() else []
        if suite:  # `synthgen stress --clips`: one clips run per variant
            raise AssetError(
                f"{p}: a stress suite of clips, one clips run per variant ({', '.join(suite[:6])}"
                f"{', ...' if len(suite) > 6 else ''}): give a variant, e.g. {p / suite[0]}"
            )
        if (p / "shards").is_dir() and (p / "config.yaml").is_file() and not (p / "manifest.json").exists():
            raise AssetError(f"{p}: a synthgen run that has not finished (no manifest.json yet: stopped or still "
                             "running): run the same generate command again, it resumes")
        parts = [p / d for d in ("train", "val") if (p / d).is_dir()]
        if (p / "split.json").is_file() and parts:  # `synthgen split`'s folder: one dataset per part
            raise AssetError(f"{p}: a dataset split made by synthgen split, one dataset per part: give "
                             f"{' or '.join(str(d) for d in parts)}")
        raise AssetError(
            f"{p}: no dataset found: expected annotations.json or train.json (COCO), data.yaml (YOLO), webdataset/*.tar, "
            "Annotations/ and JPEGImages/ (VOC), panoptic.json (COCO panoptic), semantic/ with semantic_classes.json "
            "(a synthgen run's semantic maps), hf/<split>/metadata.jsonl (imagefolder), "
            "or give a COCO json file with --images"
        )
    return layout
