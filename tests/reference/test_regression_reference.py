"""Meta-regression and subgroup analyses against metafor (fixture from generate_regression.R).

Tolerances (as test_metafor_reference.py):

* CE, DL, HE, SJ and PM (metafor's ``uniroot`` search emulated) and everything
  computed from a given tau2: relative 1e-8 (absolute floor 1e-10).
* ML and REML: metafor stops Fisher scoring at a change in tau2 below 1e-5, so
  metapool's tau2 must be within 1e-5 + 1e-4 |tau2| of metafor's or have a
  higher (restricted) log-likelihood; everything else is then compared to
  1e-8 with tau2 fixed at metafor's value. The pseudo-R^2 compares with the
  tau2 of the model without moderators, which metapool estimates itself, so
  its tolerance is that of the null model's tau2 carried through the formula.
* Moderators are passed in turn as column names, as the equivalent formula
  and as the numeric design matrix (cheaper; also used for the tau2-fixed
  refits), so each route meets every method.
* Subgroups: the per-level fits, the Q-between and the common-tau2 models are
  checked the same way; for REML the subgroup results must also equal
  metapool's own rma() fits exactly.
"""

import functools
import gzip
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import metapool as mp
from metapool.models.kernels import Batch
from metapool.models.tau2 import log_likelihood
from metapool.moderators.design import build_design
from metapool.moderators.subgroups import subgroup_analysis

FIXTURE = Path(__file__).with_name("regression_reference.json.gz")
REL, ABS = 1e-8, 1e-10
ITERATIVE = {"ML", "REML"}


@functools.lru_cache(maxsize=1)
def reference() -> dict:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def ids(section: str) -> list[str]:
    return [d["id"] for d in reference()[section]]


def entry(section: str, name: str) -> dict:
    return next(d for d in reference()[section] if d["id"] == name)


def dfs(ref_df: list) -> list:
    """metafor's QMdf is c(m, NA) for z tests."""
    return [x for x in ref_df if x is not None]


def close(ours, ref, rel=REL, abs_=ABS) -> bool:
    if ref is None:
        return ours is None or (isinstance(ours, float) and math.isnan(ours))
    if ours is None or (isinstance(ours, float) and math.isnan(ours)):
        return False
    return abs(ours - ref) <= abs_ + rel * abs(ref)


def tau2_close(ours, ref) -> bool:
    return close(ours, ref, 1e-4, 1e-5)


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def effects(ds: dict):
    d = ds["data"]
    if ds["family"] == "generic":
        es = mp.escalc("GEN", yi=d["yi"], vi=d["vi"])
    elif ds["family"] == "PLO":
        es = mp.escalc("PLO", xi=d["xi"], ni=d["ni"])
    else:
        es = mp.escalc(ds["measure"], ai=d["ai"], n1i=d["n1i"], ci=d["ci"], n2i=d["n2i"])
    for key in ("yi", "vi"):
        np.testing.assert_allclose(getattr(es, key), ds["escalc"][key], rtol=1e-10, atol=1e-12)
    return es


def better_optimum(res, ref_tau2: float, method: str) -> bool:
    """metapool's tau2 has a higher (restricted) log-likelihood than metafor's."""
    yi = res.yi if res.coefficients.names[0] == "intrcpt" or res.X is None else res.yi - res.yi.mean()
    batch = Batch.from_arrays(yi, res.vi, res.X)
    ll = [float(log_likelihood(batch, np.array([t]), method == "REML")[0]) for t in (res.tau2, ref_tau2)]
    return ll[0] > ll[1] + 1e-9


# ------------------------------------------------------------------ meta-regression --


ROUTES = ("columns", "formula", "array")


def mods_kwargs(spec: dict, route: str, design) -> dict:
    """How the moderators are passed: column names, the equivalent formula, or the numeric matrix."""
    if route == "formula" and spec["formula"]:
        return {"mods": spec["formula"]}
    if route == "array":
        start = int(design.intercept)
        frame = pd.DataFrame(design.X[:, start:], columns=list(design.names[start:]))
        return {"mods": frame, "intercept": design.intercept}
    return {"mods": spec["mods"], "intercept": spec["intercept"], "reference": spec["reference"]}


