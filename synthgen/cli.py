"""The ``synthgen`` command: thin click wrappers that parse, call and print."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# numpy's work here is small matrix products (3x3 per object, a few hundred wide for Poisson
# blending), and runs use one process per worker: OpenBLAS' thread pool, started when numpy
# loads with one thread per core, only costs CPU (~30 ms at every start, and again in each
# worker). Set before anything imports numpy; a value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import click

from synthgen.errors import SynthgenError

CONFIG_HELP = "YAML config (default: configs/default.yaml with the bundled assets)."
SET_HELP = (
    "Override one config key, KEY.PATH=VALUE with a YAML value; repeatable. "
    "Example: --set scene.objects_per_image=[2,4] --set canvas.width=800"
)

WORKERS_HELP = (
    "Worker processes, or auto: one per CPU this job may use (its CPU affinity and container "
    "quota, not every core of the machine). The output is the same bytes for any count."
)
TIP_AFTER_SECONDS = 30  # a run with the default single worker this long gets a hint about --workers


class _Workers(click.ParamType):
    """A number of worker processes (1 or more) or ``auto``."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            n = value
        elif str(value).strip().lower() == "auto":
            from synthgen.cpus import available_cpus

            return available_cpus()
        else:
            try:
                n = int(str(value).strip())
            except ValueError:
                self.fail(f"{value!r}: give a number of processes (1 or more) or auto", param, ctx)
        if n < 1:
            self.fail(f"{value!r}: give a number of processes (1 or more) or auto", param, ctx)
        return n


WORKERS = _Workers()


def _workers_tip(workers: int, backend: str, seconds: float) -> None:
    """After a long run on the default single worker, say how many CPUs it left idle."""
    if workers != 1 or backend != "local" or seconds < TIP_AFTER_SECONDS:
        return
    if click.get_current_context().get_parameter_source("workers") != click.core.ParameterSource.DEFAULT:
        return
    from synthgen.cpus import available_cpus

    cpus = available_cpus()
    if cpus > 1:
        click.echo(f"tip: this ran on 1 of {cpus} CPUs; --workers auto writes the same bytes in less time")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="synthgen")
def main() -> None:
    """synthgen: composite object cutouts onto backgrounds, with exact boxes and masks.

    Every image is a function of (config, seed, index) alone, so a run gives the same bytes
    for any number of workers and can be repeated exactly. Labels come from the pixels the generator placed: a box is the tight box of an
    object's visible mask after occlusion and truncation.

    \b
    Quick start (bundled assets, default config):
      synthgen generate --out out/ -n 200
      synthgen preview -o sheet.png
      synthgen config                  # every key of the config, resolved, with its source
    """
    import warnings

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # no source path or code line
        click.echo(f"warning: {message}", err=True)

    warnings.showwarning = show


FORMATS = ("coco", "yolo", "webdataset", "semantic", "panoptic", "voc", "hf")


def _formats(text: str) -> list[str]:
    """``--format`` names, case-insensitive; an unknown one is an error about --format."""
    import difflib

    names = [f.strip().lower() for f in text.split(",") if f.strip()]
    for name in names:
        if name not in FORMATS:
            hint = difflib.get_close_matches(name, FORMATS, n=1)
            raise SynthgenError(
                f"--format {text!r}: unknown format {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; allowed: {', '.join(FORMATS)}, comma-separated"
            )
    if not names:
        raise SynthgenError(f"--format {text!r}: give one or more of {', '.join(FORMATS)}, comma-separated")
    return names


def _load(config: str | None, overrides: tuple[str, ...], seed: int | None, formats: str | None):
    from synthgen.config import load_config

    if config is not None and not Path(config).exists():
        from synthgen.effects.specs import SPECS

        # `--format coco yolo`, `--conditions fog, night`, `--severities 1, 3`: click took the
        # word after the space as CONFIG
        words = {*FORMATS, "mot", *SPECS, "glare", "noise", "blur", "occlusion", "1", "2", "3", "4", "5"}
        if Path(config).name.lower() in words:
            raise SynthgenError(
                f"{config!r} came as the CONFIG argument but is an output format, condition or severity: "
                "--format, --conditions and --severities take one comma-separated list without spaces, "
                "e.g. --format coco,yolo"
            )
    extra = list(overrides)
    if seed is not None:
        extra.append(f"seed={seed}")
    if formats is not None:
        extra.append(f"output.formats=[{','.join(_formats(formats))}]")
    return load_config(config, extra)


def _check_backend(backend: str, address: str | None) -> None:
    if address is not None and backend != "ray":
        raise SynthgenError(f"--address {address} is for Ray: add --backend ray, or leave --address out")


def _bar(total: int | None, desc: str, quiet: bool, unit: str = "img"):
    """A progress bar on stderr: none with -q, nor when stderr is no terminal (logs, pipes)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=True if quiet else None, dynamic_ncols=True, file=sys.stderr)


def _steps(bar):
    """A ``progress(done, total)`` callback that moves ``bar``."""

    def step(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return step


class _RunBar:
    """A run's progress bar, shown once the work left is known (no empty bar before it)."""

    def __init__(self, desc: str, quiet: bool) -> None:
        self.desc, self.quiet, self.bar = desc, quiet, None

    def plan(self, images: int, skipped: int) -> None:
        self.bar = _bar(images, self.desc, self.quiet)
        if skipped:
            self.bar.set_postfix_str(f"{skipped} shards already done")

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()


def _fail(err: Exception) -> None:
    click.echo(f"error: {err}", err=True)
    sys.exit(2)


