"""The plain table a forest plot is drawn from, and its adapter from a model result.

A :class:`ForestTable` holds everything the drawing needs, already on the
natural scale: blocks of studies (one block per subgroup; a single unnamed
block without subgroups), each with its pooled row, an optional overall
pooled row, and footer lines (e.g. a test for subgroup differences). The
drawing core (:func:`metapool.plots.forest_plot`) never looks at a model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import singledispatch

import numpy as np

from .._validation import check_choice
from ..effect_sizes.registry import MEASURES
from ..effect_sizes.transforms import TRANSFORMS
from ..exceptions import DataValidationError
from ..formatting.numbers import fmt_p_clinical
from ..inference.intervals import natural_limits, study_interval
from ..io.parsing import to_float_array
from ..glmm.model import GLMM_MEASURES
from ..glmm.result import GLMMResult
from ..models.rows import model_rows
from .intervals import PROPORTION_CIS
from .study_level import study_values

__all__ = ["ForestStudy", "ForestPooled", "ForestBlock", "ForestTable", "forest_table", "forest_table_subgroups", "series_forest_table", "pooled_row", "null_value"]

_NAN = float("nan")


@dataclass(frozen=True)
class ForestStudy:
    """One study row: label, data cells (text), natural-scale estimate and CI, weight (%)."""

    label: str
    estimate: float
    ci_lower: float
    ci_upper: float
    weight: float = _NAN
    cells: tuple = ()


@dataclass(frozen=True)
class ForestPooled:
    """A pooled row: the diamond, the prediction interval, and its text lines."""

    label: str
    estimate: float
    ci_lower: float
    ci_upper: float
    pi_lower: float = _NAN
    pi_upper: float = _NAN
    k: int = 0
    n: float = _NAN
    heterogeneity: str = ""
    test: str = ""
    cells: tuple = ()  # data cells of the row; empty: column totals of the block's studies


@dataclass(frozen=True)
class ForestBlock:
    """Studies with their pooled row; ``title`` names a subgroup (None without subgroups)."""

    title: str | None
    studies: tuple
    pooled: ForestPooled | None = None


@dataclass(frozen=True)
class ForestTable:
    """Everything a forest plot shows, on the natural scale.

    Attributes
    ----------
    blocks
        One :class:`ForestBlock` per subgroup (one unnamed block otherwise).
    overall
        Pooled row over all subgroups (None when there is a single block).
    effect_label
        Axis and column title of the estimate ("Proportion", "Risk ratio").
    log_scale
        Ratios are drawn on a log axis.
    null
        Value of no effect (1 for ratios, 0 for differences, None for
        single-group quantities such as proportions).
    percent
        Show proportions as percentages.
    data_headers
        Titles of the study data columns (``cells`` of each study).
    column_groups
        ``(title, count)`` pairs: a title spanning the next ``count`` data
        columns (an arm's name over its Events and Total, as RevMan shows
        two-group counts); empty: no spanning titles.
    favours
        ``(left, right)``: what an effect left and right of the null line
        favours (shown as "Favours ..." under the axis); empty: not shown.
    study_ci
        How study CIs were computed (e.g. "Clopper-Pearson").
    level
        Confidence level (fraction).
    footer
        Extra lines under the plot (tests for subgroup differences, notes).
    """

    blocks: tuple
    effect_label: str
    log_scale: bool = False
    null: float | None = None
    percent: bool = False
    data_headers: tuple = ()
    study_ci: str = ""
    level: float = 0.95
    overall: ForestPooled | None = None
    footer: tuple = ()
    column_groups: tuple = ()
    favours: tuple = ()

    @property
    def column_titles(self) -> tuple:
        """Full titles of the data columns: a grouped column's group first ("Magnesium: Events")."""
        titles, j = list(self.data_headers), 0
        for group, count in self.column_groups:
            titles[j: j + count] = [f"{group}: {h}" for h in titles[j: j + count]]
            j += count
        return tuple(titles)

    @property
    def studies(self) -> tuple:
        return tuple(s for b in self.blocks for s in b.studies)

    @property
    def pooled_rows(self) -> tuple:
        rows = tuple(b.pooled for b in self.blocks if b.pooled is not None)
        return rows + ((self.overall,) if self.overall is not None else ())

    def to_records(self) -> list[dict]:
        """One record per study and pooled row (for CSV/JSON next to the figure)."""
        out = []
        for b in self.blocks:
            for s in b.studies:
                out.append({"block": b.title, "row": "study", "label": s.label, "estimate": s.estimate,
                            "ci_lower": s.ci_lower, "ci_upper": s.ci_upper, "weight": s.weight,
                            **dict(zip(self.column_titles, s.cells))})  # fmt: skip
            if b.pooled is not None:
                out.append(_pooled_record(b.title, b.pooled))
        if self.overall is not None:
            out.append(_pooled_record(None, self.overall))
        return out

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.to_records())