def compare_regression(label, es, data, model, fit, route, design, problems, stopped_early) -> None:
    ref = fit["result"]
    method, test, level = fit["method"], fit["test"], fit["level"]
    kw = mods_kwargs(model["spec"], route, design) | {"data": data, "method": method, "test": test, "level": level}
    used = "formula" if route == "formula" and model["spec"]["formula"] else "array" if route == "array" else "columns"
    label = f"{label} {method} {test} {level} ({used})"
    try:
        res = quiet(mp.rma, es, **kw)
    except Exception as exc:  # noqa: BLE001 - reported as a mismatch
        problems.append(f"{label}: metapool raised {type(exc).__name__}: {exc}")
        return
    if res.k != ref["k"]:
        problems.append(f"{label}: k {res.k} vs {ref['k']}")
        return
    names = list(res.coefficients.names)
    if sorted(names) != sorted(ref["coefficients"]["names"]):
        problems.append(f"{label}: coefficient names {names} vs {ref['coefficients']['names']}")
        return
    if route != "array":  # refits with tau2 fixed use the (cheaper) numeric matrix
        kw = mods_kwargs(model["spec"], "array", design) | {"data": data, "method": method, "test": test,
                                                            "level": level}
    free = res
    tau2_tol = None
    if method in ITERATIVE:
        if not tau2_close(res.tau2, ref["tau2"]):
            if better_optimum(res, ref["tau2"], method):
                stopped_early.append(label)
            else:
                problems.append(f"{label}: tau2 {res.tau2!r} vs {ref['tau2']!r}, and not a better optimum")
                return
        res = quiet(mp.rma, es, **kw, tau2=ref["tau2"])
        if tau2_close(free.tau2, ref["tau2"]) and ref["se_tau2"] is not None:
            if not close(free.tau2_se, ref["se_tau2"], 1e-3, 1e-5):
                problems.append(f"{label}: tau2_se {free.tau2_se!r} vs {ref['se_tau2']!r}")
        if ref["tau2_null"]:
            tau2_tol = 100 * ref["tau2"] / ref["tau2_null"] ** 2 * (1e-5 + 1e-4 * ref["tau2_null"])
    else:
        for ours, key in ((res.tau2, "tau2"), (res.tau2_se, "se_tau2")):
            if not close(ours, ref[key]):
                problems.append(f"{label}: {key} {ours!r} vs {ref[key]!r}")

    c = res.coefficients
    order = [ref["coefficients"]["names"].index(n) for n in names]
    for ours_key, ref_key in (("estimate", "estimate"), ("se", "se"), ("statistic", "zval"), ("pvalue", "pval"),
                              ("ci_lower", "ci_lower"), ("ci_upper", "ci_upper")):
        for j, name in enumerate(names):
            r = ref["coefficients"][ref_key][order[j]]
            if not close(float(getattr(c, ours_key)[j]), r):
                problems.append(f"{label}: {name} {ours_key} {float(getattr(c, ours_key)[j])!r} vs {r!r}")
    for ours, key in ((res.q, "QE"), (res.q_pvalue, "QEp"), (res.q_df, "QE_df"), (res.i2, "I2"), (res.h2, "H2"),
                      (res.ddf, "ddf")):
        if not close(ours, ref[key]):
            problems.append(f"{label}: {key} {ours!r} vs {ref[key]!r}")
    m = res.moderators
    for ours, key in ((m.statistic, "QM"), (m.pvalue, "QMp")):
        if not close(ours, ref[key]):
            problems.append(f"{label}: {key} {ours!r} vs {ref[key]!r}")
    qmdf = [m.df] + ([] if m.ddf is None else [m.ddf])
    if not (len(qmdf) == len(dfs(ref["QMdf"])) and all(close(float(a), b) for a, b in zip(qmdf, ref["QMdf"]))):
        problems.append(f"{label}: QM df {qmdf} vs {ref['QMdf']}")
    # metafor gives no R^2 when its model without moderators fails to converge (metapool's does).
    metafor_null_failed = ref["R2"] is None and ref["tau2_null"] is None and ref["int_incl"]
    r2_ok = metafor_null_failed or close(m.r2, ref["R2"]) or (
        tau2_tol is not None and ref["R2"] is not None and abs(m.r2 - ref["R2"]) <= tau2_tol + 1e-8
    )
    if not r2_ok:
        problems.append(f"{label}: R2 {m.r2!r} vs {ref['R2']!r}")
    try:
        d = res.to_dict()
    except Exception as exc:  # noqa: BLE001 - reported as a mismatch
        problems.append(f"{label}: to_dict() raised {type(exc).__name__}: {exc}")
        d = None
    for key, ours in (("qm", m.statistic), ("qm_pvalue", m.pvalue), ("r2", m.r2)):
        if d is not None and not (d[key] == ours or (d[key] is None and math.isnan(ours))):
            problems.append(f"{label}: to_dict {key} {d[key]!r} vs attribute {ours!r}")

    pr = ref["predict"]
    if pr is not None and not pr.get("error"):
        slopes = [n for n in names if n != "intrcpt"]
        rows = [[row[n] for n in slopes] for row in model["newmods"]]
        preds = res.predict(newmods=rows)
        for i, p in enumerate(preds):
            for ours_key, ref_key in (("estimate", "pred"), ("se", "se"), ("ci_lower", "ci_lower"),
                                      ("ci_upper", "ci_upper"), ("pi_lower", "pi_lower"), ("pi_upper", "pi_upper")):
                if pr.get(ref_key) is None:  # metafor gives no PI for the common-effect model
                    if not math.isnan(getattr(p, ours_key)):
                        problems.append(f"{label}: predict[{i}] {ours_key} should be NaN")
                    continue
                if not close(getattr(p, ours_key), pr[ref_key][i]):
                    problems.append(f"{label}: predict[{i}] {ours_key} {getattr(p, ours_key)!r} vs {pr[ref_key][i]!r}")


