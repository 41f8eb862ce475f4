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
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..exceptions import MetapoolError
from ..io.outputs import atomic_file
from .config import CONFIG_NAME, TEMPLATE, ReviewConfig, load_config, parse_config

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["DB_NAME", "Review", "init_review", "open_review", "transaction", "log_event", "LogVersion", "log_version",
           "events_after", "kept", "only_kinds", "DECISION_EVENTS", "default_who", "utc_now", "as_utc", "sqlite_engine",
           "connected"]

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


def _connected(engine: sa.Engine, where: str, read_only: bool = False):
    return connected(engine, f"review database {where}", read_only, "the review was not changed")


@contextmanager
def connected(engine: sa.Engine, label: str, read_only: bool = False,
              unchanged: str = "nothing was changed") -> Iterator[sa.Connection]:
    """A connection of ``engine`` inside one transaction (see :func:`transaction`); a database error becomes a
    :class:`MetapoolError` naming ``label`` (the database) and saying ``unchanged``."""
    import sqlalchemy as sa

    try:
        with engine.connect() as conn:
            if read_only:
                conn.execution_options(metapool_read_only=True)
            with conn.begin():
                yield conn
    except sa.exc.DBAPIError as exc:  # unreachable, locked, not a database, or a row the database refuses
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise MetapoolError(f"{label}: {reason}; {unchanged}.") from None


def log_event(conn: sa.Connection, kind: str, payload: dict, who: str, undoes: int | None = None) -> int:
    """Record an event (who did what, when) and return its id."""
    from .schema import events

    result = conn.execute(events.insert().values(kind=kind, payload=payload, who=who, at=utc_now(), undoes=undoes))
    return result.inserted_primary_key[0]


@dataclass(frozen=True)
class LogVersion:
    """Where a review's event log stands: the last event's id and time, and (PostgreSQL) how many events it holds.

    Every change of a review is an event (:func:`log_event`), so a value read
    from the review holds while the log's version is the same; a long-running
    process (the web app) keeps such values with the version they were read at,
    and brings them up to date from :func:`events_after`. ``events`` is None on
    SQLite, whose writers commit one at a time, so that ids come in commit
    order; on PostgreSQL an id is handed out before its commit, and the count
    tells an event that committed late below the last id.
    """

    last: int
    at: dt.datetime | None
    events: int | None


def log_version(conn: sa.Connection) -> LogVersion:
    """The event log's version, read on ``conn`` (inside its transaction)."""
    import sqlalchemy as sa

    from .schema import events

    last, at = conn.execute(sa.select(events.c.id, events.c.at).order_by(events.c.id.desc()).limit(1)).first() \
        or (None, None)
    count = None if conn.dialect.name == "sqlite" else conn.execute(sa.select(sa.func.count()).select_from(events)
                                                                     ).scalar_one()
    return LogVersion(last or 0, at, count)


def events_after(conn: sa.Connection, version: LogVersion, now: LogVersion) -> list | None:
    """The events logged since ``version``, oldest first: rows of ``id``, ``kind`` and ``payload`` (the payload of
    :data:`DECISION_EVENTS` only, else None: a deduplication's payload holds its whole queue).

    ``now`` is :func:`log_version` read on ``conn``. Returns None when the log
    is not ``version``'s continued: its last event is gone or another (a review
    created again in the same place), or an event committed late with an id
    below ``version.last`` (PostgreSQL); the caller then reads the review again.
    """
    import sqlalchemy as sa

    from .schema import events

    if now.last < version.last:
        return None
    if version.last and conn.execute(sa.select(events.c.at).where(events.c.id == version.last)).scalar_one_or_none() \
            != version.at:
        return None
    payload = sa.type_coerce(sa.case((events.c.kind.in_(sorted(DECISION_EVENTS)), events.c.payload)),
                             events.c.payload.type)
    rows = conn.execute(sa.select(events.c.id, events.c.kind, payload.label("payload"))
                        .where(events.c.id > version.last).order_by(events.c.id)).all()
    if version.events is not None and (now.events is None or version.events + len(rows) != now.events):
        return None
    return rows


#: Kinds of the events of screening decisions (:func:`metapool.review.screening.decide`).
DECISION_EVENTS = frozenset({"decision", "resolve"})

#: Values kept by :func:`kept`, oldest first: (database, key) -> (LogVersion, value).
_KEPT: dict = {}
_KEPT_MAX = 64
_KEPT_LOCK = threading.Lock()


def kept(conn: sa.Connection, key: tuple, read: Callable, update: Callable | None = None):
    """``read(conn)``, kept in this process with the event log's version, and read again only when it may have changed.

    For a long-running process (the web app), where every page reads the same
    counts of a review that changes a decision at a time. The same version
    returns the kept value; after new events, ``update(value, events)`` (the
    rows of :func:`events_after`) gives the value brought up to date, or None
    to have it read again. ``key`` names the value within the database; the
    value is shared between threads and must not be changed by its users.

    The version is read before the value, so a value is never older than its
    version (on PostgreSQL each statement may see later commits): at worst the
    events since are applied again (``update`` must allow it) or the value read again.
    """
    now = log_version(conn)
    key = (conn.engine.url.render_as_string(hide_password=True), *key)
    with _KEPT_LOCK:
        held = _KEPT.get(key)
    if held is not None and held[0] == now:
        return held[1]
    value = None
    if held is not None and update is not None:
        new = events_after(conn, held[0], now)
        value = update(held[1], new) if new is not None else None
    if value is None:
        value = read(conn)
    with _KEPT_LOCK:
        _KEPT.pop(key, None)
        _KEPT[key] = (now, value)
        while len(_KEPT) > _KEPT_MAX:
            del _KEPT[next(iter(_KEPT))]
    return value


def only_kinds(kinds: frozenset) -> Callable:
    """An ``update`` for :func:`kept`: the value holds while every new event is of ``kinds`` (it does not depend
    on them)."""
    def update(value, new: Sequence):
        return value if all(e.kind in kinds for e in new) else None
    return update


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
