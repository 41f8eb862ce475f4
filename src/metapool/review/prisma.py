"""PRISMA 2020 flow counts of a review, their arithmetic, the studies included and the links of reports to studies.

The boxes are those of the PRISMA 2020 flow diagram for new systematic
reviews which included searches of databases and registers only (Page et al.
2021, figure 1; the template of the PRISMA2020 R package, Haddaway et al.
2022). Each count is read from the review database by :func:`prisma_counts`:

- *records identified*: the records imported, per database and per register
  (a ``[[databases]]`` entry of ``review.toml`` with ``register = true``);
- *duplicate records removed*: records that are a non-kept member of an
  active duplicate cluster; *records removed for other reasons*: 0 (metapool
  removes nothing else before screening);
- *records screened*: the screening units (:mod:`metapool.review.screening`);
  *records excluded*: their final ``ta`` exclusions;
- *reports sought for retrieval*: units moved forward at ``ta``; *reports not
  retrieved*: final ``ft`` ``not_retrieved``; *reports assessed for
  eligibility*: the final ``ft`` includes and exclusions; *reports excluded*:
  the final ``ft`` exclusions, per reason (its text in ``review.toml``);
- *reports of included studies*: the final ``ft`` includes; *studies
  included*: those reports grouped into studies by ``link`` events
  (:func:`link_reports`; a report linked to no other is a study of its own).

Screening still under way is not hidden: records without a final decision
(pending or in conflict) at title/abstract and at full text are counted in
``pending_screening`` and ``pending_full_text``; the diagram then says it is
incomplete (:attr:`PrismaCounts.complete`). :func:`check_prisma` checks every
box against the others and raises :class:`~metapool.exceptions.MetapoolError`
naming the first box that does not add up: a count that does not add up is
an error, not a picture.

References
----------
Page MJ, McKenzie JE, Bossuyt PM, et al. The PRISMA 2020 statement: an updated
guideline for reporting systematic reviews. BMJ 2021;372:n71.
Haddaway NR, Page MJ, Pritchard CC, McGuinness LA. PRISMA2020: An R package and
Shiny app for producing PRISMA 2020-compliant flow diagrams. Campbell Syst Rev
2022;18:e1230.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ..exceptions import DataValidationError, MetapoolError
from .store import Review, default_who, log_event, transaction

__all__ = ["PrismaCounts", "prisma_counts", "check_prisma", "Study", "included_studies", "link_reports",
           "unlink_reports", "study_label", "citation", "STUDY_COLUMNS", "study_table"]


@dataclass(frozen=True)
class PrismaCounts:
    """Every box of the PRISMA 2020 flow diagram (new reviews, databases and registers).

    ``databases`` / ``registers`` are (name, records identified) pairs;
    ``reports_excluded`` (reason text, reports) pairs in the order of
    ``review.toml``, reasons without reports left out. ``pending_screening``
    and ``pending_full_text`` count records without a final decision (pending
    or in conflict) at each stage.
    """

    databases: tuple[tuple[str, int], ...]
    registers: tuple[tuple[str, int], ...]
    duplicates_removed: int
    removed_other: int
    screened: int
    excluded_screening: int
    sought: int
    not_retrieved: int
    assessed: int
    reports_excluded: tuple[tuple[str, int], ...]
    studies_included: int
    reports_included: int
    pending_screening: int = 0
    pending_full_text: int = 0

    @property
    def identified(self) -> int:
        """Records identified from all databases and registers."""
        return sum(n for _, n in self.databases) + sum(n for _, n in self.registers)

    @property
    def complete(self) -> bool:
        """Whether every record screened has a final decision at both stages."""
        return self.pending_screening == 0 and self.pending_full_text == 0

    def to_dict(self) -> dict:
        """Plain JSON values; lists of {name, records} and {reason, reports}, plus ``identified`` and ``complete``."""
        out = asdict(self)
        out["databases"] = [{"name": n, "records": k} for n, k in self.databases]
        out["registers"] = [{"name": n, "records": k} for n, k in self.registers]
        out["reports_excluded"] = [{"reason": r, "reports": k} for r, k in self.reports_excluded]
        return {**out, "identified": self.identified, "complete": self.complete}


def check_prisma(c: PrismaCounts) -> PrismaCounts:
    """Check that the boxes of ``c`` add up; returns ``c``.

    Raises
    ------
    MetapoolError
        Naming the first box whose count differs from what the boxes before it
        give (or a negative count).
    """
    for name, value in asdict(c).items():
        values = [n for _, n in value] if isinstance(value, tuple) else [value]
        if any(v < 0 for v in values):
            raise MetapoolError(f"PRISMA box {name!r} has a negative count ({min(values)}).")
    excluded = sum(n for _, n in c.reports_excluded)
    rules = (
        ("records screened", c.screened, c.identified - c.duplicates_removed - c.removed_other,
         f"records identified {c.identified:,} - duplicates removed {c.duplicates_removed:,}"
         f" - removed for other reasons {c.removed_other:,}"),
        ("reports sought for retrieval", c.sought, c.screened - c.excluded_screening - c.pending_screening,
         f"records screened {c.screened:,} - records excluded {c.excluded_screening:,}"
         f" - awaiting screening {c.pending_screening:,}"),
        ("reports assessed for eligibility", c.assessed, c.sought - c.not_retrieved - c.pending_full_text,
         f"reports sought {c.sought:,} - not retrieved {c.not_retrieved:,}"
         f" - awaiting full-text screening {c.pending_full_text:,}"),
        ("reports of included studies", c.reports_included, c.assessed - excluded,
         f"reports assessed {c.assessed:,} - reports excluded {excluded:,}"),
    )
    for box, got, want, how in rules:
        if got != want:
            raise MetapoolError(f"PRISMA box {box!r} does not add up: it holds {got:,}, but {how} = {want:,}.")
    if c.studies_included > c.reports_included or (c.reports_included > 0) != (c.studies_included > 0):
        raise MetapoolError(f"PRISMA box 'studies included' does not add up: {c.studies_included:,} studies from"
                            f" {c.reports_included:,} reports (each study has one report or more).")
    return c


def prisma_counts(review: Review) -> PrismaCounts:
    """The checked PRISMA 2020 counts of ``review``, read in one transaction (see the module docstring)."""
    from .screening import _outcomes
    from .status import review_status

    status = review_status(review)
    with transaction(review, read_only=True) as conn:
        ta = list(_outcomes(conn, review, "ta").values())
        ft = list(_outcomes(conn, review, "ft").values())
        groups = _study_groups(conn, [u.record for u in ft if u.state == "final" and u.decision == "include"])
    final_ft = [u for u in ft if u.state == "final"]
    texts = {r.code: r.text for r in review.config.exclusion_reasons}
    registers = {d.name for d in review.config.databases if d.register}
    reasons = [u.reason for u in final_ft if u.decision == "exclude"]
    order = [r.code for r in review.config.exclusion_reasons] + sorted(set(reasons) - set(texts), key=str)
    return check_prisma(PrismaCounts(
        databases=tuple((d.database, d.records) for d in status.databases if d.database not in registers),
        registers=tuple((d.database, d.records) for d in status.databases if d.database in registers),
        duplicates_removed=status.records - len(ta),
        removed_other=0,
        screened=len(ta),
        excluded_screening=sum(u.state == "final" and u.decision == "exclude" for u in ta),
        sought=len(ft),
        not_retrieved=sum(u.decision == "not_retrieved" for u in final_ft),
        assessed=sum(u.decision in ("include", "exclude") for u in final_ft),
        reports_excluded=tuple((texts.get(code, code or "no reason given"), reasons.count(code)) for code in order
                               if reasons.count(code)),
        studies_included=len(groups),
        reports_included=sum(len(g) for g in groups),
        pending_screening=sum(u.state != "final" for u in ta),
        pending_full_text=sum(u.state != "final" for u in ft),
    ))


# --- studies and their reports -------------------------------------------------------------------------------------

def _active_links(conn) -> list[tuple[int, list[int]]]:
    """(event id, records) of every ``link`` event not undone, in the order they were made."""
    import sqlalchemy as sa

    from .schema import events

    undone = set(conn.execute(sa.select(events.c.undoes).where(events.c.kind == "unlink")).scalars())
    rows = conn.execute(sa.select(events.c.id, events.c.payload).where(events.c.kind == "link").order_by(events.c.id))
    return [(r.id, list(r.payload["records"])) for r in rows if r.id not in undone]


def _study_groups(conn, reports: Sequence[int]) -> list[list[int]]:
    """``reports`` grouped into studies by the active links (each group sorted; groups by their first report)."""
    parent = {r: r for r in reports}

    def root(r: int) -> int:
        while parent[r] != r:
            parent[r] = parent[parent[r]]
            r = parent[r]
        return r

    for _, linked in _active_links(conn):
        inside = [r for r in linked if r in parent]
        for r in inside[1:]:
            a, b = root(inside[0]), root(r)
            parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for r in sorted(reports):
        groups.setdefault(root(r), []).append(r)
    return sorted(groups.values())


def link_reports(review: Review, records: Sequence[int], who: str | None = None) -> int:
    """Record that ``records`` (two or more screening units) are reports of one study; returns the event's id.

    The link is a ``link`` event; :func:`unlink_reports` undoes it with a new
    event. Only reports included at full text count in the study table, so
    records may be linked before or after screening.
    """
    from .screening import _check_unit

    records = list(dict.fromkeys(int(r) for r in records))
    if len(records) < 2:
        raise DataValidationError("name two or more different records to link as reports of one study.")
    with transaction(review) as conn:
        for r in records:
            _check_unit(conn, r)
        return log_event(conn, "link", {"records": records}, who or default_who())


def unlink_reports(review: Review, event: int, who: str | None = None) -> int:
    """Undo the ``link`` event ``event`` (a new ``unlink`` event); returns the new event's id."""
    with transaction(review) as conn:
        active = dict(_active_links(conn))
        if event not in active:
            held = ", ".join(map(str, active)) or "none"
            raise DataValidationError(f"event {event} is not a link in force (links in force: {held}).")
        return log_event(conn, "unlink", {"records": active[event]}, who or default_who(), undoes=event)


