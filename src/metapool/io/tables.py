"""Read study tables (CSV, TSV, XLSX) without guessing at cell meanings.

Cells are kept as the text (or, for XLSX, the typed value) the file holds;
numeric conversion is done per column role by :func:`metapool.io.parsing.to_float_array`,
so study labels such as "NA" stay labels. Reading uses the standard library's
:mod:`csv` (fast start-up for the command line) and :mod:`openpyxl` for Excel.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import DataValidationError

__all__ = ["StudyTable", "read_table", "get_column"]


@dataclass(frozen=True)
class StudyTable(Mapping):
    """A rectangular table of raw cells, one row per study.

    Behaves as a read-only mapping from column name to its list of cells, so it
    can be passed as ``data`` wherever a pandas DataFrame is accepted.
    """

    columns: dict
    n_rows: int
    source: str = ""

    def __getitem__(self, name: str) -> list:
        return self.columns[name]

    def __iter__(self):
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def to_frame(self):
        """The table as a pandas DataFrame of the raw cells."""
        import pandas as pd

        return pd.DataFrame(self.columns)


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


def _read_csv(path: Path) -> list[list[object]]:
    text = path.read_text(encoding="utf-8-sig")
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(text.splitlines(), dialect) if any(c.strip() for c in row)]


def _read_xlsx(path: Path, sheet: str | None) -> list[list[object]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
    except KeyError:
        raise DataValidationError(
            f"Sheet {sheet!r} is not in {path.name}; sheets: {', '.join(book.sheetnames)}"
        ) from None
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    book.close()
    return [r for r in rows if any(c is not None and str(c).strip() for c in r)]


def read_table(path: str | Path, sheet: str | None = None) -> StudyTable:
    """Read a CSV/TSV/TXT or XLSX file with a header row into a :class:`StudyTable`.

    Parameters
    ----------
    path
        File to read. The format is chosen from the suffix (``.xlsx``/``.xlsm``
        for Excel, anything else as delimited text; the delimiter is detected
        among comma, semicolon and tab).
    sheet
        Worksheet name for Excel files (default: the first sheet).

    Raises
    ------
    DataValidationError
        Missing file, empty file, duplicate or blank column names, or rows with
        more cells than the header.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"Data file {str(path)!r} does not exist.")
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        rows = _read_xlsx(path, sheet)
    else:
        rows = _read_csv(path)
    if not rows:
        raise DataValidationError(f"Data file {path.name!r} is empty.")
    header = ["" if c is None else str(c).strip() for c in rows[0]]
    while header and header[-1] == "":
        header.pop()
    for j, name in enumerate(header):
        if name == "":
            raise DataValidationError(f"{path.name}: column {j + 1} has no name in the header row.")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise DataValidationError(f"{path.name}: duplicate column names: {', '.join(dupes)}")
    body = rows[1:]
    columns: dict[str, list] = {h: [] for h in header}
    for i, row in enumerate(body):
        extra = [c for c in row[len(header):] if c is not None and str(c).strip()]
        if extra:
            raise DataValidationError(
                f"{path.name}, row {i + 1} (line {i + 2}): {len(row)} cells but the header"
                f" has {len(header)} columns."
            )
        for j, h in enumerate(header):
            cell = row[j] if j < len(row) else None
            columns[h].append("" if cell is None else cell)
    return StudyTable(columns=columns, n_rows=len(body), source=str(path))
