"""Scoring a tracker on clips: HOTA, MOTA and IDF1 per clip, per condition x severity and overall.

The ground truth is each clip's MOT Challenge ``gt.txt`` (writers/mot.py); the tracker's output
is one MOT text file per clip, ``PRED/<clip>.txt`` with lines ``frame, id, x, y, w, h[, conf,
...]`` (frames from 1, boxes in pixels, as MOT Challenge trackers write them). Every line is
checked where it is read: a line that is not sound is refused naming the file and the line.

The metrics are not written here: they come from ``motrics`` (MIT; the ``tracking`` extra), whose
TrackEval-compatible metric classes (``motrics.compat.trackeval.metrics``: HOTA, CLEAR,
Identity, numerically equal to TrackEval's, which MOT Challenge uses) score each sequence and
combine sequences the way TrackEval does (summed counts; HOTA's association weighted by its
true positives). Matching is class-agnostic, as in MOT Challenge: most trackers write no class.
CLEAR and Identity match at IoU 0.5; HOTA averages over IoU 0.05 to 0.95.

Per class: when every line of every prediction file has a class (its 8th value, an integer from 1:
the COCO category id, as gt.txt writes it; MOT Challenge trackers write -1 there), each class is
also scored alone, its ground truth against the tracks of that class (``TrackEvaluation.classes``,
over all clips, named by the run's COCO categories).

What is scored (``find_sequences``): a clips run (``RUN/mot/<clip>/``), or a folder of clips runs,
e.g. a stress suite of clips with one run per condition x severity. A run's condition and
severity come from the suite's suite.json (``synthgen stress --clips``: ``SUITE/<variant>/`` per
condition x severity), else from its COCO video entries or images (``condition``, ``severity``;
none: clean).
Predictions for ``SUITE/<sub>/mot/<clip>`` are ``PRED/<sub>/<clip>.txt``, or
``PRED/<sub with / as _>_<clip>.txt`` in one flat folder.
"""

from __future__ import annotations

import configparser
import csv
import json
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthgen.errors import SynthgenError
from synthgen.io.files import atomic_write

MOT_DIR = "mot"
THRESHOLD = 0.5  # IoU of a CLEAR / Identity match (MOT Challenge's)
INSTALL = "pip install -e '.[tracking]' in the synthgen folder (PyPI's 'synthgen' is another project)"
MAX_ID = 2**53  # the largest |id| a float (and so a line read as numbers) holds exactly
MAX_DEPTH = 3  # how deep below the given folder clips runs are looked for


class TrackEvaluationError(SynthgenError):
    """Tracks or clips that cannot be scored; the message names the file and line."""


@dataclass(frozen=True)
class Sequence:
    """One clip to score: its ground truth, where its predictions are, and its condition."""

    name: str  # "<clip>" or "<sub>/<clip>"
    gt: Path
    frames: int
    predictions: tuple[Path, ...]  # where its tracks may be, first found wins
    condition: str = "clean"
    severity: int | None = None


@dataclass(frozen=True)
class Row:
    """Scores of one clip or of a group of clips (condition x severity, or all)."""

    name: str
    condition: str
    severity: int | None
    clips: int
    frames: int
    objects: int  # ground-truth boxes
    tracks: int  # ground-truth tracks
    hota: float
    deta: float
    assa: float
    mota: float
    idf1: float
    idsw: int
    fp: int
    fn: int


@dataclass
class TrackEvaluation:
    clips: list[Row]  # one per sequence
    groups: list[Row]  # per condition x severity (clean first), then "all"
    missing: list[str] = field(default_factory=list)  # sequences with no prediction file
    unused: list[str] = field(default_factory=list)  # prediction files no sequence reads
    classes: list[Row] = field(default_factory=list)  # per class over all clips, when the tracks carry classes


# --------------------------------------------------------------------------------------------
# reading


