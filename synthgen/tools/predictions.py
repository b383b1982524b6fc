"""A model's predictions on a stress suite, in the formats detectors write, as COCO results on
the suite's own image and category ids (what ``evaluate`` scores).

Accepted (the format is detected, and ``Predictions.detected`` says what was found):

    COCO results JSON   [{image_id, category_id, bbox: [x, y, w, h], score[, segmentation][, keypoints]}, ...]
                        ``image_id``: the suite's integer id, the image's file name
                        (``000003_fog_5.jpg``, with or without ``images/``) or its stem
                        (``000003_fog_5``: what Ultralytics' ``save_json`` writes).
    YOLO txt folder     one ``<image stem>.txt`` per image (none: no detections; a folder with
                        only ``labels/`` in it: that one), lines
                        ``class cx cy w h conf`` or ``class x1 y1 ... xn yn conf`` (a polygon,
                        n >= 3), normalised to the image: Ultralytics' ``save_txt`` +
                        ``save_conf``. The box of a polygon is its points' extent.
    torchvision JSON    [{image_id | file_name, boxes: [[x0, y0, x1, y1], ...], labels, scores}, ...]
                        or {image: {boxes, labels, scores}, ...}: a detection model's outputs,
                        one per image, saved as lists.

Classes: without names, a YOLO class ``c`` is the suite's class ``c`` (its data.yaml order),
a COCO ``category_id`` / torchvision label ``k`` is the suite's category id ``k``. With the
model's names (``--names``: a data.yaml, a COCO json's categories, a file of one name a line,
or a comma-separated list) classes are matched by name (case, ``_``, ``-`` and spaces aside):
YOLO class ``c`` is ``names[c]``; COCO ``category_id`` ``k`` is ``names[k - 1]`` (Ultralytics
writes class + 1; ``names[k]`` when a 0 occurs: 0-based writers); torchvision label ``k`` is
``names[k]`` (torchvision's category lists start with ``__background__``). Predictions of
classes the suite does not have are left out and counted. A COCO categories file names ids,
not positions: ``category_id`` / label ``k`` is the category with id ``k`` there.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from synthgen.errors import SynthgenError
from synthgen.io.rle import fmt, is_number


class PredictionError(SynthgenError):
    """Predictions that cannot be read; the message names the file, entry or line, and the format."""


COCO_FORMAT = "a COCO results list: [{image_id, category_id, bbox: [x, y, width, height], score[, segmentation]}, ...]"
YOLO_FORMAT = "YOLO: 'class cx cy w h conf' or 'class x1 y1 ... xn yn conf', normalised to [0, 1] (save_txt + save_conf)"
TV_FORMAT = "torchvision: [{image_id or file_name, boxes: [[x0, y0, x1, y1], ...], labels: [...], scores: [...]}, ...]"
FORMATS = f"{COCO_FORMAT}; a folder of {YOLO_FORMAT}; or {TV_FORMAT}"


@dataclass
class Predictions:
    results: list[dict[str, Any]]  # COCO results on the suite's integer image and category ids
    detected: str  # the format found and how images and classes were matched
    dropped: dict[str, int] = field(default_factory=dict)  # class name -> predictions the suite has no class for
    expected: str = COCO_FORMAT  # the detected format's description, for messages


def norm_name(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", str(name)).strip().lower()


# --------------------------------------------------------------------------------------------
# names


@dataclass(frozen=True)
class Names:
    """The model's class names: by position (``keyed=False``) or by id (a COCO categories file)."""

    names: dict[int, str]
    keyed: bool
    source: str


