"""Figures of a report per outcome (forest, funnel and follow-up plots), as SVG text and files."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import MetapoolError
from ..glmm.result import GLMMResult
from ..models.protocol import PooledResult

__all__ = ["Figure", "DPI", "labelled_svg", "outcome_figures", "outcome_plans", "risk_of_bias_plans", "render_plan", "saved_figure", "forest_of", "forest_study_cis", "risk_of_bias_figures", "slug", "figure_stem", "FIGURE_LIMITS", "skipped_figures"]

#: Figures that grow with the number of studies k: group -> (figure kinds, largest k drawn,
#: what they are). A forest plot taller than 200 rows is unreadable; one point per study
#: costs about 0.7 ms and 700 bytes of SVG (100,000 studies: a minute and 70 MB per plot).
FIGURE_LIMITS = {
    "forest_plots": (frozenset({"forest", "subgroups", "leave_one_out"}), 200, "forest plots (one row per study)"),
    "study_plots": (frozenset({"funnel", "bubble", "doi", "baujat", "labbe"}), 5000,
                    "funnel, bubble, Doi, Baujat and L'Abbe plots (one point per study)"),
}


#: Resolution of the PNG files of a report (dots per inch).
DPI = 150


def skipped_figures(k: int) -> dict[str, str]:
    """The figure groups of :data:`FIGURE_LIMITS` not drawn for an outcome of ``k`` studies, with the reason."""
    return {group: f"k = {k:,} > {limit:,} studies: {what} are not drawn; every study's effect size is in"
                   " effect_sizes.csv and results.json"
            for group, (_, limit, what) in FIGURE_LIMITS.items() if k > limit}


@dataclass(frozen=True)
class Figure:
    """One rendered figure: its kind, caption, inline SVG and the files written."""

    kind: str
    caption: str
    svg: str
    files: tuple


def labelled_svg(svg: str, caption: str) -> str:
    """An inline SVG figure with its caption as alternative text (``role="img"``, ``aria-label``, ``<title>``).

    The XML declaration and DOCTYPE before ``<svg`` (not valid inside HTML) are dropped.
    """
    start = svg.find("<svg")
    if start < 0:
        return svg
    end = svg.index(">", start)
    label = html.escape(caption, quote=True)
    return (f'<svg role="img" aria-label="{label}"{svg[start + 4:end]}><title>{label}</title>'
            + svg[end + 1:])


def slug(text: str) -> str:
    """File-name-safe form of an outcome name that keeps its meaning in any script.

    NFKC-normalised and case-folded; Unicode letters, marks and digits are kept
    ("奏効率" stays "奏効率"), every other run of characters becomes one ``_``;
    at most 60 characters. Not unique by itself ("A/B" and "A B" give "a_b"):
    :func:`figure_stem` adds the outcome's position.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" else "_" for c in text)
    return re.sub("_+", "_", kept).strip("_")[:60] or "outcome"


def figure_stem(index: int, name: str) -> str:
    """File name stem of the figures of the ``index``-th outcome (1-based): ``01_overall_response``."""
    return f"{index:02d}_{slug(name)}"


def outcome_figures(outcome, folder: Path | None, data=None, note: str = "", index: int = 1) -> tuple:
    """Draw the figures of one outcome (:func:`outcome_plans`), in this process.

    Saved as SVG and PNG into ``folder`` when given, named
    ``{figure_stem(index, name)}_{kind}`` (``index``: the outcome's position
    in the analysis, 1-based, so names are unique per outcome);
    ``data`` and ``note`` as in :func:`outcome_plans`.
    """
    return _draw(outcome_plans(outcome, data, note), folder, figure_stem(index, outcome.spec.name))


