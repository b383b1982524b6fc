"""Merging a run's shards into one dataset: annotations.json, panoptic.json, metadata.jsonl, streaming.

Fragments are read one shard at a time, so memory does not grow with the run. Merging into
another folder links the images there (hard links where the file system allows, else copies).
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
from pathlib import Path
from typing import Any

import yaml

from synthgen.config import OutputConfig
from synthgen.errors import OutputError
from synthgen.io.files import AtomicFile, atomic_write, link_or_copy
from synthgen.io.manifest import refresh_manifest
from synthgen.writers import (
    coco,  # the other formats' modules: where their format is on
)

_ENCODER = json.JSONEncoder(separators=(",", ":"))  # what json.dumps builds anew on every call
_dumps = _ENCODER.encode
_DECODER = json.JSONDecoder()
_HEAD = '{"images":['  # how writers/shard.py starts a shard's COCO fragment (no spaces)


def _fragment(text: str, key: str) -> list[dict[str, Any]]:
    """The ``images`` or ``annotations`` of a shard's COCO fragment. Laid out as the shard
    writer lays it out (images first), the images are decoded without the (far larger)
    annotations; any other text is decoded whole."""
    if text.startswith(_HEAD):
        images, end = _DECODER.raw_decode(text, len(_HEAD) - 1)
        if key == "images":
            return images
        if text.startswith(',"annotations":[', end):
            annotations, end = _DECODER.raw_decode(text, end + len(',"annotations":'))
            if text[end:].strip() == "}":
                return annotations
    return json.loads(text)[key]


def _shard_records(run: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    missing = [s for s in range(manifest["num_shards"]) if str(s) not in manifest["shards"]]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise OutputError(
            f"{run}: shards {missing[:5]}{more} of {manifest['num_shards']} are not finished; "
            "run the remaining ones (the same generate command resumes) before merging"
        )
    return [manifest["shards"][str(s)] for s in range(manifest["num_shards"])]


def merge_run(run: Path, dest: Path | None = None, verify: bool = False) -> dict[str, Any]:
    """Write DEST/annotations.json (coco) and DEST/metadata.jsonl from RUN's shards. ``verify``:
    first check every shard's files as a resume does (sizes, annotation checksums). A merge that
    fails (a full disk) leaves no temporary of its own and no annotations.json; run it again."""
    run = Path(run)
    dest = Path(dest) if dest is not None else run
    try:
        return _merge(run, dest, verify)
    except OSError as exc:
        _discard_temporaries(dest)
        where = f" ({exc.filename2 or exc.filename})" if exc.filename else ""
        raise OutputError(f"cannot merge {run} into {dest}: {exc.strerror or exc}{where}") from exc


def _discard_temporaries(dest: Path) -> None:
    """Remove this process's temporaries (``.<name>.tmp<pid>``) where a merge writes its files."""
    from synthgen.io.outdir import MERGED_FILES

    suffix = f".tmp{os.getpid()}"
    for folder in {dest, *(dest / Path(n).parent for n in MERGED_FILES)}:
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for p in entries:
            if p.name.startswith(".") and p.name.endswith(suffix):
                p.unlink(missing_ok=True)


