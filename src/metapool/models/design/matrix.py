"""Design matrices for meta-regression from moderator columns or a formula.

Moderators are given as column names (``["ablat", "agent:cat"]``), as a
formula (``"~ ablat + C(agent)"``), or as a numeric array. A formula is
parsed by metapool's own grammar (:mod:`metapool.models.design.formula`), a
subset of R's model notation, and never evaluated as Python:

==============================  ===============================================
Written                         Meaning
==============================  ===============================================
``~ a + b``                     moderators ``a`` and ``b`` (``~`` optional)
`` `prior HMA %` ``             a column whose name is not a plain name
``a:b``, ``a*b``                interaction; ``a*b`` is ``a + b + a:b``
``(a + b):c``                   ``a:c + b:c``
``- 1``, ``+ 0``                no intercept (``+ 1`` keeps it)
``- a:b``                       remove a term written before
``C(g)``, ``factor(g)``         ``g`` as categories
``C(g, ref = "aza")``           ... against reference level ``aza``
``log(x)``, ``sqrt(x)``         the function of a numeric column (also
                                ``log2``, ``log10``, ``exp``, ``abs``)
``I(x^2)``, ``I(a/b - 1)``      arithmetic ``+ - * / ^`` (``**``) on columns,
                                numbers and the functions above
==============================  ===============================================

Anything else (Python, attributes, subscripts, braces, other functions) is an
error naming the offending text and its position. The design matrix matches
R's ``model.matrix``: ``intrcpt`` first, then the terms by degree and order of
appearance; a numeric variable is one column (``x``, ``log(x)``); a
categorical one is coded with treatment contrasts against its reference level
(the first level in sorted order unless ``C(g, ref = ...)`` or ``reference``
names another), columns ``g[level]``; interactions multiply the columns of
their variables (``x:g[level]``, the first variable varying fastest). As in
R, a categorical variable gets all its levels where the terms below it do not
span its contrasts (``~ C(g) - 1``, ``~ x:C(g)``).

Numeric columns are read with metapool's strict parser; a column whose cells
are not all numbers (or one marked ``:cat``) is categorical. Rows with a
missing moderator are excluded with a reason, never dropped silently; a
transform that is not finite on a row (``log(0)``) is an error naming the row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ...exceptions import DataValidationError
from ...io.parsing import MISSING_MARKERS, describe_row, to_float_array
from ...io.tables import get_column
from .arithmetic import evaluate
from .formula import Categorical, Column, Formula, Transform, parse_formula

__all__ = ["Design", "build_design", "check_rank"]

#: Suffixes of a column name in the column-list route that force a categorical reading.
_CATEGORICAL_SUFFIXES = ("cat", "factor")


@dataclass(frozen=True)
class Design:
    """A design matrix for all rows of the data (NaN rows where a moderator is missing).

    Attributes
    ----------
    X
        ``(n_rows, p)`` matrix including the intercept column when present.
    names
        Column names (``"intrcpt"`` for the intercept, as metafor).
    intercept
        Whether the model has an intercept.
    missing
        Row (0-based) to the reason it cannot enter the model.
    formula
        The formula the matrix was built from.
    """

    X: np.ndarray
    names: tuple
    intercept: bool
    missing: Mapping = field(default_factory=dict)
    formula: str = ""

    @property
    def p(self) -> int:
        return self.X.shape[1]


def _is_missing(cell) -> bool:
    if cell is None:
        return True
    if isinstance(cell, float) and np.isnan(cell):
        return True
    return isinstance(cell, str) and cell.strip().lower() in MISSING_MARKERS


def build_design(mods, data, n_rows: int, labels, reference: Mapping | None = None, intercept: bool = True) -> Design:
    """Build the moderator design matrix for ``n_rows`` studies.

    Parameters
    ----------
    mods
        A formula string (grammar in the module docstring), a sequence of
        column names (``"name:cat"`` forces a categorical reading), or a
        numeric array/DataFrame of shape ``(n_rows, m)``.
    data
        The table holding the moderator columns (for names and formulas).
    n_rows
        Number of studies (rows of ``data``).
    labels
        Study labels for error messages.
    reference
        Reference level per categorical column, e.g. ``{"agent": "azacitidine"}``
        (``C(agent, ref = ...)`` in a formula takes precedence).
    intercept
        Add an intercept (ignored for formulas, where ``- 1`` removes it).

    Raises
    ------
    DataValidationError
        A formula outside the grammar, a column that is not in the data, a
        transform that is not finite on a row, a reference level that is not
        a level (or names no categorical moderator), a categorical moderator
        with a single level, or more coefficients than studies.
    """
    if isinstance(mods, str):
        return _from_formula(parse_formula(mods), data, n_rows, labels, dict(reference or {}))
    if isinstance(mods, Sequence) and mods and all(isinstance(m, str) for m in mods):
        return _from_formula(_column_list(mods, intercept), data, n_rows, labels, dict(reference or {}))
    try:
        X = np.asarray(getattr(mods, "to_numpy", lambda: mods)(), dtype=float)
    except (TypeError, ValueError):
        raise DataValidationError(
            "Moderators must be column names, a formula text or a numeric matrix; the matrix given holds"
            " values that are not numbers."
        ) from None
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] != n_rows:
        raise DataValidationError(f"The moderator matrix has shape {X.shape} but the data have {n_rows} rows.")
    names = tuple(getattr(mods, "columns", [f"mod{j + 1}" for j in range(X.shape[1])]))
    if np.isinf(X).any():
        i, j = (int(a[0]) for a in np.nonzero(np.isinf(X)))
        raise DataValidationError(
            f"{describe_row(i, labels)}, moderator {str(names[j])!r}: infinite value is not allowed."
        )
    missing = {int(i): "missing moderator value" for i in np.flatnonzero(np.isnan(X).any(axis=1))}
    if intercept:
        X = np.column_stack([np.ones(n_rows), X])
        names = ("intrcpt", *names)
    return Design(X, tuple(str(n) for n in names), intercept, missing, "")


def _column_list(mods: Sequence[str], intercept: bool) -> Formula:
    """The model of a list of column names: one main effect each (``"name:cat"`` is categorical)."""
    variables = []
    for spec in mods:
        name, _, suffix = spec.rpartition(":")
        if name.strip() and suffix.strip().lower() in _CATEGORICAL_SUFFIXES:
            variables.append(Categorical(name.strip()))
        else:
            variables.append(Column(spec.strip()))
    return Formula.main_effects(variables, intercept)


@dataclass(frozen=True)
class _Factor:
    """A categorical variable on the rows analysed: its labels and levels (reference first)."""

    labels: np.ndarray
    levels: tuple


def _from_formula(formula: Formula, data, n_rows: int, labels, reference: dict) -> Design:
    """R's ``model.matrix`` of a parsed formula, rows with a missing moderator left as NaN."""
    if data is None:
        raise DataValidationError("Moderators given by name need the data table (data=...).")
    cells = {name: _cells(data, name, n_rows) for name in formula.columns}
    missing: dict[int, str] = {}
    for name, column in cells.items():
        for i, cell in enumerate(column):
            if _is_missing(cell):
                missing.setdefault(i, f"missing value of moderator {name!r}")
    keep = np.array([i not in missing for i in range(n_rows)], dtype=bool)
    numeric = {name: _numeric(column, name, labels) for name, column in cells.items()}
    categorical = {
        v for v in formula.variables
        if isinstance(v, Categorical) or (isinstance(v, Column) and numeric[v.name] is None)
    }
    _check_reference_names(reference, categorical)
    if not keep.any():  # every study lacks a moderator: the model reports k = 0 with the reasons
        return Design(np.full((n_rows, 0), np.nan), (), formula.intercept, missing, formula.text)
    values = {}
    for v in formula.variables:
        if v in categorical:
            values[v] = _factor(v, cells[v.name], keep, reference)
        elif isinstance(v, Transform):
            values[v] = _transform(v, cells, numeric, keep, labels)
        else:
            values[v] = numeric[v.name][keep]
    full = _full_coding(formula, categorical, values)
    codings = [[_coding(v, values[v], (j, v) in full) for v in term] for j, term in enumerate(formula.terms)]
    p = int(formula.intercept) + sum(int(np.prod([len(c) for c in term])) for term in codings)
    if p > np.count_nonzero(keep):
        raise DataValidationError(
            f"The moderators {formula.text!r} give {p} coefficients but only {np.count_nonzero(keep)}"
            " studies have every moderator."
        )
    names, columns = (["intrcpt"], [np.ones(np.count_nonzero(keep))]) if formula.intercept else ([], [])
    for term in codings:
        parts = term[0]
        for coding in term[1:]:  # R's order: the first variable varies fastest
            parts = [(f"{a}:{b}", x * y) for b, y in coding for a, x in parts]
        names += [name for name, _ in parts]
        columns += [column for _, column in parts]
    X = np.full((n_rows, p), np.nan)
    X[keep] = np.column_stack(columns)
    return Design(X, tuple(names), formula.intercept, missing, formula.text)


