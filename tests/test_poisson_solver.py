"""Poisson blending's solver is OpenCV's seamlessClone, solved exactly: checked against
cv2.seamlessClone itself (independent code: a DFT-based solver) on random patches and masks."""

from __future__ import annotations

import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgen.render import _clone


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), h=st.integers(5, 48), w=st.integers(5, 48), blur=st.floats(0.3, 3.0))
def test_clone_is_seamless_clone(seed, h, w, blur):
    rng = np.random.default_rng(seed)
    src = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), blur)
    dst = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), blur)
    mask = np.zeros((h, w), np.uint8)
    cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
    cv2.ellipse(mask, (cx, cy), (int(rng.integers(1, w)), int(rng.integers(1, h))), float(rng.uniform(0, 180)), 0, 360, 255, -1)
    if rng.random() < 0.3:
        mask[int(rng.integers(0, h)) :, : int(rng.integers(0, w))] = 255  # straight edges on the box
    ours = _clone(src, dst, mask)
    inner = mask.copy()
    inner[0, :] = inner[-1, :] = 0
    inner[:, 0] = inner[:, -1] = 0
    x, y, bw, bh = cv2.boundingRect(inner)
    if bw < 3 or bh < 3:
        assert ours is None
        return
    theirs = cv2.seamlessClone(src, dst, inner, (x + bw // 2, y + bh // 2), cv2.NORMAL_CLONE)
    # both truncate a float solution; OpenCV's rounding noise takes a whole level down a level
    # (where the solution is exactly dst's), ours keeps it: a level or two apart, never more
    # (a solver of other equations is tens of levels off)
    diff = np.abs(ours.astype(int) - theirs)
    assert diff.max() <= 2, diff.max()
