"""Open cut-and-paste generators ("peers") on the shared workload, beside synthgen, in one process.

    python bench/peers.py --cpl PATH/syndata-generation --cpa PATH/copy-paste-aug [-n 200] [--repeats 3]

Prints images per CPU-second of each peer and of synthgen on the same assets (bench/workload.py:
640x480, 4-8 cutouts whose longer side is 100-300 px, rotated 0-360, JPEG quality 90), measured
in alternation in this one process (``time.process_time``; assets made and converted untimed),
and the ratio synthgen / peer. A peer left out (no path given) is skipped.

The peers are not dependencies and none of their code is in this repository: give the path of a
checkout of each (``git clone``, or any copy of its files). They are run as unchanged as their
age allows:

- **Cut, Paste and Learn** (github.com/debidatta/syndata-generation, Dwibedi et al. 2017) is
  Python 2. Its ``dataset_generator.py`` and ``defaults.py`` are copied into a temporary folder
  and ported there by textual rules (see ``CPL_RULES``): print statements, ``xrange``, Pillow's
  removed ``ANTIALIAS`` alias (now ``LANCZOS``, the same filter), the imports of its Poisson
  (``pb``) and ``pyblur`` helpers, which only its ``poisson`` and ``motion`` modes use (not
  run: they are not in its repository), and its JPEG quality (Pillow's default 75) set to the
  workload's 90. Its own per-image function ``create_image_anno`` then makes each image with
  blending ``none``: it reads the cutout files (JPEG + inverted PBM mask, converted untimed
  from the workload's PNG cutouts), scales by 0.5-1.3 (the workload's cutouts are 150-260 px,
  so 100-300 px), rotates by -180..180 degrees, pastes, writes the JPEG and its VOC XML. The
  objects of an image (4-8) are drawn by this script as its ``gen_syn_data`` would.
- **copy-paste-aug** (github.com/conradry/copy-paste-aug, "Simple Copy-Paste") is an
  albumentations transform of the 0.5/1.x API (``get_params_dependent_on_targets``,
  ``apply_with_params``), which albumentations 2 no longer has; its module-level functions do
  the work and are called directly: ``image_copy_paste`` (blend=True, sigma=1, as its README
  shows), ``masks_copy_paste`` and ``extract_bboxes``. It pastes the objects of a second image
  at their place there, so each image's paste source, a 640x480 canvas with the image's 4-8
  cutouts each warped once (scale, rotation 0-360, position) and their full-frame masks, is made
  here with OpenCV and timed with it, as a dataset would have to hand it over; then the JPEG
  (quality 90) and a box file are written. It needs scikit-image (``skimage.filters.gaussian``):
  ``--site DIR`` adds a folder holding it to ``sys.path``.

synthgen runs as ``bench/run_all.py``'s peer-workload row does: ``generate`` on one worker with
``workload.config_overrides`` (hard pastes, YOLO boxes and an id map per image).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workload  # noqa: E402

CPL_RULES = (  # (pattern, replacement) on dataset_generator.py: Python 2 -> 3, nothing else
    (r"(?m)^(\s*)print (.*)$", r"\1print(\2)"),
    (r"\bxrange\(", "range("),
    (r"Image\.ANTIALIAS", "Image.LANCZOS"),
    (r"(?m)^from pb import \*$", "# from pb import *  (Poisson mode only)"),
    (r"(?m)^from pyblur import \*$", "# from pyblur import *  (motion mode only)"),
    (r"\.save\(img_file\.replace\('none', blending_list\[i\]\)\)", ".save(img_file.replace('none', blending_list[i]), quality=90)"),
)
CPL_SETTINGS = {"MIN_SCALE": 0.5, "MAX_SCALE": 1.3, "MAX_DEGREES": 180, "INVERTED_MASK": True}


def _cutouts(root: Path) -> list[tuple[Path, str]]:
    return [(p, p.parent.name) for p in sorted((root / "objects").glob("*/*.png"))]


# ---------------------------------------------------------------------------------------------
# Cut, Paste and Learn


def port_cpl(checkout: Path, into: Path) -> Path:
    """Copy the peer's generator into ``into`` and port it to Python 3 by CPL_RULES."""
    into.mkdir(parents=True, exist_ok=True)
    src = (checkout / "dataset_generator.py").read_text()
    for pattern, repl in CPL_RULES:
        src, n = re.subn(pattern, repl, src)
        if n == 0:
            raise SystemExit(f"{checkout}/dataset_generator.py: no match for port rule {pattern!r} (another version?)")
    (into / "dataset_generator.py").write_text(src)
    shutil.copy(checkout / "defaults.py", into / "defaults.py")
    return into


