"""The PRISMA 2020 flow diagram (new reviews, databases and registers) of a review's counts.

Drawn from :class:`metapool.review.prisma.PrismaCounts` (checked before it
is drawn) in the layout and wording of the PRISMA 2020 statement's figure 1:
the header "Identification of studies via databases and registers", the
stages on the left (Identification, Screening, Included), the flow of
records down the left column and what left the flow on the right, counts
with thousands separators and the full-text exclusions per reason. Text is
wrapped to its box by measuring it (:func:`metapool.plots._style.text_width_in`),
and every box grows with its text, so nothing overlaps or is cut. A review
whose screening is not finished is drawn with a note saying how many records
still await a decision.

References
----------
Page MJ, McKenzie JE, Bossuyt PM, et al. The PRISMA 2020 statement: an updated
guideline for reporting systematic reviews. BMJ 2021;372:n71 (figure 1).
Haddaway NR, Page MJ, Pritchard CC, McGuinness LA. PRISMA2020: An R package and
Shiny app for producing PRISMA 2020-compliant flow diagrams. Campbell Syst Rev
2022;18:e1230.
"""

from __future__ import annotations

from ._style import LAYOUTS, pyplot, text_width_in

__all__ = ["prisma_boxes", "prisma_plot"]

_FONT = LAYOUTS["revman"].font
_SIZE = 8.0
_LINE = 0.165  # inches per line of 8-point text
_PAD = 0.09  # inches of padding inside a box
_BOX_W = 3.05  # inches: each column's box
_GAP = 0.55  # inches between the columns (room for the arrow)
_SIDE = 0.32  # inches: the stage labels' band
_ROW_GAP = 0.32  # inches between rows (room for the arrow)
_STAGE_FILL = "#a9cce3"
_HEADER_FILL = "#f6c453"
_EDGE = "#333333"
#: The stages on the left: name, first and last row.
_STAGES = (("Identification", 0, 0), ("Screening", 1, 3), ("Included", 4, 4))


def _n(x: int) -> str:
    """A count as the boxes write it, "(n = 1,234)", kept on one line (no-break spaces)."""
    return f"(n\u00a0=\u00a0{x:,})"


def prisma_boxes(counts) -> tuple[tuple[str, str | None], ...]:
    """The text of each row's boxes (left, right; ``None``: no right box), in the wording of PRISMA 2020."""
    found = [f"{name} {_n(k)}" for name, k in counts.databases] or [f"none imported {_n(0)}"]
    identified = "Records identified from:\n" + ("Databases:\n" if counts.registers else "") + "\n".join(
        "  " + s for s in found)
    identified = identified if not counts.registers else identified + "\nRegisters:\n" + "\n".join(
        f"  {name} {_n(k)}" for name, k in counts.registers)
    if len(counts.databases) + len(counts.registers) > 1:
        identified += f"\nTotal {_n(counts.identified)}"
    removed = ("Records removed before screening:\n"
               f"  Duplicate records removed {_n(counts.duplicates_removed)}\n"
               f"  Records removed for other reasons {_n(counts.removed_other)}")
    reasons = "\n".join(f"  {text} {_n(k)}" for text, k in counts.reports_excluded) or f"  none {_n(0)}"
    excluded = sum(k for _, k in counts.reports_excluded)
    awaiting = (f"\nAwaiting a decision {_n(counts.pending_screening)}" if counts.pending_screening else "")
    awaiting_ft = f"\nAwaiting a full-text decision {_n(counts.pending_full_text)}" if counts.pending_full_text else ""
    return (
        (identified, removed),
        (f"Records screened\n{_n(counts.screened)}" + awaiting, f"Records excluded\n{_n(counts.excluded_screening)}"),
        (f"Reports sought for retrieval\n{_n(counts.sought)}", f"Reports not retrieved\n{_n(counts.not_retrieved)}"),
        (f"Reports assessed for eligibility\n{_n(counts.assessed)}" + awaiting_ft,
         f"Reports excluded {_n(excluded)}:\n{reasons}"),
        (f"Studies included in review\n{_n(counts.studies_included)}\nReports of included studies\n"
         f"{_n(counts.reports_included)}", None),
    )


def _wrap(text: str, width: float, size: float = _SIZE, bold: bool = False) -> str:
    """``text`` with each line broken at spaces to fit ``width`` inches (an indented line's continuations are
    indented further). No-break spaces hold words together; indents are written as no-break spaces, which SVG
    text keeps (it collapses ordinary ones).
    """
    out = []
    for line in text.split("\n"):
        indent = line[: len(line) - len(line.lstrip())]
        words, current = [w for w in line.split(" ") if w], indent
        for word in words:
            trial = current + ("" if current.strip() == "" else " ") + word
            if current.strip() and text_width_in(trial, size, _FONT, bold=bold) > width:
                out.append(current)
                current = (indent + "    " if indent else "") + word
            else:
                current = trial
        out.append(current)
    return "\n".join(line.lstrip(" ").rjust(len(line), "\u00a0") for line in out)


