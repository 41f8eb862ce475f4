"""Design matrices for meta-regression from moderator columns or a formula.

Moderators are given as column names (``["ablat", "agent:cat"]``), as a
Wilkinson formula (``"~ ablat + C(agent)"``, parsed by :mod:`formulaic`), or
as a numeric array. Numeric columns are read with metapool's strict parser;
a column whose cells are not all numbers (or one marked ``:cat``) is
categorical, coded with treatment contrasts against a reference level (the
first level in sorted order unless ``reference`` names another). Rows with a
missing moderator are excluded with a reason, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..exceptions import DataValidationError
from ..io.parsing import MISSING_MARKERS, to_float_array
from ..io.tables import get_column

__all__ = ["Design", "build_design", "check_rank"]


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


def _column_frame(data, variables: Sequence[str], categorical: set, labels) -> tuple[dict, dict]:
    """Typed columns for formulaic (numbers as floats, categories as text) and missing rows."""
    columns: dict[str, object] = {}
    missing: dict[int, str] = {}
    for name in variables:
        col = get_column(data, name, "a moderator")
        raw = col.tolist() if hasattr(col, "tolist") else list(col)
        gone = [i for i, c in enumerate(raw) if _is_missing(c)]
        for i in gone:
            missing.setdefault(i, f"missing value of moderator {name!r}")
        present = [c for c in raw if not _is_missing(c)]
        numeric = name not in categorical
        if numeric:
            try:
                to_float_array(present, name)
            except DataValidationError:
                numeric = False
        if numeric:
            columns[name] = to_float_array(["" if _is_missing(c) else c for c in raw], name, labels)
        else:
            columns[name] = np.array(["" if _is_missing(c) else str(c).strip() for c in raw], dtype=object)
    return columns, missing


def build_design(mods, data, n_rows: int, labels, reference: Mapping | None = None, intercept: bool = True) -> Design:
    """Build the moderator design matrix for ``n_rows`` studies.

    Parameters
    ----------
    mods
        A formula string, a sequence of column names (``"name:cat"`` forces a
        categorical reading), or a numeric array/DataFrame of shape
        ``(n_rows, m)``.
    data
        The table holding the moderator columns (for names and formulas).
    n_rows
        Number of studies (rows of ``data``).
    labels
        Study labels for error messages.
    reference
        Reference level per categorical column, e.g. ``{"agent": "azacitidine"}``.
    intercept
        Add an intercept (ignored for formulas, where ``- 1`` removes it).
    """
    if isinstance(mods, str) or (isinstance(mods, Sequence) and mods and all(isinstance(m, str) for m in mods)):
        return _from_columns(mods, data, n_rows, labels, dict(reference or {}), intercept)
    X = np.asarray(getattr(mods, "to_numpy", lambda: mods)(), dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.shape[0] != n_rows:
        raise DataValidationError(f"The moderator matrix has {X.shape[0]} rows but the data have {n_rows}.")
    names = tuple(getattr(mods, "columns", [f"mod{j + 1}" for j in range(X.shape[1])]))
    missing = {int(i): "missing moderator value" for i in np.flatnonzero(np.isnan(X).any(axis=1))}
    if intercept:
        X = np.column_stack([np.ones(n_rows), X])
        names = ("intrcpt", *names)
    return Design(X, tuple(str(n) for n in names), intercept, missing, "")


def _from_columns(mods, data, n_rows, labels, reference, intercept) -> Design:
    import pandas as pd
    from formulaic import Formula, model_matrix

    if data is None:
        raise DataValidationError("Moderators given by name need the data table (data=...).")
    if isinstance(mods, str):
        formula = mods if "~" in mods else "~ " + mods
        variables = sorted(Formula(formula.split("~", 1)[1]).required_variables)
        categorical: set = set()
    else:
        specs = [m.split(":", 1) for m in mods]
        categorical = {s[0] for s in specs if len(s) == 2 and s[1].strip().lower() in ("cat", "factor")}
        variables = [s[0].strip() for s in specs]
        formula = None
    columns, missing = _column_frame(data, variables, categorical, labels)
    if formula is None:
        terms = []
        for name in variables:
            if columns[name].dtype == object:
                levels = sorted(set(columns[name]) - {""})
                base = reference.get(name, levels[0] if levels else "")
                if base not in levels:
                    raise DataValidationError(
                        f"Reference level {base!r} is not a level of moderator {name!r}: {', '.join(levels)}."
                    )
                terms.append(f"C({name}, contr.treatment(base={base!r}))")
            else:
                terms.append(name)
        formula = "~ " + " + ".join(terms) + ("" if intercept else " - 1")
    keep = np.array([i not in missing for i in range(n_rows)])
    frame = pd.DataFrame({k: np.asarray(v)[keep] for k, v in columns.items()})
    try:
        matrix = model_matrix(formula, frame, na_action="raise")
    except Exception as exc:  # formulaic raises several types for bad formulas
        raise DataValidationError(f"Cannot build the moderators from {formula!r}: {exc}") from None
    X = np.full((n_rows, matrix.shape[1]), np.nan)
    X[keep] = np.asarray(matrix, dtype=float)
    names = tuple("intrcpt" if c == "Intercept" else _short(c) for c in matrix.columns)
    return Design(X, names, "Intercept" in matrix.columns, missing, formula)


def _short(name: str) -> str:
    """``C(agent, contr.treatment(base='aza'))[T.dec]`` -> ``agent[dec]``."""
    if name.startswith("C(") and "[" in name:
        var = name[2:].split(",", 1)[0].split(")", 1)[0]
        level = name[name.rindex("[") + 1 : -1]
        return f"{var}[{level[2:] if level.startswith('T.') else level}]"
    return name


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
