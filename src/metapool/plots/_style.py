"""Shared plotting helpers: lazy matplotlib, layouts, text measurement, number text."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

__all__ = ["Layout", "LAYOUTS", "SVG_FONT_STACK", "pyplot", "text_width_in", "fmt_value", "fmt_interval"]


@dataclass(frozen=True)
class Layout:
    """Look of a forest plot: fonts, colours, where the numbers go, rules."""

    name: str
    font: str
    fontsize: float
    study_color: str
    line_color: str
    diamond_color: str
    pi_color: str
    text_left: bool  # estimate and weight columns left of the plot (RevMan) or right (JAMA)
    rules: bool  # horizontal rules under the header and above the totals
    ci_header: str  # title of the estimate column, a template with {effect} and {level}


LAYOUTS = {
    "revman": Layout(
        name="revman", font="DejaVu Sans", fontsize=8.0, study_color="#1f4e9e", line_color="black",
        diamond_color="black", pi_color="#c0392b", text_left=True, rules=True,
        ci_header="{effect}\n{level}% CI",
    ),
    "jama": Layout(
        name="jama", font="DejaVu Sans", fontsize=8.0, study_color="#2b3f6c", line_color="#2b3f6c",
        diamond_color="#b5442b", pi_color="#7f7f7f", text_left=False, rules=False,
        ci_header="{effect}\n({level}% CI)",
    ),
}  # fmt: skip


#: CSS font stacks written into SVG text for a font the figures measure with: the font itself, then
#: fonts of similar widths (Bitstream Vera, DejaVu's origin; Verdana), so that a browser without
#: it keeps the text columns of a forest plot apart.
SVG_FONT_STACK = {"DejaVu Sans": "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, Geneva, sans-serif"}


def pyplot():
    """matplotlib.pyplot, imported on first use (never at ``import metapool``)."""
    import matplotlib.pyplot as plt

    return plt


@functools.lru_cache(maxsize=8192)
def text_width_in(text: str, fontsize: float, font: str, bold: bool = False) -> float:
    """Rendered width of ``text`` in inches (multi-line: the widest line).

    Remembered (a report's forest plots measure the same study labels and
    numbers again and again; laying out a text costs about a millisecond).
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(family=font, weight="bold" if bold else "normal", size=fontsize)
    widest = 0.0
    for line in str(text).split("\n"):
        if line.strip():
            widest = max(widest, text_to_path.get_text_width_height_descent(line, prop, ismath=False)[0])
    return widest / 72.0


def fmt_value(x: float, percent: bool, digits: int) -> str:
    """A number as shown in the table; +inf (an upper limit not reached) is "NR"."""
    if x == math.inf:
        return "NR"
    if x is None or not math.isfinite(x):
        return "NA"
    return f"{x * 100:.{digits}f}" if percent else f"{x:.{digits}f}"


def fmt_interval(est: float, lo: float, hi: float, percent: bool, digits: int, style: str = "revman") -> str:
    """``"0.49 [0.34, 0.70]"`` (RevMan) or ``"0.49 (0.34-0.70)"`` (JAMA)."""
    e, a, b = (fmt_value(v, percent, digits) for v in (est, lo, hi))
    if style == "jama":
        sep = " to " if a.startswith("-") or b.startswith("-") else "\u2013"
        return f"{e} ({a}{sep}{b})"
    return f"{e} [{a}, {b}]"
