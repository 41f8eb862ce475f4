"""Figures without defects: no text over another text, nothing cut, in the extreme cases (issue 13).

Every plot kind of the report (forest in both layouts, subgroup forest with
overall weights, funnel, bubble, Doi, Baujat, L'Abbe, leave-one-out forest)
is drawn for k = 1, k = 100, study labels of 80 characters, CIs spanning five
orders of magnitude and studies that are all identical, and measured with
matplotlib's renderer (Agg, low dpi, nothing written to disk):

- no two texts overlap (``Text.get_window_extent``, with a pixel of tolerance);
- nothing is cut: every text lies inside the figure's tight bounding box (what
  ``bbox_inches="tight"`` saves), a text clipped to its axes lies inside them,
  and markers clipped to the axes (bubbles) lie wholly inside them.
"""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import metapool as mp  # noqa: E402
from metapool.exceptions import MetapoolError  # noqa: E402
from metapool.influence import leave_one_out  # noqa: E402
from metapool.moderators.subgroups import subgroup_analysis  # noqa: E402
from metapool.plots import (baujat_plot, bubble_plot, doi_plot, forest_plot, forest_table,  # noqa: E402
                            forest_table_subgroups, funnel_plot, labbe_plot, series_forest_table)  # fmt: skip

DPI = 40
TOL = 1.0  # pixels


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _case(name: str):
    """Two-group counts (ai, n1i, ci, n2i), study labels and a numeric moderator for one extreme case."""
    rng = np.random.default_rng(13)
    if name == "k1":
        return np.array([12]), np.array([60]), np.array([20]), np.array([58]), ["Only trial"], np.array([1.0])
    if name == "identical":
        k = 6
        return (np.full(k, 10), np.full(k, 50), np.full(k, 15), np.full(k, 50),
                [f"Trial {i + 1}" for i in range(k)], np.arange(k, dtype=float))  # fmt: skip
    if name == "orders":  # study ORs and CIs from about 0.001 to 1000
        ai = np.array([0, 1, 2, 30, 60, 99, 100, 40])
        ci = np.array([100, 99, 60, 30, 2, 1, 0, 40])
        n = np.full(8, 100)
        return ai, n, ci, n, [f"Trial {i + 1}" for i in range(8)], np.linspace(0, 1, 8)
    k = 100 if name == "k100" else 12
    n1, n2 = rng.integers(20, 400, k), rng.integers(20, 400, k)
    ai, ci = rng.binomial(n1, rng.uniform(0.05, 0.6, k)), rng.binomial(n2, rng.uniform(0.05, 0.6, k))
    if name == "long":
        labels = [f"{i + 1:02d} " + ("Very long study label of an investigator group et al. " * 3)[:77] for i in range(k)]
    else:
        labels = [f"Study {i + 1}" for i in range(k)]
    return ai, n1, ci, n2, labels, rng.uniform(0, 10, k)


def _figures(name: str):
    """(kind, axes) of every figure the case supports (those the data do not support are left out, as in the report)."""
    ai, n1, ci, n2, labels, x = _case(name)
    es = mp.escalc("OR", ai=ai, n1i=n1, ci=ci, n2i=n2, slab=labels)
    res = mp.rma(es)
    arms = ("Magnesium sulphate by intravenous infusion over twenty-four hours", "Placebo")
    draws = {
        "forest": lambda: forest_plot(forest_table(res, es, arms=arms, favours=("Magnesium", "Control")),
                                      title=f"Death ({name})"),
        "forest_jama": lambda: forest_plot(res, effect_sizes=es, layout="jama", favours=("A", "B")),
        "funnel": lambda: funnel_plot(res, contours=(0.1, 0.05, 0.01), title=name),
        "bubble": lambda: bubble_plot(mp.rma(es, mods=x), title=name),
        "doi": lambda: doi_plot(res, title=name),
        "baujat": lambda: baujat_plot(res, title=name),
        "labbe": lambda: labbe_plot(es, result=res, title=name),
        "leave_one_out": lambda: forest_plot(series_forest_table(leave_one_out(res), res), title=name),
    }
    if len(labels) == 100:  # the 100-row layouts of these are those of the forest plot (time: 20 s less)
        del draws["forest_jama"]
    elif len(labels) >= 4:
        group = np.where(np.arange(len(labels)) % 2 == 0, "early", "late")
        sub = subgroup_analysis(es, group)
        draws["subgroups"] = lambda: forest_plot(forest_table_subgroups(sub, es, overall=res, weights="overall",
                                                                        arms=arms), title=name)  # fmt: skip
    out = []
    for kind, draw in draws.items():
        try:
            out.append((kind, draw()))
        except MetapoolError:
            continue
    return out


