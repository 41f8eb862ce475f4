"""Baujat plot: each study's contribution to heterogeneity (Q) against its influence on the pooled estimate.

Drawn from a :class:`BaujatTable` built by :func:`baujat_table` from
:func:`metapool.influence.baujat` (equal to metafor's ``baujat``). Studies in
the upper right both add much to Q and move the estimate; the most extreme
are labelled (labels longer than 30 characters shortened), each where it
covers the fewest other labels and points, inside the axes.

References
----------
Baujat B, Mahe C, Pignon JP, Hill C (2002). A graphical method for exploring
heterogeneity in meta-analyses: application to a meta-analysis of 65 trials.
Stat Med 21:2641-2652.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ._axes import POINT_COLOR, finish_axes, new_axes, shorten

_LABEL_CHARS = 30  # longer study labels are shortened with an ellipsis (an 80-character label fits nowhere)

__all__ = ["BaujatTable", "baujat_table", "baujat_plot"]


@dataclass(frozen=True)
class BaujatTable:
    """Baujat coordinates per study; ``labelled`` marks the studies named on the plot."""

    x: np.ndarray
    y: np.ndarray
    labels: tuple
    labelled: np.ndarray


def baujat_table(data, *, label_top: int = 5) -> BaujatTable:
    """Build the Baujat-plot table.

    Parameters
    ----------
    data
        A :class:`~metapool.influence.BaujatData`, or a fitted model without
        moderators (then :func:`metapool.influence.baujat` is applied).
    label_top
        Label the studies among the ``label_top`` largest on either axis
        (all studies when there are at most ``2 * label_top``).
    """
    from ..influence.diagnostics import BaujatData, baujat

    if not isinstance(data, BaujatData):
        data = baujat(data)
    x, y = np.asarray(data.x, dtype=float), np.asarray(data.y, dtype=float)
    k = x.size
    labelled = np.zeros(k, dtype=bool)
    if k <= 2 * label_top:
        labelled[:] = True
    else:
        for v in (x, y):
            labelled[np.argsort(-np.nan_to_num(v, nan=-np.inf), kind="stable")[:label_top]] = True
    return BaujatTable(x, y, tuple(map(str, data.slab)), labelled)


def baujat_plot(data, ax=None, *, label_top: int = 5, title: str | None = None):
    """Draw a Baujat plot and return its axes.

    Parameters
    ----------
    data
        A :class:`BaujatTable`, :class:`~metapool.influence.BaujatData` or a
        fitted model (see :func:`baujat_table`).
    ax
        Axes to draw in; a new 4.8 x 4 inch figure by default.
    label_top
        As for :func:`baujat_table`.
    title
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes
    """
    t = data if isinstance(data, BaujatTable) else baujat_table(data, label_top=label_top)
    ax = new_axes(ax)
    ax.scatter(t.x, t.y, s=20, color=POINT_COLOR, edgecolor="white", lw=0.5, zorder=3)
    xmax = float(np.nanmax(t.x)) * 1.15 if np.isfinite(t.x).any() else 1.0
    ymax = float(np.nanmax(t.y)) * 1.12 if np.isfinite(t.y).any() else 1.0
    ax.set_xlim(-0.04 * xmax, xmax)  # a margin: points at 0 (no contribution) are not cut by the axes
    ax.set_ylim(-0.04 * ymax, ymax)
    finish_axes(ax, "Contribution to overall heterogeneity (Q)", "Influence on the pooled estimate", title)
    finite = np.isfinite(t.x) & np.isfinite(t.y)
    order = [i for i in np.argsort(-t.y, kind="stable") if t.labelled[i] and finite[i]]
    notes = [ax.annotate(shorten(t.labels[i], _LABEL_CHARS), (t.x[i], t.y[i]), xytext=_SPOTS[0][:2],
                         textcoords="offset points", ha=_SPOTS[0][2], fontsize=7, color="#333333", zorder=2,
                         parse_math=False, in_layout=False) for i in order]  # fmt: skip
    ax.add_artist(_label_placer()(notes, np.column_stack([t.x, t.y])[finite]))
    return ax


#: Where a label may go around its point: offset in points and alignment; beside the point, then a line further off.
_SPOTS = ((4, 3, "left"), (4, -9, "left"), (-4, 3, "right"), (-4, -9, "right"),
          (4, 12, "left"), (4, -18, "left"), (-4, 12, "right"), (-4, -18, "right"))


#: Half the side of the box around a point that a label should not cover, in points.
_DOT_PT = 2.16


@functools.cache
def _label_placer():
    """The class of the artist that places the labels when the axes are drawn, in their final layout.

    Drawn before the labels (lowest zorder), it draws nothing: it moves each
    label, largest influence first, to the spot with the fewest clashes with
    the labels placed before it (counting double) and the points, not over
    the axes' edges; the renderer measuring the labels is the one drawing
    them, after the layout engine ran.
    """
    from matplotlib.artist import Artist
    from matplotlib.transforms import Bbox

    class LabelPlacer(Artist):
        zorder = -1

        def __init__(self, notes, points):
            super().__init__()
            self.notes, self.points = notes, points
            self.set_in_layout(False)

        def draw(self, renderer):
            ax = self.axes
            frame = ax.get_window_extent(renderer)
            r = renderer.points_to_pixels(_DOT_PT)
            dots = [Bbox.from_extents(px - r, py - r, px + r, py + r) for px, py in ax.transData.transform(self.points)]
            boxes = []
            for note in self.notes:
                best = None
                for dx, dy, ha in _SPOTS:
                    note.xyann = (dx, dy)
                    note.set_horizontalalignment(ha)
                    box = note.get_window_extent(renderer)
                    clashes = (2 * sum(box.overlaps(b) for b in boxes) + sum(box.overlaps(b) for b in dots)
                               + 10 * (box.x0 < frame.x0 or box.y0 < frame.y0 or box.x1 > frame.x1 or box.y1 > frame.y1))  # fmt: skip
                    if best is None or clashes < best[0]:
                        best = (clashes, (dx, dy), ha, box)
                    if clashes == 0:
                        break
                note.xyann = best[1]
                note.set_horizontalalignment(best[2])
                boxes.append(best[3])
            self.stale = False

    return LabelPlacer
