"""CSV and tab-delimited exports: Scopus CSV, Web of Science (tab-delimited or Excel-style names), Zotero CSV.

Columns are found by their header, case-insensitively, from the names each
database writes: Scopus (``Title``, ``Authors``, ``Source title``, ``Page
start``, ``PubMed ID``, ``EID``), Zotero (``Title``, ``Author``, ``Publication
Title``, ``Abstract Note``, ``Key``, ``Extra``), Web of Science with full names
(``Article Title``, ``UT (Unique WOS ID)``) or with its two-letter field tags
(``TI``, ``AU``, ``SO``, ``DI``, ``PM``, ``UT``) [1]_. Multi-valued cells
(authors, keywords) are split on ``;``. The delimiter (comma, semicolon or tab)
is read from the header line; Web of Science's tab-delimited files are read
unquoted, as it writes them. A file without a title column is an error that
lists the columns it has.

References
----------
.. [1] Clarivate, Web of Science Core Collection field tags.
   https://webofscience.help.clarivate.com/en-us/Content/wos-core-collection/woscc-search-field-tags.htm
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from ...exceptions import DataValidationError
from ..record import Record
from .common import build_record, first, join_pages, split_list

__all__ = ["NAMED_COLUMNS", "TAGGED_COLUMNS", "parse"]

#: Header names (lower case) of each field in exports that name their columns, in order of preference.
NAMED_COLUMNS: dict[str, tuple[str, ...]] = {
    "record_id": ("eid", "ut (unique wos id)", "key", "accession number"),
    "title": ("title", "article title", "document title"),
    "abstract": ("abstract", "abstract note"),
    "authors": ("authors", "author", "author full names"),
    "year": ("year", "publication year", "date"),
    "journal": ("source title", "publication title", "journal"),
    "volume": ("volume",),
    "issue": ("issue",),
    "pages": ("pages", "page range"),
    "start_page": ("page start", "start page"),
    "end_page": ("page end", "end page"),
    "article_number": ("art. no.", "article number"),
    "doi": ("doi", "link", "url", "extra", "notes"),
    "pmid": ("pubmed id", "pmid", "extra"),
    "issn": ("issn", "eissn"),
    "keywords": ("author keywords", "keywords", "index keywords", "keywords plus", "manual tags", "automatic tags"),
    "language": ("language of original document", "language"),
    "publication_type": ("document type", "item type", "publication type"),
}
#: Web of Science tab-delimited exports: two-letter field tags as headers.
TAGGED_COLUMNS: dict[str, tuple[str, ...]] = {
    "record_id": ("ut",), "title": ("ti",), "abstract": ("ab",), "authors": ("au", "af"), "year": ("py",),
    "journal": ("so",), "volume": ("vl",), "issue": ("is",), "pages": (), "start_page": ("bp",),
    "end_page": ("ep",), "article_number": ("ar",), "doi": ("di",), "pmid": ("pm",), "issn": ("sn", "ei"),
    "keywords": ("de", "id"), "language": ("la",), "publication_type": ("dt",),
}  # fmt: skip
#: Headers that mark a Web of Science tab-delimited export.
_WOS_TAGS = {"pt", "au", "ti", "so", "ut"}
_PIECES = ("record_id", "title", "volume", "issue", "language", "publication_type")


def _rows(text: str, delimiter: str, quoting: int, name: str) -> Iterator[tuple[str, list[str]]]:
    """``(raw text, cells)`` of each line of the file (a quoted cell may span lines)."""
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for line in text.split("\n"):
            consumed.append(line)
            yield line + "\n"

    reader = csv.reader(lines(), delimiter=delimiter, quoting=quoting, strict=True)
    limit = csv.field_size_limit(2**31 - 1)  # cited-reference cells of WoS and Scopus exports are long
    try:
        for cells in reader:
            raw = "\n".join(consumed)
            consumed.clear()
            yield raw, cells
    except csv.Error as exc:
        raise DataValidationError(f"{name}: line {reader.line_num} cannot be read as CSV ({exc})") from None
    finally:
        csv.field_size_limit(limit)


def _delimiter(header: str) -> str:
    """The delimiter the header line uses most: tab, semicolon or comma."""
    return max("\t;,", key=header.count)


def _is_tagged(header: list[str]) -> bool:
    """Whether the header holds Web of Science field tags (a tab-delimited WoS export)."""
    return _WOS_TAGS <= {h.strip().lower() for h in header}


def _columns(header: list[str], name: str) -> dict[str, list[int]]:
    """Column indexes of each field, from the header."""
    lower = [h.strip().lower() for h in header]
    table = TAGGED_COLUMNS if _is_tagged(header) else NAMED_COLUMNS
    found = {field: [lower.index(n) for n in names if n in lower] for field, names in table.items()}
    if not found["title"]:
        shown = ", ".join(repr(h) for h in header[:30]) + (" …" if len(header) > 30 else "")
        raise DataValidationError(
            f"{name}: a CSV export needs a title column ({', '.join(repr(n) for n in table['title'])});"
            f" the columns found are {shown}")
    return found


def parse(text: str, name: str) -> tuple[Record, ...]:
    """The records of a CSV or tab-delimited export (``text`` decoded); ``name`` names the file in messages."""
    text = text.lstrip("\n")
    delimiter = _delimiter(text.split("\n", 1)[0])
    header = next(csv.reader([text.split("\n", 1)[0]], delimiter=delimiter))
    # Web of Science writes its tab-delimited files unquoted: a quote character there is text
    columns = _columns(header, name)
    rows = _rows(text, delimiter, csv.QUOTE_NONE if _is_tagged(header) else csv.QUOTE_MINIMAL, name)
    next(rows)
    records = []
    for raw, cells in rows:
        if not any(c.strip() for c in cells):
            continue

        def get(field: str, row: list[str] = cells) -> list[str]:
            return [row[i] for i in columns[field] if i < len(row)]

        pieces = {field: first(get(field)) for field in _PIECES}
        records.append(build_record(
            len(records) + 1, raw,
            abstracts=get("abstract")[:1],
            authors=split_list(get("authors")[:1]),
            year=get("year"),
            journal=get("journal"),
            pages=first(get("pages")) or join_pages(first(get("start_page")), first(get("end_page")))
            or first(get("article_number")),
            doi=get("doi"),
            pmid=get("pmid"),
            issn=get("issn"),
            keywords=split_list(get("keywords")),
            **pieces,
        ))
    return tuple(records)
