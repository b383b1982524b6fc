"""Where the real pixels of an image came from, so that validation data cannot leak into training.

A *source* names one real image: ``{"kind": "scene" | "cutout", "dataset": <resolved dataset
root>, "image": <path inside it, or absolute when outside>, "sha256": <of the image file>}``
(a cutout's also names its ``asset``). ``extract`` writes one beside every cutout
(``<name>.json``); a synthetic image made from real pixels lists its scene's and its cutouts'
in ``sources`` (metadata.jsonl and its COCO image entry); ``combine`` and ``split`` compare
them with validation images by path and by content, so a copied or moved dataset still matches.

A leaf: the generator may use it, and it reads nothing but sidecar JSON files and image bytes.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

SIDECAR_KEYS = ("dataset", "image", "sha256")


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def dataset_root(source: str | Path) -> Path:
    """The resolved root of a dataset named by its annotations file or its folder."""
    p = Path(source).resolve()
    return p.parent if p.is_file() else p


def inside(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` (posix), or its absolute path when it lies outside."""
    path = Path(path).resolve()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


@lru_cache(maxsize=4096)
def image_source(kind: str, dataset: str, image: str) -> dict[str, Any]:
    """The source record of image file ``image`` of the dataset rooted at ``dataset``."""
    root = dataset_root(dataset)
    return {"kind": kind, "dataset": str(root), "image": inside(Path(image), root), "sha256": file_sha256(image)}


def resolved_image(source: dict) -> Path | None:
    """The absolute path a source record names (None when it names none)."""
    image = source.get("image")
    if not isinstance(image, str):
        return None
    return Path(source.get("dataset") or "/") / image


@lru_cache(maxsize=4096)
def _sidecar(json_path: str) -> dict[str, Any] | None:
    try:
        doc = json.loads(Path(json_path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), str) for k in SIDECAR_KEYS):
        return None
    return {k: doc[k] for k in SIDECAR_KEYS}


def cutout_source(root: str | Path | None, asset: str) -> dict[str, Any] | None:
    """The source of cutout ``asset`` (relative to ``root``) when ``extract`` recorded one."""
    if root is None:
        return None
    side = _cutout_sidecar(str(root), asset)  # asked for every pasted object of every image
    return None if side is None else {"kind": "cutout", "asset": asset, **side}


@lru_cache(maxsize=4096)
def _cutout_sidecar(root: str, asset: str) -> dict[str, Any] | None:
    return _sidecar(str((Path(root) / asset).with_suffix(".json")))


def scene_sources(config: Any, library: Any, scene: Any) -> list[dict[str, Any]]:
    """The real images behind a sampled scene: its background when it is a real scene, and
    every pasted cutout that ``extract`` cut out of a real image. Empty for bundled or
    hand-made assets (no sidecar with a source)."""
    out: list[dict[str, Any]] = []
    bg = scene.background
    if bg.real_scene and library.scenes is not None:
        out.append(image_source("scene", library.scenes.source, str(library.scenes.images[bg.index].path)))
    objects, distractors = config.assets.objects, config.assets.distractors
    for p in scene.placements:
        roots = (distractors, objects) if p.distractor else (objects, distractors)
        src = next((s for s in (cutout_source(r, p.asset) for r in roots) if s is not None), None)
        if src is not None and src not in out:
            out.append(src)
    return out