def load_names(spec: str) -> Names:
    """``--names``: a data.yaml (``names`` list or mapping), a COCO json (its ``categories``),
    a JSON or YAML list, a text file of one name a line, or a comma-separated list."""
    import yaml

    from synthgen.io.yolo import names_of

    path = Path(spec)
    if not path.is_file():
        names = [n.strip() for n in spec.split(",") if n.strip()]
        if len(names) < 1 or (len(names) == 1 and ("/" in spec or spec.endswith((".yaml", ".yml", ".json", ".txt")))):
            raise PredictionError(f"--names {spec!r}: no such file, and not a comma-separated list of class names")
        return Names(dict(enumerate(names)), False, f"{len(names)} names given")
    text = path.read_text(errors="replace")
    if path.suffix.lower() in (".yaml", ".yml", ".json"):
        try:
            doc = yaml.safe_load(text)  # JSON is YAML
        except yaml.YAMLError as exc:
            raise PredictionError(f"--names {path}: not readable as YAML/JSON: {str(exc).splitlines()[0]}") from None
        if isinstance(doc, dict) and isinstance(doc.get("categories"), list):
            cats = doc["categories"]
            if not all(isinstance(c, dict) and isinstance(c.get("id"), int) and "name" in c for c in cats):
                raise PredictionError(f"--names {path}: categories must be [{{id, name}}, ...]")
            return Names({c["id"]: str(c["name"]) for c in cats}, True, f"{path} (COCO categories, by id)")
        if isinstance(doc, list) and all(isinstance(n, (str, int)) for n in doc):
            return Names(dict(enumerate(str(n) for n in doc)), False, str(path))
        names = names_of(doc)
        if names is None:
            raise PredictionError(f"--names {path}: no class names: expected a data.yaml with 'names' "
                                  "(a list or {0: name, ...}), a COCO json with categories, or a list")
        return Names(dict(enumerate(names)), False, f"{path} (names)")
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise PredictionError(f"--names {path}: empty; expected one class name a line")
    return Names(dict(enumerate(names)), False, str(path))


# --------------------------------------------------------------------------------------------
# the suite's images and classes


class _Suite:
    def __init__(self, gt: dict[str, Any], stem_ids: bool = False) -> None:
        self.sizes = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
        self.by_key: dict[str, Any] = {}
        self.by_stem_number: dict[int, Any] = {}  # 42 -> the id of 00000042.jpg (numbered images)
        for im in gt["images"]:
            fn = PurePosixPath(str(im["file_name"]))
            for key in (str(fn), fn.name, fn.stem, f"images/{fn.name}"):
                self.by_key.setdefault(key, im["id"])
            if fn.stem.isdigit():
                self.by_stem_number.setdefault(int(fn.stem), im["id"])
        self.stem_ids = stem_ids
        self.cats = {c["id"]: c["name"] for c in gt["categories"]}
        self.order = sorted(self.cats)  # YOLO class c = the c-th category (the suite's data.yaml)
        self.by_name = {norm_name(n): i for i, n in self.cats.items()}

    def image(self, v: Any) -> tuple[Any, str] | None:
        """(suite image id, how it matched) or None."""
        if isinstance(v, bool):
            return None
        if isinstance(v, int) and self.stem_ids:
            return (self.by_stem_number[v], "file stem numbers") if v in self.by_stem_number else None
        if isinstance(v, int) and v in self.sizes:
            return v, "integer ids"
        if isinstance(v, str):
            s = v.replace("\\", "/")
            if s in self.by_key:
                stem = PurePosixPath(s).stem == s
                return self.by_key[s], "file stems" if stem else "file names"
            tail = PurePosixPath(s).name
            if tail in self.by_key:
                return self.by_key[tail], "file names"
            if s.isdigit() and int(s) in self.sizes:
                return int(s), "integer ids"
        return None


