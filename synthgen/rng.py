"""Every random stream of synthgen, named in one place.

Image ``index`` of a run with ``seed`` draws each kind of choice from its own stream,
``SeedSequence(entropy=seed, spawn_key=(index, stream, *keys))``: adding draws to one stream
never shifts another, and an image is the same whatever other images are made, in any order,
process or machine. ``keys`` tell apart the members of one stream (config entry ``k`` of the
effects). The numbers are part of the output: renumbering a stream changes every image.

Effects whose ``apply`` needs randomness draw a ``seed`` parameter from their stream (it is
recorded in metadata, so the image can be replayed) and build their generators from it here.
"""

from __future__ import annotations

import random
from enum import IntEnum

import numpy as np


class Stream(IntEnum):
    SCENE = 0  # background, objects, placements, light: scene.py
    IMAGE_EFFECTS = 1  # whole-image effects, key k = position in config.effects
    OBJECT_EFFECTS = 2  # per-object effects, key k = position in config.effects
    ALBUMENTATIONS = 3  # the seeds of the albumentations pipeline
    OCCLUSION = 4  # stress suites: the occluders pasted over the targets
    SPLIT = 5  # which part of the run (train or val) an image belongs to
    CLIPS = 6  # clips: the trajectory of each object of clip c (index = clip), key = instance id


def image_rng(seed: int, index: int, stream: Stream, *keys: int) -> np.random.Generator:
    """The generator of one stream of image ``index`` (and one member ``keys`` of it)."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(index, int(stream), *keys)))


def split_of(seed: int, index: int, val_fraction: float) -> str:
    """"val" for a ``val_fraction`` share of a run's images, "train" for the rest: a function of
    (seed, index) alone, so any shard, worker or resume puts an image in the same part."""
    if val_fraction <= 0:
        return "train"
    return "val" if image_rng(seed, index, Stream.SPLIT).random() < val_fraction else "train"


def seeded_rng(seed: int) -> np.random.Generator:
    """The numpy generator of a recorded ``seed`` parameter."""
    return np.random.default_rng(seed)


def seeded_python_rng(seed: int) -> random.Random:
    """The Python generator of a recorded ``seed`` parameter (for libraries that use ``random``)."""
    return random.Random(seed)


def split_seed(seed: int, n: int) -> tuple[int, ...]:
    """``n`` independent seeds derived from one recorded ``seed`` parameter."""
    return tuple(int(v) for v in np.random.SeedSequence(seed).generate_state(n))
