"""The ``synthgen`` command: thin click wrappers that parse, call and print."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from synthgen.errors import SynthgenError

CONFIG_HELP = "YAML config (default: configs/default.yaml with the bundled assets)."
SET_HELP = (
    "Override one config key, KEY.PATH=VALUE with a YAML value; repeatable. "
    "Example: --set scene.objects_per_image=[2,4] --set canvas.width=800"
)


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
    """


def _load(config: str | None, overrides: tuple[str, ...], seed: int | None, formats: str | None):
    from synthgen.config import load_config

    extra = list(overrides)
    if seed is not None:
        extra.append(f"seed={seed}")
    if formats:
        names = [f.strip() for f in formats.split(",") if f.strip()]
        extra.append(f"output.formats=[{','.join(names)}]")
    return load_config(config, extra)


def _fail(err: Exception) -> None:
    click.echo(f"error: {err}", err=True)
    sys.exit(2)


@main.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("-n", "--num-images", default=100, show_default=True, type=click.IntRange(min=1), help="Images in the run.")
@click.option("--seed", type=click.IntRange(min=0), help="Run seed (overrides the config's `seed`).")
@click.option(
    "--workers", "-w", default=1, show_default=True, type=click.IntRange(min=1),
    help="Worker processes (the output is the same bytes for any count).",
)
@click.option("--format", "formats", help="Comma-separated output formats: coco, yolo, webdataset (default: the config's).")
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
@click.option("--overwrite", is_flag=True, help="Replace an output folder made with another config.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def generate(config, out, num_images, seed, workers, formats, overrides, shard_size, part, backend, address, merge, verify, overwrite, quiet) -> None:
    """Generate a labeled dataset into OUT.

    \b
    Writes, by format:
      coco        OUT/images/*.jpg, OUT/annotations.json (RLE masks, tight boxes)
      yolo        OUT/labels/*.txt (Ultralytics layout), OUT/data.yaml
      webdataset  OUT/webdataset/shard-*.tar (image, uint16 id map, labels per sample)
    and always OUT/metadata.jsonl (every sampled parameter, one line per image),
    OUT/config.yaml (the resolved config) and OUT/manifest.json (shards done, counts).

    \b
    Work is cut into shards, each written whole and checksummed. Running the same command
    again skips finished shards and redoes the rest, so an interrupted run resumes.

    \b
    Examples:
      synthgen generate --out out/ -n 200
      synthgen generate configs/street.yaml --out out/ -n 1000 --seed 7 --workers 2 --format coco,yolo
      synthgen generate --out out/ -n 50 --set scene.objects_per_image=[2,4]
      synthgen generate cfg.yaml --out /shared/out -n 2000000 --shard 3/16     # machine 3 of 16
      synthgen generate cfg.yaml --out /shared/out -n 2000000 --backend ray --address auto
    """
    from tqdm import tqdm

    from synthgen.runner import generate as run
    from synthgen.runner import parse_part

    try:
        cfg = _load(config, overrides, seed, formats)
        with tqdm(total=None, unit="img", disable=quiet, dynamic_ncols=True, desc="generate") as bar:

            def planned(images: int, skipped: int) -> None:
                bar.total = images
                if skipped:
                    bar.set_postfix_str(f"{skipped} shards already done")
                bar.refresh()

            summary = run(
                cfg, out, num_images, workers=workers, shard_size=shard_size, part=parse_part(part),
                backend=backend, address=address, overwrite=overwrite, merge=merge, verify=verify,
                progress=bar.update, on_plan=planned,
            )
    except SynthgenError as err:
        _fail(err)
    click.echo(summary.line())


@main.command()
@click.argument("run", type=click.Path(file_okay=False, exists=True))
@click.option("--out", "-o", type=click.Path(file_okay=False), help="Merge into this folder (images are hard-linked) instead of RUN.")
def merge(run, out) -> None:
    """Merge a run's shards into one COCO dataset: annotations.json and metadata.jsonl.

    Reads one shard at a time, so it works on runs of millions of images. Refuses while
    shards are missing (run the same generate command again to finish them).

    \b
    Examples:
      synthgen merge out/
      synthgen merge out/ --out merged/
    """
    from synthgen.merge import merge_run

    try:
        result = merge_run(Path(run), Path(out) if out else None)
    except SynthgenError as err:
        _fail(err)
    click.echo(f"merged {result['images']} images, {result['instances']} instances -> {result['dest']}")


@main.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--output", "-o", default="preview.png", show_default=True, type=click.Path(dir_okay=False), help="PNG file to write.")
@click.option("-n", "--num-images", default=12, show_default=True, type=click.IntRange(1, 200), help="Samples on the sheet.")
@click.option("--start", default=0, show_default=True, type=click.IntRange(min=0), help="First image index.")
@click.option("--cols", default=4, show_default=True, type=click.IntRange(1, 20), help="Tiles per row.")
@click.option("--seed", type=click.IntRange(min=0), help="Run seed (overrides the config's `seed`).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
def preview(config, output, num_images, start, cols, seed, overrides) -> None:
    """Draw a contact sheet: images with masks, boxes and class names.

    The same indices as `generate` with the same config and seed, so the sheet shows exactly
    what a run would write. Nothing else is written.

    \b
    Example:
      synthgen preview -o sheet.png -n 8 --set scene.objects_per_image=[6,10]
    """
    import cv2

    from synthgen.generator import Generator
    from synthgen.preview import contact_sheet

    try:
        cfg = _load(config, overrides, seed, None)
        gen = Generator(cfg)
        samples = [gen.sample(i) for i in range(start, start + num_images)]
    except SynthgenError as err:
        _fail(err)
    sheet = contact_sheet(samples, cols=cols)
    path = Path(output)
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
    from synthgen.effects import REGISTRY
    from synthgen.effects.reference import effect_reference

    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        _fail(ValueError(f"unknown effect(s) {unknown}; allowed: {', '.join(sorted(REGISTRY))}"))
    click.echo(effect_reference(list(names) or None, markdown=markdown))


if __name__ == "__main__":
    main()