class _Classes:
    """A prediction's class value -> the suite's category id (None: a class the suite lacks)."""

    def __init__(self, suite: _Suite, names: Names | None, kind: str, zero_based: bool = False) -> None:
        self.suite, self.names, self.kind, self.zero = suite, names, kind, zero_based
        self.dropped: dict[str, int] = {}

    def describe(self) -> str:
        if self.names is None:
            how = {"yolo": "class c = the suite's class c (its data.yaml order)",
                   "coco": "category_id = the suite's category id", "torchvision": "label = the suite's category id"}[self.kind]
            if self.kind == "coco" and self.zero:
                how = "category_id 0-based: k = the suite's class k (its data.yaml order)"
            return how
        return f"classes matched by name ({self.names.source}; {self.lookup()})"

    def lookup(self) -> str:
        if self.names.keyed:
            return "class value = category id in the names file"
        return {"yolo": "class c = names[c]", "torchvision": "label k = names[k]",
                "coco": "category_id k = names[k]" if self.zero else "category_id k = names[k - 1]"}[self.kind]

    def __call__(self, v: Any) -> int | None:
        """Raises ValueError (the message says what is allowed) for a value that maps to nothing."""
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if not isinstance(v, int) or isinstance(v, bool):
            raise ValueError(f"class {str(v)[:40]} is not an integer")
        if self.names is None:
            if self.kind == "yolo" or (self.kind == "coco" and self.zero):
                if not 0 <= v < len(self.suite.order):
                    raise ValueError(f"class {v} is not one of the suite's classes 0..{len(self.suite.order) - 1} "
                                     "(give the model's class names with --names when its classes differ)")
                return self.suite.order[v]
            if v not in self.suite.cats:
                raise ValueError(f"category {v} is not one of the suite's category ids {sorted(self.suite.cats)} "
                                 "(give the model's class names with --names when its classes differ)")
            return v
        key = v if self.names.keyed or self.kind in ("yolo", "torchvision") or self.zero else v - 1
        if key not in self.names.names:
            lo, hi = min(self.names.names), max(self.names.names)
            raise ValueError(f"class {v} has no name in {self.names.source} (names {lo}..{hi}; {self.lookup()})")
        name = self.names.names[key]
        cid = self.suite.by_name.get(norm_name(name))
        if cid is None:
            self.dropped[name] = self.dropped.get(name, 0) + 1
        return cid


# --------------------------------------------------------------------------------------------
# readers


def read_predictions(path: Path, gt: dict[str, Any], names: Names | None = None, stem_ids: bool = False) -> Predictions:
    """The predictions at ``path`` (a file or a folder of YOLO txt files) as COCO results on the
    suite ``gt``; PredictionError naming the file, entry or line when one cannot be read.
    ``stem_ids``: an integer image_id is the number of an image's file stem (42 for
    00000042.jpg, as Ultralytics' save_json writes it), not the suite's COCO id."""
    path = Path(path)
    suite = _Suite(gt, stem_ids)
    if path.is_dir():
        return _read_yolo(path, suite, names)
    from synthgen.io.coco import load_json
    from synthgen.io.issues import DatasetError

    if path.suffix.lower() == ".txt":
        raise PredictionError(f"{path}: YOLO predictions are read as a folder of <image stem>.txt files; give the folder ({path.parent})")
    try:
        data = load_json(path)
    except DatasetError as exc:
        raise PredictionError(f"{exc}; expected {FORMATS}") from None
    if isinstance(data, dict) and "annotations" in data and "images" in data:
        raise PredictionError(f"{path}: a COCO dataset (images, annotations), not results; expected {COCO_FORMAT}")
    if isinstance(data, dict) and data and all(isinstance(v, dict) and "boxes" in v for v in data.values()):
        return _read_torchvision(path, [dict(v, image_id=k) for k, v in data.items()], suite, names)
    if isinstance(data, list) and data and isinstance(data[0], dict) and "boxes" in data[0]:
        return _read_torchvision(path, data, suite, names)
    if isinstance(data, list):
        return _read_coco(path, data, suite, names)
    raise PredictionError(f"{path}: a JSON {type(data).__name__}; expected {FORMATS}")


def _unknown_images(path: Path, bad: list, suite: _Suite) -> PredictionError:
    example = next(iter(suite.by_key.items()), ("", ""))
    hint = ""
    if not suite.stem_ids and all(isinstance(b, int) and not isinstance(b, bool) and b in suite.by_stem_number for b in bad):
        # numbered images: 00000000.jpg is COCO id 1; a model that writes image_id = int(stem) is one off everywhere
        hint = ("; these are the numbers of image file stems (image_id = int(stem), as Ultralytics' save_json "
                "writes them), while the suite's ids are those numbers + 1: add --stem-ids")
    return PredictionError(
        f"{path}: {len(bad)} unknown image ids, e.g. {sorted(bad, key=str)[:5]}; an image is named by the suite's "
        f"integer id (1..{max(suite.sizes)}), its file name or its stem (e.g. {example[0]!r}){hint}"
    )


