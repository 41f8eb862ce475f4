"""Reading the small values a request carries (form fields, query parameters) without trusting them."""

from __future__ import annotations

import re

_WHOLE = re.compile(r"[0-9]{1,12}")


def whole_number(value: object) -> int | None:
    """``value`` as a whole number ≥ 0 when it is one written in ASCII digits (at most 12), else None.

    ``str.isdigit`` is not enough: it accepts "²" and other digits that ``int`` refuses, and an unbounded
    number overflows the database's integers.
    """
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        return int(value)
    return None
