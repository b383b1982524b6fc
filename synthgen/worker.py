"""What a worker holds while it makes samples, and the recipes it makes them from.

A *factory spec* is a small picklable recipe (a config as JSON, plus what else the kind of run
needs) that travels to a worker; the worker turns it into a *sample factory* once, and asks it
for sample ``index`` as often as it likes. Plain runs: ``Images`` -> ``Generator(cfg)``; stress
suites: ``stress.Suite`` -> scene / variant grid. The runner drives every kind the same way.

A ``WorkerContext`` is the one place for per-worker state: OpenCV's thread count (one per
process when processes run side by side), the asset libraries it decoded, and the factory of
the run it works on. Library code below it sets no process-wide state.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

import cv2

from synthgen.assets import AssetLibrary, library_key, load_library
from synthgen.config import Config
from synthgen.generator import Generator

if TYPE_CHECKING:
    from synthgen.config import AssetsConfig
    from synthgen.types import Sample

LIBRARIES = 2  # asset libraries a worker keeps (least recently used goes first)


class SampleFactory(Protocol):
    config: Config  # the run's config: output formats and label options for the writers
    classes: tuple[str, ...]  # category id = position + 1
    library: AssetLibrary  # its assets (the runner lists the files skipped with on_error: skip)

    def sample(self, index: int) -> Sample: ...


class FactorySpec(Protocol):
    """Picklable and comparable: equal specs build factories that make the same samples."""

    kind: ClassVar[str]  # the kind of run, as the manifest records it: "generate", "stress"

    def build(self, ctx: WorkerContext) -> SampleFactory: ...


@dataclass(frozen=True)
class Images:
    """A plain run: sample ``index`` = ``Generator(config).sample(index)``."""

    kind: ClassVar[str] = "generate"
    config_json: str

    def build(self, ctx: WorkerContext) -> Generator:
        return ctx.generator(Config.model_validate_json(self.config_json))


class WorkerContext:
    """Per-worker state, set up once and passed explicitly.

    ``threads``: OpenCV threads while the context is entered (``with ctx:``; the previous
    count comes back on exit). 1 where worker processes share the cores; None leaves it alone.
    """

    def __init__(self, threads: int | None = 1) -> None:
        self.threads = threads
        self._saved_threads: int | None = None
        self._libraries: OrderedDict[str, AssetLibrary] = OrderedDict()
        self._spec: FactorySpec | None = None
        self._factory: SampleFactory | None = None

    def __enter__(self) -> WorkerContext:
        if self.threads is not None:
            self._saved_threads = cv2.getNumThreads()
            cv2.setNumThreads(self.threads)
        return self

    def __exit__(self, *exc) -> None:
        if self._saved_threads is not None:
            cv2.setNumThreads(self._saved_threads)
            self._saved_threads = None

    def library(self, assets: AssetsConfig) -> AssetLibrary:
        """The library of ``assets``, loaded once while it stays among the last ``LIBRARIES``."""
        key = library_key(assets)
        lib = self._libraries.get(key)
        if lib is None:
            lib = self._libraries[key] = load_library(assets)
            while len(self._libraries) > LIBRARIES:
                self._libraries.popitem(last=False)
        else:
            self._libraries.move_to_end(key)
        return lib

    def generator(self, config: Config) -> Generator:
        """A generator for ``config`` over this worker's copy of its assets."""
        return Generator(config, library=self.library(config.assets))

    def factory(self, spec: FactorySpec) -> SampleFactory:
        """The factory of ``spec``, built once; a worker keeps only its current run's factory."""
        if self._factory is None or spec != self._spec:
            self._factory = None  # free the old one before building the next
            self._factory = spec.build(self)
            self._spec = spec
        return self._factory
