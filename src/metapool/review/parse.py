"""Read a search export into records: detect its encoding and format, then parse it.

:func:`read_records` is the one entry point. The format is read from the
content, not from the file name: a RIS file saved as ``.txt`` or a MEDLINE
file saved as ``.ris`` is read as what it is. See docs/review.md, "Importing
search exports", for the formats and the quirks of real exports that are read.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..exceptions import DataValidationError
from .formats import bibtex, csv_exports, medline, ris
from .record import ParsedFile

__all__ = ["FORMATS", "decode", "detect_format", "read_records"]

#: Format code → (display name, parser).
FORMATS = {
    "ris": ("RIS", ris.parse),
    "medline": ("MEDLINE/PubMed", medline.parse),
    "bibtex": ("BibTeX", bibtex.parse),
    "csv": ("CSV", csv_exports.parse),
}
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
#: File signatures of things people upload by mistake.
_SIGNATURES = ((b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive (an .xlsx/.docx file?): save it as CSV"),
               (b"\xd0\xcf\x11\xe0", "an old Office document (.xls/.doc): save it as CSV"),
               (b"\x1f\x8b", "a gzip archive: unpack it first"), (b"SQLite format 3", "an SQLite database"))
_RIS_START = re.compile(r"^TY {1,2}- ?", re.MULTILINE)
_MEDLINE_TAG = re.compile(r"^(PMID|[A-Z]{3,4}|[A-Z]{2}  )- ", re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _single_byte(data: bytes) -> tuple[str, str]:
    """Windows-1252 when it decodes ``data`` (it reads every latin-1 text too), else latin-1."""
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _mixed(data: bytes) -> tuple[str, str] | None:
    """A file of UTF-8 lines with some single-byte lines (exports concatenated from two tools), or ``None``."""
    lines, single, utf8_beyond_ascii = [], [], False
    for line in data.split(b"\n"):
        try:
            text = line.decode("utf-8")
            utf8_beyond_ascii |= not text.isascii()
        except UnicodeDecodeError:
            text = _single_byte(line)[0]
            single.append(line)
        lines.append(text)
    if not utf8_beyond_ascii:
        return None  # no line is UTF-8 beyond ASCII: a single-byte file
    return "\n".join(lines), "utf-8+" + _single_byte(b"\n".join(single))[1]


def decode(data: bytes) -> tuple[str, str]:
    """``(text, encoding)`` of a file's bytes, line endings normalised to ``\\n``.

    A byte-order mark decides (UTF-8, or UTF-16 LE/BE as EndNote writes); UTF-16
    without a mark is recognised by its zero bytes; otherwise UTF-8 is tried, then
    Windows-1252 (``"cp1252"``, which reads every latin-1 text), then latin-1, which
    decodes any bytes. A file whose lines are partly UTF-8 and partly single-byte
    (two exports concatenated) is decoded line by line (``"utf-8+cp1252"``). CRLF
    and lone CR line ends become LF.
    """
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    if encoding is None and len(data) >= 4:
        even, odd = data[0::2], data[1::2]
        if odd.count(0) > 0.4 * len(odd) and not even.count(0):
            encoding = "utf-16-le"
        elif even.count(0) > 0.4 * len(even) and not odd.count(0):
            encoding = "utf-16-be"
    if encoding:
        text = data.decode(encoding, errors="replace")
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = _mixed(data) or _single_byte(data)
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n"), encoding


def detect_format(text: str) -> str | None:
    """The format code of decoded ``text`` (a key of :data:`FORMATS`), or ``None``.

    RIS has a ``TY  -`` line; MEDLINE has ``PMID-`` or other tags of three or four
    letters padded to the dash in column five; BibTeX has an ``@type{`` entry; a
    CSV export has a header line with two or more columns.
    """
    head = text[:200_000]
    if _RIS_START.search(head):
        return "ris"
    if len(_MEDLINE_TAG.findall(head)) >= 2 and re.search(r"^(PMID|[A-Z]{3,4})- ", head, re.MULTILINE):
        return "medline"
    if bibtex.START.search(head):
        return "bibtex"
    header = next((line for line in text.split("\n") if line.strip()), "")
    if any(d in header for d in "\t;,"):
        return "csv"
    return None


def _first_line(text: str) -> str:
    line = next((line.strip() for line in text.split("\n") if line.strip()), "")
    return line if len(line) <= 60 else line[:57] + "..."


def read_records(path: str | Path, name: str | None = None) -> ParsedFile:
    """The records of one search export file (RIS, MEDLINE/PubMed, BibTeX or CSV).

    Parameters
    ----------
    path
        The export file. Its format and encoding are detected from its content.
    name
        The file's name in messages and in the review (default: the path's file
        name; the web app gives an uploaded file's own name, saved under another).

    Returns
    -------
    ParsedFile
        The records in file order, with the detected format, the encoding used and
        the SHA-256 of the file's bytes.

    Raises
    ------
    DataValidationError
        The file cannot be read, is empty, binary, of no known format, or holds no
        record; the message names the file and what was found.
    """
    path = Path(path)
    name = name or path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataValidationError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataValidationError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    kind = next((what for magic, what in _SIGNATURES if data.startswith(magic)), None)
    if kind:
        raise DataValidationError(f"{name}: not a search export but {kind}")
    text, encoding = decode(data)
    if not text.strip():
        raise DataValidationError(f"{name}: the file is empty")
    if len(_CONTROL.findall(text[:100_000])) > 0.01 * len(text[:100_000]):
        raise DataValidationError(f"{name}: a binary file, not a RIS, MEDLINE, BibTeX or CSV export")
    fmt = detect_format(text)
    if fmt is None:
        raise DataValidationError(
            f"{name}: not a RIS, MEDLINE, BibTeX or CSV export (first line: {_first_line(text)!r})")
    display, parser = FORMATS[fmt]
    records = parser(text, name)
    if not records:
        raise DataValidationError(f"{name}: a {display} file ({encoding}) with no records")
    return ParsedFile(path=str(path) if name == path.name else name, format=fmt, encoding=encoding,
                      sha256=hashlib.sha256(data).hexdigest(),
                      records=records)
