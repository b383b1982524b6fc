"""Atomic file writes: a temporary name in the same folder, then a rename."""

from __future__ import annotations

import os
import shutil
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


class AtomicFile:
    """A file written piece by piece under a temporary name in its folder, renamed into place
    by ``commit`` (a merge writes files far larger than it holds in memory this way);
    ``discard`` removes the temporary file."""

    def __init__(self, path: Path, mode: str = "w") -> None:
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.name}.tmp{os.getpid()}")
        try:
            self.f = open(self.tmp, mode)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from exc

    def write(self, data) -> None:
        self.f.write(data)

    def commit(self) -> None:
        self.f.close()
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        self.f.close()
        self.tmp.unlink(missing_ok=True)


def link_or_copy(src: Path, dst: Path) -> None:
    """``dst`` as a hard link to ``src``, or where the file system refuses (another disk) a copy
    made under a temporary name and renamed: a copy cut short (a full disk, a kill) never
    stands under ``dst``'s name."""
    try:
        os.link(src, dst)
        return
    except OSError:
        pass
    tmp = Path(dst).with_name(f".{Path(dst).name}.tmp{os.getpid()}")
    try:
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
