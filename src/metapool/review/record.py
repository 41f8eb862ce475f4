"""One bibliographic record as imported from a database export, and one parsed export file."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Record", "ParsedFile"]


@dataclass(frozen=True)
class Record:
    """A bibliographic record read from a search export (RIS, MEDLINE/PubMed, BibTeX or CSV).

    Text fields are stripped, and ``None`` when the export has no value; no
    field is guessed. ``doi`` is normalised (lower case, no ``https://doi.org/``
    prefix), ``pmid`` holds digits only. ``record_id`` is the export's own
    identifier of the record (RIS ``ID``/``AN``, Web of Science ``UT``, the
    PMID for MEDLINE) when it has one. ``raw`` is the record's text as it stood
    in the file (decoded), kept so that every stored value can be checked.
    ``position`` is the record's 1-based position in its file (for messages).
    """

    position: int
    raw: str
    record_id: str | None = None
    title: str | None = None
    abstract: str | None = None
    authors: tuple[str, ...] = ()
    year: int | None = None
    journal: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    issn: str | None = None
    keywords: tuple[str, ...] = ()
    language: str | None = None
    publication_type: str | None = None


@dataclass(frozen=True)
class ParsedFile:
    """The records of one export file, with what was detected about the file.

    ``format`` is one of ``"ris"``, ``"medline"``, ``"bibtex"``, ``"csv"``;
    ``encoding`` the text encoding it was decoded with; ``sha256`` the hash of
    its bytes (an import of the same content twice is refused by that hash).
    """

    path: str
    format: str
    encoding: str
    sha256: str
    records: tuple[Record, ...]
