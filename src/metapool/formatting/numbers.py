"""Number formatting shared by all renderers (computation never rounds)."""

from __future__ import annotations

import math


#: Magnitude from which :func:`fmt` writes scientific notation (fixed point would print hundreds of digits).
FIXED_LIMIT = 1e15


def fmt(x, digits: int = 4) -> str:
    """Fixed-point text of ``x`` (scientific from :data:`FIXED_LIMIT` on); "NA" for missing values."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "NA"
    if math.isfinite(x) and abs(x) >= FIXED_LIMIT:
        return f"{x:.{digits}e}"
    return f"{x:.{digits}f}"


def fmt_p(p, digits: int = 4) -> str:
    """p-value text as metafor prints it (``<.0001`` below the shown precision).

    For the metafor-style summaries only (``summary()``, ``metapool pool``),
    which a statistician compares with metafor's output; every text for a
    reader (report, card, figures) uses :func:`fmt_p_clinical`.
    """
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "NA"
    if p < 10**-digits:
        return "<." + "0" * (digits - 1) + "1"
    return f"{p:.{digits}f}"


def fmt_pct(x, digits: int = 2) -> str:
    return "NA" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}%"


def stars(p) -> str:
    """Significance codes as in R's printCoefmat."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    for cut, mark in ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")):
        if p < cut:
            return mark
    return ""


#: Smallest p-value written as a number; below it the text is ``p < 0.0001``.
P_FLOOR = 0.0001


def fmt_p_clinical(p) -> str:
    """p-value for a reader, one spelling everywhere (report, card, figures, command-line tables).

    Two decimals, three below 0.01, four below 0.001, ``p < 0.0001`` below
    :data:`P_FLOOR`; a p-value below 0.05 gets the decimals it needs never
    to read as 0.05.

    Examples
    --------
    >>> [fmt_p_clinical(p) for p in (0.00001, 0.00034, 0.0042, 0.0496, 0.21)]
    ['p < 0.0001', 'p = 0.0003', 'p = 0.004', 'p = 0.0496', 'p = 0.21']
    """
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "p = NA"
    if p < P_FLOOR:
        return "p < 0.0001"
    decimals = 4 if p < 0.001 else 3 if p < 0.01 else 2
    while p < 0.05 <= round(p, decimals) and decimals < 8:
        decimals += 1
    return f"p = {p:.{decimals}f}"


# -- values shown to a reader: precision follows the value ---------------------------------

#: Significant digits of a small value (below 10% for proportions, below 0.01 otherwise).
SIGNIFICANT = 2
#: Values differing by more than this fraction (relative) are never printed alike.
DISTINCT = 0.01
#: The most decimals a value is given (enough for any double that differs by 1%).
MAX_DECIMALS = 20
#: The minus sign (U+2212), so that a negative number is never read as a range's dash.
MINUS = "\u2212"


def _missing(x) -> bool:
    return x is None or not math.isfinite(x)


def _text(x: float, decimals: int) -> str:
    """``x`` with ``decimals`` decimals, thousands separators and a true minus sign."""
    digits = f"{abs(x):,.{decimals}f}"
    return MINUS + digits if x < 0 and digits.strip("0.,") else digits


def _significant_decimals(x: float) -> int:
    """Decimals that show ``x`` with :data:`SIGNIFICANT` significant digits (0 for large values)."""
    if x == 0 or _missing(x):
        return 0
    return max(0, SIGNIFICANT - 1 - math.floor(math.log10(abs(x))))


def _reads_zero(x: float, decimals: int) -> bool:
    return x != 0 and not _text(x, decimals).strip("0.,")


def _ambiguous(values: list, decimals: int, ceiling: float | None) -> bool:
    """Whether two values that differ print alike, or a value below ``ceiling`` prints as it."""
    texts = [_text(v, decimals) for v in values]
    for i, a in enumerate(values):
        if ceiling is not None and a != ceiling and texts[i] == _text(ceiling, decimals):
            return True
        for j in range(i):
            b = values[j]
            if texts[i] == texts[j] and abs(a - b) > DISTINCT * max(abs(a), abs(b)):
                return True
    return False


def _shown(values, start: int, ceiling: float | None = None) -> tuple[str, ...]:
    """Texts of ``values`` with shared decimals: at least ``start``, more while the text misleads.

    Decimals grow until values that differ by more than :data:`DISTINCT`
    (relative) read differently and no value below ``ceiling`` reads as the
    ceiling; a nonzero value that would still read as zero gets its own
    significant digits.
    """
    finite = [float(v) for v in values if not _missing(v)]
    decimals = start
    while decimals < MAX_DECIMALS and _ambiguous(finite, decimals, ceiling):
        decimals += 1

    def text(v: float) -> str:
        own = max(decimals, _significant_decimals(v)) if _reads_zero(v, decimals) else decimals
        return _text(v, own)

    return tuple("NA" if _missing(v) else text(v) for v in values)


