"""rma_glmm: corner cases lme4 cannot fit, result type, JSON, CLI, quadrature.

Agreement with metafor on 114 data sets is in tests/reference/test_glmm_reference.py.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from scipy import stats

import metapool as mp
from metapool.cli.main import main
from metapool.exceptions import ConvergenceWarning, DataValidationError, OptionError
from metapool.glmm.kernels import Counts, agq_deviance, fit_glmm, gauss_hermite

RMA_KEYS = {"k", "estimate", "se", "ci_lower", "ci_upper", "pvalue", "tau2", "tau", "i2", "h2", "q", "q_df",
            "q_pvalue", "pi_lower", "pi_upper", "measure", "method", "test", "excluded", "back"}
GLMM_KEYS = {"q_lrt", "q_lrt_pvalue", "n_quadrature", "optimizer", "converged", "model", "loglik", "marginal_loglik"}


def fit(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mp.rma_glmm(*args, **kw)


# -- where lme4 stops with "Cannot fit ML model" ----------------------------------------
def test_identical_proportions_fall_back_to_common_effect_logistic_model():
    xi, ni = np.array([5, 10, 20, 40]), np.array([25, 50, 100, 200])
    res = fit("PLO", xi=xi, ni=ni)
    assert res.model == "common-effect" and res.tau2 == 0.0 and res.converged
    assert any("common-effect" in n for n in res.notes)
    p = xi.sum() / ni.sum()
    assert res.estimate == pytest.approx(math.log(p / (1 - p)), abs=1e-8)
    assert res.se == pytest.approx(1 / math.sqrt(ni.sum() * p * (1 - p)), rel=1e-6)  # the logistic GLM's SE
    assert res.q == pytest.approx(0.0, abs=1e-10) and res.q_lrt == pytest.approx(0.0, abs=1e-10)
    # the log-likelihood is the binomial GLM's (binomial coefficients included), both ways at tau2 = 0
    assert res.marginal_loglik == pytest.approx(stats.binom.logpmf(xi, ni, p).sum(), rel=1e-10)
    assert res.loglik == pytest.approx(res.marginal_loglik, rel=1e-10)


@pytest.mark.parametrize("xi, what", [([0, 0, 0, 0, 0], "no events"), ([10, 20, 30, 40, 50], "only events")])
def test_separated_data_get_an_exact_clopper_pearson_interval(xi, what):
    ni = [10, 20, 30, 40, 50]
    with pytest.warns(ConvergenceWarning, match=what):
        res = mp.rma_glmm("PLO", xi=xi, ni=ni)
    assert res.model == "exact" and math.isnan(res.estimate) and math.isnan(res.tau2)
    x, n = sum(xi), sum(ni)
    ci = stats.binomtest(x, n).proportion_ci(method="exact")
    back = res.back()
    assert back.estimate == x / n
    assert (back.ci_lower, back.ci_upper) == pytest.approx((ci.low, ci.high), abs=1e-12)
    d = res.to_dict()
    assert d["estimate"] is None and d["tau2"] is None and d["back"]["ci_upper"] == pytest.approx(ci.high)
    json.dumps(d, allow_nan=False)
    assert "Clopper-Pearson" in str(res)


def test_all_zero_rates_get_an_exact_poisson_interval():
    res = fit("IRLN", xi=[0, 0, 0], ti=[100.0, 250.0, 50.0])
    assert res.model == "exact"
    assert res.back().ci_upper == pytest.approx(stats.chi2.ppf(0.975, 2) / 2 / 400.0, rel=1e-10)


def test_huge_n_and_extreme_heterogeneity_still_fit():
    big = fit("PLO", xi=[1234567, 2500000, 1800000, 3100000, 2222222], ni=[10**7] * 5)
    assert big.converged and big.se == pytest.approx(math.sqrt(big.tau2 / 5), rel=1e-4)
    wild = fit("PLO", xi=[0, 1, 50, 199, 200, 3, 180, 2], ni=[200] * 8)
    assert wild.converged and 30 < wild.tau2 < 35 and wild.optimizer.startswith("Newton")


def test_nelder_mead_is_used_and_named_when_newton_fails(monkeypatch):
    from metapool.glmm import model as glmm

    real = glmm.fit_glmm

    def failing(counts, n_agq=7, maxiter=200, tol=1e-9, start=None):
        """Newton stopped after one iteration (unconverged); the Nelder-Mead polish runs normally."""
        return real(counts, n_agq, maxiter=maxiter if start is not None else 1, tol=tol, start=start)

    monkeypatch.setattr(glmm, "fit_glmm", failing)
    xi, ni = [3, 10, 20, 7, 1], [30, 40, 50, 35, 20]
    res = fit("PLO", xi=xi, ni=ni)
    monkeypatch.undo()
    ref = fit("PLO", xi=xi, ni=ni)
    assert res.optimizer.startswith("Nelder-Mead") and res.converged
    assert res.estimate == pytest.approx(ref.estimate, abs=1e-5) and res.tau2 == pytest.approx(ref.tau2, abs=1e-5)


# -- the model itself ---------------------------------------------------------------------
def test_gauss_hermite_rule_matches_lme4_ghrule_7():
    z, w = gauss_hermite(7)
    assert z[-1] == pytest.approx(3.7504397177257438, rel=1e-14)
    assert w[3] == pytest.approx(0.45714285714285712858, rel=1e-14)
    assert w.sum() == pytest.approx(1.0, rel=1e-14)


def test_agq_converges_to_the_exact_marginal_likelihood():
    """Many quadrature points reproduce the integral computed by brute force."""
    from scipy import integrate

    xi, ni, beta, theta = np.array([2.0, 15.0, 0.0]), np.array([20.0, 30.0, 12.0]), -1.0, 1.3
    counts = Counts.from_arrays("binomial", xi, ni)
    dev, _ = agq_deviance(counts, np.array([beta]), np.array([theta]), 30)

    def study(x, n):
        f = lambda b: stats.binom.pmf(x, n, 1 / (1 + np.exp(-(beta + b)))) * stats.norm.pdf(b, 0, theta)
        return integrate.quad(f, -12, 12, epsabs=1e-14)[0]

    ll = sum(math.log(study(x, n)) for x, n in zip(xi, ni))
    assert counts.saturated_constant[0] - dev[0] / 2 == pytest.approx(ll, rel=1e-9)


def test_batch_equals_loop():
    rng = np.random.default_rng(5)
    sets = [(rng.integers(0, 20, k).astype(float), np.full(k, 20.0)) for k in (4, 7, 10)]
    K = 10
    x = np.zeros((3, K))
    n = np.ones((3, K))
    mask = np.zeros((3, K), dtype=bool)
    for i, (xi, ni) in enumerate(sets):
        x[i, : len(xi)], n[i, : len(ni)], mask[i, : len(xi)] = xi, ni, True
    batch = fit_glmm(Counts.from_arrays("binomial", x, n, mask))
    for i, (xi, ni) in enumerate(sets):
        one = fit_glmm(Counts.from_arrays("binomial", xi, ni))
        assert batch.beta[i] == pytest.approx(one.beta[0], abs=1e-7)
        assert batch.theta[i] == pytest.approx(one.theta[0], abs=1e-6)


def test_result_is_frozen_and_json_has_the_core_keys():
    res = fit("PLO", xi=[3, 10, 20, 7, 1], ni=[30, 40, 50, 35, 20], slab=list("abcde"), level=90)
    d = res.to_dict()
    assert RMA_KEYS | GLMM_KEYS <= set(d)
    assert d["method"] == "GLMM" and d["n_quadrature"] == 7 and d["level"] == 90.0
    json.dumps(d, allow_nan=False)
    with pytest.raises(Exception):
        res.tau2 = 1.0
    with pytest.raises(ValueError):
        res.xi[0] = 1.0
    b = res.back()
    assert b.estimate == pytest.approx(1 / (1 + math.exp(-res.estimate)))
    assert b.pi_lower <= b.ci_lower <= b.estimate <= b.ci_upper <= b.pi_upper
    p = res.predict(0.95)
    assert p.ci_upper - p.ci_lower > res.ci_upper - res.ci_lower
    text = str(res)
    assert "Wld(df = 4)" in text and "LRT(df = 4)" in text and "7 points" in text
    assert "<h4>" in res._repr_html_()


def test_t_test_uses_k_minus_1_df():
    z = fit("PLO", xi=[3, 10, 20, 7, 1], ni=[30, 40, 50, 35, 20])
    t = fit("PLO", xi=[3, 10, 20, 7, 1], ni=[30, 40, 50, 35, 20], test="t")
    assert t.ddf == 4 and z.ddf is None and t.estimate == z.estimate
    assert t.ci_upper - t.estimate == pytest.approx(stats.t.ppf(0.975, 4) * t.se)


def test_errors_and_exclusions():
    with pytest.raises(OptionError, match="'measure' parameter of rma_glmm"):
        mp.rma_glmm("RR", xi=[1, 2], ni=[10, 10])
    with pytest.raises(OptionError, match="'test'"):
        mp.rma_glmm("PLO", xi=[1, 2], ni=[10, 10], test="knha")
    with pytest.raises(OptionError, match="n_agq"):
        mp.rma_glmm("PLO", xi=[1, 2], ni=[10, 10], n_agq=0)
    with pytest.raises(DataValidationError):
        mp.rma_glmm("PLO", xi=[12, 2], ni=[10, 10])
    with pytest.raises(DataValidationError):
        mp.rma_glmm("IRLN", xi=[1, 2], ti=[0.0, 10])
    res = fit("PLO", xi=[3, None, 20, 7], ni=[30, 40, 50, 35])
    assert res.k == 3 and [e.row for e in res.exclusions] == [1]


# -- command line --------------------------------------------------------------------------
def test_cli_method_glmm_json(tmp_path, capsys):
    path = tmp_path / "s.csv"
    path.write_text("study,r,n\nA,3,30\nB,10,40\nC,20,50\nD,7,35\nE,1,20\n")
    assert main(["pool", str(path), "--events", "r", "--total", "n", "--method", "GLMM", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    ref = fit("PLO", xi=[3, 10, 20, 7, 1], ni=[30, 40, 50, 35, 20])
    assert out["method"] == "GLMM" and out["estimate"] == pytest.approx(ref.estimate)
    assert main(["pool", str(path), "--events", "r", "--total", "n", "--method", "glmm"]) == 0
    assert "Random-effects GLMM" in capsys.readouterr().out
    assert main(["pool", str(path), "--events", "r", "--total", "n", "--method", "GLMM", "--test", "knha"]) == 2
    assert "rma_glmm" in capsys.readouterr().err


# -- the pooled-result protocol ---------------------------------------------------------------
def test_glmm_result_has_the_pooled_result_shape():
    from metapool.glmm.information import information_share, study_information

    res = mp.rma_glmm("PLO", xi=[2, 14, 6, 3, 28, 10], ni=[20, 35, 40, 30, 50, 60], test="t")
    assert math.isnan(res.tau2_se)  # metafor's rma.glmm: se.tau2 is NA for the lme4 models
    info = study_information(res, np.array([res.tau2]))[0]
    np.testing.assert_allclose(res.weights, 100.0 * info / info.sum(), rtol=1e-15)
    assert np.array_equal(res.weights, 100.0 * information_share(res))  # one formula
    assert res.rows.tolist() == list(range(6))
    np.testing.assert_array_equal(res.ni, res.effect_sizes().ni)
    tables = mp.rma_glmm("OR", ai=[5, 0, 12, 3], n1i=[40, 50, 60, 30], ci=[9, 12, 20, 8], n2i=[40, 52, 58, 33])
    np.testing.assert_array_equal(tables.ni, tables.effect_sizes().ni)  # both groups
    c = res.coefficients
    assert c.names == ("intrcpt",) and (c.estimate[0], c.se[0], c.ci_lower[0], c.pvalue[0]) == (
        res.estimate, res.se, res.ci_lower, res.pvalue)
    assert res.conf_int() == (res.ci_lower, res.ci_upper)
    p = res.predict(0.9)
    half = stats.t.ppf(0.95, 5) * res.se
    assert res.conf_int(0.9) == (p.ci_lower, p.ci_upper)
    assert p.ci_upper - res.estimate == pytest.approx(half, rel=1e-12)


def test_separated_data_have_no_weights_and_keep_their_rows():
    with pytest.warns(ConvergenceWarning):
        res = mp.rma_glmm("PLO", xi=[0, 0, 0], ni=[10, 12, 9])
    assert res.exact is not None and np.isnan(res.weights).all() and res.rows.tolist() == [0, 1, 2]