@pytest.mark.parametrize("name", ids("regression"))
def test_meta_regression_matches_metafor(name):
    ds = entry("regression", name)
    es = effects(ds)
    data = ds["data"]
    problems: list[str] = []
    stopped_early: list[str] = []
    n = 0
    for model in ds["models"]:
        spec = model["spec"]
        design = build_design(spec["mods"], data, len(es), es.slab, spec["reference"], spec["intercept"])
        for fi, fit in enumerate(model["fits"]):
            assert fit["error"] is None, f"metafor failed: {fit['error']}"
            compare_regression(f"{name} [{model['r_formula']}]", es, data, model, fit, ROUTES[fi % 3], design,
                               problems, stopped_early)
            n += 1
    assert n > 0
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:30])


def test_fixture_covers_the_brief():
    regs = reference()["regression"]
    fits = [f for d in regs for m in d["models"] for f in m["fits"]]
    assert {f["method"] for f in fits} == {"CE", "DL", "REML", "ML", "PM", "HE", "SJ"}
    assert {f["test"] for f in fits} == {"z", "t", "knha"}
    assert any(d["with_na"] for d in regs)
    assert any(not m["spec"]["intercept"] for d in regs for m in d["models"])
    assert any(m["spec"]["reference"] for d in regs for m in d["models"])
    assert any(f["result"]["tau2"] == 0 for f in fits if f["method"] != "CE")
    assert {d["family"] for d in regs} >= {"generic", "PLO", "OR", "RR"}
    subs = reference()["subgroups"]
    assert any(lv.get("k") == 1 for d in subs for c in d["cases"] for lv in c["separate"]["levels"])


# ------------------------------------------------------------------------- subgroups --


def labels_of(ds: dict) -> np.ndarray:
    return np.array(["" if g is None else str(g) for g in ds["data"]["g"]], dtype=object)


def check_level_fit(label, ours, ref, problems, keys) -> None:
    for ours_key, ref_key in keys:
        v = getattr(ours, ours_key)
        if not close(v, ref[ref_key]):
            problems.append(f"{label}: {ours_key} {v!r} vs {ref[ref_key]!r}")


SUB_KEYS = (("estimate", "estimate"), ("se", "se"), ("ci_lower", "ci_lower"), ("ci_upper", "ci_upper"),
            ("tau2", "tau2"), ("i2", "I2"))