@dataclass(frozen=True)
class Study:
    """An included study: its label, the citation, year, DOI and PMID of its first report, and all its reports.

    ``records`` are the reports' numbers in the review, ``record_ids`` their
    exports' own ids; ``citations`` one citation per report.
    """

    label: str
    citation: str
    year: int | None
    doi: str | None
    pmid: str | None
    records: tuple[int, ...]
    record_ids: tuple[str, ...]
    citations: tuple[str, ...]


def _surname(author: str) -> str:
    """The family name of an author written "Smith, John", "Smith J" or "John Smith"."""
    author = author.strip()
    if "," in author:
        return author.split(",", 1)[0].strip()
    parts = author.split()
    if len(parts) > 1 and parts[-1].replace(".", "").isupper() and len(parts[-1].replace(".", "")) <= 3:
        return " ".join(parts[:-1])  # "Smith J" (MEDLINE)
    return parts[-1] if parts else ""


def study_label(authors: Sequence[str], year: int | None) -> str:
    """First author's family name and year ("Smith 2020"); "Anonymous" without authors, "n.d." without a year."""
    name = _surname(authors[0]) if authors else ""
    return f"{name or 'Anonymous'} {year if year else 'n.d.'}"


def citation(row) -> str:
    """A Vancouver-style citation of a record: authors (3, then et al.), title, journal, year;vol(issue):pages, DOI."""
    authors = list(row["authors"])
    names = ", ".join(authors[:3]) + (", et al" if len(authors) > 3 else "")
    where = f"{row['year'] or 'n.d.'}" + (f";{row['volume']}" if row["volume"] else "")
    where += (f"({row['issue']})" if row["issue"] else "") + (f":{row['pages']}" if row["pages"] else "")
    parts = [names, (row["title"] or "").rstrip("."), row["journal"], where]
    text = ". ".join(p for p in parts if p) + "."
    return text + (f" doi:{row['doi']}" if row["doi"] else "")


