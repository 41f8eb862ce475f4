"""Figures of a report: forest and funnel plots per outcome, as SVG text and files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..models.results import RMAResult

__all__ = ["Figure", "outcome_figures", "slug"]


@dataclass(frozen=True)
class Figure:
    """One rendered figure: its kind, caption, inline SVG and the files written."""

    kind: str
    caption: str
    svg: str
    files: tuple


def slug(text: str) -> str:
    """File-name-safe form of an outcome name."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "outcome"


def outcome_figures(outcome, folder: Path | None) -> tuple:
    """Draw the figures of one outcome (forest always, funnel from k = 3).

    Figures are saved as SVG and PNG into ``folder`` when given.
    """
    from ..plots import figure_svg, forest_plot, forest_table, funnel_plot, save_figure
    from ..plots._style import pyplot

    model = outcome.model
    if not isinstance(model, RMAResult) or model.X is not None:
        return ()
    plt = pyplot()
    figures = []
    plans = [("forest", f"Forest plot: {outcome.spec.name}",
              lambda: forest_plot(forest_table(model, outcome.effects), title=outcome.spec.name))]
    if model.k >= 3:
        tf = getattr(outcome.bias, "results", {}).get("trimfill") if outcome.bias is not None else None
        filled = (tf.filled_yi, tf.filled_vi) if tf is not None and tf.k0 > 0 else None
        plans.append(("funnel", f"Contour-enhanced funnel plot: {outcome.spec.name}"
                      + (" (open points: studies imputed by trim-and-fill)" if filled is not None else ""),
                      lambda: funnel_plot(model, filled=filled, contours=(0.1, 0.05, 0.01), title=outcome.spec.name)))
    for kind, caption, draw in plans:
        ax = draw()
        files = ()
        if folder is not None:
            files = tuple(str(p) for p in save_figure(ax, folder / f"{slug(outcome.spec.name)}_{kind}", dpi=150))
        figures.append(Figure(kind, caption, figure_svg(ax), files))
        plt.close(ax.figure)
    return tuple(figures)
