"""Doi, Baujat, bubble and L'Abbe plots, and the report's follow-up figures.

Tables hold the right numbers; every plot renders (Agg).
"""

from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import metapool as mp  # noqa: E402
from metapool.bias import lfk  # noqa: E402
from metapool.plots.ticks import RATIO_TICKS  # noqa: E402
from metapool.datasets import load_dataset  # noqa: E402
from metapool.exceptions import DataValidationError  # noqa: E402
from metapool.influence import baujat  # noqa: E402
from metapool.plots import (  # noqa: E402
    baujat_plot,
    baujat_table,
    bubble_plot,
    bubble_table,
    doi_plot,
    doi_table,
    labbe_plot,
    labbe_table,
)
from metapool.plots.bubble import numeric_moderators  # noqa: E402
from metapool.plots.labbe import pooled_curve  # noqa: E402


@pytest.fixture(scope="module")
def bcg():
    import pandas as pd

    from metapool import datasets

    return pd.read_csv(Path(datasets.__file__).parent / "data" / "bcg.csv")


@pytest.fixture(scope="module")
def rr(bcg):
    es = mp.escalc("RR", bcg, ai="tpos", bi="tneg", ci="cpos", di="cneg", slab="author")
    return es, mp.rma(es)


@pytest.fixture(scope="module")
def prop():
    data = load_dataset("pritz1997")
    es = mp.escalc("PLO", data, xi="xi", ni="ni", slab="authors")
    return es, mp.rma(es)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_doi_table_and_plot(prop):
    _, res = prop
    ref = lfk(res)
    t = doi_table(ref, res)
    np.testing.assert_array_equal(t.yi, ref.yi)
    np.testing.assert_array_equal(t.abs_z, np.abs(ref.z))
    assert np.all(np.diff(t.yi) >= 0) and t.index == ref.index and t.back is not None
    assert t.xlabel == "Proportion (log odds scale)"
    ax = doi_plot(res, title="Doi")
    bottom, top = ax.get_ylim()
    assert bottom > 0.0 > top and min(ax.get_yticks()) == 0.0  # |Z| = 0 at the top, a strip above it
    assert any(f"LFK index = {ref.index:.2f}: {ref.interpretation}" == s for s in _texts(ax))
    ax.figure.canvas.draw()  # the legend lies in the strip above every study (never over the curve)
    lowest = min(ax.transAxes.inverted().transform(t.get_window_extent())[0, 1] for t in ax.texts)
    highest_study = ax.transAxes.inverted().transform(ax.transData.transform((0.0, 0.0)))[1]
    assert lowest > highest_study


def test_baujat_table_and_plot(rr):
    _, res = rr
    ref = baujat(res)
    t = baujat_table(ref, label_top=3)
    np.testing.assert_array_equal(t.x, ref.x)
    np.testing.assert_array_equal(t.y, ref.y)
    top = set(np.argsort(-ref.x)[:3]) | set(np.argsort(-ref.y)[:3])
    assert set(np.flatnonzero(t.labelled)) == top
    ax = baujat_plot(res, label_top=3)
    assert sorted(_texts(ax)) == sorted(t.labels[i] for i in top)
    assert baujat_table(res, label_top=10).labelled.all()  # k = 13 <= 2 * 10: every study named


def test_bubble_table_follows_the_regression_line(bcg, rr):
    es, _ = rr
    reg = mp.rma(es, mods=["ablat"], data=bcg)
    t = bubble_table(reg, points=11)
    b0, b1 = reg.coefficients.estimate
    np.testing.assert_allclose(t.grid, np.linspace(bcg.ablat.min(), bcg.ablat.max(), 11))
    np.testing.assert_allclose(t.fit, np.exp(b0 + b1 * t.grid), rtol=1e-12)  # natural scale: risk ratio
    pred = reg.predict(newmods=[[t.grid[3]]])[0]
    np.testing.assert_allclose([t.ci_lower[3], t.ci_upper[3]], np.exp([pred.ci_lower, pred.ci_upper]), rtol=1e-12)
    np.testing.assert_allclose(t.yi, np.exp(reg.yi))
    np.testing.assert_array_equal(t.x, bcg.ablat.to_numpy(float))
    assert t.ylabel == "Risk ratio" and t.xlabel == "ablat" and t.note == ""
    ax = bubble_plot(t)
    assert len(ax.collections) >= 2  # band and bubbles
    assert t.log_scale and ax.get_yscale() == "log"  # ratios on the log scale, as metafor's regplot
    ax.figure.canvas.draw()
    labels = [lab.get_text() for lab in ax.get_yticklabels() if lab.get_text()]
    assert labels and all(float(v) in RATIO_TICKS for v in labels)  # natural values: 0.2, 0.5, 1 ...
    log = bubble_table(reg, natural=False)
    assert log.ylabel == "Log risk ratio" and not log.log_scale


