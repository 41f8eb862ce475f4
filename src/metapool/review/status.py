"""What a review holds: counts per source and database (``review status``) and the record table (``review records``).

Every number is counted in the database; a stage that has not started shows
the real count of its table (zero), never an invented field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from .store import Review, as_utc, transaction

__all__ = ["SourceCount", "DatabaseCount", "ReviewStatus", "review_status", "RECORD_COLUMNS", "record_table",
           "read_record"]


@dataclass(frozen=True)
class SourceCount:
    """One imported file: its id, name, format, database, date searched, records, who imported it and when."""

    id: int
    file_name: str
    format: str
    database: str
    searched: dt.date
    records: int
    who: str
    at: dt.datetime


@dataclass(frozen=True)
class DatabaseCount:
    """Records and files imported from one database."""

    database: str
    records: int
    files: int


@dataclass(frozen=True)
class ReviewStatus:
    """The counts of a review. ``clusters`` counts the active duplicate clusters (not undone),
    ``duplicates_removed`` the records in them other than each one's kept record, ``queued`` the pairs
    of the deduplication queue waiting for a person (all zero until deduplication runs);
    ``decisions`` the rows of that table (zero until screening records any); ``events`` every logged change.
    ``screening`` holds, per stage, the counts of :meth:`metapool.review.screening.StageOutcomes.counts` (units
    eligible, pending, in conflict, final outcomes per decision and per exclusion reason)."""

    title: str
    where: str
    schema_version: int
    sources: tuple[SourceCount, ...]
    databases: tuple[DatabaseCount, ...]
    records: int
    clusters: int
    duplicates_removed: int
    queued: int
    decisions: int
    events: int
    screening: tuple[dict, ...] = ()

    def to_dict(self) -> dict:
        """Plain JSON values (dates in ISO 8601, times in UTC)."""
        out = asdict(self)
        for s in out["sources"]:
            s["searched"] = s["searched"].isoformat()
            s["at"] = s["at"].isoformat()
        return out


def review_status(review: Review) -> ReviewStatus:
    """Count what ``review`` holds (one consistent read, inside one transaction)."""
    import sqlalchemy as sa

    from .duplicates import active_cluster_count, dedup_counts
    from .migrations import database_version
    from .schema import decisions, events, records, sources
    from .screening import stage_counts

    def count(table) -> int:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()

    with transaction(review, read_only=True) as conn:
        rows = conn.execute(sa.select(sources).order_by(sources.c.id)).all()
        removed, queued = dedup_counts(conn)
        counted = {"records": count(records), "clusters": active_cluster_count(conn), "duplicates_removed": removed,
                   "queued": queued, "decisions": count(decisions), "events": count(events),
                   "schema_version": database_version(conn), "screening": stage_counts(conn, review)}
    found = tuple(SourceCount(id=r.id, file_name=r.file_name, format=r.format, database=r.database, searched=r.searched,
                              records=r.record_count, who=r.who, at=as_utc(r.at)) for r in rows)
    order = [db.name for db in review.config.databases] + [s.database for s in found]
    names = [name for i, name in enumerate(order) if name not in order[:i]]
    per = tuple(DatabaseCount(database=name, records=sum(s.records for s in found if s.database == name),
                              files=sum(s.database == name for s in found)) for name in names)
    return ReviewStatus(title=review.config.title, where=review.where, sources=found, databases=per, **counted)


#: Columns of the record table, in order (``id`` is the record's number in the review; ``record_id`` the export's).
RECORD_COLUMNS = ("id", "record_id", "source_file", "source_database", "searched", "position", "title", "authors",
                  "year", "journal", "volume", "issue", "pages", "doi", "pmid", "issn", "keywords", "language",
                  "publication_type", "abstract", "cluster", "kept")


def record_table(review: Review) -> Iterator[dict]:
    """Every imported record as a row of :data:`RECORD_COLUMNS`, in import order.

    ``cluster`` is the ``id`` of the record kept for the record's duplicate
    cluster (its own ``id`` when it is in none), ``kept`` whether it is that
    record; undone merges do not count. Authors and keywords are joined with ``"; "``.
    """
    with transaction(review, read_only=True) as conn:
        for r in conn.execute(_record_query()):
            yield _row(r._mapping)


def _record_query():
    """Records with their source and active cluster (the record kept for it), in import order."""
    import sqlalchemy as sa

    from .schema import cluster_members, clusters, records, sources

    active = (sa.select(cluster_members.c.record, clusters.c.kept_record)
              .join(clusters, clusters.c.id == cluster_members.c.cluster_id)
              .where(clusters.c.undone_by.is_(None)).subquery())
    cluster = sa.func.coalesce(active.c.kept_record, records.c.id)
    return (sa.select(records, sources.c.file_name, sources.c.database, sources.c.searched, cluster.label("cluster"))
            .join(sources, sources.c.id == records.c.source_id)
            .outerjoin(active, active.c.record == records.c.id)
            .order_by(records.c.id))


def read_record(review: Review, record: int) -> dict:
    """Record ``record`` as a row of :data:`RECORD_COLUMNS` (authors and keywords kept as lists).

    Raises
    ------
    MetapoolError
        No such record in the review.
    """
    import sqlalchemy as sa

    from ..exceptions import DataValidationError
    from .schema import records

    with transaction(review, read_only=True) as conn:
        found = conn.execute(_record_query().where(records.c.id == record)).first()
        if found is None:
            last = conn.execute(sa.select(sa.func.max(records.c.id))).scalar_one()
    if found is None:
        held = f"its records are 1 to {last}" if last else "it holds no records yet"
        raise DataValidationError(f"record {record} is not in the review ({held}).")
    row = found._mapping
    return {**_row(row), "authors": list(row["authors"]), "keywords": list(row["keywords"])}


def _row(row) -> dict:
    return {**{c: row[c] for c in RECORD_COLUMNS if c in row and c not in ("cluster",)},
            "source_file": row["file_name"], "source_database": row["database"],
            "searched": row["searched"].isoformat(), "authors": "; ".join(row["authors"]),
            "keywords": "; ".join(row["keywords"]), "cluster": row["cluster"], "kept": row["cluster"] == row["id"]}
