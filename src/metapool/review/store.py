"""Opening a review: its folder, its ``review.toml`` and its database (SQLite by default, PostgreSQL by URL).

A review folder holds ``review.toml`` and, unless a PostgreSQL URL is given,
the SQLite database ``review.db``. SQLite runs with foreign keys on, the WAL
journal (readers do not block the writer) and a busy timeout; every
transaction starts with ``BEGIN IMMEDIATE``, so that two processes writing at
once queue instead of failing half-way. On PostgreSQL (``postgresql://`` or
``postgresql+psycopg://``, driver psycopg 3) the same SQLAlchemy Core
statements run; one database holds one review.

Every change happens inside :func:`transaction` and is logged in the
``events`` table with who and when (:func:`log_event`); an error or a killed
process before the commit leaves the review as it was.

SQLAlchemy is imported on use only: ``import metapool`` stays light.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..exceptions import MetapoolError
from ..io.outputs import atomic_file
from .config import CONFIG_NAME, TEMPLATE, ReviewConfig, load_config, parse_config

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["DB_NAME", "Review", "init_review", "open_review", "transaction", "log_event", "default_who", "utc_now",
           "as_utc", "sqlite_engine"]

#: The SQLite database's name in a review folder.
DB_NAME = "review.db"

#: Seconds a SQLite writer waits for another one to commit before giving up.
_BUSY_TIMEOUT = 60


@dataclass(frozen=True)
class Review:
    """An open review: its folder, its checked ``review.toml`` and the engine of its database.

    ``where`` names the database in messages (a file path, or the URL without
    its password).
    """

    folder: Path
    config: ReviewConfig
    engine: sa.Engine
    where: str

    @property
    def config_path(self) -> Path:
        return self.folder / CONFIG_NAME

    @property
    def local_files(self) -> tuple[Path, ...]:
        """The review's own files in its folder (never to be overwritten by an output)."""
        files = [self.config_path]
        if self.engine.dialect.name == "sqlite":
            files += [self.folder / (DB_NAME + suffix) for suffix in ("", "-wal", "-shm")]
        return tuple(files)


