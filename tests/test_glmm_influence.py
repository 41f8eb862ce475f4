"""Influence diagnostics, Baujat data and GOSH of GLMM fits (metapool's extension; issue 4).

Each diagnostic is checked against its definition computed here from
independent refits (``rma_glmm`` on the reduced data) and an independent
numerical integral of each study's marginal likelihood; the refits themselves
against metafor's ``rma.glmm`` fitted by hand on every leave-one-out subset
(``tests/reference/generate_glmm_influence.R``).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import special, stats

import metapool as mp
from metapool.cli.main import main
from metapool.exceptions import MetapoolError
from metapool.influence import (BaujatData, GoshResult, InfluenceDiagnostics, baujat, cumulative, gosh, influence,
                                leave_one_out)
from metapool.influence.glmm import GLMM_SUBSETS

FIXTURE = Path(__file__).parent / "reference" / "glmm_influence_reference.json.gz"
#: metafor's refits (lme4 at tight tolerances) against metapool's exact optima.
TOL_METAFOR = 1e-4

PRITZ_X = np.array([16, 10, 4, 43, 10, 25, 13, 12, 22, 4, 5, 18, 58, 6])
PRITZ_N = np.array([17, 12, 8, 58, 10, 42, 14, 12, 41, 5, 6, 23, 68, 10])
HET_X = np.array([2, 14, 6, 3, 28, 10, 5, 17, 1, 9])
HET_N = np.array([20, 35, 40, 30, 50, 60, 45, 42, 25, 55])


def fit(measure="PLO", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mp.rma_glmm(measure, **kw)


def _size(measure, size):
    return {"ni": size} if measure == "PLO" else {"ti": size}


def refits(res, xi, size):
    """rma_glmm without each study, independently of metapool.influence."""
    return [fit(res.measure, xi=np.delete(xi, i), **_size(res.measure, np.delete(size, i))) for i in range(res.k)]


def exact_information(measure, xi, size, mu, tau2, step=1e-3, nodes=120):
    """-(d^2/dmu^2) log of each study's marginal likelihood, by (non-adaptive) Gauss-Hermite
    quadrature with many nodes and a central second difference: an independent computation."""
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / math.sqrt(2 * math.pi)
    xi, size = np.asarray(xi, float)[:, None], np.asarray(size, float)[:, None]

    def loglik(m):
        eta = m + math.sqrt(tau2) * z[None, :]
        if measure == "PLO":
            logf = stats.binom.logpmf(xi, size, special.expit(eta))
        else:
            logf = stats.poisson.logpmf(xi, size * np.exp(eta))
        return special.logsumexp(logf, b=w[None, :], axis=1)

    return -(loglik(mu + step) - 2 * loglik(mu) + loglik(mu - step)) / step**2


# -- definitions against independent refits -----------------------------------------------
@pytest.mark.parametrize("measure, xi, size", [
    ("PLO", PRITZ_X, PRITZ_N),
    ("PLO", HET_X, HET_N),
    ("IRLN", np.array([24, 2, 3, 2, 24, 9, 4]), np.array([871.0, 539, 356, 127, 1234, 601, 136])),
])
def test_each_diagnostic_equals_its_definition_from_independent_refits(measure, xi, size):
    res = fit(measure, xi=xi, **_size(measure, size))
    inf = influence(res)
    assert isinstance(inf, InfluenceDiagnostics) and inf.slab == res.slab
    loo = refits(res, xi, size)
    mu_d = np.array([r.estimate for r in loo])
    se_d = np.array([r.se for r in loo])
    tau2_d = np.array([r.tau2 for r in loo])
    # the refits run as one batch: equal to direct fits within Newton's tolerance (the rounding of the
    # conditional modes moves estimates and tau2 by < 1e-9; the finite-difference Hessian amplifies it
    # in the standard errors, measured up to 2.3e-7 relative: cov_r, Baujat y)
    np.testing.assert_allclose(inf.tau2_del, tau2_d, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(inf.qe_del, [r.q for r in loo], rtol=1e-10)
    es = mp.escalc(measure, xi=xi, **_size(measure, size))
    yi, vi = np.asarray(es.yi), np.asarray(es.vi)
    np.testing.assert_allclose(inf.rstudent, (yi - mu_d) / np.sqrt(vi + tau2_d + se_d**2), rtol=1e-6)
    diff = res.estimate - mu_d
    np.testing.assert_allclose(inf.cook_d, diff**2 / res.se**2, rtol=1e-7)
    np.testing.assert_allclose(inf.cov_r, se_d**2 / res.se**2, rtol=1e-6)
    # hat values: each study's share of the Fisher information for mu (an independent integral;
    # metapool uses the fit's 7-point AGQ, within 1e-5 of the exact integral)
    info = exact_information(measure, xi, size, res.estimate, res.tau2)
    np.testing.assert_allclose(inf.hat, info / info.sum(), rtol=1e-4)
    np.testing.assert_allclose(inf.weight, 100 * inf.hat, rtol=1e-14)
    assert inf.hat.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(inf.dffits, diff / np.sqrt(inf.hat * (tau2_d + vi)), rtol=1e-7)
    vb_del = np.array([1 / exact_information(measure, xi, size, res.estimate, t).sum() for t in tau2_d])
    np.testing.assert_allclose(inf.dfbetas, diff / np.sqrt(vb_del), rtol=1e-4)
    k = res.k
    flags = ((np.abs(inf.dffits) > 3 * math.sqrt(1 / (k - 1))) | (stats.chi2.cdf(inf.cook_d, 1) > 0.5)
             | (inf.hat > 3 / k) | (np.abs(inf.dfbetas) > 1))
    np.testing.assert_array_equal(inf.influential, flags)


def test_hat_values_at_tau2_zero_are_the_logistic_glm_shares():
    xi, ni = np.array([5, 10, 20, 40]), np.array([25, 50, 100, 200])  # identical proportions: tau2 = 0
    res = fit(xi=xi, ni=ni)
    assert res.tau2 == 0.0
    np.testing.assert_allclose(influence(res).hat, ni / ni.sum(), rtol=1e-6)  # n p (1 - p), equal p


# -- against metafor's hand refits --------------------------------------------------------
def _reference():
    with gzip.open(FIXTURE, "rt") as fh:
        return json.load(fh)


@pytest.mark.parametrize("ds", _reference()["datasets"], ids=lambda d: d["id"])
def test_case_deletion_refits_equal_metafor_rma_glmm_on_the_reduced_data(ds):
    size = ds.get("ni", ds.get("ti"))
    res = fit(ds["measure"], xi=ds["xi"], **_size(ds["measure"], size))
    assert res.tau2 == pytest.approx(ds["full"]["tau2"], abs=TOL_METAFOR)
    inf, loo = influence(res), leave_one_out(res)
    ref = {key: np.array([np.nan if f is None else f[key] for f in ds["loo"]], dtype=float)
           for key in ("estimate", "se", "tau2", "QE_Wld")}
    assert not np.isnan(ref["tau2"]).any()
    np.testing.assert_allclose(inf.tau2_del, ref["tau2"], rtol=0, atol=TOL_METAFOR)
    np.testing.assert_allclose(inf.qe_del, ref["QE_Wld"], rtol=1e-7)
    np.testing.assert_allclose(loo.estimate, ref["estimate"], rtol=0, atol=TOL_METAFOR)
    np.testing.assert_allclose(loo.se, ref["se"], rtol=TOL_METAFOR)
    np.testing.assert_allclose(np.sqrt(inf.cov_r) * res.se, ref["se"], rtol=TOL_METAFOR)
    # Baujat y from metafor's refits: (mu(-i) - mu)^2 / se(-i)^2
    y_ref = (ref["estimate"] - ds["full"]["estimate"]) ** 2 / ref["se"] ** 2
    np.testing.assert_allclose(baujat(res).y, y_ref, rtol=1e-3, atol=1e-6)


# -- Baujat ------------------------------------------------------------------------------
@pytest.mark.parametrize("xi, ni", [(PRITZ_X, PRITZ_N), (HET_X, HET_N), ([0, 3, 5, 9, 2], [30, 40, 25, 60, 20])])
def test_baujat_x_sums_to_the_wald_q_and_y_follows_metafors_definition(xi, ni):
    res = fit(xi=xi, ni=ni)
    b = baujat(res)
    assert isinstance(b, BaujatData) and b.slab == res.slab
    assert b.x.sum() == pytest.approx(res.q, rel=1e-12)
    assert (b.x >= 0).all()
    loo = refits(res, np.asarray(xi), np.asarray(ni))
    y = np.array([(r.estimate - res.estimate) ** 2 / r.se**2 for r in loo])
    np.testing.assert_allclose(b.y, y, rtol=1e-5)  # batched refits: as the OR test
    json.dumps(b.to_dict(), allow_nan=False)


# -- GOSH --------------------------------------------------------------------------------
def test_gosh_exhaustive_equals_direct_fits():
    res = fit(xi=HET_X, ni=HET_N)
    g = gosh(res)
    assert isinstance(g, GoshResult) and g.exhaustive and g.method == "GLMM"
    assert g.n == 2**10 - 1 and len({tuple(r) for r in g.incl}) == g.n and not np.isnan(g.estimate).any()
    assert (np.diff(g.k) >= 0).all()
    full = int(np.flatnonzero(g.k == res.k)[0])
    for f in ("estimate", "tau2", "q", "i2", "h2"):
        assert getattr(g, f)[full] == pytest.approx(getattr(res, f), rel=1e-8, abs=1e-10), f
    rng = np.random.default_rng(7)
    for row in [*rng.choice(g.n, 6, replace=False), int(np.flatnonzero(g.k == 1)[0])]:
        keep = g.incl[row]
        direct = fit(xi=HET_X[keep], ni=HET_N[keep])
        for f in ("estimate", "tau2", "i2", "h2"):
            assert getattr(g, f)[row] == pytest.approx(getattr(direct, f), rel=1e-8, abs=1e-10), (row, f)
        if direct.k > 1:
            assert g.q[row] == pytest.approx(direct.q, rel=1e-10)
        else:
            assert math.isnan(g.q[row]) and math.isnan(direct.q)


def test_gosh_sampling_is_seeded_and_reproducible():
    res = fit(xi=HET_X, ni=HET_N)
    a, b = gosh(res, 200, seed=3), gosh(res, 200, seed=3, workers=1, chunk=37)
    assert not a.exhaustive and a.n == 200
    np.testing.assert_array_equal(a.incl, b.incl)
    np.testing.assert_allclose(a.estimate, b.estimate, rtol=1e-8)
    assert not np.array_equal(a.incl, gosh(res, 200, seed=4).incl)
    assert gosh(res, 2**10 - 1).exhaustive  # asking for all subsets fits all of them


def test_gosh_default_is_exhaustive_up_to_the_documented_limit(monkeypatch):
    import metapool.influence.glmm as influence_glmm

    res = fit(xi=HET_X, ni=HET_N)
    assert (1 << 13) - 1 <= GLMM_SUBSETS < (1 << 14) - 1  # exhaustive for k <= 13
    monkeypatch.setattr(influence_glmm, "GLMM_SUBSETS", 500)
    g = gosh(res, seed=1)
    assert not g.exhaustive and g.n == 500


def test_gosh_reports_progress():
    res = fit(xi=HET_X[:6], ni=HET_N[:6])
    seen = []
    gosh(res, chunk=10, workers=1, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (63, 63) and len(seen) == 7


def test_gosh_separated_subsets_are_nan_counted_and_reported():
    xi, ni = np.array([0, 0, 0, 4, 7]), np.array([20, 30, 25, 40, 50])
    res = fit(xi=xi, ni=ni)
    g = gosh(res)
    separated = ~(g.incl[:, 3] | g.incl[:, 4])  # subsets of the three zero-event studies only
    assert separated.sum() == 7
    assert np.isnan(g.estimate[separated]).all() and not np.isnan(g.estimate[~separated]).any()
    assert any("7 subsets" in n and "separation" in n for n in g.notes)
    assert g.to_dict()["failed"] == 7 and "separation" in str(g.summary())


def test_gosh_falls_back_to_rma_glmm_where_newton_fails(monkeypatch):
    import metapool.glmm.subsets as subsets
    from metapool.glmm.kernels import fit_glmm

    def newton_fails(*args, **kw):
        f = fit_glmm(*args, **kw)
        return dataclasses.replace(f, converged=np.zeros_like(f.converged))

    res = fit(xi=HET_X[:5], ni=HET_N[:5])
    ok = gosh(res)
    monkeypatch.setattr(subsets, "fit_glmm", newton_fails)
    slow = gosh(res)
    np.testing.assert_allclose(slow.estimate, ok.estimate, rtol=1e-6)
    np.testing.assert_allclose(slow.tau2, ok.tau2, atol=1e-6)


@pytest.mark.parametrize("analysis", [leave_one_out, cumulative])
def test_refits_whose_newton_fit_fails_are_direct_fits(monkeypatch, analysis):
    """Leave-one-out and cumulative refits run as one batch; a row Newton's method does not converge
    is refitted by rma_glmm (Nelder-Mead after Newton), as a direct fit of the subset."""
    import metapool.glmm.subsets as subsets
    from metapool.glmm.kernels import fit_glmm

    def newton_fails(*args, **kw):
        f = fit_glmm(*args, **kw)
        return dataclasses.replace(f, converged=np.zeros_like(f.converged))

    res = fit(xi=HET_X, ni=HET_N, test="t")
    batched = analysis(res)
    monkeypatch.setattr(subsets, "fit_glmm", newton_fails)
    direct = analysis(res)
    for f in ("estimate", "se", "ci_lower", "tau2", "q", "i2"):
        np.testing.assert_allclose(getattr(direct, f), getattr(batched, f), rtol=1e-6, atol=1e-9)
    if analysis is leave_one_out:
        r = fit(xi=HET_X[1:], ni=HET_N[1:], test="t")
        assert (direct.estimate[0], direct.se[0], direct.tau2[0], direct.q[0]) == (r.estimate, r.se, r.tau2, r.q)
    np.testing.assert_array_equal(direct.ddf, batched.ddf)


# -- edge cases --------------------------------------------------------------------------
def test_k2_refits_are_single_studies():
    res = fit(xi=[3, 12], ni=[30, 40])
    inf = influence(res)
    assert np.isnan(inf.qe_del).all() and (inf.tau2_del == 0).all()  # k = 1 refits: common-effect, no Q
    np.testing.assert_allclose(inf.cook_d, (res.estimate - np.log([12 / 28, 3 / 27])) ** 2 / res.se**2, rtol=1e-6)
    assert gosh(res).n == 3 and baujat(res).x.sum() == pytest.approx(res.q)


def test_a_separated_leave_one_out_subset_is_nan():
    xi, ni = np.array([0, 0, 0, 6]), np.array([20, 30, 25, 40])  # without study 4 nothing has events
    res = fit(xi=xi, ni=ni)
    inf = influence(res)
    assert np.isnan(inf.rstudent[3]) and np.isnan(inf.cook_d[3]) and np.isnan(inf.tau2_del[3])
    assert np.isfinite(inf.rstudent[:3]).all() and np.isfinite(inf.hat).all()
    json.dumps(inf.to_dict(), allow_nan=False)
    assert math.isnan(baujat(res).y[3])


@pytest.mark.parametrize("xi, ni, match", [([4], [20], "at least 2"), ([0, 0, 0], [10, 20, 30], "separated")])
def test_undefined_cases_are_clear_errors(xi, ni, match):
    res = fit(xi=xi, ni=ni)
    for analysis in (influence, baujat, gosh):
        with pytest.raises(MetapoolError, match=match):
            analysis(res)


# -- the profile-likelihood CI of tau2 in summaries and JSON ------------------------------
def test_summary_and_json_carry_the_profile_likelihood_ci():
    res = fit(xi=PRITZ_X, ni=PRITZ_N)
    ci = res.heterogeneity_ci()
    d = res.to_dict()["heterogeneity_ci"]
    assert d["method"] == "profile likelihood" and d["level"] == 0.95 and d["upper_capped"] is False
    for name in ("tau2", "tau", "i2", "h2"):
        assert (d[name]["estimate"], d[name]["ci_lower"], d[name]["ci_upper"]) == getattr(ci, name)
    text = str(res)
    assert "profile-likelihood CIs" in text and f"{ci.tau2[2]:.4f}" in text


@pytest.mark.parametrize("xi, ni", [([4], [20]), ([0, 0, 0], [10, 20, 30]), ([5, 10, 20, 40], [25, 50, 100, 200])])
def test_profile_ci_edge_cases_give_null_with_a_note_never_a_crash(xi, ni):
    res = fit(xi=xi, ni=ni)
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    str(res)
    if res.k == 1 or res.exact is not None:
        assert d["heterogeneity_ci"] is None and any("No confidence interval for tau^2" in n for n in d["notes"])
    else:  # tau2 at its boundary: the interval starts at 0
        assert d["heterogeneity_ci"]["tau2"]["ci_lower"] == 0.0 and d["heterogeneity_ci"]["tau2"]["ci_upper"] > 0


def test_a_failing_profile_search_is_a_note(monkeypatch):
    from metapool.glmm.result import GLMMResult

    def broken(self, level=None):
        raise ValueError("f(a) and f(b) must have different signs")

    res = fit(xi=PRITZ_X, ni=PRITZ_N)
    monkeypatch.setattr(GLMMResult, "heterogeneity_ci", broken)
    d = res.to_dict()
    assert d["heterogeneity_ci"] is None and any("could not be computed" in n for n in d["notes"])
    assert "could not be computed" in str(res)


# -- command line and analysis files ------------------------------------------------------
def test_cli_glmm_sensitivity_has_influence(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("study,x,n\n" + "\n".join(f"s{i},{x},{n}" for i, (x, n) in enumerate(zip(PRITZ_X, PRITZ_N))))
    assert main(["pool", str(path), "--events", "x", "--total", "n", "--method", "GLMM", "--sensitivity", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = out["sensitivity"]["influence"]
    assert len(rows) == 14 and rows[0]["study"] == "s0" and set(rows[0]) >= {"rstudent", "hat", "influential"}
    res = fit(xi=PRITZ_X, ni=PRITZ_N)
    assert rows[3]["cook_d"] == pytest.approx(influence(res).cook_d[3], rel=1e-10)
    assert out["heterogeneity_ci"]["tau2"]["ci_upper"] == pytest.approx(res.heterogeneity_ci().tau2[2])


def test_analysis_file_glmm_outcome_gets_sensitivity_bias_and_figures(tmp_path):
    from metapool.analysis import run_outcome
    from metapool.io.tables import read_table
    from metapool.spec import load_spec

    (tmp_path / "d.csv").write_text("study,x,n\n" + "\n".join(
        f"s{i},{x},{n}" for i, (x, n) in enumerate(zip(HET_X, HET_N))))
    (tmp_path / "a.toml").write_text(
        'title = "t"\ndata = "d.csv"\nstudy = "study"\n\n[defaults]\nmethod = "GLMM"\n\n'
        '[[outcome]]\nname = "Response"\nkind = "proportion"\nevents = "x"\ntotal = "n"\nsubgroup = "study"\n')
    spec = load_spec(tmp_path / "a.toml")
    out = run_outcome(spec, spec.outcomes[0], read_table(spec.data_path))
    assert out.influence is not None and out.leave_one_out is not None and out.bias is not None
    assert "rma" in out.skipped["subgroups"]
    from metapool.report.figures import outcome_figures

    kinds = [f.kind for f in outcome_figures(out, None)]  # the GLMM's figures: tests/test_plots_glmm.py
    assert kinds == ["forest", "funnel", "doi", "baujat", "leave_one_out"]
