"""Moderator formulas: metapool's own grammar, parsed and never run as code.

A moderator formula is a small subset of R's model notation (Wilkinson and
Rogers 1973; Chambers and Hastie 1992). :func:`parse_formula` tokenizes the
text and parses it by recursive descent into a frozen :class:`Formula`; the
arithmetic of ``I(...)`` and of transforms stays a tree of nodes
(:mod:`metapool.models.design.arithmetic`) that its ``evaluate`` walks with
numpy. No user text ever reaches ``eval``, ``exec``, ``compile`` or a library
that evaluates Python; anything outside the grammar is a
:class:`~metapool.exceptions.DataValidationError` naming the offending text and
its position (1-based character). What the grammar allows is tabulated in
:mod:`metapool.models.design.matrix`. Formally::

    formula     = ["~"] summand {("+" | "-") summand}
    summand     = "1" | "0" | product          (1 and 0 only here: the intercept)
    product     = interaction {"*" interaction}                 a*b = a + b + a:b
    interaction = atom {":" atom}
    atom        = "(" product {"+" product} ")" | variable
    variable    = NAME | `any name` | ("C" | "factor") "(" column ["," [("ref" | "reference") "="] STRING] ")"
                | "I" "(" arith ")" | FUNCTION "(" arith ")"
    arith       = term {("+" | "-") term}
    term        = unary {("*" | "/") unary}
    unary       = ("-" | "+") unary | power
    power       = primary [("^" | "**") unary]                  right-associative, as in R
    primary     = NUMBER | column | FUNCTION "(" arith ")" | "(" arith ")"
    FUNCTION    = "log" | "log2" | "log10" | "exp" | "sqrt" | "abs"

``NAME`` is ASCII letters, digits and ``_`` (not starting with a digit, no
``__``); any other column name goes in backticks. ``- term`` removes a term
written before it. Terms are ordered as R orders them: by degree (main effects
before interactions), then by first appearance; the variables of an
interaction by their first appearance in the formula.
"""

from __future__ import annotations

import math
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass

from ...exceptions import DataValidationError
from .arithmetic import (
    FUNCTIONS,
    PLAIN_NAME,
    Binary,
    Call,
    Expr,
    Group,
    Name,
    Negative,
    Number,
    column_names,
    quote_name,
    render,
)

__all__ = ["ALLOWED", "Categorical", "Column", "Formula", "Transform", "parse_formula"]

_CATEGORICAL = ("C", "factor")
_REFERENCE_KEYS = ("ref", "reference")
#: Longest formula accepted (characters), deepest nesting of parentheses and
#: operators, most operations in the arithmetic, most terms after expansion.
MAX_LENGTH = 2000
MAX_DEPTH = 40
MAX_OPERATIONS = 100
MAX_TERMS = 100

#: One line appended to every formula error.
ALLOWED = (
    "A formula may contain column names (other names in backticks: `prior HMA %`), + to add terms,"
    " : and * for interactions, - 1 or + 0 to remove the intercept, parentheses,"
    ' C(column) or factor(column) with an optional reference level C(column, ref = "level"),'
    f" the functions {', '.join(FUNCTIONS)} of a column, and I(...) with + - * / ^ on columns and numbers."
)

_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_OPS = ("**", "~", "+", "-", "*", "/", "^", ":", "(", ")", ",", "=")
_FORBIDDEN = {
    "{": "braces are not allowed (a formula is not Python code)",
    "}": "braces are not allowed (a formula is not Python code)",
    "[": "subscripts are not allowed",
    "]": "subscripts are not allowed",
    ".": "attribute access is not allowed; write a column name that contains '.' in backticks: `a.b`",
}


# ------------------------------------------------------------------------ variables --


@dataclass(frozen=True)
class _Named:
    """A variable read from one column.

    Every variable has a ``label`` (its design column name, before any
    ``[level]``), the data ``columns`` it reads and its ``text`` in a
    canonical formula.
    """

    name: str

    @property
    def label(self) -> str:
        return self.name

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.name,)


@dataclass(frozen=True)
class Column(_Named):
    """A column, numeric or categorical as its cells are (text is categorical)."""

    @property
    def text(self) -> str:
        return quote_name(self.name)


@dataclass(frozen=True)
class Categorical(_Named):
    """A column read as categories (``C(g)``, ``factor(g)``, ``g:cat``), with its reference level if given."""

    reference: str | None = None

    @property
    def text(self) -> str:
        if self.reference is None:
            return f"C({quote_name(self.name)})"
        quote = "'" if '"' in self.reference else '"'
        return f"C({quote_name(self.name)}, ref = {quote}{self.reference}{quote})"


