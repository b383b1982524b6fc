"""One warp per object: scene sampling hands its warps to the renderer, and nothing changes."""

from __future__ import annotations

import numpy as np

from synthgen.assets import WarpCache
from synthgen.config import load_config
from synthgen.generator import Generator
from synthgen.render import render


def test_kept_warps_render_the_same_frame_and_leave_the_cache():
    cfg = load_config(None, ["canvas.width=320", "canvas.height=240", "scene.objects_per_image=[6, 10]"])
    gen = Generator(cfg)
    for i in range(4):
        scene = gen.scene(i)
        assert len(gen.library.warps) > 0  # hard and Poisson placements were kept
        kept = render(scene, gen.library, cfg.render.alpha_threshold)
        assert len(gen.library.warps) == 0  # the renderer took them all
        fresh = render(scene, gen.library, cfg.render.alpha_threshold)  # warps everything itself
        assert np.array_equal(kept.image, fresh.image) and np.array_equal(kept.id_map, fresh.id_map)


def test_untaken_warps_are_bounded_by_bytes():
    cache = WarpCache(limit=10_000)
    for k in range(10):
        cache.put(("k", k), np.zeros((40, 40, 4), np.uint8))  # 6,400 bytes each
    assert len(cache) == 1 and cache.take(("k", 9)) is not None and cache.take(("k", 0)) is None


def test_every_blending_mode_is_warped_once(monkeypatch):
    """Soft-edged (gaussian, motion) placements too: the renderer warps nothing itself, and the
    frame is the one a renderer warping everything makes."""
    import synthgen.render as render_mod

    cfg = load_config(None, ["canvas.width=320", "canvas.height=240", "scene.objects_per_image=[6, 10]",
                             "render.blending={none: 0.25, gaussian: 0.25, poisson: 0.25, motion: 0.25}", "effects=[]"])
    gen = Generator(cfg)
    calls = []
    real_warp = render_mod.warp
    monkeypatch.setattr(render_mod, "warp", lambda *a: calls.append(1) or real_warp(*a))
    modes = set()
    for i in range(6):
        scene = gen.scene(i)
        modes |= {p.blend for p in scene.placements}
        calls.clear()
        kept = render(scene, gen.library, cfg.render.alpha_threshold)
        assert not calls and len(gen.library.warps) == 0
        fresh = render(scene, gen.library, cfg.render.alpha_threshold)
        assert len(calls) == len(scene.placements)
        assert np.array_equal(kept.image, fresh.image) and np.array_equal(kept.id_map, fresh.id_map)
    assert modes == {"none", "gaussian", "poisson", "motion"}


def test_per_object_effects_widen_the_box_and_leave_no_warp_behind():
    cfg = load_config(None, ["canvas.width=320", "canvas.height=240", "scene.objects_per_image=[6, 10]",
                             "effects=[{name: motion_blur, severity: 3, per_object: 1.0}]"])
    gen = Generator(cfg)
    for i in range(3):
        s = gen.sample(i)
        assert len(gen.library.warps) == 0
        again = gen.sample_from_scene(s.scene)  # no kept warps: everything warped anew
        assert np.array_equal(s.image, again.image) and np.array_equal(s.id_map, again.id_map)
