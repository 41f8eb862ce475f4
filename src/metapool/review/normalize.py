"""Normalised forms of bibliographic fields, for storing and for finding duplicates.

Pure functions of strings. The import keeps every value as the export gave it
(authors, titles, pages) except the DOI and the PMID, which are stored in their
normalised forms; deduplication compares the normalised forms of the rest.

References
----------
.. [1] DOI Handbook, section 2.2 (DOI syntax: prefix ``10.NNNN``, suffix of any
   printable characters, case-insensitive). https://www.doi.org/the-identifier/resources/handbook
.. [2] National Library of Medicine, MEDLINE/PubMed data element descriptions
   (AU "Smith JA", FAU "Smith, John A"). https://www.nlm.nih.gov/bsd/mms/medlineelements.html
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import unquote

__all__ = ["normalize_doi", "normalize_pmid", "normalize_issn", "normalize_title", "normalize_author",
           "normalize_pages", "parse_year", "fold"]

_DOI = re.compile(r"10\.\d{4,9}/\S+")
_QUERY = re.compile(r"[?&#][A-Za-z_]\w*=.*$")  # a URL's next query parameter (Scopus links: ...&partnerID=40)
_DOI_TAIL = ".,;:'\"]}>"
_PMID = re.compile(r"(?:pmid|pubmed)\D{0,24}?(\d{1,10})\b", re.IGNORECASE)
_ISSN = re.compile(r"\b(\d{4})-?(\d{3}[\dXx])\b")
_YEAR = re.compile(r"(?<!\d)(1[6-9]\d\d|20\d\d)(?!\d)")
_TAG = re.compile(r"<[^>]{0,40}>")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_PAGES = re.compile(r"^\s*([A-Za-z]*)(\d+)\s*[-\u2010-\u2015\u2212]+\s*([A-Za-z]*)(\d+)\s*$")
#: Letters that Unicode does not decompose into a base letter and an accent.
_LETTERS = str.maketrans({"æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
                          "ß": "ss"})
_INITIALS = re.compile(r"^[A-Z]{1,4}$")
_PARTICLES = {"van", "von", "der", "den", "de", "da", "di", "del", "della", "du", "la", "le", "ter", "ten", "dos",
              "das", "bin", "al", "el"}


def fold(text: str) -> str:
    """Case-fold ``text`` and strip accents (``"Müller"`` → ``"muller"``, ``"Łódź"`` → ``"lodz"``,
    ``"Leukæmia"`` → ``"leukaemia"``), keeping other characters."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize_doi(text: str | None) -> str | None:
    """The first DOI found in ``text``, lower case, without resolver prefix; ``None`` when there is none.

    Accepts a bare DOI, ``doi:10....``, ``https://doi.org/10....``, ``http://dx.doi.org/10....``,
    percent-encoded URLs (a publisher's or Scopus's link with ``doi=10.1016%2f...&partnerID=``)
    and MEDLINE's ``10.... [doi]``, or any longer text (a note, a URL field) that contains one. Trailing punctuation is dropped, and a closing parenthesis
    only when it has no opening partner inside the DOI (``10.1016/S0140-6736(20)30183-5``
    keeps its parentheses). DOIs are case-insensitive [1]_, so lower case is their key.

    Examples
    --------
    >>> normalize_doi("https://dx.doi.org/10.1200/JCO.2020.38.15_suppl.7512")
    '10.1200/jco.2020.38.15_suppl.7512'
    >>> normalize_doi("10.3324/haematol.2021.279 [doi]")
    '10.3324/haematol.2021.279'
    """
    if not text:
        return None
    match = _DOI.search(unquote(text))
    if match is None:
        return None
    doi = _QUERY.sub("", match.group(0))
    while doi and (doi[-1] in _DOI_TAIL or (doi[-1] == ")" and doi.count(")") > doi.count("("))):
        doi = doi[:-1]
    return doi.casefold() if "/" in doi and not doi.endswith("/") else None


def normalize_pmid(text: str | None) -> str | None:
    """A PubMed identifier (digits only) from ``text``; ``None`` when there is none.

    ``text`` may be the bare number (``"34567890"``, ``"34567890 [pubmed]"``), a
    labelled note (``"PMID: 34567890"``) or a PubMed URL.
    """
    if not text:
        return None
    stripped = text.strip()
    bare = re.fullmatch(r"(\d{1,10})(?:\s*\[(?:pubmed|pmid)\])?", stripped, re.IGNORECASE)
    if bare:
        return bare.group(1).lstrip("0") or None
    match = _PMID.search(stripped)
    return (match.group(1).lstrip("0") or None) if match else None


