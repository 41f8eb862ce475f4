"""An outcome's results in plain words, for the main text of the HTML report.

A clinician reads these tables first: the pooled value on the natural scale
(proportion, odds ratio, ...) with its 95% CI, the prediction interval, the
between-study variance τ² and I², the test for heterogeneity, subgroups,
meta-regression, small-study tests, the sensitivity summary and leave-one-out,
each value beside its analysis-scale (log, logit) counterpart where they
differ. metafor's names (``zval``, ``ci.lb``, ``QE.del``) stay in the
report's technical section (the console summaries). Every number here is one
of results.json, formatted for a reader (:mod:`metapool.formatting.numbers`;
p-values by :func:`~metapool.formatting.numbers.fmt_p_clinical`).

References
----------
Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). A re-evaluation of
random-effects meta-analysis. J R Stat Soc A 172:137-159 (prediction interval).
Viechtbauer W, Cheung MWL (2010). Outlier and influence diagnostics for
meta-analysis. Res Synth Methods 1:112-125.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..bias.failsafe import FailSafeN
from ..bias.lfk import LFKResult
from ..bias.rank import RankTest
from ..bias.regression import RegressionTest
from ..bias.trimfill import TrimFillResult
from ..effect_sizes.registry import MEASURES
from ..formatting.numbers import fmt_interval, fmt_level, fmt_p_clinical, fmt_percent, fmt_range, fmt_values
from ..influence.sensitivity import method_label
from ..models.methods import get_method
from ..models.results import Prediction
from .card import prediction_interval_text, format_estimate
from .certainty import is_proportion

__all__ = ["PlainTable", "outcome_tables", "figure_sections", "TRIMFILL_NONE"]

#: The one sentence that replaces the trim-and-fill model when no study was filled in.
TRIMFILL_NONE = "no study estimated missing; the pooled value is unchanged"

#: The section (a :attr:`PlainTable.anchor`) each kind of figure is shown in (others: the pooled result's).
FIGURE_SECTIONS = {"subgroups": "subgroups", "bubble": "regression", "funnel": "bias", "doi": "bias",
                   "baujat": "leave-one-out", "leave_one_out": "leave-one-out"}

#: Families of measures that compare two groups (their test of the pooled value is a test of no effect);
#: generic effect sizes count as such unless they are medians.
COMPARATIVE = ("binary", "continuous", "correlation", "generic")


@dataclass(frozen=True)
class PlainTable:
    """A titled table of texts (the template escapes them); ``note`` is a sentence below it.

    A row shorter than ``header`` ends in a text that spans the remaining columns (why a row has no numbers).
    """

    title: str
    header: tuple
    rows: tuple
    note: str = ""
    anchor: str = "pooled"

    @property
    def show_header(self) -> bool:
        """Whether the header row is shown: a two-column table of labels and values (``("", "")``) has none."""
        return bool(self.header[0]) or len(self.header) > 2


def _names(model) -> tuple[str, str | None]:
    """The natural-scale name of the pooled value and its analysis scale (None when they are the same)."""
    entry = MEASURES.get(getattr(model, "measure", None) or "")
    if entry is None or entry.family == "generic" and entry.back == "identity":  # "as given": a plain estimate
        return "estimate", None
    return entry.natural, (None if entry.back == "identity" else entry.scale)


def _analysis(est, lo, hi) -> str:
    """A value on the analysis scale with its CI: the limits' precision follows the limits, not a value near 0."""
    lower, upper = fmt_values((lo, hi))
    return f"{fmt_values((est,))[0]} ({fmt_range(lower, upper)})"


def _natural(model, est, lo, hi, level) -> str:
    """A value with its CI, back-transformed with the model's transformation, as the card shows it."""
    t = model.back_transform
    p = Prediction(est, lo, hi, math.nan, math.nan, level)
    if t is not None:
        p = p.back_transformed(t, model.ni)
    return fmt_interval(p.estimate, p.ci_lower, p.ci_upper, percent=is_proportion(model))


def _pooled(natural, value, model) -> str:
    """A fit's pooled value with its CI on the natural scale (its ``back()``), else as ``value`` holds it."""
    shown = value if natural is None else natural  # formatted as the card formats a pooled estimate
    return fmt_interval(shown.estimate, shown.ci_lower, shown.ci_upper, percent=is_proportion(model))


def _columns(natural: str, scale: str | None, level: str = "") -> tuple:
    """Headers of a pooled value on the natural scale and, where it differs, on the analysis scale."""
    ci = f"({level} CI)" if level else "(CI)"
    return (f"Pooled {natural} {ci}",) + ((f"{scale.capitalize()} (CI)",) if scale else ())


