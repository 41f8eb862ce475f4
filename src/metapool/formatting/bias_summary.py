"""Summaries of the small-study and publication-bias analyses (:mod:`metapool.bias`)."""

from __future__ import annotations

from .._summary import document
from ..bias.failsafe import FailSafeN
from ..bias.lfk import LFKResult
from ..bias.rank import MAX_K_EXACT, RankTest
from ..bias.regression import PREDICTORS, RegressionTest
from ..bias.trimfill import TrimFillResult
from .blocks import Document, KeyValues, Paragraph
from .numbers import fmt, fmt_p
from .sections import estimate_ci


def _items(title: str, *items) -> Document:
    """A bias test's document: its title and one list of results."""
    return Document(title, (KeyValues("", tuple(items)),))


@document.register
def _(res: FailSafeN) -> Document:
    orwin = res.type == "Orwin"
    return _items(
        f"Fail-safe N ({res.type})",
        ("Fail-safe N", fmt(res.fsnum, 0)),
        ("target", fmt(res.target)) if orwin else ("alpha", fmt(res.alpha)),
        ("Average effect", fmt(res.mean_effect)) if orwin else ("Observed p-value", fmt_p(res.pvalue)),
    )


@document.register
def _(res: LFKResult) -> Document:
    return _items(
        "LFK index (Doi plot asymmetry)",
        ("LFK index", f"{fmt(res.index, 2)} ({res.interpretation})"),
        ("Bands", "|LFK| <= 1 no asymmetry; 1-2 minor; > 2 major asymmetry"),
    )


@document.register
def _(res: RankTest) -> Document:
    kind = ("exact" if res.exact else "normal approximation (ties)" if res.k <= MAX_K_EXACT
            else f"normal approximation (k > {MAX_K_EXACT:,})")
    return _items("Rank correlation test for funnel plot asymmetry",
                  ("Kendall's tau", f"{fmt(res.tau)}, p = {fmt_p(res.pvalue)} ({kind})"))


@document.register
def _(res: RegressionTest) -> Document:
    model = ("mixed-effects meta-regression model" if res.model == "rma"
             else "weighted regression with multiplicative dispersion")
    stat = "z" if res.ddf is None else f"t (df = {res.ddf:g})"
    items = [
        ("Model", f"{model} ({res.method})" if res.model == "rma" else model),
        ("Predictor", PREDICTORS[res.predictor][0] if res.predictor in PREDICTORS else res.predictor),
        ("Test for funnel plot asymmetry", f"{stat} = {fmt(res.statistic)}, p = {fmt_p(res.pvalue)}"),
    ]
    if res.limit is not None:
        items.append(("Limit estimate (as the predictor -> 0)", estimate_ci(res.limit, res.ci_lower, res.ci_upper)))
    return _items(res.name, *items)


@document.register
def _(res: TrimFillResult) -> Document:
    m = res.model
    items = (
        (f"Estimated number of missing studies on the {res.side} side", f"{res.k0} (SE = {fmt(res.se_k0)})"),
        ("Estimator", res.estimator),
        ("Filled-in estimate", estimate_ci(m.estimate, m.ci_lower, m.ci_upper)),
    )
    if res.k0 == 0:  # nothing filled: the model is the one fitted, not printed again
        return Document("Trim-and-fill analysis", (
            KeyValues("", items), Paragraph("No study was filled in: the model is the original one, unchanged.")))
    return Document("Trim-and-fill analysis", (
        KeyValues("", items),
        Paragraph("The model below is fitted to the observed and the filled studies."),
    ) + document(m).blocks)
