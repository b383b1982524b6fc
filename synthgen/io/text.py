"""The one rule for reading a user's text sidecar (labels.json, keypoints.yaml, keypoints.json,
lines.json): UTF-8, with or without a byte order mark (Windows tools write one)."""

from __future__ import annotations

from pathlib import Path


def read_utf8(path: Path) -> str:
    """The text of ``path``, a leading UTF-8 BOM dropped. Raises OSError, or ValueError saying
    the bytes are not UTF-8 and where (callers name the file)."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                         f"save it as UTF-8, with or without a byte order mark") from None