def _pooled_record(block, p: ForestPooled) -> dict:
    return {"block": block, "row": "pooled", "label": p.label, "estimate": p.estimate,
            "ci_lower": p.ci_lower, "ci_upper": p.ci_upper, "pi_lower": p.pi_lower, "pi_upper": p.pi_upper}  # fmt: skip


def _int_text(x) -> str:
    """A count as the report writes counts: thousands separators (``2,289``); a fractional count as given."""
    return "" if not np.isfinite(x) else f"{x:,.0f}" if float(x).is_integer() else f"{x:,g}"


def _study_cells(measure, cells: dict, ni, arms: tuple) -> tuple[tuple, tuple, tuple, tuple]:
    """Data columns for a measure's family: headers, per-study text cells, the pooled row's totals, groups.

    Two-group data get one column per arm and number (RevMan's layout):
    Events and Total, or Mean, SD and Total, under the arms' names; the
    pooled row shows the sums of the count columns (events, patients).
    """
    family = MEASURES[measure].family if measure in MEASURES else "generic"
    k = len(ni)
    if family == "single" and "xi" in cells:
        columns, groups = [("Events", cells["xi"], True), ("Total", ni, True)], ()
    elif family == "binary" and {"ai", "bi", "ci", "di"} <= set(cells):
        a, b, c, d = (np.asarray(cells[x], dtype=float) for x in ("ai", "bi", "ci", "di"))
        columns = [("Events", a, True), ("Total", a + b, True), ("Events", c, True), ("Total", c + d, True)]
        groups = ((arms[0], 2), (arms[1], 2))
    elif family == "continuous" and "m1i" in cells:
        columns = [(h, np.asarray(cells[x], dtype=float), h == "Total")
                   for arm in "12" for h, x in (("Mean", f"m{arm}i"), ("SD", f"sd{arm}i"), ("Total", f"n{arm}i"))]
        groups = ((arms[0], 3), (arms[1], 3))
    elif np.isfinite(ni).any():
        columns, groups = [("N", ni, True)], ()
    else:
        return (), tuple(() for _ in range(k)), (), ()
    text = {"Mean": lambda x: f"{x:.4g}", "SD": lambda x: f"{x:.3g}"}
    cols = [tuple(text.get(h, _int_text)(x) for x in v) for h, v, _ in columns]
    totals = tuple(_int_text(np.nansum(v)) if summed and np.isfinite(v).any() else "" for _, v, summed in columns)
    return tuple(h for h, _, _ in columns), tuple(zip(*cols)), totals, groups


def null_value(measure) -> float | None:
    """The natural-scale value of no effect: 1 for ratios, 0 for differences, None otherwise."""
    if measure not in MEASURES:
        return None
    m = MEASURES[measure]
    if "ratio" in m.natural:
        return 1.0
    return 0.0 if m.family in ("binary", "continuous", "correlation") else None


@singledispatch
def pooled_row(result, label: str | None = None) -> ForestPooled:
    """The pooled row of a model without moderators: natural-scale diamond, PI and text.

    The prediction interval is shown from k = 3 studies (as R's meta does);
    with one study the heterogeneity line says it is not estimable. For a
    GLMM fit the label names the model (e.g. "Binomial-normal GLMM"), the
    heterogeneity line shows its tau2, I^2 (metafor's GLMM definition) and
    Wald-type test (metafor's ``QE.Wld``); separated data show the exact
    interval of the pooled value.
    """
    back = result.back() or result.predict()
    if label is None:
        label = result.model_name if not result.random else f"{result.model_name} ({result.method})"
    return _pooled(result, label, back, _heterogeneity_text(result, tau2=result.random), result.ni)


