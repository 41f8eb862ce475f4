"""Figures of GLMM fits: forest, funnel, leave-one-out/cumulative forest and Doi plots, and the report.

The adapters' tables hold the right numbers (study rows equal escalc's study-level
values, the pooled row the GLMM's back-transformed estimate, CI and prediction
interval, weights the hat values of ``influence(glmm)``); every figure renders (Agg).
"""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pytest
from scipy import special, stats

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import metapool as mp  # noqa: E402
from metapool.bias import lfk, trimfill  # noqa: E402
from metapool.bias.glmm import STUDY_LEVEL_METHOD  # noqa: E402
from metapool.exceptions import MetapoolError  # noqa: E402
from metapool.influence import cumulative, influence, leave_one_out  # noqa: E402
from metapool.glmm.information import information_share  # noqa: E402
from metapool.plots import (  # noqa: E402
    clopper_pearson,
    doi_plot,
    doi_table,
    forest_plot,
    forest_table,
    funnel_plot,
    funnel_table,
    labbe_table,
    series_forest_table,
)

X = np.array([2, 14, 6, 3, 28, 10])
N = np.array([20, 35, 40, 30, 50, 60])
T = np.array([120.0, 95.0, 210.0, 150.0, 180.0, 240.0])
OR_CELLS = dict(ai=[5, 0, 12, 3, 9], n1i=[40, 50, 60, 30, 45], ci=[9, 12, 20, 8, 15], n2i=[40, 52, 58, 33, 47])
Z = stats.norm.ppf(0.975)


def quiet(f, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args, **kw)


@pytest.fixture(scope="module")
def fits():
    return {
        "PLO": quiet(mp.rma_glmm, "PLO", xi=X, ni=N),
        "IRLN": quiet(mp.rma_glmm, "IRLN", xi=X, ti=T),
        "OR": quiet(mp.rma_glmm, "OR", **OR_CELLS),
    }


ESCALC = {"PLO": dict(xi=X, ni=N), "IRLN": dict(xi=X, ti=T), "OR": OR_CELLS}
BACK = {"PLO": special.expit, "IRLN": np.exp, "OR": np.exp}


def drawn(ax):
    assert ax.figure is not None
    plt.close(ax.figure)


# -- forest ---------------------------------------------------------------------------------
@pytest.mark.parametrize("measure", ["PLO", "IRLN", "OR"])
def test_forest_study_rows_are_escalc_values_back_transformed(fits, measure):
    res = fits[measure]
    es = mp.escalc(measure, **ESCALC[measure])
    t = forest_table(res, study_ci="wald")
    f = BACK[measure]
    np.testing.assert_allclose([s.estimate for s in t.studies], f(es.yi), rtol=1e-12)
    np.testing.assert_allclose([s.ci_lower for s in t.studies], f(es.yi - Z * np.sqrt(es.vi)), rtol=1e-12)
    np.testing.assert_allclose([s.ci_upper for s in t.studies], f(es.yi + Z * np.sqrt(es.vi)), rtol=1e-12)
    assert [s.label for s in t.studies] == list(es.slab)
    drawn(forest_plot(t))


def test_forest_of_proportions_shows_exact_study_cis_as_the_rma_forest(fits):
    t = forest_table(fits["PLO"])
    lo, hi = clopper_pearson(X, N, 0.95)
    np.testing.assert_allclose([s.estimate for s in t.studies], X / N, rtol=1e-14)
    np.testing.assert_allclose([s.ci_lower for s in t.studies], lo, rtol=1e-14)
    np.testing.assert_allclose([s.ci_upper for s in t.studies], hi, rtol=1e-14)
    es = mp.escalc("PLO", xi=X, ni=N)
    rma_rows = forest_table(quiet(mp.rma, es), es).studies
    assert [(s.estimate, s.ci_lower, s.ci_upper, s.cells) for s in t.studies] == [
        (s.estimate, s.ci_lower, s.ci_upper, s.cells) for s in rma_rows]
    assert t.study_ci == "Clopper-Pearson" and t.data_headers == ("Events", "Total") and t.percent


