"""The two floors synthgen is measured against, in the same run (see bench/run_all.py).

- **Encode floor**: what any generator writing the same dataset must pay: JPEG-encode each image
  at the run's quality and write it, and pycocotools-RLE-encode each instance's mask, handed to
  it ready as a Fortran-order uint8 array (building the masks is not part of the floor: a
  generator can encode from its own id map).
- **Composite floor**: a minimal generator for the peer workload (bench/workload.py): decode the
  assets once, one warp per object, a hard paste, then JPEG + id-map PNG + a box file per image.
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from synthgen.writers.files import encode_image

from workload import CANVAS, OBJECTS, QUALITY, SIDE_PX


def encode_floor(gen, indices, out: Path, quality: int, batch: int = 50) -> float:
    """CPU seconds of the encode floor over the samples ``indices`` of ``gen``.

    Samples are made (untimed) in batches, so that memory stays small for long runs.
    """
    out.mkdir(parents=True, exist_ok=True)
    cpu = 0.0
    indices = list(indices)
    for b in range(0, len(indices), batch):
        samples = [gen.sample(i) for i in indices[b : b + batch]]
        masks = [[np.asfortranarray(s.id_map == inst.instance_id, dtype=np.uint8) for inst in s.instances] for s in samples]
        t = time.process_time()
        for s, ms in zip(samples, masks):
            (out / f"{s.name}.jpg").write_bytes(encode_image(s.image, "jpg", quality))
            for m in ms:
                mask_utils.encode(m)
        cpu += time.process_time() - t
    return cpu


class CompositeFloor:
    """The minimal generator of the peer workload. ``decode once``: at construction."""

    def __init__(self, root: Path, seed: int = 0) -> None:
        self.backgrounds = [cv2.imread(str(p)) for p in sorted((root / "backgrounds").glob("*.jpg"))]
        self.cutouts = [cv2.imread(str(p), cv2.IMREAD_UNCHANGED) for p in sorted((root / "objects").glob("*/*.png"))]
        self.seed = seed

    def image(self, index: int) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int, int]]]:
        rng = np.random.default_rng([self.seed, index])
        W, H = CANVAS
        image = self.backgrounds[int(rng.integers(len(self.backgrounds)))].copy()
        ids = np.zeros((H, W), np.uint16)
        rois = []
        lo, hi = math.log(SIDE_PX[0]), math.log(SIDE_PX[1])
        for k in range(1, int(rng.integers(OBJECTS[0], OBJECTS[1] + 1)) + 1):
            cut = self.cutouts[int(rng.integers(len(self.cutouts)))]
            ch, cw = cut.shape[:2]
            s = math.exp(rng.uniform(lo, hi)) / max(cw, ch)
            angle = float(rng.uniform(0, 360))
            cx, cy = float(rng.uniform(0, W)), float(rng.uniform(0, H))
            M = cv2.getRotationMatrix2D(((cw - 1) / 2, (ch - 1) / 2), angle, s)
            M[:, 2] += (cx - (cw - 1) / 2, cy - (ch - 1) / 2)
            corners = np.array([[0, 0, 1], [cw, 0, 1], [cw, ch, 1], [0, ch, 1]], np.float64) @ M.T
            x0, y0 = (max(int(v), 0) for v in np.floor(corners.min(0)))
            x1, y1 = min(int(math.ceil(corners[:, 0].max())) + 1, W), min(int(math.ceil(corners[:, 1].max())) + 1, H)
            if x0 >= x1 or y0 >= y1:
                continue
            M[:, 2] -= (x0, y0)
            warped = cv2.warpAffine(cut, M, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)
            hard = warped[..., 3] >= 128
            image[y0:y1, x0:x1][hard] = warped[..., :3][hard]
            ids[y0:y1, x0:x1][hard] = k
            rois.append((k, x0, y0, x1, y1))
        boxes = []
        for k, x0, y0, x1, y1 in rois:
            m = ids[y0:y1, x0:x1] == k
            rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
            if rows.size:
                boxes.append((x0 + int(cols[0]), y0 + int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)))
        return image, ids, boxes

    def write(self, indices, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        W, H = CANVAS
        for i in indices:
            image, ids, boxes = self.image(i)
            (out / f"{i:08d}.jpg").write_bytes(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])[1].tobytes())
            (out / f"{i:08d}.png").write_bytes(cv2.imencode(".png", ids)[1].tobytes())
            (out / f"{i:08d}.txt").write_text(
                "".join(f"0 {(x + w / 2) / W:.6f} {(y + h / 2) / H:.6f} {w / W:.6f} {h / H:.6f}\n" for x, y, w, h in boxes)
            )


def composite_floor(root: Path, indices, out: Path) -> float:
    """CPU seconds of the composite floor writing images ``indices`` (assets decoded untimed)."""
    floor = CompositeFloor(root)
    t = time.process_time()
    floor.write(indices, out)
    return time.process_time() - t


def composite_floor_worker(args: tuple[str, list[int], str]) -> int:
    """One process of a multi-process composite floor run (for the scaling reference)."""
    import cv2 as _cv2

    _cv2.setNumThreads(1)
    root, indices, out = args
    CompositeFloor(Path(root)).write(indices, Path(out))
    return len(indices)


def file_creation_ms(folder: Path, n: int = 200, size: int = 60_000) -> float:
    """CPU ms to create and write one JPEG-sized file in ``folder`` (a new one each time)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = b"\0" * size
    t = time.process_time()
    for i in range(n):
        (folder / f"{i:06d}.bin").write_bytes(data)
    ms = 1000 * (time.process_time() - t) / n
    shutil.rmtree(folder)
    return ms
