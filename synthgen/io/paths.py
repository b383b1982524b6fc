"""The one containment rule for paths read from dataset files.

A COCO ``file_name``, a YOLO list-file line, a data.yaml ``path`` / ``train`` entry, a label
file or a mask beside an image: every path a dataset file names must stay inside that
dataset's folder (its *root*), after symlinks are resolved. ``../../etc``, ``/etc/hostname``
and a symlink that leads out of the folder are refused with a :class:`DatasetError` of kind
``"path"`` naming the file and id that gave the path, so no tool reads (or copies, or writes
beside) a file the dataset does not hold.
"""

from __future__ import annotations

import os
from pathlib import Path

from synthgen.io.issues import DatasetError, Issue


def resolved_root(root: Path) -> Path:
    return Path(os.path.realpath(root))


def outside(root: Path, path: Path, said: str, where: str, real_root: Path | None = None) -> Issue | None:
    """None when ``path`` (symlinks resolved) lies inside ``root``; else the issue, naming
    ``where`` and the path as the dataset file ``said`` it."""
    real_root = real_root or resolved_root(root)
    target = Path(os.path.realpath(path))
    if _within(target, real_root):
        return None
    how = "is" if str(target) == os.path.abspath(said) else f"leads to {target},"
    return Issue("path", where, f"{said!r} {how} outside the dataset folder {root}: "
                                "paths in dataset files must stay inside it")


def inside(root: Path, name: str | Path, where: str, *, real_root: Path | None = None) -> Path:
    """``root / name`` when it lies inside ``root``, symlinks resolved; DatasetError (kind
    ``"path"``) naming ``where`` and ``name`` when it does not. A relative ``name`` must not
    climb out of ``root`` even on its way (``a/../../root/x``); an absolute one must resolve
    inside it. ``real_root``: ``resolved_root(root)``, when the caller checks many names
    against one root."""
    name = str(name)
    absolute = Path(name).is_absolute()
    lexical = name if absolute else os.path.normpath(name)
    path = Path(lexical) if absolute else Path(root) / lexical
    if not absolute and (lexical == os.pardir or lexical.startswith(os.pardir + os.sep)):
        raise DatasetError(Issue("path", where, f"{name!r} climbs out of the dataset folder {root}: "
                                                "paths in dataset files must stay inside it"))
    issue = outside(root, path, name, where, real_root)
    if issue is not None:
        raise DatasetError(issue)
    return path


def is_inside(root: Path, path: Path, real_root: Path | None = None) -> bool:
    """Whether ``path`` (symlinks resolved) lies inside ``root``."""
    return _within(Path(os.path.realpath(path)), real_root or resolved_root(root))


def _within(target: Path, real_root: Path) -> bool:
    t, r = str(target), str(real_root)
    return t == r or t.startswith(r.rstrip(os.sep) + os.sep)