def cpl_assets(root: Path, into: Path) -> list[tuple[str, str]]:
    """The workload's cutouts as the peer reads them: <class>/<name>.jpg and an inverted PBM mask
    (white = background) beside it."""
    objects = []
    for path, label in _cutouts(root):
        rgba = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        d = into / label
        d.mkdir(parents=True, exist_ok=True)
        jpg = d / f"{path.stem}.jpg"
        cv2.imwrite(str(jpg), rgba[..., :3], [cv2.IMWRITE_JPEG_QUALITY, 95])
        inverted = np.where(rgba[..., 3] >= 128, 0, 255).astype(np.uint8)
        cv2.imwrite(str(d / f"{path.stem}.pbm"), inverted)
        objects.append((str(jpg), label))
    return objects


class CutPasteLearn:
    def __init__(self, checkout: Path, root: Path, tmp: Path) -> None:
        sys.path.insert(0, str(port_cpl(checkout, tmp / "cpl-src")))
        self.mod = importlib.import_module("dataset_generator")
        for k, v in CPL_SETTINGS.items():
            setattr(self.mod, k, v)
        self.objects = cpl_assets(root, tmp / "cpl-objects")
        self.backgrounds = [str(p) for p in sorted((root / "backgrounds").glob("*.jpg"))]
        self.tmp = tmp

    def run(self, n: int, out: Path) -> float:
        import random

        random.seed(0)
        (out / "images").mkdir(parents=True, exist_ok=True)
        (out / "annotations").mkdir(parents=True, exist_ok=True)
        t = time.process_time()
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # it prints a line per image
            self._images(n, out)
        return time.process_time() - t

    def _images(self, n: int, out: Path) -> None:
        import random

        for i in range(n):
            k = random.randint(*workload.OBJECTS)
            objs = [random.choice(self.objects) for _ in range(k)]
            self.mod.create_image_anno(
                objs, [], str(out / "images" / f"{i}_none.jpg"), str(out / "annotations" / f"{i}.xml"),
                random.choice(self.backgrounds), w=workload.CANVAS[0], h=workload.CANVAS[1],
                scale_augment=True, rotation_augment=True, blending_list=["none"], dontocclude=False,
            )


# ---------------------------------------------------------------------------------------------
# copy-paste-aug