def included_studies(review: Review) -> tuple[Study, ...]:
    """The studies included at full text (final ``include``), their reports grouped by links, in import order.

    Labels that would repeat get letters ("Smith 2020a", "Smith 2020b").
    """
    import sqlalchemy as sa

    from .schema import records
    from .screening import _outcomes

    with transaction(review, read_only=True) as conn:
        included = [u.record for u in _outcomes(conn, review, "ft").values()
                    if u.state == "final" and u.decision == "include"]
        groups = _study_groups(conn, included)
        rows = {r.id: r._mapping for r in conn.execute(sa.select(records).where(records.c.id.in_(included)))} \
            if included else {}
    studies = []
    for group in groups:
        first = rows[group[0]]
        studies.append(Study(label=study_label(first["authors"], first["year"]), citation=citation(first),
                             year=first["year"], doi=first["doi"], pmid=first["pmid"], records=tuple(group),
                             record_ids=tuple(rows[r]["record_id"] or "" for r in group),
                             citations=tuple(citation(rows[r]) for r in group)))
    labels = [s.label for s in studies]
    seen: dict[str, int] = {}
    out = []
    for s in studies:
        if labels.count(s.label) > 1:
            seen[s.label] = seen.get(s.label, 0) + 1
            s = Study(**{**asdict(s), "label": s.label + "abcdefghijklmnopqrstuvwxyz"[(seen[s.label] - 1) % 26]})
        out.append(s)
    return tuple(out)


#: The fixed columns of the study table (``review studies``), before one empty column per outcome.
STUDY_COLUMNS = ("study", "citation", "year", "doi", "pmid", "reports", "records", "record_ids", "report_citations")


def study_table(review: Review, outcomes=()) -> tuple[list[str], list[list]]:
    """The extraction template of the included studies: its header and one row per study (:func:`included_studies`).

    ``outcomes`` name one empty column each, to fill in; a name that repeats a
    column of :data:`STUDY_COLUMNS` or another outcome is refused.
    """
    outcomes = [o.strip() for o in outcomes if o.strip()]
    clash = sorted({o for o in outcomes if o in STUDY_COLUMNS or outcomes.count(o) > 1})
    if clash:
        raise DataValidationError(f"outcomes: {', '.join(map(repr, clash))} repeat(s) a column of the table"
                                  f" ({', '.join(STUDY_COLUMNS)}) or another outcome; name each outcome once.")
    rows = [[s.label, s.citation, s.year or "", s.doi or "", s.pmid or "", len(s.records),
             "; ".join(map(str, s.records)), "; ".join(s.record_ids), " | ".join(s.citations)] + [""] * len(outcomes)
            for s in included_studies(review)]
    return [*STUDY_COLUMNS, *outcomes], rows