@pytest.mark.parametrize("measure, label", [("PLO", "Binomial-normal GLMM"), ("IRLN", "Poisson-normal GLMM"),
                                            ("OR", "UM.FS GLMM")])
def test_forest_pooled_row_is_the_glmm_estimate_back_transformed(fits, measure, label):
    res = fits[measure]
    p, back = forest_table(res).blocks[0].pooled, res.back()
    assert p.label == label and p.k == res.k
    assert (p.estimate, p.ci_lower, p.ci_upper, p.pi_lower, p.pi_upper) == pytest.approx(
        (back.estimate, back.ci_lower, back.ci_upper, back.pi_lower, back.pi_upper), rel=1e-14)
    assert p.estimate == pytest.approx(BACK[measure](res.estimate), rel=1e-14)
    assert f"I\u00b2 = {res.i2:.0f}%" in p.heterogeneity and f"\u03c4\u00b2 = {res.tau2:.3g}" in p.heterogeneity
    assert f"Wald Q = {res.q:.2f} (df = {res.k - 1})" in p.heterogeneity
    assert ("Test for overall effect: z" in p.test) == (measure == "OR")  # a null only for the odds ratio


@pytest.mark.parametrize("measure", ["PLO", "IRLN"])
def test_forest_weights_are_the_glmm_information_shares(fits, measure):
    res = fits[measure]
    t = forest_table(res)
    w = np.array([s.weight for s in t.studies])
    np.testing.assert_allclose(w, influence(res).weight, rtol=1e-12)
    assert w.sum() == pytest.approx(100.0) and "share of the GLMM's information" in t.footer[0]


def test_forest_of_or_fit_has_corrected_log_odds_ratios_and_weights_only_where_defined(fits):
    res = fits["OR"]
    t = forest_table(res)
    w = np.array([s.weight for s in t.studies])
    try:  # the GLMM's information share is defined for one-group counts; the plot says so otherwise
        share = information_share(res)
    except MetapoolError as exc:
        assert np.isnan(w).all() and t.footer == (f"No weights. {exc}",) and "one-group counts" in str(exc)
    else:
        np.testing.assert_allclose(w, 100.0 * share, rtol=1e-14)
    assert t.studies[1].estimate == pytest.approx(0.5 * 40.5 / (50.5 * 12.5), rel=1e-14)  # 1/2 added to the table
    assert t.studies[1].cells == ("0", "50", "12", "52") and t.log_scale and t.null == 1.0
    drawn(forest_plot(fits["OR"], layout="jama"))


def test_forest_of_separated_data_shows_the_exact_interval():
    res = quiet(mp.rma_glmm, "PLO", xi=[0, 0, 0], ni=[10, 20, 15])
    t = forest_table(res)
    p = t.blocks[0].pooled
    assert (p.estimate, p.ci_lower, p.ci_upper) == (res.exact.estimate, res.exact.ci_lower, res.exact.ci_upper)
    assert "separated" in p.heterogeneity and all(np.isnan(s.weight) for s in t.studies)
    drawn(forest_plot(t))
    with pytest.raises(MetapoolError, match="funnel plot needs a pooled estimate"):
        funnel_table(res)


# -- funnel ---------------------------------------------------------------------------------
@pytest.mark.parametrize("measure", ["PLO", "IRLN", "OR"])
def test_funnel_of_study_level_values_around_the_glmm_estimate(fits, measure):
    res = fits[measure]
    es = mp.escalc(measure, **ESCALC[measure])
    tf = trimfill(res)
    t = funnel_table(res, (tf.filled_yi, tf.filled_vi))
    np.testing.assert_allclose(t.yi, es.yi, rtol=1e-14)
    np.testing.assert_allclose(t.sei, np.sqrt(es.vi), rtol=1e-14)
    assert t.estimate == res.estimate and t.filled_yi.size == tf.k0
    assert t.null == (0.0 if measure == "OR" else None)
    drawn(funnel_plot(t, contours=(0.1, 0.05, 0.01)))


