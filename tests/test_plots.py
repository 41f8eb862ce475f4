"""Forest and funnel plots: tables hold the right numbers, every plot renders (Agg)."""

import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from scipy import stats

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import metapool as mp  # noqa: E402
from metapool.datasets import load_dataset  # noqa: E402
from metapool.plots import (  # noqa: E402
    ForestBlock,
    ForestTable,
    clopper_pearson,
    figure_svg,
    forest_plot,
    forest_table,
    forest_table_subgroups,
    funnel_plot,
    funnel_table,
    pooled_row,
    save_figure,
    series_forest_table,
    wilson,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def orr():
    es = mp.escalc("PLO", load_dataset("aml_hma_ven_synthetic"), xi="orr_events", ni="n", slab="study")
    return es, mp.rma(es)


@pytest.fixture(scope="module")
def bcg():
    es = mp.escalc("RR", load_dataset("bcg"), ai="tpos", bi="tneg", ci="cpos", di="cneg", slab="author")
    return es, mp.rma(es)


def test_clopper_pearson_equals_scipy_exact_ci():
    x = np.array([0, 1, 7, 20, 39])
    n = np.array([12, 30, 39, 39, 39])
    lo, hi = clopper_pearson(x, n, 0.95)
    for i in range(x.size):
        ci = stats.binomtest(int(x[i]), int(n[i])).proportion_ci(0.95, method="exact")
        assert (lo[i], hi[i]) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_wilson_equals_scipy_wilson_ci():
    lo, hi = wilson([0, 5, 17], [20, 40, 17], 0.9)
    for i, (x, n) in enumerate([(0, 20), (5, 40), (17, 17)]):
        ci = stats.binomtest(x, n).proportion_ci(0.9, method="wilson")
        assert (lo[i], hi[i]) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_forest_table_single_proportions(orr):
    es, res = orr
    t = forest_table(res, es)
    studies = t.studies
    assert len(studies) == res.k == 32 and t.percent and t.null is None and not t.log_scale
    assert t.data_headers == ("Events", "Total") and t.study_ci == "Clopper-Pearson"
    xi, ni = es.cells["xi"], es.ni
    for s, x, n, w in zip(studies, xi, ni, res.weights):
        ci = stats.binomtest(int(x), int(n)).proportion_ci(0.95, method="exact")
        assert (s.ci_lower, s.ci_upper) == pytest.approx((ci.low, ci.high), abs=1e-12)
        assert s.estimate == x / n and s.weight == w and s.cells == (f"{x:.0f}", f"{n:.0f}")
    pooled = t.blocks[0].pooled
    back = res.back()
    assert (pooled.estimate, pooled.ci_lower, pooled.ci_upper, pooled.pi_lower, pooled.pi_upper) == (
        back.estimate, back.ci_lower, back.ci_upper, back.pi_lower, back.pi_upper)
    assert pooled.n == 2289 and "I\u00b2 = 83%" in pooled.heterogeneity
    wil = forest_table(res, es, study_ci="wilson").studies[0]
    assert (wil.ci_lower, wil.ci_upper) == pytest.approx(tuple(np.ravel(wilson(xi[0], ni[0]))))
    wald = forest_table(res, es, study_ci="wald").studies[0]
    z = stats.norm.ppf(0.975)
    assert wald.ci_lower == pytest.approx(1 / (1 + np.exp(-(res.yi[0] - z * np.sqrt(res.vi[0])))))


def test_forest_table_ratios(bcg):
    es, res = bcg
    t = forest_table(res, es)
    assert t.log_scale and t.null == 1.0 and t.effect_label == "Risk ratio"
    s = t.studies[0]
    assert s.estimate == pytest.approx(np.exp(res.yi[0]))
    assert s.cells == ("4", "123", "11", "139")  # RevMan's layout: events and total per arm
    assert t.data_headers == ("Events", "Total") * 2 and t.column_groups == (("Group 1", 2), ("Group 2", 2))
    assert t.blocks[0].pooled.cells == tuple(f"{int(v.sum()):,}" for v in (es.cells["ai"], es.cells["ai"] + es.cells["bi"],
                                                                           es.cells["ci"], es.cells["ci"] + es.cells["di"]))
    assert t.blocks[0].pooled.test.startswith("Test for overall effect: z = ")
    rec = t.to_frame()
    assert list(rec["row"]).count("pooled") == 1 and len(rec) == 14


def test_forest_table_rejects_mismatched_effect_sizes(orr, bcg):
    with pytest.raises(ValueError, match="do not match"):
        forest_table(orr[1], bcg[0])


@pytest.mark.parametrize("layout", ["revman", "jama"])
def test_forest_plot_renders(orr, bcg, layout, tmp_path):
    es, res = orr
    ax = forest_plot(res, effect_sizes=es, layout=layout, title="ORR (SYNTHETIC)")
    assert isinstance(ax, matplotlib.axes.Axes)
    texts = {t.get_text() for t in ax.texts}
    assert "Quintero 2018" in texts and "Random-effects model (REML)" in texts
    paths = save_figure(ax, tmp_path / f"forest_{layout}", dpi=50)
    assert [p.suffix for p in paths] == [".svg", ".png"] and all(p.stat().st_size > 1000 for p in paths)
    ax2 = forest_plot(bcg[1], effect_sizes=bcg[0], layout=layout, favours=("Favours BCG", "Favours control"))
    assert ax2.get_xscale() == "log"


def test_forest_plot_other_measures_and_own_axes():
    md = mp.escalc("MD", load_dataset("normand1999"), m1i="m1i", sd1i="sd1i", n1i="n1i", m2i="m2i",
                   sd2i="sd2i", n2i="n2i", slab="source")  # fmt: skip
    ax = forest_plot(mp.rma(md), effect_sizes=md)
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("Total") == 2 and "548" in texts and "610" in texts  # per-arm N and their sums
    gen = mp.rma([0.1, 0.3, -0.2], [0.04, 0.02, 0.05])
    fig, own = plt.subplots()
    assert forest_plot(gen, own) is own


def test_forest_plot_many_studies_and_long_labels():
    rng = np.random.default_rng(3)
    k = 110
    n = rng.integers(20, 300, k)
    x = rng.binomial(n, 0.4)
    labels = [f"Study {i} " + "x" * (90 if i == 5 else 0) for i in range(k)]
    es = mp.escalc("PLO", xi=x, ni=n, slab=labels)
    ax = forest_plot(mp.rma(es), effect_sizes=es, max_label_chars=40)
    long = [t.get_text() for t in ax.texts if t.get_text().startswith("Study 5 ")]
    assert long == ["Study 5 " + "x" * 31 + "\u2026"]
    assert ax.figure.get_figheight() > 0.2 * k  # rows keep their height


def test_forest_plot_subgroup_blocks(orr):
    data = load_dataset("aml_hma_ven_synthetic").to_frame()
    blocks = []
    for agent in ("azacitidine", "decitabine"):
        sub = data[data.hma == agent]
        es = mp.escalc("PLO", sub, xi="cr_events", ni="n", slab="study")
        res = mp.rma(es)
        blocks.append(ForestBlock(agent, forest_table(res, es).studies, pooled_row(res, "Subgroup")))
    table = ForestTable(tuple(blocks), "Proportion", percent=True, data_headers=("Events", "Total"),
                        overall=pooled_row(orr[1]), footer=("Test for subgroup differences: see text",))  # fmt: skip
    ax = forest_plot(table, layout="revman")
    texts = [t.get_text() for t in ax.texts]
    assert "azacitidine" in texts and "decitabine" in texts and texts.count("Subgroup") == 2
    assert any(t.startswith("Test for subgroup differences") for t in texts)


def test_funnel_table_and_plot(bcg, tmp_path):
    es, res = bcg
    t = funnel_table(res)
    assert t.sei == pytest.approx(np.sqrt(res.vi)) and t.estimate == res.estimate and t.null == 0.0
    filled = (np.array([0.1, 0.3]), np.array([0.05, 0.2]))
    ax = funnel_plot(res, filled=filled, contours=(0.1, 0.05, 0.01), title="BCG")
    assert isinstance(ax, matplotlib.axes.Axes)
    open_pts = ax.collections[-1]
    assert np.allclose(open_pts.get_offsets(), np.column_stack([filled[0], np.sqrt(filled[1])]))
    assert [lab.get_text() for lab in ax.get_legend().get_texts()][:4] == ["p > 0.1", "p < 0.1", "p < 0.05", "p < 0.01"]
    assert figure_svg(ax).lstrip().startswith("<?xml")


def test_funnel_plot_proportions_natural_ticks(orr):
    ax = funnel_plot(orr[1])
    labels = [lab.get_text() for lab in ax.get_xticklabels()]
    assert "0.5" in labels and ax.get_legend() is None


def test_import_metapool_plots_is_lazy():
    code = "import sys, metapool.plots; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_forest_reported_cis_with_not_reached_upper_limit():
    from metapool.medians import pool_median_survival

    data = load_dataset("aml_hma_ven_synthetic")
    res = pool_median_survival("os_median_months", "os_median_lower", "os_median_upper", data, slab="study", ni="n")
    t = forest_table(res, effect_label="Median OS (months)", reported_ci=(data["os_median_lower"], data["os_median_upper"]))
    jansen = next(s for s in t.studies if s.label == "Jansen 2021")
    assert (jansen.estimate, jansen.ci_lower, jansen.ci_upper) == (12.1, 8.4, np.inf)
    assert t.study_ci.startswith("as reported")
    ax = forest_plot(t, layout="jama", digits=1)
    assert "12.1 (8.4\u2013NR)" in {x.get_text() for x in ax.texts}
    with pytest.raises(ValueError, match="reported_ci"):
        forest_table(res, reported_ci=([1.0, 2.0], [3.0, 4.0]))


def test_funnel_contours_only_where_there_is_a_null(orr):
    gen = mp.rma([7.9, 9.5, 6.9, 12.0], [1.2, 0.9, 1.5, 2.0])
    assert funnel_table(gen).null is None and funnel_table(orr[1]).null is None
    ax = funnel_plot(gen, contours=(0.1, 0.05, 0.01))
    assert ax.get_legend() is None and ax.get_xlim()[0] > 0


def test_forest_table_from_subgroup_analysis(bcg):
    from metapool.moderators.subgroups import subgroup_analysis

    es, res = bcg
    sub = subgroup_analysis(es, "alloc", load_dataset("bcg"))
    t = forest_table_subgroups(sub, es, overall=res)
    assert [b.title for b in t.blocks] == ["alternate", "random", "systematic"]
    assert sum(len(b.studies) for b in t.blocks) == 13 and t.overall.estimate == pytest.approx(np.exp(res.estimate))
    for b, fit in zip(t.blocks, sub.fits):
        assert b.pooled.estimate == pytest.approx(np.exp(fit.estimate))
        assert [s.label for s in b.studies] == list(fit.slab)
    # the two "Rosenthal et al" studies keep their own counts
    cells = {s.cells for b in t.blocks for s in b.studies if s.label == "Rosenthal et al"}
    assert cells == {("3", "231", "11", "220"), ("17", "1,716", "65", "1,665")}
    assert t.footer[0].startswith("Test for subgroup differences (alloc): \u03c7\u00b2 = ")
    assert t.overall.cells == forest_table(res, es).blocks[0].pooled.cells  # totals of all studies
    for b in t.blocks:  # weights within each subgroup by default
        assert sum(s.weight for s in b.studies) == pytest.approx(100.0)
    w = forest_table_subgroups(sub, es, overall=res, weights="overall")
    by_label = {(s.label, s.cells): s.weight for s in forest_table(res, es).studies}
    assert all(s.weight == pytest.approx(by_label[s.label, s.cells]) for s in w.studies)
    assert sum(s.weight for s in w.studies) == pytest.approx(100.0) and "overall model" in w.footer[-1]
    with pytest.raises(ValueError, match="overall model"):
        forest_table_subgroups(sub, es, weights="overall")
    ax = forest_plot(t)
    assert "systematic" in {x.get_text() for x in ax.texts}
    with pytest.raises(ValueError, match="separate"):
        forest_table_subgroups(subgroup_analysis(es, "alloc", load_dataset("bcg"), tau2="common"), es)


@pytest.mark.filterwarnings("ignore:All studies report zero events")
def test_forest_with_one_and_two_studies():
    es1 = mp.escalc("PLO", xi=[0], ni=[25], slab=["Only"])
    t1 = forest_table(mp.rma(es1), es1)
    p1 = t1.blocks[0].pooled
    assert t1.studies[0].ci_lower == 0.0 and np.isnan(p1.pi_lower) and "not estimable" in p1.heterogeneity
    es2 = mp.escalc("PLO", xi=[3, 30], ni=[25, 30], slab=["A", "B"])
    p2 = forest_table(mp.rma(es2), es2).blocks[0].pooled
    assert np.isnan(p2.pi_lower) and p2.heterogeneity.startswith("Heterogeneity: I\u00b2")
    for es in (es1, es2):
        assert [t.get_text() for t in forest_plot(mp.rma(es), effect_sizes=es).texts].count("Prediction interval") == 0


def test_leave_one_out_forest(orr):
    from metapool.influence.leave_one_out import leave_one_out

    es, res = orr
    loo = leave_one_out(res)
    t = series_forest_table(loo, res)
    first = t.studies[0]
    assert first.label == "Omitting " + res.slab[0] and first.cells[0] == str(res.k - 1)
    assert first.estimate == pytest.approx(1 / (1 + np.exp(-loo.estimate[0])))
    assert t.blocks[0].pooled.cells == (str(res.k), f"{res.i2:.0f}%")
    texts = {x.get_text() for x in forest_plot(t).texts}
    assert "Weight" not in texts and "All studies" in texts
