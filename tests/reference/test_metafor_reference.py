"""metapool against metafor on hundreds of data sets (fixture from generate_reference.R).

Tolerances (the analogue of metafor's tests/testthat/settings.r):

* escalc, closed-form tau2 estimators (DL, HE, HS, SJ), PM/PMM (same
  search as metafor's ``uniroot``), the common-effect model and everything
  computed from a given tau2: relative 1e-8.
* ML, REML and EB run metafor's Fisher scoring step for step (same start,
  step halving and stopping rule), so they are compared to 1e-8 as well, even
  where metafor's absolute stopping rule halts before the optimum.
* Where metafor's Fisher scoring fails (an error in the fixture), metapool's
  safeguarded search must reach the optimum of metafor's retry with another
  step size, or a better one.
"""

import math
import warnings

import numpy as np
import pytest

import metapool as mp
from metapool.models.kernels import Batch, wls
from metapool.models.tau2 import log_likelihood

from .conftest import dataset, dataset_ids, reference

REL, ABS = 1e-8, 1e-10
ITERATIVE = {"ML", "REML", "EB"}
ROLES = {
    "single": ("xi", "ni"),
    "binary": ("ai", "n1i", "ci", "n2i"),
    "continuous": ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),
    "generic": ("yi", "vi"),
}
KEYS = {  # our to_dict() key -> fixture key
    "estimate": "estimate", "se": "se", "statistic": "zval", "pvalue": "pvalue",
    "ci_lower": "ci_lower", "ci_upper": "ci_upper", "tau2": "tau2", "i2": "i2", "h2": "h2",
    "q": "q", "q_df": "q_df", "q_pvalue": "q_pvalue", "pi_lower": "pi_lower", "pi_upper": "pi_upper",
    "ddf": "ddf",
}  # fmt: skip


def close(ours, ref, rel=REL, abs_=ABS) -> bool:
    if ref is None:
        return ours is None or (isinstance(ours, float) and math.isnan(ours))
    if ours is None:
        return False
    return abs(ours - ref) <= abs_ + rel * abs(ref)


def measure_of(ds: dict, measure: str) -> str:
    if ds["family"] != "generic":
        return measure
    return "LNR" if ds.get("generic_transf") == "exp" else "GEN"


def effects(ds: dict, measure: str, options: dict | None = None):
    args = {r: ds["data"][r] for r in ROLES[ds["family"]]}
    return mp.escalc(measure_of(ds, measure), **args, **(options or {}))