def default_who() -> str:
    """Who is acting when ``--who`` is not given: the operating-system user."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (some containers)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def as_utc(value: dt.datetime) -> dt.datetime:
    """A stored time as an aware UTC time (SQLite gives it back without its zone)."""
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def sqlite_engine(path: Path, read_only: bool = False) -> sa.Engine:
    """An engine of the SQLite file ``path`` with the settings of a review database.

    Foreign keys on, WAL journal, a busy timeout, and ``BEGIN IMMEDIATE`` for writers (see the module's
    notes); ``read_only`` opens the file with ``mode=ro``. The web app's account database uses it too.
    """
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///file:{path.resolve()}?mode=ro&uri=true" if read_only
                              else f"sqlite:///{path}")
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _engine(folder: Path, db: str | None, read_only: bool = False) -> tuple[sa.Engine, str]:
    import sqlalchemy as sa

    if db is None:
        path = folder / DB_NAME
        return sqlite_engine(path, read_only), str(path)
    try:
        url = sa.engine.make_url(db)
    except sa.exc.ArgumentError:
        raise MetapoolError(f"--db {db!r} is not a database URL; give postgresql://USER@HOST/DATABASE.") from None
    if url.get_backend_name() != "postgresql" or url.get_driver_name() not in ("psycopg", "psycopg2"):
        raise MetapoolError(f"--db {url.render_as_string(hide_password=True)!r}: only PostgreSQL URLs are supported"
                            " (postgresql://USER@HOST/DATABASE); without --db the review uses review.db in its folder.")
    url = url.set(drivername="postgresql+psycopg")
    return sa.create_engine(url), url.render_as_string(hide_password=True)


def _sqlite_connect(dbapi_connection, _record) -> None:
    """SQLite settings of every connection; SQLAlchemy, not the driver, opens the transactions."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in ("foreign_keys = ON", "journal_mode = WAL", f"busy_timeout = {_BUSY_TIMEOUT * 1000}"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    """A writer takes the write lock at BEGIN (so that two writers queue, never deadlock); a reader reads a snapshot."""
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("metapool_read_only") else "BEGIN IMMEDIATE")


@contextmanager
def transaction(review: Review, read_only: bool = False) -> Iterator[sa.Connection]:
    """A connection inside one transaction: committed when the block ends, rolled back on any error.

    ``read_only`` transactions read a consistent snapshot without waiting for
    a writer (on SQLite a writer holds the write lock from its first statement).
    An error of the database (it cannot be reached, stays locked, is not a
    database, or refuses a row) becomes a :class:`MetapoolError` with the
    database's reason, saying the review was not changed.
    """
    with _connected(review.engine, review.where, read_only) as conn:
        yield conn


@contextmanager
def _connected(engine: sa.Engine, where: str, read_only: bool = False) -> Iterator[sa.Connection]:
    import sqlalchemy as sa

    try:
        with engine.connect() as conn:
            if read_only:
                conn.execution_options(metapool_read_only=True)
            with conn.begin():
                yield conn
    except sa.exc.DBAPIError as exc:  # unreachable, locked, not a database, or a row the database refuses
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise MetapoolError(f"review database {where}: {reason}; the review was not changed.") from None


def log_event(conn: sa.Connection, kind: str, payload: dict, who: str, undoes: int | None = None) -> int:
    """Record an event (who did what, when) and return its id."""
    from .schema import events

    result = conn.execute(events.insert().values(kind=kind, payload=payload, who=who, at=utc_now(), undoes=undoes))
    return result.inserted_primary_key[0]


def _config(folder: Path) -> ReviewConfig:
    path = folder / CONFIG_NAME
    if not path.is_file():
        raise MetapoolError(f"{folder} is not a review folder (no {CONFIG_NAME}); create one with"
                            " `metapool review init`.")
    return load_config(path)


def open_review(folder: str | Path, db: str | None = None, read_only: bool = False) -> Review:
    """Open the review in ``folder`` (its database: ``folder/review.db``, or the PostgreSQL URL ``db``).

    An older database is upgraded to the current schema in one transaction
    (:func:`metapool.review.migrations.upgrade`). ``read_only`` opens a
    SQLite database read-only (``mode=ro``: what ``metapool run`` reads of
    the review it names); an older one is then refused, not upgraded.

    Raises
    ------
    MetapoolError
        No ``review.toml`` or no database, a bad ``review.toml``, a database
        of a newer metapool, or a database that cannot be reached.
    """
    from .migrations import database_version, upgrade
    from .schema import SCHEMA_VERSION

    folder = Path(folder)
    config = _config(folder)
    if db is None and not (folder / DB_NAME).is_file():
        raise MetapoolError(f"{folder} has no database {DB_NAME}; a review kept on PostgreSQL is opened with --db URL.")
    engine, where = _engine(folder, db, read_only)
    with _connected(engine, where, read_only=True) as conn:
        current = database_version(conn) == SCHEMA_VERSION
    if not current and read_only:
        raise MetapoolError(f"review database {where} has an older or newer schema than this metapool; open it once"
                            " with a `metapool review` command (it is upgraded), then run again.")
    if not current:  # an older review is upgraded, others are refused (upgrade says why)
        with _connected(engine, where) as conn:
            upgrade(conn, where)
    return Review(folder=folder, config=config, engine=engine, where=where)


def init_review(folder: str | Path, db: str | None = None, who: str | None = None,
                config_text: str | None = None) -> Review:
    """Create a review in ``folder``: ``review.toml`` and an empty database.

    ``review.toml`` is the commented template, or ``config_text`` (checked
    before anything is written; the web app's "new review" form writes it with
    :func:`metapool.review.config.config_text`). ``folder`` may exist (it may
    hold the export files) but must not hold a review; a PostgreSQL database
    given by ``db`` must not hold one either. Nothing is left behind when
    creating the database fails.
    """
    from .migrations import create_schema, database_version

    folder = Path(folder)
    text = TEMPLATE if config_text is None else config_text
    parse_config(text, str(folder / CONFIG_NAME))
    for name in (CONFIG_NAME, DB_NAME):
        if (folder / name).exists():
            raise MetapoolError(f"{folder} already holds a review ({name}); nothing was changed.")
    if folder.exists() and not folder.is_dir():
        raise MetapoolError(f"{folder} is a file; name a folder for the review.")
    engine, where = _engine(folder, db)  # a bad URL is refused before the folder is made
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with _connected(engine, where) as conn:
            if database_version(conn) is not None:
                raise MetapoolError(f"{where} already holds a review; nothing was changed.")
            create_schema(conn)
            log_event(conn, "init", {"folder": str(folder.resolve())}, who or default_who())
            with atomic_file(folder / CONFIG_NAME) as tmp:  # before the commit: a failed write rolls back
                tmp.write_text(text, encoding="utf-8")
    except BaseException:
        engine.dispose()
        (folder / CONFIG_NAME).unlink(missing_ok=True)
        if db is None:
            for suffix in ("", "-wal", "-shm"):
                (folder / (DB_NAME + suffix)).unlink(missing_ok=True)
        if created:
            folder.rmdir()
        raise
    return Review(folder=folder, config=_config(folder), engine=engine, where=where)
