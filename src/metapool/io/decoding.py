"""Turn the bytes of a text file into text, saying how, and refuse files that are not text.

Study tables exported by Excel in Western Europe are often Windows-1252, not
UTF-8, and analysis files are sometimes saved by editors that follow the
system's code page. Without an explicit encoding, :func:`decode_text` reads
UTF-8 (with or without a byte-order mark; UTF-16/32 with a byte-order mark),
else Windows-1252, else Latin-1 (which decodes any byte), and returns a note
whenever the text was not UTF-8, so that the user can check accented labels.
Images, PDFs, archives and other binary files are recognised and named instead
of being decoded into nonsense.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import DataValidationError

__all__ = ["Decoded", "decode_text", "looks_like", "read_bytes", "text_encoding"]

#: Byte-order marks and the codec that reads them (longest first: UTF-32 LE starts like UTF-16 LE).
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

#: Encodings tried in turn when none is given: the first that decodes the whole file is used.
FALLBACKS = (("utf-8", "UTF-8"), ("cp1252", "Windows-1252 (cp1252)"), ("latin-1", "Latin-1 (ISO-8859-1)"))

#: Leading bytes of common files that are not text tables, and what to call them.
SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an Excel workbook is one: name it .xlsx)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel .xls workbook or another Office file (save it as .xlsx or CSV)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
)


@dataclass(frozen=True)
class Decoded:
    """Text of a file and how it was read.

    Attributes
    ----------
    text
        The decoded text, without a byte-order mark.
    encoding
        Python's name of the codec used (``"utf-8"``, ``"cp1252"``, ...).
    note
        A sentence for the user when the encoding was guessed and is not
        UTF-8; empty otherwise.
    """

    text: str
    encoding: str
    note: str = ""


def looks_like(data: bytes) -> str | None:
    """What a file that is not text looks like (``"a PNG image"``), or None if it may be text."""
    for signature, what in SIGNATURES:
        if data.startswith(signature):
            return what
    if not data.startswith(tuple(bom for bom, _ in BOMS)) and b"\x00" in data:
        return "a binary file (it contains NUL bytes)"
    return None


def read_bytes(path: Path, role: str) -> bytes:
    """The whole content of a file, or a one-line error saying why it cannot be read.

    ``role`` names the file in messages (``"Data file"``, ``"Analysis file"``).
    """
    if not path.is_file():
        if path.is_dir():
            raise DataValidationError(f"{role} {str(path)!r} is a folder, not a file.")
        if path.exists():
            raise DataValidationError(f"{role} {str(path)!r} is not a regular file.")
        raise DataValidationError(f"{role} {str(path)!r} does not exist.")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataValidationError(f"{role} {str(path)!r} cannot be read: {exc.strerror or exc}.") from None


def text_encoding(encoding: str) -> str:
    """Python's canonical name of a text encoding; an error for unknown or non-text codecs."""
    try:
        name = codecs.lookup(encoding).name
        b"a".decode(name)  # LookupError for codecs that are not text encodings, such as rot13 or base64
    except LookupError:
        raise DataValidationError(
            f"Unknown text encoding {encoding!r}; use for example utf-8, cp1252 (Excel in Western Europe)"
            " or latin-1."
        ) from None
    except UnicodeDecodeError:  # a text encoding of several bytes per character (UTF-16, UTF-32)
        pass
    return name


def _undecodable(name: str, data: bytes, exc: UnicodeDecodeError, label: str) -> DataValidationError:
    line = data[: exc.start].count(b"\n") + 1
    return DataValidationError(
        f"{name}, line {line}: byte 0x{data[exc.start]:02x} is not valid {label}; give the file's"
        " encoding (e.g. cp1252 or latin-1) or save it as UTF-8."
    )


def decode_text(data: bytes, name: str, encoding: str | None = None) -> Decoded:
    """Decode a text file's bytes.

    Parameters
    ----------
    data
        The file's content.
    name
        The file's name, for messages.
    encoding
        A codec name (``"utf-8"``, ``"cp1252"``, ``"latin-1"``, ...), or None to
        detect: a byte-order mark, else UTF-8, else Windows-1252, else Latin-1.

    Returns
    -------
    Decoded
        The text, the codec used and, when a guessed encoding is not UTF-8, a
        note naming it.

    Raises
    ------
    DataValidationError
        A binary file (image, PDF, archive, NUL bytes), an unknown encoding
        name, or bytes that the given encoding cannot decode.
    """
    what = looks_like(data)
    if what is not None:
        raise DataValidationError(f"{name} looks like {what}, not a text file.")
    if encoding is not None:
        codec = text_encoding(encoding)
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            raise _undecodable(name, data, exc, encoding) from None
        return Decoded(text.removeprefix("\ufeff"), codec)
    bom_codec = next((codec for bom, codec in BOMS if data.startswith(bom)), None)
    if bom_codec is not None:
        try:
            return Decoded(data.decode(bom_codec).removeprefix("\ufeff"), bom_codec)
        except UnicodeDecodeError as exc:
            raise _undecodable(name, data, exc, bom_codec.upper()) from None
    # The last fallback, Latin-1, decodes every byte, so one of them always applies.
    text, codec, label = next((t, c, lab) for c, lab in FALLBACKS if (t := _decode_or_none(data, c)) is not None)
    note = "" if codec == "utf-8" else (
        f"{name} is not UTF-8; it was read as {label}. Check accented characters in labels, or give"
        " the encoding explicitly."
    )
    return Decoded(text, codec, note)


def _decode_or_none(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None
