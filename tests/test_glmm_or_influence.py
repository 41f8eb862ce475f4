"""Sensitivity analyses of GLMM fits of 2x2 tables (rma_glmm("OR"), UM.FS; metapool's extension, issue 4).

Leave-one-out, cumulative, influence diagnostics, Baujat data and GOSH of OR
GLMM fits: every refit against metafor's ``rma.glmm(measure="OR",
model="UM.FS")`` fitted by hand on each leave-one-out subset
(``tests/reference/generate_glmm_or_influence.R``), and each diagnostic
against its definition computed here from independent ``rma_glmm("OR")``
refits on the reduced tables and an independent numerical integral of each
study's two-group marginal likelihood.
"""

from __future__ import annotations

import gzip
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, special, stats

import metapool as mp
from metapool.cli.main import main
from metapool.exceptions import MetapoolError
from metapool.influence import GoshResult, baujat, cumulative, gosh, influence, leave_one_out
from metapool.glmm.information import information_share

FIXTURE = Path(__file__).parent / "reference" / "glmm_or_influence_reference.json.gz"
#: metafor's refits (lme4 at tight tolerances) against metapool's exact optima.
TOL_METAFOR = 1e-4
CELLS = ("ai", "bi", "ci", "di")

SMALL = dict(ai=np.array([5, 8, 12, 3, 9, 20]), n1i=np.array([40, 50, 60, 30, 45, 70]),
             ci=np.array([9, 12, 20, 8, 15, 14]), n2i=np.array([40, 52, 58, 33, 47, 72]))
HET = dict(ai=np.array([2, 14, 6, 3, 28, 10, 5, 17]), n1i=np.array([60, 45, 80, 70, 50, 90, 65, 40]),
           ci=np.array([9, 10, 20, 4, 15, 30, 25, 6]), n2i=np.array([55, 50, 75, 72, 52, 88, 60, 45]))


def fit(**cells):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mp.rma_glmm("OR", **cells)


def without(cells: dict, i: int) -> dict:
    return {name: np.delete(np.asarray(v), i) for name, v in cells.items()}


def subset(cells: dict, keep) -> dict:
    return {name: np.asarray(v)[keep] for name, v in cells.items()}


def refits(cells: dict, k: int):
    """rma_glmm("OR") without each study, independently of metapool.influence."""
    return [fit(**without(cells, i)) for i in range(k)]


def exact_information(cells: dict, mu: float, tau2: float, nodes: int = 160, step: float = 1e-3) -> np.ndarray:
    """Each study's information for mu with its intercept profiled out, from the exact marginal likelihood.

    ``L_i(mu, alpha) = log int Bin(a | n1, ilogit(alpha + mu + b/2)) Bin(c | n2, ilogit(alpha - b/2)) dN(b; 0, tau2)``
    by (non-adaptive) Gauss-Hermite quadrature with many nodes; alpha maximises ``L_i`` at mu (scipy);
    the information is ``-(L_mm - L_ma^2 / L_aa)`` by central differences: an independent computation.
    """
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / math.sqrt(2 * math.pi)
    b = math.sqrt(tau2) * z
    out = []
    for a, n1, c, n2 in zip(cells["ai"], cells["n1i"], cells["ci"], cells["n2i"]):
        def loglik(m, al, a=a, n1=n1, c=c, n2=n2):
            logf = (stats.binom.logpmf(a, n1, special.expit(al + m + b / 2))
                    + stats.binom.logpmf(c, n2, special.expit(al - b / 2)))
            return special.logsumexp(logf, b=w)

        al = optimize.minimize_scalar(lambda x: -loglik(mu, x), bracket=(-3.0, 0.0), method="brent",
                                      options={"xtol": 1e-12}).x
        f = {(i, j): loglik(mu + i * step, al + j * step) for i in (-1, 0, 1) for j in (-1, 0, 1)}
        l_mm = (f[1, 0] - 2 * f[0, 0] + f[-1, 0]) / step**2
        l_aa = (f[0, 1] - 2 * f[0, 0] + f[0, -1]) / step**2
        l_ma = (f[1, 1] - f[1, -1] - f[-1, 1] + f[-1, -1]) / (4 * step**2)
        out.append(-(l_mm - l_ma**2 / l_aa))
    return np.array(out)


