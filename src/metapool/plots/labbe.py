"""L'Abbe plot: event rate in group 1 against group 2, one bubble per two-group study.

Drawn from a :class:`LabbeTable` built by :func:`labbe_table` from an
:class:`~metapool.EffectSizeTable` of a binary two-group measure (OR, RR,
RD, PETO; its ``cells`` hold ``ai, bi, ci, di``). Bubble areas are
proportional to the model weights (or to the study sizes without a model);
the line of equal rates and, with a model, the pooled effect as a curve
(risk ratio ``p1 = RR p2``; odds ratio ``odds1 = OR odds2``; risk
difference ``p1 = p2 + RD``), with its CI limits dashed.

References
----------
L'Abbe KA, Detsky AS, O'Rourke K (1987). Meta-analysis in clinical research.
Ann Intern Med 107:224-233.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import DataValidationError
from ._axes import LINE_COLOR, POINT_COLOR, finish_axes, new_axes

__all__ = ["LabbeTable", "labbe_table", "labbe_plot", "pooled_curve"]

_KIND = {"OR": "odds ratio", "PETO": "odds ratio", "RR": "risk ratio", "RD": "risk difference"}


@dataclass(frozen=True)
class LabbeTable:
    """Event rates ``p1`` (group 1, y) and ``p2`` (group 2, x) per study, with weights.

    ``effect`` is the pooled natural-scale effect with its CI (NaN without a
    model) and ``kind`` says how it maps ``p2`` to ``p1``.
    """

    p1: np.ndarray
    p2: np.ndarray
    n1: np.ndarray
    n2: np.ndarray
    weight: np.ndarray
    labels: tuple
    kind: str
    effect: tuple = (float("nan"),) * 3
    xlabel: str = "Event rate, group 2"
    ylabel: str = "Event rate, group 1"


def pooled_curve(kind: str, effect: float, p2) -> np.ndarray:
    """Group-1 rate implied by a pooled ``effect`` at group-2 rates ``p2``."""
    p2 = np.asarray(p2, dtype=float)
    if kind == "risk ratio":
        return np.clip(effect * p2, 0.0, 1.0)
    if kind == "odds ratio":
        return effect * p2 / (1.0 - p2 + effect * p2)
    return np.clip(p2 + effect, 0.0, 1.0)


def labbe_table(effect_sizes, result=None, *, groups: tuple = ("experimental", "control")) -> LabbeTable:
    """Build the L'Abbe-plot table.

    Parameters
    ----------
    effect_sizes
        An :class:`~metapool.EffectSizeTable` of OR, RR, RD or PETO with the
        cells ``ai, bi, ci, di``.
    result
        Optional model fitted to ``effect_sizes``: gives the weights and the
        pooled-effect curve (a GLMM of 2x2 tables weighs the studies by their
        share of its information). Without a model the bubbles are sized by
        the study sizes.
    groups
        Names of group 1 and group 2 for the axis titles ("Event rate, control"),
        as written (e.g. the analysis file's ``arms``).
    """
    from ..models.rows import model_rows
    from .study_level import study_values

    es = effect_sizes
    if es.measure not in _KIND or not {"ai", "bi", "ci", "di"} <= set(es.cells):
        raise DataValidationError(
            f"A L'Abbe plot needs two-group event counts (ai, bi, ci, di) of OR, RR, RD or PETO; got {es.measure}."
        )
    rows = np.flatnonzero(es.included) if result is None else model_rows(result, es.rows)
    a, b, c, d = (np.asarray(es.cells[k], dtype=float)[rows] for k in ("ai", "bi", "ci", "di"))
    n1, n2 = a + b, c + d
    kind = _KIND[es.measure]
    effect = (float("nan"),) * 3
    weight = 100.0 * (n1 + n2) / np.sum(n1 + n2)
    if result is not None:
        weights = study_values(result).weights
        weight = weights if np.isfinite(weights).all() else weight
        p = result.back() or result.predict()
        effect = (p.estimate, p.ci_lower, p.ci_upper)
    return LabbeTable(p1=a / n1, p2=c / n2, n1=n1, n2=n2, weight=weight,
                      labels=tuple(str(es.slab[i]) for i in rows), kind=kind, effect=effect,
                      xlabel=f"Event rate, {groups[1]}", ylabel=f"Event rate, {groups[0]}")  # fmt: skip


def labbe_plot(data, ax=None, *, result=None, title: str | None = None, max_size: float = 400.0):
    """Draw a L'Abbe plot and return its axes.

    Parameters
    ----------
    data
        A :class:`LabbeTable` or an :class:`~metapool.EffectSizeTable` (then
        :func:`labbe_table` with ``result`` is applied).
    ax
        Axes to draw in; a new 4.5 x 4.5 inch figure by default.
    result
        As for :func:`labbe_table`.
    title
        Axes title.
    max_size
        Marker area (points^2) of the study with the largest weight.

    Returns
    -------
    matplotlib.axes.Axes
    """
    t = data if isinstance(data, LabbeTable) else labbe_table(data, result)
    ax = new_axes(ax, (4.5, 4.5))
    ax.plot([0, 1], [0, 1], color="#777777", lw=0.8, zorder=1, label="Equal rates")
    est, lo, hi = t.effect
    if np.isfinite(est):
        grid = np.linspace(0.0, 1.0, 201)
        name = t.kind[0].upper() + t.kind[1:]
        ax.plot(grid, pooled_curve(t.kind, est, grid), color=LINE_COLOR, lw=1.3, zorder=2,
                label=f"Pooled {t.kind} = {est:.2f}")  # fmt: skip
        for v in (lo, hi):
            ax.plot(grid, pooled_curve(t.kind, v, grid), color=LINE_COLOR, lw=0.7, ls=(0, (4, 2)), zorder=2,
                    label=f"{name} CI [{lo:.2f}, {hi:.2f}]" if v == lo else None)  # fmt: skip
    w = np.nan_to_num(t.weight, nan=0.0)
    sizes = max_size * w / w.max() if w.max() > 0 else np.full(w.size, 40.0)
    ax.scatter(t.p2, t.p1, s=sizes, facecolor=POINT_COLOR, alpha=0.45, edgecolor=POINT_COLOR, lw=0.7, zorder=3)
    top = float(np.nanmax(np.concatenate([t.p1, t.p2])))
    top = 1.0 if not np.isfinite(top) else min(1.0, np.ceil(top * 1.1 * 20.0) / 20.0)
    pad = 0.06 * top  # room for the largest bubble at a rate of 0 or of ``top`` (not cut by the axes)
    ax.set_xlim(-pad, top + pad)
    ax.set_ylim(-pad, top + pad)
    ax.set_aspect("equal")
    finish_axes(ax, t.xlabel, t.ylabel, title)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    return ax
