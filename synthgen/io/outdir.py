"""What a run may do to its output folder: never write into its inputs, and remove only the files a
synthgen run wrote (listed in its shards' done records, or in the ``.partial`` list of a shard
killed part-way), never anything else found there.

    OUT/config.yaml, manifest.json       mark the folder as a synthgen run
    OUT/shards/shard-NNNNNN.done.json    a finished shard: every file it wrote, with size + sha256
    OUT/shards/shard-NNNNNN.partial      a shard being written: every file it has started
    OUT/**/.<name>.tmp<pid>              a file being written (renamed into place when whole)
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from synthgen.errors import OutputError
from synthgen.io.manifest import MANIFEST, ShardSpec, read_json

CONFIG = "config.yaml"
MERGED_FILES = ("annotations.json", "train.json", "val.json", "metadata.jsonl", "data.yaml", "train.txt", "val.txt",
                "panoptic.json", "semantic_classes.json", "hf/train/metadata.jsonl", "hf/validation/metadata.jsonl",
                *(f"ImageSets/{t}/{p}.txt" for t in ("Main", "Segmentation") for p in ("train", "val", "trainval")),
                "lanes/tusimple_train.json", "lanes/tusimple_val.json", "list/train.txt", "list/val.txt")
OUTPUT_DIRS = ("images", "labels", "masks", "shards", "webdataset", "semantic", "panoptic",
               "JPEGImages", "Annotations", "SegmentationClass", "SegmentationObject", "hf", "lines")  # where shards write
TEMPORARY = re.compile(r"^\..+\.tmp\d+$")  # synthgen's temporary names: .<name>.tmp<pid>
_SHARD = re.compile(r"^shard-(\d+)\.(done\.json|partial)$")


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def check_not_an_input(out: Path, inputs: list[tuple[str, Path]]) -> None:
    """Refuse an ``out`` that is, contains or lies inside an input (``(config key, path)`` pairs):
    a run that writes or replaces files there could destroy the data it reads."""
    target = Path(out).resolve()
    for key, path in inputs:
        src = Path(path).resolve()
        if target == src:
            how = "is"
        elif _within(src, target):
            how = "contains"
        elif _within(target, src):
            how = "lies inside"
        else:
            continue
        raise OutputError(
            f"--out {out} {how} the input {key} ({path}): synthgen never writes where it reads, "
            "so that no run can overwrite or delete its own input. Choose an --out outside every "
            "folder the config reads"
        )


def is_run(out: Path) -> bool:
    return (out / CONFIG).is_file() or (out / MANIFEST).is_file()


def run_kind(out: Path) -> str | None:
    """The kind of run (``generate``, ``stress``) a folder holds, from its manifest or, for a run
    killed before it wrote one, its done records; None when neither says."""
    manifest = read_json(out / MANIFEST)
    if manifest is not None:
        return manifest.get("kind") or ("stress" if "suite" in manifest else "generate")
    for path in sorted((out / "shards").glob("shard-*.done.json"))[:1]:
        rec = read_json(path)
        if rec is not None:
            return rec.get("kind", "generate")
    return None


def _shard_files(out: Path) -> list[tuple[int, Path]]:
    """Every done record and partial list in OUT/shards, with its shard id."""
    found = []
    shards = out / "shards"
    if shards.is_dir():
        for p in shards.iterdir():
            m = _SHARD.match(p.name)
            if m:
                found.append((int(m.group(1)), p))
    return sorted(found)


def _listed(path: Path) -> list[str]:
    """The files a done record or a partial list names (relative to OUT)."""
    if path.name.endswith(".partial"):
        try:
            return [line for line in path.read_text().splitlines() if line]
        except OSError:
            return []
    rec = read_json(path)
    return list(rec.get("files", {})) if rec else []


def _safe(rel: str) -> bool:
    """Only paths inside the folders shards write, as a run records them."""
    p = PurePosixPath(rel)
    return (
        not p.is_absolute()
        and len(p.parts) >= 2
        and p.parts[0] in OUTPUT_DIRS
        and all(part not in ("", ".", "..") for part in p.parts)
        and "\\" not in rel
    )


def _remove(out: Path, rels: list[str]) -> int:
    """Remove the run's files ``rels``, then the folders below the output folders that held them
    (``hf/train/shard-000003/``) when that left them empty."""
    n = 0
    folders: set[PurePosixPath] = set()
    for rel in rels:
        if not _safe(rel):
            continue
        try:
            (out / rel).unlink()
            n += 1
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise OutputError(f"cannot remove {out / rel} (a file of the previous run): {exc.strerror or exc}") from exc
        folders.update(p for p in PurePosixPath(rel).parents if len(p.parts) >= 2)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        try:
            (out / folder).rmdir()
        except OSError:  # missing, or holds what is not the run's
            pass
    return n


def stale_shards(out: Path, plan: list[ShardSpec]) -> list[Path]:
    """Done records that are not part of ``plan`` (another -n or shard size): their files are no
    longer part of the run."""
    wanted = {s.id: (s.start, s.stop) for s in plan}
    stale = []
    for sid, path in _shard_files(out):
        if path.name.endswith(".done.json"):
            rec = read_json(path) or {}
            if wanted.get(sid) != (rec.get("start"), rec.get("stop")):
                stale.append(path)
    return stale


def prune(out: Path, plan: list[ShardSpec]) -> int:
    """Remove the files of shards no longer part of ``plan``, and of shards killed part-way
    (they are redone); only files their records list. Returns the number of files removed of
    shards no longer part of the run. Only while no other process writes into ``out``."""
    removed = 0
    stale = set(stale_shards(out, plan))
    files = _shard_files(out)
    finished = {sid for sid, path in files if path.name.endswith(".done.json") and path not in stale}
    for sid, path in files:
        if path in stale:
            removed += _remove(out, _listed(path))
        elif path.name.endswith(".partial") and sid not in finished:
            _remove(out, _listed(path))  # redone anyway; not counted
        else:
            if path.name.endswith(".partial"):  # killed after its done record: the shard is whole
                path.unlink(missing_ok=True)
            continue
        path.unlink(missing_ok=True)
    return removed


def clear_run(out: Path) -> int:
    """Remove the run in ``out``: every file its shards list, its merged files, manifest and
    config; then the folders it made, if empty. Files it did not write stay. Returns the count."""
    removed = 0
    for _, path in _shard_files(out):
        removed += _remove(out, _listed(path))
        path.unlink(missing_ok=True)
    for name in (*MERGED_FILES, MANIFEST, CONFIG):
        try:
            (out / name).unlink()
            removed += 1
        except FileNotFoundError:
            pass
    for sub in ("hf/train", "hf/validation"):
        try:
            (out / sub).rmdir()
        except OSError:
            pass
    removed += _clear_mot(out)
    removed += clear_previews(out)
    merged_dirs = sorted({p for n in MERGED_FILES for p in PurePosixPath(n).parents if p.parts}, key=lambda p: -len(p.parts))
    for sub in (*OUTPUT_DIRS, *map(str, merged_dirs)):  # deepest first: ImageSets/Main before ImageSets
        try:
            (out / sub).rmdir()
        except OSError:  # missing, or holds files that are not the run's
            pass
    return removed


_MOT_FILE = re.compile(r"^clip-\d+/(img1/\d{6}\.(jpg|png)|gt/gt\.txt|seqinfo\.ini)$")


def _clear_mot(out: Path) -> int:
    """Remove the MOT layout a clips run wrote at its merge (``mot/clip-N/img1/*``, ``gt/gt.txt``,
    ``seqinfo.ini``: names only synthgen writes there), then its folders if empty."""
    mot = out / "mot"
    if not mot.is_dir() or mot.is_symlink():
        return 0
    removed = 0
    for path in sorted(mot.rglob("*"), reverse=True):
        rel = path.relative_to(mot).as_posix()
        if path.is_file() and not path.is_symlink() and _MOT_FILE.match(rel):
            path.unlink()
            removed += 1
        elif path.is_dir():
            try:
                path.rmdir()
            except OSError:
                pass
    try:
        mot.rmdir()
    except OSError:
        pass
    return removed


PREVIEW_DIR = "preview"
PREVIEW_FILE = re.compile(r"^clip-\d{6}\.gif$")  # what `synthgen clips --preview` writes in OUT/preview/


def clear_previews(out: Path, keep: set[str] = frozenset()) -> int:
    """Remove the clip previews (``preview/clip-NNNNNN.gif``) but those named in ``keep``: a
    preview outlives neither its run nor its clip. The folder goes too if that empties it."""
    folder = out / PREVIEW_DIR
    if not folder.is_dir() or folder.is_symlink():
        return 0
    removed = 0
    for path in folder.iterdir():
        if PREVIEW_FILE.match(path.name) and path.name not in keep and path.is_file() and not path.is_symlink():
            path.unlink()
            removed += 1
    try:
        folder.rmdir()
    except OSError:  # holds the previews kept, or files that are not ours
        pass
    return removed


def clean_temporaries(out: Path) -> int:
    """Remove files under synthgen's temporary names (``.<name>.tmp<pid>``) that runs killed
    while writing left behind. Only while no other process writes into ``out``."""
    removed = 0
    for folder in (out, *(out / sub for sub in OUTPUT_DIRS)):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            if TEMPORARY.match(e.name) and e.is_file(follow_symlinks=False):
                Path(e.path).unlink(missing_ok=True)
                removed += 1
    return removed