def test_bubble_uses_the_first_numeric_moderator_and_holds_others_at_their_means(bcg, rr):
    es, _ = rr
    reg = mp.rma(es, mods=["alloc", "year", "ablat"], data=bcg)
    assert numeric_moderators(reg) == ("year", "ablat")  # dummies of alloc are not numeric
    t = bubble_table(reg, points=5, natural=False)
    assert t.xlabel == "year" and "ablat" in t.note
    names = reg.coefficients.names
    x = reg.X.mean(axis=0)
    x[names.index("year")] = t.grid[2]
    np.testing.assert_allclose(t.fit[2], x @ reg.coefficients.estimate, rtol=1e-12)
    with pytest.raises(DataValidationError):
        bubble_table(rr[1])  # no moderators
    with pytest.raises(DataValidationError):
        bubble_table(reg, moderator="nope")


def test_labbe_table_and_pooled_curves(bcg, rr):
    es, res = rr
    t = labbe_table(es, res)
    np.testing.assert_allclose(t.p1, bcg.tpos / (bcg.tpos + bcg.tneg))
    np.testing.assert_allclose(t.p2, bcg.cpos / (bcg.cpos + bcg.cneg))
    np.testing.assert_allclose(t.weight, res.weights)
    assert t.kind == "risk ratio" and t.effect[0] == pytest.approx(np.exp(res.estimate))
    p2 = np.array([0.1, 0.3])
    np.testing.assert_allclose(pooled_curve("risk ratio", 0.5, p2), [0.05, 0.15])
    p1 = pooled_curve("odds ratio", 2.0, p2)
    np.testing.assert_allclose(p1 / (1 - p1) / (p2 / (1 - p2)), 2.0)
    np.testing.assert_allclose(pooled_curve("risk difference", -0.05, p2), [0.05, 0.25])
    ax = labbe_plot(es, result=res)
    assert ax.get_xlim() == ax.get_ylim() and ax.get_xlim()[1] <= 1.0
    assert labbe_table(es).weight.sum() == pytest.approx(100.0)  # without a model: by study size


def test_labbe_needs_two_group_counts(prop):
    with pytest.raises(DataValidationError, match="L'Abbe"):
        labbe_table(prop[0])


SPEC = """title = "BCG"
data = "bcg.csv"
study = "author"

[[outcome]]
name = "TB"
kind = "binary"
measure = "RR"
events1 = "tpos"
total1 = "n1"
events2 = "cpos"
total2 = "n2"
subgroup = "alloc"
mods = ["ablat"]
"""


def test_report_draws_every_follow_up_figure(tmp_path, bcg):
    from metapool.analysis import run_analysis
    from metapool.report.figures import outcome_figures
    from metapool.spec import load_spec

    bcg.assign(n1=bcg.tpos + bcg.tneg, n2=bcg.cpos + bcg.cneg).to_csv(tmp_path / "bcg.csv", index=False)
    (tmp_path / "a.toml").write_text(SPEC)
    outcome = run_analysis(load_spec(tmp_path / "a.toml")).outcomes[0]
    figs = outcome_figures(outcome, tmp_path)
    kinds = [f.kind for f in figs]
    assert kinds == ["forest", "funnel", "subgroups", "bubble", "doi", "baujat", "leave_one_out", "labbe"]
    for f in figs:
        assert f.svg.lstrip().startswith("<?xml") and "<svg" in f.svg
        assert [p.rsplit(".", 1)[1] for p in f.files] == ["svg", "png"]
    assert figs[2].caption.startswith("Forest plot by alloc, with the test for subgroup differences")