def outcome_plans(outcome, data=None, note: str = "") -> list:
    """The figures of one outcome as ``(kind, caption, draw)`` plans (``draw()`` returns the axes).

    Forest always, funnel from k = 3 (unless the outcome says ``bias = false``;
    "contour-enhanced" when the measure has a null for the contours), and the figures of the follow-up
    analyses that exist: forest by subgroup, bubble plot (first numeric
    moderator), Doi plot (LFK index), Baujat and leave-one-out forest plots,
    L'Abbe plot for two-group binary outcomes; those of :data:`FIGURE_LIMITS`
    only up to their number of studies (:func:`skipped_figures` says why
    not). GLMM fits get the same figures, their studies shown by the study-level effect sizes of the fit
    (:meth:`GLMMResult.effect_sizes <metapool.glmm.result.GLMMResult.effect_sizes>`);
    those of analyses not defined for the fit (e.g. refits of a GLMM of 2x2
    tables) are left out.

    ``data`` is the study table (for CIs shown as the papers report them, e.g. of median
    survival); ``note`` is appended to every figure title (e.g. "SYNTHETIC data").
    """
    from ..plots import forest_plot, funnel_plot

    model = outcome.model
    title = f"{outcome.spec.name} ({note})" if note else outcome.spec.name
    forest = forest_of(outcome, data)
    if forest is None:
        return []
    plans = [("forest", f"Forest plot: {outcome.spec.name}", lambda: forest_plot(forest, title=title))]
    if model.k >= 3 and outcome.spec.bias:  # bias = false: no small-study analyses, no funnel
        tf = getattr(outcome.bias, "results", {}).get("trimfill") if outcome.bias is not None else None
        filled = (tf.filled_yi, tf.filled_vi) if tf is not None and tf.k0 > 0 else None
        kind = "Contour-enhanced funnel plot" if forest.null is not None else "Funnel plot"  # contours need a null
        plans.append(("funnel", f"{kind}: {outcome.spec.name}"
                      + (" (open points: studies imputed by trim-and-fill)" if filled is not None else ""),
                      lambda: funnel_plot(model, filled=filled, contours=(0.1, 0.05, 0.01), title=title)))
    plans += _follow_up_plans(outcome, model, title)
    too_large = {kind for group in skipped_figures(model.k) for kind in FIGURE_LIMITS[group][0]}
    return [p for p in plans if p[0] not in too_large]


def forest_of(outcome, data=None):
    """The forest-plot table of an outcome (:func:`~metapool.plots.forest_data.forest_table`), None without one.

    An outcome has a forest plot when its model is a pooled result
    (:class:`~metapool.models.protocol.PooledResult`: an intercept-only rma
    model, MH, Peto or GLMM fit); ``data`` as in
    :func:`outcome_figures`. Its ``arms`` name the two groups' data columns
    (default "Group 1" and "Group 2"), its ``favours`` label the two sides of
    the null line.
    """
    from ..plots import forest_table

    model = outcome.model
    if not isinstance(model, PooledResult):  # a meta-regression has no single pooled value
        return None
    return forest_table(model, _effects(outcome), **_reported(outcome, data), **_labels(outcome.spec))


def _labels(spec) -> dict:
    """The figure options named in the analysis file: the arms' names (forest columns, L'Abbe axes), "Favours" labels."""
    return {"arms": spec.arms or ("Group 1", "Group 2"), "favours": spec.favours}


def forest_study_cis(analysis) -> dict:
    """Outcome index to how the study CIs of its forest plot are computed (outcomes with a forest plot)."""
    tables = {i: forest_of(o, analysis.table) for i, o in enumerate(analysis.outcomes) if o.error is None}
    return {i: t.study_ci for i, t in tables.items() if t is not None}


def risk_of_bias_figures(analysis, folder: Path | None, note: str = "") -> tuple:
    """The robvis traffic-light and summary plots of the per-domain judgements (none without them).

    Saved into ``folder`` as ``risk_of_bias_traffic_light`` and
    ``risk_of_bias_summary`` (SVG and PNG) when given.
    """
    return _draw(risk_of_bias_plans(analysis, note), folder, "risk_of_bias")


def risk_of_bias_plans(analysis, note: str = "") -> list:
    """The risk-of-bias figures (:func:`risk_of_bias_figures`) as ``(kind, caption, draw)`` plans."""
    from ..plots.risk_of_bias import rob_summary_plot, traffic_light_plot

    rob = analysis.risk_of_bias
    if rob is None:
        return []
    suffix = f" ({note})" if note else ""
    plans = [("traffic_light", "Risk of bias per study and domain (traffic-light plot; + low, \u2212 some concerns,"
              " X high, ? no information)", lambda: traffic_light_plot(rob, title="Risk of bias" + suffix)),
             ("summary", "Risk of bias per domain: share of studies with each judgement (unweighted)",
              lambda: rob_summary_plot(rob, title="Risk of bias summary" + suffix))]
    return plans


def _draw(plans: list, folder: Path | None, stem: str) -> tuple:
    """Draw each ``(kind, caption, draw)`` plan in this process into a :class:`Figure`.

    Saved into ``folder`` (when given) as ``{stem}_{kind}``, SVG and PNG.
    """
    formats = ("svg", "png") if folder is not None else ()
    drawn = ((kind, caption, render_plan(draw, formats, f"{stem}_{kind}")) for kind, caption, draw in plans)
    return tuple(saved_figure(kind, caption, images, folder, f"{stem}_{kind}", formats)
                 for kind, caption, images in drawn if images is not None)


