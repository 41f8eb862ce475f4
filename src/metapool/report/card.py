"""The clinician evidence card: the review's results in one glance, all computed.

Total patients is the sum of the sample sizes of the studies analysed (over
all outcomes, each study counted once), never an inclusion threshold; median
follow-up appears only when the data give it and is labelled as follow-up,
distinct from median overall survival. Studies are the rows of the study table
that entered a model: counted, and their columns read, by row, never by label
(labels may repeat or be blank). Every interval is labelled with the level it
was computed at.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..formatting.labels import repeated_labels_text, study_labels
from ..formatting.numbers import fmt_interval, fmt_level, fmt_percent, fmt_percents, fmt_range, fmt_values
from ..io.parsing import to_float_array
from ..io.tables import get_column
from .certainty import Certainty, EvidenceLevel, evidence_level, is_proportion, suggest_certainty

__all__ = ["CardRow", "EvidenceCard", "build_card", "format_estimate", "pooled_header"]

#: I^2 (%) above which the card warns about high heterogeneity.
HIGH_I2 = 75.0


def _unit(outcome) -> str:
    return f" {outcome.spec.unit}" if outcome.spec.unit else ""


def format_estimate(outcome) -> str:
    """Natural-scale estimate with its CI, as a clinician reads it ("0.19% (95% CI 0.09–0.40%)").

    Precision follows the value (:func:`~metapool.formatting.numbers.fmt_interval`)
    and the CI is labelled with the level it was computed at.
    """
    p = outcome.pooled
    if p is None:
        return "not estimable"
    return fmt_interval(p.estimate, p.ci_lower, p.ci_upper, percent=is_proportion(outcome.model),
                        unit=_unit(outcome), label=f"{fmt_level(p.level)} CI")


def _prediction_interval(outcome) -> str:
    """The prediction interval at the model's level, as the estimate is shown ("90% prediction interval 5–80%")."""
    p = outcome.pooled
    proportion = is_proportion(outcome.model)
    _, lo, hi = (fmt_percents if proportion else fmt_values)((p.estimate, p.pi_lower, p.pi_upper))
    shown = fmt_range(lo, hi) + ("%" if proportion else _unit(outcome))
    return f"{fmt_level(p.level)} prediction interval {shown}"


def pooled_header(outcomes) -> str:
    """Header of a column of pooled estimates: the CI level all analysed outcomes share, else none.

    Each estimate states its own level (:func:`format_estimate`), so with
    outcomes at different levels the header says only "Pooled (CI)".
    """
    levels = {p.level for p in (o.pooled for o in outcomes if o.error is None) if p is not None}
    return f"Pooled ({fmt_level(levels.pop())} CI)" if len(levels) == 1 else "Pooled (CI)"


@dataclass(frozen=True)
class CardRow:
    outcome: str
    estimate: str
    k: int
    n: int | None
    i2: float | None
    certainty: Certainty

    @property
    def i2_text(self) -> str:
        """I² as a reader sees it ("–" when not defined); a nonzero I² never reads as 0%."""
        return "–" if self.i2 is None else fmt_percent(self.i2)


@dataclass(frozen=True)
class EvidenceCard:
    """Everything the evidence card shows (rendered by the HTML and Markdown templates)."""

    title: str
    population: str
    takeaway: str
    rows: tuple
    pooled_header: str
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


def _analysed_rows(analysis) -> np.ndarray:
    """Sorted 0-based rows of the study table that entered any outcome's model."""
    return np.array(sorted(set().union(*(o.rows for o in analysis.outcomes))), dtype=int)


def _analysed_cells(analysis, column: str | None):
    """Cells of a study-level column in the rows analysed in any outcome (None if not given)."""
    if column is None or analysis.table is None:
        return None
    return np.asarray(list(get_column(analysis.table, column)), dtype=object)[_analysed_rows(analysis)]


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
        row = CardRow(o.spec.name, format_estimate(o), o.k, o.n_patients, i2, suggest_certainty(o))
        rows.append(row)
        if i2 is not None and i2 >= HIGH_I2:
            cautions.append(f"{o.spec.name}: high heterogeneity (I² = {row.i2_text})")
        pooled = o.pooled
        if pooled is not None and pooled.pi_lower == pooled.pi_lower and i2:
            cautions.append(f"{o.spec.name}: {_prediction_interval(o)} — a new study may differ widely")
        if o.k < 10 and o.spec.bias:
            cautions.append(f"{o.spec.name}: k = {o.k} < 10, publication-bias tests have little power")
        repeated = repeated_labels_text(study_labels(o.model if o.model is not None else o.medians), o.rows)
        if repeated:
            cautions.append(f"{o.spec.name}: {repeated}")
    n_studies = len(_analysed_rows(analysis))
    n_patients = _total_patients(analysis)
    return EvidenceCard(
        title=analysis.spec.title,
        population=analysis.spec.population,
        takeaway=_takeaway(rows, n_studies, n_patients),
        rows=tuple(rows),
        pooled_header=pooled_header(analysis.outcomes),
        n_studies=n_studies,
        n_patients=n_patients,
        designs=(designs := _designs(analysis)),
        followup=_followup(analysis),
        evidence=evidence_level(designs, comparative),
        cautions=tuple(cautions),
        synthetic="synthetic" in (analysis.spec.title + analysis.spec.data).lower(),
    )