def fmt_percents(values) -> tuple[str, ...]:
    """Proportions (fractions) as percentages for a reader, without the ``%`` sign.

    The first value is the estimate: below 10% it gets :data:`SIGNIFICANT`
    significant digits, otherwise none after the point; the other values (its
    limits) share its decimals. More decimals are shown where the text would
    mislead: a nonzero value never reads as 0, a value below 1 never as 100,
    and values differing by more than 1% (relative) never read alike.

    Examples
    --------
    >>> fmt_percents((0.0019, 0.0009, 0.0040))
    ('0.19', '0.09', '0.40')
    >>> fmt_percents((0.042, 0.021, 0.080))
    ('4.2', '2.1', '8.0')
    >>> fmt_percents((0.50, 0.45, 0.55))
    ('50', '45', '55')
    """
    pct = [math.nan if _missing(v) else 100.0 * float(v) for v in values]
    start = _significant_decimals(pct[0]) if pct and not _missing(pct[0]) and abs(pct[0]) < 10 else 0
    return _shown(pct, start, ceiling=100.0)


def column_decimals(values, minimum: int, cap: int = 4) -> int:
    """Decimals of a column printed with one precision (the numbers of a forest plot).

    At least ``minimum``, and enough for :data:`SIGNIFICANT` significant digits
    of the column's smallest nonzero value (at most ``cap``), so that a rare
    event rate of 0.17% is not printed as 0.2 beside studies printed as 0.0.

    Examples
    --------
    >>> column_decimals((50.0, 45.2), 1), column_decimals((0.17, 0.11, 0.0), 1), column_decimals((1e-9,), 2)
    (1, 2, 4)
    """
    small = [_significant_decimals(float(v)) for v in values if not _missing(v) and v != 0]
    return min(cap, max(minimum, *small)) if small else minimum


def fmt_percent(value) -> str:
    """One percentage given on the 0-100 scale (e.g. I²), as :func:`fmt_percents` shows it: ``"0.40%"``."""
    return "NA" if _missing(value) else fmt_percents((value / 100.0,))[0] + "%"


def fmt_values(values) -> tuple[str, ...]:
    """Ratios, differences and other estimates for a reader: 2 decimals, more where needed.

    The first value is the estimate: below 0.01 in size it gets
    :data:`SIGNIFICANT` significant digits, and the other values (its limits)
    share its decimals. Large values get thousands separators, negative ones
    a true minus sign; a nonzero value never reads as 0 and values differing
    by more than 1% (relative) never read alike.

    Examples
    --------
    >>> fmt_values((0.0034, 0.0012, 0.0095))
    ('0.0034', '0.0012', '0.0095')
    >>> fmt_values((-0.34, -0.61, -0.05))
    ('−0.34', '−0.61', '−0.05')
    >>> fmt_values((12345.678,))
    ('12,345.68',)
    """
    x = [math.nan if _missing(v) else float(v) for v in values]
    return _shown(x, max(2, _significant_decimals(x[0])) if x else 2)


def fmt_range(lower: str, upper: str) -> str:
    """Two formatted limits as a range: ``"0.09–0.40"``, or ``"−0.61 to −0.05"`` when one is negative."""
    return f"{lower} to {upper}" if MINUS in lower + upper else f"{lower}\u2013{upper}"


def fmt_level(level: float) -> str:
    """A confidence level given as a fraction, as text: ``0.9`` -> ``"90%"``."""
    return f"{100 * level:g}%"


def fmt_interval(estimate, lower, upper, *, percent: bool = False, unit: str = "", label: str = "") -> str:
    """An estimate with its interval as a reader sees it: ``"0.19% (95% CI 0.09–0.40%)"``.

    Parameters
    ----------
    estimate, lower, upper
        On the natural scale; proportions as fractions (``percent=True``).
    percent
        Show proportions as percentages (:func:`fmt_percents`), otherwise
        :func:`fmt_values`.
    unit
        Text after the estimate (e.g. ``" months"``).
    label
        Text before the limits (e.g. ``"95% CI"``).
    """
    est, lo, hi = (fmt_percents if percent else fmt_values)((estimate, lower, upper))
    sign = "%" if percent else ""
    return f"{est}{sign}{unit} ({label + ' ' if label else ''}{fmt_range(lo, hi)}{sign})"
