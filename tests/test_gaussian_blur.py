"""The gaussian blur effect at large sigma (blurred at a reduced size, to bound its cost) has the
spread it is asked for and looks like the direct blur."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from synthgen.effects.functional import gaussian_blur


@pytest.mark.parametrize("sigma", [2.5, 3.0, 4.6, 5.0, 8.0, 20.0])
def test_impulse_response_has_the_asked_spread(sigma):
    # a point of light: its blurred image's second moment is the kernel's variance
    img = np.zeros((241, 241), np.float32)
    img[120, 120] = 1.0
    out = gaussian_blur(img, sigma).astype(np.float64)
    assert out.sum() == pytest.approx(1.0, rel=0.02)
    yy, xx = np.mgrid[0:241, 0:241]
    w = out / out.sum()
    cx, cy = (w * xx).sum(), (w * yy).sum()
    assert (cx, cy) == (pytest.approx(120, abs=0.6), pytest.approx(120, abs=0.6))
    var = (w * (xx - cx) ** 2).sum()
    assert np.sqrt(var) == pytest.approx(sigma, rel=0.08)


@pytest.mark.parametrize("sigma", [2.5, 4.6, 8.0])
def test_close_to_the_direct_blur(sigma):
    rng = np.random.default_rng(0)
    img = cv2.resize(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8), (640, 480), interpolation=cv2.INTER_NEAREST)
    direct = cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    out = gaussian_blur(img, sigma)
    assert out.shape == img.shape and out.dtype == np.uint8
    d = np.abs(out.astype(int) - direct)
    assert d.max() <= 6 and d.mean() < 1.0  # grey levels, on hard 16 px blocks


def test_small_inputs_and_single_channel_keep_their_shape():
    for shape in ((5, 7), (9, 9, 1), (30, 20, 4)):
        img = np.full(shape, 200, np.uint8)
        out = gaussian_blur(img, 6.0)
        assert out.shape == img.shape
