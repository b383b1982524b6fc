"""What a validation found: problems by kind, the report the CLI prints, and the state the
per-format checkers share."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from synthgen.errors import AssetError
from synthgen.io.images import image_size
from synthgen.io.issues import Issue
from synthgen.io.layout import Layout
from synthgen.io.paths import resolved_root
from synthgen.io.yolo import Yolo

# Problem kinds, in the order the summary lists them
KINDS = (
    "layout", "format", "path", "missing_file", "unreadable_image", "image_size", "duplicate_id", "unknown_image",
    "unknown_category", "bbox", "area", "out_of_bounds", "empty_mask", "mask_size", "overlap", "yolo_line",
    "yolo_mismatch", "wds_member", "id_map", "count_mismatch", "image_set", "checksum",
    "semantic", "panoptic", "voc", "keypoints", "lines", "track", "mot", "hf",
)
SAMPLE_EVERY = 20  # without --deep, every 20th image is fully decoded (all get the end-marker check)


@dataclass(frozen=True)
class Problem(Issue):
    """An issue as the report lists it; ``kind`` is one of KINDS."""

    def __str__(self) -> str:
        return f"[{self.kind}] {self.where}: {self.message}"


@dataclass
class Report:
    path: Path
    layouts: list[str] = field(default_factory=list)
    synthgen: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    problem_counts: Counter = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)  # the first ``max_problems``
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problem_counts

    @property
    def total_problems(self) -> int:
        return sum(self.problem_counts.values())

    def lines(self) -> list[str]:
        out = [f"{self.path}: {', '.join(self.layouts)}" + (" (synthgen dataset)" if self.synthgen else "")]
        if self.counts:
            out.append("  " + ", ".join(f"{k}: {v}" for k, v in self.counts.items()))
        out += [f"  note: {n}" for n in self.notes]
        if self.ok:
            out.append(f"sound: no problems found ({self.seconds:.1f} s)")
            return out
        kinds = sorted(self.problem_counts, key=lambda k: KINDS.index(k) if k in KINDS else len(KINDS))
        out.append(
            f"PROBLEMS: {self.total_problems} ("
            + ", ".join(f"{k}: {self.problem_counts[k]}" for k in kinds)
            + f") ({self.seconds:.1f} s)"
        )
        out += [f"  {p}" for p in self.problems]
        if self.total_problems > len(self.problems):
            out.append(f"  ... and {self.total_problems - len(self.problems)} more (--max-problems to list more)")
        return out


class Collector:
    """Counts problems by kind and keeps the first ones; one problem per (kind, where)."""

    def __init__(self, report: Report, max_problems: int) -> None:
        self.report = report
        self.max = max_problems
        self.seen: set[tuple[str, str]] = set()

    def __call__(self, kind: str, where: str, message: str) -> None:
        if (kind, where) in self.seen:
            return
        self.seen.add((kind, where))
        self.report.problem_counts[kind] += 1
        if len(self.report.problems) < self.max:
            self.report.problems.append(Problem(kind, where, message))

    def issues(self, issues: list[Issue]) -> None:
        for i in issues:
            self(i.kind, i.where, i.message)


@dataclass
class Checking:
    """What the checkers of one dataset share: its layout, where problems go, counts."""

    layout: Layout
    report: Report
    add: Collector
    synthgen: bool = False
    yolo: Yolo | None = None  # read once, used by the YOLO check and the COCO comparison
    coco_images: int = 0
    coco_names: list[str] = field(default_factory=list)  # file_names of the COCO images (the agreement check)
    wds_keys: dict[str, str] | None = None  # sample key -> its tar, when tars were read
    sizes: dict[Path, Any] = field(default_factory=dict)  # of an unmerged run: one shard's images at a time
    checked: int = 0  # images whose content was checked (every SAMPLE_EVERY-th is decoded)
    deep: bool = False  # decode every image, not a sample
    checksums: dict[str, tuple[int, str]] = field(default_factory=dict)  # rel path -> (size, sha256), a run's records (unmerged: the shard's)
    tick: Callable[[int], None] | None = None  # progress: one per image checked
    semantic_classes: Any = None  # io.semantic.SemanticClasses of a run with semantic maps
    categories: dict[str, int] | None = None  # class name -> category id of a synthgen run's COCO file
    segments: dict[Any, Any] | None = None  # image id -> (png, segments_info by id, RLE by id): the panoptic check's
    lane_images: dict[str, tuple] | None = None  # with lane files: COCO file_name -> (W, H, split, lines) (lanes.py)

    @cached_property
    def images_root(self) -> Path:
        """The COCO image folder, symlinks resolved (io/paths)."""
        return resolved_root(self.layout.images_dir)

    def count(self, key: str, n: int = 1) -> None:
        self.report.counts[key] = self.report.counts.get(key, 0) + n

    def image_size(self, path: Path) -> tuple[int, int] | str | None:
        """(width, height) as displayed (io/images); None when missing; an error message when
        unreadable."""
        if path not in self.sizes:
            if not path.is_file():
                self.sizes[path] = None
            else:
                try:
                    self.sizes[path] = image_size(path)
                except AssetError as exc:
                    self.sizes[path] = str(exc).removeprefix(f"{path}: ")
                else:
                    self.checked += 1
                    self.sizes[path] = self._content(path) or self.sizes[path]
            if self.tick is not None:
                self.tick(1)
        return self.sizes[path]

    def _content(self, path: Path) -> str | None:
        """Why the image's data is broken (truncated, undecodable), or None. Checks the end
        marker of every JPEG/PNG, decodes a sample (all with ``deep``), and compares the file with
        the size and sha256 its run recorded, when there is a record."""
        rel = Path(self.layout.rel(path)).as_posix()
        recorded = self.checksums.get(rel)
        decode = self.deep or self.checked % SAMPLE_EVERY == 1
        if recorded is not None or decode:
            data = path.read_bytes()
            tail = data[-32:]
        else:
            with path.open("rb") as f:
                f.seek(max(0, path.stat().st_size - 32))
                tail = f.read()
        if recorded is not None:
            size, sha = recorded
            if len(data) != size or hashlib.sha256(data).hexdigest() != sha:
                self.add("checksum", rel, f"{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:12]}..., "
                         f"but the run recorded {size} bytes, sha256 {sha[:12]}...: the file changed after it was written")
        suffix = path.suffix.lower()
        if suffix in (".jpg", ".jpeg") and tail.rstrip(b"\0\r\n ")[-2:] != b"\xff\xd9":
            return "truncated: the JPEG has no end marker (FFD9)"
        if suffix == ".png" and b"IEND" not in tail:
            return "truncated: the PNG has no IEND chunk"
        if decode:
            import io

            from PIL import Image

            try:
                with Image.open(io.BytesIO(data)) as im:
                    im.load()
            except Exception as exc:  # noqa: BLE001 (PIL raises many kinds)
                return f"cannot be decoded ({exc.__class__.__name__}: {exc})"
        return None


def recorded_checksums(root: Path, shard: str = "shard-*") -> dict[str, tuple[int, str]]:
    """Size and sha256 of every file a run's shard done records list (empty for other datasets);
    ``shard`` (e.g. "shard-000003"): that shard's only."""
    found: dict[str, tuple[int, str]] = {}
    for done in sorted((root / "shards").glob(f"{shard}.done.json")) if (root / "shards").is_dir() else []:
        try:
            files = json.loads(done.read_text()).get("files", {})
        except (OSError, ValueError, AttributeError):
            continue
        for rel, value in files.items() if isinstance(files, dict) else ():
            if isinstance(value, list) and len(value) == 2:
                found[rel] = (int(value[0]), str(value[1]))
    return found