# -- against metafor's hand refits ------------------------------------------------------------
def _reference():
    with gzip.open(FIXTURE, "rt") as fh:
        return json.load(fh)


@pytest.mark.parametrize("ds", _reference()["datasets"], ids=lambda d: d["id"])
def test_case_deletion_refits_equal_metafor_rma_glmm_or_on_the_reduced_tables(ds):
    res = fit(**{c: ds[c] for c in CELLS})
    assert res.tau2 == pytest.approx(ds["full"]["tau2"], abs=TOL_METAFOR)
    assert res.estimate == pytest.approx(ds["full"]["estimate"], abs=TOL_METAFOR)
    # metafor's drop00: a double-zero table is not among the fit's studies, nor a leave-one-out row
    cells = np.array([ds[c] for c in CELLS])
    in_model = ~(((cells[0] == 0) & (cells[2] == 0)) | ((cells[1] == 0) & (cells[3] == 0)))
    assert res.k == in_model.sum()
    loo_ref = [f for f, keep in zip(ds["loo"], in_model) if keep]
    ref = {key: np.array([f[key] for f in loo_ref], dtype=float) for key in ("estimate", "se", "tau2", "QE_Wld")}
    loo, inf = leave_one_out(res), influence(res)
    np.testing.assert_allclose(loo.tau2, ref["tau2"], rtol=0, atol=TOL_METAFOR)
    np.testing.assert_allclose(inf.tau2_del, ref["tau2"], rtol=0, atol=TOL_METAFOR)
    np.testing.assert_allclose(loo.estimate, ref["estimate"], rtol=0, atol=TOL_METAFOR)
    np.testing.assert_allclose(loo.se, ref["se"], rtol=TOL_METAFOR)
    np.testing.assert_allclose(np.sqrt(inf.cov_r) * res.se, ref["se"], rtol=TOL_METAFOR)
    np.testing.assert_allclose(loo.q, ref["QE_Wld"], rtol=TOL_METAFOR)
    np.testing.assert_allclose(inf.qe_del, ref["QE_Wld"], rtol=TOL_METAFOR)
    y_ref = (ref["estimate"] - ds["full"]["estimate"]) ** 2 / ref["se"] ** 2
    np.testing.assert_allclose(baujat(res).y, y_ref, rtol=1e-3, atol=1e-6)


# -- leave-one-out and cumulative: batched refits equal direct fits ---------------------------
@pytest.mark.parametrize("cells", [SMALL, HET], ids=["small", "het"])
def test_leave_one_out_rows_equal_direct_rma_glmm_fits(cells):
    res = fit(**cells)
    loo = leave_one_out(res)
    assert loo.kind == "leave-one-out" and loo.slab == res.slab and loo.method == "GLMM"
    assert (loo.k == res.k - 1).all()
    for i, r in enumerate(refits(cells, res.k)):
        for f in ("estimate", "tau2", "q", "i2", "h2", "ci_lower", "ci_upper", "statistic"):
            assert getattr(loo, f)[i] == pytest.approx(getattr(r, f), rel=1e-6, abs=1e-9), (i, f)
        assert loo.se[i] == pytest.approx(r.se, rel=1e-6)
        assert loo.pvalue[i] == pytest.approx(r.pvalue, rel=1e-5, abs=1e-300)
        assert loo.q_pvalue[i] == pytest.approx(r.q_pvalue, rel=1e-6)
    json.dumps(loo.to_dict(), allow_nan=False)


