"""Doi plot: folded normal quantiles (|Z-score|) against effect size, with the LFK index.

Drawn from a :class:`DoiTable` built by :func:`doi_table` from an
:class:`~metapool.bias.LFKResult`. Studies are joined in order of effect size;
without asymmetry they form a symmetric "mountain" whose peak (|Z| near 0,
drawn at the top) is the most precise study. The LFK index is annotated with
its interpretation band (|LFK| <= 1 no, 1-2 minor, > 2 major asymmetry) in a
strip above |Z| = 0, where no study can be, so it never covers the curve.

References
----------
Furuya-Kanamori L, Barendregt JJ, Doi SAR (2018). A new improved graphical
and quantitative method for detecting bias in meta-analysis. Int J Evid Based
Healthc 16:195-203.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._axes import POINT_COLOR, effect_label, finish_axes, new_axes

__all__ = ["DoiTable", "doi_table", "doi_plot", "LFK_BAND_COLORS"]

#: Colour of the LFK annotation by interpretation band.
LFK_BAND_COLORS = {"no asymmetry": "#2e7d32", "minor asymmetry": "#d17f00", "major asymmetry": "#c62828"}
_STRIP = 0.17  # share of the axes' height above |Z| = 0 kept for the LFK legend (never over the curve)


@dataclass(frozen=True)
class DoiTable:
    """What a Doi plot shows: studies sorted by effect (analysis scale) with their |Z|.

    ``back`` maps analysis-scale values to the natural scale for the tick
    labels (None: label the analysis scale).
    """

    yi: np.ndarray
    abs_z: np.ndarray
    labels: tuple
    index: float
    interpretation: str
    xlabel: str = "Effect size"
    back: object = None


def doi_table(data, model=None, *, natural_ticks: bool = True) -> DoiTable:
    """Build the Doi-plot table.

    Parameters
    ----------
    data
        An :class:`~metapool.bias.LFKResult`, or a fitted model (then
        :func:`metapool.bias.lfk` is applied to it; a GLMM fit's LFK index is
        that of its study-level effect sizes, see :mod:`metapool.bias.glmm`).
    model
        The model the LFK index was computed from; names the axis and gives
        natural-scale tick labels (default: ``data`` when it is a model).
    natural_ticks
        Label the x axis on the natural scale where the measure has a
        back-transformation (not for Freeman-Tukey).
    """
    from ..bias.lfk import LFKResult, lfk

    if not isinstance(data, LFKResult):
        model = data if model is None else model
        data = lfk(data)
    xlabel, back = "Effect size", None
    if model is not None:
        t = model.back_transform
        back = t if natural_ticks and t is not None and not t.needs_ni else None
        xlabel = effect_label(model.measure, natural=False)
        if back is not None:
            xlabel = f"{effect_label(model.measure, natural=True)} ({xlabel.lower()} scale)"
    return DoiTable(yi=np.asarray(data.yi, dtype=float), abs_z=np.asarray(data.abs_z, dtype=float),
                    labels=tuple(data.slab), index=float(data.index), interpretation=data.interpretation,
                    xlabel=xlabel, back=back)  # fmt: skip


def doi_plot(data, ax=None, *, model=None, title: str | None = None):
    """Draw a Doi plot and return its axes.

    Parameters
    ----------
    data
        A :class:`DoiTable`, an :class:`~metapool.bias.LFKResult` or a fitted
        model (see :func:`doi_table`).
    ax
        Axes to draw in; a new 4.8 x 4 inch figure by default.
    model
        As for :func:`doi_table`.
    title
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from .funnel import _natural_ticks

    t = data if isinstance(data, DoiTable) else doi_table(data, model)
    ax = new_axes(ax)
    from matplotlib.ticker import MaxNLocator

    tip = int(np.argmin(t.abs_z))
    bottom = max(float(np.max(t.abs_z)) * 1.08, 1.0)
    top = -_STRIP * bottom / (1.0 - _STRIP)  # a strip above |Z| = 0 that no study reaches, for the legend
    ax.plot([t.yi[tip]] * 2, [0.0, bottom], color="#999999", lw=0.7, ls=(0, (2, 2)), zorder=1)
    ax.plot(t.yi, t.abs_z, color=POINT_COLOR, lw=1.0, marker="o", ms=4.5, mfc=POINT_COLOR, mec="white",
            mew=0.5, zorder=3)  # fmt: skip
    ax.set_ylim(bottom, top)  # |Z| = 0 at the top: the peak of the "mountain"
    ticks = MaxNLocator(nbins=6).tick_values(0.0, bottom)
    ax.set_yticks(ticks[(ticks >= 0) & (ticks <= bottom)])
    ax.spines["left"].set_bounds(0.0, bottom)
    span = float(np.ptp(t.yi)) or 1.0
    lo, hi = float(np.min(t.yi)) - 0.08 * span, float(np.max(t.yi)) + 0.08 * span
    ax.set_xlim(lo, hi)
    finish_axes(ax, t.xlabel, "|Z-score|", title)
    if t.back is not None:
        _natural_ticks(ax, t.back, lo, hi)
    color = LFK_BAND_COLORS.get(t.interpretation, "black")
    ax.text(0.01, 0.995, f"LFK index = {t.index:.2f}: {t.interpretation}", transform=ax.transAxes,
            ha="left", va="top", fontsize=8.5, fontweight="bold", color=color,
            bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": color, "lw": 0.8})  # fmt: skip
    ax.text(0.99, 0.995, "|LFK| \u2264 1: none\n1\u20132: minor\n> 2: major asymmetry", transform=ax.transAxes,
            ha="right", va="top", fontsize=7, color="#555555")  # fmt: skip
    return ax
