"""Scene sampling's shortcuts draw exactly what numpy's own calls would: images stay the same
whatever the code path."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgen.scene import choice_cdf, pick


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 100.0)), min_size=1, max_size=12).filter(lambda w: sum(w) > 0),
    seed=st.integers(0, 2**32 - 1),
)
def test_pick_is_numpys_choice(weights, seed):
    p = np.array(weights, np.float64)
    p /= p.sum()
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    cdf = choice_cdf(p)
    for _ in range(20):
        assert pick(a, cdf) == int(b.choice(len(p), p=p))
    assert a.random() == b.random()  # and the streams stay in step
