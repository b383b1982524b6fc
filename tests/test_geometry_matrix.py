"""geometry.homography and warp_box against the matrices written out one by one (the way they
were first computed): the same bits, since every recorded dataset depends on them, and the
cutout's centre lands on ``center``."""

from __future__ import annotations

import math

import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgen.geometry import homography, warp_box


def _reference(cutout_wh, object_wh, canvas_wh, scale, rotation, flip, perspective, center):
    w, h = cutout_wh
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    src = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float64)
    if any(perspective):
        off = np.asarray(perspective, np.float64).reshape(4, 2) * np.array([w, h])
        P = cv2.getPerspectiveTransform(src.astype(np.float32), (src + off).astype(np.float32)).astype(np.float64)
    else:
        P = np.eye(3)
    s = scale * min(canvas_wh) / max(object_wh)
    t = math.radians(rotation)
    c, si = math.cos(t), math.sin(t)
    to_origin = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], np.float64)
    mirror = np.diag([-1.0 if flip else 1.0, 1.0, 1.0])
    rot_scale = np.array([[c * s, si * s, 0], [-si * s, c * s, 0], [0, 0, 1]], np.float64)
    to_center = np.array([[1, 0, center[0]], [0, 1, center[1]], [0, 0, 1]], np.float64)
    return to_center @ rot_scale @ mirror @ to_origin @ P


def _reference_box(H, cutout_wh, margin):
    w, h = cutout_wh
    corners = np.array([[-0.5, -0.5, 1], [w - 0.5, -0.5, 1], [w - 0.5, h - 0.5, 1], [-0.5, h - 0.5, 1]])
    pts = corners @ H.T
    pts = pts[:, :2] / pts[:, 2:3]
    return (math.floor(pts[:, 0].min()) - margin, math.floor(pts[:, 1].min()) - margin,
            math.ceil(pts[:, 0].max()) + 1 + margin, math.ceil(pts[:, 1].max()) + 1 + margin)


offsets = st.floats(-0.12, 0.12, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(3, 500), st.integers(3, 500),
    st.sampled_from([(640, 480), (1920, 1080), (96, 72)]),
    st.floats(0.01, 2.0), st.one_of(st.sampled_from([0.0, 90.0, -90.0, 180.0]), st.floats(-360, 360)),
    st.booleans(),
    st.one_of(st.just((0.0,) * 8), st.tuples(*[offsets] * 8)),
    st.tuples(st.floats(-200, 900), st.floats(-200, 700)),
    st.integers(0, 3),
)
def test_homography_and_box_are_the_written_out_products(w, h, canvas, scale, rotation, flip, perspective, center, margin):
    args = ((w, h), (max(1, w - 4), max(1, h - 4)), canvas)
    H = homography.__wrapped__(*args, scale=scale, rotation=rotation, flip=flip, perspective=perspective, center=center)
    ref = _reference(*args, scale, rotation, flip, perspective, center)
    assert H.tobytes() == ref.tobytes()
    assert warp_box(H, (w, h), margin) == _reference_box(ref, (w, h), margin)
    if not any(perspective):  # the cutout's centre pixel lands on the placement's centre
        x, y, z = H @ np.array([(w - 1) / 2.0, (h - 1) / 2.0, 1.0])
        assert math.isclose(x / z, center[0], abs_tol=1e-6) and math.isclose(y / z, center[1], abs_tol=1e-6)
