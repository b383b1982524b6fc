"""The public Python API: ``Generator(config).sample(index)``, one sample in memory.

Wires the stages in one direction: seed -> scene -> render -> labels. Nothing touches the disk
except the (cached) asset reads.
"""

from __future__ import annotations

from typing import Any

from synthgen.assets import AssetLibrary, load_library
from synthgen.config import Config, load_config
from synthgen.errors import ConfigError
from synthgen.labels import derive_instances
from synthgen.render import render
from synthgen.scene import image_rng, sample_scene
from synthgen.types import Sample, Scene


def sample_name(index: int) -> str:
    return f"{index:08d}"


class Generator:
    """Makes image ``index`` of a run, identically in any process, order or machine."""

    def __init__(self, config: Config | str | None = None) -> None:
        if not isinstance(config, Config):
            config = load_config(config)
        self.config = config
        self.library: AssetLibrary = load_library(config.assets)
        unknown = sorted(set(config.scene.class_weights or {}) - set(self.library.classes))
        if unknown:
            raise ConfigError(
                f"scene.class_weights: {unknown} are not classes of this run; "
                f"allowed: {', '.join(self.library.classes)}"
            )

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names; category id = position + 1 (COCO), YOLO id = position."""
        return self.library.classes

    def scene(self, index: int) -> Scene:
        return sample_scene(self.config, self.library, index, rng=image_rng(self.config.seed, index))

    def sample(self, index: int) -> Sample:
        scene = self.scene(index)
        rendered = render(scene, self.library, self.config.render.alpha_threshold)
        instances, id_map, dropped = derive_instances(scene, rendered, self.config.labels)
        name = sample_name(index)
        W, H = scene.canvas_wh
        metadata: dict[str, Any] = {
            "index": index,
            "name": name,
            "seed": self.config.seed,
            "width": W,
            "height": H,
            "scene": scene.to_dict(),
            "instances": [
                {
                    "instance_id": i.instance_id,
                    "label": i.label,
                    "bbox": list(i.bbox),
                    "area": i.area,
                    "visible_fraction": i.visible_fraction,
                    "truncated": i.truncated,
                }
                for i in instances
            ],
            "dropped": {str(k): v for k, v in dropped.items()},
        }
        return Sample(
            index=index,
            name=name,
            image=rendered.image,
            id_map=id_map,
            instances=instances,
            scene=scene,
            metadata=metadata,
        )
