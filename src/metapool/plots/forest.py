"""Forest plot: the one drawing core, fed by a :class:`ForestTable`.

Study rows (label, data cells, weight, estimate with CI as text and as a
square sized by weight with its CI line), a diamond per pooled row, the
prediction interval as a bar under its diamond, and the heterogeneity and
overall-effect lines. Two layouts: ``"revman"`` (all numbers left of the
plot, as Cochrane's RevMan) and ``"jama"`` (labels left, estimate and weight
right of the plot). Rows have a fixed height in inches, so 100+ studies
stay readable (the figure grows); labels longer than ``max_label_chars`` are
shortened with an ellipsis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import check_choice
from ..formatting.numbers import column_decimals
from ..formatting.text import one_line
from ._axes import shorten
from ._style import LAYOUTS, fmt_interval, pyplot, text_width_in
from .forest_data import ForestPooled, ForestStudy, ForestTable, forest_table
from .ticks import RATIO_TICKS, ratio_locator

__all__ = ["forest_plot"]

ROW_IN = 0.2  # height of one row, inches
PAD_IN = 0.12  # gap between columns, inches
_GROUP_CHARS = 40  # an arm's name over its columns is shortened beyond this (its columns widen to fit it)


@dataclass(frozen=True)
class _Row:
    kind: str  # "heading", "study", "pooled", "pi", "note", "gap"
    item: object = None
    weight: float = float("nan")
    totals: tuple = ()


@dataclass(frozen=True)
class _Column:
    header: str
    cells: tuple  # one text per row
    align: str  # "left" or "right"
    width: float = 0.0  # inches, filled in by _measure


def _plan(table: ForestTable) -> tuple[list[_Row], list[str]]:
    """Rows top to bottom, and the note lines shown under the axis."""
    rows: list[_Row] = []
    final_notes: list[str] = []
    single = len(table.blocks) == 1 and table.overall is None
    for block in table.blocks:
        if block.title:
            rows.append(_Row("heading", block.title))
        rows += [_Row("study", s) for s in block.studies]
        p = block.pooled
        if p is not None:
            ws = np.array([s.weight for s in block.studies], dtype=float)
            w = float(np.nansum(ws)) if np.isfinite(ws).any() else float("nan")
            rows.append(_Row("pooled", p, w, p.cells))
            if math.isfinite(p.pi_lower):
                rows.append(_Row("pi", p))
            notes = [t for t in (p.heterogeneity, p.test) if t]
            if single:
                final_notes += notes
            else:
                rows += [_Row("note", t) for t in notes]
        if not single:
            rows.append(_Row("gap"))
    if table.overall is not None:
        p = table.overall
        rows.append(_Row("pooled", p, 100.0, p.cells))
        if math.isfinite(p.pi_lower):
            rows.append(_Row("pi", p))
        final_notes += [t for t in (p.heterogeneity, p.test) if t]
    final_notes += list(table.footer)
    if table.study_ci:
        final_notes.append(f"Study {table.level * 100:g}% CIs: {table.study_ci}.")
    return rows, final_notes


def _columns(table: ForestTable, rows: list[_Row], lay, digits: int, max_label: int, weights: bool):
    """Text columns left and right of the plot for a layout."""
    style = lay.name
    level = f"{table.level * 100:g}"
    effect = table.effect_label + (" (%)" if table.percent else "")

    def label(r: _Row) -> str:
        if r.kind in ("heading", "note"):
            return ""
        if r.kind == "study":
            return shorten(r.item.label, max_label)
        if r.kind == "pooled":
            return shorten(r.item.label, max_label)
        return "Prediction interval" if r.kind == "pi" else ""

    def estimate(r: _Row) -> str:
        it = r.item
        if r.kind in ("study", "pooled"):
            return fmt_interval(it.estimate, it.ci_lower, it.ci_upper, table.percent, digits, style)
        if r.kind == "pi":
            # the interval without a point estimate: "[a, b]" or "(a-b)"
            return fmt_interval(it.pi_lower, it.pi_lower, it.pi_upper, table.percent, digits, style).split(" ", 1)[1]
        return ""

    def weight(r: _Row) -> str:
        w = r.item.weight if r.kind == "study" else r.weight if r.kind == "pooled" else float("nan")
        return f"{w:.1f}%" if math.isfinite(w) else ""

    def cell(j):
        def f(r: _Row) -> str:
            if r.kind == "study":
                return str(r.item.cells[j]) if j < len(r.item.cells) else ""
            return r.totals[j] if r.kind == "pooled" and j < len(r.totals) else ""

        return f

    study_col = _Column("Study" if style == "revman" else "Source", tuple(label(r) for r in rows), "left")
    data_cols = [_Column(h, tuple(cell(j)(r) for r in rows), "right") for j, h in enumerate(table.data_headers)]
    est_col = _Column(lay.ci_header.format(effect=effect, level=level), tuple(estimate(r) for r in rows), "right")
    w_col = _Column("Weight" if style == "revman" else "Weight, %", tuple(weight(r) for r in rows), "right")
    if style == "jama":
        w_col = _Column(w_col.header, tuple(c.rstrip("%") for c in w_col.cells), "right")
    has_weights = any(math.isfinite(s.weight) for s in table.studies)
    extra = [w_col] if weights and has_weights else []
    if lay.text_left:
        return [study_col, *data_cols, *extra, est_col], []
    return [study_col, *data_cols], [est_col, *extra]


def _measure(cols, rows, lay):
    out = []
    for c in cols:
        w = text_width_in(c.header, lay.fontsize, lay.font, bold=True)
        for r, t in zip(rows, c.cells):
            bold = r.kind in ("pooled", "heading")
            w = max(w, text_width_in(t, lay.fontsize, lay.font, bold=bold))
        out.append(_Column(c.header, c.cells, c.align, w + PAD_IN))
    return out


def _fit_groups(cols: list, groups: tuple, lay) -> list:
    """Widen the data columns under a group title too wide for them (the widening shared equally)."""
    cols, j = list(cols), 1
    for name, count in groups:
        need = text_width_in(name, lay.fontsize, lay.font, bold=True) + PAD_IN - sum(c.width for c in cols[j: j + count])
        if need > 0:
            for i in range(j, j + count):
                cols[i] = _Column(cols[i].header, cols[i].cells, cols[i].align, cols[i].width + need / count)
        j += count
    return cols


def _favours_text(label: str) -> str:
    """The text under the axis: "Favours <label>" on one line (a label starting with "Favours" as given)."""
    label = one_line(label)
    return label if label.casefold().startswith("favours") else f"Favours {label}"


def _limits(table: ForestTable, xlim):
    if xlim is not None:
        return tuple(map(float, xlim))
    vals = [v for s in table.studies for v in (s.ci_lower, s.ci_upper)]
    for p in table.pooled_rows:
        vals += [p.ci_lower, p.ci_upper, p.pi_lower, p.pi_upper]
    if table.null is not None:
        vals.append(table.null)
    vals = np.array([v for v in vals if v is not None and math.isfinite(v)])
    if table.log_scale:
        vals = vals[vals > 0]
        lo = max([t for t in RATIO_TICKS if t <= vals.min()], default=RATIO_TICKS[0])
        hi = min([t for t in RATIO_TICKS if t >= vals.max()], default=RATIO_TICKS[-1])
        return lo, hi
    ticks = _linear_ticks(float(vals.min()), float(vals.max()))
    lo, hi = float(ticks[0]), float(ticks[-1])
    return (max(0.0, lo), min(1.0, hi)) if table.percent else (lo, hi)


def _linear_ticks(lo: float, hi: float) -> np.ndarray:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering [lo, hi]."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)


def _diamond(ax, p: ForestPooled, y: float, color: str, xlim):
    from matplotlib.patches import Polygon

    lo, hi = max(p.ci_lower, xlim[0]), min(p.ci_upper, xlim[1])
    est = min(max(p.estimate, xlim[0]), xlim[1])
    ax.add_patch(Polygon([(lo, y), (est, y - 0.36), (hi, y), (est, y + 0.36)], closed=True,
                         facecolor=color, edgecolor=color, lw=0.6, zorder=3))  # fmt: skip


def _ci_lines(ax, cis, xlim, color, lw=0.9):
    """CI lines ``(lower, upper, y)`` clipped to the axis, with an arrow head where one runs off.

    One line artist for all of them (broken between studies) and one per
    arrow direction: a forest of 100 studies is not 100 artists to lay out.
    """
    xs, ys, arrows = [], [], {"<": ([], []), ">": ([], [])}
    for lo, hi, y in cis:
        a, b = max(lo, xlim[0]), min(hi, xlim[1])
        if b < a:
            continue
        xs += [a, b, np.nan]
        ys += [y, y, np.nan]
        for off, marker, x in ((lo < xlim[0], "<", a), (hi > xlim[1], ">", b)):
            if off:
                arrows[marker][0].append(x)
                arrows[marker][1].append(y)
    if xs:
        ax.plot(xs, ys, color=color, lw=lw, solid_capstyle="butt", zorder=2)
    for marker, (ax_, ay) in arrows.items():
        if ax_:
            ax.plot(ax_, ay, marker=marker, ms=4.5, ls="none", color=color, zorder=2)


def forest_plot(
    data,
    ax=None,
    *,
    layout: str = "revman",
    effect_sizes=None,
    study_ci: str = "exact",
    digits: int | None = None,
    xlim=None,
    favours: tuple | None = None,
    title: str | None = None,
    plot_width: float = 3.0,
    max_label_chars: int = 60,
    weights: bool = True,
):
    """Draw a forest plot and return its axes.

    Parameters
    ----------
    data
        A :class:`~metapool.plots.ForestTable`, or a fitted model (then
        :func:`~metapool.plots.forest_table` is applied with
        ``effect_sizes`` and ``study_ci``).
    ax
        Axes to draw in (the text columns are placed left and right of it, so
        leave room); by default a new figure of the right size is made.
    layout
        ``"revman"`` or ``"jama"``.
    digits
        Decimals of the numbers (default 1 for percentages, else 2, more where
        the smallest estimate needs them: see :func:`~metapool.formatting.numbers.column_decimals`).
    xlim
        Axis limits on the natural scale (proportions as fractions).
    favours
        ``(left, right)``: what effects left and right of the null line favour,
        shown under the axis as "Favours ..." (a label that already starts
        with "Favours" is shown as given); default: the table's ``favours``.
    title
        Title above the table (e.g. the outcome, and "SYNTHETIC data").
    plot_width
        Width of the plot column in inches.
    max_label_chars
        Longer study labels are shortened with an ellipsis (the arms' names over their columns beyond
        40 characters).
    weights
        Show the weight column.

    Returns
    -------
    matplotlib.axes.Axes
    """
    lay = LAYOUTS[check_choice("forest_plot", "layout", layout, LAYOUTS)]
    table = data if isinstance(data, ForestTable) else forest_table(data, effect_sizes, study_ci=study_ci)
    if digits is None:  # as many decimals as the smallest estimate needs (a rare event rate is not 0.0)
        scale = 100.0 if table.percent else 1.0
        shown = [scale * r.estimate for r in (*table.studies, *table.pooled_rows)]
        digits = column_decimals(shown, 1 if table.percent else 2)
    digits = int(digits)
    rows, notes = _plan(table)
    left, right = _columns(table, rows, lay, digits, max_label_chars, weights)
    left, right = _measure(left, rows, lay), _measure(right, rows, lay)
    groups = tuple((shorten(g, min(max_label_chars, _GROUP_CHARS)), count) for g, count in table.column_groups)
    left = _fit_groups(left, groups, lay)
    favours = tuple(_favours_text(f) for f in (table.favours if favours is None else favours))
    n = len(rows)
    head_rows = 2.6 + (1.0 if groups else 0.0) + (1.5 if title else 0.0)
    below_in = 0.5 + 0.17 * len(notes) + (0.16 if favours else 0.0)
    left_in, right_in = sum(c.width for c in left), sum(c.width for c in right)
    plt = pyplot()
    if ax is None:
        note_in = max((text_width_in(t, lay.fontsize - 0.5, lay.font) for t in notes), default=0.0)
        width = max(0.15 + left_in + plot_width + right_in + 0.15, note_in + 0.4)
        height = (n + head_rows) * ROW_IN + below_in + 0.1
        fig = plt.figure(figsize=(width, height))
        ax = fig.add_axes([(0.15 + left_in) / width, below_in / height, plot_width / width,
                           (n + head_rows) * ROW_IN / height])  # fmt: skip
    fig = ax.figure
    box = ax.get_position()
    ax_w_in = box.width * fig.get_figwidth()
    ax_h_in = box.height * fig.get_figheight()

    from matplotlib.transforms import TransformedPatchPath, blended_transform_factory

    tx = blended_transform_factory(ax.transAxes, ax.transData)
    # user text: no mathtext. Texts are not clipped (clip_on=False, as Axes.text makes them): a clip path
    # given up front spares Axes.text deriving the axes' clip box for each of the table's hundreds of texts
    font = {"family": lay.font, "fontsize": lay.fontsize, "parse_math": False,
            "clip_path": TransformedPatchPath(ax.patch)}
    xlim = _limits(table, xlim)
    ax.set_xlim(*xlim)
    if table.log_scale:
        ax.set_xscale("log")
    ax.set_ylim(n - 0.4, -head_rows)

    # text columns: x positions in inches relative to the axes' left edge
    def place(cols, start_in):
        x = start_in
        for c in cols:
            anchor = x if c.align == "left" else x + c.width - PAD_IN
            xa = anchor / ax_w_in
            ax.text(xa, -1.0, c.header, transform=tx, ha=c.align, va="bottom", fontweight="bold",
                    linespacing=1.1, **font)  # fmt: skip
            for y, (r, t) in enumerate(zip(rows, c.cells)):
                if t:
                    bold = r.kind in ("pooled", "heading")
                    ax.text(xa, y, t, transform=tx, ha=c.align, va="center",
                            fontweight="bold" if bold else "normal", **font)  # fmt: skip
            x += c.width

    place(left, -left_in)
    place(right, ax_w_in + PAD_IN)
    x_label = -left_in / ax_w_in
    x = -left_in + left[0].width  # arms' names over their data columns (the first column holds the labels)
    for g, (name, count) in enumerate(groups):
        span = sum(c.width for c in left[1 + sum(k for _, k in groups[:g]):][:count])
        ax.text((x + (span + PAD_IN) / 2) / ax_w_in, -2.1, name, transform=tx, ha="center", va="bottom",
                fontweight="bold", **font)  # fmt: skip
        ax.plot([(x + PAD_IN) / ax_w_in, (x + span) / ax_w_in], [-1.95, -1.95], transform=tx, color="black",
                lw=0.6, clip_on=False)  # fmt: skip
        x += span
    for y, r in enumerate(rows):
        if r.kind == "heading":
            ax.text(x_label, y, r.item, transform=tx, ha="left", va="center", fontweight="bold", **font)
        elif r.kind == "note":
            ax.text(x_label, y, r.item, transform=tx, ha="left", va="center", style="italic", parse_math=False,
                    fontsize=lay.fontsize - 0.5, family=lay.font)  # fmt: skip
    if title:
        ax.text(x_label, -head_rows + 0.2, title, transform=tx, ha="left", va="top", fontweight="bold", parse_math=False,
                family=lay.font, fontsize=lay.fontsize + 2)  # fmt: skip
    x_right = 1.0 + (right_in + PAD_IN) / ax_w_in
    if lay.rules:
        for y in (-0.7, *[i - 0.5 for i, r in enumerate(rows) if r.kind == "pooled"]):
            ax.plot([x_label, x_right if right else 1.0], [y, y], transform=tx, color="black", lw=0.6,
                    clip_on=False)  # fmt: skip
    else:
        ax.plot([x_label, x_right], [-0.7, -0.7], transform=tx, color="#444444", lw=0.6, clip_on=False)

    # graphics
    study_rows = [y for y, r in enumerate(rows) if r.kind == "study"]
    weights_all = np.array([r.item.weight for r in rows if r.kind == "study"], dtype=float)
    wmax = np.nanmax(weights_all) if np.isfinite(weights_all).any() else 1.0
    last_pooled = max((y for y, r in enumerate(rows) if r.kind in ("pooled", "pi")), default=n - 1)
    if table.null is not None:
        ax.plot([table.null] * 2, [-0.5, last_pooled + 0.5], color="black", lw=0.7, zorder=1)
    final = table.pooled_rows[-1] if table.pooled_rows else None
    if final is not None and study_rows:
        ax.plot([final.estimate] * 2, [-0.5, last_pooled + 0.5], color="#888888", lw=0.7, ls=(0, (2, 2)), zorder=1)
    _ci_lines(ax, [(r.item.ci_lower, r.item.ci_upper, y) for y, r in enumerate(rows) if r.kind == "study"], xlim,
              lay.line_color)
    for y, r in enumerate(rows):
        if r.kind == "study":
            s: ForestStudy = r.item
            side = 2.5 + 7.0 * math.sqrt(max(s.weight, 0.0) / wmax) if math.isfinite(s.weight) else 5.0
            if xlim[0] <= s.estimate <= xlim[1]:
                ax.plot([s.estimate], [y], marker="s", ms=side, color=lay.study_color, mec=lay.study_color,
                        lw=0, zorder=3, clip_on=False)  # fmt: skip
        elif r.kind == "pooled":
            _diamond(ax, r.item, y, lay.diamond_color, xlim)
        elif r.kind == "pi":
            p = r.item
            a, b = max(p.pi_lower, xlim[0]), min(p.pi_upper, xlim[1])
            ax.fill_between([a, b], y - 0.13, y + 0.13, color=lay.pi_color, lw=0, zorder=2)

    # axis
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_yticks([])
    ax.tick_params(axis="x", labelsize=lay.fontsize, length=3, width=0.6)
    ax.spines["bottom"].set_linewidth(0.6)
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    if table.log_scale:  # labels thinned to fit the axis' width (0.01 to 100 on 3 inches: decades)
        locator, formatter = ratio_locator(fontsize=lay.fontsize)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(formatter)
    else:
        ticks = _linear_ticks(*xlim)
        ax.xaxis.set_major_locator(FixedLocator(ticks[(ticks >= xlim[0] - 1e-12) & (ticks <= xlim[1] + 1e-12)]))
        if table.percent:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:g}"))
    for lab in ax.get_xticklabels():
        lab.set_family(lay.font)

    def below(offset_in):
        return -offset_in / ax_h_in

    xlab = table.effect_label + (" (%)" if table.percent else "")
    ax.text(0.5, below(0.27), xlab, transform=ax.transAxes, ha="center", va="top", **font)
    y_notes = 0.47
    if favours and table.null is not None:
        xn = ax.transAxes.inverted().transform(ax.transData.transform((table.null, 0)))[0]
        ax.text(xn - 0.02, below(0.44), f"\u2190 {favours[0]}", transform=ax.transAxes, ha="right", va="top", **font)
        ax.text(xn + 0.02, below(0.44), f"{favours[1]} \u2192", transform=ax.transAxes, ha="left", va="top", **font)
        y_notes += 0.16
    for i, t in enumerate(notes):
        ax.text(x_label, below(y_notes + 0.17 * i), t, transform=ax.transAxes, ha="left", va="top", parse_math=False,
                family=lay.font, fontsize=lay.fontsize - 0.5)  # fmt: skip
    return ax