@dataclass(frozen=True)
class Transform:
    """A numeric variable computed from columns: ``I(expr)`` (``wrapped``) or a bare ``log(x)``.

    Like every variable it has a ``label`` (its design column name), the data
    ``columns`` it reads and its ``text`` in a canonical formula.
    """

    expr: Expr
    wrapped: bool

    @property
    def label(self) -> str:
        inner = render(self.expr)
        return f"I({inner})" if self.wrapped else inner

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(column_names(self.expr)))

    @property
    def text(self) -> str:
        return self.label


Variable = Column | Categorical | Transform


@dataclass(frozen=True)
class Formula:
    """A parsed moderator formula.

    Attributes
    ----------
    terms
        The model's terms in R's order (by degree, then first appearance);
        each term is a tuple of variables in their order of first appearance.
    intercept
        Whether the model has an intercept.
    variables
        Every variable of the terms, in order of first appearance.
    """

    terms: tuple[tuple[Variable, ...], ...]
    intercept: bool
    variables: tuple[Variable, ...]

    @classmethod
    def main_effects(cls, variables, intercept: bool) -> Formula:
        """A model of one term per variable (repeats dropped), in the order given."""
        unique = tuple(dict.fromkeys(variables))
        return cls(tuple((v,) for v in unique), intercept, unique)

    @property
    def columns(self) -> tuple[str, ...]:
        """The data columns the formula reads, in order of first appearance."""
        return tuple(dict.fromkeys(c for v in self.variables for c in v.columns))

    @property
    def text(self) -> str:
        """The formula in canonical form, e.g. ``~ x + C(g) + x:C(g) - 1``."""
        body = " + ".join(":".join(v.text for v in term) for term in self.terms)
        return f"~ {body}" + ("" if self.intercept else " - 1")


# ------------------------------------------------------------------------ tokenizer --


@dataclass(frozen=True)
class _Token:
    kind: str  # "name", "quoted" (backticks), "string", "number", "op", "end"
    text: str
    pos: int  # 0-based offset in the formula


def _fail(formula: str, problem: str) -> DataValidationError:
    shown = formula if len(formula) <= 80 else formula[:77] + "..."
    return DataValidationError(f"Moderator formula {shown!r}: {problem}. {ALLOWED}")


def _at(token_text: str, pos: int) -> str:
    return f"{token_text!r} at character {pos + 1}"


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        c = text[pos]
        if c in " \t\r\n":
            pos += 1
        elif c == "`" or c in "\"'":
            end = text.find(c, pos + 1)
            if end < 0:
                raise _fail(text, f"{_at(c, pos)} is not closed")
            inner = text[pos + 1 : end]
            bad = next((ch for ch in inner if unicodedata.category(ch)[0] in "CZ" and ch != " "), None)
            if bad is not None:
                raise _fail(text, f"control or separator character U+{ord(bad):04X} inside {_at(c, pos)}")
            if c == "`" and not inner.strip():
                raise _fail(text, f"empty column name {_at('``', pos)}")
            tokens.append(_Token("quoted" if c == "`" else "string", inner, pos))
            pos = end + 1
        elif (m := PLAIN_NAME.match(text, pos)) is not None:
            if m.end() < len(text) and text[m.end()] == ".":
                raise _fail(text, f"{_at('.', m.end())}: {_FORBIDDEN['.']}")
            tokens.append(_Token("name", m.group(), pos))
            pos = m.end()
        elif (m := _NUMBER.match(text, pos)) is not None:
            tokens.append(_Token("number", m.group(), pos))
            pos = m.end()
        elif (op := next((o for o in _OPS if text.startswith(o, pos)), None)) is not None:
            tokens.append(_Token("op", op, pos))
            pos += len(op)
        elif not c.isascii():
            raise _fail(text, f"non-ASCII character {_at(c, pos)} (U+{ord(c):04X}) is allowed only inside backticks")
        else:
            raise _fail(text, f"{_at(c, pos)}: {_FORBIDDEN.get(c, 'this character is not allowed')}")
    tokens.append(_Token("end", "", len(text)))
    return tokens


# --------------------------------------------------------------------------- parser --


def parse_formula(text: str) -> Formula:
    """Parse a moderator formula (see the module docstring for the grammar).

    Parameters
    ----------
    text
        The formula, e.g. ``"~ ablat + C(alloc, ref = 'random') + I(year - 1950)"``;
        the leading ``~`` is optional.

    Returns
    -------
    Formula

    Raises
    ------
    DataValidationError
        Anything outside the grammar, naming the offending text, its position
        and what a formula may contain. Columns are checked against the data
        later, when the design matrix is built.
    """
    if not isinstance(text, str):
        raise DataValidationError(f"A moderator formula must be text, not {type(text).__name__}.")
    if len(text) > MAX_LENGTH:
        raise _fail(text, f"{len(text)} characters is too long (at most {MAX_LENGTH})")
    return _Parser(text).formula()


