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


finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(low=finite, width=st.floats(0.0, 1e6), seed=st.integers(0, 2**63 - 1))
def test_uniform_is_numpys_uniform(low, width, seed):
    from synthgen.scene import uniform

    high = low + width
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    for _ in range(5):
        assert uniform(a, low, high) == float(b.uniform(low, high))
    assert uniform(a, 0, 640) == float(b.uniform(0, 640))  # integer bounds, as canvas sizes are
    assert a.random() == b.random()


def test_uniform_refuses_reversed_bounds_as_numpy_does():
    import pytest

    from synthgen.scene import uniform

    with pytest.raises(ValueError):
        np.random.default_rng(0).uniform(2.0, 1.0)
    with pytest.raises(ValueError):
        uniform(np.random.default_rng(0), 2.0, 1.0)


@settings(max_examples=200, deadline=None)
@given(tilt=st.one_of(st.just(0.0), st.floats(1e-9, 0.5)), seed=st.integers(0, 2**63 - 1))
def test_perspective_offsets_are_numpys_draws(tilt, seed):
    from synthgen.scene import _offsets

    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    want = tuple(float(v) for v in b.uniform(-tilt, tilt, size=8)) if tilt > 0 else (0.0,) * 8
    assert _offsets(a, tilt) == want
    assert a.random() == b.random()


@settings(max_examples=200, deadline=None)
@given(
    p=st.floats(0.0, 1.0),
    ranges=st.lists(st.tuples(finite, st.floats(0.0, 100.0)), min_size=0, max_size=4),
    seed=st.integers(0, 2**63 - 1),
)
def test_maybe_draws_numpys_uniforms_in_turn(p, ranges, seed):
    from synthgen.scene import _maybe

    named = {f"k{i}": (lo, lo + w) for i, (lo, w) in enumerate(ranges)}
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    fires = b.random() < p
    values = tuple((k, float(b.uniform(*r))) for k, r in named.items())  # the plain calls
    assert _maybe(a, p, named) == (values if fires else ())
    assert a.random() == b.random()


@settings(max_examples=150, deadline=None)
@given(
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    density=st.floats(0.0, 1.0),
    flip=st.booleans(),
    first=st.integers(0, 45),
    seed=st.integers(0, 2**32 - 1),
)
def test_feet_are_the_regions_pixels_in_flatnonzero_order(h, w, density, flip, first, seed):
    from synthgen.scene import _Feet

    region01 = (np.random.default_rng(seed).random((h, w)) < density).astype(np.uint8)
    plain = region01.astype(bool)
    plain = plain[:, ::-1] if flip else plain.copy()
    plain[:first] = False  # rows above the horizon, as the plain sampler cleared them
    want = np.flatnonzero(plain)
    feet = _Feet(region01, flip, first)
    assert feet.size == want.size
    for k in range(want.size):
        x, y = feet[k]
        assert y * w + x == want[k]
