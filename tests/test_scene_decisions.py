"""Scene sampling decides as the plain sampler did: every scene of configs that strain its
checks (truncation forbidden, a small canvas where tries miss the frame, heavy occlusion, ground
plane, lanes, soft edges, crowds) is compared with a digest recorded from the sampler that warped
and checked every try in full with numpy's own draw calls. Its shortcuts (draws written out,
tries refused before their warp, feet found row by row, occlusion counted over painted pixels
only) must change no decision and no draw.

    python tests/test_scene_decisions.py --record    # only when sampling is meant to change

The digests depend on OpenCV's warps (the silhouettes decide) and numpy's generator, so they
are compared only on the stack they were recorded on.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
RECORD = HERE / "scene_decisions.json"
REPO = HERE.parent
N = 40  # scenes per case

CASES: dict[str, tuple[str | None, list[str], int]] = {
    "default": (None, [], N),
    "no_truncation": (None, ["scene.truncation.allowed=false"], N),
    "small_canvas_misses": (
        None, ["canvas.width=160", "canvas.height=120", "scene.scale=[0.4,1.2]", "scene.max_tries=6"], N
    ),
    "heavy_occlusion": (None, ["scene.occlusion.max_hidden=0.1", "scene.objects_per_image=[10,20]"], N),
    "strict_truncation": (None, ["scene.truncation.min_visible=0.9", "scene.scale=[0.3,0.9]"], N),
    "ground_plane": (None, ["scene.placement.mode=ground_plane"], N),
    "soft_edges_flat": (
        None, ["render.blending.gaussian=1", "render.blending.motion=1", "scene.perspective=[0,0]"], N
    ),
    "lanes": ("configs/road.yaml", ["scene.placement.lanes.classes=[car,truck,bus]"], N),
    "crowd": ("configs/crowd.yaml", [], 6),
}


def stack() -> dict[str, str]:
    import cv2
    import numpy

    return {"opencv": cv2.__version__, "numpy": numpy.__version__}


def digests(sample=None) -> dict[str, str]:
    """sha256 of each case's scenes (their JSON records, in index order). ``sample``: another
    ``sample_scene`` to digest (the recording of the plain sampler used one)."""
    from synthgen.config import load_config
    from synthgen.generator import Generator
    from synthgen.rng import Stream, image_rng

    out = {}
    for name, (path, overrides, n) in CASES.items():
        cfg = load_config(None if path is None else REPO / path, overrides + ["effects=[]"])
        gen = Generator(cfg)
        h = hashlib.sha256()
        for i in range(n):
            if sample is None:
                scene = gen.scene(i)
            else:
                scene = sample(cfg, gen.library, i, rng=image_rng(cfg.seed, i, Stream.SCENE), class_weights=gen.class_weights)
            h.update(json.dumps(scene.to_dict(), sort_keys=True).encode())
        out[name] = h.hexdigest()
    return out


def test_scenes_decide_as_the_plain_sampler_did():
    record = json.loads(RECORD.read_text())
    if record["stack"] != stack():
        pytest.skip(f"recorded on {record['stack']}, running on {stack()}: warps may differ")
    got = digests()
    changed = sorted(k for k in record["scenes"] if got.get(k) != record["scenes"][k])
    assert not changed, f"scenes changed for: {changed}"


if __name__ == "__main__":
    if "--record" not in sys.argv:
        sys.exit(__doc__)
    RECORD.write_text(json.dumps({"stack": stack(), "scenes": digests()}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {RECORD}")
