"""The printable summary of an :class:`~metapool.models.results.RMAResult`.

Laid out like metafor's ``print.rma.uni`` so that R users find every number
where they expect it, followed by the back-transformed pooled estimate.
"""

from __future__ import annotations

from ..effect_sizes.registry import MEASURES
from ..models.tau2 import ESTIMATORS
from .document import Document, KeyValues, Paragraph, Table
from .numbers import fmt, fmt_p, fmt_pct, stars


def rma_document(res) -> Document:
    """Build the summary document of a fitted model."""
    kind = "Mixed-effects model" if res.moderators is not None and res.random else res.model_name
    head = f"{kind} (k = {res.k}"
    head += f"; tau^2 estimator: {ESTIMATORS[res.method].code})" if res.random else ")"
    blocks = []
    if res.measure is not None:
        m = MEASURES[res.measure]
        blocks.append(Paragraph(f"Measure: {m.code} ({m.name}); analysis scale: {m.scale}."))

    if res.random:
        se_part = f" (SE = {fmt(res.tau2_se)})" if res.tau2_se == res.tau2_se else ""
        blocks.append(KeyValues("", (
            ("tau^2 (estimated amount of total heterogeneity)", fmt(res.tau2) + se_part),
            ("tau (square root of estimated tau^2 value)", fmt(res.tau)),
            ("I^2 (total heterogeneity / total variability)", fmt_pct(res.i2)),
            ("H^2 (total variability / sampling variability)", fmt(res.h2, 2)),
        )))
    else:
        blocks.append(KeyValues("", (
            ("I^2 (total heterogeneity / total variability)", fmt_pct(res.i2)),
            ("H^2 (total variability / sampling variability)", fmt(res.h2, 2)),
        )))
    p_text = fmt_p(res.q_pvalue)
    p_text = f"p-val {p_text[0]} {p_text[1:]}" if p_text.startswith("<") else f"p-val = {p_text}"
    blocks.append(Paragraph(f"Test for heterogeneity: Q(df = {res.q_df:g}) = {fmt(res.q)}, {p_text}"))

    stat = "zval" if res.ddf is None else "tval"
    coef = res.coefficients
    rows = tuple(
        (
            name if res.X is not None else "estimate",
            fmt(coef.estimate[i]),
            fmt(coef.se[i]),
            fmt(coef.statistic[i]),
            fmt_p(float(coef.pvalue[i])),
            fmt(coef.ci_lower[i]),
            fmt(coef.ci_upper[i]),
            stars(float(coef.pvalue[i])),
        )
        for i, name in enumerate(coef.names)
    )
    lev = f"{res.level * 100:g}%"
    df_note = f"t-distribution with df = {res.ddf:g}" if res.ddf is not None else "normal distribution"
    test_note = " (Knapp-Hartung adjusted SE)" if res.test == "knha" and res.ddf is not None else ""
    blocks.append(Table(
        "Model results:",
        ("", "estimate", "se", stat, "pval", "ci.lb", "ci.ub", ""),
        rows,
        f"{lev} CIs from the {df_note}{test_note}.",
    ))

    if res.moderators is not None:
        m = res.moderators
        which = ", ".join(m.names)
        if m.ddf is None:
            stat = f"QM(df = {m.df}) = {fmt(m.statistic)}"
        else:
            stat = f"F(df1 = {m.df}, df2 = {m.ddf:g}) = {fmt(m.statistic)}"
        p_text = fmt_p(m.pvalue)
        blocks.insert(-1, Paragraph(f"Test of moderators ({which}): {stat}, p-val {'' if p_text.startswith('<') else '= '}{p_text}"))
        if m.r2 == m.r2:
            blocks.insert(-1, Paragraph(f"R^2 (amount of heterogeneity accounted for): {fmt_pct(m.r2)}"))
    if res.X is None:
        pred = res.predict()
        items = [("Pooled estimate", f"{fmt(pred.estimate)} [{fmt(pred.ci_lower)}, {fmt(pred.ci_upper)}]")]
        if res.random:
            items.append((f"{lev} prediction interval", f"[{fmt(pred.pi_lower)}, {fmt(pred.pi_upper)}]"))
        back = res.back()
        if back is not None:
            m = MEASURES[res.measure]
            items.append((f"Back-transformed ({m.natural})",
                          f"{fmt(back.estimate)} [{fmt(back.ci_lower)}, {fmt(back.ci_upper)}]"))
            if res.random:
                items.append(("  prediction interval", f"[{fmt(back.pi_lower)}, {fmt(back.pi_upper)}]"))
        if res.companion is not None:
            cb = res.companion.back()
            items.append(("Logit (PLO) model, for comparison",
                          f"{fmt(cb.estimate)} [{fmt(cb.ci_lower)}, {fmt(cb.ci_upper)}]"))
        blocks.append(KeyValues("Summary:", tuple(items)))

    if res.exclusions:
        blocks.append(Table("Excluded studies:", ("row", "study", "reason"),
                            tuple((str(e.row + 1), e.label, e.reason) for e in res.exclusions)))
    for text in (*res.warnings, *res.notes):
        blocks.append(Paragraph(("Warning: " if text in res.warnings else "Note: ") + text))
    return Document(head, tuple(blocks))
