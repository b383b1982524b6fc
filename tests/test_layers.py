"""The layering, written down and checked: data flows one way, lower layers never import upper ones,
and no two modules import each other (directly or round a loop), not even inside a function.

A module that is not listed in LAYERS fails the test: place every new module on purpose.
Imports under ``if TYPE_CHECKING:`` are annotations only and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "synthgen"

# Bottom to top. A module may import modules of its own layer or of any layer below.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    # plain data, leaves of the I/O layer that the core needs, and nothing that knows a run
    ("foundation", (
        "version", "bundled", "errors", "types", "geometry", "rng", "frame", "effects.specs",
        "io.rle", "io.images", "io.files", "io.issues", "io.text", "cpus",
    )),
    ("io", ("io", "provenance")),  # one reader/writer per format; paths, EXIF, manifests
    ("config", ("config",)),
    ("assets", ("assets", "keypoints", "lines", "stuff")),
    ("scene", ("scene", "balance", "trajectory", "entering", "lane_placement")),
    ("render, effects, labels", ("render", "effects", "labels", "keypoint_labels", "stuff_labels")),
    ("generator", ("generator",)),
    ("writers", ("writers",)),
    ("runner", ("worker", "runner", "stress", "clips", "clip_stress")),
    ("tools", ("tools", "dataset", "webdataset")),
    ("cli", ("cli", "__init__", "__main__")),
]


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = rel.parts
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _layer(module: str) -> int:
    best, rank = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, rank = len(p), i
    assert rank is not None, f"synthgen.{module} is in no layer: add it to LAYERS in {__file__}"
    return rank


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(source: str, module: str, is_package: bool = False) -> set[str]:
    """synthgen modules that ``source`` (the text of synthgen.<module>) imports, at any depth,
    without the package prefix."""
    tree = ast.parse(source)
    known = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    found: set[str] = set()

    def resolve(name: str) -> str | None:
        if not name.startswith("synthgen"):
            return None
        name = name[len("synthgen"):].lstrip(".")
        while name and name not in known:  # `from synthgen.io.coco import load` -> io.coco
            name = name.rpartition(".")[0]
        return name or "__init__"

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (m := resolve(alias.name)) is not None:
                    found.add(m)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".")
                if not is_package:
                    pkg = pkg[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(["synthgen", *pkg, *([base] if base else [])])
            for alias in node.names:
                m = resolve(f"{base}.{alias.name}") if base.startswith("synthgen") else None
                if m is not None:
                    found.add(m)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(module)
    return found


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        mod = _module_name(path)
        graph[mod] = _imports(path.read_text(), mod, path.name == "__init__.py")
    return graph


def test_every_module_sits_in_a_layer():
    for mod in _graph():
        _layer(mod)


def test_no_module_imports_a_layer_above_its_own():
    wrong = []
    for mod, deps in _graph().items():
        for dep in deps:
            if _layer(dep) > _layer(mod):
                wrong.append(
                    f"synthgen.{mod} ({LAYERS[_layer(mod)][0]}) imports synthgen.{dep} ({LAYERS[_layer(dep)][0]})"
                )
    assert not wrong, "upward imports:\n" + "\n".join(sorted(wrong))


def test_no_import_cycles():
    graph = _graph()
    # Package __init__ modules that only re-export their submodules are not cycles of substance,
    # but a parent importing a child that imports the parent is still reported.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            strongconnect(v)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_checker_sees_upward_imports_and_skips_annotations():
    """The contract can fail: a function-local upward import is found; TYPE_CHECKING ones are not."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from synthgen.generator import Generator\n"
        "def f():\n    from synthgen.runner import generate\n    from . import render\n"
    )
    assert _imports(source, "labels") == {"runner", "render"}
    assert _layer("runner") > _layer("labels")