# -- leave-one-out and cumulative forests -----------------------------------------------------
@pytest.mark.parametrize("measure", ["PLO", "IRLN"])
@pytest.mark.parametrize("analysis", [leave_one_out, cumulative])
def test_series_forest_of_glmm_refits(fits, measure, analysis):
    res = fits[measure]
    series = analysis(res)
    t = series_forest_table(series, res)
    f = BACK[measure]
    np.testing.assert_allclose([s.estimate for s in t.studies], f(series.estimate), rtol=1e-14)
    np.testing.assert_allclose([s.ci_lower for s in t.studies], f(series.ci_lower), rtol=1e-14)
    p, back = t.blocks[0].pooled, res.back()
    assert p.label == "All studies" and (p.estimate, p.ci_lower, p.ci_upper) == pytest.approx(
        (back.estimate, back.ci_lower, back.ci_upper), rel=1e-14)
    assert "(GLMM)" in t.footer[0]
    drawn(forest_plot(t))


@pytest.mark.parametrize("analysis", [leave_one_out, cumulative])
def test_series_of_or_fits_draw_or_are_clear_errors(fits, analysis):
    res = fits["OR"]
    try:  # refits of GLMMs of 2x2 tables: a clear error where not (yet) defined
        series = analysis(res)
    except MetapoolError as exc:
        assert "one-group counts" in str(exc)
        return
    t = series_forest_table(series, res)
    np.testing.assert_allclose([s.estimate for s in t.studies], np.exp(series.estimate), rtol=1e-14)
    drawn(forest_plot(t))


# -- Doi plot -------------------------------------------------------------------------------
@pytest.mark.parametrize("measure", ["PLO", "IRLN", "OR"])
def test_doi_plot_of_the_study_level_values(fits, measure):
    res = fits[measure]
    study = quiet(mp.rma, mp.escalc(measure, **ESCALC[measure]), method=STUDY_LEVEL_METHOD)
    t = doi_table(res)
    assert t.index == pytest.approx(lfk(study).index, rel=1e-12)
    np.testing.assert_allclose(np.sort(t.yi), np.sort(study.yi), rtol=1e-14)
    assert t.back is not None and "scale" in t.xlabel
    drawn(doi_plot(t))


def test_labbe_of_or_fit_sizes_bubbles_by_study_size(fits):
    res = fits["OR"]
    t = labbe_table(res.effect_sizes(), res)
    n = np.add(OR_CELLS["n1i"], OR_CELLS["n2i"])
    try:  # the GLMM's information share where it is defined, else the study sizes
        expected = 100.0 * information_share(res)
    except MetapoolError:
        expected = 100.0 * n / n.sum()
    np.testing.assert_allclose(t.weight, expected, rtol=1e-14)
    assert t.effect[0] == pytest.approx(res.back().estimate, rel=1e-14)