def _drawn_tick_labels(axis) -> tuple[set, list]:
    """All tick label texts of an axis, and those drawn (their tick inside the view interval)."""
    lo, hi = sorted(axis.get_view_interval())
    every, drawn = set(), []
    for tick in (*axis.get_major_ticks(), *axis.get_minor_ticks()):
        every |= {id(tick.label1), id(tick.label2)}
        loc = axis.get_transform().transform([tick.get_loc()])[0]
        span = axis.get_transform().transform([lo, hi])
        if tick.get_visible() and min(span) - 1e-9 <= loc <= max(span) + 1e-9:
            drawn += [t for t in (tick.label1, tick.label2) if t.get_visible()]
    return every, drawn


def _texts(fig, renderer):
    """The texts drawn in ``fig`` (tick labels of ticks outside the view are not) and their boxes in pixels."""
    ticks, drawn = set(), []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            every, shown = _drawn_tick_labels(axis)
            ticks |= every
            drawn += shown
    texts = [t for t in fig.findobj(Text) if id(t) not in ticks and t.get_visible()] + drawn
    texts = [t for t in texts if t.get_text().strip()]
    return texts, np.array([t.get_window_extent(renderer).extents for t in texts]).reshape(-1, 4)


def _problems(fig) -> list[str]:
    fig.set_dpi(DPI)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts, box = _texts(fig, renderer)
    problems = []
    # pairs of texts whose boxes overlap by more than the tolerance in both directions
    x0, y0, x1, y1 = (box[:, i][:, None] for i in range(4))
    over = (np.minimum(x1, x1.T) - np.maximum(x0, x0.T) > TOL) & (np.minimum(y1, y1.T) - np.maximum(y0, y0.T) > TOL)
    for i, j in zip(*np.nonzero(np.triu(over, 1))):
        problems.append(f"{texts[i].get_text()!r} overlaps {texts[j].get_text()!r}")
    tight = fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans)
    for t, (a, b, c, d) in zip(texts, box):
        if a < tight.x0 - TOL or b < tight.y0 - TOL or c > tight.x1 + TOL or d > tight.y1 + TOL:
            problems.append(f"{t.get_text()!r} lies outside the saved figure")
        clip = t.get_clip_box() if t.get_clip_on() else None
        if clip is not None and (a < clip.x0 - TOL or b < clip.y0 - TOL or c > clip.x1 + TOL or d > clip.y1 + TOL):
            problems.append(f"{t.get_text()!r} is cut by its axes")
    for ax in fig.axes:
        for coll in ax.collections:
            if not isinstance(coll, PathCollection) or not coll.get_clip_on() or not len(coll.get_offsets()):
                continue
            centres = coll.get_offset_transform().transform(coll.get_offsets())
            sizes = np.broadcast_to(coll.get_sizes(), (len(centres),)) if len(coll.get_sizes()) else np.zeros(len(centres))
            r = np.sqrt(sizes / np.pi) * fig.dpi / 72.0  # marker radius in pixels (area in points^2)
            bb = ax.bbox
            cut = ((centres[:, 0] - r < bb.x0 - TOL) | (centres[:, 0] + r > bb.x1 + TOL)
                   | (centres[:, 1] - r < bb.y0 - TOL) | (centres[:, 1] + r > bb.y1 + TOL))  # fmt: skip
            if np.any(cut & np.isfinite(centres).all(axis=1)):
                problems.append(f"{int(cut.sum())} marker(s) cut by the axes")
    return problems


CASES = ["k1", "k100", "long", "orders", "identical"]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("case", CASES)
def test_no_text_overlaps_and_nothing_is_cut(case):
    figures = _figures(case)
    kinds = {k for k, _ in figures}
    assert {"forest", "labbe"} <= kinds and ("forest_jama" in kinds) == (case != "k100")
    if case != "k1":
        assert {"funnel", "baujat", "leave_one_out", "bubble"} <= kinds
        assert ("subgroups" in kinds) == (case != "k100")
        assert ("doi" in kinds) == (case != "identical")  # the LFK index needs effect sizes that differ
    found = {kind: _problems(ax.figure) for kind, ax in figures}
    assert {kind: p for kind, p in found.items() if p} == {}


def test_log_axis_labels_from_001_to_100_do_not_collide():
    """ORs spanning 0.01 to 100 on the default 3-inch axis: labels thinned (decades), none overlapping."""
    es = mp.escalc("OR", ai=[1, 10, 99], n1i=[100] * 3, ci=[50, 10, 1], n2i=[100] * 3)
    table = forest_table(mp.rma(es), es)
    ax = forest_plot(table, xlim=(0.01, 100))
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels[0] == "0.01" and labels[-1] == "100" and "1" in labels
    assert _problems(ax.figure) == []
    wide = forest_plot(table, xlim=(0.01, 100), plot_width=12.0)  # room enough: 1, 2, 5 of every decade
    wide.figure.canvas.draw()
    assert len([t for t in wide.get_xticklabels() if t.get_text()]) == 13
