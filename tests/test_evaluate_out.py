"""evaluate refuses an --out inside a predictions folder before scoring: the report files
(ap_vs_severity.png, metrics.csv) would land among the predictions, and the next evaluate of
that folder would refuse the PNG as a prediction of no image."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner
from test_evaluate_semantic import suite  # noqa: F401  (module fixture: a small semantic suite)

from synthgen.cli import main


@pytest.mark.parametrize("where", [".", "report"])
@pytest.mark.parametrize("option", ["--semantic", "--predictions"])
def test_out_inside_the_semantic_predictions_is_refused_up_front(suite, tmp_path, where, option):  # noqa: F811
    preds = tmp_path / "pred"
    shutil.copytree(suite / "semantic", preds)
    before = sorted(p.name for p in preds.iterdir())
    out = preds / where
    r = CliRunner().invoke(main, ["evaluate", str(suite), option, str(preds), "--out", str(out), "-q"])
    assert r.exit_code != 0 and "--out" in r.output and "inside" in r.output, r.output
    assert sorted(p.name for p in preds.iterdir()) == before  # nothing written there
    # beside the folder it works, and the folder scores again afterwards
    for _ in range(2):
        r = CliRunner().invoke(main, ["evaluate", str(suite), option, str(preds), "--out", str(tmp_path / "report"), "-q"])
        assert r.exit_code == 0, r.output
