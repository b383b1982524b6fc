"""A user's own albumentations pipeline (``A.to_dict`` form) as the last effect.

This is the only module that imports albumentations. The pipeline gets the image, the id map
as ``mask`` (nearest neighbour) and each object's in-frame silhouette as ``masks``; labels are
derived again from what comes back. The pipeline is opaque (no matrix to warp a region by), so
the silhouettes go in and come back as whole-frame masks; where a transform that moves pixels
was applied, the parts outside the frame are unknown and so are the amodal fields (None). Never any boxes: albumentations moves
a box by its corners, so a rotated box grows. Every image gets its own generators from its own
seed (in 2.0.8, ``Compose(seed=...)`` would give every child transform the same seed).
"""

from __future__ import annotations

import functools
import inspect
import os
import re
import warnings
from typing import Any

import numpy as np

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no version check over the network
import albumentations as A  # noqa: E402
from albumentations.augmentations.dropout.transforms import BaseDropout  # noqa: E402

from synthgen.errors import ConfigError  # noqa: E402
from synthgen.frame import Frame, Layer  # noqa: E402
from synthgen.rng import Stream, image_rng, seeded_python_rng, seeded_rng  # noqa: E402


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


_INVALID = re.compile(r"Argument\(s\) '([^']*)' are not valid for transform (\w+)")


@functools.lru_cache(maxsize=None)
def _written_by_to_dict(name: str) -> frozenset[str]:
    """Arguments that albumentations' own ``to_dict`` writes for transform ``name`` although its
    constructor does not take them (SafeRotate writes Affine's, PadIfNeeded ``padding``...):
    a pipeline saved by ``A.to_dict`` carries them, and they are not the user's misspellings."""
    from albumentations.core.serialization import SERIALIZABLE_REGISTRY

    cls = SERIALIZABLE_REGISTRY.get(name)
    if cls is None:
        return frozenset()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            written = set(A.to_dict(cls())["transform"])
    except Exception:  # noqa: BLE001 (a transform that needs arguments: nothing to forgive)
        return frozenset()
    return frozenset(written - set(inspect.signature(cls.__init__).parameters))


