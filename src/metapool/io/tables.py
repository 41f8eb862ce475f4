"""Read study tables (CSV, TSV, XLSX) without guessing at cell meanings.

Cells are kept as the text (or, for XLSX, the typed value) the file holds;
numeric conversion is done per column role by :func:`metapool.io.parsing.to_float_array`,
so study labels such as "NA" stay labels. Reading uses the standard library's
:mod:`csv` (fast start-up for the command line) and :mod:`openpyxl` for Excel.

A workbook is a ZIP archive of XML files: before openpyxl opens it (read-only), its archive is
checked against decompression bombs (:func:`check_office_archive`), and openpyxl parses its XML
through :mod:`defusedxml` (no entity expansion, no external entities).
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import DataValidationError
from .decoding import decode_text, looks_like, read_bytes

__all__ = ["StudyTable", "read_table", "get_column", "check_office_archive", "EXCEL_SUFFIXES", "MAX_CELL_CHARS",
           "WORKBOOK_MAX_MEMBERS", "WORKBOOK_MAX_UNCOMPRESSED", "WORKBOOK_MAX_RATIO", "WORKBOOK_MAX_CELLS"]

#: File suffixes read as Excel workbooks; any other file is read as delimited text.
EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})

#: Longest cell of a delimited text file, in characters (the csv module's default limit is 131,072).
MAX_CELL_CHARS = 1 << 20

#: Decompression-bomb guard of an Excel workbook (a ZIP archive), checked before openpyxl opens it:
#: most archive members, most bytes once uncompressed (all members together), and the largest
#: compression ratio of any member bigger than :data:`WORKBOOK_RATIO_FLOOR` bytes. A study table's
#: workbook is far below all three (its sheet XML compresses about 5 to 20 times).
WORKBOOK_MAX_MEMBERS = 1000
WORKBOOK_MAX_UNCOMPRESSED = 256 * 1024 * 1024
WORKBOOK_MAX_RATIO = 200
WORKBOOK_RATIO_FLOOR = 1024 * 1024
#: Most cells (rows times the widest row) of the table read from one worksheet.
WORKBOOK_MAX_CELLS = 10_000_000

#: Why a workbook whose XML declares a document type is refused (no Office file has one).
_DOCTYPE_REFUSED = ("its XML declares entities or a document type, which metapool refuses for safety "
                    "(billion-laughs and external-entity attacks)")

#: A record of a table: its line (text) or row (worksheet) number, 1-based, and its cells.
_Record = tuple[int, list]


@dataclass(frozen=True)
class StudyTable(Mapping):
    """A rectangular table of raw cells, one row per study.

    Behaves as a read-only mapping from column name to its list of cells, so it
    can be passed as ``data`` wherever a pandas DataFrame is accepted.

    Attributes
    ----------
    columns
        Column name to its cells.
    n_rows
        Number of studies (rows below the header).
    source
        The file read, if any.
    encoding
        Codec that decoded a text file (``"utf-8"``, ``"cp1252"``, ...); None
        for a workbook or a table built in memory.
    notes
        Sentences for the user about how the file was read (an encoding guessed
        other than UTF-8); the command line and the report show them.
    sha256
        SHA-256 (hex) of the bytes read from the file ("" for a table built in
        memory): the provenance of exactly what was analysed.
    row_names
        The row index: the cells of an unnamed first column (the row names
        R's ``write.csv`` writes under an empty header), which is not one of
        :attr:`columns`; empty when the file has none.
    """

    columns: dict
    n_rows: int
    source: str = ""
    encoding: str | None = None
    notes: tuple = ()
    sha256: str = ""
    row_names: tuple = ()

    def __getitem__(self, name: str) -> list:
        return self.columns[name]

    def __iter__(self):
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def to_frame(self):
        """The table as a pandas DataFrame of the raw cells (indexed by :attr:`row_names` when there are any)."""
        import pandas as pd

        return pd.DataFrame(self.columns, index=list(self.row_names) or None)


def get_column(data: object, name: str, role: str | None = None) -> object:
    """Fetch column ``name`` from a mapping or DataFrame with a helpful error."""
    try:
        names = list(data.keys())  # type: ignore[union-attr]
    except AttributeError:
        names = list(getattr(data, "columns", []))
    if name not in names:
        what = f" for {role}" if role else ""
        raise DataValidationError(
            f"Column {name!r}{what} is not in the data. Available columns: "
            + ", ".join(repr(str(c)) for c in names)
        )
    return data[name]  # type: ignore[index]


def _read_csv(name: str, text: str, max_rows: int | None) -> list[_Record]:
    """Non-blank records of delimited text; only CSV record separators (CR, LF) end a record."""
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL_CHARS))
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    records, line = [], 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                records.append((line, cells))
                _check_rows(name, len(records), max_rows)
            line = reader.line_num + 1
    except csv.Error as exc:
        problem = (f"a cell is longer than {MAX_CELL_CHARS:,} characters, the most metapool reads in one cell"
                   if "field larger than field limit" in str(exc) else f"not readable as CSV ({exc})")
        raise DataValidationError(f"{name}, line {line}: {problem}.") from None
    return records


def _not_a_workbook(name: str, data: bytes) -> DataValidationError:
    if not data.strip():
        return DataValidationError(f"Data file {name!r} is empty.")
    what = looks_like(data)
    if what is None:
        return DataValidationError(
            f"{name} looks like a CSV or text file, not an Excel workbook; rename it to .csv."
        )
    return DataValidationError(f"{name} looks like {what}, not an Excel workbook (.xlsx).")


def check_office_archive(name: str, data: bytes, kind: str = "Excel workbook (.xlsx)",
                         advice: str = "save the table as CSV", max_unpacked: int | None = None) -> None:
    """Refuse an Office file (an Excel workbook, a Word document) whose ZIP archive could be a decompression bomb.

    Checked before anything unpacks it. The sizes checked are those the archive's central directory
    declares; Python's :mod:`zipfile`, which openpyxl and python-docx read through, never inflates a member
    past its declared size (a member that lies fails its CRC check), so the declared sizes bound the work.

    Parameters
    ----------
    name : str
        The file's name, for the messages.
    data : bytes
        The file's content.
    kind : str
        What the file should be, for the messages ("Excel workbook (.xlsx)", "Word document (.docx)").
    advice : str
        What to do instead when the file unpacks to too much.
    max_unpacked : int, optional
        Largest total unpacked size, in bytes (default :data:`WORKBOOK_MAX_UNCOMPRESSED`).

    Raises
    ------
    DataValidationError
        More than :data:`WORKBOOK_MAX_MEMBERS` members, more than ``max_unpacked`` bytes uncompressed, or a member compressed more than :data:`WORKBOOK_MAX_RATIO` times; an XML part whose
        prolog declares a document type or entities (no Office file does; openpyxl's parsers would not
        expand them either); a damaged ZIP archive.

    References
    ----------
    OWASP, "File Upload Cheat Sheet" (archive bombs); Python documentation, ``zipfile``, "Decompression pitfalls".
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_members(name, archive, advice, WORKBOOK_MAX_UNCOMPRESSED if max_unpacked is None else max_unpacked)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        if isinstance(exc, DataValidationError):
            raise
        raise DataValidationError(f"{name} is not a readable {kind}: its ZIP archive is damaged.") from None


def _check_members(name: str, archive: zipfile.ZipFile, advice: str, max_unpacked: int) -> None:
    members = archive.infolist()
    refused = f"{name} was refused as a possible decompression bomb:"
    if len(members) > WORKBOOK_MAX_MEMBERS:
        raise DataValidationError(f"{refused} it holds {len(members):,} files, more than the {WORKBOOK_MAX_MEMBERS:,}"
                                  " an Office file read by metapool may hold.")
    total = sum(m.file_size for m in members)
    if total > max_unpacked:
        raise DataValidationError(f"{refused} it unpacks to {total / 2**20:,.0f} MB, more than the "
                                  f"{max_unpacked // 2**20} MB metapool reads; {advice}.")
    for m in members:
        if m.file_size > WORKBOOK_RATIO_FLOOR and m.file_size > WORKBOOK_MAX_RATIO * max(m.compress_size, 1):
            raise DataValidationError(f"{refused} its part {m.filename!r} is compressed "
                                      f"{m.file_size / max(m.compress_size, 1):,.0f} times, more than the "
                                      f"{WORKBOOK_MAX_RATIO} times of any real Office file.")
    for m in members:  # the XML prolog: no Office part declares a document type (defence in depth)
        if m.filename.endswith((".xml", ".rels")):
            with archive.open(m) as part:
                head = part.read(8192)
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise DataValidationError(f"{name}: {_DOCTYPE_REFUSED} (in its part {m.filename!r}).")


def _read_xlsx(name: str, data: bytes, sheet: str | None, max_rows: int | None,
               max_columns: int | None) -> list[_Record]:
    """Non-blank rows of a worksheet (default: the first), numbered as in Excel, stopping past the caps."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException
    from openpyxl.xml import DEFUSEDXML

    # What openpyxl raises on a damaged or foreign archive (it parses the XML lazily, while rows are read).
    damaged = (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, SyntaxError, InvalidFileException)
    unreadable = f"{name} is a ZIP archive but not a readable Excel workbook (.xlsx)."
    if not data.startswith(b"PK\x03\x04"):
        raise _not_a_workbook(name, data)
    if not DEFUSEDXML:  # openpyxl parses through defusedxml only when it is installed and not switched off
        raise DataValidationError(f"{name} was not read: openpyxl is not using defusedxml (is the package installed, "
                                  "and OPENPYXL_DEFUSEDXML unset?), and metapool reads workbooks only through it.")
    check_office_archive(name, data)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except damaged as exc:
        raise _unreadable_workbook(exc, unreadable) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise DataValidationError(f"Sheet {sheet!r} is not in {name}; sheets: {', '.join(book.sheetnames)}")
        if not book.worksheets:
            raise DataValidationError(f"{name} has no worksheets.")
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        # The sheet's declared dimension is ignored: each row is as wide as its last cell, so a dimension
        # claiming a million empty rows or 16,384 columns costs nothing. The dense table that results is
        # capped (WORKBOOK_MAX_CELLS): a few cells placed far apart cannot expand into gigabytes.
        ws.reset_dimensions()
        records, width = [], 0
        try:
            for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
                if not any(c is not None and str(c).strip() for c in row):
                    continue
                cells = list(row)
                while cells and cells[-1] is None:
                    cells.pop()
                if not records:
                    _check_columns(name, len(cells), max_columns)
                width = max(width, len(cells))
                records.append((i, cells))
                _check_rows(name, len(records), max_rows)
                if len(records) * width > WORKBOOK_MAX_CELLS:
                    raise DataValidationError(f"{name}: the sheet spans more than {WORKBOOK_MAX_CELLS:,} cells (rows x "
                                              "columns), more than metapool reads from a workbook; save it as CSV.")
        except DataValidationError:
            raise
        except damaged as exc:
            raise _unreadable_workbook(exc, unreadable) from None
    finally:
        book.close()
    if not records:
        raise DataValidationError(f"{name}: sheet {ws.title!r} is empty.")
    return records


def _unreadable_workbook(exc: Exception, unreadable: str) -> DataValidationError:
    """The error for a workbook openpyxl could not read; XML that defusedxml refused says so."""
    cause: BaseException | None = exc
    while cause is not None and not type(cause).__module__.startswith("defusedxml"):
        cause = cause.__cause__ or cause.__context__  # openpyxl wraps what it met while opening the sheets
    if cause is not None:
        return DataValidationError(f"{unreadable.rstrip('.')}: {_DOCTYPE_REFUSED}.")
    return DataValidationError(unreadable)


def _check_rows(name: str, n_records: int, max_rows: int | None) -> None:
    """Refuse a table with more than ``max_rows`` studies (``n_records`` counts the header too)."""
    if max_rows is not None and n_records > max_rows + 1:
        raise DataValidationError(f"{name} has more than {max_rows:,} rows, the most this reader accepts "
                                  "(the server's upload limit); split the table or analyse it with the command line.")


def _check_columns(name: str, n_columns: int, max_columns: int | None) -> None:
    if max_columns is not None and n_columns > max_columns:
        raise DataValidationError(f"{name} has more than {max_columns:,} columns, the most this reader accepts "
                                  "(the server's upload limit).")


def read_table(path: str | Path, sheet: str | None = None, encoding: str | None = None, *,
               max_rows: int | None = None, max_columns: int | None = None) -> StudyTable:
    """Read a CSV/TSV/TXT or XLSX file with a header row into a :class:`StudyTable`.

    Parameters
    ----------
    path
        File to read. The format is chosen from the suffix (``.xlsx``/``.xlsm``
        for Excel, anything else as delimited text; the delimiter is detected
        among comma, semicolon and tab).
    sheet
        Worksheet name for Excel files (default: the first sheet).
    encoding
        Text encoding of a delimited file (``"utf-8"``, ``"cp1252"``, ...). By
        default UTF-8 (with or without byte-order mark, or UTF-16/32 with one),
        else Windows-1252, else Latin-1; a guess other than UTF-8 is recorded
        in :attr:`StudyTable.notes`.
    max_rows, max_columns
        Most studies (rows below the header) and columns accepted; reading stops as soon as a cap is
        passed (the web app's upload limits). None: no cap.

    Returns
    -------
    StudyTable
        The cells as text (typed values for Excel). Only CR/LF end a record, so
        line or paragraph separators inside a cell stay in the cell. A first
        column with an empty header cell (R's ``write.csv`` row names) is the
        row index (:attr:`StudyTable.row_names`), not a column; row names other
        than R's default 1, 2, ... add a note saying so.

    Raises
    ------
    DataValidationError
        A missing, unreadable or binary file, a folder, a text file named .xlsx
        (or a workbook named otherwise), an unknown encoding, an empty file or
        sheet, a header without studies, blank or duplicate column names, rows
        with more cells than the header, a cell longer than
        :data:`MAX_CELL_CHARS` characters, a sheet asked of a text file, more rows or columns than
        ``max_rows``/``max_columns``, a workbook refused by :func:`check_office_archive` or whose XML
        declares entities (openpyxl parses through defusedxml).
    """
    path = Path(path)
    data = read_bytes(path, "Data file")
    name = path.name
    decoded = None
    if path.suffix.lower() in EXCEL_SUFFIXES:
        records, unit = _read_xlsx(name, data, sheet, max_rows, max_columns), "sheet row"
    else:
        if sheet is not None:
            raise DataValidationError(
                f"{name} is a text table; a sheet ({sheet!r}) can only be chosen in an Excel workbook (.xlsx)."
            )
        decoded = decode_text(data, name, encoding)
        records, unit = _read_csv(name, decoded.text, max_rows), "line"
    if not records:
        raise DataValidationError(f"Data file {name!r} is empty.")
    header = ["" if c is None else str(c).strip() for c in records[0][1]]
    while header and header[-1] == "":
        header.pop()
    _check_columns(name, len(header), max_columns)
    skip = 1 if len(header) > 1 and header[0] == "" else 0  # R's write.csv: row names under an empty header
    for j, column in enumerate(header[skip:], start=skip):
        if column == "":
            raise DataValidationError(f"{name}: column {j + 1} has no name in the header row.")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise DataValidationError(f"{name}: duplicate column names: {', '.join(repr(d) for d in dupes)}")
    body = records[1:]
    if not body:
        raise DataValidationError(f"{name} has a header row but no studies below it.")
    columns: dict[str, list] = {h: [] for h in header[skip:]}
    row_names = []
    for i, (line, row) in enumerate(body):
        extra = [c for c in row[len(header):] if c is not None and str(c).strip()]
        if extra:
            raise DataValidationError(
                f"{name}, row {i + 1} ({unit} {line}): {len(row)} cells but the header"
                f" has {len(header)} columns."
            )
        cells = ["" if c is None else c for c in row[: len(header)]] + [""] * (len(header) - len(row))
        row_names += [str(int(c)) if isinstance(c, float) and c.is_integer() else str(c) for c in cells[:skip]]
        for h, cell in zip(header[skip:], cells[skip:]):
            columns[h].append(cell)
    notes = () if decoded is None or not decoded.note else (decoded.note,)
    if row_names and row_names != [str(i) for i in range(1, len(body) + 1)]:
        notes += (f"{name}: the first column has no name in the header (R's row names), so it was read as the"
                  " row index, not as data; give it a name to use it (e.g. as the study labels).",)
    return StudyTable(
        columns=columns,
        n_rows=len(body),
        source=str(path),
        encoding=None if decoded is None else decoded.encoding,
        notes=notes,
        sha256=hashlib.sha256(data).hexdigest(),
        row_names=tuple(row_names),
    )