# -- report -----------------------------------------------------------------------------------
def test_report_glmm_outcomes_get_their_figures(tmp_path):
    from metapool.analysis import run_analysis
    from metapool.report.figures import outcome_figures
    from metapool.report.methods import methods_text
    from metapool.report.render import render_report
    from metapool.spec import load_spec

    rows = zip(X, N, T, OR_CELLS["ai"] + [4], OR_CELLS["n1i"] + [30], OR_CELLS["ci"] + [7], OR_CELLS["n2i"] + [31])
    (tmp_path / "d.csv").write_text("study,x,n,t,a,n1,c,n2\n" + "\n".join(
        f"s{i}," + ",".join(map(str, r)) for i, r in enumerate(rows)))
    (tmp_path / "a.toml").write_text(
        'title = "GLMM figures"\ndata = "d.csv"\nstudy = "study"\n\n[defaults]\nmethod = "GLMM"\n\n'
        '[[outcome]]\nname = "Response"\nkind = "proportion"\nevents = "x"\ntotal = "n"\n\n'
        '[[outcome]]\nname = "Infections"\nkind = "rate"\nevents = "x"\ntime = "t"\nsensitivity = false\n\n'
        '[[outcome]]\nname = "Death"\nkind = "binary"\nevents1 = "a"\ntotal1 = "n1"\nevents2 = "c"\ntotal2 = "n2"\n')
    analysis = quiet(run_analysis, load_spec(tmp_path / "a.toml"))
    response, rate, death = analysis.outcomes
    assert all(isinstance(o.model, mp.GLMMResult) for o in analysis.outcomes)
    # patients: the fit's sizes (both groups of 2x2 tables); rates have person-time, not patients
    assert response.n_patients == int(np.sum(response.model.size))
    assert death.n_patients == int(np.sum(death.model.size)) > int(np.sum(death.model.size[:, 0]))
    assert rate.n_patients is None
    figures = {o.spec.name: quiet(outcome_figures, o, None) for o in analysis.outcomes}
    assert [f.kind for f in figures["Response"]] == ["forest", "funnel", "doi", "baujat", "leave_one_out"]
    assert [f.kind for f in figures["Infections"]] == ["forest", "funnel", "doi"]
    refits = [kind for kind in ("baujat", "leave_one_out")  # refits of 2x2 tables: where defined
              if getattr(death, "influence" if kind == "baujat" else kind) is not None]
    assert [f.kind for f in figures["Death"]] == ["forest", "funnel", "doi", *refits, "labbe"]
    assert refits or "one-group" in death.skipped["leave_one_out"]
    assert "Binomial-normal GLMM" in figures["Response"][0].svg and "UM.FS GLMM" in figures["Death"][0].svg
    html = render_report(analysis, figures)
    assert html.count("Forest plot: ") >= 3 and "Leave-one-out forest plot: Response" in html
    text, _ = methods_text(analysis)
    for pooled in ("proportions (binomial-normal model)", "incidence rates (Poisson-normal model)", "odds ratios"):
        assert f"generalised linear mixed model of the {pooled}" in text
    assert "forest, funnel and Doi plots show the study-level estimates" in text


def test_effect_sizes_csv_has_the_glmm_weights_by_row(tmp_path):
    """GLMM outcomes get weight_percent in effect_sizes.csv: the fit's weights, mapped to rows by index."""
    import csv

    from metapool.analysis import run_analysis
    from metapool.report.render import write_outputs
    from metapool.spec import load_spec

    a, n1, c, n2 = (OR_CELLS[r] for r in ("ai", "n1i", "ci", "n2i"))
    lines = [f"s{i},{a[i]},{n1[i]},{c[i]},{n2[i]}" for i in range(len(a))]
    lines.insert(2, "s1,,30,7,31")  # a row without counts, and a repeated label: rows, not labels
    (tmp_path / "d.csv").write_text("study,a,n1,c,n2\n" + "\n".join(lines))
    (tmp_path / "a.toml").write_text(
        'title = "GLMM weights"\ndata = "d.csv"\nstudy = "study"\n\n[defaults]\nmethod = "GLMM"\n\n'
        '[[outcome]]\nname = "Death"\nkind = "binary"\nevents1 = "a"\ntotal1 = "n1"\nevents2 = "c"\ntotal2 = "n2"\n'
        'sensitivity = false\nbias = false\n')
    analysis = quiet(run_analysis, load_spec(tmp_path / "a.toml"))
    model = analysis.outcomes[0].model
    assert isinstance(model, mp.GLMMResult) and model.rows.tolist() == [0, 1, 3, 4, 5]
    quiet(write_outputs, analysis, tmp_path / "out")
    with open(tmp_path / "out" / "effect_sizes.csv", newline="", encoding="utf-8") as f:
        weights = [r["weight_percent"] for r in csv.DictReader(f)]
    assert weights[2] == ""
    np.testing.assert_allclose([float(w) for i, w in enumerate(weights) if i != 2], model.weights, rtol=1e-12)
    assert sum(model.weights) == pytest.approx(100.0)
