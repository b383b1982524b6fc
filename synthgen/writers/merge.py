"""Merging a run's shards into one dataset: annotations.json and metadata.jsonl, streaming.

Fragments are read one shard at a time, so memory does not grow with the run. Merging into
another folder links the images there (hard links where the file system allows, else copies).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from synthgen.errors import OutputError
from synthgen.io.files import atomic_write
from synthgen.io.manifest import refresh_manifest
from synthgen.writers import yolo


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _shard_records(run: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    missing = [s for s in range(manifest["num_shards"]) if str(s) not in manifest["shards"]]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise OutputError(
            f"{run}: shards {missing[:5]}{more} of {manifest['num_shards']} are not finished; "
            "run the remaining ones (the same generate command resumes) before merging"
        )
    return [manifest["shards"][str(s)] for s in range(manifest["num_shards"])]


def merge_run(run: Path, dest: Path | None = None) -> dict[str, Any]:
    """Write DEST/annotations.json (coco) and DEST/metadata.jsonl from RUN's shards."""
    run = Path(run)
    dest = Path(dest) if dest is not None else run
    manifest = refresh_manifest(run)
    shards = _shard_records(run, manifest)
    dest.mkdir(parents=True, exist_ok=True)
    names = [f"shard-{r['shard']:06d}" for r in shards]

    if "coco" in manifest["formats"]:
        tmp = dest / f".annotations.json.tmp{os.getpid()}"
        categories = [{"id": i + 1, "name": c, "supercategory": "object"} for i, c in enumerate(manifest["classes"])]
        info = {"description": "synthgen", "seed": manifest["seed"], "config_digest": manifest["config_digest"]}
        with open(tmp, "w") as out:
            out.write('{"info":' + _dumps(info) + ',"licenses":[],"images":[')
            for key in ("images", "annotations"):
                first = True
                for name in names:
                    frag = json.loads((run / "shards" / f"{name}.coco.json").read_text())
                    for entry in frag[key]:
                        out.write(("\n" if first else ",\n") + _dumps(entry))
                        first = False
                out.write("\n],")
                if key == "images":
                    out.write('"annotations":[')
            out.write('"categories":' + _dumps(categories) + "}\n")
        os.replace(tmp, dest / "annotations.json")

    tmp = dest / f".metadata.jsonl.tmp{os.getpid()}"
    with open(tmp, "wb") as out:
        for name in names:
            with open(run / "shards" / f"{name}.jsonl", "rb") as part:
                shutil.copyfileobj(part, out)
    os.replace(tmp, dest / "metadata.jsonl")

    if dest.resolve() != run.resolve():
        for sub in ("images", "labels", "masks"):
            if (run / sub).is_dir():
                _link_tree(run / sub, dest / sub)
        shutil.copy2(run / "config.yaml", dest / "config.yaml")
    if "yolo" in manifest["formats"]:
        atomic_write(dest / "data.yaml", yolo.data_yaml(tuple(manifest["classes"])).encode())
    return {"images": sum(r["images"] for r in shards), "instances": sum(r["instances"] for r in shards), "dest": dest}


def _link_tree(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for p in src.iterdir():
        if p.name.startswith("."):
            continue
        target = dst / p.name
        if target.exists():
            continue
        try:
            os.link(p, target)
        except OSError:
            shutil.copy2(p, target)