def _from_dict(spec: dict[str, Any]) -> Any:
    """albumentations.from_dict, with an argument it does not know (a misspelling, which it
    would silently replace by its default) raised as an error. Its other warnings (a transform
    it calls deprecated or slow) are not errors: the pipeline is what the user saved."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipeline = A.from_dict(spec)
    for w in caught:
        m = _INVALID.search(str(w.message))
        if m is None:
            continue
        unknown = [a.strip() for a in m.group(1).split(",") if a.strip() not in _written_by_to_dict(m.group(2))]
        if unknown:
            raise UserWarning(f"Argument(s) '{', '.join(unknown)}' are not valid for transform {m.group(2)}")
    return pipeline


def _culprit(transform: dict[str, Any], path: str) -> tuple[str, str]:
    """The config key path and class of the innermost transform that fails on its own."""
    for i, child in enumerate(transform.get("transforms") or []):
        if isinstance(child, dict):
            try:
                _from_dict({"transform": child})
            except Exception:  # noqa: BLE001 (albumentations raises many kinds for bad specs)
                return _culprit(child, f"{path}.transforms.{i}")
    return path, str(transform.get("__class_fullname__", "?"))


# Keypoints go through the pipeline as keypoints (pixel-index x, y), every one kept, in order:
# none is dropped for leaving the frame (synthgen gives it v = 0) nor checked between transforms.
KEYPOINT_PARAMS = {"format": "xy", "remove_invisible": False, "check_each_transform": False}


def build(spec: dict[str, Any], keypoints: bool = False) -> A.Compose:
    """Build the pipeline of the config's ``albumentations`` key (its shape was checked with the
    config); an argument albumentations rejects is a ConfigError naming the transform's key.
    ``keypoints``: the pipeline also moves keypoints (``KEYPOINT_PARAMS``; the random choices,
    and so the pixels, are those of the same pipeline without)."""
    transform = spec.get("transform", spec)
    if keypoints:
        if transform.get("__class_fullname__") not in ("Compose", "albumentations.core.composition.Compose"):
            transform = {"__class_fullname__": "Compose", "transforms": [transform]}
        transform = {**transform, "keypoint_params": KEYPOINT_PARAMS}
        spec = {**spec, "transform": transform} if "transform" in spec else transform
    try:
        pipeline = _from_dict({"transform": transform} if "transform" not in spec else spec)
    except Exception as exc:
        path, name = _culprit(transform, "albumentations.transform" if "transform" in spec else "albumentations")
        verb = "rejected" if isinstance(exc, Warning) else "could not build"  # Warning: an unknown argument
        raise ConfigError(f"{path} ({name}): albumentations {verb} the pipeline: {exc}") from None
    if not isinstance(pipeline, A.Compose):
        pipeline = A.Compose([pipeline])
    try:
        check_labels_follow_pixels(pipeline)
    except ValueError as exc:
        raise ConfigError(f"albumentations: {exc}") from None
    pipeline.save_applied_params = True
    return pipeline


# Transforms that blank out regions of the image: their erased pixels must leave the labels too.
_ERASING = ("CoarseDropout", "ConstrainedCoarseDropout", "GridDropout", "XYMasking", "Erasing")


def _walk(transform: Any):
    yield transform
    for child in getattr(transform, "transforms", None) or ():
        yield from _walk(child)


def _nonzero(value: Any) -> bool:
    return value is not None and bool(np.any(np.asarray(value, dtype=np.float64) != 0))


def check_labels_follow_pixels(pipeline: A.BaseCompose) -> None:
    """Refuse transforms whose settings would make the id map disagree with the image.

    The id map and the silhouettes go through the pipeline as masks: they may only be resampled
    nearest-neighbour (blending two ids gives a third, unrelated one), padding must be
    background (0), and a transform that erases pixels must erase them from the masks as well.
    """
    for t in _walk(pipeline):
        name = type(t).__name__
        interp = getattr(t, "mask_interpolation", None)
        if interp is not None and interp != 0:
            raise ValueError(
                f"{name}: mask_interpolation={interp} would blend instance ids at object edges; "
                "ids and silhouettes are resampled nearest-neighbour only: use 0 (cv2.INTER_NEAREST) or leave it out"
            )
        fill_mask = getattr(t, "fill_mask", None)
        if name in _ERASING and fill_mask is None:
            raise ValueError(
                f"{name} erases pixels but by default leaves the masks as they were, so the labels would "
                "cover blanked-out pixels: set fill_mask: 0 (erased pixels become background)"
            )
        if _nonzero(fill_mask):
            raise ValueError(
                f"{name}: fill_mask={fill_mask!r} would label the filled pixels as an object; "
                "use fill_mask: 0 (background)"
            )
        if name == "PixelDropout" and getattr(t, "mask_drop_value", None) != 0:
            raise ValueError(
                f"PixelDropout: mask_drop_value={getattr(t, 'mask_drop_value', None)!r} leaves dropped pixels "
                "labeled; set mask_drop_value: 0"
            )


def _cross(u: np.ndarray, v: np.ndarray) -> float:
    return float(u[0] * v[1] - u[1] * v[0])


def still_transforms(pipeline: A.BaseCompose) -> frozenset[str]:
    """Names of the pipeline's transforms that move no pixel: pixel-level ones (albumentations'
    ImageOnlyTransform) and those that only erase (the dropout family, whose erased pixels leave
    the masks). An image to which only these were applied keeps its amodal fields."""
    return frozenset(
        type(t).__name__ for t in _walk(pipeline) if isinstance(t, (A.ImageOnlyTransform, BaseDropout, A.PixelDropout))
    )


# Transforms that erase pixels and move none (their holes are not the fill of a transform that moves).
_ERASERS = (BaseDropout, A.PixelDropout, A.MaskDropout)


def _erase_except(apply: Any, keep: tuple[int, ...], masks: Any, **params: Any) -> Any:
    """An eraser's ``apply_to_masks`` that leaves the masks at positions ``keep`` as they came."""
    kept = [np.array(masks[i], copy=True) for i in keep]
    out = apply(masks, **params)
    out = np.array(out, copy=True) if not isinstance(out, list) else list(out)
    for i, m in zip(keep, kept):
        out[i] = m
    return out


