"""Risk-of-bias figures in the style of robvis: a traffic-light plot and a summary bar plot.

Both draw from a :class:`~metapool.evidence.risk_of_bias.RiskOfBiasTable`.
Each judgement has a colour *and* a symbol (+, -, X, ?), so the figures read
in grayscale too. Labels are user text: drawn on one line, literally (no
mathtext), long ones shortened with an ellipsis.

References
----------
McGuinness LA, Higgins JPT (2021). Risk-of-bias VISualization (robvis): an R
package and Shiny web app for visualizing risk-of-bias assessments. Res Synth
Methods 12:55-61.
"""

from __future__ import annotations

import re

from ..evidence.risk_of_bias import JUDGEMENTS, RiskOfBiasTable
from ..formatting.text import one_line
from ._style import pyplot

__all__ = ["JUDGEMENT_STYLE", "traffic_light_plot", "rob_summary_plot"]

#: Judgement -> (fill colour, symbol, legend text): robvis's RoB 2 colours.
JUDGEMENT_STYLE = {
    "low": ("#02C100", "+", "Low"),
    "some concerns": ("#E2DF07", "\u2212", "Some concerns"),
    "high": ("#BF0000", "X", "High"),
    "no information": ("#4EA1F7", "?", "No information"),
}

_FONT = 8.0


def _label(text: str, limit: int = 40) -> str:
    text = one_line(str(text)).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _text(ax, x, y, s, **kw):
    """Literal text (user labels may hold ``$``: no mathtext)."""
    return ax.text(x, y, s, parse_math=False, fontsize=kw.pop("fontsize", _FONT), **kw)


def _columns(table: RiskOfBiasTable) -> tuple[list, list]:
    """Column heads (D1..Dn, Overall) and each study's judgements in those columns."""
    heads = [f"D{j + 1}" for j in range(len(table.domains))]
    rows = [list(r) for r in table.judgements]
    if table.overall is not None:
        heads.append("Overall")
        rows = [r + [o] for r, o in zip(rows, table.overall)]
    return heads, rows


def _domain_name(j: int, name: str, limit: int) -> str:
    """``D{j+1}: name``, or the name alone when it already starts with that key ("D1 randomisation")."""
    key = f"D{j + 1}"
    named = re.match(rf"{key}(?![0-9])", name.strip(), flags=re.IGNORECASE) is not None
    return _label(name, limit) if named else f"{key}: {_label(name, limit)}"


def _ink(judgement: str) -> str:
    """Symbol colour with enough contrast on the judgement's fill."""
    return "white" if judgement in ("high", "no information") else "black"


def _legend(ax, **kw) -> None:
    """Legend of the judgements: colour and symbol."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", linestyle="", markersize=9, markerfacecolor=JUDGEMENT_STYLE[j][0],
                      markeredgecolor="black", markeredgewidth=0.4, label=f"{JUDGEMENT_STYLE[j][1]}  {JUDGEMENT_STYLE[j][2]}")
               for j in JUDGEMENTS]
    ax.legend(handles=handles, ncol=len(handles), frameon=False, fontsize=_FONT, handletextpad=0.3,
              columnspacing=1.2, **kw)


def traffic_light_plot(table: RiskOfBiasTable, ax=None, title: str | None = None):
    """Traffic-light plot: one row per study, one circle per domain (and overall).

    Parameters
    ----------
    table
        The judgements (:func:`~metapool.evidence.risk_of_bias.risk_of_bias_table`).
    ax
        Axes to draw on (default: a new figure sized to the table).
    title
        Title above the plot.

    Returns
    -------
    matplotlib.axes.Axes
    """
    heads, rows = _columns(table)
    n, m = len(rows), len(heads)
    labels = [_label(s) for s in table.studies]
    label_w = max((len(s) for s in labels), default=5) * 0.065 + 0.2
    notes = [_domain_name(j, d, 70) for j, d in enumerate(table.domains)]
    if ax is None:
        height = 0.9 + 0.26 * n + 0.17 * (len(notes) + 2)
        _, ax = pyplot().subplots(figsize=(label_w + 0.55 * m + 1.0, height))
    ax.set_xlim(-label_w / 0.55, m - 0.4)
    ax.set_ylim(n + 0.9 + 0.65 * len(notes) + 1.0, -1.2)
    ax.axis("off")
    for j, head in enumerate(heads):
        _text(ax, j, -0.6, head, ha="center", va="center", fontweight="bold")
    for i, (label, judgements) in enumerate(zip(labels, rows)):
        _text(ax, -0.6, i, label, ha="right", va="center")
        for j, judgement in enumerate(judgements):
            colour, symbol, _ = JUDGEMENT_STYLE[judgement]
            ax.scatter([j], [i], s=170, color=colour, edgecolor="black", linewidth=0.5, zorder=3)
            _text(ax, j, i, symbol, ha="center", va="center", fontweight="bold", zorder=4, color=_ink(judgement))
    if table.overall is not None:
        ax.plot([m - 1.5, m - 1.5], [-1.0, n - 0.5], color="#9aa0a6", linewidth=0.6)
    y = n + 0.4
    for note in notes:
        _text(ax, -label_w / 0.55, y, note, ha="left", va="center", fontsize=_FONT - 0.5, clip_on=False)
        y += 0.65
    _legend(ax, loc="lower left", bbox_to_anchor=(0.0, 0.0))
    if title:
        ax.set_title(_label(title, 90), loc="left", fontsize=10, fontweight="bold")
    return ax


def rob_summary_plot(table: RiskOfBiasTable, ax=None, title: str | None = None):
    """Summary plot: per domain (and overall), the share of studies with each judgement (unweighted).

    Parameters and return value as for :func:`traffic_light_plot`. The
    percentages count studies (each study counts once), as robvis's
    unweighted summary.
    """
    counts = table.counts()
    domains = list(counts)
    names = [_domain_name(j, d, 45) if j < len(table.domains) else _label(d, 45) for j, d in enumerate(domains)]
    if ax is None:
        _, ax = pyplot().subplots(figsize=(7.5, 0.9 + 0.34 * len(domains)), layout="constrained")
    total = max(len(table.studies), 1)
    for i, d in enumerate(domains):
        left = 0.0
        for judgement in JUDGEMENTS:
            share = 100.0 * counts[d][judgement] / total
            if share <= 0:
                continue
            colour, symbol, _ = JUDGEMENT_STYLE[judgement]
            ax.barh(i, share, left=left, color=colour, edgecolor="black", linewidth=0.4, height=0.7)
            if share >= 6:
                _text(ax, left + share / 2, i, f"{symbol} {share:.0f}%" if share >= 12 else symbol,
                      ha="center", va="center", fontweight="bold", color=_ink(judgement))
            left += share
    ax.set_yticks(range(len(domains)))
    ax.set_yticklabels([])
    for i, name in enumerate(names):
        _text(ax, -2, i, name, ha="right", va="center", transform=ax.transData)
    ax.set_xlim(0, 100)
    ax.set_ylim(len(domains) - 0.5, -0.5)
    ax.set_xlabel(f"Studies (%, n = {len(table.studies)}; unweighted)")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    _legend(ax, loc="upper left", bbox_to_anchor=(0.0, -0.12 - 1.2 / max(len(domains), 1)))
    if title:
        ax.set_title(_label(title, 90), loc="left", fontsize=10, fontweight="bold")
    return ax
