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


def test_the_tag_of_an_object_cut_at_the_top_does_not_cover_its_box():
    """No room above the box: the tag goes below it, and the box keeps its pixels and outline."""
    import numpy as np

    from synthgen.tools.clip_report import draw_frame

    rgb = np.full((60, 80, 3), 100, np.uint8)
    rgb[0:8, 20:50] = (10, 200, 10)  # the object's visible part, cut by the top edge
    ann = {"bbox": [20, 0, 30, 8], "track_id": 1001, "category_id": 1}
    out = draw_frame(rgb, [ann], {1: "car"}, 80, "", 1)
    assert out.shape == rgb.shape
    inside = out[1:7, 21:49]
    assert np.array_equal(inside, rgb[1:7, 21:49])  # nothing drawn over the object
    assert (out[0:8, 20] != rgb[0:8, 20]).any(axis=1).all()  # the left edge is outlined all the way
    assert (out[9:25, 20:50] != rgb[9:25, 20:50]).any()  # the tag: just below the box