def _cells(natural_text: str, scale: str | None, est, lo, hi) -> tuple:
    """The cells under :func:`_columns`: the natural-scale text, then the analysis-scale value where shown."""
    return (natural_text,) + ((_analysis(est, lo, hi),) if scale else ())


def _tau2(tau2) -> str:
    return "—" if tau2 is None or not math.isfinite(tau2) else fmt_values((tau2,))[0]


def _i2(i2) -> str:
    return "—" if i2 is None or not math.isfinite(i2) else fmt_percent(i2)


def _q(q, df, p) -> str:
    return f"Q = {fmt_values((q,))[0]}, df = {df:g}, {fmt_p_clinical(p)}"


def pooled_table(o) -> PlainTable:
    """The pooled result: model, pooled value (natural and analysis scale), PI, τ², I², heterogeneity test."""
    m = o.model
    natural, scale = _names(m)
    natural = "median" if o.spec.kind == "median" else natural
    level = fmt_level(m.level)
    studies = f"{m.k:,} {'study' if m.k == 1 else 'studies'}"
    rows = [("Model", f"{method_label(get_method(o.spec.method).code, m.measure)}; {studies}")]
    rows.append((f"Pooled {natural} ({level} CI)", format_estimate(o)))
    if scale is not None:
        rows.append((f"On the {scale} scale", _analysis(m.estimate, m.ci_lower, m.ci_upper)))
    if m.k >= 2:  # one study has no between-study variability to describe
        if math.isfinite(m.pi_lower):
            rows.append(("Prediction interval (where the true value of a new study is expected)",
                         prediction_interval_text(o)))
        if getattr(m, "random", True) and math.isfinite(m.tau2):
            rows.append(("Between-study variance τ²", f"{_tau2(m.tau2)} (τ = {_tau2(m.tau)})"))
        if math.isfinite(m.i2):
            rows.append(("I² (share of the variability due to differences between studies)", _i2(m.i2)))
        if math.isfinite(m.q):
            rows.append(("Test for heterogeneity", _q(m.q, m.q_df, m.q_pvalue)))
    entry = MEASURES.get(m.measure or "")
    if entry is not None and entry.family in COMPARATIVE and o.spec.kind != "median":
        rows.append(("Test of no effect", fmt_p_clinical(m.pvalue)))
    return PlainTable("Pooled result", ("", ""), tuple(rows))


def subgroups_table(o) -> PlainTable:
    """Each subgroup's pooled value, τ² and I², with the test for subgroup differences."""
    s = o.subgroups
    natural, scale = _names(o.model)
    header = ("Subgroup", "k", *_columns(natural, scale), "τ²", "I²")
    rows = tuple((str(g.level), str(g.k), *_cells(_pooled(g.natural, g, o.model), scale, g.estimate, g.ci_lower,
                                                  g.ci_upper), _tau2(g.tau2), _i2(g.i2)) for g in s.subgroups)
    return PlainTable(f"Subgroups by {s.column}", header, rows,
                      "Test for subgroup differences: " + _q(s.qm, s.qm_df, s.qm_pvalue) + ".", "subgroups")


def regression_table(o) -> PlainTable:
    """Meta-regression coefficients (analysis scale) with their CI and p, the test of moderators and R²."""
    r = o.regression
    _, scale = _names(o.model)
    c = r.coefficients
    rows = tuple(("Intercept" if name == "intrcpt" else name, _analysis(c.estimate[i], c.ci_lower[i], c.ci_upper[i]),
                  fmt_p_clinical(c.pvalue[i])) for i, name in enumerate(c.names))
    m = r.moderators
    note = (f"Test of the moderators together: {fmt_p_clinical(m.pvalue)}; share of the between-study variance"
            f" they explain (R²): {_i2(m.r2)}.")
    return PlainTable("Meta-regression", ("Moderator", f"Coefficient on the {scale or 'analysis'} scale (CI)", "p"),
                      rows, note, "regression")


def _bias_result(res, model) -> str:
    """One small-study analysis in words, values on the natural scale beside the analysis scale."""
    natural, scale = _names(model)
    if isinstance(res, RegressionTest):
        text = f"{fmt_p_clinical(res.pvalue)} for asymmetry"
        if res.limit is not None and math.isfinite(res.limit) and res.ci_lower is not None:
            text += (f"; {natural} of a study with standard error 0: "
                     f"{_natural(model, res.limit, res.ci_lower, res.ci_upper, res.level)}")
            if scale:
                text += f", {scale} {_analysis(res.limit, res.ci_lower, res.ci_upper)}"
        return text
    if isinstance(res, RankTest):
        return f"Kendall's τ = {fmt_values((res.tau,))[0]}, {fmt_p_clinical(res.pvalue)}"
    if isinstance(res, TrimFillResult):
        if res.k0 == 0:
            return TRIMFILL_NONE
        f = res.model
        text = (f"{res.k0} {'study' if res.k0 == 1 else 'studies'} estimated missing on the {res.side} side;"
                f" pooled {natural} with them: "
                f"{_natural(f, f.estimate, f.ci_lower, f.ci_upper, f.level)}")
        return text + (f", {scale} {_analysis(f.estimate, f.ci_lower, f.ci_upper)}" if scale else "")
    if isinstance(res, LFKResult):
        return f"{fmt_values((res.index,))[0]} ({res.interpretation})"
    if isinstance(res, FailSafeN):
        return f"{res.fsnum:,.0f} studies"
    return ""


