"""Bias analyses of rma_glmm("OR") fits on the study-level log odds ratios (escalc "OR", metafor's defaults)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import metapool as mp
from metapool.bias import bias_report, lfk, ranktest, regtest, trimfill
from metapool.bias.glmm import STUDY_LEVEL_METHOD

# six 2x2 tables, one with a zero cell (corrected) and one double-zero table (dropped by the GLMM)
CELLS = dict(ai=[5, 0, 12, 3, 9, 7, 0], n1i=[40, 50, 60, 30, 45, 38, 20],
             ci=[9, 12, 20, 8, 15, 16, 0], n2i=[40, 52, 58, 33, 47, 41, 20])


def fit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mp.rma_glmm("OR", **CELLS)


def test_or_effect_sizes_are_escalc_with_metafor_defaults_for_the_studies_of_the_fit():
    res = fit()
    es = res.effect_sizes()
    ref = mp.escalc("OR", **CELLS)  # add = 1/2 to = "only0"; the double-zero table is the GLMM's exclusion
    assert res.k == 6 and es.measure == "OR" and es.slab == res.slab
    np.testing.assert_allclose(es.yi, ref.yi[:6], rtol=1e-14)
    np.testing.assert_allclose(es.vi, ref.vi[:6], rtol=1e-14)
    assert list(es.corrected) == [False, True, False, False, False, False]
    assert es.yi[1] == pytest.approx(np.log(0.5 * 40.5 / (50.5 * 12.5)), rel=1e-14)
    # the vi behind the fit's typical within-study variance (I^2)
    w = 1.0 / es.vi
    vt = (res.k - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum())
    assert res.vt == pytest.approx(vt, rel=1e-12)


def test_or_bias_analyses_run_on_the_study_level_model():
    res = fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = mp.rma(res.effect_sizes(), method=STUDY_LEVEL_METHOD)
    assert regtest(res).pvalue == pytest.approx(regtest(study).pvalue, rel=1e-12)
    assert ranktest(res).pvalue == pytest.approx(ranktest(study).pvalue, rel=1e-12)
    assert trimfill(res).k0 == trimfill(study).k0
    assert lfk(res).index == pytest.approx(lfk(study).index, rel=1e-12)
    report = bias_report(res).to_dict()
    assert {"egger", "begg", "trimfill", "lfk"} <= set(report)
    assert not any("undefined" in str(report[k]) for k in ("egger", "begg", "trimfill", "lfk"))


def test_peters_runs_on_the_tables_of_the_fit():
    from metapool.bias import peters
    from metapool.exceptions import DataValidationError

    res = fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = mp.rma(res.effect_sizes(), method=STUDY_LEVEL_METHOD)
    want = peters(study, table=res.effect_sizes())
    assert peters(res).pvalue == pytest.approx(want.pvalue, rel=1e-12)
    # the outcome's own table (with the double-zero study the GLMM drops) is replaced by the fit's tables
    report = bias_report(res, table=mp.escalc("OR", **CELLS)).to_dict()
    assert report["peters"]["p"] == pytest.approx(want.pvalue, rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plo = mp.rma_glmm("PLO", xi=[3, 5, 8, 2], ni=[30, 40, 50, 25])
    with pytest.raises(DataValidationError, match="two-group binary"):
        peters(plo)