def _number(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _exact(text: str, value: float) -> int | float:
    """The integer ``text`` spells, exactly when it is written as one (floats round past 2**53)."""
    try:
        return int(text)
    except ValueError:
        return value


EXPECTED = "frame, id, x, y, w, h[, conf, ...]: frame an integer from 1, id an integer, w and h >= 0"


def read_mot(path: Path, frames: int | None = None) -> dict[int, list[tuple[int, tuple[float, float, float, float], int, int | None]]]:
    """``frame -> [(id, (x, y, w, h), line number, class)]`` of a MOT text file (class: the 8th
    value when it is an integer from 1, else None); TrackEvaluationError
    naming the file and line for a line that is not ``EXPECTED``, a frame past ``frames`` or an
    id given twice in one frame."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a byte order mark (Windows tools) is no value
    except (OSError, UnicodeDecodeError) as exc:
        raise TrackEvaluationError(f"{path}: cannot read it as MOT text: {exc}") from None
    out: dict[int, list] = defaultdict(list)
    seen: dict[tuple[int, int], int] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        parts = [p.strip() for p in (line.split(",") if "," in line else line.split())]
        where = f"{path}: line {n}"
        if len(parts) < 6:
            raise TrackEvaluationError(f"{where}: {len(parts)} values in {line[:80]!r}; expected {EXPECTED}")
        values = [_number(p) for p in parts]
        bad = next((i for i, v in enumerate(values) if v is None and i < 7), None)
        if bad is not None:
            name = ("frame", "id", "x", "y", "w", "h", "conf")[bad]
            raise TrackEvaluationError(f"{where}: {name} {parts[bad][:40]!r} is not a finite number; expected {EXPECTED}")
        frame, tid, x, y, w, h = values[:6]
        if not frame.is_integer() or frame < 1:
            raise TrackEvaluationError(f"{where}: frame {parts[0]} is not an integer from 1; expected {EXPECTED}")
        if frames is not None and frame > frames:
            raise TrackEvaluationError(f"{where}: frame {int(frame)} is past the clip's last frame, {frames}")
        if not tid.is_integer():
            raise TrackEvaluationError(f"{where}: id {parts[1]} is not an integer; expected {EXPECTED}")
        if abs(_exact(parts[1], tid)) > MAX_ID:  # past it, floats merge neighbouring ids (and the metrics overflow)
            raise TrackEvaluationError(f"{where}: id {parts[1][:40]} is too large to read exactly (at most 2**53 = {MAX_ID})")
        if w < 0 or h < 0:
            raise TrackEvaluationError(f"{where}: box {parts[2:6]} has a negative width or height; expected {EXPECTED}")
        key = (int(frame), int(tid))
        if key in seen:
            raise TrackEvaluationError(f"{where}: id {key[1]} is given twice in frame {key[0]} (also line {seen[key]})")
        seen[key] = n
        cls = values[7] if len(values) > 7 else None
        out[key[0]].append((key[1], (x, y, w, h), n, int(cls) if cls is not None and cls.is_integer() and cls >= 1 else None))
    return out


def _seq_length(seq: Path) -> int | None:
    info = configparser.ConfigParser()
    try:
        info.read(seq / "seqinfo.ini")
        return int(info["Sequence"]["seqLength"])
    except (KeyError, ValueError, configparser.Error):
        return None


def _conditions(run: Path) -> tuple[dict[str, tuple[str, int | None]], list[str] | None]:
    """(clip name -> (condition, severity) from the run's COCO videos or images (empty: clean),
    the names of its videos, None when it lists none)."""
    try:
        doc = json.loads((run / "annotations.json").read_text())
    except (OSError, ValueError):
        return {}, None
    if not isinstance(doc, dict):
        return {}, None
    out: dict[str, tuple[str, int | None]] = {}
    for entry in [*doc.get("videos", ()), *doc.get("images", ())]:
        name = entry.get("name") if "frame_id" not in entry else entry.get("video")
        if name and "condition" in entry and name not in out:
            sev = entry.get("severity")
            out[name] = (str(entry["condition"]), int(sev) if sev is not None else None)
    videos = [str(v["name"]) for v in doc.get("videos") or () if isinstance(v, dict) and v.get("name")]
    return out, videos or None


def _check_complete(run: Path) -> None:
    """A synthgen clips run lays out mot/ when its merge is done: before that (a run killed, or
    resumed with another --clips), what mot/ holds is not the run's."""
    try:
        manifest = json.loads((run / "manifest.json").read_text())
    except (OSError, ValueError):
        return
    done = manifest.get("complete") and (run / "annotations.json").is_file() if isinstance(manifest, dict) else True
    if isinstance(manifest, dict) and manifest.get("kind") == "clips" and not done:
        raise TrackEvaluationError(
            f"{run}: this clips run is not complete (no merged annotations.json), so its {MOT_DIR}/ is not "
            "its clips; run the same `synthgen clips` command again to finish it"
        )


def _is_run(d: Path) -> bool:
    return (d / "manifest.json").is_file() or (d / "annotations.json").is_file()


def _runs(root: Path) -> list[Path]:
    """Clips runs at or below ``root`` (a run: a folder with mot/). The inside of another run
    (its images/, shards/ ...) is not searched."""
    if (root / MOT_DIR).is_dir():
        return [root]
    if _is_run(root):
        return []
    found: list[Path] = []
    level = [root]
    for _ in range(MAX_DEPTH):
        level = sorted(d for p in level for d in p.iterdir() if d.is_dir() and not d.is_symlink())
        found += [d for d in level if (d / MOT_DIR).is_dir()]
        level = [d for d in level if not (d / MOT_DIR).is_dir() and not _is_run(d)]
    return found


SUITE_FILE = "suite.json"  # a stress suite of clips (``synthgen stress --clips``): its variants


def _suite_variants(suite: Path) -> dict[Path, tuple[str, int | None, list[str] | None]]:
    """run folder -> (condition, severity, its clips) from a stress suite's suite.json (empty: none)."""
    try:
        doc = json.loads((suite / SUITE_FILE).read_text())
        found = {}
        for v in doc["variants"]:
            cond, sev = str(v["condition"]), v.get("severity")
            seqs = v.get("sequences")
            found[(suite / str(v["run"])).resolve()] = (
                cond, None if cond == "clean" or sev is None else int(sev), None if seqs is None else [str(q) for q in seqs])
        return found
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TrackEvaluationError(f"{suite / SUITE_FILE}: not a clip stress suite's record ({exc.__class__.__name__}: {exc})") from None


def _missing(where: Path, expected: list[str], found: set[str], listed_by: str, again: str) -> None:
    absent = [q for q in expected if q not in found]
    if absent:
        more = f" (and {len(absent) - 1} more)" if len(absent) > 1 else ""
        raise TrackEvaluationError(
            f"{where / MOT_DIR / absent[0]}{more}: a clip {listed_by} lists has no gt/gt.txt; scoring the others "
            f"would score fewer clips than there are. {again}"
        )


def find_sequences(suite: Path, predictions: Path) -> list[Sequence]:
    suite, predictions = Path(suite), Path(predictions)
    variants = _suite_variants(suite)
    again = "Run the same `synthgen stress --clips` command again to finish the suite."
    for path in variants:  # every variant the suite lists is scored, or none
        if not (path / MOT_DIR).is_dir():
            raise TrackEvaluationError(
                f"{path}: a variant {suite / SUITE_FILE} lists has no {MOT_DIR}/ (not made, or not complete); "
                f"scoring the others would leave its condition out. {again}"
            )
    runs = _runs(suite)
    if variants:  # a suite's own variants only (an earlier suite's stale ones are left out)
        runs = [r for r in runs if r.resolve() in variants]
    if not runs:
        raise TrackEvaluationError(
            f"{suite}: no clips here (no {MOT_DIR}/ folder in it or below it); make clips with "
            "`synthgen clips ... --format mot,coco`"
        )
    seqs = []
    for run in runs:
        _check_complete(run)
        sub = run.relative_to(suite).as_posix()
        variant = variants.get(run.resolve())
        conds, expected = ({}, None) if variant else _conditions(run)
        present = sorted(p for p in (run / MOT_DIR).iterdir() if (p / "gt" / "gt.txt").is_file())
        if variant and variant[2] is not None:
            expected = variant[2]
            _missing(run, expected, {p.name for p in present}, f"{suite / SUITE_FILE}", again)
        elif expected is not None:
            _missing(run, expected, {p.name for p in present}, f"{run / 'annotations.json'}",
                     "Run the same `synthgen clips` command again to rewrite mot/.")
        if expected is not None:  # the run's own clips only, not a folder left in mot/
            present = [p for p in present if p.name in set(expected)]
        for seq in present:
            length = _seq_length(seq)
            if length is None:
                raise TrackEvaluationError(f"{seq / 'seqinfo.ini'}: no [Sequence] seqLength; re-run `synthgen clips` to rewrite it")
            name = seq.name if sub == "." else f"{sub}/{seq.name}"
            places = (predictions / f"{seq.name}.txt",) if sub == "." else (
                predictions / sub / f"{seq.name}.txt", predictions / f"{sub.replace('/', '_')}_{seq.name}.txt")
            cond, sev = variant[:2] if variant else conds.get(seq.name, ("clean", None))
            seqs.append(Sequence(name, seq / "gt" / "gt.txt", length, places, cond, None if cond == "clean" else sev))
    if not seqs:
        raise TrackEvaluationError(f"{suite}: its {MOT_DIR}/ folders hold no <clip>/gt/gt.txt")
    return seqs


def looks_like_tracks(suite: Path, predictions: Path) -> bool:
    """True when ``predictions`` is a folder holding a MOT file of one of ``suite``'s clips."""
    predictions = Path(predictions)
    if not predictions.is_dir() or not _runs(Path(suite)):
        return False
    try:
        return any(p.is_file() for s in find_sequences(suite, predictions) for p in s.predictions)
    except TrackEvaluationError:  # clips that cannot be read: scoring them as tracks says why
        return True


# --------------------------------------------------------------------------------------------
# scoring


def _metrics():
    try:
        from motrics.compat.trackeval.metrics import CLEAR, HOTA, Identity
    except ImportError:
        raise TrackEvaluationError(f"scoring tracks needs the motrics package: {INSTALL}") from None
    config = {"THRESHOLD": THRESHOLD, "PRINT_CONFIG": False}
    return HOTA(), CLEAR(dict(config)), Identity(dict(config))


def _data(gt: dict, pred: dict, frames: int) -> dict[str, Any]:
    """The per-frame ids and boxes (x1, y1, x2, y2) TrackEval-style metric classes read."""

    def side(by_frame):
        ids = [[d[0] for d in by_frame.get(t, ())] for t in range(1, frames + 1)]
        boxes = [[(x, y, x + w, y + h) for _, (x, y, w, h), *_ in by_frame.get(t, ())] for t in range(1, frames + 1)]
        return ids, boxes

    gt_ids, gt_dets = side(gt)
    tr_ids, tr_dets = side(pred)
    return {
        "gt_ids": gt_ids, "gt_dets": gt_dets, "tracker_ids": tr_ids, "tracker_dets": tr_dets,
        "num_timesteps": frames,
        "num_gt_dets": sum(map(len, gt_ids)), "num_tracker_dets": sum(map(len, tr_ids)),
        "num_gt_ids": len({i for f in gt_ids for i in f}), "num_tracker_ids": len({i for f in tr_ids for i in f}),
    }


def _mean(v) -> float:
    import numpy as np

    return float(np.mean(v))


def _row(name, condition, severity, clips, frames, objects, tracks, res) -> Row:
    hota, clear, ident = res["HOTA"], res["CLEAR"], res["Identity"]
    return Row(
        name, condition, severity, clips, frames, objects, tracks,
        _mean(hota["HOTA"]), _mean(hota["DetA"]), _mean(hota["AssA"]),
        float(clear["MOTA"]), float(ident["IDF1"]), int(clear["IDSW"]), int(clear["CLR_FP"]), int(clear["CLR_FN"]),
    )


def _order(cond: str, sev: int | None) -> tuple:
    return (cond != "clean", cond, sev or 0)


def evaluate_tracks(suite: Path, predictions: Path, progress: Callable[[int, int], None] | None = None) -> TrackEvaluation:
    """HOTA, MOTA and IDF1 of the tracks in ``predictions`` on the clips of ``suite``: per clip, per
    condition x severity and overall. A clip with no prediction file scores as a tracker that found
    nothing (listed in ``missing``); none found at all is an error."""
    predictions = Path(predictions)
    if not predictions.is_dir():
        raise TrackEvaluationError(f"{predictions}: tracks are a folder of MOT text files, <clip>.txt per clip")
    seqs = find_sequences(suite, predictions)
    metrics = _metrics()
    found = {s.name: next((p for p in s.predictions if p.is_file()), None) for s in seqs}
    if not any(found.values()):
        expected = ", ".join(str(p) for p in seqs[0].predictions)
        raise TrackEvaluationError(
            f"{predictions}: no tracks for any of the {len(seqs)} clips of {suite} (for {seqs[0].name}: {expected}); "
            "write one MOT file per clip, named after the clip's folder in mot/"
        )
    read = {p.resolve() for p in found.values() if p}
    unused = sorted(str(p) for p in predictions.rglob("*.txt") if p.resolve() not in read)

    per_seq: dict[str, dict[str, dict]] = {}
    rows, sizes, read = [], {}, {}
    for k, s in enumerate(seqs, 1):
        gt = read_mot(s.gt, s.frames)
        pred = read_mot(found[s.name], s.frames) if found[s.name] else {}
        read[s.name] = (gt, pred)
        data = _data(gt, pred, s.frames)
        res = {m.get_name(): m.eval_sequence(data) for m in metrics}
        per_seq[s.name] = res
        sizes[s.name] = (s.frames, data["num_gt_dets"], data["num_gt_ids"])
        rows.append(_row(s.name, s.condition, s.severity, 1, *sizes[s.name], res))
        if progress is not None:
            progress(k, len(seqs) + 1)

    def group(name, condition, severity, names) -> Row:
        res = {m.get_name(): m.combine_sequences({n: per_seq[n][m.get_name()] for n in names}) for m in metrics}
        frames, objects, tracks = (sum(sizes[n][i] for n in names) for i in range(3))
        return _row(name, condition, severity, len(names), frames, objects, tracks, res)

    by_cond: dict[tuple[str, int | None], list[str]] = defaultdict(list)
    for s in seqs:
        by_cond[(s.condition, s.severity)].append(s.name)
    groups = []
    if len(by_cond) > 1:
        for (cond, sev), names in sorted(by_cond.items(), key=lambda kv: _order(*kv[0])):
            groups.append(group("clean" if cond == "clean" else f"{cond} {sev}", cond, sev, names))
    groups.append(group("all", "all", None, [s.name for s in seqs]))
    classes = _per_class(seqs, read, metrics, suite)
    if progress is not None:
        progress(len(seqs) + 1, len(seqs) + 1)
    return TrackEvaluation(rows, groups, [n for n, p in found.items() if p is None], unused, classes=classes)


def _of_class(by_frame: dict, cls: int) -> dict:
    return {t: [d for d in dets if d[3] == cls] for t, dets in by_frame.items()}


def _class_names(suite: Path) -> dict[int, str]:
    """Category id -> name from the first clips run's annotations.json (empty: none readable)."""
    for run in _runs(Path(suite)):
        try:
            return {int(c["id"]): str(c["name"]) for c in json.loads((run / "annotations.json").read_text()).get("categories", [])}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return {}


def _per_class(seqs: list[Sequence], read: dict, metrics, suite: Path) -> list[Row]:
    """A row per class over every clip, when every prediction line has a class (else none)."""
    preds = [d for _, pred in read.values() for dets in pred.values() for d in dets]
    if not preds or any(d[3] is None for d in preds):
        return []
    gt_classes = {d[3] for gt, _ in read.values() for dets in gt.values() for d in dets}
    names = _class_names(suite)
    out = []
    for cls in sorted(gt_classes | {d[3] for d in preds} - {None}):
        per = {}
        objects = tracks = frames = 0
        for s in seqs:
            gt, pred = read[s.name]
            data = _data(_of_class(gt, cls), _of_class(pred, cls), s.frames)
            per[s.name] = {m.get_name(): m.eval_sequence(data) for m in metrics}
            objects, tracks, frames = objects + data["num_gt_dets"], tracks + data["num_gt_ids"], frames + s.frames
        res = {m.get_name(): m.combine_sequences({n: per[n][m.get_name()] for n in per}) for m in metrics}
        name = names.get(cls, str(cls))
        out.append(_row(f"class {name}", name, None, len(seqs), frames, objects, tracks, res))
    return out


# --------------------------------------------------------------------------------------------
# output

COLUMNS = ("clips", "frames", "objects", "tracks", "HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW", "FP", "FN")


def _values(r: Row) -> list:
    return [r.clips, r.frames, r.objects, r.tracks, r.hota, r.deta, r.assa, r.mota, r.idf1, r.idsw, r.fp, r.fn]


def _f(v) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def table(ev: TrackEvaluation, clips: int = 20) -> str:
    """Groups, then the first ``clips`` clips, as a terminal table."""
    width = max(len(r.name) for r in [*ev.groups, *ev.classes, *ev.clips[:clips]]) + 2
    head = f"{'clips / group':<{width}}" + "".join(f"{c:>8}" for c in COLUMNS)
    lines = [head]
    for r in ev.groups:
        lines.append(f"{r.name:<{width}}" + "".join(f"{_f(v):>8}" for v in _values(r)))
    if ev.classes:
        lines.append("")
        for r in ev.classes:
            lines.append(f"{r.name:<{width}}" + "".join(f"{_f(v):>8}" for v in _values(r)))
    if clips:
        lines.append("")
        for r in ev.clips[:clips]:
            lines.append(f"{r.name:<{width}}" + "".join(f"{_f(v):>8}" for v in _values(r)))
        if len(ev.clips) > clips:
            lines.append(f"... and {len(ev.clips) - clips} more clips in tracking.csv")
    return "\n".join(lines)


def write_report(ev: TrackEvaluation, out: Path) -> list[Path]:
    """OUT/tracking.csv (every clip and group), tracking.md and tracking.png."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path, png_path = out / "tracking.csv", out / "tracking.md", out / "tracking.png"
    lines = [["name", "kind", "condition", "severity", *(c.lower() for c in COLUMNS)]]
    for kind, rows in (("group", ev.groups), ("class", ev.classes), ("clip", ev.clips)):
        for r in rows:
            lines.append([r.name, kind, r.condition, "" if r.severity is None else r.severity,
                          *(f"{v:.4f}" if isinstance(v, float) else v for v in _values(r))])
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(lines)
    atomic_write(csv_path, buf.getvalue().encode())
    md = ["| clips / group | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    md += ["| " + " | ".join([r.name, *(_f(v) for v in _values(r))]) + " |" for r in [*ev.groups, *ev.classes, *ev.clips]]
    atomic_write(md_path, ("# Tracking results\n\n" + "\n".join(md) + "\n").encode())
    _plot(ev, png_path)
    return [csv_path, md_path, png_path]


METRICS = (("hota", "HOTA"), ("mota", "MOTA"), ("idf1", "IDF1"))


def _plot(ev: TrackEvaluation, path: Path) -> None:
    """Conditions with severities: each metric against severity, a line per condition (the clean
    score at 0). Otherwise: each metric per clip, as bars. An explicit Agg figure, no pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    graded = [r for r in ev.groups if r.severity is not None]
    fig = Figure(figsize=(11, 3.8), dpi=110)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3, sharey=True)
    if graded:
        clean = next((r for r in ev.groups if r.condition == "clean"), None)
        for ax, (key, label) in zip(axes, METRICS):
            for cond in sorted({r.condition for r in graded}):
                pts = sorted((r.severity, getattr(r, key)) for r in graded if r.condition == cond)
                xs = ([0] if clean else []) + [p[0] for p in pts]
                ys = ([getattr(clean, key)] if clean else []) + [p[1] for p in pts]
                ax.plot(xs, ys, marker="o", label=cond)
            if clean:
                ax.axhline(getattr(clean, key), color="grey", linestyle="--", linewidth=1)
            ax.set_xlabel("severity (0 = clean)")
            ax.set_title(f"{label} against severity")
        axes[0].legend(fontsize=8)
    else:
        rows = ev.clips[:40]
        xs = range(len(rows))
        for ax, (key, label) in zip(axes, METRICS):
            ax.bar(xs, [getattr(r, key) for r in rows], color="#3b6ea8")
            overall = ev.groups[-1]
            ax.axhline(getattr(overall, key), color="grey", linestyle="--", linewidth=1, label="all clips")
            ax.set_xticks(list(xs), [r.name.rsplit("-", 1)[-1].lstrip("0") or "0" for r in rows], fontsize=6, rotation=90)
            ax.set_xlabel("clip")
            ax.set_title(f"{label} per clip")
        axes[0].legend(fontsize=8)
    low = min([0.0] + [min(r.hota, r.mota, r.idf1) for r in [*ev.groups, *ev.clips]])
    axes[0].set_ylim(max(low, -1.0) - 0.02, 1.02)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