def _cells(data, name: str, n_rows: int) -> list:
    column = get_column(data, name, "a moderator")
    cells = column.tolist() if hasattr(column, "tolist") else list(column)
    if len(cells) != n_rows:
        raise DataValidationError(f"Moderator column {name!r} has {len(cells)} values but the data have {n_rows} rows.")
    return cells


def _numeric(cells: list, name: str, labels) -> np.ndarray | None:
    """The column as floats (NaN where missing), or None when a present cell is not a number."""
    try:
        return _as_float(cells, name, labels)
    except DataValidationError:
        return None


def _as_float(cells: list, name: str, labels) -> np.ndarray:
    return to_float_array(["" if _is_missing(c) else c for c in cells], name, labels)


def _check_reference_names(reference: Mapping, categorical: set) -> None:
    names = sorted({v.name for v in categorical})
    for key in reference:
        if key not in names:
            known = f" (categorical: {', '.join(map(repr, names))})" if names else ""
            raise DataValidationError(
                f"A reference level is given for {key!r}, which is not a categorical moderator of this model{known}."
            )


def _factor(variable, cells: list, keep: np.ndarray, reference: Mapping) -> _Factor:
    text = np.array(["" if _is_missing(c) else str(c).strip() for c in cells], dtype=object)[keep]
    levels = sorted(set(text))
    chosen = variable.reference if isinstance(variable, Categorical) else None
    if chosen is None and variable.name in reference:
        chosen = str(reference[variable.name]).strip()
    base = levels[0] if chosen is None else chosen
    if base not in levels:
        raise DataValidationError(
            f"Reference level {base!r} is not a level of moderator {variable.name!r}: {', '.join(map(repr, levels))}."
        )
    return _Factor(text, (base, *(lev for lev in levels if lev != base)))


