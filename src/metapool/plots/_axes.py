"""Helpers shared by the plots: axes of the single-panel plots (Doi, Baujat, bubble, L'Abbe), labels."""

from __future__ import annotations

from ..effect_sizes.registry import MEASURES
from ..formatting.text import one_line
from ._style import pyplot

__all__ = ["new_axes", "finish_axes", "effect_label", "natural_values", "shorten"]

POINT_COLOR = "#1f4e9e"
LINE_COLOR = "#b5442b"
BAND_COLOR = "#f2c9bd"


def new_axes(ax, size=(4.8, 4.0)):
    """``ax`` itself, or the axes of a new constrained-layout figure of ``size`` inches."""
    if ax is not None:
        return ax
    _, ax = pyplot().subplots(figsize=size, layout="constrained")
    return ax


def finish_axes(ax, xlabel: str, ylabel: str, title: str | None) -> None:
    """Axis labels, open top and right spines, a left-aligned bold title."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(xlabel, parse_math=False)  # user text ($ in a moderator's or an outcome's name): no mathtext
    ax.set_ylabel(ylabel, parse_math=False)
    if title:
        ax.set_title(title, loc="left", fontsize=10, fontweight="bold", parse_math=False)


def effect_label(measure, natural: bool) -> str:
    """Axis title of an effect: the natural quantity ("Proportion") or the analysis scale ("Logit proportion")."""
    m = MEASURES.get(measure)
    if m is None:
        return "Estimate"
    text = m.natural if natural else m.scale
    return "Estimate" if text == "as given" else text[0].upper() + text[1:]


def natural_values(result, values):
    """Analysis-scale values on the natural scale with the model's back-transformation.

    Returns ``(values, natural)``: unchanged with ``natural = False`` when the
    measure has no back-transformation or it needs each study's n
    (Freeman-Tukey).
    """
    import numpy as np

    t = result.back_transform
    values = np.asarray(values, dtype=float)
    if t is None or t.needs_ni:
        return values, False
    return np.asarray(t(values), dtype=float), True


def shorten(text: str, limit: int) -> str:
    """A label on one line (line separators and controls as spaces), cut to ``limit`` characters with an ellipsis."""
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"
