"""Storing parsed search exports in a review: one transaction per import, refused when already imported.

:func:`store_import` writes the records of one or more
:class:`~metapool.review.record.ParsedFile` (the parsers' output) as sources of
one database search, with an ``import`` event saying who imported what and when.
All files of an import are stored, or none: an error or a killed process
before the commit leaves the review as it was. A file whose content (SHA-256)
is in the review already is refused with the earlier import named, never
stored twice. :func:`import_files` reads the files with
:func:`metapool.review.parse.read_records` and stores them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import DataValidationError, MetapoolError
from .record import ParsedFile
from .store import Review, as_utc, default_who, log_event, transaction, utc_now

__all__ = ["ImportedSource", "ImportResult", "store_import", "import_files"]

#: Records per INSERT statement (and per progress step).
BATCH = 500


@dataclass(frozen=True)
class ImportedSource:
    """One stored file: its id in the review, name, format, encoding and number of records."""

    id: int
    file_name: str
    format: str
    encoding: str
    records: int


@dataclass(frozen=True)
class ImportResult:
    """What one import stored: the files, the database they came from, when it was searched, who and when."""

    event_id: int
    database: str
    searched: dt.date
    sources: tuple[ImportedSource, ...]
    who: str
    at: dt.datetime

    @property
    def records(self) -> int:
        return sum(s.records for s in self.sources)


def _earlier(conn, sha256: str):
    import sqlalchemy as sa

    from .schema import sources

    return conn.execute(sa.select(sources).where(sources.c.sha256 == sha256)).first()


def _refuse_repeats(conn, files: Sequence[ParsedFile]) -> None:
    seen: dict[str, str] = {}
    for f in files:
        name = Path(f.path).name
        if f.sha256 in seen:
            raise DataValidationError(f"{name}: same content as {seen[f.sha256]} in this import; give it once.")
        seen[f.sha256] = name
        row = _earlier(conn, f.sha256)
        if row is not None:
            raise DataValidationError(
                f"{name}: this content was imported before, as {row.file_name} (source {row.id}, {row.database},"
                f" searched {row.searched.isoformat()}, imported by {row.who} on {as_utc(row.at):%Y-%m-%d %H:%M} UTC);"
                " it was not imported again.")


def _record_rows(source_id: int, f: ParsedFile) -> list[dict]:
    """The rows of ``f``'s records; a NUL character (which PostgreSQL cannot store in text) is refused by name."""
    from .schema import RECORD_FIELDS

    rows = [{"source_id": source_id, "position": r.position, "raw": r.raw,
             **{k: list(v) if isinstance(v, tuple) else v for k in RECORD_FIELDS for v in (getattr(r, k),)}}
            for r in f.records]
    for row in rows:
        for key, value in row.items():
            if any(isinstance(text, str) and "\x00" in text for text in (value if isinstance(value, list) else (value,))):
                raise DataValidationError(
                    f"{Path(f.path).name}: record {row['position']}: {key} contains a NUL character, which a"
                    " bibliographic record never holds (a UTF-16 file read as another encoding?); nothing was imported.")
    return rows


def store_import(review: Review, files: Sequence[ParsedFile], database: str, searched: dt.date | None = None,
                 who: str | None = None, progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Store the records of ``files``, exported from ``database``, in one transaction.

    Parameters
    ----------
    review
        The open review.
    files
        Parsed export files (each with at least one record).
    database
        One of the ``[[databases]]`` names of ``review.toml``.
    searched
        The date the search was run; default: that database's ``searched`` in ``review.toml``.
    who
        Who imports (default: the operating-system user).
    progress
        Called as ``progress(stored, total)`` after each batch of records.

    Raises
    ------
    MetapoolError
        An unknown database, no date searched, a file without records, or
        content imported before (the message names the earlier import). The
        review is unchanged.
    """
    from .schema import records, sources

    entry = review.config.database(database)
    searched = searched or entry.searched
    if searched is None:
        raise MetapoolError(f"no date searched for {database!r}: give --searched YYYY-MM-DD or write"
                            f" `searched = 2025-03-01` under its [[databases]] in {review.config_path.name}.")
    if not files:
        raise MetapoolError("no files to import.")
    for f in files:
        if not f.records:
            raise DataValidationError(f"{Path(f.path).name}: no records found (format {f.format}); nothing was imported.")
    who = who or default_who()
    total, done, stored = sum(len(f.records) for f in files), 0, []
    with transaction(review) as conn:
        _refuse_repeats(conn, files)
        at = utc_now()
        event = log_event(conn, "import", {"database": database, "searched": searched.isoformat(),
                                           "files": [Path(f.path).name for f in files], "records": total}, who)
        for f in files:
            name = Path(f.path).name
            source_id = conn.execute(sources.insert().values(
                file_name=name, sha256=f.sha256, format=f.format, encoding=f.encoding, database=database,
                searched=searched, record_count=len(f.records), event_id=event, who=who, at=at)).inserted_primary_key[0]
            rows = _record_rows(source_id, f)
            for start in range(0, len(rows), BATCH):
                conn.execute(records.insert(), rows[start:start + BATCH])
                done += len(rows[start:start + BATCH])
                if progress is not None:
                    progress(done, total)
            stored.append(ImportedSource(id=source_id, file_name=name, format=f.format, encoding=f.encoding,
                                         records=len(f.records)))
    return ImportResult(event_id=event, database=database, searched=searched, sources=tuple(stored), who=who, at=at)


def import_files(review: Review, paths: Sequence[str | Path], database: str, searched: dt.date | None = None,
                 who: str | None = None, progress: Callable[[int, int], None] | None = None,
                 names: Sequence[str] | None = None) -> ImportResult:
    """Read export files (RIS, MEDLINE, BibTeX, CSV) and store them as one import (see :func:`store_import`).

    Every file is read before anything is stored: a file that cannot be read
    leaves the review unchanged. ``names`` are the files' names in messages and
    in the review (default: each path's file name; see :func:`~metapool.review.parse.read_records`).
    """
    review.config.database(database)  # an unknown source is refused before the files are read
    from .parse import read_records

    names = list(names) if names is not None else [None] * len(paths)
    return store_import(review, [read_records(p, n) for p, n in zip(paths, names, strict=True)], database, searched,
                        who, progress)
