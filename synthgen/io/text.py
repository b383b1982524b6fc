"""The one rule for reading a user's text sidecar (labels.json, keypoints.yaml, keypoints.json,
lines.json): UTF-8, with or without a byte order mark (Windows tools write one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def read_utf8(path: Path) -> str:
    """The text of ``path``, a leading UTF-8 BOM dropped. Raises OSError, or ValueError saying
    the bytes are not UTF-8 and where (callers name the file)."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                         f"save it as UTF-8, with or without a byte order mark") from None


class DuplicateKey(ValueError):
    """A JSON object names one key twice (its ``args[0]``)."""


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads(..., object_pairs_hook=unique_keys)``: an object whose keys are all
    different, else DuplicateKey (json itself keeps the last of equal keys silently)."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise DuplicateKey(k)
        out[k] = v
    return out