def prisma_plot(counts, ax=None, title: str | None = None):
    """Draw the PRISMA 2020 flow diagram of ``counts`` (a checked ``PrismaCounts``); returns the axes.

    The figure's size follows its text (width 7.3 inches); ``ax`` is only
    used for its figure, which is resized.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    from ..review.prisma import check_prisma

    check_prisma(counts)
    plt = pyplot()
    rows = [(_wrap(left, _BOX_W - 2 * _PAD), right and _wrap(right, _BOX_W - 2 * _PAD)) for left, right in
            prisma_boxes(counts)]
    heights = [max(t.count("\n") + 1 for t in row if t) * _LINE + 2 * _PAD for row in rows]
    for name, first, last in _STAGES:  # a stage's band is at least as tall as its rotated name
        span = sum(heights[first:last + 1]) + _ROW_GAP * (last - first)
        heights[last] += max(0.0, text_width_in(name, _SIZE, _FONT, bold=True) + 2 * _PAD - span)
    notes = [] if counts.complete else [_wrap(
        f"Incomplete: screening is not finished (records awaiting a title/abstract decision:"
        f" {counts.pending_screening:,}; reports awaiting a full-text decision: {counts.pending_full_text:,});"
        " the counts will change.",
        2 * _BOX_W + _GAP)]
    header_h = _LINE + 2 * _PAD
    width = _SIDE + 0.12 + 2 * _BOX_W + _GAP
    title = title and _wrap(title, width, _SIZE + 2, bold=True)
    title_h = (title.count("\n") + 1) * _LINE * 1.3 + 0.1 if title else 0.0
    top = title_h + sum((n.count("\n") + 1) * _LINE + 0.08 for n in notes)
    height = top + header_h + _ROW_GAP + sum(heights) + _ROW_GAP * (len(rows) - 1)
    if ax is None:
        _, ax = plt.subplots()
    fig = ax.figure
    fig.set_size_inches(width + 0.02, height + 0.04)
    ax.set_position((0, 0, 1, 1))
    ax.set_xlim(0, width + 0.02)  # margins: the outer boxes' edges are not cut
    ax.set_ylim(-height - 0.02, 0.02)
    ax.set_axis_off()
    x_left = _SIDE + 0.12
    x_right = x_left + _BOX_W + _GAP

    def box(x, y, w, h, text, fill="white", align="left", **kw):
        ax.add_patch(FancyBboxPatch((x, y - h), w, h, boxstyle="round,pad=0,rounding_size=0.04", fc=fill, ec=_EDGE,
                                    lw=0.8))
        tx = x + _PAD if align == "left" else x + w / 2
        ax.text(tx, y - h / 2, text, ha=align, va="center", fontsize=_SIZE, family=_FONT, linespacing=1.35, **kw)

    def arrow(p, q):
        ax.add_patch(FancyArrowPatch(p, q, arrowstyle="-|>", mutation_scale=9, lw=0.9, color=_EDGE,
                                     shrinkA=0, shrinkB=0))

    y = 0.0
    if title:
        ax.text(0, y - 0.02, title, ha="left", va="top", fontsize=_SIZE + 2, family=_FONT, weight="bold")
        y -= title_h
    for note in notes:
        ax.text(x_left, y - 0.02, note, ha="left", va="top", fontsize=_SIZE, family=_FONT, color="#b03a2e",
                linespacing=1.35)
        y -= (note.count("\n") + 1) * _LINE + 0.08
    box(x_left, y, 2 * _BOX_W + _GAP, header_h, "Identification of studies via databases and registers",
        fill=_HEADER_FILL, align="center", weight="bold")
    y -= header_h + _ROW_GAP
    tops = []
    for (left, right), h in zip(rows, heights):
        tops.append(y)
        box(x_left, y, _BOX_W, h, left)
        if right:
            box(x_right, y, _BOX_W, h, right)
            arrow((x_left + _BOX_W, y - h / 2), (x_right, y - h / 2))
        if len(tops) > 1:
            arrow((x_left + _BOX_W / 2, tops[-2] - heights[len(tops) - 2]), (x_left + _BOX_W / 2, y))
        y -= h + _ROW_GAP
    for name, first, last in _STAGES:
        y0, y1 = tops[first], tops[last] - heights[last]
        box(0.02, y0, _SIDE, y0 - y1, "", fill=_STAGE_FILL)
        ax.text(0.02 + _SIDE / 2, (y0 + y1) / 2, name, rotation=90, ha="center", va="center", fontsize=_SIZE,
                family=_FONT, weight="bold")
    return ax
