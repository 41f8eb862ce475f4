"""Versioned migrations of the review database: a newer metapool opens an older review.

Why not Alembic: a review database is embedded in a folder that people copy,
send and open with whichever metapool they have; it must be brought up to
date on open, inside the same transaction as the first command, without an
``alembic.ini``, a ``versions/`` folder on disk or a migration environment
script. The needs are small and fixed: an ordered list of steps, each taking
the database from version ``n - 1`` to ``n`` with SQLAlchemy Core statements
that run on SQLite and PostgreSQL alike, and a ``schema_version`` table that
records each version applied (when, by which metapool).

- A new database gets the current tables (:data:`metapool.review.schema.metadata`)
  and is stamped :data:`~metapool.review.schema.SCHEMA_VERSION` directly.
- An older database gets the steps of :data:`MIGRATIONS` above its version, in
  order, in one transaction: all of them or none.
- A database of a newer metapool (a version above ours) is refused with a
  message naming both versions; it is never written.

A change to the tables of ``schema.py`` raises ``SCHEMA_VERSION`` by one and
adds its step here; ``tests/test_review_store.py`` opens a database made by
the DDL of version 1 (kept as a test fixture) and checks that the steps turn
it into the tables a new database gets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import sqlalchemy as sa

from ..exceptions import MetapoolError
from . import schema

__all__ = ["MIGRATIONS", "database_version", "create_schema", "upgrade"]

#: Step to version ``n`` (from ``n - 1``), for ``n`` in 2 .. SCHEMA_VERSION; version 1 is the first schema.
MIGRATIONS: Mapping[int, Callable[[sa.Connection], None]] = {}


def database_version(conn: sa.Connection, table: sa.Table = schema.schema_version) -> int | None:
    """The schema version of the database, or None when it holds none (no ``schema_version`` table)."""
    if not sa.inspect(conn).has_table(table.name):
        return None
    return conn.execute(sa.select(sa.func.max(table.c.version))).scalar_one()


def _stamp(conn: sa.Connection, version: int, table: sa.Table) -> None:
    from .. import __version__

    conn.execute(table.insert().values(version=version, applied_at=dt.datetime.now(dt.timezone.utc),
                                       metapool_version=__version__))


def create_schema(conn: sa.Connection, meta: sa.MetaData = schema.metadata, table: sa.Table = schema.schema_version,
                  version: int = schema.SCHEMA_VERSION) -> None:
    """Create the current tables (of ``meta``, the review's by default) in an empty database and stamp ``version``."""
    meta.create_all(conn)
    _stamp(conn, version, table)


def upgrade(conn: sa.Connection, where: str, steps: Mapping[int, Callable[[sa.Connection], None]] = MIGRATIONS,
            target: int = schema.SCHEMA_VERSION, table: sa.Table = schema.schema_version,
            what: str = "review") -> tuple[int, ...]:
    """Bring the ``what`` database on ``conn`` (a review by default) to version ``target``; returns the versions
    applied.

    Runs in the caller's transaction, so that a failing step leaves the database
    at its old version. ``where`` names the database in messages; ``table`` is its ``schema_version``.

    Raises
    ------
    MetapoolError
        The database holds no schema version, or was written by a newer metapool.
    """
    version = database_version(conn, table)
    if version is None:
        raise MetapoolError(f"{where} holds no review; create one with `metapool review init`.")
    if version > target:
        raise MetapoolError(f"{where} has {what} schema version {version}, newer than this metapool's ({target});"
                            " upgrade metapool to open it. It was left as it was.")
    applied = tuple(range(version + 1, target + 1))
    for step in applied:
        steps[step](conn)
        _stamp(conn, step, table)
    return applied