@main.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("-n", "--num-images", default=100, show_default=True, type=click.IntRange(min=1), help="Images in the run.")
@click.option("--seed", type=click.IntRange(min=0), help="Run seed (overrides the config's `seed`).")
@click.option("--workers", "-w", default=1, show_default=True, type=WORKERS, help=WORKERS_HELP)
@click.option("--format", "formats", help="Comma-separated output formats: coco, yolo, webdataset, semantic, panoptic, voc, hf (default: the config's).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option(
    "--shard-size", type=click.IntRange(min=1),
    help="Images per shard (default: n/32, between 10 and 1000). Keep it the same to resume.",
)
@click.option("--shard", "part", metavar="I/N", help="Write only part I of N (from 0): one machine of N, e.g. a Slurm array.")
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True, help="Where shards run.")
@click.option("--address", help="Ray cluster address for --backend ray (e.g. auto); default: start a local Ray.")
@click.option("--merge/--no-merge", default=None, help="Merge shards into one annotations.json at the end (default: runs up to 200,000 images).")
@click.option("--verify", is_flag=True, help="When resuming, re-hash every finished file, not just sizes and annotations.")
@click.option("--overwrite", is_flag=True, help="Replace the synthgen run in OUT (only the files it wrote are removed; with --shard, only a run of another config).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def generate(config, out, num_images, seed, workers, formats, overrides, shard_size, part, backend, address, merge, verify, overwrite, quiet) -> None:
    """Generate a labeled dataset into OUT.

    \b
    Writes, by format:
      coco        OUT/images/*.jpg, OUT/annotations.json (RLE masks, tight boxes)
      yolo        OUT/labels/*.txt (Ultralytics layout), OUT/data.yaml
      webdataset  OUT/webdataset/shard-*.tar (image, uint16 id map, labels per sample)
      semantic    OUT/semantic/*.png (class index per pixel, 255 ignore), OUT/semantic_classes.json
      panoptic    OUT/panoptic/*.png (segment id = R + 256 G + 256^2 B), OUT/panoptic.json
      voc         OUT/JPEGImages, Annotations/*.xml, SegmentationClass, SegmentationObject, ImageSets
      hf          OUT/hf/{train,validation}/<shard>/ images, OUT/hf/{train,validation}/metadata.jsonl
                  (boxes, categories; at the merge): datasets.load_dataset("imagefolder", data_dir="OUT")
    and always OUT/metadata.jsonl (every sampled parameter, one line per image),
    OUT/config.yaml (the resolved config) and OUT/manifest.json (shards done, counts).
    Labels switched on by config keys (--set KEY=VALUE):
      output.keypoints=true       COCO keypoints from objects/<class>/keypoints.yaml and
                                  <cutout>.keypoints.json; output.yolo_task=pose: YOLO pose too
      output.lines=true           lane lines from backgrounds' <name>.lines.json: COCO image
                                  `lines`, OUT/lines/*.lines.txt + list/ (CULane), lanes/ (TuSimple)
      output.coco_masks=polygon   COCO polygons instead of RLE
      background classes          a background's <name>.labels.png (+ .labels.json) in semantic/panoptic

    \b
    Work is cut into shards, each written whole and checksummed. Running the same command
    again skips finished shards and redoes the rest, so an interrupted run resumes.
    OUT may not be or hold a folder the config reads; synthgen removes only files its runs
    wrote; one run writes into OUT at a time (--shard parts of one run may share it).

    \b
    Examples:
      synthgen generate --out out/ -n 200
      synthgen generate configs/street.yaml --out out/ -n 1000 --seed 7 --workers auto --format coco,yolo
      synthgen generate --out out/ -n 50 --set scene.objects_per_image=[2,4]
      synthgen generate cfg.yaml --out /shared/out -n 2000000 --shard 3/16     # machine 3 of 16
      synthgen generate cfg.yaml --out /shared/out -n 2000000 --backend ray --address auto
    """
    from synthgen.runner import generate as run
    from synthgen.runner import parse_part

    try:
        _check_backend(backend, address)
        cfg = _load(config, overrides, seed, formats)
        with _RunBar("generate", quiet) as bar:
            summary = run(
                cfg, out, num_images, workers=workers, shard_size=shard_size, part=parse_part(part),
                backend=backend, address=address, overwrite=overwrite, merge=merge, verify=verify,
                progress=bar.update, on_plan=bar.plan,
            )
    except SynthgenError as err:
        _fail(err)
    for line in summary.lines():
        click.echo(line)
    _workers_tip(workers, backend, summary.seconds)
    if cfg.assets.scenes is not None:
        from synthgen.io.real import load_scenes

        skip = (lambda err, file: None) if cfg.assets.on_error == "skip" else None  # listed above already
        note = load_scenes(cfg.assets.scenes, skip=skip, max_pixels=cfg.assets.max_pixels).crowd_note()
        if note:
            click.echo(note)
    if cfg.scene.balance is not None:
        from synthgen.generator import Generator

        click.echo("class balance (expected train objects; `combine --balance` counts what was made):")
        for line in Generator(cfg).balance_report:
            click.echo("  " + line)


@main.command()
@click.argument("runs", nargs=-1, required=True, metavar="RUN", type=click.Path(exists=True, file_okay=False))
@click.option("--out", "-o", type=click.Path(file_okay=False), help="Write the merged dataset here (default: into RUN).")
def merge(runs, out) -> None:
    """Merge a run's shards into one annotations.json and metadata.jsonl.

    Streaming: works on millions of images; refuses while shards are missing. With --out,
    the images (and labels, id maps) are linked there and the run is left as it is.
    To combine several datasets into one, use `synthgen combine`.

    \b
    Examples:
      synthgen merge out/
      synthgen merge out/ --out merged/
    """
    from synthgen.io.manifest import find_manifest
    from synthgen.writers.merge import merge_run

    try:
        if len(runs) != 1:
            raise SynthgenError(f"merge takes one run, got {len(runs)} paths; to combine datasets use "
                                f"`synthgen combine {' '.join(runs)} --out DIR`")
        run = Path(runs[0])
        not_a_run = SynthgenError(f"{run} is not a synthgen run (no manifest.json and shards/); "
                                  f"to combine datasets use `synthgen combine {run} ... --out DIR`")
        if not (run / "shards").is_dir():
            raise not_a_run
        from synthgen.errors import OutputError
        from synthgen.io.lock import LOCK_NAME, FolderLock, read_holders

        lock = FolderLock(run, shared=False)  # not while a run (or its --shard parts) writes into it
        try:
            lock.acquire()
        except OutputError as exc:
            if "in use" not in str(exc):  # not busy: e.g. a folder this user may not write
                raise
            who = ", ".join(h.describe() for h in read_holders(run / LOCK_NAME)) or "another synthgen process"
            raise OutputError(f"{run} is in use by {who}, still writing it: merge it once that has finished") from None
        try:
            if find_manifest(run) is None:
                if (run / "config.yaml").is_file():  # a run killed before its first manifest
                    raise OutputError(f"{run}: the run has not finished (no manifest.json yet): run the same "
                                      "generate command again (it resumes), which merges it when complete")
                raise not_a_run
            result = merge_run(run, Path(out) if out else None, verify=True)
        finally:
            lock.release()
    except SynthgenError as err:
        _fail(err)
    click.echo(f"merged {result['images']} images, {result['instances']} instances -> {result['dest']}")


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="New (or empty) output folder, outside the inputs.")
@click.option("--val-fraction", default=0.2, show_default=True, type=click.FloatRange(0, 1),
              help="Share of real images kept for validation (a split made by `synthgen split` keeps its own val part instead).")
