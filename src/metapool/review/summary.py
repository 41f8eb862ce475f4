"""What an analysis reports of the review that found its studies (``review = "../review"`` in the analysis file).

:func:`review_summary` reads, from a review opened read-only, its
``review.toml`` (question, databases with search strings, dates and date
limits, eligibility criteria as exclusion reasons, reviewers per record), the
agreement of its reviewers per stage and its PRISMA 2020 counts
(:func:`metapool.review.prisma.prisma_counts`, checked). The report's section
"Methods: search and selection", its PRISMA diagram and the evidence card's
line on how the studies were found are rendered from this one object, and
:meth:`ReviewSummary.to_dict` puts every number in ``results.json``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path

from .config import Database, ExclusionReason, Question
from .prisma import PrismaCounts
from .screening import Agreement

__all__ = ["ReviewSummary", "review_summary", "date_span"]


def _year(value: int | dt.date | None) -> int | None:
    return value.year if isinstance(value, dt.date) else value


def date_span(databases) -> str:
    """The years the searches covered ("2017–2025"; "to 2025", "from 2017"; "" without limits)."""
    starts = [_year(d.date_from) for d in databases if d.date_from is not None]
    ends = [_year(d.date_to) or _year(d.searched) for d in databases if d.date_to is not None or d.searched]
    first, last = (min(starts) if starts else None), (max(ends) if ends else None)
    if first and last:
        return f"{first}–{last}" if first != last else str(first)
    return f"from {first}" if first else f"to {last}" if last else ""


@dataclass(frozen=True)
class ReviewSummary:
    """A review as an analysis reports it: its file's content, agreement per stage and pair, and PRISMA counts."""

    title: str
    question: Question
    databases: tuple[Database, ...]
    criteria: tuple[ExclusionReason, ...]
    reviewers_per_record: int
    agreement: tuple[Agreement, ...]
    prisma: PrismaCounts

    @property
    def found(self) -> str:
        """How the studies were found, in one line ("Embase, MEDLINE; 2017–2025; 32 studies from 1,118 screened")."""
        names = ", ".join(name for name, n in self.prisma.databases if n) or "no database imported"
        span = date_span(self.databases)
        studies = self.prisma.studies_included
        line = (f"{names}; " + (f"{span}; " if span else "") + f"{studies:,} {'study' if studies == 1 else 'studies'}"
                f" from {self.prisma.screened:,} screened records")
        return line + ("" if self.prisma.complete else " (screening not finished)")

    def to_dict(self) -> dict:
        def plain(value):
            return value.isoformat() if isinstance(value, dt.date) else value

        return {"title": self.title, "question": asdict(self.question),
                "databases": [{k: plain(v) for k, v in asdict(d).items()} for d in self.databases],
                "date_span": date_span(self.databases),
                "criteria": [asdict(c) for c in self.criteria], "reviewers_per_record": self.reviewers_per_record,
                "agreement": [a.to_dict() for a in self.agreement], "prisma": self.prisma.to_dict(),
                "found": self.found}


def review_summary(folder: str | Path) -> ReviewSummary:
    """Read the review in ``folder`` (its SQLite database opened read-only) into a :class:`ReviewSummary`.

    A database without its date searched in ``review.toml`` takes the latest
    date its files were imported with (``--searched``).
    """
    from dataclasses import replace

    from .prisma import prisma_counts
    from .screening import agreement
    from .status import review_status
    from .store import open_review

    review = open_review(folder, read_only=True)
    try:
        c = review.config
        sources = review_status(review).sources
        databases = tuple(d if d.searched or not any(s.database == d.name for s in sources) else
                          replace(d, searched=max(s.searched for s in sources if s.database == d.name))
                          for d in c.databases)
        return ReviewSummary(title=c.title, question=c.question, databases=databases,
                             criteria=c.exclusion_reasons, reviewers_per_record=c.reviewers_per_record,
                             agreement=agreement(review), prisma=prisma_counts(review))
    finally:
        review.engine.dispose()
