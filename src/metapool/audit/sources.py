"""Read the text an audit checks: plain text, HTML, Word (DOCX) or PDF files, or standard input.

:func:`read_source` returns the text and the name of its source. The format is recognised by the
file's first bytes (``%PDF``, a ZIP archive holding ``word/document.xml``, an HTML document) and by
its suffix, so that a PDF saved as ``abstract.txt`` is still read as a PDF:

- plain text: decoded by :func:`metapool.io.decoding.decode_text` (UTF-8, else Windows-1252, else
  Latin-1, or the encoding given), line ends made ``\\n``;
- HTML (lxml): scripts, styles, templates, comments and the document head are dropped, entities
  decoded, runs of white space (no-break spaces too) collapsed to one space, block elements (paragraphs, headings,
  list items, table rows, ``<br>``) become line breaks and table cells are separated by tabs;
- DOCX (python-docx): the body's paragraphs and tables in document order, one line per paragraph
  and per table row, cells separated by tabs (a merged cell once);
- PDF (pypdf): the text of each page; an encrypted PDF is read only when it opens without a
  password, and a PDF without a text layer (a scan) is refused with that reason.

Every file is read whole, so its size is capped (:data:`MAX_BYTES`); a Word file's archive is checked
against decompression bombs as a workbook's is (:func:`metapool.io.tables.check_office_archive`, with
:data:`MAX_UNPACKED` as its unpacked size). Anything that cannot be read raises
:class:`~metapool.exceptions.DataValidationError` with the file's name and the reason.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path
from typing import BinaryIO

from ..exceptions import DataValidationError
from ..io.decoding import decode_text, read_bytes
from ..io.tables import check_office_archive

__all__ = ["MAX_BYTES", "MAX_UNPACKED", "FORMATS", "read_source", "text_of"]

#: Largest file (or standard input) an audit reads, in bytes.
MAX_BYTES = 5 * 1024 * 1024
#: Largest unpacked size of a Word file's parts, in bytes (a ZIP archive can unpack to far more than it weighs).
MAX_UNPACKED = 50 * 1024 * 1024

#: The formats read, by name, with their description (docs and messages).
FORMATS = {
    "text": "plain text (UTF-8, else Windows-1252 or Latin-1, or --encoding)",
    "html": "an HTML page (scripts and styles dropped, block elements on their own lines)",
    "docx": "a Word document (paragraphs and table cells in order)",
    "pdf": "a PDF with a text layer (a scanned PDF needs OCR first)",
}

#: HTML elements whose content is never text of the page.
_DROPPED = ("script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object")
#: HTML elements that start a new line.
_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead",
    "tr", "ul",
})
_CELLS = frozenset({"td", "th"})
#: Block elements followed by a blank line (paragraphs); other blocks end their line only.
_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl"})
_SPACE = re.compile(r"[^\S\n]+")


def read_source(path: str | Path | None, *, stdin: BinaryIO | None = None,
                encoding: str | None = None) -> tuple[str, str]:
    """The text of a file (or of standard input) and the name of its source.

    Parameters
    ----------
    path
        A file; ``"-"`` or None reads ``stdin``.
    stdin
        Binary stream read for ``"-"`` (default: the process's standard input).
    encoding
        Text encoding of a plain-text or HTML source (default: detected).

    Returns
    -------
    tuple of str
        The text (line ends ``\\n``) and the source's name (the path as given, ``"-"`` for
        standard input).

    Raises
    ------
    DataValidationError
        The file is missing, a folder, larger than :data:`MAX_BYTES`, empty, not a format of
        :data:`FORMATS` (an image, an archive), damaged, encrypted, or holds no text.
    """
    if path is None or str(path) == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        data, name = stream.read(MAX_BYTES + 1), "-"
        what = "standard input"
    else:
        file = Path(path)
        name, what = str(path), f"{str(path)!r}"
        if file.is_file() and file.stat().st_size > MAX_BYTES:
            raise DataValidationError(f"{what} is larger than {MAX_BYTES // 2**20} MB; audit the section that"
                                      " reports the results.")
        data = read_bytes(file, "Text file")
    if len(data) > MAX_BYTES:
        raise DataValidationError(f"{what} is larger than {MAX_BYTES // 2**20} MB; audit the section that"
                                  " reports the results.")
    return text_of(data, name, encoding=encoding), name


def text_of(data: bytes, name: str, *, encoding: str | None = None) -> str:
    """The text of a file's bytes, by format (see the module docstring); ``name`` is used in messages."""
    label = "standard input" if name == "-" else repr(name)
    if not data.strip():
        raise DataValidationError(f"{label} is empty.")
    if data.startswith(b"%PDF"):
        text = _pdf_text(data, label)
    elif data.startswith(b"PK\x03\x04"):
        if not _is_docx(data):
            raise DataValidationError(f"{label} is a ZIP archive but not a Word (.docx) document.")
        text = _docx_text(data, label)
    elif data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise DataValidationError(f"{label} is an old Office file (.doc); save it as .docx, PDF or text.")
    elif _is_html(data, name):
        text = _html_text(decode_text(data, label, encoding).text)
    else:
        text = decode_text(data, label, encoding).text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        reason = " (a scanned PDF needs OCR first)" if data.startswith(b"%PDF") else ""
        raise DataValidationError(f"{label} holds no text{reason}.")
    return text


