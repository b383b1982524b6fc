"""The label stage's OpenCV shortcuts count exactly what their plain numpy definitions count."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgen.labels import CONTRAST_LEVELS, contrast


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), h=st.integers(1, 40), w=st.integers(1, 40), spread=st.integers(0, 30))
def test_contrast_counts_pixels_with_any_channel_apart(seed, h, w, spread):
    rng = np.random.default_rng(seed)
    plate = rng.integers(0, 256, (60, 70, 3), dtype=np.uint8)
    step = rng.integers(-spread, spread + 1, plate.shape)
    step *= rng.random(plate.shape) < 0.4  # often only one or two channels differ
    image = np.clip(plate.astype(int) + step, 0, 255).astype(np.uint8)
    y0, x0 = int(rng.integers(0, 60 - h + 1)), int(rng.integers(0, 70 - w + 1))
    mask = rng.random((h, w)) < 0.7
    roi = (y0, y0 + h, x0, x0 + w)
    apart = (np.abs(image.astype(int) - plate)[y0 : y0 + h, x0 : x0 + w] >= CONTRAST_LEVELS).any(axis=2)
    n = int(mask.sum())
    want = (apart & mask).sum() / n if n else 0.0
    assert contrast(image, plate, roi, mask) == want
