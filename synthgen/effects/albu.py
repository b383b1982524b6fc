"""A user's own albumentations pipeline (``A.to_dict`` form) as the last effect.

This is the only module that imports albumentations. The pipeline gets the image, the id map
as ``mask`` (nearest neighbour) and each object's in-frame silhouette as ``masks``; labels are
derived again from what comes back. The pipeline is opaque (no matrix to warp a region by), so
the silhouettes go in and come back as whole-frame masks. Never any boxes: albumentations moves
a box by its corners, so a rotated box grows. Every image gets its own generators from its own
seed (in 2.0.8, ``Compose(seed=...)`` would give every child transform the same seed).
"""

from __future__ import annotations

import os
import random
import warnings
from typing import Any

import numpy as np

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no version check over the network
import albumentations as A  # noqa: E402

from synthgen.errors import ConfigError  # noqa: E402
from synthgen.frame import Frame, Layer  # noqa: E402
from synthgen.geometry import tight_box  # noqa: E402


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def _from_dict(spec: dict[str, Any]) -> Any:
    """albumentations.from_dict with its warnings (e.g. a misspelled argument, which it would
    silently replace by its default) raised as errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return A.from_dict(spec)


def _culprit(transform: dict[str, Any], path: str) -> tuple[str, str]:
    """The config key path and class of the innermost transform that fails on its own."""
    for i, child in enumerate(transform.get("transforms") or []):
        if isinstance(child, dict):
            try:
                _from_dict({"transform": child})
            except Exception:  # noqa: BLE001 (albumentations raises many kinds for bad specs)
                return _culprit(child, f"{path}.transforms.{i}")
    return path, str(transform.get("__class_fullname__", "?"))


def build(spec: dict[str, Any]) -> A.Compose:
    """Build the pipeline of the config's ``albumentations`` key (its shape was checked with the
    config); an argument albumentations rejects is a ConfigError naming the transform's key."""
    transform = spec.get("transform", spec)
    try:
        pipeline = _from_dict({"transform": transform} if "transform" not in spec else spec)
    except Exception as exc:
        path, name = _culprit(transform, "albumentations.transform" if "transform" in spec else "albumentations")
        verb = "rejected" if isinstance(exc, Warning) else "could not build"
        raise ConfigError(f"{path} ({name}): albumentations {verb} the pipeline: {exc}") from None
    if not isinstance(pipeline, A.Compose):
        pipeline = A.Compose([pipeline])
    pipeline.save_applied_params = True
    return pipeline


class AlbumentationsPipeline:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.pipeline = build(spec)

    @staticmethod
    def sample(seed: int, index: int) -> dict[str, int]:
        from synthgen.effects.pipeline import STREAM_ALBUMENTATIONS, effect_rng

        rng = effect_rng(seed, index, STREAM_ALBUMENTATIONS, 0)
        return {"numpy_seed": int(rng.integers(2**63)), "python_seed": int(rng.integers(2**63))}

    def apply(self, frame: Frame, seeds: dict[str, int]) -> tuple[Frame, dict[str, Any]]:
        """The frame after the pipeline, and its record for the metadata."""
        H, W = frame.id_map.shape
        self.pipeline.set_random_state(np.random.default_rng(seeds["numpy_seed"]), random.Random(seeds["python_seed"]))
        inframe = [layer.inframe_full((H, W)) for layer in frame.layers]
        out = self.pipeline(image=np.ascontiguousarray(frame.image), mask=np.ascontiguousarray(frame.id_map), masks=inframe)
        new_image, new_map = out["image"], out["mask"]
        if new_image.shape[:2] != (H, W) or new_map.shape != (H, W):
            raise ValueError(
                f"the albumentations pipeline changed the image size to {new_image.shape[1]}x{new_image.shape[0]}; "
                "set canvas.width/height instead, or add a Resize back to the canvas size"
            )
        new_layers = []
        for layer, before, after in zip(frame.layers, inframe, out["masks"]):
            after = np.asarray(after).astype(bool)
            n_before, n_after = int(np.count_nonzero(before)), int(np.count_nonzero(after))
            # the part outside the frame is unknown to albumentations: scale it like the rest
            outside = layer.amodal_area - n_before
            area = n_after + (round(outside * n_after / n_before) if n_before else 0)
            new_layers.append(
                Layer(
                    instance_id=layer.instance_id,
                    roi=(0, H, 0, W),
                    inframe_mask=after,
                    amodal_area=max(area, n_after),
                    amodal_bbox=tight_box(after) or (0, 0, 0, 0),
                    whole_mask=after,
                    whole_origin=(0, 0),
                )
            )
        record = {"name": "albumentations", "severity": None, "params": {**seeds, "applied": _jsonable(out.get("applied_transforms", []))}}
        return Frame(image=new_image, id_map=new_map, layers=tuple(new_layers)), record