@click.option("--val-synthetic", is_flag=True, help="Let synthetic images into validation too (default: real only).")
@click.option("--classes", help="Comma-separated class names, in id order; other names are an error.")
@click.option("--balance", is_flag=True, help="Print class counts before (real) and after (real + synthetic).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def combine(inputs, out, val_fraction, val_synthetic, classes, balance, quiet) -> None:
    """Combine datasets (COCO or YOLO, real or synthgen) into one COCO dataset.

    Categories are mapped by name, ids renumbered, OUT/train.json and OUT/val.json written
    (validation real-only by default), images copied under OUT/images/<input>/. The inputs
    are never modified. Every image must lie inside its dataset's folder and decode at its
    stated size, every annotation must be usable: the first that is not is named (file, id).

    \b
    A split made by `synthgen split` keeps its own train and val parts. Every synthetic
    image's recorded sources (its real scene, its cutouts' source images) are checked first:
    when a validation image fed the synthetic data, combine refuses and names it.

    \b
    Examples:
      synthgen combine real_split/ synth/ --out combined/ --balance
      synthgen combine real_split/ synth/ --out combined/ --classes car,person
    """
    from synthgen.tools.combine import combine as run

    paths = [Path(p) for p in inputs]
    try:
        with _bar(None, "combine", quiet) as bar:
            result = run(paths, Path(out), val_fraction=val_fraction, val_synthetic=val_synthetic,
                         classes=[c.strip() for c in classes.split(",")] if classes else None, progress=_steps(bar))
    except SynthgenError as err:
        _fail(err)
    click.echo(f"combined {len(paths)} datasets -> {result['out']}: {result['train']} train images, {result['val']} val images")
    for split in result["splits"]:
        click.echo(f"validation: the val part of the split {split} (provenance checked: no val image fed the synthetic data)")
    if balance:
        counts = result["counts"]
        real, carried, pasted = counts["real"], counts["carried"], counts["synthetic"]
        total_before = sum(real.values()) or 1
        total_after = (sum(real.values()) + sum(carried.values()) + sum(pasted.values())) or 1
        click.echo("train objects: real images, + real objects carried by synthetic images made on real scenes, "
                   "+ pasted objects (the base `generate` balances on)")
        click.echo(f"{'class':<16}{'real':>8}{'share':>8}{'+carried':>10}{'+pasted':>10}{'combined':>10}{'share':>8}")
        for c in real:
            after = real[c] + carried[c] + pasted[c]
            click.echo(f"{c:<16}{real[c]:>8}{real[c] / total_before:>8.1%}{carried[c]:>10}{pasted[c]:>10}{after:>10}{after / total_after:>8.1%}")


@main.command()
@click.argument("real", type=click.Path(exists=True))
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="New folder: OUT/train/, OUT/val/, OUT/split.json.")
@click.option("--val", "val_fraction", default=0.2, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="Share of the images for validation.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Which images go where (with their names).")
@click.option("--images", type=click.Path(exists=True, file_okay=False), help="With a COCO json file: the folder its file_names are relative to (default: images/ beside it).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def split(real, out, val_fraction, seed, images, quiet) -> None:
    """Split a real dataset (COCO or YOLO) into train and val, before making anything from it.

    By image, deterministic (a function of the image names and --seed), stratified by class
    where it can. Writes OUT/train/ and OUT/val/ in the input's format (images hard-linked,
    or copied) and OUT/split.json (which source image went where). The input is only read.

    \b
    Then make the synthetic data from the train part only, and combine with the split:
      synthgen split real/ --val 0.2 --out real_split/
      synthgen extract --coco real_split/train/annotations.json --images real_split/train/images --out my_assets/
      synthgen generate pad.yaml --out synth/      # assets.scenes: real_split/train
      synthgen combine real_split/ synth/ --out combined/
    """
    from synthgen.tools.split import count_lines, split_dataset

    try:
        with _bar(None, "split", quiet) as bar:
            result = split_dataset(Path(real), Path(out), val_fraction, seed, images=Path(images) if images else None,
                                   progress=_steps(bar))
    except SynthgenError as err:
        _fail(err)
    n = result["images"]
    click.echo(f"split {result['format']} {real} -> {result['out']}: {n['train']} train images, {n['val']} val images")
    click.echo("objects per class:")
    for line in count_lines(result):
        click.echo("  " + line)


@main.command()
@click.option("--coco", type=click.Path(exists=True, dir_okay=False), help="COCO annotations.json with masks (polygons or RLE).")
@click.option("--images", type=click.Path(exists=True, file_okay=False), help="With --coco: the folder its file_names are relative to.")
@click.option("--yolo", type=click.Path(exists=True, file_okay=False), help="A YOLO dataset folder with data.yaml (train/val/test image folders or lists, labels beside images/ in labels/, as Ultralytics reads them).")
@click.option("--masks", type=click.Path(exists=True, file_okay=False), help="With --images: instance-id map PNGs, <image stem>.png, 0 = background.")
@click.option("--class", "class_name", help="With --masks: the class of every object in them.")
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="Asset folder to write: one sub-folder per class.")
@click.option("--boxes-only", is_flag=True, help="Cut every object out of its box with GrabCut (for datasets without masks).")
@click.option("--min-area", default=400, show_default=True, type=click.IntRange(min=1), help="Skip objects with fewer pixels.")
@click.option("--keep-truncated", is_flag=True, help="Keep objects cut by the image border.")
@click.option("--max-occluded", default=0.25, show_default=True, type=click.FloatRange(0, 1), help="Skip objects whose outline touches others more than this.")
@click.option("--min-quality", default=0.3, show_default=True, type=click.FloatRange(0, 1), help="Skip cutouts whose quality score is lower.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def extract(coco, images, yolo, masks, class_name, out, boxes_only, min_area, keep_truncated, max_occluded, min_quality, quiet) -> None:
    """Turn a labeled dataset's objects into cutouts for `assets.objects`.

    Every instance mask becomes an RGBA PNG in OUT/<class>/, with OUT/<class>/<name>.json
    beside it: source image, annotation id and a quality score (holes, fringe, size). Crowd,
    tiny, border-cut and heavily occluded objects are skipped and counted. Paths that leave
    the dataset's folder and malformed annotations are refused by file and id. A COCO
    keypoints dataset (person_keypoints style) also gives OUT/<class>/keypoints.yaml (names,
    skeleton, left/right flip pairs) and <name>.keypoints.json (its labeled points, in the
    cutout's pixels), so generated images carry keypoints.

    \b
    Examples:
      synthgen extract --coco real/annotations.json --images real/images --out my_assets/
      synthgen extract --yolo real/ --out my_assets/
      synthgen extract --coco boxes.json --images real/images --boxes-only --out my_assets/
      synthgen extract --images photos/ --masks photo_masks/ --class car --out my_assets/
    """
    from synthgen.io.real import load_coco, load_mask_folder, load_yolo
    from synthgen.tools.extract import ExtractOptions
    from synthgen.tools.extract import extract as run

    try:
        if sum(map(bool, (coco, yolo, masks))) != 1:
            raise SynthgenError("give one of --coco (with --images), --yolo, or --masks (with --images and --class)")
        if (coco or masks) and not images:
            raise SynthgenError("--coco and --masks need --images, the folder of the images")
        if masks and not class_name:
            raise SynthgenError("--masks needs --class, the class of the objects in them")
        if coco:
            dataset = load_coco(Path(coco), Path(images))
        elif yolo:
            dataset = load_yolo(Path(yolo))
        else:
            dataset = load_mask_folder(Path(images), Path(masks), class_name)
        options = ExtractOptions(min_area, keep_truncated, max_occluded, boxes_only, min_quality)
        with _bar(len(dataset.images), "extract", quiet) as bar:
            report = run(dataset, Path(out), options, progress=bar.update)
    except SynthgenError as err:
        _fail(err)
    for line in report.lines():
        click.echo(line)
    if not sum(report.kept.values()):
        no_mask = sum(v for k, v in report.skipped.items() if k.startswith("no mask"))
        if no_mask:
            why = (f"{no_mask} of the objects have a box but no mask (YOLO detect labels, or COCO without "
                   "segmentation): cut them out of their boxes with --boxes-only")
        elif report.skipped:
            reason, n = report.skipped.most_common(1)[0]
            why = f"the most common reason: {reason} ({n}); see the options (--min-area, --keep-truncated, --max-occluded, --min-quality)"
        else:
            why = "the dataset has no annotated objects"
        click.echo(f"error: no cutout was kept: {why}", err=True)
        sys.exit(1)


@main.command("config")
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
def config_command(config, overrides) -> None:
    """Print the resolved config: every key after `extends:` and --set, with its source.

    Each value is followed by where it comes from: the file of the `extends:` chain that
    sets it, --set, or default (synthgen's built-in value). Nothing is generated.

    \b
    Examples:
      synthgen config
      synthgen config configs/fog.yaml --set scene.objects_per_image=[2,4]
    """
    from synthgen.config import config_sources, describe_config

    try:
        cfg = _load(config, overrides, None, None)
        sources = config_sources(config, list(overrides))
    except SynthgenError as err:
        _fail(err)
    click.echo(describe_config(cfg, sources))


@main.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--output", "-o", default="preview.png", show_default=True, type=click.Path(dir_okay=False), help="Image file to write: .png (or .jpg).")
@click.option("-n", "--num-images", default=12, show_default=True, type=click.IntRange(1, 200), help="Samples on the sheet.")
@click.option("--start", default=0, show_default=True, type=click.IntRange(min=0), help="First image index.")
@click.option("--cols", default=4, show_default=True, type=click.IntRange(1, 20), help="Tiles per row.")
@click.option("--seed", type=click.IntRange(min=0), help="Run seed (overrides the config's `seed`).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--show", type=click.Choice(["instances", "semantic"]), default="instances", show_default=True,
              help="instances: masks, boxes and class names (and keypoints, skeletons and lane lines when the config has them on); semantic: every pixel coloured by its class, as "
                   "--format semantic writes it (palette colours, 255 hatched), with a legend.")
def preview(config, output, num_images, start, cols, seed, overrides, show) -> None:
    """Draw a contact sheet: images with masks, boxes and class names, or class maps.

    The same indices as `generate` with the same config and seed, so the sheet shows exactly
    what a run would write. Nothing else is written.

    \b
    Examples:
      synthgen preview -o sheet.png -n 8 --set scene.objects_per_image=[6,10]
      synthgen preview configs/street.yaml --show semantic -o semantic.png
    """
    from functools import partial

    import cv2

    from synthgen.generator import Generator
    from synthgen.tools.preview import contact_sheet, draw_sample

    path = Path(output)
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):  # checked before any sample is drawn
        _fail(ValueError(f"--output {output}: give an image file name ending in .png (or .jpg, .jpeg)"))
    try:
        cfg = _load(config, overrides, seed, "semantic" if show == "semantic" else None)  # semantic: the map of unlabeled objects
        gen = Generator(cfg)
        samples = [gen.sample(i) for i in range(start, start + num_images)]
    except SynthgenError as err:
        _fail(err)
    draw = {"draw": partial(draw_sample, skeletons={c: k.skeleton for c, k in gen.library.keypoint_schemas.items()})}
    if show == "semantic":
        from synthgen.tools.semantic_view import draw_semantic_sample

        names = {i + 1: c for i, c in enumerate((*gen.classes, *gen.library.stuff))}  # stuff after the things (assets.py)
        draw = {"draw": partial(draw_semantic_sample, ignore=tuple(cfg.output.semantic_ignore), names=names)}
    sheet = contact_sheet(samples, cols=cols, **draw)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        _fail(OSError(f"cannot write {path}"))
    click.echo(f"wrote {path} ({len(samples)} samples, {sum(len(s.instances) for s in samples)} instances)")


