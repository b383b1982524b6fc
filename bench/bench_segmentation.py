"""What the semantic and panoptic PNGs cost per image, beside the id map's PNG (issue 15: no more
than the id map). Street config, 640x480; run: PYTHONPATH=. python bench/bench_segmentation.py"""

from __future__ import annotations

import time

from synthgen.bundled import preset
from synthgen.config import load_config
from synthgen.generator import Generator
from synthgen.writers import panoptic, semantic, voc
from synthgen.writers.files import encode_id_map

N = 40


def main() -> None:
    cfg = load_config(preset("street"), ["output.formats=[coco,semantic,panoptic,voc]"])
    gen = Generator(cfg)
    samples = [gen.sample(i) for i in range(N)]
    steps = {
        "id map PNG (uint16)": lambda s: encode_id_map(s.id_map),
        "semantic map + PNG": lambda s: semantic.encode_class_map(semantic.class_map(s, cfg.output.semantic_ignore)),
        "panoptic PNG": lambda s: panoptic.segment_png(s),
        "VOC object PNG": lambda s: voc.encode_indexed(voc.object_map(s, semantic.class_map(s, ()))),
    }
    for name, fn in steps.items():
        t0 = time.perf_counter()
        size = sum(len(fn(s)) for s in samples)
        ms = (time.perf_counter() - t0) * 1000 / N
        print(f"{name:22s} {ms:6.2f} ms/image  {size / N / 1024:6.1f} KiB")


if __name__ == "__main__":
    main()
