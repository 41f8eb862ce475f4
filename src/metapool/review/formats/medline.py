"""PubMed/MEDLINE exports (``.nbib``, ``.txt``): four-character tags, six-space continuation lines.

A record starts at its ``PMID-`` line (or after a blank line); each line is a
tag padded to four characters, ``"- "`` and a value, and a value goes on over
lines that start with six spaces [1]_. No maintained Python parser of this
format exists (the ``nbib`` package has not been updated since 2021), and the
format is small enough to read here.

Authors are taken from ``FAU`` ("Smith, John A") when every author has one, else
from ``AU`` ("Smith JA"); group authors (``CN``) follow. The DOI is read from the
``LID``/``AID`` values marked ``[doi]``; the ISSN is the linking one, else the print
one, else the first; keywords are the ``OT`` terms then the
MeSH headings (``MH``).

References
----------
.. [1] National Library of Medicine, MEDLINE/PubMed data element (field)
   descriptions. https://www.nlm.nih.gov/bsd/mms/medlineelements.html
"""

from __future__ import annotations

import re

from ..record import Record
from .common import build_record, first

__all__ = ["TAG_LINE", "parse"]

#: A MEDLINE tag line: a tag of 2 to 4 capitals or digits, padded to four characters, then ``"- "``.
TAG_LINE = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,2}- ?(.*)$")
_CONTINUATION = re.compile(r"^ {2,}\S")


def _chunks(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """``(raw, [(tag, value), ...])`` of each record, continuation lines joined to their value."""
    records: list[tuple[str, list[tuple[str, str]]]] = []
    raw: list[str] = []
    fields: list[tuple[str, str]] = []

    def close() -> None:
        if fields:
            records.append(("\n".join(raw).strip("\n"), list(fields)))
        raw.clear()
        fields.clear()

    for line in text.split("\n"):
        match = TAG_LINE.match(line) if len(line) > 4 and line[4] == "-" else None
        if not line.strip() or (match and match.group(1) == "PMID"):
            close()
        if match:
            fields.append((match.group(1), match.group(2).strip()))
            raw.append(line)
        elif fields and _CONTINUATION.match(line):
            tag, value = fields[-1]
            fields[-1] = (tag, f"{value} {line.strip()}")
            raw.append(line)
    close()
    return records


def _record(position: int, raw: str, fields: list[tuple[str, str]]) -> Record:
    def get(*tags: str) -> list[str]:
        """Values of ``tags``, in the order the tags are named, each in file order."""
        return [value for wanted in tags for tag, value in fields if tag == wanted]

    full, short = get("FAU"), get("AU")
    ids = [v for v in get("LID", "AID") if v.endswith("[doi]")]
    return build_record(
        position, raw,
        record_id=first(get("PMID")),
        title=first(get("TI", "BTI", "TT")),
        abstracts=get("AB"),
        authors=[*(full if full and len(full) >= len(short) else short), *get("CN")],
        year=get("DP", "DEP", "EDAT"),
        journal=get("JT", "TA"),
        volume=first(get("VI")),
        issue=first(get("IP")),
        pages=first(get("PG")),
        doi=ids,
        pmid=get("PMID"),
        issn=sorted(get("IS"), key=lambda v: ("(Linking)" not in v, "(Print)" not in v)),
        keywords=[*get("OT"), *get("MH")],
        language="; ".join(get("LA")) or None,
        publication_type="; ".join(get("PT")) or None,
    )


def parse(text: str, name: str) -> tuple[Record, ...]:
    """The records of a MEDLINE/PubMed export (``text`` decoded, ``\\n`` line endings)."""
    return tuple(_record(i, raw, fields) for i, (raw, fields) in enumerate(_chunks(text), start=1))
