"""Refactors change no output byte: fixed runs of every config, a stress suite, a padded run,
extraction, combining and every writer compared file by file with a recorded sha256."""

from __future__ import annotations

import json

import pytest

from golden import RECORD, runs, stack


def test_fixed_runs_are_byte_identical_to_the_record(tmp_path):
    record = json.loads(RECORD.read_text())
    if record["stack"] != stack():
        pytest.skip(f"recorded on {record['stack']}, running on {stack()}: encoder bytes may differ")
    got = runs(tmp_path)
    want = record["files"]
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    changed = sorted(k for k in set(want) & set(got) if want[k] != got[k])
    assert not (missing or extra or changed), (
        f"{len(changed)} changed, {len(missing)} missing, {len(extra)} new files; "
        f"changed: {changed[:10]} missing: {missing[:10]} new: {extra[:10]}"
    )
