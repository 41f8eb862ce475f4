"""Resolve the columns of the median functions (names in ``data`` or values)."""

from __future__ import annotations

import numpy as np

from ..exceptions import DataValidationError
from ..io.parsing import to_float_array, to_labels
from ..io.tables import get_column


def column(data, value, role: str, n: int | None = None, labels=None) -> np.ndarray | None:
    """A float array for ``value`` (a column name of ``data``, values or None).

    Missing cells become NaN; a scalar is broadcast to ``n`` rows (one row
    when ``n`` is None).
    """
    if value is None:
        return None
    name = role
    if isinstance(value, str):
        if data is None:
            raise DataValidationError(f"'{role}' names column {value!r} but no data were given.")
        name, value = value, get_column(data, value, role)
    if np.isscalar(value):  # one study, or a value shared by all rows
        return np.full(1 if n is None else n, float(value))
    out = to_float_array(value, name, labels)
    if n is not None and out.shape[0] != n:
        raise DataValidationError(f"'{role}' has {out.shape[0]} values; expected {n}.")
    return out


def labels(data, slab, n: int) -> tuple[str, ...]:
    """Study labels from a column name, values, or 1..n."""
    if isinstance(slab, str):
        slab = get_column(data, slab, "slab")
    return to_labels(slab, n)
