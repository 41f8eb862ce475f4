"""The clinician evidence card: the review's results in one glance, all computed.

Total patients is the sum of the sample sizes of the studies analysed (over
all outcomes, each study counted once), never an inclusion threshold; median
follow-up appears only when the data give it and is labelled as follow-up,
distinct from median overall survival.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..io.parsing import to_float_array
from ..io.tables import get_column
from .certainty import Certainty, EvidenceLevel, evidence_level, is_proportion, suggest_certainty

__all__ = ["CardRow", "EvidenceCard", "build_card", "format_estimate"]

#: I^2 (%) above which the card warns about high heterogeneity.
HIGH_I2 = 75.0


def format_estimate(outcome) -> str:
    """Natural-scale estimate with its CI, as a clinician reads it ("50% (95% CI 45–55%)")."""
    p = outcome.pooled
    if p is None:
        return "not estimable"
    level = f"{100 * p.level:g}% CI"
    if is_proportion(outcome.model):
        return f"{100 * p.estimate:.0f}% ({level} {100 * p.ci_lower:.0f}–{100 * p.ci_upper:.0f}%)"
    unit = f" {outcome.spec.unit}" if outcome.spec.unit else ""
    return f"{p.estimate:.2f}{unit} ({level} {p.ci_lower:.2f}–{p.ci_upper:.2f})"


@dataclass(frozen=True)
class CardRow:
    outcome: str
    estimate: str
    k: int
    n: int | None
    i2: float | None
    certainty: Certainty


@dataclass(frozen=True)
class EvidenceCard:
    """Everything the evidence card shows (rendered by the HTML and Markdown templates)."""

    title: str
    population: str
    takeaway: str
    rows: tuple
    n_studies: int
    n_patients: int | None
    designs: dict
    followup: str | None
    evidence: EvidenceLevel
    cautions: tuple
    synthetic: bool

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "takeaway": self.takeaway,
            "outcomes": [
                {"outcome": r.outcome, "estimate": r.estimate, "k": r.k, "n": r.n, "i2": r.i2,
                 "certainty": r.certainty.to_dict()} for r in self.rows
            ],
            "n_studies": self.n_studies,
            "n_patients": self.n_patients,
            "designs": self.designs,
            "followup": self.followup,
            "evidence_level": {"level": self.evidence.level, "text": self.evidence.text},
            "cautions": list(self.cautions),
        }


def _analysed_studies(analysis) -> set:
    labels = set()
    for o in analysis.outcomes:
        model = o.model if o.model is not None else o.medians
        labels |= set(getattr(model, "slab", ()) or ())
    return labels


def _analysed_cells(analysis, column: str | None):
    """Cells of a study-level column for the studies analysed in any outcome (None if not given)."""
    spec, table = analysis.spec, analysis.table
    if column is None or spec.study is None or table is None:
        return None
    analysed = _analysed_studies(analysis)
    keep = np.array([str(s) in analysed for s in get_column(table, spec.study)])
    return np.asarray(list(get_column(table, column)), dtype=object)[keep]


def _total_patients(analysis) -> int | None:
    cells = _analysed_cells(analysis, analysis.spec.n)
    if cells is None:
        return None
    n = to_float_array(cells, analysis.spec.n)
    return int(np.nansum(n)) if np.isfinite(n).any() else None


def _followup(analysis) -> str | None:
    cells = _analysed_cells(analysis, analysis.spec.followup)
    if cells is None:
        return None
    f = to_float_array(cells, analysis.spec.followup)
    f = f[np.isfinite(f)]
    if f.size == 0:
        return None
    return f"median follow-up {np.median(f):.1f} months (median of {f.size} studies reporting it)"


def _designs(analysis) -> dict:
    cells = _analysed_cells(analysis, analysis.spec.design)
    if cells is None:
        return {}
    return dict(Counter(str(c).strip() for c in cells if str(c).strip()))


def _takeaway(rows: list, n_studies: int, n_patients: int | None) -> str:
    shown = [r for r in rows if r.estimate != "not estimable"][:3]
    if not shown:
        return "No outcome could be pooled."
    parts = "; ".join(f"{r.outcome.lower() if r.outcome[:1].islower() else r.outcome}: {r.estimate}" for r in shown)
    who = f"{n_studies} studies" + (f" ({n_patients:,} patients)" if n_patients else "")
    return f"Across {who}, pooled estimates were {parts}."


def build_card(analysis) -> EvidenceCard:
    """Derive the evidence card of an analysis (numbers, level, certainty, cautions)."""
    rows, cautions = [], []
    comparative = False
    for o in analysis.outcomes:
        if o.error is not None:
            cautions.append(f"{o.spec.name}: not analysed ({o.error})")
            continue
        comparative |= o.spec.kind in ("binary", "continuous")
        i2 = getattr(o.model, "i2", None)
        i2 = None if i2 is None or (isinstance(i2, float) and math.isnan(i2)) else float(i2)
        rows.append(CardRow(o.spec.name, format_estimate(o), o.k, o.n_patients, i2, suggest_certainty(o)))
        if i2 is not None and i2 >= HIGH_I2:
            cautions.append(f"{o.spec.name}: high heterogeneity (I² = {i2:.0f}%)")
        pooled = o.pooled
        if pooled is not None and pooled.pi_lower == pooled.pi_lower and i2:
            if is_proportion(o.model):
                cautions.append(f"{o.spec.name}: 95% prediction interval {100 * pooled.pi_lower:.0f}–"
                                f"{100 * pooled.pi_upper:.0f}% — a new study may differ widely")
        if o.k < 10 and o.spec.bias:
            cautions.append(f"{o.spec.name}: k = {o.k} < 10, publication-bias tests have little power")
    n_studies = len(_analysed_studies(analysis)) or analysis.n_studies
    n_patients = _total_patients(analysis)
    return EvidenceCard(
        title=analysis.spec.title,
        population=analysis.spec.population,
        takeaway=_takeaway(rows, n_studies, n_patients),
        rows=tuple(rows),
        n_studies=n_studies,
        n_patients=n_patients,
        designs=(designs := _designs(analysis)),
        followup=_followup(analysis),
        evidence=evidence_level(designs, comparative),
        cautions=tuple(cautions),
        synthetic="synthetic" in (analysis.spec.title + analysis.spec.data).lower(),
    )
