"""Atomic file writes: a temporary name in the same folder, then a rename."""

from __future__ import annotations

import os
from pathlib import Path

from synthgen.errors import OutputError


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary name in the same folder, then rename."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