def _merge(run: Path, dest: Path, verify: bool) -> dict[str, Any]:
    manifest = refresh_manifest(run)
    shards = _shard_records(run, manifest)
    if verify:
        from synthgen.io.manifest import ShardSpec
        from synthgen.writers.shard import verify_shard

        for r in shards:
            if verify_shard(run, ShardSpec(r["shard"], r["start"], r["stop"])) is None:
                raise OutputError(
                    f"{run}: shard {r['shard']} (images {r['start']} to {r['stop'] - 1}) has files missing or changed "
                    "since it was written; run the same generate command again (it redoes that shard and merges)"
                )
    _check_dest(run, dest, [run / "shards" / f"shard-{r['shard']:06d}.jsonl" for r in shards])
    dest.mkdir(parents=True, exist_ok=True)
    # annotations.json is the sign of a finished dataset: gone while the merge runs, renamed into
    # place last, so a merge killed part-way never leaves it beside missing or stale files
    (dest / "annotations.json").unlink(missing_ok=True)
    if dest.resolve() != run.resolve():  # first: marks DEST as this run's merge, so a killed merge runs again
        shutil.copy2(run / "config.yaml", dest / "config.yaml")
    names = [f"shard-{r['shard']:06d}" for r in shards]

    coco_run = "coco" in manifest["formats"]

    def split_of(name: str) -> dict[str, str]:
        return _shard_splits(run, name, coco_run)

    present = _parts_present(names, split_of)
    if coco_run:
        categories = coco.categories(manifest["classes"], manifest.get("keypoints"))
        info = {"description": "synthgen", "seed": manifest["seed"], "config_digest": manifest["config_digest"]}
        files = {"all": _CocoStream(dest / "annotations.json", info)}
        if present:  # the run has a validation part: train.json and val.json too
            files.update({part: _CocoStream(dest / f"{part}.json", {**info, "split": part}) for part in PARTS})
        videos: dict[int, dict[str, Any]] = {}  # clip runs: COCO video's top-level list
        in_part: dict[str, set[int]] = {}  # the videos of train.json and val.json
        for name in names:
            for entry in _fragment(_coco_fragment(run, name), "images"):
                text = _dumps(entry)  # once, for annotations.json and the entry's part file
                files["all"].add_text(text)
                if "video_id" in entry:
                    v = videos.setdefault(entry["video_id"], {
                        "id": entry["video_id"], "name": entry["video"], "width": entry["width"],
                        "height": entry["height"], "length": 0, "fps": manifest.get("clips", {}).get("fps"),
                    })
                    v["length"] += 1
                if present:
                    part = entry.get("split", "train")
                    files[part].add_text(text)
                    if "video_id" in entry:  # a clip's frames are all in one part: it lists its own videos
                        in_part.setdefault(part, set()).add(entry["video_id"])
        for f in files.values():
            f.annotations()
        for name in names:
            text = _coco_fragment(run, name)
            # an annotation's image is in its own shard: the shard's images give its part
            part_of = {e["id"]: e.get("split", "train") for e in _fragment(text, "images")} if present else {}
            for entry in _fragment(text, "annotations"):
                encoded = _dumps(entry)
                files["all"].add_text(encoded)
                if present:
                    files[part_of[entry["image_id"]]].add_text(encoded)
        for part, f in files.items():
            own = [v for v in videos.values() if part == "all" or v["id"] in in_part.get(part, ())]
            f.close(categories, own if videos else None, commit=part != "all")  # a clips run's part with no clip: "videos": []
    if "panoptic" in manifest["formats"]:
        _merge_panoptic(run, dest, names, manifest)
    if "voc" in manifest["formats"]:
        from synthgen.writers import voc

        for rel, text in voc.image_sets(_parts(run, names)).items():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            atomic_write(dest / rel, text.encode())
    if "semantic" in manifest["formats"]:
        from synthgen.writers import semantic

        doc = semantic.classes_json(list(manifest["classes"]), _semantic_ignore(run), manifest.get("stuff_classes", ()))
        atomic_write(dest / "semantic_classes.json", semantic.classes_text(doc).encode())

    from synthgen.writers.lanes import merge_lanes

    merge_lanes(run, dest, names, split_of, "val" in present)  # writes nothing unless the run has lines

    out = AtomicFile(dest / "metadata.jsonl", "wb")
    for name in names:
        with open(run / "shards" / f"{name}.jsonl", "rb") as part:
            shutil.copyfileobj(part, out.f)
    out.commit()

    if dest.resolve() != run.resolve():
        for sub in ("images", "labels", "masks", "semantic", "panoptic", "lines", "webdataset",
                    "JPEGImages", "Annotations", "SegmentationClass", "SegmentationObject"):
            if (run / sub).is_dir():
                _link_tree(run / sub, dest / sub)
        if (run / "hf").is_dir():
            from synthgen.writers import hf

            hf.link_tree(run / "hf", dest / "hf")
    if "hf" in manifest["formats"]:  # after the link: the split metadata files are the merge's
        from synthgen.writers import hf

        hf.merge_metadata(run, dest, names)
    if "yolo" in manifest["formats"]:
        from synthgen.writers import yolo

        lists = "val" in present
        if lists:  # Ultralytics reads ./ lines relative to the list file
            streams = {part: AtomicFile(dest / f"{part}.txt") for part in PARTS}
            for name in names:
                for f, p in split_of(name).items():
                    streams[p].write(f"./images/{f}\n")
            for stream in streams.values():
                stream.commit()
        atomic_write(dest / "data.yaml", yolo.data_yaml(tuple(manifest["classes"]), lists=lists, keypoints=manifest.get("keypoints") if manifest.get("yolo_task") == "pose" else None).encode())
    if coco_run:
        if "mot" in manifest.get("clips", {}).get("layouts", ()):  # a clips run's MOT layout, from the finished annotations
            _write_mot(run, dest, files["all"].f, manifest["clips"]["fps"])
        files["all"].f.commit()  # last: see above
    return {"images": sum(r["images"] for r in shards), "instances": sum(r["instances"] for r in shards), "dest": dest}


