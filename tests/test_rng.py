"""RNG streams: every stream named once, distinct, and stable (a renumbering changes every image)."""

from __future__ import annotations

import numpy as np

from synthgen.rng import Stream, image_rng, seeded_python_rng, seeded_rng, split_seed


def test_stream_numbers_are_pinned():
    # the numbers are part of the output: written images depend on them
    assert {s.name: int(s) for s in Stream} == {
        "SCENE": 0,
        "IMAGE_EFFECTS": 1,
        "OBJECT_EFFECTS": 2,
        "ALBUMENTATIONS": 3,
        "OCCLUSION": 4,
        "SPLIT": 5,
        "CLIPS": 6,
    }


def test_drawn_values_are_pinned():
    drawn = {s.name: image_rng(7, 3, s, 0).integers(1000, size=3).tolist() for s in Stream}
    assert drawn == {
        "SCENE": [492, 246, 998],
        "IMAGE_EFFECTS": [663, 853, 864],
        "OBJECT_EFFECTS": [220, 110, 175],
        "ALBUMENTATIONS": [36, 122, 463],
        "OCCLUSION": [575, 993, 852],
        "SPLIT": [501, 294, 366],
        "CLIPS": [252, 320, 812],
    }
    assert image_rng(7, 3, Stream.SCENE).integers(1000, size=2).tolist() == [732, 845]
    assert seeded_rng(5).integers(1000, size=3).tolist() == [670, 805, 22]
    assert split_seed(5, 2) == (16823399, 2940995229)
    assert seeded_python_rng(5).randrange(1000) == 637


def test_the_scene_stream_is_the_first_child_of_the_images_seed_sequence():
    root = np.random.SeedSequence(entropy=11, spawn_key=(42,))
    expected = np.random.default_rng(root.spawn(1)[0]).random(4)
    assert np.array_equal(image_rng(11, 42, Stream.SCENE).random(4), expected)


def test_streams_images_and_members_are_distinct():
    first = set()
    for index in range(3):
        for s in Stream:
            for k in range(3):
                first.add(float(image_rng(0, index, s, k).random()))
    assert len(first) == 3 * len(Stream) * 3
    assert image_rng(0, 0, Stream.SCENE).random() != image_rng(1, 0, Stream.SCENE).random()
