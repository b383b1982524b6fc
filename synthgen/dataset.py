"""On-the-fly samples for PyTorch: an IterableDataset that generates images in memory.

    from torch.utils.data import DataLoader
    from synthgen.dataset import SyntheticDataset

    ds = SyntheticDataset("configs/street.yaml", num_images=100_000)
    for batch in DataLoader(ds, batch_size=None, num_workers=4): ...

Indices are split across DataLoader workers without overlap (worker k takes k, k+W, k+2W, ...),
and sample i is the same image that `synthgen generate` writes as index i. Needs
``pip install 'synthgen[torch]'``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from synthgen.config import Config, load_config
from synthgen.types import Sample
from synthgen.worker import Images, WorkerContext


def to_item(sample: Sample) -> dict[str, Any]:
    """Tensors in torchvision's detection conventions: boxes are [x0, y0, x1, y1]."""
    boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (i.bbox for i in sample.instances)], np.float32)
    masks = np.stack([sample.id_map == i.instance_id for i in sample.instances]) if sample.instances else np.zeros(
        (0, *sample.id_map.shape), bool
    )
    return {
        "index": sample.index,
        "image": torch.from_numpy(np.ascontiguousarray(sample.image.transpose(2, 0, 1))),  # 3 x H x W uint8
        "boxes": torch.from_numpy(boxes.reshape(-1, 4)),
        "labels": torch.tensor([i.category_id for i in sample.instances], dtype=torch.int64),
        "masks": torch.from_numpy(masks),
        "id_map": torch.from_numpy(sample.id_map.astype(np.int32)),
    }


class SyntheticDataset(IterableDataset):
    def __init__(self, config: Config | str | Path | None, num_images: int, start: int = 0, transform=to_item) -> None:
        super().__init__()
        self.config = config if isinstance(config, Config) else load_config(config)
        self.start = start
        self.num_images = num_images
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
