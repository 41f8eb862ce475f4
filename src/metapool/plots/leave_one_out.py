"""Leave-one-out forest plot: the pooled estimate and CI with each study omitted.

:func:`leave_one_out_table` turns a leave-one-out
:class:`~metapool.influence.SubsetSeries` into a
:class:`~metapool.plots.ForestTable` (one row per omitted study, on the
natural scale, with the I^2 of each refit; the overall model as the diamond),
so it is drawn by the forest plot's drawing core.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import DataValidationError
from .forest_data import ForestBlock, ForestStudy, ForestTable, null_value, pooled_row

__all__ = ["leave_one_out_table", "leave_one_out_plot"]


def leave_one_out_table(series, result, *, effect_label: str | None = None) -> ForestTable:
    """Build the forest table of a leave-one-out series.

    Parameters
    ----------
    series
        A :class:`~metapool.influence.SubsetSeries` of kind ``"leave-one-out"``
        (from :func:`metapool.influence.leave_one_out`).
    result
        The model of all studies (its pooled row is the diamond; its
        back-transformation gives the natural scale).
    effect_label
        Title of the estimate (default: the measure's natural quantity).
    """
    from ..effect_sizes.registry import MEASURES

    if series.kind != "leave-one-out" or len(series.slab) != result.k:
        raise DataValidationError("leave_one_out_table needs the leave-one-out series of the model given.")
    t = result.back_transform
    ni = np.asarray(result.ni, dtype=float)

    def natural(i, values):
        if t is None:
            return [float(v) for v in values]
        return [float(v) for v in np.atleast_1d(t(np.array(values, dtype=float), np.delete(ni, i)))]

    studies = []
    for i, label in enumerate(series.slab):
        est, a, b = natural(i, (series.estimate[i], series.ci_lower[i], series.ci_upper[i]))
        i2 = series.i2[i]
        cell = f"{i2:.0f}%" if np.isfinite(i2) else "NA"
        studies.append(ForestStudy(f"Omitting {label}", est, min(a, b), max(a, b), float("nan"), (cell,)))
    m = MEASURES.get(result.measure)
    label = effect_label or (m.natural.capitalize() if m and m.natural != "as given" else "Estimate")
    return ForestTable(
        blocks=(ForestBlock(None, tuple(studies), pooled_row(result, "All studies")),),
        effect_label=label, log_scale=m is not None and "ratio" in m.natural, null=null_value(result.measure),
        percent=m is not None and m.family == "single", data_headers=("I\u00b2",), level=result.level,
        footer=(f"Each row: the model refitted without that study ({series.method}).",),
    )  # fmt: skip


def leave_one_out_plot(data, ax=None, *, result=None, title: str | None = None, layout: str = "revman", **options):
    """Draw a leave-one-out forest plot and return its axes.

    Parameters
    ----------
    data
        A :class:`~metapool.plots.ForestTable` from
        :func:`leave_one_out_table`, or a leave-one-out series (then
        ``result`` is required).
    ax, title, layout, **options
        As for :func:`metapool.plots.forest_plot` (the weight column is not
        shown).

    Returns
    -------
    matplotlib.axes.Axes
    """
    from .forest import forest_plot

    if not isinstance(data, ForestTable):
        if result is None:
            raise DataValidationError("leave_one_out_plot needs the model of all studies ('result').")
        data = leave_one_out_table(data, result)
    return forest_plot(data, ax, layout=layout, title=title, weights=False, **options)