def bias_table(o) -> PlainTable:
    """Small-study effects: each test with its result (undefined ones with the reason)."""
    b = o.bias
    rows = tuple((title.split(" (")[0], _bias_result(b.results[code], o.model) if code in b.results  # the name
                  else f"not computed: {b.undefined[code]}") for code, title in b.titles.items())  # sans details
    return PlainTable("Small-study effects and publication bias", ("Analysis", "Result"), rows, anchor="bias")


def sensitivity_table(o) -> PlainTable:
    """The sensitivity summary (:func:`metapool.influence.sensitivity.sensitivity_summary`) side by side."""
    s = o.sensitivity_summary
    natural, scale = _names(o.model)
    level = fmt_level(s.level)
    header = ("Analysis", *_columns(natural, scale, level), "τ²", "I²", "k")
    rows = []
    for r in s.rows:
        if r.reason is not None:
            rows.append((r.label, r.reason))  # shorter than the header: the reason spans the other columns
            continue
        rows.append((r.label, *_cells(_pooled(r.natural, r, o.model), scale, r.estimate, r.ci_lower, r.ci_upper),
                     _tau2(r.tau2), _i2(r.i2), str(r.k)))
    return PlainTable("Sensitivity summary", header, tuple(rows),
                      "Each row refits the outcome with one choice changed; the first row is the analysis above.",
                      "sensitivity")


def leave_one_out_table(o) -> PlainTable:
    """The pooled value with each study left out, on the natural and the analysis scale."""
    s = o.leave_one_out
    natural, scale = _names(o.model)
    header = ("Study left out", *_columns(natural, scale), "τ²", "I²")
    values = zip(s.estimate, s.ci_lower, s.ci_upper)
    rows = tuple((label, *_cells(_natural(o.model, est, lo, hi, s.level), scale, est, lo, hi),
                  _tau2(tau2), _i2(i2)) for label, (est, lo, hi), tau2, i2 in zip(s.slab, values, s.tau2, s.i2))
    return PlainTable("Leaving out one study at a time", header, rows, anchor="leave-one-out")


def influence_note(o) -> str:
    """Which studies the influence diagnostics flag (Viechtbauer & Cheung 2010), in one sentence."""
    d = o.influence
    flagged = [label for label, f in zip(d.slab, d.influential) if f]
    if not flagged:
        return "Influence diagnostics: no study is flagged as influential (Viechtbauer & Cheung 2010)."
    return ("Influence diagnostics: flagged as influential (Viechtbauer & Cheung 2010): " + ", ".join(flagged) + ".")


def medians_table(o) -> PlainTable:
    """A median of medians (no study variances): method, studies and the pooled median with its sign-test CI."""
    m = o.medians
    unit = f" {o.spec.unit}" if o.spec.unit else ""
    ci = f"{m.coverage * 100:.4g}% CI"
    return PlainTable("Pooled median", ("", ""), (
        ("Method", m.method_name), ("Studies", str(m.k)),
        (f"Pooled median ({ci}, {'exact' if m.exact else 'normal approximation to the'} sign test)",
         fmt_interval(m.estimate, m.ci_lower, m.ci_upper, unit=unit))))


def outcome_tables(o) -> list[PlainTable]:
    """The plain-language tables of an analysed outcome, in the report's order."""
    if o.model is None:
        return [medians_table(o)] if o.medians is not None else []
    tables = [pooled_table(o)]
    for name, build in (("subgroups", subgroups_table), ("regression", regression_table), ("bias", bias_table),
                        ("sensitivity_summary", sensitivity_table), ("leave_one_out", leave_one_out_table)):
        if getattr(o, name) is not None:
            tables.append(build(o))
    return tables


def figure_sections(figures, tables: list[PlainTable]) -> dict:
    """The figures by the anchor of the table they are shown after (:data:`FIGURE_SECTIONS`; else the pooled result)."""
    anchors = {t.anchor for t in tables}
    out: dict[str, list] = {}
    for fig in figures:
        section = FIGURE_SECTIONS.get(fig.kind, "pooled")
        out.setdefault(section if section in anchors else "pooled", []).append(fig)
    return out
