"""Clips for people to look at: frames drawn with their tracks, filmstrips and track lengths.

Used by ``synthgen report`` on a clips dataset (COCO video fields: images with ``video_id`` and
``frame_id``, annotations with ``track_id``), which shows a filmstrip per clip (a few frames
spread over it, boxes and ids coloured by track) and a histogram of track lengths, and by
``synthgen clips --preview`` (tools/clip_preview), which draws every frame the same way.
A track's colour is a function of its id, so one object keeps its colour along a strip.
"""

from __future__ import annotations

import base64
import html
import io
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from synthgen.io.rle import is_number
from synthgen.tools.preview import Drawn, draw_instances
from synthgen.types import MAX_INSTANCES

STRIP_CLIPS = 6  # clips shown as filmstrips
STRIP_FRAMES = 5  # frames per filmstrip
STRIP_WIDTH = 200  # pixels per frame in a filmstrip
BAR = 20  # caption bar above a frame


def object_id(track_id: int, video_id: Any) -> int:
    """The id of a track's object within its clip (the MOT id, synthgen's instance id): a
    ``track_id`` made unique over a run as ``video_id * MAX_INSTANCES + id`` gives ``id``; any
    other is its own."""
    return track_id % MAX_INSTANCES if track_id // MAX_INSTANCES == video_id else track_id


def is_clips(data: dict) -> bool:
    """COCO data with video fields."""
    return bool(data.get("videos")) or any("video_id" in im for im in data.get("images", ()))


def videos(data: dict) -> dict[Any, tuple[str, list[dict]]]:
    """video id -> (name, its image entries by frame_id), for images with integer video fields."""
    names = {v.get("id"): str(v.get("name", v.get("id"))) for v in data.get("videos") or () if isinstance(v, dict)}
    frames: dict[Any, list[dict]] = defaultdict(list)
    for im in data.get("images", ()):
        if isinstance(im.get("frame_id"), int) and im.get("video_id") is not None:
            frames[im["video_id"]].append(im)
    return {
        vid: (names.get(vid) or str(ims[0].get("video", vid)), sorted(ims, key=lambda im: im["frame_id"]))
        for vid, ims in sorted(frames.items(), key=lambda kv: str(kv[0]))
    }


def track_lengths(data: dict, by_image: dict[Any, list[dict]]) -> list[tuple[int, int, int]]:
    """(frames labeled, span from its first to its last labeled frame, frames of its clip) of every
    track of every video."""
    out = []
    for _, ims in videos(data).values():
        seen: dict[Any, list[int]] = defaultdict(list)
        for im in ims:
            for a in by_image.get(im["id"], ()):
                if a.get("track_id") is not None and not a.get("iscrowd"):
                    seen[a["track_id"]].append(im["frame_id"])
        out += [(len(f), max(f) - min(f) + 1, len(ims)) for f in seen.values()]
    return out


def draw_frame(rgb: np.ndarray, anns: list[dict], names: dict, width: int, caption: str = "",
               video_id: Any = None) -> np.ndarray:
    """The frame at ``width`` pixels, each object's box and ``#id class`` in its track's colour
    (id: within the clip, as in MOT, when ``video_id`` is given), with ``caption`` in a bar above."""
    drawn = []
    for a in anns:
        bbox, tid = a.get("bbox"), a.get("track_id")
        if a.get("iscrowd") or not (isinstance(bbox, list) and len(bbox) == 4 and all(is_number(v) for v in bbox)):
            continue
        tid = tid if isinstance(tid, int) else 0
        shown = tid if video_id is None else object_id(tid, video_id)
        drawn.append(Drawn(tid, f"#{shown} {names.get(a.get('category_id'), '')}".strip(), None, tuple(bbox)))
    tile = draw_instances(rgb, drawn, width=width, font_scale=0.33)
    if not caption:
        return tile
    bar = np.full((BAR, tile.shape[1], 3), 30, np.uint8)
    cv2.putText(bar, caption, (5, BAR - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (235, 235, 235), 1, cv2.LINE_AA)
    return np.vstack([bar, tile])


def _spread(n: int, k: int) -> list[int]:
    """k positions from first to last (both ends shown)."""
    if k >= n:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)}) if k > 1 else [0]