class AlbumentationsPipeline:
    def __init__(self, spec: dict[str, Any], keypoints: bool = False) -> None:
        self.pipeline = build(spec, keypoints)
        self.still = still_transforms(self.pipeline)
        self.keypoints = keypoints

    @staticmethod
    def sample(seed: int, index: int) -> dict[str, int]:
        rng = image_rng(seed, index, Stream.ALBUMENTATIONS, 0)
        return {"numpy_seed": int(rng.integers(2**63)), "python_seed": int(rng.integers(2**63))}

    def apply(self, frame: Frame, seeds: dict[str, int]) -> tuple[Frame, dict[str, Any]]:
        """The frame after the pipeline, and its record for the metadata."""
        return self.apply_with_points(frame, seeds)[:2]

    def replay_on_masks(self, image: np.ndarray, id_map: np.ndarray, seeds: dict[str, int], masks: list[np.ndarray],
                        unerased: tuple[int, ...] = ()) -> list[np.ndarray]:
        """``masks`` (H x W each: a class map, a map of where the image is) through the very
        transforms the pipeline gave the frame of ``image`` and ``id_map`` with ``seeds``: the id
        map goes in again as the mask, so a transform that chooses from it (CropNonEmptyMaskIfExists,
        MaskDropout) chooses as it did for the frame. The masks at positions ``unerased`` are
        moved but not erased: the dropout family leaves them as they came (what they draw is
        unchanged), so a map of ones comes back 0 only in the pipeline's fill, not in its holes."""
        self.pipeline.set_random_state(seeded_rng(seeds["numpy_seed"]), seeded_python_rng(seeds["python_seed"]))
        saved = []
        if unerased:
            for t in _walk(self.pipeline):
                apply = getattr(t, "_key2func", {}).get("masks")
                if apply is not None and isinstance(t, _ERASERS):
                    saved.append((t, apply))
                    t._key2func["masks"] = functools.partial(_erase_except, apply, unerased)
        try:
            out = self.pipeline(image=np.ascontiguousarray(image), mask=np.ascontiguousarray(id_map),
                                masks=[np.ascontiguousarray(m) for m in masks])
        finally:
            for t, apply in saved:
                t._key2func["masks"] = apply
        return [np.asarray(m) for m in out["masks"]]

    def apply_with_points(self, frame: Frame, seeds: dict[str, int], points: np.ndarray | None = None
                          ) -> tuple[Frame, dict[str, Any], np.ndarray | None, bool]:
        """:meth:`apply`, moving ``points`` ((n, 2) pixel-index x, y; NaN: unlabeled, stays NaN)
        with the pixels (a pipeline built with ``keypoints``). Also returns whether the
        pipeline mirrored the image (its transforms reverse the orientation of three probe
        points: a flip, a transpose), when the points' left and right names swap."""
        H, W = frame.id_map.shape
        self.pipeline.set_random_state(seeded_rng(seeds["numpy_seed"]), seeded_python_rng(seeds["python_seed"]))
        inframe = [layer.inframe_full((H, W)) for layer in frame.layers]
        extra: dict[str, Any] = {}
        if points is not None:
            if not self.keypoints:
                raise ValueError("this pipeline was built without keypoints")
            probes = np.array([[W / 4, H / 4], [3 * W / 4, H / 4], [W / 4, 3 * H / 4]])
            labeled = np.isfinite(points).all(axis=1)
            extra["keypoints"] = np.vstack([np.where(labeled[:, None], points, 0.0), probes]).astype(np.float64)
        out = self.pipeline(image=np.ascontiguousarray(frame.image), mask=np.ascontiguousarray(frame.id_map), masks=inframe, **extra)
        moved, mirrored = None, False
        if points is not None:
            got = np.asarray(out["keypoints"], np.float64).reshape(-1, 2) if len(out["keypoints"]) else np.zeros((0, 2))
            if got.shape != extra["keypoints"].shape:
                raise ValueError(f"the albumentations pipeline returned {len(got)} of {len(extra['keypoints'])} keypoints")
            moved = np.where(labeled[:, None], got[: len(points)], np.nan)
            (a, b, c), (a2, b2, c2) = probes, got[len(points):]
            mirrored = bool(_cross(b - a, c - a) * _cross(b2 - a2, c2 - a2) < 0)
        new_image, new_map = out["image"], out["mask"]
        if new_image.shape[:2] != (H, W) or new_map.shape != (H, W):
            raise ConfigError(
                f"albumentations: the pipeline changed the image size to {new_image.shape[1]}x{new_image.shape[0]}; "
                "set canvas.width/height instead, or add a Resize back to the canvas size"
            )
        applied = out.get("applied_transforms", [])
        if all(name in self.still for name, *_ in applied):
            # nothing moved: every silhouette is where it was (erased pixels are hidden, not gone)
            new_layers = list(frame.layers)
        else:
            # the pipeline is opaque: the in-frame silhouettes came through it as masks, but what
            # became of the parts outside the frame cannot be known
            new_layers = [
                Layer(instance_id=layer.instance_id, roi=(0, H, 0, W), inframe_mask=np.asarray(after).astype(bool),
                      whole_mask=None, whole_origin=(0, 0), frame_wh=(W, H))
                for layer, after in zip(frame.layers, out["masks"])
            ]
        record = {"name": "albumentations", "severity": None, "params": {**seeds, "applied": _jsonable(out.get("applied_transforms", []))}}
        return Frame(image=new_image, id_map=new_map, layers=tuple(new_layers)), record, moved, mirrored