def test_cumulative_in_a_given_order_with_the_t_test():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mp.rma_glmm("OR", test="t", level=90, **HET)
    year = np.array([2004, 1999, 2010, 2001, 2001, 2015, 1995, 2008])
    cum = cumulative(res, year)
    order = np.argsort(year, kind="stable")
    assert cum.slab == tuple(res.slab[i] for i in order) and list(cum.k) == list(range(1, res.k + 1))
    assert math.isnan(cum.q[0]) and math.isnan(cum.q_pvalue[0]) and cum.tau2[0] == 0.0
    for step in (0, 3, res.k - 1):
        keep = np.zeros(res.k, dtype=bool)
        keep[order[: step + 1]] = True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            direct = mp.rma_glmm("OR", test="t", level=90, **subset(HET, keep))
        for f in ("estimate", "se", "tau2", "ci_lower", "ci_upper", "pvalue", "i2"):
            expected = pytest.approx(getattr(direct, f), rel=1e-6, abs=1e-9, nan_ok=True)
            assert getattr(cum, f)[step] == expected, (step, f)
        assert cum.ddf[step] == step
    assert cum.estimate[-1] == pytest.approx(res.estimate, rel=1e-8)
    assert "tval" in str(cum.summary())


def test_a_separated_leave_one_out_subset_is_nan():
    cells = dict(ai=np.array([0, 0, 6]), n1i=np.array([30, 40, 50]), ci=np.array([4, 6, 3]), n2i=np.array([30, 40, 50]))
    res = fit(**cells)  # without study 3 no study has events in group 1: separation
    loo, inf = leave_one_out(res), influence(res)
    assert np.isnan(loo.estimate[2]) and np.isfinite(loo.estimate[:2]).all()
    assert np.isnan(inf.rstudent[2]) and np.isnan(inf.tau2_del[2]) and np.isfinite(inf.hat).all()
    assert math.isnan(baujat(res).y[2])
    json.dumps(inf.to_dict(), allow_nan=False)


