"""A run's plan of shards and its manifest.json: what was asked for and which shards are done.

The manifest is rebuilt from the shards' done records on disk, so runs of different ``--shard``
parts that share a folder all describe the same state; sorted, no timestamps: reproducible bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthgen.errors import OutputError
from synthgen.io.files import atomic_write

MANIFEST = "manifest.json"
_STATE_KEYS = ("complete", "images_done", "shards")


@dataclass(frozen=True)
class ShardSpec:
    id: int
    start: int  # first index
    stop: int  # one past the last index

    @property
    def name(self) -> str:
        return f"shard-{self.id:06d}"

    def __len__(self) -> int:
        return self.stop - self.start


def plan_shards(num_images: int, shard_size: int) -> list[ShardSpec]:
    return [
        ShardSpec(i, start, min(start + shard_size, num_images))
        for i, start in enumerate(range(0, num_images, shard_size))
    ]


def done_path(out: Path, shard: ShardSpec) -> Path:
    return out / "shards" / f"{shard.name}.done.json"


def partial_path(out: Path, shard: ShardSpec) -> Path:
    """The list of files a shard has started to write (one path a line), while it has no done
    record: what a replaced or shrunk run removes of a shard that was killed part-way."""
    return out / "shards" / f"{shard.name}.partial"


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``, or None when it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def find_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest of the run in ``root``, or None when ``root`` holds no (readable) run."""
    return read_json(Path(root) / MANIFEST)


def unmerged_note(path: Path) -> str:
    """What to do when ``path`` is a synthgen run with no merged dataset yet ("" otherwise): read
    where a COCO or YOLO dataset is expected (combine, split)."""
    manifest = find_manifest(path) if Path(path).is_dir() else None
    if manifest is None or not (Path(path) / "shards").is_dir():
        return ""
    if not manifest.get("complete"):
        return (f"; it is a synthgen run that is not complete ({manifest.get('images_done')} of "
                f"{manifest.get('num_images')} images): finish it (the same generate command resumes), "
                f"then `synthgen merge {path}`")
    return f"; it is a synthgen run whose shards are not merged: `synthgen merge {path}` writes its annotations.json"


def read_manifest(run: Path) -> dict[str, Any]:
    """The manifest of the run in ``run``; OutputError naming the folder when there is none."""
    try:
        return json.loads((Path(run) / MANIFEST).read_text())
    except FileNotFoundError:
        raise OutputError(f"{run} holds no synthgen run (no manifest.json); run `synthgen generate` first") from None
    except ValueError as exc:
        raise OutputError(f"{run}/manifest.json is not valid JSON ({exc})") from None


def write_manifest(out: Path, info: dict[str, Any], shards: list[ShardSpec]) -> dict[str, Any]:
    """manifest.json from ``info`` (what the run is) and the done records on disk."""
    entries = {}
    for s in shards:
        rec = read_json(done_path(out, s))
        if rec and (rec.get("start"), rec.get("stop")) == (s.start, s.stop):
            entries[str(s.id)] = {k: rec[k] for k in ("shard", "start", "stop", "images", "instances")}
    manifest = {
        **info,
        "complete": len(entries) == len(shards),
        "images_done": sum(e["images"] for e in entries.values()),
        "shards": entries,
    }
    atomic_write(out / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())
    return manifest


def refresh_manifest(run: Path) -> dict[str, Any]:
    """Rebuild the manifest from the done records on disk (several machines may have written
    shards into this folder, each with its own view when it last wrote manifest.json)."""
    manifest = read_manifest(run)
    info = {k: v for k, v in manifest.items() if k not in _STATE_KEYS}
    return write_manifest(run, info, plan_shards(info["num_images"], info["shard_size"]))