def compare_separate(label, es, ds, case, problems, stopped_early) -> None:
    method, test, level = case["method"], case["test"], case["level"]
    res = quiet(subgroup_analysis, es, "g", data=ds["data"], tau2="separate", method=method, test=test, level=level)
    labels = labels_of(ds)
    ref_levels = case["separate"]["levels"]
    if [s.level for s in res.subgroups] != [r["level"] for r in ref_levels]:
        problems.append(f"{label}: levels {[s.level for s in res.subgroups]} vs {[r['level'] for r in ref_levels]}")
        return
    fixed_est, fixed_se = [], []
    for s, r in zip(res.subgroups, ref_levels):
        lab = f"{label} level {s.level} (k={r['k']})"
        if s.k != r["k"]:
            problems.append(f"{lab}: k {s.k} vs {r['k']}")
            continue
        sub = es.take(labels == s.level)
        opts = {"method": method, "test": test, "level": level}
        own = quiet(mp.rma, sub, **opts)
        for a, _ in SUB_KEYS:
            if not close(getattr(s, a), getattr(own, a), 1e-12, 1e-14):
                problems.append(f"{lab}: subgroup {a} {getattr(s, a)!r} differs from rma() {getattr(own, a)!r}")
        if method in ITERATIVE and r["k"] > 1:
            if not tau2_close(s.tau2, r["tau2"]):
                if better_optimum(own, r["tau2"], method):
                    stopped_early.append(lab)
                else:
                    problems.append(f"{lab}: tau2 {s.tau2!r} vs {r['tau2']!r}, and not a better optimum")
                    continue
            fixed = quiet(mp.rma, sub, **opts, tau2=r["tau2"])
            check_level_fit(lab + " (tau2 fixed)", fixed, r, problems,
                            [k for k in SUB_KEYS if k[0] != "tau2"] + [("statistic", "zval"), ("pvalue", "pval")])
            fixed_est.append(fixed.estimate)
            fixed_se.append(fixed.se)
        else:
            check_level_fit(lab, s, r, problems, SUB_KEYS)
            check_level_fit(lab, own, r, problems, [("statistic", "zval"), ("pvalue", "pval")])
            fixed_est.append(s.estimate)
            fixed_se.append(s.se)
    qb = case["separate"]["q_between"]
    between = mp.rma(yi=fixed_est, sei=fixed_se, method="CE")
    for ours, key in ((between.q, "QE"), (between.q_pvalue, "QEp"), (between.q_df, "df")):
        if not close(ours, qb[key]):
            problems.append(f"{label}: Q-between {key} {ours!r} vs {qb[key]!r}")
    own_between = mp.rma(yi=[s.estimate for s in res.subgroups], sei=[s.se for s in res.subgroups], method="CE")
    for ours, theirs, key in ((res.qm, own_between.q, "q"), (res.qm_pvalue, own_between.q_pvalue, "pvalue"),
                              (res.qm_df, own_between.q_df, "df")):
        if not close(ours, theirs, 1e-12, 1e-14):
            problems.append(f"{label}: Q-between {key} {ours!r} differs from its subgroup estimates' {theirs!r}")
    if method not in ITERATIVE and not close(res.qm, qb["QE"]):
        problems.append(f"{label}: Q-between {res.qm!r} vs {qb['QE']!r}")
    if res.qm_ddf is not None:
        problems.append(f"{label}: separate Q-between should have no ddf, got {res.qm_ddf!r}")


