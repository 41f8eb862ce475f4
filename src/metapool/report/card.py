"""The clinician evidence card: the review's results in one glance, all computed.

Total patients is the sum of the declared sample sizes (the ``n`` column) of
the studies analysed in any outcome, each study counted once, never an
inclusion threshold, and the card says so beside the number; each outcome's
patients are those analysed in it (:attr:`OutcomeResult.n_patients`), and
an outcome whose count differs from its studies' declared sizes is named with
both numbers. The evidence level is each outcome's (OCEBM 2011, from its
studies' designs: :mod:`metapool.evidence`), summarised in one line that holds
for every outcome or names the differences. Median
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

from ..formatting.numbers import fmt_interval, fmt_level, fmt_percent, fmt_percents, fmt_range, fmt_values
from ..io.parsing import to_float_array
from ..io.tables import get_column
from ..evidence import EvidenceLevel
from ..evidence.grade import I2_CONSIDERABLE, K_PUBLICATION_BIAS
from ..evidence.level import NOT_STATED
from .certainty import SoFRow, is_proportion, sof_row

__all__ = ["CardRow", "EvidenceCard", "build_card", "format_estimate", "pooled_header", "prediction_interval_text"]

#: I² (%) from which the card warns about high heterogeneity: GRADE's considerable heterogeneity.
HIGH_I2 = I2_CONSIDERABLE


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


def prediction_interval_text(outcome) -> str:
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
    evidence: EvidenceLevel
    sof: SoFRow
    declared: int | None = None

    @property
    def certainty(self) -> str:
        """The GRADE certainty ("low", ..., or "not assessed")."""
        grade = self.sof.grade
        return "not assessed" if grade is None or grade.certainty is None else grade.certainty

    @property
    def reason(self) -> str:
        """The certainty with its reasons in one line (:func:`~metapool.report.certainty.reason_line`)."""
        return self.sof.reason

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
    statements: tuple
    rows: tuple
    pooled_header: str
    n_studies: int
    n_patients: int | None
    patients_note: str
    counting: str | None
    designs: dict
    followup_months: tuple | None
    evidence: EvidenceLevel
    cautions: tuple
    synthetic: bool
    found: str | None = None

    @property
    def followup(self) -> str | None:
        """Median follow-up as the card shows it (None when no analysed study reports it)."""
        if self.followup_months is None:
            return None
        median, n = self.followup_months
        return f"median follow-up {median:.1f} months (median of {n} studies reporting it)"

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "takeaway": self.takeaway,
            "outcomes": [
                {"outcome": r.outcome, "estimate": r.estimate, "k": r.k, "n": r.n, "n_declared": r.declared,
                 "i2": r.i2,
                 "certainty": {"start": r.sof.grade.to_dict()["start"] if r.sof.grade else "not assessed",
                               "start_reason": r.sof.grade.start.reason if r.sof.grade else "",
                               "rating": r.certainty, "reason": r.reason},
                 "statement": r.sof.statement,
                 "evidence_level": r.evidence.to_dict()} for r in self.rows
            ],
            "summary_of_findings": [r.sof.to_dict() for r in self.rows],
            "statements": list(self.statements),
            "n_studies": self.n_studies,
            "n_patients": self.n_patients,
            "patients_note": self.patients_note,
            "counting": self.counting,
            "designs": self.designs,
            "followup": self.followup,
            "followup_median_months": None if self.followup_months is None else self.followup_months[0],
            "followup_studies": None if self.followup_months is None else self.followup_months[1],
            "evidence_level": self.evidence.to_dict(),
            "cautions": list(self.cautions),
            "found": self.found,
        }


def _analysed_rows(analysis) -> np.ndarray:
    """Sorted 0-based rows of the study table that entered any outcome's model."""
    return np.array(sorted(set().union(*(o.rows for o in analysis.outcomes))), dtype=int)


def _cells(analysis, column: str | None, rows):
    """Cells of a study-level column in these rows (None if the column is not given)."""
    if column is None or analysis.table is None:
        return None
    return np.asarray(list(get_column(analysis.table, column)), dtype=object)[np.asarray(rows, dtype=int)]


def _declared_patients(analysis, rows) -> int | None:
    """Sum of the ``n`` column over these rows (None without the column or a number in it)."""
    cells = _cells(analysis, analysis.spec.n, rows)
    if cells is None:
        return None
    n = to_float_array(cells, analysis.spec.n)
    return int(np.nansum(n)) if np.isfinite(n).any() else None


def _patients_note(analysis, n_patients: int | None, n_studies: int) -> str:
    """What the headline N is, stated beside it ("2,289 patients in 32 studies: the sum of column 'n' ...")."""
    studies = f"{n_studies:,} {'study' if n_studies == 1 else 'studies'}"
    if n_patients is None:
        return f"{studies}; total patients not given (no study-size column 'n' in the analysis file)"
    return (f"{n_patients:,} patients in {studies} (the sum of the declared study sizes, column"
            f" {analysis.spec.n!r}, over the studies analysed in any outcome)")


def _counting(analysis, rows: list) -> str | None:
    """One line naming the outcomes whose analysed patients differ from their studies' declared sizes."""
    differing = [f"{r.outcome} {r.n:,} of {r.declared:,}" for r in rows
                 if r.n is not None and r.declared is not None and r.n != r.declared]
    if not differing:
        return None
    return ("Patients per outcome are those analysed in it, counted from the outcome's own group sizes; they"
            f" differ from the declared study sizes (column {analysis.spec.n!r}) in: " + "; ".join(differing))