def _matched(kinds: set[str]) -> str:
    return "images by " + (" and ".join(sorted(kinds)) or "nothing (no predictions)")


def _read_coco(path: Path, data: list, suite: _Suite, names: Names | None) -> Predictions:
    zero = any(isinstance(p, dict) and p.get("category_id") == 0 for p in data)
    classes = _Classes(suite, names, "coco", zero_based=zero)
    out, bad, kinds = [], set(), set()
    for i, p in enumerate(data):
        if not isinstance(p, dict):
            raise PredictionError(f"{path}: entry {i}: is {type(p).__name__}, not an object; expected {COCO_FORMAT}")
        missing = [k for k in ("image_id", "category_id", "bbox", "score") if k not in p]
        if missing:
            raise PredictionError(f"{path}: entry {i}: no {', '.join(missing)}; expected {COCO_FORMAT}")
        hit = suite.image(p["image_id"])
        if hit is None:
            v = p["image_id"]
            bad.add(v if isinstance(v, (int, str)) else repr(v))
            continue
        kinds.add(hit[1])
        try:
            cid = classes(p["category_id"])
        except ValueError as exc:
            raise PredictionError(f"{path}: entry {i}: {exc}") from None
        if cid is None:
            continue
        q = {"image_id": hit[0], "category_id": cid, "bbox": p["bbox"], "score": p["score"]}
        for key in ("segmentation", "keypoints"):  # masks and keypoints are scored too when given
            if key in p:
                q[key] = p[key]
        q["_where"] = f"entry {i}"
        out.append(q)
    if bad:
        raise _unknown_images(path, list(bad), suite)
    return Predictions(out, f"COCO results JSON: {len(data)} predictions; {_matched(kinds)}; {classes.describe()}", classes.dropped)


def _read_torchvision(path: Path, data: list, suite: _Suite, names: Names | None) -> Predictions:
    classes = _Classes(suite, names, "torchvision")
    out, bad, kinds, n = [], set(), set(), 0
    for i, e in enumerate(data):
        where = f"entry {i}"
        if not isinstance(e, dict):
            raise PredictionError(f"{path}: {where}: is {type(e).__name__}, not an object; expected {TV_FORMAT}")
        key = e.get("image_id", e.get("file_name"))
        if key is None:
            raise PredictionError(f"{path}: {where}: no image_id or file_name; expected {TV_FORMAT}")
        hit = suite.image(key)
        if hit is None:
            bad.add(key if isinstance(key, (int, str)) else repr(key))
            continue
        kinds.add(hit[1])
        boxes, labels, scores = e.get("boxes"), e.get("labels"), e.get("scores")
        if not (isinstance(boxes, list) and isinstance(labels, list) and isinstance(scores, list)):
            raise PredictionError(f"{path}: {where}: boxes, labels and scores must be lists; expected {TV_FORMAT}")
        if not len(boxes) == len(labels) == len(scores):
            raise PredictionError(f"{path}: {where}: {len(boxes)} boxes, {len(labels)} labels, {len(scores)} scores: "
                                  "one of each per detection")
        for j, (b, lab, s) in enumerate(zip(boxes, labels, scores)):
            n += 1
            at = f"{where} (image {key!r}) detection {j}"
            if not (isinstance(b, list) and len(b) == 4 and all(is_number(v) for v in b)):
                raise PredictionError(f"{path}: {at}: box {str(b)[:60]} is not [x0, y0, x1, y1] of 4 finite numbers")
            if b[2] < b[0] or b[3] < b[1]:
                raise PredictionError(f"{path}: {at}: box {fmt(b)} has x1 < x0 or y1 < y0 (torchvision boxes are [x0, y0, x1, y1])")
            try:
                cid = classes(lab)
            except ValueError as exc:
                raise PredictionError(f"{path}: {at}: {exc}") from None
            if cid is None:
                continue
            out.append({"image_id": hit[0], "category_id": cid, "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]],
                        "score": s, "_where": at})
    if bad:
        raise _unknown_images(path, list(bad), suite)
    return Predictions(out, f"torchvision-style JSON: {len(data)} images, {n} detections; {_matched(kinds)}; {classes.describe()}",
                       classes.dropped, TV_FORMAT)


