"""Arithmetic of moderator formulas: a tree of numbers, columns and operators, walked with numpy.

The parser of :mod:`metapool.models.design.formula` builds these nodes for
``I(...)`` and the transforms (``log(x)``); :func:`evaluate` computes them on
numeric columns by looking operators and functions up in fixed tables of numpy
ufuncs. Nothing here runs text as code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

__all__ = ["FUNCTIONS", "Binary", "Call", "Expr", "Group", "Name", "Negative", "Number", "column_names",
           "evaluate", "quote_name", "render"]

#: The transforms a formula may apply, by the name written in the formula.
FUNCTIONS = MappingProxyType(
    {"log": np.log, "log2": np.log2, "log10": np.log10, "exp": np.exp, "sqrt": np.sqrt, "abs": np.abs}
)
_OPERATORS = MappingProxyType(
    {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "^": np.power}
)
#: A column name a formula may write without backticks.
PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Number:
    """A number literal, kept as written (for the column name)."""

    value: float
    text: str


@dataclass(frozen=True)
class Name:
    """A numeric column."""

    column: str


@dataclass(frozen=True)
class Call:
    """One of :data:`FUNCTIONS` applied to an expression."""

    function: str
    argument: Expr


@dataclass(frozen=True)
class Negative:
    """Unary minus."""

    operand: Expr


@dataclass(frozen=True)
class Binary:
    """``left op right`` with ``op`` one of ``+ - * / ^`` (``**`` is read as ``^``)."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Group:
    """Parentheses as written (they appear in the column name, as in R)."""

    inner: Expr


Expr = Number | Name | Call | Negative | Binary | Group


def evaluate(expr: Expr, columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Value of an arithmetic tree on numeric columns.

    Parameters
    ----------
    expr
        A tree from :func:`~metapool.models.design.formula.parse_formula`
        (inside a :class:`~metapool.models.design.formula.Transform`).
    columns
        Float array of every column the tree names.

    Returns
    -------
    numpy.ndarray
        The values (infinite or NaN where the arithmetic is undefined; numpy's
        floating-point warnings are silenced, the caller checks the result).
    """
    with np.errstate(all="ignore"):
        return _walk(expr, columns)


def _walk(expr: Expr, columns: Mapping[str, np.ndarray]) -> np.ndarray:
    if isinstance(expr, Number):
        return np.float64(expr.value)
    if isinstance(expr, Name):
        return columns[expr.column]
    if isinstance(expr, Call):
        return FUNCTIONS[expr.function](_walk(expr.argument, columns))
    if isinstance(expr, Negative):
        return np.negative(_walk(expr.operand, columns))
    if isinstance(expr, Group):
        return _walk(expr.inner, columns)
    return _OPERATORS[expr.op](_walk(expr.left, columns), _walk(expr.right, columns))


def render(expr: Expr) -> str:
    """The expression as text in R's deparse style: spaces around ``+ - *``, none around ``/`` and ``^``."""
    if isinstance(expr, Number):
        return expr.text
    if isinstance(expr, Name):
        return quote_name(expr.column)
    if isinstance(expr, Call):
        return f"{expr.function}({render(expr.argument)})"
    if isinstance(expr, Negative):
        return "-" + render(expr.operand)
    if isinstance(expr, Group):
        return f"({render(expr.inner)})"
    sep = expr.op if expr.op in "/^" else f" {expr.op} "
    return render(expr.left) + sep + render(expr.right)


def column_names(expr: Expr) -> tuple[str, ...]:
    """Columns named in a tree, in order of first appearance (with repeats)."""
    if isinstance(expr, Name):
        return (expr.column,)
    if isinstance(expr, Number):
        return ()
    if isinstance(expr, Call):
        return column_names(expr.argument)
    if isinstance(expr, Negative):
        return column_names(expr.operand)
    if isinstance(expr, Group):
        return column_names(expr.inner)
    return column_names(expr.left) + column_names(expr.right)


def quote_name(name: str) -> str:
    """A column name as a formula writes it: bare when it is a plain name, else in backticks."""
    return name if PLAIN_NAME.fullmatch(name) and "__" not in name else f"`{name}`"