PARTS = ("train", "val")


def _parts(run: Path, names: list[str]) -> dict[str, list[str]]:
    """{part: image stems in index order}; every image is in train when the run has no
    validation part."""
    out: dict[str, list[str]] = {part: [] for part in PARTS}
    for name in names:
        with open(run / "shards" / f"{name}.jsonl") as f:
            for line in f:
                rec = json.loads(line)
                out[rec.get("split") if rec.get("split") in PARTS else "train"].append(Path(rec["file_name"]).stem)
    return out


def _merge_panoptic(run: Path, dest: Path, names: list[str], manifest: dict[str, Any]) -> None:
    """DEST/panoptic.json from the shards' panoptic fragments, entry by entry."""
    info = {"description": "synthgen", "seed": manifest["seed"], "config_digest": manifest["config_digest"]}
    out = _CocoStream(dest / "panoptic.json", info)
    fragments = [run / "shards" / f"{name}.panoptic.json" for name in names]
    for f in fragments:
        for entry in _fragment(f.read_text(), "images"):
            out.add(entry)
    out.annotations()
    for f in fragments:
        for entry in _fragment(f.read_text(), "annotations"):
            out.add(entry)
    from synthgen.writers import panoptic

    out.close(panoptic.categories(list(manifest["classes"]), manifest.get("stuff_classes", ())))


def _write_mot(run: Path, dest: Path, annotations: AtomicFile, fps: float) -> None:
    """DEST/mot/ from the merged annotations still under their temporary name (DEST/images/
    linked already): a merge killed while writing it leaves no annotations.json."""
    from synthgen.config import ClipsConfig
    from synthgen.writers.mot import write_mot

    annotations.f.flush()
    doc = yaml.safe_load((run / "config.yaml").read_text()) or {}
    image_format = (doc.get("output") or {}).get("image_format", OutputConfig.model_fields["image_format"].default)
    mot_class = (doc.get("clips") or {}).get("mot_class", ClipsConfig.model_fields["mot_class"].default)
    write_mot(dest, image_format, float(fps), mot_class, source=annotations.tmp)


def _semantic_ignore(run: Path) -> list[str]:
    """``output.semantic_ignore`` of the run's config (left out there when at its default)."""
    doc = yaml.safe_load((run / "config.yaml").read_text()) or {}
    value = (doc.get("output") or {}).get("semantic_ignore")
    return list(value) if value is not None else list(OutputConfig.model_fields["semantic_ignore"].default)


def _coco_fragment(run: Path, name: str) -> str:
    return (run / "shards" / f"{name}.coco.json").read_text()


def _shard_splits(run: Path, name: str, coco_run: bool) -> dict[str, str]:
    """{image file name: part} of one shard's images that name a part, in index order: from
    its COCO image entries (small) when the run writes COCO, else from its metadata lines.
    Empty when the run has no validation part (``output.val_fraction: 0``, a stress suite).
    One shard at a time: a merge's memory does not grow with the run."""
    if coco_run:
        entries = _fragment(_coco_fragment(run, name), "images")
    else:
        with open(run / "shards" / f"{name}.jsonl") as f:
            entries = [json.loads(line) for line in f]
    # basename, not Path().name: pathlib interns each name it parses, a table that grows by megabytes over a big run
    return {posixpath.basename(e["file_name"]): e["split"] for e in entries if e.get("split") in PARTS}


