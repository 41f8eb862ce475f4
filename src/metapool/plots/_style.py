"""Shared plotting helpers: lazy matplotlib, layouts, text measurement, number text."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

__all__ = ["Layout", "LAYOUTS", "SVG_FONT_STACK", "pyplot", "font_height_metrics", "text_metrics", "text_width_in",
           "fmt_value", "fmt_interval"]


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


@functools.lru_cache(maxsize=16384)
def _text_metrics(text: str, prop, ismath) -> tuple:
    from matplotlib.textpath import text_to_path

    return text_to_path.get_text_width_height_descent(text, prop, ismath)


def text_metrics(text: str, prop, ismath=False) -> tuple:
    """Width, height and descent of one line of ``text`` in points, as matplotlib's SVG renderer measures it.

    Remembered for the process (a report's figures show the same study
    labels, numbers and tick labels again and again, and laying out a text
    in FreeType costs about half a millisecond); ``prop`` is a
    :class:`matplotlib.font_manager.FontProperties` (copied: it is mutable).
    """
    return _text_metrics(text, prop.copy(), ismath)


def font_height_metrics(prop, dpi: float) -> tuple:
    """Ascent, descent and line gap in pixels at ``dpi`` of the font of ``prop``, from its OS/2 or hhea table.

    The vertical metrics matplotlib's text layout reads from the font for
    every text it lays out (``Text._get_layout``), remembered for the process.
    """
    return _font_height_metrics(prop.copy(), dpi)


@functools.lru_cache(maxsize=256)
def _font_height_metrics(prop, dpi: float) -> tuple:
    from matplotlib.font_manager import fontManager, get_font

    font = get_font(fontManager._find_fonts_by_props(prop))
    scale = prop.get_size_in_points() * dpi / 72 / font.get_sfnt_table("head")["unitsPerEm"]
    for table, gap, ascent, descent in (("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                                        ("hhea", "lineGap", "ascent", "descent")):
        values = font.get_sfnt_table(table)
        if values is not None:
            return values[ascent] * scale, -values[descent] * scale, values[gap] * scale
    return None, None, None


@functools.lru_cache(maxsize=8192)
def text_width_in(text: str, fontsize: float, font: str, bold: bool = False) -> float:
    """Rendered width of ``text`` in inches (multi-line: the widest line), measured by :func:`text_metrics`."""
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(family=font, weight="bold" if bold else "normal", size=fontsize)
    widest = 0.0
    for line in str(text).split("\n"):
        if line.strip():
            widest = max(widest, text_metrics(line, prop)[0])
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
