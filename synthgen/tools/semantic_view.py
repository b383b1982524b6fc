"""Looking at semantic class maps: pixels coloured by class over the image (``synthgen preview
--show semantic``, the report's semantic gallery), a legend of the classes shown, and the
share of pixels each class holds over a dataset's maps (the report's table).

Colours are the class map's palette (semantic_classes.json's ``color``: background black, 255
white), so a picture here matches the PNGs in any viewer.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from synthgen.errors import SynthgenError
from synthgen.io.semantic import SemanticClasses, read_class_map, read_semantic_classes

IGNORE = 255
MAX_SHARE_MAPS = 300  # maps read for the pixel shares: all up to this, else this many spread over the dataset


def overlay(rgb: np.ndarray, classes: np.ndarray, colours: dict[int, tuple[int, int, int]], width: int | None = None,
            alpha: float = 0.55, ignore: int | None = IGNORE) -> np.ndarray:
    """The image (scaled to ``width`` if given) with every pixel of class k > 0 tinted with
    ``colours[k]``; background (0) left as it is, ``ignore`` pixels tinted white and hatched;
    each class region outlined."""
    H, W = classes.shape
    if width is not None and width != W:
        size = (width, max(1, round(H * width / W)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        classes = cv2.resize(classes, size, interpolation=cv2.INTER_NEAREST)
    lut = np.zeros((256, 3), np.float32)
    for k, c in colours.items():
        if 0 <= k < 256:
            lut[k] = c
    lut[IGNORE if ignore is None else ignore] = (255, 255, 255)
    tinted = classes > 0
    out = rgb.astype(np.float32)
    out[tinted] = out[tinted] * (1 - alpha) + lut[classes[tinted]] * alpha
    out = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    if ignore is not None:
        yy, xx = np.mgrid[: classes.shape[0], : classes.shape[1]]
        out[(classes == ignore) & ((xx + yy) % 6 == 0)] = (90, 90, 90)
    edges = cv2.morphologyEx(classes, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    edges &= tinted
    out[edges] = lut[classes[edges]].astype(np.uint8)
    return out


def legend(present: list[int], names: dict[int, str], colours: dict[int, tuple[int, int, int]], width: int) -> np.ndarray:
    """A strip of colour swatches and class names, as many lines as needed for ``width`` pixels."""
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.38
    lines: list[list[tuple[int, str]]] = [[]]
    x = 4
    for k in present:
        text = names.get(k, f"class {k}")
        w = 14 + cv2.getTextSize(text, font, scale, 1)[0][0] + 10
        if x + w > width and lines[-1]:
            lines.append([])
            x = 4
        lines[-1].append((k, text))
        x += w
    strip = np.full((16 * len(lines) + 4, width, 3), 30, np.uint8)
    for row, items in enumerate(lines):
        x, y = 4, 14 + 16 * row
        for k, text in items:
            cv2.rectangle(strip, (x, y - 9), (x + 9, y), tuple(int(v) for v in colours.get(k, (255, 255, 255))), -1)
            cv2.putText(strip, text, (x + 14, y), font, scale, (235, 235, 235), 1, cv2.LINE_AA)
            x += 14 + cv2.getTextSize(text, font, scale, 1)[0][0] + 10
    return strip


@dataclass
class Shares:
    """Pixels per class index over ``maps`` class maps (of ``total`` in the dataset)."""

    pixels: dict[int, int]
    maps: int
    total: int

    def table_html(self, names: dict[int, str], colours: dict[int, tuple[int, int, int]]) -> str:
        """One row per class: swatch, name, index, pixels, share and a bar; largest first."""
        all_px = sum(self.pixels.values()) or 1
        rows = []
        top = max(self.pixels.values(), default=1) or 1
        for k in sorted(self.pixels, key=lambda k: (-self.pixels[k], k)):
            r, g, b = colours.get(k, (255, 255, 255))
            swatch = f'<span style="display:inline-block;width:11px;height:11px;background:rgb({r},{g},{b});border:1px solid #888"></span>'
            bar = f'<div style="background:#0969da;height:9px;width:{100 * self.pixels[k] / top:.1f}%"></div>'
            rows.append(f"<tr><td>{swatch} {html.escape(names.get(k, f'class {k}'))}</td><td>{k}</td>"
                        f"<td>{self.pixels[k]:,}</td><td>{self.pixels[k] / all_px:.2%}</td><td style=\"width:40%\">{bar}</td></tr>")
        return ("<table><tr><th>class</th><th>index</th><th>pixels</th><th>share</th><th></th></tr>" + "".join(rows) + "</table>")

    def note(self) -> str:
        which = "every map" if self.maps == self.total else f"{self.maps:,} maps spread over the {self.total:,}"
        return f"share of all pixels per class index, over {which}; 255: not scored (distractors by default)"


def pixel_shares(maps: list[Path], read: Callable[[Path], np.ndarray], limit: int = MAX_SHARE_MAPS) -> Shares:
    """Pixels per class over the class maps at ``maps`` (at most ``limit`` of them, evenly spread);
    a map that cannot be read is left out."""
    picked = maps if len(maps) <= limit else [maps[round(i * (len(maps) - 1) / (limit - 1))] for i in range(limit)]
    counts = np.zeros(256, np.int64)
    read_ok = 0
    for p in picked:
        try:
            counts += np.bincount(read(p).ravel(), minlength=256)[:256]
        except (OSError, ValueError, SynthgenError):  # a broken map is validate's to report, not the page's
            continue
        read_ok += 1
    return Shares({int(k): int(counts[k]) for k in np.flatnonzero(counts)}, read_ok, len(maps))


def _jpeg_uri(rgb: np.ndarray, quality: int = 85) -> str:
    import base64

    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode() if ok else ""


class ReportSemantic:
    """The report's semantic section of a dataset with ``semantic/`` and semantic_classes.json:
    pixel shares per class and the gallery images with their class maps drawn over them."""

    def __init__(self, root: Path, classes: SemanticClasses) -> None:
        self.root = root
        self.classes = classes
        self.tiles: list[tuple[str, str]] = []  # (data uri, caption)

    @classmethod
    def find(cls, root: Path) -> ReportSemantic | None:
        """None when the dataset has no semantic maps (or an unreadable class list)."""
        if not (root / "semantic").is_dir() or not (root / "semantic_classes.json").is_file():
            return None
        try:
            return cls(root, read_semantic_classes(root / "semantic_classes.json"))
        except SynthgenError:
            return None

    def map_path(self, file_name: str) -> Path:
        return self.root / "semantic" / f"{Path(file_name.rsplit(':', 1)[-1]).stem}.png"

    def add(self, rgb: np.ndarray | None, file_name: str, width: int) -> None:
        """One gallery image with its class map over it (nothing when either is missing)."""
        path = self.map_path(file_name)
        if rgb is None or not path.is_file():
            return
        try:
            classes = read_class_map(path)
        except SynthgenError:
            return
        if classes.shape != rgb.shape[:2]:
            return
        tile = overlay(rgb, classes, self.classes.colors, width=width, ignore=self.classes.ignore_index)
        present = [int(k) for k in np.unique(classes) if k != 0]
        strip = legend(present, self.classes.names, self.classes.colors, tile.shape[1]) if present else None
        tile = np.vstack([tile, strip]) if strip is not None else tile
        self.tiles.append((_jpeg_uri(tile), f"{file_name} · {len(present)} class{'es' if len(present) != 1 else ''}"))

    def panel(self) -> tuple[str, str, str]:
        """(title, body HTML, note) of the report's panel."""
        maps = sorted((self.root / "semantic").glob("*.png"))
        shares = pixel_shares(maps, read_class_map)
        body = shares.table_html(self.classes.names, self.classes.colors)
        if self.tiles:
            figs = "".join(f'<figure><img alt="{html.escape(c)}" src="{u}"><figcaption>{html.escape(c)}</figcaption></figure>'
                           for u, c in self.tiles)
            body += f'<div class="gallery">{figs}</div>'
        note = shares.note() + ("; gallery: the class map over the images above, background untinted, 255 hatched"
                                if self.tiles else "")
        return f"Semantic classes ({len(maps):,} maps)", body, note


def draw_semantic_sample(sample, ignore: list[str] | tuple[str, ...] = ("distractors",),
                         names: dict[int, str] | None = None) -> np.ndarray:
    """``synthgen preview --show semantic``: the sample's class map (as ``--format semantic``
    writes it, 255 where ``ignore`` says) over its image, with a legend of the classes in it."""
    from synthgen.writers.semantic import class_map, palette, with_stuff

    classes = with_stuff(class_map(sample, list(ignore)), sample)
    pal = palette()
    colours = {k: pal[k] for k in range(256)}
    if names is None:
        names = {i.category_id: i.label for i in (*sample.instances, *sample.crowd)}
    names = {**names, 0: "background", IGNORE: "ignore"}
    tile = overlay(sample.image, classes, colours)
    present = [int(k) for k in np.unique(classes) if k != 0]
    return np.vstack([tile, legend(present, names, colours, tile.shape[1])]) if present else tile
