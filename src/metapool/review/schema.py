"""The review database's tables (SQLAlchemy Core), at schema version :data:`SCHEMA_VERSION`.

One review per database: a SQLite file in the review folder by default, or a
PostgreSQL database named by URL. The tables, and why each exists:

``schema_version``
    One row per schema version applied (version, when, by which metapool);
    the highest is the database's version (see :mod:`metapool.review.migrations`).
``events``
    The log of everything that changed the review: kind (``init``, ``import``,
    ``dedup``, ``merge``, ``not-duplicate``, ``unmerge``, ``decision``,
    ``resolve``, ``link``, ``unlink``), a JSON payload, who
    and when. Nothing is deleted: an undo is a new event that points at the
    event it reverses (``undoes``).
``sources``
    One imported file: its name, SHA-256 (unique: the same content is never
    imported twice), format, encoding, the database it came from and the date
    that database was searched; the ``import`` event that added it.
``records``
    The bibliographic records of each source, at their position in the file,
    with every field of :class:`metapool.review.record.Record` and the raw text.
``clusters`` / ``cluster_members``
    Duplicate clusters (deduplication; empty until it runs): which records
    are one, the record kept, the evidence of the merge, the event that made
    it and the event that undid it (a cluster is never deleted).
``decisions``
    Screening decisions on a record or a cluster: stage (``ta`` title and
    abstract, ``ft`` full text), reviewer, decision, the exclusion reason's
    code (``review.toml``), a free note, who entered it and when, its event,
    and the decision that replaced it (``superseded_by``; a changed mind is a new row).

Times are stored in UTC. Lists (authors, keywords) and payloads are JSON.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["SCHEMA_VERSION", "metadata", "schema_version", "events", "sources", "records", "clusters",
           "cluster_members", "decisions", "RECORD_FIELDS"]

#: The version of the tables below; a change to them adds a step to ``migrations.MIGRATIONS``.
SCHEMA_VERSION = 1

#: Text and list fields of :class:`~metapool.review.record.Record` stored as columns of ``records``.
RECORD_FIELDS = ("record_id", "title", "abstract", "authors", "year", "journal", "volume", "issue", "pages", "doi",
                 "pmid", "issn", "keywords", "language", "publication_type")

metadata = sa.MetaData()


def _who() -> sa.Column:
    return sa.Column("who", sa.Text, nullable=False)


def _when() -> sa.Column:
    return sa.Column("at", sa.DateTime(timezone=True), nullable=False)


def version_table(meta: sa.MetaData) -> sa.Table:
    """The ``schema_version`` table of ``meta``: each version applied, when, by which metapool
    (:mod:`metapool.review.migrations`; the web app's account database has one too)."""
    return sa.Table(
        "schema_version", meta,
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("metapool_version", sa.Text, nullable=False),
    )


schema_version = version_table(metadata)

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("undoes", sa.Integer, sa.ForeignKey("events.id"), nullable=True),
    _who(), _when(),
)

sources = sa.Table(
    "sources", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("format", sa.Text, nullable=False),
    sa.Column("encoding", sa.Text, nullable=False),
    sa.Column("database", sa.Text, nullable=False),
    sa.Column("searched", sa.Date, nullable=False),
    sa.Column("record_count", sa.Integer, nullable=False),
    sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id"), nullable=False),
    _who(), _when(),
)

records = sa.Table(
    "records", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("record_id", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("abstract", sa.Text),
    sa.Column("authors", sa.JSON, nullable=False),
    sa.Column("year", sa.Integer),
    sa.Column("journal", sa.Text),
    sa.Column("volume", sa.Text),
    sa.Column("issue", sa.Text),
    sa.Column("pages", sa.Text),
    sa.Column("doi", sa.Text, index=True),
    sa.Column("pmid", sa.Text, index=True),
    sa.Column("issn", sa.Text),
    sa.Column("keywords", sa.JSON, nullable=False),
    sa.Column("language", sa.Text),
    sa.Column("publication_type", sa.Text),
    sa.Column("raw", sa.Text, nullable=False),
    sa.UniqueConstraint("source_id", "position", name="uq_records_source_position"),
)

clusters = sa.Table(
    "clusters", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kept_record", sa.Integer, sa.ForeignKey("records.id"), nullable=False),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),
    sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id"), nullable=False),
    sa.Column("undone_by", sa.Integer, sa.ForeignKey("events.id"), nullable=True),
)

cluster_members = sa.Table(
    "cluster_members", metadata,
    sa.Column("cluster_id", sa.Integer, sa.ForeignKey("clusters.id"), primary_key=True),
    sa.Column("record", sa.Integer, sa.ForeignKey("records.id"), primary_key=True),
)

decisions = sa.Table(
    "decisions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("record", sa.Integer, sa.ForeignKey("records.id"), nullable=True),
    sa.Column("cluster_id", sa.Integer, sa.ForeignKey("clusters.id"), nullable=True),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("reviewer", sa.Text, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id"), nullable=False),
    sa.Column("superseded_by", sa.Integer, sa.ForeignKey("decisions.id"), nullable=True),
    _who(), _when(),
    sa.CheckConstraint("(record IS NULL) <> (cluster_id IS NULL)", name="ck_decisions_one_target"),
)
