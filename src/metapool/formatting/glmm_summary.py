"""The printable summary of a :class:`~metapool.glmm.result.GLMMResult`.

Laid out like metafor's ``print.rma.glmm`` (model type, tau^2, I^2, the Wald
and likelihood-ratio tests for heterogeneity, the model results), followed by
the back-transformed pooled value and the fitting details.
"""

from __future__ import annotations

from ..effect_sizes.registry import MEASURES
from ..glmm.result import GLMM_MODELS
from .document import Document, KeyValues, Paragraph, Table
from .numbers import fmt, fmt_p, fmt_pct, stars


def _pval(p) -> str:
    text = fmt_p(p)
    return f"p-val {text[0]} {text[1:]}" if text.startswith("<") else f"p-val = {text}"


def glmm_document(res) -> Document:
    """Build the summary document of a GLMM fit."""
    m = MEASURES[res.measure]
    lev = f"{res.level * 100:g}%"
    back = res.back()
    if res.model == "exact":
        title = f"Exact interval for separated data (k = {res.k})"
        blocks = [
            Paragraph(f"Measure: {m.code} ({m.name}); no GLMM can be fitted."),
            KeyValues("Summary:", ((f"Pooled {m.natural}", f"{fmt(back.estimate)} [{fmt(back.ci_lower)},"
                                    f" {fmt(back.ci_upper)}] ({lev} exact CI)"),)),
        ]
    else:
        title = f"Random-effects GLMM (k = {res.k}; tau^2 estimator: ML)"
        blocks = [
            Paragraph(f"Measure: {m.code} ({m.name}); {GLMM_MODELS[res.model]}; adaptive Gauss-Hermite"
                      f" quadrature with {res.n_quadrature} points per study."),
            KeyValues("", (
                ("tau^2 (estimated amount of total heterogeneity)", fmt(res.tau2)),
                ("tau (square root of estimated tau^2 value)", fmt(res.tau)),
                ("I^2 (total heterogeneity / total variability)", fmt_pct(res.i2)),
                ("H^2 (total variability / sampling variability)", fmt(res.h2, 2)),
            )),
        ]
        ci, ci_note = res.reported_heterogeneity_ci
        if ci is not None:
            blocks.append(Table(
                f"{ci.level * 100:g}% profile-likelihood CIs:", ("", "estimate", "ci.lb", "ci.ub"),
                tuple((name, *(f(v) for v in getattr(ci, attr))) for name, attr, f in (
                    ("tau^2", "tau2", fmt), ("tau", "tau", fmt), ("I^2(%)", "i2", fmt_pct), ("H^2", "h2", fmt))),
            ))
        if res.q_df == res.q_df:
            blocks.append(Paragraph(
                f"Tests for heterogeneity: Wld(df = {res.q_df:g}) = {fmt(res.q)}, {_pval(res.q_pvalue)};"
                f" LRT(df = {res.q_df:g}) = {fmt(res.q_lrt)}, {_pval(res.q_lrt_pvalue)}"
            ))
        stat = "zval" if res.ddf is None else "tval"
        dist = "normal distribution" if res.ddf is None else f"t-distribution with df = {res.ddf:g}"
        blocks.append(Table(
            "Model results:",
            ("", "estimate", "se", stat, "pval", "ci.lb", "ci.ub", ""),
            (("estimate", fmt(res.estimate), fmt(res.se), fmt(res.statistic), fmt_p(res.pvalue),
              fmt(res.ci_lower), fmt(res.ci_upper), stars(res.pvalue)),),
            f"{lev} CIs from the {dist}.",
        ))
        blocks.append(KeyValues("Summary:", (
            (f"Back-transformed ({m.natural})", f"{fmt(back.estimate)} [{fmt(back.ci_lower)}, {fmt(back.ci_upper)}]"),
            ("  prediction interval", f"[{fmt(back.pi_lower)}, {fmt(back.pi_upper)}]"),
            ("Log-likelihood", f"{fmt(res.loglik)} (metafor's); marginal {fmt(res.marginal_loglik)}"),
            ("Optimiser", f"{res.optimizer}; {'converged' if res.converged else 'NOT converged'}"
                          f" after {res.n_iter} iterations"),
        )))
    if res.exclusions:
        blocks.append(Table("Excluded studies:", ("row", "study", "reason"),
                            tuple((str(e.row + 1), e.label, e.reason) for e in res.exclusions)))
    for text in res.warnings:
        blocks.append(Paragraph("Warning: " + text))
    for text in res.notes + ((ci_note,) if res.model != "exact" and ci_note else ()):
        blocks.append(Paragraph("Note: " + text))
    return Document(title, tuple(blocks))
