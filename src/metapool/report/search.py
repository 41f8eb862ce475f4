"""The report's "Methods: search and selection" section and PRISMA diagram, from the review the analysis names.

Every sentence is a :class:`~metapool.report.methods.Claim` generated from
the :class:`~metapool.review.summary.ReviewSummary` (never typed), tied by
paths to the ``review`` object of ``results.json`` it states. The section
lists the databases with their dates and date limits, the search strings
(in a ``<details>``, as run), the eligibility criteria (the exclusion reasons
of ``review.toml``), the screening set-up (reviewers per record, agreement
per stage) and the PRISMA 2020 counts, drawn as the flow diagram.

References
----------
Page MJ, McKenzie JE, Bossuyt PM, et al. The PRISMA 2020 statement: an updated
guideline for reporting systematic reviews. BMJ 2021;372:n71 (items 5-8, 16a).
"""

from __future__ import annotations

from .methods import Claim

__all__ = ["search_claims", "search_section", "PRISMA_CAPTION"]

#: The caption of the PRISMA diagram (report and figure files).
PRISMA_CAPTION = "PRISMA 2020 flow diagram of the search and selection of studies"


def _date(value) -> str:
    return "" if value is None else str(value) if isinstance(value, int) else value.isoformat()


def _limits(db) -> str:
    if db.date_from is None and db.date_to is None:
        return "no date limits"
    return f"limited to {_date(db.date_from) or 'any date'} to {_date(db.date_to) or 'the search date'}"


def search_claims(summary) -> tuple[Claim, ...]:
    """The sentences of the section, each with its paths into ``results.json``."""
    from ..review.screening import STAGES

    c = summary.prisma
    dbs = [f"{d.name} (searched {_date(d.searched) or 'date not given'}; {_limits(d)})" for d in summary.databases]
    q = summary.question
    asked = [f"{name}: {value}" for name, value in (("population", q.population), ("intervention", q.intervention),
             ("comparator", q.comparator), ("outcomes", q.outcomes), ("designs", q.study_designs)) if value]
    claims = [Claim(f"The studies come from the review \u201c{summary.title}\u201d"
                    + (f" (question: {'; '.join(asked)})" if asked else "") + ".", ("review.title", "review.question"))]
    claims += [Claim("We searched " + (", ".join(dbs) if dbs else "no database listed in review.toml") + ".",
                    ("review.databases",))]
    if summary.criteria:
        claims.append(Claim("The reasons for excluding a full-text report were: "
                            + "; ".join(r.text for r in summary.criteria) + ".",
                            ("review.criteria",)))
    who = "one reviewer" if summary.reviewers_per_record == 1 else (
        "two independent reviewers, disagreements settled by a third decision")
    claims.append(Claim(f"Titles and abstracts, then full texts, were screened by {who} per record"
                        f" ({c.duplicates_removed:,} duplicate records removed before screening).",
                        ("review.reviewers_per_record", "review.prisma.duplicates_removed")))
    for i, a in enumerate(summary.agreement):
        kappa = "not defined" if a.kappa != a.kappa else f"{a.kappa:.2f}"
        claims.append(Claim(f"Agreement at {STAGES[a.stage]} screening ({a.reviewers[0]} and {a.reviewers[1]},"
                            f" {a.units:,} records): {a.raw:.1%} raw, Cohen's kappa {kappa}.",
                            (f"review.agreement.{i}",)))
    claims.append(Claim(f"Of {c.identified:,} records identified, {c.screened:,} were screened, {c.assessed:,}"
                        f" full-text reports assessed and {c.studies_included:,} studies"
                        f" ({c.reports_included:,} reports) included." + ("" if c.complete else
                                                  f" Screening is not finished: {c.pending_screening:,} records and"
                                                  f" {c.pending_full_text:,} reports await a decision."),
                        ("review.prisma",)))
    return tuple(claims)


def search_section(summary, prisma=None) -> dict:
    """What the report template shows: the sentences (criteria among them), the search strings, PRISMA as inline SVG.

    ``prisma`` is the drawn diagram (:func:`~metapool.report.render.prisma_figure`); without it (a
    report written before its figures, or with ``--figures none``) the section has no figure.
    """
    from .figures import labelled_svg

    svg = "" if prisma is None else labelled_svg(prisma.svg, prisma.caption)
    return {"text": " ".join(c.text for c in search_claims(summary)), "databases": summary.databases,
            "prisma_svg": svg, "caption": PRISMA_CAPTION,
            "question": summary.question, "title": summary.title}