def _followup(analysis) -> tuple[float, int] | None:
    """Median follow-up (months) of the analysed studies reporting it, and how many do; None without any."""
    cells = _cells(analysis, analysis.spec.followup, _analysed_rows(analysis))
    if cells is None:
        return None
    f = to_float_array(cells, analysis.spec.followup)
    f = f[np.isfinite(f)]
    return (float(np.median(f)), int(f.size)) if f.size else None


def _designs(analysis) -> dict:
    """Design (display name, or "design not stated") to the number of studies analysed in any outcome."""
    if not analysis.designs:
        return {}
    counts = Counter(analysis.designs[r] for r in _analysed_rows(analysis))
    return {f"design {NOT_STATED}" if d is None else d.name if n == 1 else d.plural: n for d, n in counts.items()}


def _evidence_summary(rows: list) -> EvidenceLevel:
    """The outcomes' evidence level when they share it, else each level with the outcomes it applies to.

    Outcomes share a level when its label and rule agree; the design counts
    are kept only when they agree too (the card lists all studies' designs).
    """
    if not rows:
        return EvidenceLevel(None, "Level not stated", "no outcome was analysed")
    groups: dict = {}
    for r in rows:
        groups.setdefault((r.evidence.level, r.evidence.label, r.evidence.explanation), []).append(r)
    if len(groups) == 1:
        first = rows[0].evidence
        same = all(r.evidence.designs == first.designs for r in rows)
        return EvidenceLevel(first.level, first.label, first.explanation, first.designs if same else "")
    parts = "; ".join(f"{label} for {', '.join(r.outcome for r in members)} ({why})"
                      for (_, label, why), members in groups.items())
    return EvidenceLevel(None, "Evidence level differs by outcome", parts)


#: Outcomes whose statements form the card's key takeaway.
TAKEAWAY_OUTCOMES = 3


def _statements(rows: list, n_studies: int, n_patients: int | None) -> tuple:
    """The informative statements of the first pooled outcomes; each outcome's own counts where they differ.

    The counts follow a statement only where they differ from the headline's
    (:func:`_takeaway`).
    """
    def counts(r) -> str:
        if r.k == n_studies and r.n == n_patients:
            return ""
        return f" In {r.k} {'study' if r.k == 1 else 'studies'}" + (f" ({r.n:,} patients)." if r.n is not None else ".")

    shown = [r for r in rows if r.estimate != "not estimable"][:TAKEAWAY_OUTCOMES]
    return tuple(r.sof.statement + counts(r) for r in shown)


def _takeaway(statements: tuple, n_studies: int, n_patients: int | None) -> str:
    """The headline counts followed by the statements (GRADE informative statements, Santesso 2020)."""
    if not statements:
        return "No outcome could be pooled."
    who = f"{n_studies} studies" + (f" ({n_patients:,} patients)" if n_patients else "")
    return f"Across {who}: " + " ".join(statements)


def build_card(analysis) -> EvidenceCard:
    """Derive the evidence card of an analysis (numbers, level, certainty, cautions)."""
    rows, cautions = [], []
    for o in analysis.outcomes:
        if o.error is not None:
            cautions.append(f"{o.spec.name}: not analysed ({o.error})")
            continue
        i2 = None if o.model is None or math.isnan(o.model.i2) else float(o.model.i2)  # a median of medians has none
        estimate = format_estimate(o)
        row = CardRow(o.spec.name, estimate, o.k, o.n_patients, i2, o.evidence, sof_row(o, analysis, estimate),
                      _declared_patients(analysis, o.rows))
        rows.append(row)
        if i2 is not None and i2 >= HIGH_I2:
            cautions.append(f"{o.spec.name}: high heterogeneity (I² = {row.i2_text})")
        pooled = o.pooled
        if pooled is not None and pooled.pi_lower == pooled.pi_lower and i2:
            cautions.append(f"{o.spec.name}: {prediction_interval_text(o)} — a new study may differ widely")
        if o.k < K_PUBLICATION_BIAS and o.spec.bias:
            cautions.append(f"{o.spec.name}: k = {o.k} < {K_PUBLICATION_BIAS},"
                            " publication-bias tests have little power")
        if o.repeated_labels:
            cautions.append(f"{o.spec.name}: {o.repeated_labels}")
    analysed = _analysed_rows(analysis)
    n_studies = len(analysed)
    n_patients = _declared_patients(analysis, analysed)
    statements = _statements(rows, n_studies, n_patients)
    return EvidenceCard(
        title=analysis.spec.title,
        population=analysis.spec.population,
        takeaway=_takeaway(statements, n_studies, n_patients),
        statements=statements,
        rows=tuple(rows),
        pooled_header=pooled_header(analysis.outcomes),
        n_studies=n_studies,
        n_patients=n_patients,
        patients_note=_patients_note(analysis, n_patients, n_studies),
        counting=_counting(analysis, rows),
        designs=_designs(analysis),
        followup_months=_followup(analysis),
        evidence=_evidence_summary(rows),
        cautions=tuple(cautions),
        synthetic=analysis.spec.synthetic,
        found=None if getattr(analysis, "review", None) is None else analysis.review.found,
    )
