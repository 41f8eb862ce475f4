"""What every format reader shares: cleaning values and building a :class:`~metapool.review.record.Record`."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from ..normalize import normalize_doi, normalize_issn, normalize_pmid, parse_year
from ..record import Record

__all__ = ["clean", "first", "unique", "split_list", "join_pages", "build_record"]

#: Placeholders that databases write where a field has no value.
_EMPTY = {"[no abstract available]", "no abstract available", "[no title available]", "n/a", "na", "-"}


def clean(value: str | None) -> str | None:
    """``value`` with runs of white space collapsed, ends stripped, accents composed (Unicode NFC, as macOS
    exports may decompose them); ``None`` when nothing is left or the value is a placeholder such as
    ``[No abstract available]``."""
    if value is None:
        return None
    text = unicodedata.normalize("NFC", " ".join(str(value).split()))
    return text if text and text.casefold() not in _EMPTY else None


def first(values: Iterable[str | None]) -> str | None:
    """The first value that :func:`clean` keeps, cleaned; ``None`` when there is none."""
    return next((c for c in map(clean, values) if c is not None), None)


def unique(values: Iterable[str | None]) -> tuple[str, ...]:
    """The cleaned non-empty ``values``, each once, in their order."""
    return tuple(dict.fromkeys(c for c in map(clean, values) if c is not None))


def split_list(values: Iterable[str | None], separators: str = ";") -> tuple[str, ...]:
    """Values that hold several items (``"a; b; c"``) split on any of ``separators``, each item once."""
    pattern = "[" + re.escape(separators) + "]"
    return unique(item for value in values if value for item in re.split(pattern, value))


def join_pages(start: str | None, end: str | None) -> str | None:
    """``"start-end"`` from a first and last page; ``start`` alone when it already is a range or has no end."""
    start, end = clean(start), clean(end)
    if start and end and not re.search(r"[-\u2010-\u2015]", start) and end != start:
        return f"{start}-{end}"
    return start or end


def build_record(position: int, raw: str, *, record_id: str | None = None, title: str | None = None,
                 abstracts: Iterable[str | None] = (), authors: Iterable[str | None] = (),
                 year: Iterable[str | None] = (), journal: Iterable[str | None] = (), volume: str | None = None,
                 issue: str | None = None, pages: str | None = None, doi: Iterable[str | None] = (),
                 pmid: Iterable[str | None] = (), issn: Iterable[str | None] = (),
                 keywords: Iterable[str | None] = (), language: str | None = None,
                 publication_type: str | None = None) -> Record:
    """A :class:`Record` from the values a reader found, cleaned and normalised.

    ``abstracts`` may hold several texts (RIS ``AB`` and ``N2``): the distinct ones are
    kept, joined by a blank line, so that nothing is lost. ``year``, ``doi``, ``pmid``
    and ``issn`` are candidate texts in order of preference; the first one that holds a
    year, a DOI, a PMID or an ISSN gives the value (DOIs given as URLs, ``doi:`` or
    ``[doi]`` are read, see :mod:`metapool.review.normalize`).
    """
    return Record(
        position=position,
        raw=raw,
        record_id=clean(record_id),
        title=clean(title),
        abstract="\n\n".join(unique(abstracts)) or None,
        authors=unique(authors),
        year=next((y for y in map(parse_year, year) if y is not None), None),
        journal=first(journal),
        volume=clean(volume),
        issue=clean(issue),
        pages=clean(pages),
        doi=next((d for d in map(normalize_doi, doi) if d), None),
        pmid=next((p for p in map(normalize_pmid, pmid) if p), None),
        issn=next((s for s in map(normalize_issn, issn) if s), None),
        keywords=unique(keywords),
        language=clean(language),
        publication_type=clean(publication_type),
    )
