"""BibTeX exports (Zotero, Mendeley, JabRef, Google Scholar), read with bibtexparser v2 [1]_.

LaTeX accents and braces are decoded (``M{\\"u}ller`` → ``Müller``), authors are
split on ``and``. Entries whose key repeats an earlier one are kept (a search
export may hold two records with one generated key); an entry that cannot be
parsed is an error naming its line, so that no record is silently dropped. The
DOI is read from ``doi``, then ``url``, ``note`` and ``howpublished``; the PMID
from ``pmid`` or ``eprint`` (with ``eprinttype = {pubmed}``) or a labelled note.

References
----------
.. [1] bibtexparser, a BibTeX parser for Python (version 2). https://github.com/sciunto-org/python-bibtexparser
"""

from __future__ import annotations

import re

import bibtexparser
from bibtexparser import middlewares
from bibtexparser.model import DuplicateBlockKeyBlock, Entry, ParsingFailedBlock

from ...exceptions import DataValidationError
from ..record import Record
from .common import build_record, first, split_list

__all__ = ["START", "parse"]

#: The start of a BibTeX entry.
START = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.MULTILINE)
_LABELLED_PMID = re.compile(r"pmid|pubmed", re.IGNORECASE)


def _library(text: str) -> bibtexparser.Library:
    return bibtexparser.parse_string(
        text, append_middleware=[middlewares.LatexDecodingMiddleware(), middlewares.SeparateCoAuthors()])


def _entries(text: str, name: str) -> list[Entry]:
    entries = []
    for block in _library(text).blocks:
        if isinstance(block, Entry):
            entries.append(block)
        elif isinstance(block, DuplicateBlockKeyBlock):
            entries.extend(_library(block.raw).entries)
        elif isinstance(block, ParsingFailedBlock):
            line = (block.start_line or 0) + 1
            raise DataValidationError(
                f"{name}: the BibTeX entry at line {line} cannot be read ({block.error}); fix or remove it"
                f" (it begins: {block.raw.strip()[:60]!r})")
    return entries


def _record(position: int, entry: Entry) -> Record:
    fields = {key.lower(): field.value for key, field in entry.fields_dict.items()}

    def get(*keys: str) -> list[str]:
        values = [fields.get(key) for key in keys]
        return [v if isinstance(v, str) else "; ".join(v) for v in values if v]

    authors = fields.get("author") or []
    pubmed_eprint = (fields.get("eprinttype") or "").lower() == "pubmed"
    return build_record(
        position, entry.raw.strip(),
        record_id=entry.key,
        title=first(get("title")),
        abstracts=get("abstract"),
        authors=[authors] if isinstance(authors, str) else authors,
        year=get("year", "date"),
        journal=get("journal", "journaltitle", "booktitle"),
        volume=first(get("volume")),
        issue=first(get("number", "issue")),
        pages=first(get("pages")),
        doi=get("doi", "url", "note", "howpublished"),
        pmid=[*get("pmid"), *(get("eprint") if pubmed_eprint else []),
              *(v for v in get("note", "url", "extra") if _LABELLED_PMID.search(v))],
        issn=get("issn"),
        keywords=split_list(get("keywords", "mesh"), ",;"),
        language=first(get("language", "langid")),
        publication_type=first(get("type")) or entry.entry_type,
    )


def parse(text: str, name: str) -> tuple[Record, ...]:
    """The records of a BibTeX export (``text`` decoded); ``name`` names the file in messages."""
    return tuple(_record(i, entry) for i, entry in enumerate(_entries(text, name), start=1))
