"""Mantel-Haenszel and Peto outcomes in ``metapool run``: the bias and sensitivity analyses metafor
runs on ``rma.mh``/``rma.peto`` run and count; the others are skipped with a reason in words."""

from __future__ import annotations

import json
import warnings

import numpy as np

import pytest

from metapool.analysis import run_analysis
from metapool.bias import regtest
from metapool.datasets import load_dataset
from metapool.influence import leave_one_out
from metapool.models.mh_peto import rma_mh, rma_peto
from metapool.report.render import write_outputs
from metapool.spec import parse_spec

BCG = load_dataset("bcg")
TABLES = {r: np.array(BCG.columns[c], dtype=float) for r, c in zip(("ai", "bi", "ci", "di"), ("tpos", "tneg", "cpos", "cneg"))}


def _spec(method: str, extra: str = "") -> str:
    return (f'title = "BCG"\ndata = "bcg.csv"\nstudy = ["author", "year"]\n[[outcome]]\nname = "TB"\nkind = "binary"\n'
            f'events1 = "tpos"\ntotal1 = "n1"\nevents2 = "cpos"\ntotal2 = "n2"\nmethod = "{method}"\n{extra}')


@pytest.fixture(scope="module", params=["MH", "PETO"])
def outcome(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mh")
    c = BCG.columns
    rows = [f"{a},{y},{ai},{int(ai) + int(bi)},{ci},{int(ci) + int(di)},{al}" for a, y, ai, bi, ci, di, al
            in zip(c["author"], c["year"], c["tpos"], c["tneg"], c["cpos"], c["cneg"], c["alloc"])]
    (folder / "bcg.csv").write_text("author,year,tpos,n1,cpos,n2,alloc\n" + "\n".join(rows) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = run_analysis(parse_spec(_spec(request.param, 'subgroup = "alloc"\n'), "a.toml", folder))
        write_outputs(analysis, folder / "out")
    return request.param, analysis, folder / "out"


def test_bias_and_leave_one_out_run_on_the_outcome(outcome):
    method, analysis, _ = outcome
    o = analysis.outcomes[0]
    assert o.error is None and o.model.method == method
    assert {"egger", "begg", "lfk", "fsn", "peters"} <= set(o.bias.results)
    fit = (rma_mh("OR", **TABLES) if method == "MH" else rma_peto(**TABLES))
    assert o.bias.results["egger"].statistic == pytest.approx(regtest(fit).statistic, rel=1e-12)
    assert list(o.leave_one_out.estimate) == pytest.approx(list(leave_one_out(fit).estimate), rel=1e-12)


def test_what_does_not_apply_is_said_in_words(outcome):
    _, analysis, out = outcome
    o = analysis.outcomes[0]
    reasons = {**o.skipped, **o.bias.undefined}
    assert "influence diagnostics" in reasons["influence"].lower()
    assert "metafor has no version for Mantel-Haenszel or Peto fits" in reasons["trimfill"]
    assert "tau² estimator" in reasons["subgroups"]
    html = (out / "report.html").read_text()
    assert "parameter of" not in html and "Got '" not in html
    assert "common-effect model: " in html and "tau^2 estimator" not in html  # the leave-one-out table's note
    results = json.loads((out / "results.json").read_text())["outcomes"][0]
    assert results["bias"]["egger"]["p"] == pytest.approx(o.bias.results["egger"].pvalue)
    assert len(results["leave_one_out"]["rows"]) == 13


def test_peters_test_of_an_mh_fit_uses_its_own_tables_double_zero_ones_left_out():
    """escalc's table keeps double-zero tables, the fit's study-level estimates do not: Peters' test was 'undefined'."""
    import warnings

    import numpy as np

    from metapool.bias import bias_report, peters
    from metapool.bias.mh_peto import study_level_fit
    from metapool.models.methods import fit

    d = {"ai": [4, 6, 0, 62, 3, 5, 8, 2, 9, 1, 0], "n1i": [123, 306, 231, 13598, 50, 60, 70, 40, 90, 30, 25],
         "ci": [11, 29, 0, 248, 6, 9, 12, 5, 15, 4, 0], "n2i": [139, 303, 220, 12867, 52, 61, 72, 41, 88, 33, 26]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = fit("MH", measure="OR", **d)
        report = bias_report(f.model, table=f.effects)
    keep = np.array([True, True, False, True, True, True, True, True, True, True, False])
    ai, ci = np.array(d["ai"])[keep], np.array(d["ci"])[keep]
    events, nonevents = ai + ci, (np.array(d["n1i"]) + np.array(d["n2i"]))[keep] - ai - ci
    want = peters(study_level_fit(f.model), events, nonevents)
    assert "peters" not in report.undefined
    assert report.results["peters"].pvalue == want.pvalue == peters(f.model).pvalue
