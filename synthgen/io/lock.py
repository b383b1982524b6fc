"""Who may write into an output folder, and when: one run at a time, or ``--shard`` parts side by side.

``OUT/.synthgen.lock`` is held with flock(2) for the whole of a run: exclusively by a whole run
(any backend: with Ray the driver holds it), shared by ``--shard I/N`` parts, which may run
together from several processes or machines. A part that finds the folder free takes it
exclusively while it prepares the folder (clears a replaced run, removes temporaries), then
shares it. Within the shared folder each part claims a shard while it writes it
(``OUT/shards/.shard-NNNNNN.claim``, also flock), so two parts never write one shard at once.

The kernel drops a flock when its process ends, kill -9 included, so a lock never outlives its
holder. The file's text (one line per holder: pid, host, role) only names the holders in
refusals. The last holder removes the file, so a finished run leaves none behind.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from synthgen.errors import OutputError

LOCK_NAME = ".synthgen.lock"
JOIN_WAIT = 10.0  # seconds a part waits for a holder that has not yet written its line
_UNSUPPORTED = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    role: str  # "run" (a whole run), "preparing" (a part clearing the folder), "part"

    def line(self) -> str:
        return f"{self.pid} {self.host} {self.role}\n"

    def alive(self) -> bool:
        """False only when known dead (pids of other hosts cannot be checked here)."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def describe(self) -> str:
        what = {"run": "a synthgen run", "preparing": "a --shard part", "part": "a --shard part"}[self.role]
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"{what} (pid {self.pid}{where})"


def _me(role: str) -> Holder:
    return Holder(os.getpid(), socket.gethostname(), role)


def read_holders(path: Path) -> list[Holder]:
    """The live holders a lock file names (lines of dead processes on this host dropped)."""
    try:
        text = path.read_text()
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].isdigit() and parts[2] in ("run", "preparing", "part"):
            h = Holder(int(parts[0]), parts[1], parts[2])
            if h.alive() and h not in out:
                out.append(h)
    return out


def _describe(holders: list[Holder]) -> str:
    return ", ".join(h.describe() for h in holders) if holders else "another synthgen process"


def _open_locked(path: Path, mode: int) -> int | None:
    """A descriptor of ``path`` holding flock ``mode``, or None while another holds a conflicting
    lock. Raises OSError with an errno of ``_UNSUPPORTED`` where the file system has no flock."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except OSError:
            os.close(fd)
            raise
        try:  # its last holder may have removed the file between our open and flock: retry
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def _write(fd: int, text: str, *, replace: bool) -> None:
    if replace:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
    else:
        os.lseek(fd, 0, os.SEEK_END)
    os.write(fd, text.encode())


def _unsupported(path: Path, exc: OSError) -> None:
    warnings.warn(
        f"{path}: the file system does not support locks ({exc.strerror}); "
        "nothing stops another run from writing into this folder at the same time",
        stacklevel=3,
    )


class FolderLock:
    """The lock of one output folder, held from ``acquire`` to ``release``.

    ``shared=False`` (a whole run): exclusive; refused at once, naming the holders, when anyone
    else holds it. ``shared=True`` (a ``--shard`` part): ``exclusive`` tells whether this part
    found the folder free and holds it alone until ``share()``; otherwise it joined other parts.
    """

    def __init__(self, out: Path, *, shared: bool) -> None:
        self.path = Path(out) / LOCK_NAME
        self.shared = shared
        self.exclusive = False
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        try:
            self._acquire()
        except OSError as exc:
            if exc.errno not in _UNSUPPORTED:
                raise OutputError(f"cannot lock --out {self.path.parent}: {exc.strerror or exc}") from exc
            _unsupported(self.path, exc)
            self.exclusive = True  # nothing can be known about others: behave as the only writer
        return self

    def _acquire(self) -> None:
        fd = _open_locked(self.path, fcntl.LOCK_EX)
        if fd is not None:
            self._fd, self.exclusive = fd, True
            _write(fd, _me("preparing" if self.shared else "run").line(), replace=True)
            return
        if not self.shared:
            raise self._busy()
        deadline = time.monotonic() + JOIN_WAIT
        while True:  # a part joins other parts; it waits while one of them prepares the folder
            fd = _open_locked(self.path, fcntl.LOCK_SH)
            if fd is not None:
                self._fd = fd
                _write(fd, _me("part").line(), replace=False)
                return
            holders = read_holders(self.path)
            if any(h.role == "run" for h in holders) or (not holders and time.monotonic() > deadline):
                raise self._busy()
            time.sleep(0.05)

    def _busy(self) -> OutputError:
        holders = read_holders(self.path)
        return OutputError(
            f"--out {self.path.parent} is in use by {_describe(holders)}: two runs writing one folder "
            "would mix their files. Wait for it to finish, or choose another --out "
            "(only --shard I/N parts of one run may share a folder)"
        )

    def share(self) -> None:
        """A part that prepared the folder alone lets other parts join."""
        if self._fd is None or not self.exclusive or not self.shared:
            return
        _write(self._fd, _me("part").line(), replace=True)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # a whole run took the folder in the instant between
            raise self._busy() from None
        self.exclusive = False

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if not self.exclusive:  # the last part out removes the file
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.path.unlink(missing_ok=True)
        except OSError:
            pass  # others still hold it
        finally:
            os.close(fd)

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


class ShardClaim:
    """One shard claimed by the process writing it (``--shard`` parts share a folder)."""

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


def claim_path(out: Path, shard_name: str) -> Path:
    return Path(out) / "shards" / f".{shard_name}.claim"


def claim_shard(out: Path, shard_name: str) -> ShardClaim | str:
    """The claim of one shard, or a description of the process that holds it."""
    path = claim_path(out, shard_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = _open_locked(path, fcntl.LOCK_EX)
    except OSError as exc:
        if exc.errno not in _UNSUPPORTED:
            raise OutputError(f"cannot claim {path}: {exc.strerror or exc}") from exc
        return ShardClaim(path, None)
    if fd is None:
        return _describe(read_holders(path))
    _write(fd, _me("part").line(), replace=True)
    return ShardClaim(path, fd)