def quiet_rma(es, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mp.rma(es, **kw)


def objective(method: str, res) -> callable:
    """What the estimator optimises: log-likelihood (ML/REML), or -|Q - (k - p)| (EB)."""
    batch = Batch.from_arrays(res.yi, res.vi)
    if method == "EB":
        return lambda t: -abs(float(wls(batch, t).q[0]) - (res.k - 1))
    return lambda t: float(log_likelihood(batch, t, method == "REML")[0])


def compare_fit(ds: dict, fit: dict, problems: list) -> None:
    ref = fit["result"]
    method = fit["method"]
    es = effects(ds, fit["measure"])
    label = f"{ds['id']} {fit['measure']} {method} {fit['test']} {fit['level']}"
    res = quiet_rma(es, method=method, test=fit["test"], level=fit["level"])
    if ref["se_tau2"] is not None and not close(res.tau2_se, ref["se_tau2"]):
        problems.append(f"{label}: tau2_se {res.tau2_se!r} vs {ref['se_tau2']!r}")
    out = res.to_dict()
    for ours_key, ref_key in KEYS.items():
        if method == "FE" and ours_key.startswith("pi_"):
            # metafor's predict() gives no prediction interval for the common-effect model.
            if out[ours_key] is not None:
                problems.append(f"{label}: {ours_key} should be None for the common-effect model")
            continue
        if not close(out[ours_key], ref[ref_key]):
            problems.append(f"{label}: {ours_key} {out[ours_key]!r} vs {ref[ref_key]!r}")
    back = ref.get("back")
    if back is not None:
        for key in ("estimate", "ci_lower", "ci_upper") + (() if method == "FE" else ("pi_lower", "pi_upper")):
            # exp() turns a 1e-8 relative difference at log scale 200 into 2e-6 relative.
            if not close(out["back"][key], back[key], 1e-6):
                problems.append(f"{label}: back {key} {out['back'][key]!r} vs {back[key]!r}")
    if ref.get("confint"):
        hci = res.heterogeneity_ci(tol=1e-10).to_dict()
        for name in ("tau2", "i2", "h2"):
            for i, bound in ((1, "ci_lower"), (2, "ci_upper")):
                if not close(hci[name][bound], ref["confint"][name][i], 1e-6, 1e-9):
                    problems.append(f"{label}: confint {name} {bound} {hci[name][bound]!r} vs {ref['confint'][name][i]!r}")
    metafor_ratio_warning = any("sampling variance extremely large" in w for w in fit["warnings"])
    ours_ratio_warning = any("largest to smallest sampling variance" in w for w in res.warnings)
    if metafor_ratio_warning != ours_ratio_warning:
        problems.append(f"{label}: variance-ratio warning {ours_ratio_warning} vs metafor {metafor_ratio_warning}")


@pytest.mark.parametrize("name", dataset_ids())
def test_escalc_matches_metafor(name):
    ds = dataset(name)
    problems = []
    for entry in ds["escalc"]:
        es = effects(ds, entry["measure"], entry["options"])
        for key in ("yi", "vi"):
            for row, (ours, ref) in enumerate(zip(getattr(es, key), entry[key])):
                if not close(None if np.isnan(ours) else float(ours), ref, 1e-10, 1e-12):
                    problems.append(f"{entry['measure']} {entry['options']} row {row + 1} {key}: {ours!r} vs {ref!r}")
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("name", dataset_ids())
def test_models_match_metafor(name):
    ds = dataset(name)
    problems: list[str] = []
    for fit in ds["fits"]:
        if fit["error"] is not None or fit["control"]:
            continue  # metafor failed (see test_metafor_failures_are_solved)
        compare_fit(ds, fit, problems)
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:25])


def test_metafor_failures_are_solved():
    """Where metafor's Fisher scoring does not converge, metapool reaches its retry's optimum."""
    failures = [
        (ds, fit) for ds in reference()["datasets"] for fit in ds["fits"] if fit["error"] is not None
    ]
    assert failures, "the fixture should contain metafor convergence failures"
    for ds, fit in failures:
        retry = next(
            f["result"] for f in ds["fits"]
            if f["control"] and (f["measure"], f["method"], f["test"]) == (fit["measure"], fit["method"], fit["test"])
        )
        res = quiet_rma(effects(ds, fit["measure"]), method=fit["method"], test=fit["test"], level=fit["level"])
        assert res.converged
        f = objective(fit["method"], res)
        assert close(res.tau2, retry["tau2"], 1e-4, 1e-5) or f(res.tau2) >= f(retry["tau2"]) - 1e-12


def test_back_transform_functions_match_metafor():
    from metapool.effect_sizes.transforms import TRANSFORMS, ipft, pft

    t = reference()["transforms"]
    x = np.array(t["x"], dtype=float)
    np.testing.assert_allclose(TRANSFORMS["ilogit"](x), t["ilogit"], rtol=1e-12)
    np.testing.assert_allclose(TRANSFORMS["iarcsin"](x), t["iarcsin"], rtol=1e-12)
    np.testing.assert_allclose(ipft(x, 10), np.array(t["ipft_n10"], dtype=float), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ipft(x, 100), np.array(t["ipft_n100"], dtype=float), rtol=1e-12, atol=1e-14)
    hm = TRANSFORMS["ipft_hm"](x, np.array(t["ipft_hm_ni"], dtype=float))
    np.testing.assert_allclose(hm, np.array(t["ipft_hm"], dtype=float), rtol=1e-12, atol=1e-14)
    p = np.array(t["p"], dtype=float)
    for n in (10, 100, 1000):
        np.testing.assert_allclose(pft(p, n), t[f"pft_n{n}"], rtol=1e-12)