def saved_figure(kind: str, caption: str, images: dict, folder: Path | None, name: str, formats) -> Figure:
    """The :class:`Figure` of rendered ``images`` (:func:`render_plan`).

    Its ``formats`` are written into ``folder`` (when given) as ``name.{format}``.
    """
    files = ()
    if folder is not None:
        files = tuple(str(folder / f"{name}.{fmt}") for fmt in formats)
        for path, fmt in zip(files, formats):
            Path(path).write_bytes(images[fmt])
    return Figure(kind, caption, images["svg"].decode("utf-8"), files)


def render_plan(draw, formats, salt: str) -> dict | None:
    """Draw one plan (``draw()`` returns the axes) and render it: format to bytes, SVG always included.

    Returns None when the data do not support the figure (the drawing
    raised :class:`~metapool.exceptions.MetapoolError`, e.g. no numeric
    moderator). The figure is closed afterwards.
    """
    from ..plots import figure_files
    from ..plots._style import pyplot

    try:
        ax = draw()
    except MetapoolError:
        return None
    try:
        return figure_files(ax, tuple(dict.fromkeys(("svg", *formats))), dpi=DPI, salt=salt)
    finally:
        pyplot().close(ax.figure)


def _effects(outcome):
    """The effect sizes of the outcome's model studies: a GLMM fit's own (the outcome's may hold tables it dropped)."""
    model = outcome.model
    return model.effect_sizes() if isinstance(model, GLMMResult) else outcome.effects


def _reported(outcome, data) -> dict:
    """Forest options for outcomes whose study CIs come from the papers (medians with their CIs)."""
    cols = outcome.spec.columns
    if data is None or outcome.spec.kind != "median" or "lower" not in cols:
        return {}
    from ..io.parsing import to_float_array

    lower, upper = (to_float_array(data[cols[c]], cols[c]) for c in ("lower", "upper"))
    unit = f" ({outcome.spec.unit})" if outcome.spec.unit else ""
    return {"reported_ci": (lower, upper), "effect_label": f"Median{unit}"}


def _follow_up_plans(outcome, model, name: str) -> list:
    """Figures of the follow-up analyses that exist: subgroup forest, bubble, Doi, Baujat, leave-one-out, L'Abbe."""
    from ..plots import (baujat_plot, bubble_plot, doi_plot, forest_plot, forest_table_subgroups, labbe_plot,
                         labbe_table, series_forest_table)  # fmt: skip
    from ..plots.bubble import numeric_moderators

    plans = []
    sub = outcome.subgroups
    if sub is not None and sub.tau2_mode == "separate":
        plans.append(("subgroups", f"Forest plot by {sub.column}, with the test for subgroup differences: {name}",
                      lambda: forest_plot(forest_table_subgroups(sub, outcome.effects, overall=model,
                                                                 **_labels(outcome.spec)), title=name)))
    reg = outcome.regression
    if reg is not None and numeric_moderators(reg):
        mod = numeric_moderators(reg)[0]
        plans.append(("bubble", f"Bubble plot of the meta-regression on {mod} (bubble area: weight; band: "
                      f"{reg.level * 100:g}% CI of the fitted line): {name}",
                      lambda: bubble_plot(reg, moderator=mod, title=name)))
    lfk = getattr(outcome.bias, "results", {}).get("lfk") if outcome.bias is not None else None
    if lfk is not None:
        plans.append(("doi", f"Doi plot with the LFK index ({lfk.interpretation}): {name}",
                      lambda: doi_plot(lfk, model=model, title=name)))
    if outcome.influence is not None:
        plans.append(("baujat", f"Baujat plot (contribution to heterogeneity vs influence on the estimate): {name}",
                      lambda: baujat_plot(model, title=name)))
    if outcome.leave_one_out is not None:
        plans.append(("leave_one_out", f"Leave-one-out forest plot: {name}",
                      lambda: forest_plot(series_forest_table(outcome.leave_one_out, model), title=name)))
    es = _effects(outcome)
    if es is not None and es.measure in ("OR", "RR", "RD", "PETO") and {"ai", "bi", "ci", "di"} <= set(es.cells):
        plans.append(("labbe", f"L'Abbe plot (event rates of the two groups; bubble area: weight): {name}",
                      lambda: labbe_plot(labbe_table(es, model, groups=_labels(outcome.spec)["arms"]), title=name)))
    return plans
