"""Permutation tests against metafor's permutest (fixture from generate_permutest.R).

Exact tests (all sign flips or all distinct row permutations) must give metafor's
p-values exactly; random permutations agree within Monte Carlo error (R's and
numpy's generators differ).
"""

import json
from pathlib import Path

import numpy as np
import pytest

import metapool as mp
from metapool.moderators.permutation import permutest

CASES = json.loads(Path(__file__).with_name("permutest_reference.json").read_text())["cases"]


def fit(case):
    mods = None if case["mods"] is None else np.array(case["mods"], dtype=float)
    return mp.rma(yi=case["yi"], vi=case["vi"], mods=mods, method=case["method"], test=case["test"])


@pytest.mark.parametrize("case", [c for c in CASES if "approx" not in c["id"]], ids=lambda c: c["id"])
def test_exact_permutation_tests_equal_metafor(case):
    perm = permutest(fit(case))
    assert perm.exact and perm.iterations == case["iter"] and perm.failed == 0
    # Where metafor's Fisher scoring fails on some permutations it leaves them out;
    # metapool fits them all, so the p-values may differ by that share at most.
    tol = 1e-12 + case["failed"] / case["iter"]
    assert perm.pvalues == pytest.approx(np.atleast_1d(case["pval"]), abs=tol)
    assert perm.qm_pvalue == pytest.approx(case["QMp"], abs=tol)


def test_random_permutations_within_monte_carlo_error():
    case = next(c for c in CASES if "approx" in c["id"])
    perm = permutest(fit(case), iter=5000, seed=7)
    assert not perm.exact and perm.seed == 7
    se = np.sqrt(0.5 * 0.5 / 5000) * 2  # two independent Monte Carlo runs
    assert perm.qm_pvalue == pytest.approx(case["QMp"], abs=4 * se)
    assert perm.pvalues == pytest.approx(np.array(case["pval"]), abs=4 * se)


def test_seeded_runs_repeat_and_progress_is_reported():
    case = next(c for c in CASES if "approx" in c["id"])
    res = fit(case)
    seen = []
    a = permutest(res, iter=300, seed=3, progress=lambda done, total: seen.append((done, total)))
    b = permutest(res, iter=300, seed=3)
    assert a.qm_pvalue == b.qm_pvalue and seen[-1] == (300, 300)
