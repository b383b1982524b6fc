"""Previews of clips to watch: ``OUT/preview/<clip>.gif`` per clip, every frame with its boxes and
``#track id class`` drawn in one colour per track (tools/clip_report's drawing), at the clip's
frame rate, looping. ``synthgen clips ... --preview`` writes them from the merged
annotations.json once the run is complete.

GIF with Pillow (no new dependency; every browser plays it), one 256-colour palette per clip.
(No mp4: the H.264 encoder browsers need is not in the opencv wheels, and the MPEG-4 part 2
they do have plays in video players only.) Previews of clips a run no longer has (a replaced run with fewer clips)
are removed: only files named as this module names them.
"""

from __future__ import annotations

import io
import json
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from synthgen.errors import OutputError
from synthgen.io.files import atomic_write
from synthgen.io.outdir import (  # shared with the run's clean-up
    PREVIEW_DIR,
    PREVIEW_FILE,
    clear_previews,
)
from synthgen.tools.clip_report import draw_frame, videos

WIDTH = 480  # pixels; smaller clips stay at their size
NAME = PREVIEW_FILE  # the files this module writes


def gif(frames, fps: float) -> bytes:
    """An animated, looping GIF of RGB frames (one size) at ``fps``. One palette for the clip,
    made from four frames spread over it: the clip's colours stay put (no flicker between frames)
    and what does not change between frames costs nothing."""
    import numpy as np
    from PIL import Image

    picks = sorted({round(i * (len(frames) - 1) / 3) for i in range(4)})
    palette = Image.fromarray(np.vstack([frames[i] for i in picks])).quantize(
        256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    images = [Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    buf = io.BytesIO()
    # GIF delays are whole hundredths of a second (1000 / 15 ms would play at 16.7 fps): frame k
    # starts at round(100 k / fps) hundredths, so the clip keeps its rate over any length
    starts = [round(100 * k / fps) for k in range(len(frames) + 1)]
    delays = [10 * max(1, b - a) for a, b in zip(starts, starts[1:])]  # past 100 fps a GIF cannot keep up
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=delays, loop=0)
    return buf.getvalue()


def write_previews(run: Path, fps: float, width: int = WIDTH, progress: Callable[[int], None] | None = None) -> list[Path]:
    """``run/preview/<clip>.gif`` for every clip of ``run/annotations.json``; returns the files."""
    from synthgen.io.images import read_rgb

    run = Path(run)
    ann = run / "annotations.json"
    try:
        doc = json.loads(ann.read_text())
    except (OSError, ValueError) as exc:
        raise OutputError(f"{ann}: cannot read the merged clips to preview them: {exc}") from None
    names = {c["id"]: c["name"] for c in doc.get("categories", ())}
    by_image = defaultdict(list)
    for a in doc.get("annotations", ()):
        by_image[a["image_id"]].append(a)
    out_dir = run / PREVIEW_DIR
    out_dir.mkdir(exist_ok=True)
    written = []
    for name, ims in videos(doc).values():
        if not re.fullmatch(r"[\w.-]+", name) or name.startswith("."):
            raise OutputError(f"{ann}: video name {name!r} cannot name a preview file")
        frames = []
        for im in ims:
            rgb = read_rgb(run / "images" / im["file_name"])
            w = min(width, rgb.shape[1])
            frames.append(draw_frame(rgb, by_image.get(im["id"], []), names, w, f"{name}  frame {im['frame_id'] + 1}/{len(ims)}",
                                     im["video_id"]))
        path = out_dir / f"{name}.gif"
        atomic_write(path, gif(frames, fps))
        written.append(path)
        if progress is not None:
            progress(1)
    clear_previews(run, keep={p.name for p in written})  # of clips the run no longer has (never through a link)
    return written