# -- influence diagnostics: definitions against independent refits ----------------------------
@pytest.mark.parametrize("cells", [SMALL, HET], ids=["small", "het"])
def test_each_diagnostic_equals_its_definition_from_independent_refits(cells):
    res = fit(**cells)
    inf = influence(res)
    assert inf.slab == res.slab
    loo = refits(cells, res.k)
    mu_d, se_d, tau2_d = (np.array([getattr(r, f) for r in loo]) for f in ("estimate", "se", "tau2"))
    np.testing.assert_allclose(inf.tau2_del, tau2_d, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(inf.qe_del, [r.q for r in loo], rtol=1e-10)
    es = mp.escalc("OR", **cells)  # metafor's add = 1/2, to = "only0"
    yi, vi = np.asarray(es.yi), np.asarray(es.vi)
    np.testing.assert_allclose(inf.rstudent, (yi - mu_d) / np.sqrt(vi + tau2_d + se_d**2), rtol=1e-6)
    diff = res.estimate - mu_d
    np.testing.assert_allclose(inf.cook_d, diff**2 / res.se**2, rtol=1e-5)
    np.testing.assert_allclose(inf.cov_r, se_d**2 / res.se**2, rtol=1e-6)
    # hat values: each study's share of the information for mu with its intercept profiled out
    # (an independent integral; metapool uses the fit's 7-point AGQ)
    info = exact_information(cells, res.estimate, res.tau2)
    np.testing.assert_allclose(inf.hat, info / info.sum(), rtol=1e-4)
    np.testing.assert_allclose(information_share(res), inf.hat, rtol=1e-14)
    np.testing.assert_allclose(inf.weight, 100 * inf.hat, rtol=1e-14)
    assert inf.hat.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(inf.dffits, diff / np.sqrt(inf.hat * (tau2_d + vi)), rtol=1e-5)
    vb_del = np.array([1 / exact_information(cells, res.estimate, t).sum() for t in tau2_d])
    np.testing.assert_allclose(inf.dfbetas, diff / np.sqrt(vb_del), rtol=1e-4)
    k = res.k
    flags = ((np.abs(inf.dffits) > 3 * math.sqrt(1 / (k - 1))) | (stats.chi2.cdf(inf.cook_d, 1) > 0.5)
             | (inf.hat > 3 / k) | (np.abs(inf.dfbetas) > 1))
    np.testing.assert_array_equal(inf.influential, flags)


def test_hat_values_at_tau2_zero_are_the_logistic_schur_complements():
    """At tau2 = 0 a study's information on mu with its intercept profiled out is w1 w2 / (w1 + w2)."""
    cells = dict(ai=np.array([10, 20, 40, 5]), n1i=np.array([100, 200, 400, 50]),
                 ci=np.array([20, 40, 80, 10]), n2i=np.array([100, 200, 400, 50]))  # identical odds ratios
    res = fit(**cells)
    assert res.tau2 == 0.0
    w = []
    for a, n1, c, n2 in zip(*cells.values()):
        al = optimize.minimize_scalar(
            lambda x, a=a, n1=n1, c=c, n2=n2: -(stats.binom.logpmf(a, n1, special.expit(x + res.estimate))
                                                + stats.binom.logpmf(c, n2, special.expit(x))),
            bracket=(-3.0, 0.0), method="brent", options={"xtol": 1e-12}).x
        p1, p2 = special.expit(al + res.estimate), special.expit(al)
        w1, w2 = n1 * p1 * (1 - p1), n2 * p2 * (1 - p2)
        w.append(w1 * w2 / (w1 + w2))
    np.testing.assert_allclose(influence(res).hat, np.array(w) / np.sum(w), rtol=1e-6)


# -- Baujat ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cells", [SMALL, HET, dict(ai=[0, 3, 5, 9, 2], n1i=[30, 40, 25, 60, 20],
                                                    ci=[2, 8, 5, 12, 0], n2i=[31, 42, 22, 58, 19])])
def test_baujat_x_sums_to_the_wald_q_and_y_follows_metafors_definition(cells):
    res = fit(**cells)
    b = baujat(res)
    assert b.slab == res.slab and (b.x >= 0).all()
    assert b.x.sum() == pytest.approx(res.q, rel=1e-12)
    loo = refits({n: np.asarray(v) for n, v in cells.items()}, res.k)
    y = np.array([(r.estimate - res.estimate) ** 2 / r.se**2 for r in loo])
    np.testing.assert_allclose(b.y, y, rtol=1e-5)
    json.dumps(b.to_dict(), allow_nan=False)


# -- GOSH ------------------------------------------------------------------------------------
def test_gosh_exhaustive_rows_equal_direct_fits():
    res = fit(**SMALL)
    g = gosh(res)
    assert isinstance(g, GoshResult) and g.exhaustive and g.method == "GLMM"
    assert g.n == 2**6 - 1 and len({tuple(r) for r in g.incl}) == g.n and not np.isnan(g.estimate).any()
    full = int(np.flatnonzero(g.k == res.k)[0])
    for f in ("estimate", "tau2", "q", "i2", "h2"):
        assert getattr(g, f)[full] == pytest.approx(getattr(res, f), rel=1e-8, abs=1e-10), f
    rng = np.random.default_rng(11)
    for row in [*rng.choice(g.n, 6, replace=False), int(np.flatnonzero(g.k == 1)[0]), int(np.flatnonzero(g.k == 2)[0])]:
        direct = fit(**subset(SMALL, g.incl[row]))
        for f in ("estimate", "tau2", "i2", "h2"):
            assert getattr(g, f)[row] == pytest.approx(getattr(direct, f), rel=1e-7, abs=1e-10), (row, f)
        if direct.k > 1:
            assert g.q[row] == pytest.approx(direct.q, rel=1e-10)
        else:
            assert math.isnan(g.q[row]) and math.isnan(direct.q)