def _cross(left: list[frozenset], right: list[frozenset]) -> list[frozenset]:
    return list(dict.fromkeys(a | b for a in left for b in right))


class _Parser:
    """Recursive descent over the tokens; one instance per formula."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.operations = 0
        self.order: dict[Variable, int] = {}

    # -- token helpers
    def peek(self, offset: int = 0) -> _Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def take(self) -> _Token:
        tok = self.peek()
        self.i += 1
        return tok

    def is_op(self, *ops: str, offset: int = 0) -> bool:
        tok = self.peek(offset)
        return tok.kind == "op" and tok.text in ops

    def fail(self, tok: _Token, problem: str) -> DataValidationError:
        what = "the end of the formula" if tok.kind == "end" else _at(tok.text, tok.pos)
        return _fail(self.text, f"{what}: {problem}")

    def unexpected(self, tok: _Token) -> DataValidationError:
        reasons = {
            "^": "powers of terms are not supported; write I(x^2) for a squared column",
            "**": "powers of terms are not supported; write I(x^2) for a squared column",
            "/": "nesting with '/' is not supported; write I(a/b) to divide columns",
            ",": 'a comma is allowed only in C(column, ref = "level")',
            "=": 'an equals sign is allowed only in C(column, ref = "level")',
            ")": "unbalanced parenthesis",
            "(": "a parenthesis cannot follow here (functions are written name(...))",
            "~": "'~' is allowed only at the start",
        }
        if tok.kind == "op" and tok.text in reasons:
            return self.fail(tok, reasons[tok.text])
        if tok.kind == "end":
            return self.fail(tok, "the formula ends too early (an operator or '(' without what follows)")
        if tok.kind == "string":
            return self.fail(tok, 'text in quotes is allowed only as the reference level of C(column, ref = "level")')
        if tok.kind == "number":
            return self.fail(tok, "numbers are allowed only inside I(...), and 1 or 0 only for the intercept")
        return self.fail(tok, "not expected here (join terms with +, : or *)")

    def expect_close(self, opening: _Token) -> None:
        tok = self.take()
        if not (tok.kind == "op" and tok.text == ")"):
            if tok.kind == "end":
                raise self.fail(opening, "this parenthesis is not closed")
            raise self.unexpected(tok)

    @contextmanager
    def nested(self, tok: _Token):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(tok, f"the formula is nested too deeply (at most {MAX_DEPTH} levels)")
        yield
        self.depth -= 1

    def operation(self, tok: _Token, node: Expr) -> Expr:
        """Count an arithmetic node (the tree's depth, hence any walk over it, stays bounded)."""
        self.operations += 1
        if self.operations > MAX_OPERATIONS:
            raise self.fail(tok, f"the arithmetic has too many operations (at most {MAX_OPERATIONS})")
        return node

    def name(self, tok: _Token) -> str:
        if "__" in tok.text:
            raise self.fail(tok, "names containing '__' are not allowed")
        return tok.text

    def note(self, variable: Variable) -> Variable:
        self.order.setdefault(variable, len(self.order))
        return variable

    # -- model terms
    def formula(self) -> Formula:
        if self.is_op("~"):
            self.take()
        if self.peek().kind == "end":
            raise self.fail(self.peek(), "the formula is empty; name at least one moderator")
        terms, intercept = self.summands()
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())
        if not terms:
            raise _fail(self.text, "the formula names no moderator")
        ordered = sorted(terms, key=len)  # stable: by degree, then by appearance
        return Formula(
            terms=tuple(tuple(sorted(t, key=self.order.__getitem__)) for t in ordered),
            intercept=intercept,
            variables=tuple(v for v in self.order if any(v in t for t in terms)),
        )

    def summands(self) -> tuple[list[frozenset], bool]:
        terms: list[frozenset] = []
        intercept = True
        sign = self.take().text if self.is_op("+", "-") else "+"
        while True:
            tok = self.peek()
            if tok.kind == "number" and (self.peek(1).kind == "end" or self.is_op("+", "-", offset=1)):
                intercept = self.intercept(self.take(), sign)
            elif sign == "-":
                for term in self.product():
                    if term not in terms:
                        raise self.fail(tok, "this term is not in the formula before it, so it cannot be removed")
                    terms.remove(term)
            else:
                terms.extend(t for t in self.product() if t not in terms)
            if not self.is_op("+", "-"):
                return terms, intercept
            sign = self.take().text

    def intercept(self, tok: _Token, sign: str) -> bool:
        if tok.text == "1":
            return sign == "+"
        if tok.text == "0" and sign == "+":
            return False
        if tok.text == "0":
            raise self.fail(tok, "'- 0' is ambiguous; write '- 1' or '+ 0' to remove the intercept")
        raise self.unexpected(tok)

    def product(self) -> list[frozenset]:
        left = self.interaction()
        while self.is_op("*"):
            tok = self.take()
            right = self.interaction()
            left = list(dict.fromkeys([*left, *right, *_cross(left, right)]))
            self.check_size(tok, left)
        return left

    def interaction(self) -> list[frozenset]:
        left = self.atom()
        while self.is_op(":"):
            tok = self.take()
            left = _cross(left, self.atom())
            self.check_size(tok, left)
        return left

    def check_size(self, tok: _Token, terms: list) -> None:
        if len(terms) > MAX_TERMS:
            raise self.fail(tok, f"this expands to {len(terms)} terms (at most {MAX_TERMS})")

    def atom(self) -> list[frozenset]:
        tok = self.peek()
        if not self.is_op("("):
            return [frozenset({self.note(self.variable())})]
        self.take()
        with self.nested(tok):
            terms = self.product()
            while self.is_op("+"):
                self.take()
                terms = list(dict.fromkeys([*terms, *self.product()]))
            self.expect_close(tok)
        return terms

    def variable(self) -> Variable:
        tok = self.take()
        if tok.kind == "quoted":
            return Column(tok.text)
        if tok.kind != "name":
            raise self.unexpected(tok)
        name = self.name(tok)
        if not self.is_op("("):
            return Column(name)
        if name in _CATEGORICAL:
            return self.categorical(tok)
        if name == "I":
            return Transform(self.argument(tok), wrapped=True)
        return Transform(Call(self.function(tok), self.argument(tok)), wrapped=False)

    def function(self, tok: _Token) -> str:
        if tok.text in FUNCTIONS:
            return tok.text
        if tok.text in (*_CATEGORICAL, "I"):
            raise self.fail(tok, f"{tok.text}() cannot be used inside arithmetic")
        raise self.fail(tok, f"unknown function; allowed: {', '.join([*_CATEGORICAL, 'I', *FUNCTIONS])}")

    def categorical(self, call: _Token) -> Categorical:
        opening = self.take()
        with self.nested(opening):
            arg = self.take()
            if arg.kind == "quoted":
                column = arg.text
            elif arg.kind == "name" and not self.is_op("("):
                column = self.name(arg)
            else:
                raise self.fail(arg, f"{call.text}() takes a column name")
            reference = None
            if self.is_op(","):
                self.take()
                if self.peek().kind == "name" and self.is_op("=", offset=1):
                    key = self.take()
                    if key.text not in _REFERENCE_KEYS:
                        raise self.fail(
                            key, f'unknown argument of {call.text}(); write {call.text}(column, ref = "level")'
                        )
                    self.take()
                value = self.take()
                if value.kind != "string":
                    raise self.fail(value, f'the reference level is text in quotes: {call.text}(column, ref = "level")')
                reference = value.text
            self.expect_close(opening)
        return Categorical(column, reference)

    def argument(self, call: _Token) -> Expr:
        opening = self.take()
        with self.nested(opening):
            expr = self.arith()
            self.expect_close(opening)
        return expr

    # -- arithmetic (inside I() and functions)
    def arith(self) -> Expr:
        return self.chain(self.arith_term, ("+", "-"))

    def arith_term(self) -> Expr:
        return self.chain(self.unary, ("*", "/"))

    def chain(self, operand, ops: tuple[str, ...]) -> Expr:
        """Left-associative ``operand (op operand)*``."""
        left = operand()
        while self.is_op(*ops):
            tok = self.take()
            left = self.operation(tok, Binary(tok.text, left, operand()))
        return left

    def unary(self) -> Expr:
        if not self.is_op("-", "+"):
            return self.power()
        tok = self.take()
        with self.nested(tok):
            operand = self.unary()
        return self.operation(tok, Negative(operand)) if tok.text == "-" else operand

    def power(self) -> Expr:
        base = self.primary()
        if not self.is_op("^", "**"):
            return base
        tok = self.take()
        with self.nested(tok):
            exponent = self.unary()
        return self.operation(tok, Binary("^", base, exponent))

    def primary(self) -> Expr:
        tok = self.take()
        if tok.kind == "number":
            value = float(tok.text)
            if not math.isfinite(value):
                raise self.fail(tok, "this number is too large")
            return Number(value, tok.text)
        if tok.kind == "quoted":
            return Name(tok.text)
        if tok.kind == "name":
            name = self.name(tok)
            if self.is_op("("):
                return self.operation(tok, Call(self.function(tok), self.argument(tok)))
            return Name(name)
        if tok.kind == "op" and tok.text == "(":
            with self.nested(tok):
                inner = self.arith()
                self.expect_close(tok)
            return self.operation(tok, Group(inner))
        raise self.unexpected(tok)
