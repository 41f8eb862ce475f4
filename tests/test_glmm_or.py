"""rma_glmm("OR"): input errors, corner cases, the kernel's algebra, JSON and CLI.

Agreement with metafor on 53 data sets is in tests/reference/test_glmm_or_reference.py.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

import metapool as mp
from metapool.cli.main import main
from metapool.exceptions import ConvergenceWarning, DataValidationError, OptionError
from metapool.glmm import tables as glmm_fs
from metapool.glmm.table_kernels import (
    GROUP1, GROUP12, _derivatives, _mu_variance, arm_counts, fit_fs, study_deviance,
)

BCG = dict(ai=[4, 6, 3, 62, 33, 180, 8], n1i=[123, 306, 231, 13598, 5069, 1541, 2545],
           ci=[11, 29, 11, 248, 47, 372, 10], n2i=[139, 303, 220, 12867, 5808, 1451, 629])


def fit(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mp.rma_glmm(*args, **kw)


# -- input errors --------------------------------------------------------------------------
def test_model_must_be_um_fs_and_only_for_or():
    with pytest.raises(OptionError, match=r"'model' parameter of rma_glmm must be one of .*UM\.FS.*Got 'UM\.RS'"):
        mp.rma_glmm("OR", model="UM.RS", **BCG)
    with pytest.raises(OptionError, match="applies to measure 'OR' only"):
        mp.rma_glmm("PLO", xi=[1, 2], ni=[10, 10], model="UM.FS")
    assert fit("OR", model="UM.FS", **BCG).estimate == fit("OR", **BCG).estimate


def test_columns_must_fit_the_measure():
    with pytest.raises(DataValidationError, match="one-group counts"):
        mp.rma_glmm("PLO", xi=[1, 2], ni=[10, 10], ai=[1, 2])
    with pytest.raises(DataValidationError):
        mp.rma_glmm("OR", xi=[1, 2], ni=[10, 10])
    with pytest.raises(DataValidationError):  # events above the group size
        mp.rma_glmm("OR", ai=[12, 2], n1i=[10, 10], ci=[1, 2], n2i=[10, 10])
    with pytest.raises(OptionError, match="'test'"):
        mp.rma_glmm("OR", test="knha", **BCG)


@pytest.mark.parametrize("cells, sign", [
    (dict(ai=[0, 0, 0], n1i=[20, 30, 40], ci=[2, 5, 1], n2i=[20, 30, 40]), "-inf"),
    (dict(ai=[0, 3, 0], n1i=[20, 30, 40], ci=[2, 30, 1], n2i=[20, 30, 40]), "-inf"),  # a = 0 or d = 0
    (dict(ai=[2, 5, 1], n1i=[20, 30, 40], ci=[0, 0, 0], n2i=[20, 30, 40]), r"\+inf"),
])
def test_separation_is_an_error(cells, sign):
    with pytest.raises(DataValidationError, match=f"log odds ratio is {sign}.*separation"):
        mp.rma_glmm("OR", **cells)


def test_double_zero_studies_are_dropped_and_listed():
    res = fit("OR", ai=[0, 5, 8, None, 12, 40], n1i=[40, 60, 80, 30, 100, 40],
              ci=[0, 9, 15, 6, 14, 40], n2i=[40, 60, 80, 30, 100, 40], slab=list("abcdef"))
    assert res.k == 3
    reasons = {e.label: e.reason for e in res.exclusions}
    assert set(reasons) == {"a", "d", "f"} and "drop00" in reasons["a"] and "drop00" in reasons["f"]
    assert "missing" in reasons["d"]
    assert res.slab == ("b", "c", "e")
    with pytest.raises(DataValidationError, match="k = 0"):
        mp.rma_glmm("OR", ai=[0, 0], n1i=[10, 10], ci=[0, 0], n2i=[10, 10])


# -- corner cases --------------------------------------------------------------------------
def test_one_study_is_the_common_effect_model_with_its_sample_log_odds_ratio():
    res = fit("OR", ai=[5], n1i=[50], ci=[10], n2i=[50])
    assert res.model == "common-effect" and res.k == 1 and res.tau2 == 0.0
    assert res.estimate == pytest.approx(math.log(5 * 40 / (45 * 10)), abs=1e-9)
    assert res.se == pytest.approx(math.sqrt(1 / 5 + 1 / 45 + 1 / 10 + 1 / 40), rel=1e-6)
    assert math.isnan(res.q) and any("k = 1" in n for n in res.notes)


def test_identical_odds_ratios_give_the_common_effect_logistic_model():
    res = fit("OR", ai=[10, 20, 40, 5], n1i=[100, 200, 400, 50], ci=[20, 40, 80, 10], n2i=[100, 200, 400, 50])
    assert res.model == "common-effect" and res.tau2 == 0.0 and res.converged
    assert any("boundary" in n for n in res.notes)
    assert res.estimate == pytest.approx(math.log(10 * 80 / (90 * 20)), abs=1e-8)
    assert res.q == pytest.approx(0.0, abs=1e-10) and res.q_lrt == pytest.approx(0.0, abs=1e-10)
    assert res.pi_lower == pytest.approx(res.ci_lower) and res.pi_upper == pytest.approx(res.ci_upper)


def test_switching_the_groups_negates_the_estimate():
    """The +-1/2 coding makes the model invariant to the group labels (metafor's coding = 1/2)."""
    a = fit("OR", **BCG)
    b = fit("OR", ai=BCG["ci"], n1i=BCG["n2i"], ci=BCG["ai"], n2i=BCG["n1i"])
    assert b.estimate == pytest.approx(-a.estimate, abs=1e-7)
    assert b.tau2 == pytest.approx(a.tau2, abs=1e-7) and b.se == pytest.approx(a.se, rel=1e-6)
    assert b.q == pytest.approx(a.q, rel=1e-10) and b.marginal_loglik == pytest.approx(a.marginal_loglik, abs=1e-8)
    # metafor's log-likelihood is not stationary at the optimum: it moves with the 1e-7 differences
    assert b.loglik == pytest.approx(a.loglik, abs=1e-5)


def test_four_cells_equal_events_with_totals():
    bi = np.subtract(BCG["n1i"], BCG["ai"])
    di = np.subtract(BCG["n2i"], BCG["ci"])
    a = fit("OR", **BCG)
    b = fit("OR", ai=BCG["ai"], bi=bi, ci=BCG["ci"], di=di)
    assert (a.estimate, a.tau2, a.se) == (b.estimate, b.tau2, b.se)


def test_non_convergence_is_reported(monkeypatch):
    real = glmm_fs.fit_fs

    def one_step(arms, n_agq=7, *, start=None, theta=None, maxiter=200, tol=1e-9):
        return real(arms, n_agq, start=start, theta=theta, maxiter=maxiter if theta is not None else 1, tol=tol)

    monkeypatch.setattr(glmm_fs, "fit_fs", one_step)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = mp.rma_glmm("OR", **BCG)
    assert not res.converged and res.to_dict()["converged"] is False


# -- the model and its numerics -------------------------------------------------------------
def test_agq_converges_to_the_exact_marginal_likelihood_of_a_study():
    """Many quadrature points reproduce the two-arm integral over b ~ N(0, tau2) computed by brute force."""
    x, n = np.array([[3.0, 9.0], [0.0, 4.0]]), np.array([[40.0, 35.0], [25.0, 30.0]])
    theta, mu, alpha = 0.9, -0.6, np.array([-1.2, -2.0])
    arms = arm_counts(x, n)
    dev, _ = study_deviance(arms, np.array([theta]), np.array([mu]), alpha[None], 40)
    for i in range(2):
        def f(b, i=i):
            p = 1 / (1 + np.exp(-(alpha[i] + mu * GROUP1 + b * GROUP12)))
            return np.prod(stats.binom.pmf(x[i], n[i], p)) * stats.norm.pdf(b, 0, theta)

        ll = math.log(integrate.quad(f, -12, 12, epsabs=1e-15)[0])
        sat = stats.binom.logpmf(x[i], n[i], x[i] / n[i]).sum()
        assert sat - dev[0, i] / 2 == pytest.approx(ll, rel=1e-9)


def test_schur_variance_equals_the_inverse_of_the_full_hessian():
    """Var(mu) = 2 [H^-1]_mu,mu of the (k + 2) x (k + 2) finite-difference Hessian, as lme4's vcov."""
    arms = arm_counts(np.stack([BCG["ai"], BCG["ci"]], -1), np.stack([BCG["n1i"], BCG["n2i"]], -1))
    res = fit_fs(arms)
    x = np.array([[res.theta[0], res.mu[0]]])
    dv = _derivatives(arms, x, res.alpha, 7, None)
    k = arms.x.shape[1]
    h = np.zeros((k + 2, k + 2))
    h[:2, :2] = dv.a[0]
    h[:2, 2:] = dv.b[0].T
    h[2:, :2] = dv.b[0]
    h[2:, 2:] = np.diag(dv.c[0])
    # (the fit's Hessian came with warm-started conditional modes: rounding / delta^2 ~ 1e-8)
    assert res.vb[0] == pytest.approx(2 * np.linalg.inv(h)[1, 1], rel=1e-7)
    assert np.abs(dv.g).max() < 1e-5 and np.abs(dv.g_alpha).max() < 1e-5  # a stationary point


def test_conditional_information_fallback_at_tau2_zero_is_the_logistic_variance():
    """Where the Hessian is not positive definite, Var(mu) is 1 / (profiled conditional information),
    lme4's RX fallback; at theta = 0 that is the common-effect logistic model's variance."""
    arms = arm_counts(np.stack([BCG["ai"], BCG["ci"]], -1), np.stack([BCG["n1i"], BCG["n2i"]], -1))
    fe = fit_fs(arms, theta=np.zeros(1))
    dv = _derivatives(arms, np.array([[0.0, fe.mu[0]]]), fe.alpha, 7, None)
    broken = type(dv)(**(vars(dv) | {"c": -dv.c}))
    vb, ok = _mu_variance(arms, fe.theta, fe.mu, fe.alpha, broken, False)
    assert fe.vb_from_hessian[0] and not ok[0]
    assert vb[0] == pytest.approx(fe.vb[0], rel=1e-6)


def test_batch_equals_loop():
    rng = np.random.default_rng(11)
    sets = []
    for k in (3, 6, 9):
        n = rng.integers(20, 200, (k, 2)).astype(float)
        p = 1 / (1 + np.exp(-(rng.normal(-1.5, 0.7, (k, 1)) + np.array([0.4, 0.0]) + rng.normal(0, 0.5, (k, 1)))))
        sets.append((rng.binomial(n.astype(int), p).astype(float), n))
    K = 9
    x, n, mask = np.zeros((3, K, 2)), np.ones((3, K, 2)), np.zeros((3, K), dtype=bool)
    for i, (xi, ni) in enumerate(sets):
        x[i, : len(xi)], n[i, : len(ni)], mask[i, : len(xi)] = xi, ni, True
    batch = fit_fs(arm_counts(x, n, mask))
    for i, (xi, ni) in enumerate(sets):
        one = fit_fs(arm_counts(xi, ni))
        assert batch.mu[i] == pytest.approx(one.mu[0], abs=1e-7)
        assert batch.theta[i] == pytest.approx(one.theta[0], abs=1e-6)
        assert batch.vb[i] == pytest.approx(one.vb[0], rel=1e-6)


def test_profile_ci_of_tau2_brackets_the_estimate():
    res = fit("OR", **BCG)
    ci = res.heterogeneity_ci()
    lo, hi = ci.tau2[1], ci.tau2[2]
    assert 0 < lo < res.tau2 < hi
    sat, profile = glmm_fs.profile_deviance(res)
    dev_max = 2 * (sat - res.marginal_loglik)
    assert profile(res.tau2) == pytest.approx(dev_max, abs=1e-6)
    crit = stats.chi2.ppf(0.95, 1)
    assert profile(lo) - dev_max == pytest.approx(crit, abs=1e-5)
    assert profile(hi) - dev_max == pytest.approx(crit, abs=1e-5)


# -- result, JSON, command line -------------------------------------------------------------
def test_result_json_and_summary():
    res = fit("OR", slab=list("abcdefg"), level=90, **BCG)
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["measure"] == "OR" and d["method"] == "GLMM" and d["model"] == "UM.FS" and d["level"] == 90.0
    assert {"q_lrt", "q_lrt_pvalue", "loglik", "marginal_loglik", "n_quadrature", "optimizer", "converged"} <= set(d)
    b = res.back()
    assert b.estimate == pytest.approx(math.exp(res.estimate))
    assert b.pi_lower <= b.ci_lower <= b.estimate <= b.ci_upper <= b.pi_upper
    assert res.xi.shape == (7, 2) and res.size.shape == (7, 2)
    text = str(res)
    assert "UM.FS" in text and "odds ratio" in text and "Wld(df = 6)" in text
    t = fit("OR", test="t", **BCG)
    assert t.ddf == 6 and t.ci_upper - t.estimate == pytest.approx(stats.t.ppf(0.975, 6) * t.se)


def test_cli_two_group_glmm(tmp_path, capsys):
    path = tmp_path / "t.csv"
    rows = zip("ABCDEFG", BCG["ai"], BCG["n1i"], BCG["ci"], BCG["n2i"])
    path.write_text("study,a,n1,c,n2\n" + "".join(f"{s},{a},{n1},{c},{n2}\n" for s, a, n1, c, n2 in rows))
    args = ["pool", str(path), "--events1", "a", "--total1", "n1", "--events2", "c", "--total2", "n2",
            "--method", "GLMM"]
    assert main(args + ["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    ref = fit("OR", **BCG)
    assert out["model"] == "UM.FS" and out["estimate"] == pytest.approx(ref.estimate)
    assert out["tau2"] == pytest.approx(ref.tau2) and out["back"]["estimate"] == pytest.approx(math.exp(ref.estimate))
    assert main(args) == 0
    assert "Random-effects GLMM" in capsys.readouterr().out
    assert main(args + ["--measure", "RR"]) == 2
    assert "'measure' parameter of rma_glmm" in capsys.readouterr().err
