"""Strict conversion of user columns to numbers.

Spreadsheet exports hide many traps ("1,000", "12 %", "n/a"). metapool turns a
cell into a number only when it unambiguously is one; a missing-value marker
becomes NaN (and the row is later excluded with a reason); anything else is an
error that names the row and the column.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Sequence

import numpy as np

from ..exceptions import DataValidationError

#: Cell texts read as "missing" in numeric columns (compared case-insensitively).
MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none", "."})

#: Largest magnitude accepted in a numeric column (about 1.3e154): the square of a
#: larger number overflows (every model squares its inputs), so it is refused.
LARGEST_NUMBER = math.sqrt(sys.float_info.max)


def describe_row(row: int, labels: Sequence[str] | None = None) -> str:
    """Human reference to a 0-based row: ``row 3 (study 'Smith 2010')``."""
    return describe_study(row, labels[row] if labels is not None and row < len(labels) else None)


def describe_study(row: int, label: str | None) -> str:
    """Human reference to a 0-based row and its label, quoted: ``row 3 (study 'Smith 2010')``."""
    return f"row {row + 1}" + (f" (study {label!r})" if label else "")


def _parse_cell(cell: object) -> float | None:
    """Return the float value of one cell, NaN for missing, None if not a number."""
    if cell is None:
        return float("nan")
    if isinstance(cell, (bool, np.bool_)):
        return None
    if isinstance(cell, (int, float, np.integer, np.floating)):
        return float(cell)
    if isinstance(cell, str):
        text = cell.strip()
        if text.lower() in MISSING_MARKERS:
            return float("nan")
        try:
            value = float(text)
        except ValueError:
            return None
        # float() accepts "nan"/"inf" spellings and "1_000"; only plain numbers pass.
        if "_" in text or not np.isfinite(value):
            return None
        return value
    return None


def to_float_array(values: object, column: str, labels: Sequence[str] | None = None) -> np.ndarray:
    """Convert a column (array, list, pandas Series) to a float array.

    Parameters
    ----------
    values
        The column's values. Numeric arrays pass through; other cells are parsed
        one by one.
    column
        Name used in error messages (the user's column name when known).
    labels
        Study labels, to name the study in error messages.

    Raises
    ------
    DataValidationError
        A cell that is neither a number nor a missing-value marker (spellings
        of infinity such as "inf" or "1e999" included), an infinite value, or a
        value beyond :data:`LARGEST_NUMBER` in magnitude.
    """
    arr = np.asarray(getattr(values, "to_numpy", lambda: values)())
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    if arr.dtype.kind in "iuf":
        out = arr.astype(float)
    else:
        out = np.empty(arr.shape[0], dtype=float)
        for i, cell in enumerate(arr):
            value = _parse_cell(cell)
            if value is None:
                raise DataValidationError(
                    f"{describe_row(i, labels)}, column {column!r}: {str(cell)!r} is not a number"
                    " (write plain numbers such as 1000 or 0.25, without thousands"
                    " separators, units or percent signs)."
                )
            out[i] = value
    bad = np.isinf(out)
    if np.count_nonzero(bad):
        i = int(np.flatnonzero(bad)[0])
        raise DataValidationError(
            f"{describe_row(i, labels)}, column {column!r}: infinite value is not allowed."
        )
    huge = np.abs(out) > LARGEST_NUMBER  # (NaN compares False)
    if np.count_nonzero(huge):
        i = int(np.flatnonzero(huge)[0])
        raise DataValidationError(
            f"{describe_row(i, labels)}, column {column!r}: {out[i]:g} is too large to pool: its square"
            " overflows; check the units."
        )
    return out


#: Default labels come from shared tuples of "Study i" (the batch engine calls escalc on
#: many chunks): one of LABEL_POOL_MIN labels for small tables, one of LABEL_POOL_SIZE
#: (built on first use) for tables up to that size.
LABEL_POOL_SIZE = 1 << 16
LABEL_POOL_MIN = 1 << 10


@functools.cache
def _label_pool(size: int) -> tuple[str, ...]:
    return tuple(f"Study {i + 1}" for i in range(size))


def to_labels(values: object, n: int) -> tuple[str, ...]:
    """Study labels as text; missing or blank labels become ``Study i`` (i: 1-based row). No NA parsing."""
    if values is None:
        if n <= LABEL_POOL_SIZE:
            return _label_pool(LABEL_POOL_MIN if n <= LABEL_POOL_MIN else LABEL_POOL_SIZE)[:n]
        return tuple(f"Study {i + 1}" for i in range(n))
    arr = list(getattr(values, "tolist", lambda: list(values))())
    if len(arr) != n:
        raise DataValidationError(
            f"The study labels have {len(arr)} entries but the data have {n} rows."
        )
    out = []
    for i, cell in enumerate(arr):
        if cell is None or (isinstance(cell, float) and np.isnan(cell)) or not str(cell).strip():
            out.append(f"Study {i + 1}")
        else:
            out.append(str(cell))
    return tuple(out)