@pooled_row.register
def _(result: GLMMResult, label: str | None = None) -> ForestPooled:
    if result.exact is not None:
        label = label or "Exact interval (no GLMM: separated data)"
        het = "Heterogeneity: not estimable (separated data)"
    else:
        name = GLMM_MEASURES[result.measure][2]  # "binomial-normal", "poisson-normal", "UM.FS"
        label = label or f"{name[0].upper()}{name[1:]} GLMM"
        het = _heterogeneity_text(result, tau2=True, q_name="Wald Q")
    return _pooled(result, label, result.back(), het, result.ni)


def _heterogeneity_text(result, *, tau2: bool, q_name: str = "Q") -> str:
    """The heterogeneity line: I^2, tau2 (random-effects models) and the test for heterogeneity."""
    if result.k < 2:
        return "Heterogeneity: not estimable (k = 1)"
    het = f"Heterogeneity: I\u00b2 = {result.i2:.0f}%"
    if tau2:
        het += f", \u03c4\u00b2 = {result.tau2:.3g}"
    return het + f", {q_name} = {result.q:.2f} (df = {result.q_df:g}), {fmt_p_clinical(result.q_pvalue)}"


def _pooled(result, label: str, back, het: str, ni) -> ForestPooled:
    """A pooled row from the natural-scale prediction ``back``: PI from k = 3, the test where a null exists."""
    pi = (back.pi_lower, back.pi_upper) if result.k >= 3 else (_NAN, _NAN)
    test = ""
    if null_value(result.measure) is not None and np.isfinite(result.statistic):
        stat = "z" if result.ddf is None else "t"
        test = f"Test for overall effect: {stat} = {result.statistic:.2f}, {fmt_p_clinical(result.pvalue)}"
    ni = np.asarray(ni, dtype=float)
    n = float(np.nansum(ni)) if np.isfinite(ni).any() else _NAN
    return ForestPooled(label, back.estimate, back.ci_lower, back.ci_upper, *pi, result.k, n, het, test)


