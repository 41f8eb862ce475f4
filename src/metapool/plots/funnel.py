"""Funnel plot: effect (analysis scale) against its standard error, inverted.

Drawn from a :class:`FunnelTable`: observed studies as filled dots, studies
imputed by trim and fill as open dots, the pooled estimate with its pseudo
95% confidence region, and optionally the contour-enhanced significance
regions of Peters et al. (2008) around the null (p < 0.01, 0.05, 0.1).

References
----------
Sterne JAC, Egger M (2001). Funnel plots for detecting bias in meta-analysis.
J Clin Epidemiol 54:1046-1055.
Peters JL, Sutton AJ, Jones DR, Abrams KR, Rushton L (2008). Contour-enhanced
meta-analysis funnel plots help distinguish publication bias from other
causes of asymmetry. J Clin Epidemiol 61:991-996.
Duval S, Tweedie R (2000). Trim and fill. Biometrics 56:455-463.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._distributions import norm_ppf
from ..effect_sizes.registry import MEASURES
from ..exceptions import MetapoolError
from ._style import pyplot
from .forest_data import null_value
from .study_level import study_values

__all__ = ["FunnelTable", "funnel_table", "funnel_plot"]

_CONTOUR_SHADES = {0.1: "#e6e6e6", 0.05: "#bdbdbd", 0.01: "#8c8c8c"}


@dataclass(frozen=True)
class FunnelTable:
    """What a funnel plot shows, on the analysis scale.

    ``filled_yi``/``filled_sei`` are studies imputed by trim and fill (empty
    without); ``adjusted`` is the pooled estimate after filling (NaN without).
    ``null`` is the centre of the significance contours (None: no natural
    null, e.g. proportions). ``back`` maps analysis-scale values to the
    natural scale for the tick labels (None: label the analysis scale).
    """

    yi: np.ndarray
    sei: np.ndarray
    labels: tuple
    estimate: float
    xlabel: str
    filled_yi: np.ndarray = field(default_factory=lambda: np.empty(0))
    filled_sei: np.ndarray = field(default_factory=lambda: np.empty(0))
    adjusted: float = float("nan")
    null: float | None = 0.0
    back: object = None
    level: float = 0.95


def funnel_table(result, filled=None, *, natural_ticks: bool = True) -> FunnelTable:
    """Build the funnel-plot table of a fitted model.

    Parameters
    ----------
    result
        An :class:`~metapool.RMAResult` (its pooled estimate is the centre),
        or a GLMM fit: its studies are the study-level effect sizes
        (:meth:`GLMMResult.effect_sizes <metapool.glmm.result.GLMMResult.effect_sizes>`,
        escalc's PLO, IRLN or OR) around the GLMM's pooled estimate; studies
        imputed by ``trimfill(glmm)`` mirror the study-level model's.
    filled
        Studies imputed by trim and fill: an object with ``yi`` and ``vi``
        (or ``sei``) of the imputed studies and, optionally, ``estimate``
        (the adjusted pooled value), or a pair ``(yi, vi)``.
    natural_ticks
        Label the x axis on the natural scale (proportions, ratios) where
        the measure has a back-transformation.
    """
    if not math.isfinite(result.estimate):
        raise MetapoolError("A funnel plot needs a pooled estimate on the analysis scale; separated data have"
                            " an exact interval of the pooled value only.")
    m = MEASURES.get(result.measure)
    sv = study_values(result)
    fy = fs = np.empty(0)
    adjusted = float("nan")
    if filled is not None:
        if isinstance(filled, tuple):
            fy, fv = (np.asarray(a, dtype=float) for a in filled)
            fs = np.sqrt(fv)
        else:
            fy = np.asarray(filled.yi, dtype=float)
            fs = np.asarray(filled.sei, dtype=float) if hasattr(filled, "sei") else np.sqrt(np.asarray(filled.vi, dtype=float))
            adjusted = float(getattr(filled, "estimate", float("nan")))
    xlabel = "Estimate" if m is None or m.scale == "as given" else m.scale[0].upper() + m.scale[1:]
    # contours centre on "no effect": 0 for differences and log ratios; none for single-group
    # quantities (proportions, rates, means) and for generic estimates (e.g. median survival)
    null = 0.0 if null_value(result.measure) is not None else None
    back = result.back_transform if natural_ticks and not (result.back_transform and result.back_transform.needs_ni) else None
    if back is not None and m is not None:
        xlabel = f"{m.natural.capitalize()} ({m.scale} scale)"
    return FunnelTable(
        yi=sv.yi, sei=np.sqrt(sv.vi),
        labels=tuple(result.slab), estimate=float(result.estimate), xlabel=xlabel,
        filled_yi=fy, filled_sei=fs, adjusted=adjusted, null=null, back=back, level=result.level,
    )  # fmt: skip


def funnel_plot(
    data,
    ax=None,
    *,
    filled=None,
    contours: tuple | None = None,
    pseudo_ci: bool = True,
    title: str | None = None,
):
    """Draw a funnel plot and return its axes.

    Parameters
    ----------
    data
        A :class:`FunnelTable` or a fitted model (then :func:`funnel_table`
        with ``filled`` is applied).
    ax
        Axes to draw in; a new 4.5 x 4 inch figure by default.
    contours
        Significance levels for contour-enhanced regions around the null,
        e.g. ``(0.1, 0.05, 0.01)`` (Peters et al. 2008); None for none. Not
        drawn when the measure has no null (single-group or generic estimates).
    pseudo_ci
        Draw the pseudo confidence region ``estimate +/- z * SE``.
    title
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes
    """
    t = data if isinstance(data, FunnelTable) else funnel_table(data, filled)
    plt = pyplot()
    if ax is None:
        legend = bool(t.filled_yi.size) or bool(contours and t.null is not None)
        _, ax = plt.subplots(figsize=(6.0 if legend else 4.8, 4.0), layout="constrained")
    se_all = np.concatenate([t.sei, t.filled_sei])
    y_all = np.concatenate([t.yi, t.filled_yi])
    se_max = float(np.nanmax(se_all)) * 1.08 if se_all.size else 1.0
    se_grid = np.array([0.0, se_max])
    z = norm_ppf(0.5 + t.level / 2.0)
    half = z * se_max
    lo = min(float(np.nanmin(y_all)), t.estimate - half)
    hi = max(float(np.nanmax(y_all)), t.estimate + half)
    if contours and t.null is not None:
        zmax = norm_ppf(1 - min(contours) / 2)
        lo, hi = min(lo, t.null - zmax * se_max), max(hi, t.null + zmax * se_max)
    pad = 0.04 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    ax.set_xlim(lo, hi)
    ax.set_ylim(se_max, 0.0)
    if contours and t.null is not None:
        ax.set_facecolor("white")
        for p in sorted(contours, reverse=True):  # each stricter level paints over the outer part
            zc = norm_ppf(1 - p / 2)
            shade = _CONTOUR_SHADES.get(p, "#cccccc")
            for sign in (-1, 1):
                edge = t.null + sign * zc * se_grid
                outer = np.full(2, lo if sign < 0 else hi)
                ax.fill_betweenx(se_grid, edge, outer, color=shade, lw=0, zorder=0)
        from matplotlib.patches import Patch

        handles = [Patch(color="white", ec="#999999", lw=0.5, label="p > 0.1" if 0.1 in contours else "n.s.")]
        for p in sorted(contours, reverse=True):
            handles.append(Patch(color=_CONTOUR_SHADES.get(p, "#cccccc"), label=f"p < {p:g}"))
    else:
        handles = []
    if pseudo_ci:
        ax.plot([t.estimate - half, t.estimate, t.estimate + half], [se_max, 0.0, se_max],
                color="#555555", lw=0.8, ls=(0, (4, 2)), zorder=1)  # fmt: skip
    ax.axvline(t.estimate, color="black", lw=0.8, zorder=1)
    if math.isfinite(t.adjusted):
        ax.axvline(t.adjusted, color="#b5442b", lw=0.8, ls=(0, (2, 2)), zorder=1)
    ax.scatter(t.yi, t.sei, s=22, color="black", zorder=3, label="Studies")
    if t.filled_yi.size:
        ax.scatter(t.filled_yi, t.filled_sei, s=22, facecolor="white", edgecolor="black", lw=0.9, zorder=3,
                   label="Imputed (trim and fill)")  # fmt: skip
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_ylabel("Standard error")
    ax.set_xlabel(t.xlabel)
    if t.back is not None:
        _natural_ticks(ax, t.back, lo, hi)
    if title:
        ax.set_title(title, loc="left", fontsize=10, fontweight="bold", parse_math=False)  # user text: no mathtext
    if t.filled_yi.size or handles:
        extra = ax.get_legend_handles_labels()[0] if t.filled_yi.size else []
        ax.legend(handles=handles + extra, fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def _natural_ticks(ax, back, lo: float, hi: float) -> None:
    """Ticks at round natural-scale values (0.1, 0.2, ... or 0.5, 1, 2 for ratios), labelled naturally.

    Ratios (an exp back-transformation) get the labels of
    :func:`~metapool.plots.ticks.ratio_locator`, thinned to the axis' width;
    other back-transformations are monotone and their tick positions on the
    analysis scale are found by interpolating them on a fine grid.
    """
    from matplotlib.ticker import FixedLocator, MaxNLocator, NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())
    if back.code == "exp":
        from .ticks import ratio_locator

        locator, formatter = ratio_locator(log_of=True)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(formatter)
        return
    grid = np.linspace(lo, hi, 2001)
    nat = np.asarray(back(grid), dtype=float)
    ticks = MaxNLocator(nbins=6).tick_values(nat[0], nat[-1])
    ticks = ticks[(ticks >= nat[0]) & (ticks <= nat[-1])]
    pos = np.interp(ticks, nat, grid)
    ax.xaxis.set_major_locator(FixedLocator(pos))
    ax.set_xticklabels([f"{v:g}" for v in ticks])
