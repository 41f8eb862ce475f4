"""New measures (rates, means, ROM, correlations, PETO) and Mantel-Haenszel/Peto
models against metafor 3.8-1 (fixture from generate_measures_mh.R).

Every escalc value, every DerSimonian-Laird fit with its back-transformation,
and every value rma.mh / rma.peto report is compared at 1e-8 (relative).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import metapool as mp
from metapool.exceptions import DataValidationError
from metapool.models.mh_peto import rma_mh, rma_peto

from .fixture import arr, close, load


def reference() -> dict:
    return load("measures_mh_reference.json.gz")


ESCALC = reference()["escalc"]
MH = reference()["mh"]


@pytest.mark.parametrize("case", ESCALC, ids=[f"{c['measure']}-{c['id']}" for c in ESCALC])
def test_escalc_and_back_transform(case):
    inputs = {role: arr(v) for role, v in case["inputs"].items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = mp.escalc(case["measure"], **inputs)
    # metafor keeps yi where vi is undefined (e.g. n <= 3); metapool excludes the row
    defined = np.isfinite(arr(case["vi"]))
    close(es.yi[defined], arr(case["yi"])[defined], "yi")
    close(es.vi, case["vi"], "vi")
    if "fit" not in case:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mp.rma(es, method="DL")
    pred = res.predict()
    for key in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"):
        close(getattr(pred, key), case["fit"][key], key)
    back = res.back()
    if "back" not in case:
        assert back is None
        return
    for key in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"):
        close(getattr(back, key), case["back"][key], "back " + key)


def _fit(case):
    tables = {r: arr(v) for r, v in case["tables"].items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if case["method"] == "PETO":
            return rma_peto(**tables)
        return rma_mh(case["measure"], **tables)


@pytest.mark.parametrize("case", MH, ids=[f"{c['method']}-{c['measure']}-{c['id']}" for c in MH])
def test_mh_and_peto(case):
    if "error" in case:
        with pytest.raises(DataValidationError):
            _fit(case)
        return
    res, ref = _fit(case), case["result"]
    d = res.to_dict()
    assert d["k"] == ref["k"] and d["k_yi"] == ref["k_yi"]
    assert d["tau2"] == 0.0 and d["method"] == case["method"]
    for key in ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper", "q", "q_pvalue", "i2", "h2"):
        close(np.nan if d[key] is None else d[key], ref[key], key)
    close(res.weights, ref["weights"], "weights")
    close(res.yi, ref["yi"], "yi")
    close(res.vi, ref["vi"], "vi")
    for test in ("cmh", "breslow_day", "tarone"):
        if test not in ref:
            assert d[test] is None
            continue
        for key in ("statistic", "df", "pvalue"):
            expected = ref[test][key]
            if key == "df" and expected is not None and expected < 0:
                expected = None  # metafor's k.pos - 1 = -1 when the common OR is undefined
            close(np.nan if d[test][key] is None else d[test][key], expected, f"{test} {key}")
    if case["measure"] in ("OR", "RR", "PETO") and d["estimate"] is not None:
        close(d["back"]["estimate"], np.exp(ref["estimate"]), "back")