def forest_table(
    result,
    effect_sizes=None,
    *,
    study_ci: str = "exact",
    effect_label: str | None = None,
    percent: bool | None = None,
    pooled_label: str | None = None,
    reported_ci: tuple | None = None,
    arms: tuple = ("Group 1", "Group 2"),
    favours: tuple = (),
) -> ForestTable:
    """Build the forest-plot table of a fitted model (without moderators).

    Parameters
    ----------
    result
        An :class:`~metapool.RMAResult`, or a GLMM fit
        (:class:`~metapool.GLMMResult`, see Notes).
    effect_sizes
        The :class:`~metapool.EffectSizeTable` the model was fitted to; gives
        the data columns (events/total, means) and, for single proportions,
        the counts for exact study CIs. Without it, study CIs are Wald
        intervals on the analysis scale, back-transformed. A GLMM fit brings
        its own (:meth:`GLMMResult.effect_sizes
        <metapool.glmm.result.GLMMResult.effect_sizes>`).
    study_ci
        For single proportions: ``"exact"`` (Clopper-Pearson, default, as R's
        meta shows them), ``"wilson"`` or ``"wald"`` (the model's scale).
    effect_label
        Title of the estimate (default: the measure's natural quantity).
    percent
        Show proportions as percentages (default: True for proportions).
    pooled_label
        Label of the pooled row (default: the model's name and estimator).
    reported_ci
        ``(lower, upper)``: the study CIs as the papers report them (e.g.
        Kaplan-Meier medians, hazard ratios), one per model study or one per
        data row (rows the model excluded are dropped). A missing upper limit
        is shown as not reached ("NR").
    arms
        Names of group 1 and group 2 over their data columns (two-group
        counts or means: Events and Total, or Mean, SD and Total, per arm).
    favours
        ``(left, right)``: what effects left and right of the null line
        favour (e.g. ``("Magnesium", "Control")``); empty: not shown.

    Notes
    -----
    A GLMM fit pools the counts directly; its study rows are the study-level
    effect sizes of the same data (escalc's PLO, IRLN or OR with metafor's
    correction for zero cells), shown as for an rma model of them: for
    proportions the observed proportion with its exact (``study_ci``) CI,
    otherwise the back-transformed value with its Wald CI (``study_ci =
    "wald"`` for escalc's PLO CIs). The pooled row is the GLMM's estimate with
    its CI and prediction interval, back-transformed. Weights are each
    study's share of the GLMM's information for the pooled value (100 times
    the hat values of ``influence(glmm)``, for 2x2 tables with each study's
    intercept profiled out); where that share is undefined the weights are
    missing and the footer says why.
    """
    study_ci = check_choice("forest_table", "study_ci", study_ci, (*PROPORTION_CIS, "wald"))
    measure = result.measure
    m = MEASURES.get(measure)
    level = result.level
    sv = study_values(result)
    yi, vi, ni = sv.yi, sv.vi, sv.ni
    effect_sizes = sv.effect_sizes if effect_sizes is None else effect_sizes
    back = result.back_transform
    t = back or TRANSFORMS["identity"]
    own_n = np.asarray(ni, dtype=float)[:, None]  # a Freeman-Tukey inverse: each study with its own n
    est = np.asarray(t(yi, own_n), dtype=float)
    lo, hi = natural_limits(t, *study_interval(yi, vi, level), own_n)
    cells: dict = {}
    if effect_sizes is not None:
        rows = model_rows(result, effect_sizes.rows)
        cells = {name: np.asarray(v)[rows] for name, v in effect_sizes.cells.items()}
        ni = np.asarray(effect_sizes.ni, dtype=float)[rows]
    ci_name = "Wald" if back is None else f"Wald on the {m.scale} scale" if m else "Wald"
    is_prop = m is not None and m.family == "single"
    if is_prop and "xi" in cells and study_ci != "wald":
        name, func = PROPORTION_CIS[study_ci]
        x = cells["xi"]
        est = x / ni
        lo, hi = func(x, ni, level)
        ci_name = name
    if reported_ci is not None:
        lo, hi = (_per_study(result, to_float_array(v, name)) for v, name in zip(reported_ci, ("lower", "upper")))
        hi = np.where(np.isnan(hi), np.inf, hi)
        ci_name = "as reported (NR: upper limit not reached)" if np.isinf(hi).any() else "as reported"
    headers, texts, totals, groups = _study_cells(measure, cells, ni, tuple(arms))
    studies = tuple(
        ForestStudy(str(result.slab[i]), float(est[i]), float(lo[i]), float(hi[i]), float(sv.weights[i]), texts[i])
        for i in range(result.k)
    )
    label = effect_label or (m.natural.capitalize() if m and m.natural != "as given" else "Estimate")
    return ForestTable(
        blocks=(ForestBlock(None, studies, replace(pooled_row(result, pooled_label), cells=totals)),),
        effect_label=label,
        log_scale=m is not None and "ratio" in m.natural,
        null=null_value(measure),
        percent=is_prop if percent is None else bool(percent),
        data_headers=headers,
        study_ci=ci_name,
        level=level,
        footer=(sv.note,) if sv.note else (),
        column_groups=groups,
        favours=tuple(favours),
    )


def _per_study(result, values: np.ndarray) -> np.ndarray:
    """``reported_ci`` values per model study, from values per model study or per input row."""
    if values.shape[0] == result.k:
        return values
    try:
        return values[model_rows(result, values.shape[0])]
    except DataValidationError:
        raise DataValidationError(f"reported_ci has {values.shape[0]} rows; the model has {result.k} studies"
                                  " (give one per study of the model or one per row of the table).") from None


