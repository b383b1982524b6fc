"""scripts/make_docs.py, which the README names for regenerating its pictures, runs."""

from __future__ import annotations

import importlib.util

from conftest import REPO


def test_make_docs_pose_draws_a_sheet(monkeypatch):
    """`python scripts/make_docs.py --pose` (and plain make_docs.py, which calls it) died with
    TypeError: contact_sheet() got an unexpected keyword argument 'skeletons'."""
    spec = importlib.util.spec_from_file_location("make_docs", REPO / "scripts" / "make_docs.py")
    make_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_docs)
    written = {}
    monkeypatch.setattr(make_docs, "_write", lambda path, rgb, quality=88: written.__setitem__(path.name, rgb))
    make_docs.make_pose_picture()
    sheet = written["pose.jpg"]
    assert sheet.ndim == 3 and sheet.shape[1] >= 2 * 640
