"""Declarative checks of options at the public boundary (one message format)."""

from __future__ import annotations

from collections.abc import Iterable

from .exceptions import OptionError


def check_choice(owner: str, name: str, value: object, choices: Iterable[str]) -> str:
    """Return the canonical spelling of ``value`` or raise :class:`OptionError`.

    Matching is case-insensitive; the canonical spelling is the one in ``choices``.
    """
    if isinstance(value, str) and value in choices:  # the canonical spelling itself
        return value
    choices = list(choices)
    if isinstance(value, str):
        for c in choices:
            if c.lower() == value.lower():
                return c
    shown = ", ".join(repr(c) for c in choices)
    raise OptionError(
        f"The '{name}' parameter of {owner} must be one of {{{shown}}}. Got {value!r}."
    )


def check_level(owner: str, level: object) -> float:
    """Return the confidence level as a fraction in (0, 1).

    As in metafor, a value above 1 is read as a percentage (95 means 0.95).
    """
    try:
        lev = float(level)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        lev = float("nan")
    if lev > 1:
        lev = lev / 100.0
    if not 0.0 < lev < 1.0:
        raise OptionError(
            f"The 'level' parameter of {owner} must be in (0, 1) or (1, 100) as a "
            f"percentage. Got {level!r}."
        )
    return lev


def check_nonnegative(owner: str, name: str, value: object) -> float:
    """Return ``value`` as a finite float >= 0 or raise :class:`OptionError`."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        x = float("nan")
    if not (x >= 0 and x < float("inf")):
        raise OptionError(
            f"The '{name}' parameter of {owner} must be a finite number >= 0. Got {value!r}."
        )
    return x