def normalize_issn(text: str | None) -> str | None:
    """The first ISSN in ``text`` as ``NNNN-NNNC`` (check character upper case); ``None`` when there is none.

    ISBNs (10 or 13 digits) are not mistaken for ISSNs: an ISSN is 8 characters
    on its own, optionally hyphenated, as in ``"1234-5678 (Electronic)"``.
    """
    if not text:
        return None
    for match in _ISSN.finditer(text):
        start, end = match.span()
        if (start and text[start - 1] in "-0123456789") or (end < len(text) and text[end] in "-0123456789"):
            continue
        return f"{match.group(1)}-{match.group(2).upper()}"
    return None


def normalize_title(title: str | None) -> str:
    """``title`` reduced to lower-case ASCII words for comparison (``""`` when there is none).

    HTML/XML markup (``<i>``, ``<sup>``) and entities (``&amp;``), accents, case, punctuation and runs of
    white space are removed, so ``"Venetoclax + azacitidine: a Phase-2 study."`` and
    ``"[Venetoclax plus azacitidine, a phase 2 study]"`` differ only in the word
    "plus". Numbers are kept (they tell trials and phases apart).
    """
    if not title:
        return ""
    return _NOT_ALNUM.sub(" ", fold(html.unescape(_TAG.sub(" ", title)))).strip()


def normalize_author(name: str | None) -> str:
    """One author as ``"surname initials"`` in lower-case ASCII (``""`` when there is none).

    Reads the three spellings that exports use [2]_ — ``"Smith, John A."``
    (RIS, BibTeX, MEDLINE FAU), ``"Smith JA"`` (MEDLINE AU, Scopus ``"Smith J.A."``)
    and ``"J. A. Smith"`` / ``"John A. Smith"`` — to one key, ``"smith ja"``.
    Compound surnames lose their spaces and hyphens (``"van der Berg-Hollander, K"``
    → ``"vanderberghollander k"``).

    Examples
    --------
    >>> [normalize_author(a) for a in ("Smith, John A.", "Smith JA", "J. A. Smith")]
    ['smith ja', 'smith ja', 'smith ja']
    """
    if not name or not name.strip():
        return ""
    name = re.sub(r"\s+", " ", name.strip())
    if "," in name:
        surname, given = (part.strip() for part in name.split(",", 1))
    else:
        tokens = name.split(" ")
        last = tokens[-1].replace(".", "")
        if len(tokens) > 1 and _INITIALS.match(last) and not _INITIALS.match(tokens[0].replace(".", "")):
            surname, given = " ".join(tokens[:-1]), " ".join(tokens[-1])
        else:
            cut = len(tokens) - 1
            while cut > 0 and tokens[cut - 1].lower() in _PARTICLES:
                cut -= 1
            surname, given = " ".join(tokens[cut:]), " ".join(tokens[:cut])
    initials = "".join(part[0] for part in re.split(r"[\s.\-]+", fold(given)) if part and part[0].isalpha())
    key = _NOT_ALNUM.sub("", fold(surname))
    return f"{key} {initials}".strip()


def normalize_pages(pages: str | None) -> str:
    """Page range as ``"first-last"`` with the last page written in full (``""`` when there is none).

    ``"1234-9"`` and ``"1234–1239"`` (en dash, BibTeX ``--``) both give
    ``"1234-1239"``; article numbers (``"e0241"``) and single pages are kept as
    given, lower case.
    """
    if not pages or not pages.strip():
        return ""
    match = _PAGES.match(pages)
    if match is None:
        return pages.strip().rstrip(".").casefold()
    prefix, first, prefix2, last = match.groups()
    if len(last) < len(first) and not prefix2:
        last = first[: len(first) - len(last)] + last
    return f"{prefix}{first}-{prefix2 or prefix}{last}".casefold()


def parse_year(text: str | None) -> int | None:
    """The first plausible year (1600–2099) in ``text``: ``"2020///"``, ``"2020/03/01/"``, ``"2020 Mar 1"``."""
    if not text:
        return None
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None