@main.command()
@click.argument("names", nargs=-1)
@click.option("--markdown", is_flag=True, help="Print a markdown reference (as in docs/effects.md).")
def effects(names, markdown) -> None:
    """List the effects (conditions), their parameters and what each severity level means.

    \b
    Use them in a config under `effects:`, applied in order:
      effects:
        - {name: fog, p: 0.3, severity: 3}              # one level
        - {name: rain, p: 0.2, severity: [2, 5]}        # a level drawn per image
        - {name: brightness, params: {factor: [0.6, 0.8]}}   # explicit ranges
        - {name: motion_blur, per_object: true, p: 0.3, classes: [car]}
    \b
    Example:
      synthgen effects fog rain
    """
    from synthgen.effects.reference import effect_reference
    from synthgen.effects.specs import SPECS
    from synthgen.errors import did_you_mean

    for name in names:
        if name not in SPECS:
            _fail(ValueError(f"unknown effect {name!r}{did_you_mean(name, SPECS)}; allowed: {', '.join(sorted(SPECS))}"))
    click.echo(effect_reference(list(names) or None, markdown=markdown))


@main.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="Suite folder.")
@click.option("-n", "--num-scenes", type=click.IntRange(min=1), help="Base scenes (images; default 50).")
@click.option("--clips", "num_clips", type=click.IntRange(min=1),
              help="Render clips instead of images: this many base clips, each a clip run per variant with MOT layout.")
