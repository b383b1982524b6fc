"""What a reader found wrong with a dataset: where (file, and image / annotation id) and what.

Readers are tolerant: they collect issues and go on, so ``validate`` can list them all; tools
that need a sound dataset call ``raise_first`` and stop at the first one, by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthgen.errors import AssetError


@dataclass(frozen=True)
class Issue:
    kind: str  # a problem kind of ``synthgen validate`` (format, duplicate_id, unknown_category, ...)
    where: str  # file, and the image / annotation id
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class DatasetError(AssetError):
    """A dataset that cannot be read as it is; ``issue`` says where and what."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(str(issue))
        self.issue = issue


def raise_first(issues: list[Issue]) -> None:
    if issues:
        raise DatasetError(issues[0])
