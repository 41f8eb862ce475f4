"""Read study tables (CSV, TSV, XLSX) without guessing at cell meanings.

Cells are kept as the text (or, for XLSX, the typed value) the file holds;
numeric conversion is done per column role by :func:`metapool.io.parsing.to_float_array`,
so study labels such as "NA" stay labels. Reading uses the standard library's
:mod:`csv` (fast start-up for the command line) and :mod:`openpyxl` for Excel.
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

__all__ = ["StudyTable", "read_table", "get_column", "EXCEL_SUFFIXES", "MAX_CELL_CHARS"]

#: File suffixes read as Excel workbooks; any other file is read as delimited text.
EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})

#: Longest cell of a delimited text file, in characters (the csv module's default limit is 131,072).
MAX_CELL_CHARS = 1 << 20

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


def _read_csv(name: str, text: str) -> list[_Record]:
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


def _read_xlsx(name: str, data: bytes, sheet: str | None) -> list[_Record]:
    """Non-blank rows of a worksheet (default: the first), numbered as in Excel."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    # What openpyxl raises on a damaged or foreign archive (it parses the XML lazily, while rows are read).
    damaged = (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, SyntaxError, InvalidFileException)
    unreadable = f"{name} is a ZIP archive but not a readable Excel workbook (.xlsx)."
    if not data.startswith(b"PK\x03\x04"):
        raise _not_a_workbook(name, data)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except damaged:
        raise DataValidationError(unreadable) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise DataValidationError(f"Sheet {sheet!r} is not in {name}; sheets: {', '.join(book.sheetnames)}")
        if not book.worksheets:
            raise DataValidationError(f"{name} has no worksheets.")
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        try:
            rows = [(i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), start=1)]
        except damaged:
            raise DataValidationError(unreadable) from None
    finally:
        book.close()
    records = [(i, r) for i, r in rows if any(c is not None and str(c).strip() for c in r)]
    if not records:
        raise DataValidationError(f"{name}: sheet {ws.title!r} is empty.")
    return records


def read_table(path: str | Path, sheet: str | None = None, encoding: str | None = None) -> StudyTable:
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
        :data:`MAX_CELL_CHARS` characters, a sheet asked of a text file.
    """
    path = Path(path)
    data = read_bytes(path, "Data file")
    name = path.name
    decoded = None
    if path.suffix.lower() in EXCEL_SUFFIXES:
        records, unit = _read_xlsx(name, data, sheet), "sheet row"
    else:
        if sheet is not None:
            raise DataValidationError(
                f"{name} is a text table; a sheet ({sheet!r}) can only be chosen in an Excel workbook (.xlsx)."
            )
        decoded = decode_text(data, name, encoding)
        records, unit = _read_csv(name, decoded.text), "line"
    if not records:
        raise DataValidationError(f"Data file {name!r} is empty.")
    header = ["" if c is None else str(c).strip() for c in records[0][1]]
    while header and header[-1] == "":
        header.pop()
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