@click.option("--frames", default=30, show_default=True, type=click.IntRange(min=1), help="With --clips: frames per clip.")
@click.option("--fps", default=15.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="With --clips: frame rate (motion per frame is motion per second / fps).")
@click.option("--conditions", default="fog,rain,snow,night,glare,motion_blur,occlusion", show_default=True,
              help="Comma-separated: effect names (`synthgen effects`), glare, or occlusion.")
@click.option("--severities", default="1,2,3,4,5", show_default=True, help="Comma-separated levels, 1 to 5.")
@click.option("--seed", type=click.IntRange(min=0), help="Run seed (overrides the config's `seed`).")
@click.option("--workers", "-w", default=1, show_default=True, type=WORKERS, help=WORKERS_HELP)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True, help="Where shards (scenes) run.")
@click.option("--address", help="Ray cluster address for --backend ray (e.g. auto); default: start a local Ray.")
@click.option("--overwrite", is_flag=True, help="Replace the synthgen run in OUT (only the files it wrote are removed).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def stress(config, out, num_scenes, num_clips, frames, fps, conditions, severities, seed, workers, overrides, backend,
           address, overwrite, quiet) -> None:
    """Render a paired condition grid: each scene clean and under every condition x severity.

    The same objects stay in the same places in every variant (occlusion aside, which pastes
    unlabeled occluders over the same targets), so a model's change in score is the
    condition's. Images carry scene_id, condition and severity in their COCO entry.
    The suite is also a YOLO dataset (labels/, data.yaml whose val is the whole suite), so
    a detector's own validator runs on it as it is; score its output with `synthgen evaluate`.

    With --clips, the same clips (same trajectories, camera and entering objects) under each
    variant, for trackers: OUT/suite.json lists the variants, and each is a complete clips run
    in OUT/<variant>/ (clean, fog-3, ...) with its MOT layout in OUT/<variant>/mot/<clip>/.

    \b
    Example:
      synthgen stress configs/street.yaml --out suite/ -n 300 \\
          --conditions fog,rain,snow,night,glare,motion_blur,occlusion --severities 1,2,3,4,5
      synthgen stress configs/street.yaml --out tracking/ --clips 20 --frames 60 \\
          --conditions fog,night,motion_blur,occlusion --severities 1,3,5
    """
    from synthgen.stress import run_suite, variants

    try:
        _check_backend(backend, address)
        if num_clips is not None and num_scenes is not None:
            raise SynthgenError("-n/--num-scenes and --clips: give one (scenes for images, clips for trackers)")
        ctx = click.get_current_context()
        given = [f"--{o}" for o in ("frames", "fps") if ctx.get_parameter_source(o) == click.core.ParameterSource.COMMANDLINE]
        if num_clips is None and given:
            raise SynthgenError(f"{' and '.join(given)}: for clips only; add --clips N to make a suite of clips")
        cfg = _load(config, overrides, seed, None)
        conds = [c.strip() for c in conditions.split(",") if c.strip()]
        try:
            sevs = [int(v) for v in severities.split(",") if v.strip()]
        except ValueError:
            raise SynthgenError(f"--severities {severities!r}: expected comma-separated integers 1 to 5") from None
        if num_clips is not None:
            from synthgen.clip_stress import run_clip_suite

            for name, summary in run_clip_suite(
                cfg, Path(out), num_clips, frames, conds, sevs, fps=fps, workers=workers, backend=backend,
                address=address, overwrite=overwrite, bar=lambda name: _RunBar(f"stress {name}", quiet),
            ):
                first, *rest = summary.lines()
                click.echo(f"{name}: {num_clips} clips x {frames} frames: {first}")
                for line in rest:
                    click.echo(line)
            from synthgen.clip_stress import stale_variants

            if stale := stale_variants(Path(out)):
                click.echo(f"left from an earlier suite (not in suite.json's variants; --overwrite removes them): {', '.join(stale)}")
            return
        num_scenes = 50 if num_scenes is None else num_scenes
        with _RunBar("stress", quiet) as bar:
            summary = run_suite(
                cfg, Path(out), num_scenes, conds, sevs, workers=workers, backend=backend, address=address,
                overwrite=overwrite, progress=bar.update, on_plan=bar.plan,
            )
    except SynthgenError as err:
        _fail(err)
    first, *rest = summary.lines()
    click.echo(f"{num_scenes} scenes x {len(variants(conds, sevs))} variants: {first}")
    for line in rest:
        click.echo(line)