def _transform(variable: Transform, cells: dict, numeric: dict, keep: np.ndarray, labels) -> np.ndarray:
    """Values of ``log(x)`` or ``I(...)`` on the rows analysed; an error names a row where they are not finite."""
    inputs = {c: numeric[c] if numeric[c] is not None else _as_float(cells[c], c, labels) for c in variable.columns}
    values = np.broadcast_to(evaluate(variable.expr, inputs), keep.shape).astype(float)
    bad = keep & ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        given = ", ".join(f"{c} = {float(x[i]):g}" for c, x in inputs.items())
        raise DataValidationError(
            f"{describe_row(i, labels)}: moderator {variable.label!r} is {float(values[i]):g}"
            f"{f' ({given})' if given else ''}, not a finite number (log() and sqrt() need positive values;"
            " a division by zero or an overflow has no value)."
        )
    return values[keep]


def _full_coding(formula: Formula, categorical: set, values: dict) -> set:
    """(term index, variable) pairs coded by all their levels instead of contrasts.

    R's rule (``TermCode`` in ``model.c``): a categorical variable in a term
    gets contrasts when the rest of the term is empty or contained in an
    earlier term, and all levels otherwise; without an intercept, the first
    categorical variable (with two or more levels) of the first term holding
    one gets all levels.
    """
    full = set()
    for j, term in enumerate(formula.terms):
        for v in term:
            rest = set(term) - {v}
            if v in categorical and rest and not any(rest <= set(t) for t in formula.terms[:j]):
                full.add((j, v))
    if not formula.intercept:
        first = next(
            ((j, v) for j, term in enumerate(formula.terms) for v in formula.variables
             if v in term and v in categorical and len(values[v].levels) > 1),
            None,
        )
        if first is not None:
            full.add(first)
    return full


def _coding(variable, value, full: bool) -> list[tuple[str, np.ndarray]]:
    """Named columns of one variable: itself, or its level indicators (``g[level]``)."""
    if not isinstance(value, _Factor):
        return [(variable.label, value)]
    if not full and len(value.levels) < 2:
        raise DataValidationError(
            f"Moderator {variable.label!r} has a single level ({value.levels[0]!r}) in the studies analysed:"
            " there is nothing to compare it with; remove it."
        )
    shown = value.levels if full else value.levels[1:]
    return [(f"{variable.label}[{level}]", (value.labels == level).astype(float)) for level in shown]


def check_rank(X: np.ndarray, names: Sequence[str]) -> None:
    """Raise when a column of ``X`` is a linear combination of the previous ones."""
    rank = 0
    for j in range(X.shape[1]):
        new_rank = np.linalg.matrix_rank(X[:, : j + 1])
        if new_rank == rank:
            others = "the intercept" if j == 1 and names[0] == "intrcpt" else "the other moderators"
            raise DataValidationError(
                f"Moderator {names[j]!r} is collinear with {others} in the studies analysed"
                " (constant, or a combination of other columns): remove it."
            )
        rank = new_rank
