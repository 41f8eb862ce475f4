"""RIS exports (Embase and MEDLINE via Ovid, Scopus, Web of Science, Cochrane CENTRAL, EndNote, Zotero, Mendeley).

The file is cut into records here, because exports break the ``TY``…``ER``
frame that the parser expects: a record that lacks its ``ER  -`` line (the last
one, or one in the middle) ends where the next ``TY  -`` begins. Continuation
lines (an abstract wrapped over several lines) are joined to their tag, and tag
lines written with one space (``TY - JOUR``) are read too. Each record's tags
are then read by rispy [1]_, a maintained RIS parser.

References
----------
.. [1] rispy, a Python reader/writer of RIS reference files. https://github.com/MrTango/rispy
.. [2] RIS format specification (Research Information Systems, 2011), tag list.
"""

from __future__ import annotations

import re

import rispy
from rispy.config import TYPE_OF_REFERENCE_MAPPING

from ..record import Record
from .common import build_record, first, join_pages, split_list

__all__ = ["TAG_LINE", "parse"]

#: A RIS tag line: two characters (letter, then letter or digit), one or two spaces, a dash.
TAG_LINE = re.compile(r"^([A-Z][A-Z0-9]) {1,2}-(?: (.*))?$")
_SCOPUS_EID = re.compile(r"eid=(2-s2\.0-\d+)")
_LABELLED_PMID = re.compile(r"pmid|pubmed", re.IGNORECASE)
#: Fields, in order of preference, that may hold a DOI when ``DO`` does not.
DOI_TAGS = ("DO", "DI", "UR", "L3", "M3", "N1", "L1", "L2", "L4", "LK")


class _Identity(dict):
    """rispy's tag mapping, keeping each tag's own name."""

    def __missing__(self, tag: str) -> str:
        return tag


def _chunks(text: str) -> list[tuple[str, str]]:
    """``(raw, canonical)`` text of each record: as in the file, and rewritten for rispy."""
    records, raw, canonical = [], [], []

    def close() -> None:
        if canonical:
            records.append(("\n".join(raw).strip("\n"), "\n".join([*canonical, "ER  - "])))
        raw.clear()
        canonical.clear()

    for line in text.split("\n"):
        match = TAG_LINE.match(line.rstrip())
        tag = match.group(1) if match else None
        if tag == "TY":
            close()
        if tag == "ER":
            raw.append(line)
            close()
            continue
        if not canonical and tag != "TY":
            continue  # text between records (a header, blank lines)
        raw.append(line)
        if match:
            canonical.append(f"{tag}  - {(match.group(2) or '').strip()}")
        elif line.strip():
            canonical[-1] += " " + line.strip()
    close()
    return records


def _tags(canonical: list[str]) -> list[dict[str, list[str]]]:
    """Every tag of each record with its values in file order (rispy, identity mapping, one pass)."""
    entries = rispy.loads("\n".join(canonical), mapping=_Identity(), list_tags=[], delimiter_tags_mapping={},
                          enforce_list_tags=False)
    return [{tag: value if isinstance(value, list) else [value] for tag, value in entry.items()} for entry in entries]


def _record(position: int, raw: str, tags: dict[str, list[str]]) -> Record:
    def get(*names: str) -> list[str]:
        return [v for name in names for v in tags.get(name, ())]

    m3 = first(get("M3"))
    type_code = first(get("TY"))
    scopus = _SCOPUS_EID.search(" ".join(get("UR", "L1", "L2")))
    return build_record(
        position, raw,
        record_id=first(get("ID", "AN")) or (scopus.group(1) if scopus else None),
        title=first(get("TI", "T1", "CT")),
        abstracts=get("AB", "N2"),
        authors=get("AU", "A1"),
        year=get("PY", "Y1", "DA", "Y2"),
        journal=get("JF", "T2", "JO", "JA", "J2", "J1"),
        volume=first(get("VL")),
        issue=first(get("IS", "CP")),
        pages=join_pages(first(get("SP")), first(get("EP"))) or first(get("C7")),
        doi=get(*DOI_TAGS),
        pmid=[v for v in get("N1", "UR", "L2", "AN", "C1", "M2") if _LABELLED_PMID.search(v)],
        issn=get("SN"),
        keywords=split_list(get("KW")),
        language=first(get("LA")),
        publication_type=(m3 if m3 and "10." not in m3 else None)
        or (TYPE_OF_REFERENCE_MAPPING.get(type_code, type_code) if type_code else None),
    )


def parse(text: str, name: str) -> tuple[Record, ...]:
    """The records of a RIS export (``text`` decoded, ``\\n`` line endings); ``name`` is for messages."""
    chunks = _chunks(text)
    tags = _tags([canonical for _, canonical in chunks])
    return tuple(_record(i, raw, record_tags)
                 for i, ((raw, _), record_tags) in enumerate(zip(chunks, tags, strict=True), start=1))
