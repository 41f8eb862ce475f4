"""Bias and sensitivity tools on Mantel-Haenszel and Peto fits against metafor 3.8-1
(fixture from generate_mh_tools.R).

metafor runs ``regtest``, ``ranktest``, ``fsn`` (on the fit's yi, vi) and
``leave1out``, ``cumul`` and ``gosh`` on ``rma.mh`` / ``rma.peto``; every value is compared at 1e-8
(relative). ``trimfill`` and ``influence`` have no method for these fits in
metafor: metapool refuses them with the reason in words.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from metapool.bias import bias_report, fsn, ranktest, regtest, trimfill
from metapool.exceptions import MetapoolError
from metapool.influence import cumulative, gosh, influence, leave_one_out
from metapool.models.mh_peto import rma_mh, rma_peto

from .fixture import arr, close, load


def reference() -> dict:
    return load("mh_tools_reference.json.gz")


CASES = reference()["cases"]
IDS = [f"{c['method']}-{c['measure']}-{c['id']}" for c in CASES]


def _fit(case):
    tables = {r: arr(v) for r, v in case["tables"].items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if case["method"] == "PETO":
            return rma_peto(**tables)
        return rma_mh(case["measure"], **tables)


SERIES = (("estimate", "estimate"), ("se", "se"), ("statistic", "z"), ("pvalue", "p"), ("ci_lower", "ci_lower"),
          ("ci_upper", "ci_upper"), ("q", "q"), ("q_pvalue", "q_p"), ("i2", "i2"), ("h2", "h2"))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_leave_one_out(case):
    res = _fit(case)
    loo, ref = leave_one_out(res), case["leave1out"]
    for ours, theirs in SERIES:
        close(getattr(loo, ours), ref[theirs], ours)
    assert loo.slab == res.slab
    assert np.all(loo.tau2 == 0)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cumulative(case):
    """metafor's cumul.rma.mh / cumul.rma.peto, in the data order and by decreasing events (ties in data order)."""
    res = _fit(case)
    events = arr(case["tables"]["ai"]) + arr(case["tables"]["ci"])
    for series, ref in ((cumulative(res), case["cumul"]),
                        (cumulative(res, events, decreasing=True), case["cumul_events_decreasing"])):
        for ours, theirs in SERIES:
            close(getattr(series, ours), ref[theirs], ours)
        assert np.all(series.tau2 == 0)


@pytest.mark.parametrize("case", [c for c in CASES if "gosh" in c], ids=[i for c, i in zip(CASES, IDS) if "gosh" in c])
def test_gosh(case):
    """metafor's gosh of rma.mh / rma.peto: every subset refitted by the model's own method, in metafor's order."""
    res, ref = _fit(case), case["gosh"]
    g = gosh(res)
    assert g.exhaustive and g.n == 2**res.k - 1
    np.testing.assert_array_equal(g.k, ref["k"])
    for name in ("q", "i2", "h2", "tau2", "estimate"):
        close(getattr(g, name), ref[name], name)


@pytest.mark.parametrize("case", [c for c in CASES if "regtest" in c], ids=[i for c, i in zip(CASES, IDS) if "regtest" in c])
def test_regression_rank_and_failsafe_tests(case):
    res = _fit(case)
    for model, key in (("rma", "regtest"), ("lm", "regtest_lm")):
        test, ref = regtest(res, model=model), case[key]
        close(test.statistic, ref["z"], f"{model} z")
        close(test.pvalue, ref["p"], f"{model} p")
        close(np.nan if test.ddf is None else test.ddf, ref["ddf"], f"{model} ddf")
        close([test.limit, test.ci_lower, test.ci_upper], [ref["limit"], ref["ci_lower"], ref["ci_upper"]],
              f"{model} limit estimate")
    rank = ranktest(res)
    close([rank.tau, rank.pvalue], [case["ranktest"]["tau"], case["ranktest"]["p"]], "ranktest")
    n = fsn(res)
    close([n.fsnum, n.pvalue], [case["fsn"]["fsnum"], case["fsn"]["p"]], "fsn")


def test_trimfill_and_influence_are_refused_in_words():
    refused = reference()["not_available"]
    assert set(refused) == {"trimfill_mh", "trimfill_peto", "influence_mh", "influence_peto"}
    assert all("no applicable method" in (message or "") for message in refused.values())  # metafor refuses them too
    case = next(c for c in CASES if c["id"] == "bcg" and c["method"] == "MH" and c["measure"] == "OR")
    for res in (_fit(case), _fit(next(c for c in CASES if c["id"] == "bcg" and c["method"] == "PETO"))):
        for function in (trimfill, influence):
            with pytest.raises(MetapoolError, match="Mantel-Haenszel or Peto fits") as info:
                function(res)
            assert "parameter" not in str(info.value)


def test_bias_report_of_an_mh_fit_runs_what_metafor_runs():
    case = next(c for c in CASES if c["id"] == "random_k20_zeros" and c["measure"] == "OR")
    report = bias_report(_fit(case))
    assert set(report.results) == {"egger", "begg", "lfk", "fsn"}
    assert set(report.undefined) == {"trimfill"}
    close(report.results["egger"].statistic, case["regtest"]["z"], "egger")