class CopyPasteAug:
    def __init__(self, checkout: Path, root: Path) -> None:
        sys.path.insert(0, str(checkout))
        self.mod = importlib.import_module("copy_paste")
        self.backgrounds = [cv2.imread(str(p)) for p in sorted((root / "backgrounds").glob("*.jpg"))]
        self.cutouts = [cv2.imread(str(p), cv2.IMREAD_UNCHANGED) for p, _ in _cutouts(root)]

    def _paste_source(self, rng: np.random.Generator):
        """A 640x480 image holding the image's cutouts, each warped once, and their masks."""
        W, H = workload.CANVAS
        canvas = np.zeros((H, W, 3), np.uint8)
        masks = []
        lo, hi = math.log(workload.SIDE_PX[0]), math.log(workload.SIDE_PX[1])
        for _ in range(int(rng.integers(workload.OBJECTS[0], workload.OBJECTS[1] + 1))):
            cut = self.cutouts[int(rng.integers(len(self.cutouts)))]
            ch, cw = cut.shape[:2]
            M = cv2.getRotationMatrix2D(((cw - 1) / 2, (ch - 1) / 2), float(rng.uniform(0, 360)),
                                        math.exp(rng.uniform(lo, hi)) / max(cw, ch))
            M[:, 2] += (float(rng.uniform(0, W)) - (cw - 1) / 2, float(rng.uniform(0, H)) - (ch - 1) / 2)
            warped = cv2.warpAffine(cut, M, (W, H), flags=cv2.INTER_LINEAR)
            m = (warped[..., 3] >= 128).astype(np.uint8)
            cv2.copyTo(warped[..., :3], m, canvas)
            masks = self.mod.masks_copy_paste(masks, [m], m)  # later objects cover earlier ones
        return canvas, masks

    def run(self, n: int, out: Path) -> float:
        out.mkdir(parents=True, exist_ok=True)
        W, H = workload.CANVAS
        t = time.process_time()
        for i in range(n):
            rng = np.random.default_rng([0, i])
            img = self.backgrounds[int(rng.integers(len(self.backgrounds)))]
            paste, masks = self._paste_source(rng)
            alpha = masks[0] > 0  # as its CopyPaste builds it: the union of the pasted masks
            for m in masks[1:]:
                alpha += m > 0
            image = self.mod.image_copy_paste(img, paste, alpha, blend=True, sigma=1)
            boxes = self.mod.extract_bboxes(masks)
            (out / f"{i:08d}.jpg").write_bytes(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, workload.QUALITY])[1].tobytes())
            (out / f"{i:08d}.txt").write_text("".join(f"0 {b[0]:.6f} {b[1]:.6f} {b[2]:.6f} {b[3]:.6f}\n" for b in boxes))
        return time.process_time() - t


# ---------------------------------------------------------------------------------------------
# synthgen


class Synthgen:
    def __init__(self, root: Path) -> None:
        from synthgen.config import load_config

        self.cfg = load_config(None, workload.config_overrides(root))

    def run(self, n: int, out: Path) -> float:
        from synthgen.runner import generate

        t = time.process_time()
        generate(self.cfg, out, n, workers=1, merge=False)
        return time.process_time() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cpl", type=Path, help="checkout of debidatta/syndata-generation (Cut, Paste and Learn)")
    ap.add_argument("--cpa", type=Path, help="checkout of conradry/copy-paste-aug")
    ap.add_argument("--site", type=Path, action="append", default=[], help="extra folder for sys.path (e.g. holding scikit-image)")
    ap.add_argument("-n", type=int, default=200, help="images per measurement")
    ap.add_argument("--repeats", type=int, default=3, help="alternating rounds; the median is reported")
    args = ap.parse_args()
    sys.path[:0] = [str(p) for p in args.site]
    cv2.setNumThreads(1)
    tmp = Path(tempfile.mkdtemp(prefix="synthgen-peers-"))
    try:
        root = workload.make_assets(tmp / "assets")
        runners = {"synthgen": Synthgen(root)}
        if args.cpl:
            runners["Cut, Paste and Learn (none)"] = CutPasteLearn(args.cpl, root, tmp)
        if args.cpa:
            runners["copy-paste-aug"] = CopyPasteAug(args.cpa, root)
        for name, r in runners.items():  # warm: imports, caches
            r.run(5, tmp / "warm" / name.split()[0])
        cpu: dict[str, list[float]] = {name: [] for name in runners}
        for k in range(args.repeats):
            for name, r in runners.items():
                out = tmp / f"{name.split()[0]}-{k}"
                cpu[name].append(r.run(args.n, out))
                shutil.rmtree(out, ignore_errors=True)
        rate = {name: args.n / statistics.median(v) for name, v in cpu.items()}
        print(f"{args.n} images x {args.repeats} rounds, one process, CPU time; images per CPU-second (median):")
        for name, r in rate.items():
            ratio = "" if name == "synthgen" else f"  synthgen does {rate['synthgen'] / r:.1f}x as many"
            print(f"  {name:<30} {r:7.1f}{ratio}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