def test_gosh_sampling_is_seeded_and_chunking_does_not_change_the_rows():
    res = fit(**HET)
    a, b = gosh(res, 60, seed=3), gosh(res, 60, seed=3, workers=1, chunk=7)
    assert not a.exhaustive and a.n == 60
    np.testing.assert_array_equal(a.incl, b.incl)
    np.testing.assert_allclose(a.estimate, b.estimate, rtol=1e-8)
    np.testing.assert_allclose(a.tau2, b.tau2, rtol=1e-6, atol=1e-10)


def test_gosh_separated_subsets_are_nan_counted_and_reported():
    cells = dict(ai=np.array([0, 0, 4, 7]), n1i=np.array([20, 30, 40, 50]),
                 ci=np.array([3, 5, 6, 9]), n2i=np.array([20, 30, 40, 50]))
    res = fit(**cells)
    g = gosh(res)
    separated = ~(g.incl[:, 2] | g.incl[:, 3])  # subsets of the studies without events in group 1
    assert separated.sum() == 3
    assert np.isnan(g.estimate[separated]).all() and not np.isnan(g.estimate[~separated]).any()
    assert any("3 subsets are separated" in n for n in g.notes)
    assert g.to_dict()["failed"] == 3


def test_unconverged_subset_fits_are_nan_as_the_direct_fit_reports_them(monkeypatch):
    from metapool.glmm import tables as glmm_fs

    real = glmm_fs.fit_fs

    def one_step(arms, n_agq=7, *, start=None, theta=None, maxiter=200, tol=1e-9):
        return real(arms, n_agq, start=start, theta=theta, maxiter=maxiter if theta is not None else 1, tol=tol)

    res = fit(**SMALL)
    monkeypatch.setattr(glmm_fs, "fit_fs", one_step)
    direct = refits(SMALL, res.k)
    loo, g = leave_one_out(res), gosh(res)
    unconverged = np.array([not r.converged for r in direct])
    assert unconverged.sum() >= 3
    np.testing.assert_array_equal(np.isnan(loo.estimate), unconverged)
    np.testing.assert_array_equal(np.isnan(loo.tau2), unconverged)
    assert np.isfinite(g.estimate[g.k == 1]).all()  # one study: the common-effect fit, no random effect
    failed = int(np.isnan(g.estimate).sum())
    assert failed > 0 and any(f"{failed} subset fits did not converge (Newton's method)" in n for n in g.notes)


# -- errors, CLI -----------------------------------------------------------------------------
def test_one_study_is_a_clear_error():
    res = fit(ai=[4], n1i=[20], ci=[8], n2i=[21])
    for analysis in (influence, baujat, gosh, leave_one_out):
        with pytest.raises(MetapoolError, match="at least 2"):
            analysis(res)


def test_cli_two_group_glmm_sensitivity(tmp_path, capsys):
    path = tmp_path / "t.csv"
    rows = zip("ABCDEFGH", HET["ai"], HET["n1i"], HET["ci"], HET["n2i"])
    path.write_text("study,a,n1,c,n2\n" + "".join(f"{s},{a},{n1},{c},{n2}\n" for s, a, n1, c, n2 in rows))
    args = ["pool", str(path), "--events1", "a", "--total1", "n1", "--events2", "c", "--total2", "n2",
            "--method", "GLMM", "--sensitivity"]
    assert main(args + ["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    res = fit(**HET)
    sens = out["sensitivity"]
    assert [r["study"] for r in sens["influence"]] == list("ABCDEFGH")
    assert sens["influence"][2]["cook_d"] == pytest.approx(influence(res).cook_d[2], rel=1e-10)
    assert sens["leave_one_out"][5]["estimate"] == pytest.approx(leave_one_out(res).estimate[5], rel=1e-10)
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "Leave-one-out analysis" in text and "Influence diagnostics" in text