def _is_html(data: bytes, name: str) -> bool:
    suffix = Path(name).suffix.lower()
    if suffix in (".html", ".htm", ".xhtml"):
        return True
    if suffix in (".txt", ".text", ".md"):
        return False
    head = data[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head or b"<body" in head


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _html_text(markup: str) -> str:
    """The visible text of an HTML page, blocks on their own lines, cells separated by tabs."""
    import lxml.html
    from lxml import etree

    if not markup.strip():
        return ""
    try:
        root = lxml.html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        return ""
    for element in root.xpath("//comment() | //processing-instruction() | "
                              + " | ".join(f"//{tag}" for tag in _DROPPED)):
        element.drop_tree()  # keeps the text that follows the element
    chunks: list[str] = []

    def newline(blank: bool = False) -> None:
        if chunks and not chunks[-1].endswith("\n"):
            chunks.append("\n")
        if blank:
            chunks.append("\n")

    def inline(text: str | None) -> None:
        if text:
            chunks.append(_SPACE.sub(" ", text.replace("\n", " ")))

    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _BLOCKS:
                newline()
            inline(element.text)
            continue
        if tag == "br":
            chunks.append("\n")
        elif tag in _BLOCKS:
            newline(blank=tag in _PARAGRAPHS)
        elif tag in _CELLS:
            chunks.append("\t")
        inline(element.tail)
    lines = (line.strip(" \t") for line in "".join(chunks).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _docx_text(data: bytes, label: str) -> str:
    """The body of a Word document: paragraphs, and table rows with cells separated by tabs, in order."""
    import docx
    from docx.table import Table

    try:
        check_office_archive(label, data, "Word document (.docx)", "audit the section that matters as text",
                             MAX_UNPACKED)
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                lines += _table_lines(block)
            else:
                lines.append(block.text)
    except DataValidationError:
        raise
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors... on damaged files
        raise DataValidationError(f"{label} is not a readable Word (.docx) document ({type(exc).__name__}).") from None
    return "\n".join(lines)


def _table_lines(table) -> list[str]:
    lines = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is repeated once per grid column it spans
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        lines.append("\t".join(cells))
    return lines


def _pdf_text(data: bytes, label: str) -> str:
    """The text of every page of a PDF (pypdf), pages separated by a blank line."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = bool(reader.decrypt(""))
            except Exception:  # pypdf needs the cryptography package for AES; a wrong password raises too
                opened = False
            if not opened:
                raise DataValidationError(f"{label} is an encrypted PDF; save it without a password first.")
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except DataValidationError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError) as exc:
        raise DataValidationError(f"{label} is not a readable PDF ({type(exc).__name__}).") from None
