"""WebDataset tar shards, byte-reproducible.

A WebDataset shard is a plain tar whose members are ``<key>.<ext>``, grouped by key, in order.
It is written here with the standard library so every header field is fixed (mtime 0, uid/gid
0, no user names, sorted extensions): the same samples give the same bytes on any machine.
Members per sample: the image (``jpg`` or ``png``), ``ids.png`` (the uint16 instance-id map,
lossless, ids above 255 survive), ``json`` (COCO image entry, annotations and metadata) and,
with format ``semantic``, ``semantic.png`` (the class map, the same bytes as semantic/<name>.png).
Read it with the ``webdataset`` package (``pip install -e '.[webdataset]'`` in the synthgen folder).
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path


class TarShardWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        self.tar = tarfile.open(self.tmp, mode="w", format=tarfile.USTAR_FORMAT)

    def add(self, key: str, members: dict[str, bytes]) -> None:
        for ext in sorted(members):
            data = members[ext]
            info = tarfile.TarInfo(f"{key}.{ext}")
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            self.tar.addfile(info, io.BytesIO(data))

    def close(self) -> list:
        """Finish the tar, rename it into place; return [size, sha256]."""
        self.tar.close()
        digest = hashlib.sha256()
        with open(self.tmp, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        size = self.tmp.stat().st_size
        os.replace(self.tmp, self.path)
        return [size, digest.hexdigest()]

    def abort(self) -> None:
        self.tar.close()
        self.tmp.unlink(missing_ok=True)