@main.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="Clips folder.")
@click.option("--clips", "num_clips", default=10, show_default=True, type=click.IntRange(min=1), help="Clips.")
@click.option("--frames", default=30, show_default=True, type=click.IntRange(min=1), help="Frames per clip.")
@click.option("--fps", default=15.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Frame rate: motion per frame is motion per second / fps.")
@click.option("--format", "formats", default="mot,coco", show_default=True,
              help="Comma-separated: mot, and image formats (coco is always written).")
@click.option("--seed", type=click.IntRange(min=0), help="Run seed (overrides the config's `seed`).")
@click.option("--workers", "-w", default=1, show_default=True, type=WORKERS, help=WORKERS_HELP)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True, help="Where shards (clips) run.")
@click.option("--address", help="Ray cluster address for --backend ray (e.g. auto); default: start a local Ray.")
@click.option("--overwrite", is_flag=True, help="Replace the synthgen run in OUT (only the files it wrote are removed).")
@click.option("--preview", is_flag=True, help="Also write OUT/preview/<clip>.gif: every frame with boxes and track ids drawn.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def clips(config, out, num_clips, frames, fps, formats, seed, workers, overrides, backend, address, overwrite, preview, quiet) -> None:
    """Render labeled video clips: objects move on trajectories, with a track id per object.

    Each clip has one background and conditions drawn once (effects do not flicker); its
    objects move with constant velocity plus noise, scale and rotate slowly, and may leave
    through the edges. Labels are exact per frame. Written as COCO video (videos,
    video_id/frame_id, track_id) and, with mot, as MOT Challenge sequences in OUT/mot/<clip>/.
    The config's `clips:` section adds velocity motion blur (shutter), objects entering
    mid-clip (enter_rate), camera pan/zoom/shake (camera) and weather over time (weather); by
    default some objects turn or stop (turning, stopping; still_classes never move), objects on
    a ground plane walk on it, nearer ones painted in front (depth_order), and sensor noise
    changes per frame (weather.grain);
    e.g. --set clips.shutter=0.5 --set clips.camera.p=1 (see the README's Clips section).

    \b
    Example:
      synthgen clips configs/street.yaml --out clips/ --clips 50 --frames 60 --fps 15 --format mot,coco
      synthgen clips configs/fog.yaml --out clips/ --clips 20 --frames 90 --preview
    """
    from synthgen.clips import LAYOUTS, clip_config, run_clips

    try:
        _check_backend(backend, address)
        names = [f.strip().lower() for f in formats.split(",") if f.strip()]
        bad = [f for f in names if f not in (*LAYOUTS, *FORMATS)]
        if bad or not names:
            raise SynthgenError(
                f"--format {formats!r}: unknown {', '.join(map(repr, bad)) or 'empty list'}; "
                f"allowed: {', '.join((*LAYOUTS, *FORMATS))}, comma-separated"
            )
        image_formats = [f for f in names if f not in LAYOUTS]
        cfg = _load(config, overrides, seed, ",".join(image_formats) if image_formats else None)
        cfg, layouts = clip_config(cfg, names)
        with _RunBar("clips", quiet) as bar:
            summary = run_clips(
                cfg, Path(out), num_clips, frames, fps=fps, layouts=tuple(layouts), workers=workers,
                backend=backend, address=address, overwrite=overwrite, progress=bar.update, on_plan=bar.plan,
            )
    except SynthgenError as err:
        _fail(err)
    first, *rest = summary.lines()
    click.echo(f"{num_clips} clips x {frames} frames: {first}")
    for line in rest:
        click.echo(line)
    if preview and summary.merged:
        from synthgen.tools.clip_preview import write_previews

        try:
            with _bar(num_clips, "preview", quiet, unit="clip") as bar:
                gifs = write_previews(Path(out), fps, progress=bar.update)
        except SynthgenError as err:
            _fail(err)
        click.echo(f"previews: {len(gifs)} GIFs in {Path(out) / 'preview'}")


@main.command()
@click.argument("suite", metavar="SUITE_OR_RUN", type=click.Path(file_okay=False, exists=True))
@click.option("--predictions", "-p", type=click.Path(exists=True),
              help="COCO results JSON (image ids, file names or stems), a folder of YOLO txt files with "
                   "confidences, or torchvision-style JSON; the format is detected. A folder of PNGs is "
                   "taken as --semantic.")
@click.option("--semantic", "-s", type=click.Path(exists=True, file_okay=False),
              help="A folder of predicted class maps, <image name>.png, scored against SUITE_OR_RUN/semantic/ "
                   "(IoU per class, mean IoU).")
@click.option("--panoptic", type=click.Path(exists=True),
              help="Panoptic predictions, COCO panoptic format: a JSON with its PNGs in the folder named like it "
                   "(or panoptic/ beside it), or a folder holding panoptic.json and panoptic/; PQ, SQ, RQ against "
                   "SUITE_OR_RUN/panoptic.json (pip install -e '.[panoptic]' in the synthgen folder).")
@click.option("--tracks", "-t", type=click.Path(exists=True, file_okay=False),
              help="Tracker output on clips: a folder of MOT files, <clip>.txt per clip (a folder of "
                   "MOT files given as --predictions on clips is read as tracks too).")
@click.option("--names", help="The model's class names, to match classes by name: a data.yaml, a COCO json "
                              "(categories), a file of one name a line, or a comma-separated list.")
@click.option("--stem-ids", is_flag=True,
              help="An integer image_id is the number of the image's file stem (42 for 00000042.jpg), as "
                   "Ultralytics' save_json writes it; a run's numbered images have COCO ids one higher.")
@click.option("--out", "-o", default="report", show_default=True, type=click.Path(file_okay=False), help="Report folder.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def evaluate(suite, predictions, semantic, panoptic, tracks, names, stem_ids, out, quiet) -> None:
    """Score predictions on a stress suite or a run: box / mask / keypoint AP and semantic mean
    IoU per condition x severity, size, visibility; or a tracker's output on clips: HOTA, MOTA
    and IDF1 per clip and per condition x severity.

    \b
    PREDICTIONS, detected by their form:
      COCO results JSON   [{image_id, category_id, bbox: [x, y, w, h], score[, segmentation]
                          [, keypoints: [x, y, v, ...]]}]
                          image_id: the suite's id, the image's file name or its stem;
                          Ultralytics save_json on a run's numbered images: --stem-ids
      a folder of .txt    <image stem>.txt, lines 'class cx cy w h conf' or
                          'class x1 y1 ... xn yn conf', normalised (save_txt + save_conf)
      torchvision JSON    [{image_id or file_name, boxes: [[x0, y0, x1, y1]], labels, scores}]
    Without --names, YOLO class c is the suite's class c (its data.yaml), COCO
    category_id and torchvision labels are the suite's category ids.

    Boxes always, masks too when every prediction has a segmentation, keypoint AP (iou
    'oks': COCO's object keypoint similarity, each class' sigmas from its keypoints.yaml,
    default 0.05) when predictions carry COCO 'keypoints'.

    \b
    SEMANTIC (a run or suite made with --format ...,semantic):
      a folder of <image stem>.png, one per image, the image's size, holding class
      indices (palette or greyscale PNG, 0 = background, k = index k of
      semantic_classes.json) or semantic_classes.json's colours (RGB PNG).
      Ground-truth pixels of 255 (distractors, ignore) are not scored. Per slice: IoU
      per class = TP / (TP + FP + FN), mean IoU over the classes semantic_classes.json
      lists (n/a classes left out), pixel accuracy in semantic_iou.csv.

    \b
    PANOPTIC (a run or suite made with --format ...,panoptic): COCO panoptic
      predictions, scored as panopticapi's pq_compute does (hotcoco): PQ, SQ, RQ.

    Rows 'sem' are
    semantic (the AP column holds mean IoU, or a class's IoU); rows 'pq' panoptic (AP
    column PQ, AP50 column SQ). Prints what it detected
    and a table, and writes OUT/metrics.csv, OUT/metrics.md, OUT/ap_vs_severity.png,
    OUT/semantic_iou.csv (with --semantic) and OUT/report.html (with --predictions: AP
    against severity, robustness per condition, the images where the model lost most
    beside their clean scene). Every prediction is checked first: the first that is not
    sound is named by file and entry or line.

    \b
    TRACKS (SUITE: a `synthgen clips` run, or a folder of them such as a stress suite
    of clips): PRED/<clip>.txt per clip, lines 'frame, id, x, y, w, h[, conf, ...]' with
    frames from 1 and boxes in pixels, as MOT Challenge trackers write them; for a run in
    SUITE/<sub>/, PRED/<sub>/<clip>.txt. Scored class-agnostic with motrics (TrackEval's
    HOTA, CLEAR and Identity; `pip install -e '.[tracking]'` in the synthgen folder). Writes OUT/tracking.csv,
    OUT/tracking.md and OUT/tracking.png.

    \b
    Examples:
      synthgen evaluate suite/ --predictions preds/val/predictions.json --out report/
      synthgen evaluate suite/ --predictions preds/predict/labels/ --names my_data.yaml
      synthgen evaluate clips/ --tracks tracks/ --out report/
      synthgen evaluate suite/ -p preds.json --semantic seg_preds/ --out report/
      synthgen evaluate out/ --semantic seg_preds/
    """
    from synthgen.tools.evaluate import EvaluationError, check_out
    from synthgen.tools.evaluate_tracks import looks_like_tracks

    try:  # before any scoring: the report must not land among the predictions
        check_out(Path(out), predictions=predictions, semantic=semantic, panoptic=panoptic, tracks=tracks)
    except EvaluationError as err:
        _fail(err)
    if tracks is not None and (predictions is not None or semantic is not None or panoptic is not None):
        _fail(SynthgenError("--tracks scores clips alone: give it without --predictions, --semantic and --panoptic"))
    if tracks is not None or (predictions is not None and looks_like_tracks(Path(suite), Path(predictions))):
        return _evaluate_tracks(Path(suite), Path(tracks or predictions), Path(out), quiet)
    from synthgen.tools.evaluate import evaluate as run
    from synthgen.tools.evaluate import table, write_report
    from synthgen.tools.predictions import load_names

    try:
        if predictions is None and semantic is None and panoptic is None:
            raise SynthgenError("nothing to score: give --predictions (boxes, masks), --semantic (class-map PNGs), "
                                "--panoptic (COCO panoptic) or several; or --tracks (MOT files per clip) on clips")
        model_names = load_names(names) if names else None
        with _bar(None, "evaluate", quiet, unit="step") as bar:
            ev = run(Path(suite), Path(predictions) if predictions else None, names=model_names, progress=_steps(bar),
                     semantic=Path(semantic) if semantic else None, panoptic=Path(panoptic) if panoptic else None,
                     stem_ids=stem_ids)
        if ev.detected:
            click.echo(f"predictions: {ev.detected}")
        if ev.semantic is not None:
            click.echo(f"semantic: {ev.semantic.detected}")
        if ev.dropped:
            n = sum(ev.dropped.values())
            click.echo(f"left out {n:,} predictions of classes the suite does not have: {', '.join(sorted(ev.dropped)[:10])}")
        click.echo(table(ev.rows))
        written = write_report(ev, Path(out))
    except SynthgenError as err:
        _fail(err)
    click.echo(f"scored {len(ev.rows)} rows -> {', '.join(str(p) for p in written)}")


def _evaluate_tracks(suite: Path, tracks: Path, out: Path, quiet: bool) -> None:
    from synthgen.tools.evaluate_tracks import evaluate_tracks, table, write_report

    try:
        with _bar(None, "evaluate", quiet, unit="clip") as bar:
            ev = evaluate_tracks(suite, tracks, progress=_steps(bar))
        if ev.missing:
            click.echo(f"no tracks for {len(ev.missing)} clips, scored as finding nothing: {', '.join(ev.missing[:5])}"
                       + (" ..." if len(ev.missing) > 5 else ""))
        if ev.unused:
            click.echo(f"{len(ev.unused)} files read by no clip: {', '.join(ev.unused[:5])}" + (" ..." if len(ev.unused) > 5 else ""))
        click.echo(table(ev))
        written = write_report(ev, out)
    except SynthgenError as err:
        _fail(err)
    click.echo(f"scored {len(ev.clips)} clips -> {', '.join(str(p) for p in written)}")


@main.command()
@click.argument("path", type=click.Path(exists=True))
@click.option("--images", type=click.Path(exists=True, file_okay=False),
              help="For a COCO json file: the folder its file_names are relative to (default: images/ beside it).")
@click.option("--max-problems", default=20, show_default=True, type=click.IntRange(min=0), help="Problems to list (all are counted).")
@click.option("--deep", is_flag=True, help="Decode every image (default: check every image's end marker, decode a sample).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def validate(path, images, max_problems, deep, quiet) -> None:
    """Check a dataset's files and labels: synthgen's output or any COCO dataset.

    \b
    PATH is a folder with annotations.json (COCO), data.yaml (YOLO) and/or webdataset/*.tar,
    or a COCO json file (with --images), a data.yaml or a .tar; every layout found is checked:
      files exist inside the dataset folder (no ../, absolute path or symlink leads out),
      images have the stated size, ids are unique and resolve;
      each box is its mask's tight box and each area its pixel count (RLE exactly,
      polygons within a pixel); no box leaves the image;
      synthgen datasets: visible masks do not overlap, YOLO boxes equal the COCO ones,
      id maps (masks/*.png, ids.png in the tars) are exactly the annotations' pixels;
      YOLO lines: class in range, 4 or an even number >= 6 of values, all in [0, 1];
      clips: frame_ids contiguous per video, one annotation per track per frame, a
      track keeps its class and object, MOT gt.txt and seqinfo.ini = the COCO video;
      images: every JPEG/PNG ends whole, one in 20 is decoded (--deep: all), and a
      synthgen run's images match the size and sha256 its shards recorded.
    Exit code 0 when sound, 1 when any problem was found, 2 when PATH is no dataset.

    \b
    Examples:
      synthgen validate out/
      synthgen validate coco/annotations/instances_val2017.json --images coco/val2017
      synthgen validate out/webdataset/shard-000003.tar
    """
    from synthgen.tools.validate import validate_path

    try:
        with _bar(None, "validate", quiet) as bar:
            result = validate_path(Path(path), images=Path(images) if images else None, max_problems=max_problems,
                                   deep=deep, progress=bar.update)
    except SynthgenError as err:
        _fail(err)
    for line in result.lines():
        click.echo(line)
    sys.exit(0 if result.ok else 1)


@main.command()
@click.argument("path", type=click.Path(exists=True))
@click.option("--output", "-o", default="report.html", show_default=True, type=click.Path(dir_okay=False), help="HTML file to write.")
@click.option("--gallery", default=12, show_default=True, type=click.IntRange(0, 500), help="Sample images drawn with their labels.")
@click.option("--images", type=click.Path(exists=True, file_okay=False),
              help="For a COCO json file: the folder its file_names are relative to (default: images/ beside it).")
@click.option("--title", help="Page title (default: 'Dataset report: <folder>').")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def report(path, output, gallery, images, title, quiet) -> None:
    """Write one self-contained HTML report of a dataset (COCO, YOLO or WebDataset).

    Counts; plots of instances per class, objects per image, box sizes and visibility;
    the conditions applied and their severities; a gallery of images spread over the
    dataset with masks, boxes and class names drawn. Plots and images are inline, so the
    file opens offline and can be mailed. Only the gallery images' masks are decoded.
    Clips (COCO video) also get a filmstrip per clip, boxes and ids coloured by track,
    and a histogram of track lengths.

    \b
    Examples:
      synthgen report out/ -o report.html
      synthgen report coco/annotations/instances_val2017.json --images coco/val2017 --gallery 24
    """
    from synthgen.tools.report import write_report

    try:
        with _bar(None, "report", quiet) as bar:
            summary = write_report(Path(path), Path(output), images=Path(images) if images else None, gallery=gallery,
                                   title=title, progress=bar.update)
    except SynthgenError as err:
        _fail(err)
    click.echo(summary.line())


if __name__ == "__main__":
    main()
