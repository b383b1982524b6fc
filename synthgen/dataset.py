"""On-the-fly samples for PyTorch: an IterableDataset that generates images in memory.

    from torch.utils.data import DataLoader
    from synthgen.dataset import SyntheticDataset

    ds = SyntheticDataset("configs/street.yaml", num_images=100_000)
    for batch in DataLoader(ds, batch_size=None, num_workers=4): ...

Indices are split across DataLoader workers without overlap (worker k takes k, k+W, k+2W, ...),
and sample i is the same image that `synthgen generate` writes as index i.

Batches of detection samples hold a different number of objects per image, which the default
collate cannot stack: pass ``collate_fn=collate`` (images stacked when they share a size,
everything else as lists, one entry per image):

    loader = DataLoader(ds, batch_size=8, num_workers=4, collate_fn=collate)

A written COCO folder (a run, a merged or a combined dataset) reads back as a map-style dataset
in torchvision's ``CocoDetection`` + ``tv_tensors`` convention: ``CocoFolder("out/")[i]`` is
``(image, target)``, image 3 x H x W uint8, target ``boxes`` (N x 4 float32, XYXY), ``labels``
(int64 category ids), ``masks`` (N x H x W bool), ``image_id``, ``area``, ``iscrowd``. When
torchvision imports, they are ``tv_tensors.Image``/``BoundingBoxes``/``Mask`` (so v2 transforms
move boxes and masks with the pixels); without it, plain tensors of the same shapes and dtypes.

Needs ``pip install -e '.[torch]'`` in the synthgen folder.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

try:
    import torch
    from torch.utils.data import Dataset, IterableDataset, get_worker_info
except ModuleNotFoundError as exc:
    if exc.name != "torch":
        raise
    raise ModuleNotFoundError(
        "synthgen.dataset needs PyTorch: pip install -e '.[torch]' in the synthgen folder (for the CPU "
        "build, first: pip install torch --index-url https://download.pytorch.org/whl/cpu)",
        name="torch",
    ) from None

from synthgen.config import Config, load_config
from synthgen.errors import AssetError
from synthgen.io.coco import (
    ENTRY_FIELDS,
    SeenIds,
    annotation_mask,
    image_shape,
    image_where,
    read_coco,
)
from synthgen.io.images import read_rgb
from synthgen.io.issues import DatasetError, Issue, raise_first
from synthgen.io.layout import detect_layout
from synthgen.types import Sample
from synthgen.worker import Images, WorkerContext


def _shrink_opencv_pool_around_forks() -> None:
    """A DataLoader forks its workers; a forked child that calls ``cv2.setNumThreads`` (as each
    worker does, to one thread) waits forever for the pool threads the parent had running, which
    did not come along. So before any fork of this process the parent's OpenCV pool is shrunk to
    one thread (its threads stopped), and its count restored in the parent after the fork."""
    import os

    import cv2

    saved: list[int] = []

    def before() -> None:
        saved.append(cv2.getNumThreads())
        cv2.setNumThreads(1)

    def after_in_parent() -> None:
        if saved:
            cv2.setNumThreads(saved.pop())

    os.register_at_fork(before=before, after_in_parent=after_in_parent, after_in_child=saved.clear)


_shrink_opencv_pool_around_forks()


def to_item(sample: Sample, semantic: list[str] | tuple[str, ...] | None = None) -> dict[str, Any]:
    """Tensors in torchvision's detection conventions: boxes are [x0, y0, x1, y1]. With
    ``semantic`` (what the class map marks 255, as ``output.semantic_ignore``), also ``semantic``:
    H x W uint8 class indices, the map ``--format semantic`` writes."""
    boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (i.bbox for i in sample.instances)], np.float32)
    masks = np.stack([sample.id_map == i.instance_id for i in sample.instances]) if sample.instances else np.zeros(
        (0, *sample.id_map.shape), bool
    )
    item = {
        "index": sample.index,
        "image": torch.from_numpy(np.ascontiguousarray(sample.image.transpose(2, 0, 1))),  # 3 x H x W uint8
        "boxes": torch.from_numpy(boxes.reshape(-1, 4)),
        "labels": torch.tensor([i.category_id for i in sample.instances], dtype=torch.int64),
        "masks": torch.from_numpy(masks),
        "id_map": torch.from_numpy(sample.id_map.astype(np.int32)),
    }
    if semantic is not None:
        from synthgen.writers.semantic import class_map

        item["semantic"] = torch.from_numpy(class_map(sample, semantic))
    return item


class SyntheticDataset(IterableDataset):
    """``semantic=True``: items carry ``semantic`` too (H x W uint8 class indices, 255 where the
    config's ``output.semantic_ignore`` says), with the default ``transform``."""

    def __init__(self, config: Config | dict | str | Path | None, num_images: int, start: int = 0, transform=to_item,
                 semantic: bool = False) -> None:
        super().__init__()
        for name, value in (("num_images", num_images), ("start", start)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, not {value!r}")
        num_images, start = int(num_images), int(start)
        if isinstance(config, dict):
            config = load_config(data=config)
        self.config = config if isinstance(config, Config) else load_config(config)
        self.start = start
        self.num_images = num_images
        if semantic and transform is to_item:
            transform = functools.partial(to_item, semantic=tuple(self.config.output.semantic_ignore))
        if semantic and not {"semantic", "voc"} & set(self.config.output.formats):  # the generator keeps what 255 marks
            output = self.config.output.model_copy(update={"formats": [*self.config.output.formats, "semantic"]})
            self.config = self.config.model_copy(update={"output": output})
        self.transform = transform
        self._ctx: WorkerContext | None = None  # made in the process that iterates

    def __len__(self) -> int:
        return self.num_images

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_ctx": None}  # a worker process builds its own

    def indices(self) -> range:
        ids = range(self.start, self.start + self.num_images)
        info = get_worker_info()
        return ids if info is None else ids[info.id :: info.num_workers]

    def __iter__(self) -> Iterator[Any]:
        if self._ctx is None:
            # a DataLoader worker is one of several processes: OpenCV at one thread there
            self._ctx = WorkerContext(threads=1 if get_worker_info() is not None else None)
        with self._ctx as ctx:
            factory = ctx.factory(Images(self.config.model_dump_json()))  # built once per process
            for index in self.indices():
                sample = factory.sample(index)
                yield self.transform(sample) if self.transform else sample


def _stack(images: list) -> torch.Tensor | list:
    """One B x C x H x W tensor when every image is a tensor of one shape, else the list."""
    if all(isinstance(im, torch.Tensor) for im in images) and len({tuple(im.shape) for im in images}) == 1:
        return torch.stack(images)
    return list(images)


def collate(batch: list) -> Any:
    """``collate_fn`` for detection batches, where images hold different numbers of objects.

    Dict items (SyntheticDataset's): a dict of the same keys, ``image`` stacked (B x 3 x H x W)
    when all images share a size, every other key a list with one entry per image.
    ``(image, target)`` pairs (CocoFolder's): ``(images, [target, ...])``, images stacked the
    same way.
    """
    if not batch:
        return batch
    first = batch[0]
    if isinstance(first, dict):
        out = {k: [item[k] for item in batch] for k in first}
        if "image" in out:
            out["image"] = _stack(out["image"])
        return out
    if isinstance(first, (tuple, list)) and len(first) == 2:
        images, targets = zip(*batch)
        return _stack(list(images)), list(targets)
    raise TypeError(f"collate takes dict items or (image, target) pairs, not {type(first).__name__}")


@functools.cache
def _tv_tensors() -> Any:
    """torchvision.tv_tensors, or None when torchvision is not installed (or does not import
    beside this torch)."""
    try:
        from torchvision import tv_tensors
    except (ImportError, RuntimeError, AttributeError):
        return None
    return tv_tensors


class CocoFolder(Dataset):
    """A written COCO dataset as a map-style dataset: ``(image, target)`` per image, in file order.

    ``path`` is a folder with ``annotations.json`` and ``images/`` (or an unmerged run's
    ``shards/shard-*.coco.json``), or a COCO json file with ``images`` naming its image folder.
    ``transforms(image, target)`` (torchvision v2 style) is applied to each item. ``masks=False``
    leaves masks out (for box-only datasets; with masks, a box-only annotation is an error).
    ``semantic=True`` adds ``target["semantic"]``, H x W uint8 class indices from the run's
    ``semantic/<image stem>.png`` (``--format semantic``; a ``tv_tensors.Mask``, so v2
    transforms move it with the pixels); a missing or mis-sized map is an error naming the file.
    """

    def __init__(self, path: str | Path, images: str | Path | None = None,
                 transforms: Callable | None = None, masks: bool = True, semantic: bool = False) -> None:
        super().__init__()
        layout = detect_layout(path, images)
        if not layout.has_coco:
            raise AssetError(f"{path}: no COCO annotations found (annotations.json, or a run's shards/shard-*.coco.json); "
                             f"it holds {', '.join(layout.describe()) or 'no dataset'}")
        if layout.coco_file:
            cocos = [read_coco(layout.coco_file, layout.rel(layout.coco_file))]
        elif layout.coco_parts:  # train.json and val.json: both (give one file to read one part)
            cocos = [read_coco(p, layout.rel(p)) for p in layout.coco_parts]
        else:
            seen, cats = SeenIds(), layout.fragment_categories()
            cocos = [read_coco(p, layout.rel(p), categories=cats, seen=seen) for p in layout.coco_fragments]
        for coco in cocos:
            raise_first(coco.issues)
        self.root = Path(layout.images_dir)
        self.semantic_dir = Path(layout.root) / "semantic" if semantic else None
        if self.semantic_dir is not None and not self.semantic_dir.is_dir():
            raise AssetError(f"{self.semantic_dir}: no semantic maps (write the run with --format ...,semantic), "
                             "or read it with CocoFolder(..., semantic=False)")
        self.transforms = transforms
        self.with_masks = masks
        self.categories: dict[Any, str] = cocos[0].categories  # category id -> name
        self.items: list[tuple[str, dict, list[dict]]] = [
            (coco.name, im, coco.annotations.get(iid, [])) for coco in cocos for iid, im in coco.images.items()
        ]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, dict[str, Any]]:
        name, entry, anns = self.items[i]
        where = image_where(name, entry)
        shape = image_shape(entry)
        if shape is None:
            raise DatasetError(Issue("format", where, ENTRY_FIELDS))
        file_name, W, H = shape
        rgb = read_rgb(self.root / file_name)
        if rgb.shape[:2] != (H, W):
            raise DatasetError(Issue("image_size", where, f"image file is {rgb.shape[1]}x{rgb.shape[0]}, the entry says {W}x{H}"))
        image = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)], np.float32).reshape(-1, 4)
        target: dict[str, Any] = {
            "image_id": entry["id"],
            "boxes": torch.from_numpy(boxes),
            "labels": torch.tensor([a["category_id"] for a in anns], dtype=torch.int64),
            "area": torch.tensor([float(a.get("area", 0.0)) for a in anns], dtype=torch.float32),
            "iscrowd": torch.tensor([int(a.get("iscrowd", 0)) for a in anns], dtype=torch.int64),
        }
        if self.with_masks:
            target["masks"] = torch.from_numpy(self._masks(name, anns, H, W))
        if self.semantic_dir is not None:
            target["semantic"] = torch.from_numpy(self._semantic(Path(file_name).stem, H, W))
        image, target = self._wrap(image, target, H, W)
        return self.transforms(image, target) if self.transforms else (image, target)

    def _semantic(self, stem: str, H: int, W: int) -> np.ndarray:
        from synthgen.io.semantic import read_class_map

        path = self.semantic_dir / f"{stem}.png"
        if not path.is_file():
            raise DatasetError(Issue("format", str(path), "missing: the class map of this image"))
        classes = read_class_map(path)
        if classes.shape != (H, W):
            raise DatasetError(Issue("image_size", str(path), f"is {classes.shape[1]}x{classes.shape[0]}, its image {W}x{H}"))
        return np.array(classes)  # writable: a tensor over it may be changed in place

    @staticmethod
    def _masks(name: str, anns: list[dict], H: int, W: int) -> np.ndarray:
        out = np.zeros((len(anns), H, W), bool)
        for k, a in enumerate(anns):
            where = f"{name} annotation {a.get('id')}"
            mask = annotation_mask(where, a.get("segmentation"), H, W)
            if mask is None:
                raise DatasetError(Issue("format", where, "has no segmentation (box only): read the dataset with CocoFolder(..., masks=False)"))
            out[k] = mask
        return out

    @staticmethod
    def _wrap(image: torch.Tensor, target: dict[str, Any], H: int, W: int) -> tuple[torch.Tensor, dict[str, Any]]:
        tv = _tv_tensors()
        if tv is None:
            return image, target
        target = {**target, "boxes": tv.BoundingBoxes(target["boxes"], format="XYXY", canvas_size=(H, W))}
        if "masks" in target:
            target["masks"] = tv.Mask(target["masks"])
        if "semantic" in target:
            target["semantic"] = tv.Mask(target["semantic"])
        return tv.Image(image), target