def filmstrips(data: dict, by_image: dict[Any, list[dict]], load: Callable[[dict], np.ndarray | None], names: dict,
               clips: int = STRIP_CLIPS, frames: int = STRIP_FRAMES, width: int = STRIP_WIDTH) -> list[tuple[np.ndarray, str]]:
    """(strip, caption) of up to ``clips`` clips spread over the dataset: ``frames`` frames from
    first to last side by side. ``load(image entry)``: its RGB pixels, None when unreadable."""
    vids = list(videos(data).items())
    out = []
    for k in _spread(len(vids), clips):
        _, (name, ims) = vids[k]
        tiles = []
        for t in _spread(len(ims), frames):
            im = ims[t]
            rgb = load(im)
            if rgb is None:
                h = round(width * im.get("height", 3) / max(1, im.get("width", 4)))
                tile = np.vstack([np.full((BAR, width, 3), 30, np.uint8), np.full((h, width, 3), 60, np.uint8)])
                cv2.putText(tile, "image not found", (8, BAR + h // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (230, 230, 230), 1, cv2.LINE_AA)
            else:
                tile = draw_frame(rgb, by_image.get(im["id"], []), names, width, f"frame {im['frame_id'] + 1}", im["video_id"])
            tiles.append(tile)
        h = max(t.shape[0] for t in tiles)
        tiles = [np.vstack([t, np.full((h - t.shape[0], t.shape[1], 3), 255, np.uint8)]) for t in tiles]
        gap = np.full((h, 4, 3), 255, np.uint8)
        strip = np.hstack([x for t in tiles for x in (t, gap)][:-1])
        n_tracks = len({a.get("track_id") for im in ims for a in by_image.get(im["id"], ())})
        out.append((strip, f"{name} · {len(ims)} frames · {n_tracks} tracks"))
    return out


def plot_track_lengths(lengths: list[tuple[int, int, int]], figure: Callable[[float, float], tuple]):
    """Histogram of frames labeled per track (and, outlined, of each track's span)."""
    fig, ax = figure(6.2, 2.8)
    from matplotlib.ticker import MaxNLocator

    labeled = [n for n, _, _ in lengths]
    span = [s for _, s, _ in lengths]
    top = max(span) if span else 1
    bins = np.arange(0.5, top + 1.5, max(1, round(top / 30)))
    ax.hist(labeled, bins=bins, color="#2f6fba", label="frames labeled")
    ax.hist(span, bins=bins, histtype="step", color="#cf222e", linewidth=1.2, label="first to last frame")
    ax.set_xlabel("frames")
    ax.set_ylabel("tracks")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8, frameon=False)
    return fig


def _jpeg_uri(rgb: np.ndarray) -> str:
    _, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode()


def _png_uri(fig) -> str:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", metadata={"Software": None}, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def clip_panels(data: dict, by_image: dict[Any, list[dict]], load: Callable[[dict], np.ndarray | None], names: dict,
                figure: Callable[[float, float], tuple]) -> list[str]:
    """The report's HTML sections for clips: track lengths, then the filmstrips."""
    e = html.escape
    lengths = track_lengths(data, by_image)
    vids = videos(data)
    gaps = sum(1 for n, s, _ in lengths if n < s)
    whole = sum(1 for n, _, f in lengths if n == f)
    note = (f"{len(lengths):,} tracks in {len(vids):,} clips; {np.mean([n for n, _, _ in lengths]):.1f} frames labeled per "
            f"track (mean); {gaps:,} hidden or outside for some frames and labeled again after (same id); "
            f"{whole:,} labeled in every frame of a clip" if lengths else "no tracks")
    hist = f'<img class="plot" alt="track lengths" src="{_png_uri(plot_track_lengths(lengths, figure))}">' if lengths else ""
    panels = [f'<section class="panel"><h2>Track lengths</h2>{hist}<p class="note">{e(note)}</p></section>']
    strips = filmstrips(data, by_image, load, names)
    if strips:
        figs = "".join(f'<figure style="margin:0 0 12px"><img style="max-width:100%" alt="{e(cap)}" src="{_jpeg_uri(s)}">'
                       f'<figcaption class="note">{e(cap)}</figcaption></figure>' for s, cap in strips)
        panels.append(f'<section class="panel"><h2>Clips ({len(strips)} of {len(vids):,}, frames from first to last)</h2>{figs}'
                      '<p class="note">boxes and #track ids drawn in one colour per track</p></section>')
    return panels
