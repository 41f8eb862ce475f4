"""Bubble plot of a meta-regression: effect sizes against one moderator, with the fitted line.

Drawn from a :class:`BubbleTable` built by :func:`bubble_table`: one bubble
per study (area proportional to its weight in the model), the fitted line
with its confidence band from :meth:`~metapool.RMAResult.predict` with
``newmods``, optionally the prediction-interval limits. Other moderators are
held at their means, as metafor's ``regplot`` does. Effects are shown on the
natural scale where the measure has a back-transformation (the line and band
are transformed limit by limit); ratios (OR, RR, HR, IRR, ROM...) on a log axis
labelled with natural values, as metafor's ``regplot(..., transf=exp)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import DataValidationError
from ._axes import BAND_COLOR, LINE_COLOR, POINT_COLOR, effect_label, finish_axes, natural_values, new_axes

__all__ = ["BubbleTable", "bubble_table", "bubble_plot", "numeric_moderators"]


@dataclass(frozen=True)
class BubbleTable:
    """Studies (``x``, ``yi``, ``weight`` in percent) and the fitted line on a grid of ``x``.

    ``log_scale``: the effects are ratios, drawn on a log axis.
    """

    x: np.ndarray
    yi: np.ndarray
    weight: np.ndarray
    labels: tuple
    grid: np.ndarray
    fit: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    pi_lower: np.ndarray
    pi_upper: np.ndarray
    xlabel: str
    ylabel: str
    note: str = ""
    level: float = 0.95
    log_scale: bool = False


def numeric_moderators(result) -> tuple:
    """Names of the moderator columns that are numeric (more than two distinct values, so no dummies)."""
    if result.X is None:
        return ()
    names = result.coefficients.names
    return tuple(n for j, n in enumerate(names) if n != "intrcpt" and np.unique(result.X[:, j]).size > 2)


def bubble_table(result, moderator: str | None = None, *, points: int = 101, natural: bool = True) -> BubbleTable:
    """Build the bubble-plot table of a meta-regression.

    Parameters
    ----------
    result
        An :class:`~metapool.RMAResult` with moderators.
    moderator
        Coefficient name of the moderator on the x axis (default: the first
        numeric one, see :func:`numeric_moderators`).
    points
        Grid points of the fitted line.
    natural
        Show effects on the natural scale where possible.
    """
    if result.X is None:
        raise DataValidationError("A bubble plot needs a meta-regression (a model with moderators).")
    names = tuple(result.coefficients.names)
    numeric = numeric_moderators(result)
    if moderator is None:
        if not numeric:
            raise DataValidationError("The bubble plot needs a numeric moderator; the model has none.")
        moderator = numeric[0]
    if moderator not in names or moderator == "intrcpt":
        choices = sorted(set(names) - {"intrcpt"})
        raise DataValidationError(f"The 'moderator' parameter of bubble_table must be one of {choices}. Got {moderator!r}.")
    j = names.index(moderator)
    start = int(names[0] == "intrcpt")
    X = np.asarray(result.X, dtype=float)
    x = X[:, j]
    grid = np.linspace(float(x.min()), float(x.max()), points)
    rows = np.tile(X[:, start:].mean(axis=0), (points, 1))
    rows[:, j - start] = grid
    yi, nat = natural_values(result, result.yi) if natural else (np.asarray(result.yi, dtype=float), False)
    preds = result.predict(newmods=rows, transf=nat)  # back-transformed limits come in order
    fields = ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper")
    cols = {f: np.array([getattr(p, f) for p in preds]) for f in fields}
    others = [n for n in names[start:] if n != moderator]
    note = f"Other moderators held at their means ({', '.join(others)})." if others else ""
    return BubbleTable(x=x, yi=yi, weight=np.asarray(result.weights, dtype=float), labels=tuple(map(str, result.slab)),
                       grid=grid, fit=cols["estimate"], ci_lower=cols["ci_lower"], ci_upper=cols["ci_upper"],
                       pi_lower=cols["pi_lower"], pi_upper=cols["pi_upper"],
                       xlabel=moderator, ylabel=effect_label(result.measure, natural=nat), note=note,
                       level=result.level, log_scale=nat and result.back_transform.code == "exp")  # fmt: skip


def bubble_plot(data, ax=None, *, moderator: str | None = None, pi: bool = False, title: str | None = None,
                max_size: float = 400.0):  # fmt: skip
    """Draw a bubble plot and return its axes.

    Parameters
    ----------
    data
        A :class:`BubbleTable` or a meta-regression model (then
        :func:`bubble_table` with ``moderator`` is applied).
    ax
        Axes to draw in; a new 5 x 4 inch figure by default.
    pi
        Also draw the prediction-interval limits (dashed).
    title
        Axes title.
    max_size
        Marker area (points^2) of the study with the largest weight; areas
        are proportional to the weights.

    Returns
    -------
    matplotlib.axes.Axes
    """
    t = data if isinstance(data, BubbleTable) else bubble_table(data, moderator)
    ax = new_axes(ax, (5.0, 4.0))
    w = np.nan_to_num(t.weight, nan=0.0)
    sizes = max_size * w / w.max() if w.max() > 0 else np.full(w.size, 40.0)
    ax.fill_between(t.grid, t.ci_lower, t.ci_upper, color=BAND_COLOR, alpha=0.7, lw=0, zorder=1,
                    label=f"{t.level * 100:g}% CI")  # fmt: skip
    if pi and np.isfinite(t.pi_lower).any():
        ax.plot(t.grid, t.pi_lower, color=LINE_COLOR, lw=0.8, ls=(0, (4, 2)), zorder=2, label="Prediction interval")
        ax.plot(t.grid, t.pi_upper, color=LINE_COLOR, lw=0.8, ls=(0, (4, 2)), zorder=2)
    ax.plot(t.grid, t.fit, color=LINE_COLOR, lw=1.4, zorder=2, label="Fitted line")
    ax.scatter(t.x, t.yi, s=sizes, facecolor=POINT_COLOR, alpha=0.45, edgecolor=POINT_COLOR, lw=0.7, zorder=3)
    finish_axes(ax, t.xlabel, t.ylabel, title)
    if t.log_scale:  # ratios on a log axis, labelled with round ratios that fit
        from matplotlib.ticker import NullLocator

        from .ticks import ratio_locator

        ax.set_yscale("log")
        locator, formatter = ratio_locator()
        ax.yaxis.set_major_locator(locator)
        ax.yaxis.set_major_formatter(formatter)
        ax.yaxis.set_minor_locator(NullLocator())
    ax.legend(fontsize=7, frameon=False, loc="best")
    if t.note:
        ax.text(0.0, -0.16, t.note, transform=ax.transAxes, ha="left", va="top", fontsize=7, color="#555555",
                parse_math=False)  # fmt: skip
    return ax
