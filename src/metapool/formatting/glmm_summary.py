"""The printable summary of a :class:`~metapool.glmm.result.GLMMResult`.

Laid out like metafor's ``print.rma.glmm`` (model type, tau^2, I^2, the Wald
and likelihood-ratio tests for heterogeneity, the model results), followed by
the back-transformed pooled value and the fitting details.
"""

from __future__ import annotations

from .._summary import document
from ..effect_sizes.registry import MEASURES
from ..glmm.result import GLMM_MODELS, Correction, GLMMResult
from .blocks import Document, KeyValues, Paragraph, Table
from .numbers import fmt, fmt_level, fmt_pct
from .sections import (
    back_transformed,
    coefficient_table,
    estimate_ci,
    exclusions_table,
    heterogeneity,
    measure_line,
    pval,
    remarks,
)


def _correction(res: GLMMResult) -> tuple:
    """The escalc options of the observed outcomes behind I^2 and H^2, when they are not metafor's defaults."""
    c = res.correction
    default = Correction()
    if (c.add, c.to) == (default.add, default.to) and (c.drop00 or res.measure != "OR"):
        return ()
    text = f"escalc with add = {c.add:g}, to = {c.to!r}" + (", drop00 = False" if res.measure == "OR" and not c.drop00
                                                            else "")
    return (("Observed outcomes (I^2, H^2)", text),)


@document.register
def glmm_document(res: GLMMResult) -> Document:
    """Build the summary document of a GLMM fit."""
    back = res.back()
    notes = res.notes
    if res.model == "exact":
        title = f"Exact interval for separated data (k = {res.k})"
        blocks = [
            measure_line(res.measure, "no GLMM can be fitted"),
            KeyValues("Summary:", ((f"Pooled {MEASURES[res.measure].natural}",
                                    f"{estimate_ci(back.estimate, back.ci_lower, back.ci_upper)}"
                                    f" ({fmt_level(res.level)} exact CI)"),)),
        ]
    else:
        title = f"Random-effects GLMM (k = {res.k}; tau^2 estimator: ML)"
        blocks = [
            measure_line(res.measure, f"{GLMM_MODELS[res.model]}; adaptive Gauss-Hermite quadrature with"
                                      f" {res.n_quadrature} points per study"),
            heterogeneity(res.i2, res.h2, res.tau2, res.tau),
        ]
        ci, ci_note = res.reported_heterogeneity_ci
        if ci is not None:
            blocks.append(Table(
                f"{fmt_level(ci.level)} profile-likelihood CIs:", ("", "estimate", "ci.lb", "ci.ub"),
                tuple((name, *(f(v) for v in getattr(ci, attr))) for name, attr, f in (
                    ("tau^2", "tau2", fmt), ("tau", "tau", fmt), ("I^2(%)", "i2", fmt_pct), ("H^2", "h2", fmt))),
            ))
        notes += (ci_note,) if ci_note else ()
        if res.q_df == res.q_df:
            blocks.append(Paragraph(
                f"Tests for heterogeneity: Wld(df = {res.q_df:g}) = {fmt(res.q)}, {pval(res.q_pvalue)};"
                f" LRT(df = {res.q_df:g}) = {fmt(res.q_lrt)}, {pval(res.q_lrt_pvalue)}"
            ))
        blocks.append(coefficient_table(
            (("estimate", res.estimate, res.se, res.statistic, res.pvalue, res.ci_lower, res.ci_upper),),
            res.ddf, res.level,
        ))
        blocks.append(KeyValues("Summary:", back_transformed(res.measure, back, True) + (
            ("Log-likelihood", f"{fmt(res.loglik)} (metafor's); marginal {fmt(res.marginal_loglik)}"),
            ("Optimiser", f"{res.optimizer}; {'converged' if res.converged else 'NOT converged'}"
                          f" after {res.n_iter} iterations"),
        ) + _correction(res)))
    return Document(title, (*blocks, *exclusions_table(res.exclusions), *remarks(res.warnings, notes)))