def forest_table_subgroups(subgroups, effect_sizes, *, overall=None, study_ci: str = "exact",
                           weights: str = "subgroup", **options) -> ForestTable:  # fmt: skip
    """Forest table with one block per subgroup, its diamond, and the test for differences.

    Parameters
    ----------
    subgroups
        A :class:`~metapool.moderators.subgroups.SubgroupResult` fitted with
        separate tau2 per subgroup (one model per subgroup).
    effect_sizes
        The :class:`~metapool.EffectSizeTable` the subgroups were fitted from.
    overall
        Optional model of all studies, shown as the overall diamond (with the
        totals of the count columns).
    weights
        ``"subgroup"`` (default): each study's weight in its subgroup's model
        (each subtotal is 100%); ``"overall"``: its weight in the ``overall``
        model, so subtotals add up to 100% (as RevMan shows them).
    study_ci, **options
        As for :func:`forest_table` (``effect_label``, ``percent``, ``arms``,
        ``favours``).
    """
    weights = check_choice("forest_table_subgroups", "weights", weights, ("subgroup", "overall"))
    if subgroups.tau2_mode != "separate":
        raise DataValidationError("Forest blocks need one model per subgroup (subgroup_analysis with tau2='separate').")
    if weights == "overall" and overall is None:
        raise DataValidationError("weights='overall' needs the overall model (overall=...).")
    overall_weights = None if weights == "subgroup" else study_values(overall).weights
    blocks, first = [], None
    for sub, fit in zip(subgroups.subgroups, subgroups.fits):
        table = forest_table(fit, effect_sizes, study_ci=study_ci,
                             pooled_label=f"Subtotal ({fit.method})" if fit.random else "Subtotal", **options)  # fmt: skip
        first = first or table
        studies = table.blocks[0].studies
        if overall_weights is not None:
            w = overall_weights[model_rows(fit, overall.rows)]
            studies = tuple(replace(s, weight=float(wi)) for s, wi in zip(studies, w))
        blocks.append(ForestBlock(sub.level, studies, table.blocks[0].pooled))
    if subgroups.qm_ddf is None:
        stat = f"\u03c7\u00b2 = {subgroups.qm:.2f}, df = {subgroups.qm_df}"
    else:
        stat = f"F = {subgroups.qm:.2f}, df = ({subgroups.qm_df}, {subgroups.qm_ddf:g})"
    footer = (f"Test for subgroup differences ({subgroups.column}): {stat}, {fmt_p_clinical(subgroups.qm_pvalue)}",)
    if overall_weights is not None:
        footer += ("Weights: percent of the overall model's weights.",)
    whole = None if overall is None else forest_table(overall, effect_sizes, study_ci=study_ci, **options)
    return ForestTable(
        blocks=tuple(blocks), effect_label=first.effect_label, log_scale=first.log_scale, null=first.null,
        percent=first.percent, data_headers=first.data_headers, study_ci=first.study_ci, level=first.level,
        overall=None if whole is None else whole.blocks[0].pooled, footer=footer,
        column_groups=first.column_groups, favours=first.favours,
    )  # fmt: skip


def series_forest_table(series, result, *, effect_label: str | None = None, percent: bool | None = None) -> ForestTable:
    """Forest table of a leave-one-out or cumulative series (Viechtbauer & Cheung 2010).

    Row i is the pooled estimate without study i ("Omitting ...") or with the
    studies up to i ("+ ..."), with its k and I^2 as data columns; the model
    of all studies is the pooled row.

    Parameters
    ----------
    series
        A :class:`~metapool.influence.series.SubsetSeries`.
    result
        The model the series was computed from (scale, back-transformation):
        an :class:`~metapool.RMAResult` or a GLMM fit, whose series are GLMM
        refits (``leave_one_out(glmm)``, ``cumulative(glmm)``).
    """
    t = result.back_transform or TRANSFORMS["identity"]
    ni = result.ni if t.needs_ni else None  # a GLMM's transformation needs none (and it has no ni)
    m = MEASURES.get(result.measure)
    est = np.asarray(t(series.estimate, ni), dtype=float)
    lo, hi = natural_limits(t, series.ci_lower, series.ci_upper, ni)
    prefix = "Omitting " if series.kind == "leave-one-out" else "+ "
    studies = tuple(
        ForestStudy(prefix + str(label), float(est[i]), float(lo[i]), float(hi[i]), _NAN,
                    (f"{int(series.k[i])}", f"{series.i2[i]:.0f}%" if np.isfinite(series.i2[i]) else ""))
        for i, label in enumerate(series.slab)
    )  # fmt: skip
    pooled = pooled_row(result, "All studies")
    pooled = ForestPooled(pooled.label, pooled.estimate, pooled.ci_lower, pooled.ci_upper, k=pooled.k, n=pooled.n,
                          heterogeneity=pooled.heterogeneity, cells=(str(result.k), f"{result.i2:.0f}%"))  # fmt: skip
    what = "omitting each study in turn" if series.kind == "leave-one-out" else "adding the studies one by one"
    is_prop = m is not None and m.family == "single"
    return ForestTable(
        blocks=(ForestBlock(None, studies, pooled),),
        effect_label=effect_label or (m.natural.capitalize() if m and m.natural != "as given" else "Estimate"),
        log_scale=m is not None and "ratio" in m.natural, null=null_value(result.measure),
        percent=is_prop if percent is None else bool(percent), data_headers=("k", "I\u00b2"),
        level=result.level, footer=(f"Rows: the pooled estimate ({result.method}) {what}.",),
    )  # fmt: skip
