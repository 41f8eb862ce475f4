"""The printable summary of an :class:`~metapool.models.results.RMAResult` (and of MH/Peto results).

Laid out like metafor's ``print.rma.uni`` so that R users find every number
where they expect it, followed by the back-transformed pooled estimate.
"""

from __future__ import annotations

import math

from .._summary import document
from ..effect_sizes.registry import MEASURES
from ..models.mh_peto import MHResult
from ..models.results import RMAResult
from ..models.tau2 import ESTIMATORS
from .blocks import Document, KeyValues, Paragraph, Table
from .numbers import fmt, fmt_level, fmt_p, fmt_pct
from .sections import (
    back_transformed,
    bracket,
    coefficient_table,
    estimate_ci,
    exclusions_table,
    heterogeneity,
    measure_line,
    pval,
    remarks,
)


def _moderator_test(m) -> tuple:
    """The omnibus test of the moderators (QM or F) and R^2, as metafor prints them."""
    which = ", ".join(m.names)
    if m.ddf is None:
        stat = f"QM(df = {m.df}) = {fmt(m.statistic)}"
    else:
        stat = f"F(df1 = {m.df}, df2 = {m.ddf:g}) = {fmt(m.statistic)}"
    p_text = fmt_p(m.pvalue)
    out = (Paragraph(f"Test of moderators ({which}): {stat}, p-val {'' if p_text.startswith('<') else '= '}{p_text}"),)
    if m.r2 == m.r2:
        out += (Paragraph(f"R^2 (amount of heterogeneity accounted for): {fmt_pct(m.r2)}"),)
    return out


def _pooled(res: RMAResult) -> KeyValues:
    """The pooled estimate with its intervals, on the analysis and the natural scale."""
    pred = res.predict()
    items = [("Pooled estimate", estimate_ci(pred.estimate, pred.ci_lower, pred.ci_upper))]
    if res.random:
        items.append((f"{fmt_level(res.level)} prediction interval", bracket(pred.pi_lower, pred.pi_upper)))
    back = res.back()
    if back is not None:
        items += back_transformed(res.measure, back, res.random)
    if res.companion is not None:
        cb = res.companion.back()
        items.append(("Logit (PLO) model, for comparison", estimate_ci(cb.estimate, cb.ci_lower, cb.ci_upper)))
    return KeyValues("Summary:", tuple(items))


@document.register
def rma_document(res: RMAResult) -> Document:
    """Build the summary document of a fitted model."""
    kind = "Mixed-effects model" if res.moderators is not None and res.random else res.model_name
    head = f"{kind} (k = {res.k}"
    head += f"; tau^2 estimator: {ESTIMATORS[res.method].code})" if res.random else ")"
    blocks = []
    if res.measure is not None:
        blocks.append(measure_line(res.measure, f"analysis scale: {MEASURES[res.measure].scale}"))
    if res.random:
        blocks.append(heterogeneity(res.i2, res.h2, res.tau2, res.tau, res.tau2_se))
    else:
        blocks.append(heterogeneity(res.i2, res.h2))
    blocks.append(Paragraph(f"Test for heterogeneity: Q(df = {res.q_df:g}) = {fmt(res.q)}, {pval(res.q_pvalue)}"))
    if res.moderators is not None:
        blocks += _moderator_test(res.moderators)
    coef = res.coefficients
    names = coef.names if res.X is not None else ("estimate",) * len(coef.names)
    blocks.append(coefficient_table(
        zip(names, coef.estimate, coef.se, coef.statistic, coef.pvalue, coef.ci_lower, coef.ci_upper),
        res.ddf, res.level, " (Knapp-Hartung adjusted SE)" if res.test == "knha" and res.ddf is not None else "",
    ))
    if res.X is None:
        blocks.append(_pooled(res))
    blocks += exclusions_table(res.exclusions)
    blocks += remarks(res.warnings, res.notes)
    return Document(head, tuple(blocks))


@document.register
def mh_document(res: MHResult) -> Document:
    """The summary of a Mantel-Haenszel or Peto model: the model's, with the tests of the 2x2 tables."""
    doc = rma_document(res)
    tests = [t for t in (res.cmh, res.breslow_day, res.tarone) if t is not None]
    if not tests:
        return doc
    rows = tuple((t.name, fmt(t.statistic), fmt(t.df, 0), fmt_p(t.pvalue)) for t in tests)
    undefined = any(math.isnan(t.statistic) or math.isnan(t.pvalue) for t in tests)
    table = Table("Tests of the 2x2 tables:", ("", "X^2", "df", "pval"), rows,
                  "NA: not computable for these data." if undefined else "")
    return Document(doc.title, doc.blocks[:3] + (table,) + doc.blocks[3:])
