"""clips --preview: a looping GIF per clip at its frame rate, every frame with its tracks drawn;
a replaced run with fewer clips leaves no stale preview, and a user's file stays."""

from __future__ import annotations

import json

import numpy as np
import yaml
from click.testing import CliRunner
from conftest import tiny_config_dict
from PIL import Image

from synthgen.cli import main
from synthgen.tools.preview import class_colour

CLIPS, FRAMES, FPS = 2, 5, 10


def _run(cfg, out, clips, *extra):
    res = CliRunner().invoke(main, ["clips", str(cfg), "--out", str(out), "--clips", str(clips), "--frames", str(FRAMES),
                                    "--fps", str(FPS), "--preview", "-q", *extra])
    assert res.exit_code == 0, res.output
    return res


def test_a_gif_per_clip_with_every_frame_and_its_tracks(tiny_assets, tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config_dict(tiny_assets)))
    out = tmp_path / "out"
    res = _run(cfg, out, CLIPS)
    assert f"previews: {CLIPS} GIFs" in res.output
    doc = json.loads((out / "annotations.json").read_text())
    assert sorted(p.name for p in (out / "preview").iterdir()) == [f"clip-{c:06d}.gif" for c in range(CLIPS)]
    with Image.open(out / "preview" / "clip-000001.gif") as gif:
        assert gif.n_frames == FRAMES and gif.info["loop"] == 0 and gif.info["duration"] == 1000 // FPS
        W, H = gif.size
        im = next(im for im in doc["images"] if im["video_id"] == 2 and im["frame_id"] == 3)
        scale = W / im["width"]
        gif.seek(3)
        frame = np.asarray(gif.convert("RGB")).astype(int)
    bar = H - round(im["height"] * scale)
    anns = [a for a in doc["annotations"] if a["image_id"] == im["id"]]
    assert anns
    for a in anns:  # the box's outline in the track's colour (up to the palette; other boxes and labels may cover some)
        x, y, w, h = (round(v * scale) for v in a["bbox"])
        x1, y1 = x + max(w - 1, 0), y + max(h - 1, 0)
        outline = np.concatenate([frame[bar + y, x:x1 + 1], frame[bar + y1, x:x1 + 1],
                                  frame[bar + y:bar + y1 + 1, x], frame[bar + y:bar + y1 + 1, x1]])
        share = np.mean(np.abs(outline - class_colour(a["track_id"])).max(axis=1) <= 24)
        assert share > 0.3, (a["track_id"], share)


def test_a_replaced_run_with_fewer_clips_leaves_no_stale_preview(tiny_assets, tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config_dict(tiny_assets)))
    out = tmp_path / "out"
    _run(cfg, out, 3)
    (out / "preview" / "notes.txt").write_text("mine")
    _run(cfg, out, 1, "--overwrite")
    assert sorted(p.name for p in (out / "preview").iterdir()) == ["clip-000000.gif", "notes.txt"]