def _parts_present(names: list[str], split_of) -> set[str]:
    """The parts the run's images name ("train", "val"), reading shards until both are seen."""
    present: set[str] = set()
    for name in names:
        present.update(split_of(name).values())
        if present >= set(PARTS):
            break
    return present


class _CocoStream:
    """One COCO file written entry by entry (memory does not grow with the run), under a
    temporary name until ``close``."""

    def __init__(self, path: Path, info: dict[str, Any]) -> None:
        self.path = path
        self.f = AtomicFile(path)
        self.f.write('{"info":' + _dumps(info) + ',"licenses":[],"images":[')
        self.first = True

    def add(self, entry: dict[str, Any]) -> None:
        self.add_text(_dumps(entry))

    def add_text(self, text: str) -> None:
        """An entry already encoded (compact JSON)."""
        self.f.write(("\n" if self.first else ",\n") + text)
        self.first = False

    def annotations(self) -> None:
        self.f.write('\n],"annotations":[')
        self.first = True

    def close(self, categories: list[dict[str, Any]], videos: list[dict[str, Any]] | None = None, commit: bool = True) -> None:
        """Finish the file; ``commit=False``: the caller renames it into place (``self.f.commit()``)."""
        if videos is not None:
            self.f.write('\n],"videos":[' + "".join(("\n" if k == 0 else ",\n") + _dumps(v) for k, v in enumerate(videos)))
        self.f.write('\n],"categories":' + _dumps(categories) + "}\n")
        if commit:
            self.f.commit()


def _check_dest(run: Path, dest: Path, metadata: list[Path]) -> None:
    """Merging elsewhere writes only into an empty folder, or one that already holds a merge of
    this very run (the same config.yaml, and a metadata.jsonl, when there is one, equal to the
    run's shards' ``metadata``): it never overwrites a user's files, nor the run itself, nor
    mixes in another run of the same config (its extra images would stay)."""
    if dest.resolve() == run.resolve():
        return
    r, d = run.resolve(), dest.resolve()
    if d in r.parents:
        raise OutputError(f"--out {dest} contains the run {run}: choose a folder outside it")
    if r in d.parents:  # its links would land among the run's own files (images/ linked into itself)
        raise OutputError(f"--out {dest} lies inside the run {run}: choose a folder outside it")
    if not dest.exists():
        return
    if not dest.is_dir():
        raise OutputError(f"--out {dest} exists and is not a folder")
    entries = [p for p in dest.iterdir() if not p.name.startswith(".")]
    if not entries:
        return
    config = dest / "config.yaml"
    if config.is_file() and config.read_bytes() == (run / "config.yaml").read_bytes():
        # an earlier merge of this run: merged files are replaced, links kept. A merge writes
        # metadata.jsonl before it links images, so one that linked any has it
        there = dest / "metadata.jsonl"
        if not there.is_file():
            return
        theirs, ours = _digest_lines([there]), _digest_lines(metadata)
        if theirs == ours:
            return
        same = "the same number of images but other ones" if theirs[1] == ours[1] else f"{ours[1]} images"
        raise OutputError(
            f"--out {dest} holds a merge of another run of this config (its metadata.jsonl lists {theirs[1]} images; "
            f"{run} has {same}); merging never removes another merge's files: choose an empty or new folder"
        )
    raise OutputError(
        f"--out {dest} is not empty and holds no merge of {run} (its config.yaml differs or is missing); "
        "merging never overwrites other files: choose an empty or new folder"
    )


def _digest_lines(paths: list[Path]) -> tuple[str, int]:
    """sha256 and line count of the files' bytes one after another, read in blocks."""
    import hashlib

    h, lines = hashlib.sha256(), 0
    for p in paths:
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
                lines += block.count(b"\n")
    return h.hexdigest(), lines


def _link_tree(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for p in src.iterdir():
        if p.name.startswith(".") or not p.is_file():  # a user's sub-folder: synthgen writes files only
            continue
        target = dst / p.name
        if target.exists():
            continue
        link_or_copy(p, target)