def _read_yolo(folder: Path, suite: _Suite, names: Names | None) -> Predictions:
    classes = _Classes(suite, names, "yolo")
    files = sorted(f for f in folder.iterdir() if f.suffix == ".txt" and f.is_file())
    if not files and (folder / "labels").is_dir():  # the run folder given (preds/predict/): its labels/
        folder = folder / "labels"
        files = sorted(f for f in folder.iterdir() if f.suffix == ".txt" and f.is_file())
    if not files:
        raise PredictionError(f"{folder}: no .txt files; expected one <image stem>.txt per image, lines {YOLO_FORMAT}")
    unknown = [f.name for f in files if f.stem not in suite.by_key]
    if unknown:
        raise PredictionError(f"{folder}: {len(unknown)} files name no image of the suite, e.g. {unknown[:5]}; "
                              "a file is named after its image's stem (000003_fog_5.txt for images/000003_fog_5.jpg)")
    out, polys, boxes = [], 0, 0
    for f in files:
        iid = suite.by_key[f.stem]
        H, W = suite.sizes[iid]
        for ln, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
            parts = line.split()
            if not parts:
                continue
            at = f"{f}: line {ln}"
            try:
                vals = [float(v) for v in parts]
            except ValueError:
                raise PredictionError(f"{at}: {line.strip()[:60]!r} is not numbers; expected {YOLO_FORMAT}") from None
            if not all(math.isfinite(v) for v in vals):
                raise PredictionError(f"{at}: a value is not finite; expected {YOLO_FORMAT}")
            if len(vals) % 2 == 1:
                raise PredictionError(f"{at}: {len(vals)} values: no confidence (write with save_conf=True); expected {YOLO_FORMAT}")
            if len(vals) != 6 and len(vals) < 8:
                raise PredictionError(f"{at}: {len(vals)} values; expected {YOLO_FORMAT}")
            c, conf, xy = vals[0], vals[-1], vals[1:-1]
            if not c.is_integer():
                raise PredictionError(f"{at}: class {parts[0]} is not an integer; expected {YOLO_FORMAT}")
            if len(vals) == 6 and (xy[2] < 0 or xy[3] < 0):
                raise PredictionError(f"{at}: negative width or height; expected {YOLO_FORMAT}")
            if any(v < -0.01 or v > 1.01 for v in xy):
                raise PredictionError(f"{at}: coordinates outside [0, 1]: YOLO values are normalised by the image's width and height")
            try:
                cid = classes(int(c))
            except ValueError as exc:
                raise PredictionError(f"{at}: {exc}") from None
            if cid is None:
                continue
            p: dict[str, Any] = {"image_id": iid, "category_id": cid, "score": conf, "_where": at}
            if len(vals) == 6:
                cx, cy, w, h = xy
                p["bbox"] = [(cx - w / 2) * W, (cy - h / 2) * H, w * W, h * H]
                boxes += 1
            else:
                pts = [v * (W if k % 2 == 0 else H) for k, v in enumerate(xy)]
                x, y = pts[0::2], pts[1::2]
                p["bbox"] = [min(x), min(y), max(x) - min(x), max(y) - min(y)]
                p["segmentation"] = [pts]
                polys += 1
            out.append(p)
    if boxes and polys:
        for p in out:  # mixed: score boxes only (a mask AP over some predictions would mislead)
            p.pop("segmentation", None)
    kind = "boxes" if not polys else "polygons" if not boxes else "boxes and polygons (scored as boxes)"
    return Predictions(out, f"YOLO txt folder: {len(files)} files, {len(out)} {kind}; images by file stems; {classes.describe()}",
                       classes.dropped, YOLO_FORMAT)