def compare_common(label, es, ds, case, problems, stopped_early) -> None:
    method, test, level = case["method"], case["test"], case["level"]
    res = quiet(subgroup_analysis, es, "g", data=ds["data"], tau2="common", method=method, test=test, level=level)
    cm, ct = case["common"]["cell_means"], case["common"]["contrast"]
    labels = labels_of(ds)
    usable = labels != ""
    sub, g = es.take(usable), {"g": list(labels[usable])}
    opts = {"method": method, "test": test, "level": level}
    cell = quiet(mp.rma, sub, mods=["g"], data=g, intercept=False, **opts)
    contrast = quiet(mp.rma, sub, mods=["g"], data=g, **opts)
    if [s.level for s in res.subgroups] != cm["names"]:
        problems.append(f"{label}: levels {[s.level for s in res.subgroups]} vs {cm['names']}")
        return
    # the subgroup result is metapool's own mixed-effects models
    for i, s in enumerate(res.subgroups):
        for a in ("estimate", "se", "ci_lower", "ci_upper"):
            if not close(getattr(s, a), float(getattr(cell.coefficients, a)[i]), 1e-12, 1e-14):
                problems.append(f"{label} {s.level}: common {a} differs from the cell-means rma()")
        if not close(s.tau2, cell.tau2, 1e-12, 1e-14):
            problems.append(f"{label} {s.level}: common tau2 differs from the cell-means rma()")
    m = contrast.moderators
    if not (close(res.qm, m.statistic, 1e-12) and close(res.qm_pvalue, m.pvalue, 1e-12) and res.qm_df == m.df):
        problems.append(f"{label}: subgroup test differs from the contrast rma()'s QM")
    if method in ITERATIVE:
        if not tau2_close(cell.tau2, cm["tau2"]):
            if better_optimum(cell, cm["tau2"], method):
                stopped_early.append(label)
            else:
                problems.append(f"{label}: common tau2 {cell.tau2!r} vs {cm['tau2']!r}, and not a better optimum")
                return
        cell = quiet(mp.rma, sub, mods=["g"], data=g, intercept=False, **opts, tau2=cm["tau2"])
        contrast = quiet(mp.rma, sub, mods=["g"], data=g, **opts, tau2=ct["tau2"])
        m = contrast.moderators
        if not tau2_close(res.subgroups[0].tau2, ct["tau2"]):
            problems.append(f"{label}: contrast model tau2 {res.subgroups[0].tau2!r} vs {ct['tau2']!r}")
    else:
        if not close(res.subgroups[0].tau2, cm["tau2"]):
            problems.append(f"{label}: common tau2 {res.subgroups[0].tau2!r} vs {cm['tau2']!r}")
        if not close(contrast.tau2, ct["tau2"]):
            problems.append(f"{label}: contrast tau2 {contrast.tau2!r} vs {ct['tau2']!r}")
    c = cell.coefficients
    for i, lev in enumerate(cm["names"]):
        for a, k in (("estimate", "estimate"), ("se", "se"), ("ci_lower", "ci_lower"), ("ci_upper", "ci_upper"),
                     ("statistic", "zval"), ("pvalue", "pval")):
            if not close(float(getattr(c, a)[i]), cm[k][i]):
                problems.append(f"{label} {lev}: common {a} {float(getattr(c, a)[i])!r} vs {cm[k][i]!r}")
    if not close(cell.i2, cm["I2"]):
        problems.append(f"{label}: common I2 {cell.i2!r} vs {cm['I2']!r}")
    sk = [s.k for s in res.subgroups]
    if sum(sk) != cm["k"]:
        problems.append(f"{label}: common k {sum(sk)} vs {cm['k']}")
    qmdf = [m.df] + ([] if m.ddf is None else [m.ddf])
    for ours, key in ((m.statistic, "QM"), (m.pvalue, "QMp")):
        if not close(ours, ct[key]):
            problems.append(f"{label}: subgroup test {key} {ours!r} vs {ct[key]!r}")
    if not (len(qmdf) == len(dfs(ct["QMdf"])) and all(close(float(a), b) for a, b in zip(qmdf, ct["QMdf"]))):
        problems.append(f"{label}: subgroup test df {qmdf} vs {ct['QMdf']}")


@pytest.mark.parametrize("name", ids("subgroups"))
def test_subgroups_match_metafor(name):
    ds = entry("subgroups", name)
    es = effects(ds)
    problems: list[str] = []
    stopped_early: list[str] = []
    for case in ds["cases"]:
        label = f"{name} {case['method']} {case['test']} {case['level']}"
        try:
            compare_separate(label + " separate", es, ds, case, problems, stopped_early)
        except Exception as exc:  # noqa: BLE001 - reported as a mismatch
            problems.append(f"{label} separate: metapool raised {type(exc).__name__}: {exc}")
        try:
            compare_common(label + " common", es, ds, case, problems, stopped_early)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{label} common: metapool raised {type(exc).__name__}: {exc}")
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:30])
