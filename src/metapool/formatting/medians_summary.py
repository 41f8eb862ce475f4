"""Summaries of the analyses of medians (:mod:`metapool.medians`)."""

from __future__ import annotations

from .._summary import document
from ..medians.describe import MedianSummary
from ..medians.mean_sd import MeanSDEstimate
from ..medians.median_of_medians import PooledMedian
from .blocks import Document, KeyValues, Table
from .numbers import fmt


def _span(lower, upper) -> str:
    """``lower – upper`` (an en dash between two numbers)."""
    return f"{fmt(lower)} \u2013 {fmt(upper)}"


@document.register
def _(res: MedianSummary) -> Document:
    return Document("Study medians (descriptive, not pooled)", (KeyValues("", (
        ("studies with a median", str(res.k)),
        ("median of study medians", fmt(res.median)),
        ("interquartile range", _span(res.q1, res.q3)),
        ("range", _span(res.minimum, res.maximum)),
    )),))


@document.register
def _(res: MeanSDEstimate) -> Document:
    rows = tuple((s, sc or "-", fmt(m), fmt(d)) for s, sc, m, d in zip(res.slab, res.scenario, res.mean, res.sd))
    mean = "Luo et al. (2018)" if res.mean_method == "luo" else "Wan et al. (2014)"
    return Document("Means and SDs estimated from medians", (
        Table("", ("study", "scenario", "mean", "sd"), rows, f"Mean: {mean}; SD: Wan et al. (2014)."),
    ))


@document.register
def _(res: PooledMedian) -> Document:
    return Document("Pooled median", (KeyValues("", (
        ("method", res.method_name),
        ("studies", str(res.k)),
        ("pooled median", fmt(res.estimate)),
        (f"{res.coverage * 100:.4g}% CI ({'exact' if res.exact else 'normal approx.'} sign test)",
         _span(res.ci_lower, res.ci_upper)),
    )),))
