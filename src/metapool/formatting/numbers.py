"""Number formatting shared by all renderers (computation never rounds)."""

from __future__ import annotations

import math


def fmt(x, digits: int = 4) -> str:
    """Fixed-point text of ``x``; "NA" for missing values."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "NA"
    return f"{x:.{digits}f}"


def fmt_p(p, digits: int = 4) -> str:
    """p-value text as metafor prints it (``<.0001`` below the shown precision)."""
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


def fmt_p_clinical(p) -> str:
    """p-value as clinical journals print it: ``p < 0.001``, ``p = 0.03``, ``p = 0.21``."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "p = NA"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"
