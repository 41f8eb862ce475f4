"""Tick labels of ratio axes (log scale) that never collide.

Ratios (odds, risk, hazard ratios) are drawn on a log scale and labelled with
round natural values: 1, 2, 5 times a power of ten where there is room, else
fewer (1 and 5, then powers of ten, then every other power of ten...). Which
set fits is decided when the figure is drawn, from the axis' width in pixels
and the labels' widths, so a CI spanning 0.01 to 100 on a narrow axis gets
0.01, 0.1, 1, 10, 100 rather than overlapping labels. Ranges too narrow for
two such values fall back to round linear steps.
"""

from __future__ import annotations

import math

import numpy as np

from ._style import text_width_in

__all__ = ["RATIO_TICKS", "ratio_ticks", "ratio_locator"]

#: Candidate ticks of a ratio axis: 1, 2 and 5 times 10^-6 ... 10^6.
RATIO_TICKS = tuple(b * 10.0**e for e in range(-6, 7) for b in (1.0, 2.0, 5.0))
_MANTISSAS = ((1.0, 2.0, 5.0), (1.0, 5.0), (1.0,))
_GAP_IN = 0.08  # least blank space between two tick labels, inches


def _label(v: float) -> str:
    """A tick value as written by hand: 0.000001 and 1000000, never 1e-06."""
    return np.format_float_positional(float(f"{v:.10g}"), trim="-")  # exp(log(x)) is x to 10 digits


def _candidates(lo: float, hi: float):
    """Tick sets covering natural values [lo, hi], densest first."""
    e0, e1 = math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1
    for bases in _MANTISSAS:
        yield [b * 10.0**e for e in range(e0, e1 + 1) for b in bases]
    for step in (2, 3, 4, 5, 10):
        yield [10.0**e for e in range(e0, e1 + 1) if e % step == 0]


def ratio_ticks(lo: float, hi: float, width_in: float, fontsize: float, font: str = "DejaVu Sans",
                vertical: bool = False) -> np.ndarray:  # fmt: skip
    """Natural-scale tick values for a log axis from ``lo`` to ``hi`` whose labels do not overlap.

    Parameters
    ----------
    lo, hi
        Natural-scale limits of the axis (positive).
    width_in
        Length of the axis in inches.
    fontsize, font
        Font of the tick labels.
    vertical
        A y axis: labels are stacked, each as tall as a line of text.
    """

    def size(t: float) -> float:  # extent of a label along the axis, inches
        return 1.2 * fontsize / 72.0 if vertical else text_width_in(_label(t), fontsize, font)

    span = math.log(hi) - math.log(lo)
    eps = 1e-9 * max(abs(lo), abs(hi))
    fits = []
    for cands in _candidates(lo, hi):
        ticks = np.array([t for t in cands if lo - eps <= t <= hi + eps])
        if ticks.size < 2:
            break
        pos = (np.log(ticks) - math.log(lo)) / span * width_in
        half = np.array([size(t) for t in ticks]) / 2
        if np.all(np.diff(pos) >= half[:-1] + half[1:] + _GAP_IN):
            return ticks
        fits.append(ticks)
    if fits:  # even the sparsest set collides (a very narrow axis): its two ends only
        return fits[-1][[0, -1]]
    from matplotlib.ticker import MaxNLocator  # a narrow range (0.8 to 1.3): round linear steps

    nbins = max(2, int(width_in / (2 * size(hi) + _GAP_IN)))
    ticks = MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    return ticks[(ticks >= lo - eps) & (ticks <= hi + eps)]


def ratio_locator(log_of: bool = False, fontsize: float | None = None):
    """A matplotlib locator and formatter pair for a ratio axis (x or y), chosen at drawing time.

    ``log_of``: the axis holds log ratios (a funnel or Doi plot on the
    analysis scale), labelled with the ratios; otherwise it is a log-scale
    axis of the ratios themselves. ``fontsize``: of the tick labels (default:
    matplotlib's tick label size).
    """
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import FuncFormatter, Locator

    def label_size(axis_name: str) -> float:
        return fontsize or FontProperties(size=rcParams[f"{axis_name}tick.labelsize"]).get_size_in_points()

    to_nat = np.exp if log_of else np.asarray
    to_pos = np.log if log_of else np.asarray

    class RatioLocator(Locator):
        def __call__(self):
            return self.tick_values(*self.axis.get_view_interval())

        def tick_values(self, vmin, vmax):
            lo, hi = sorted(float(v) for v in to_nat(np.array([vmin, vmax], dtype=float)))
            axes, vertical = self.axis.axes, self.axis.axis_name == "y"
            length_in = (axes.bbox.height if vertical else axes.bbox.width) / axes.figure.dpi
            return to_pos(ratio_ticks(lo, hi, length_in, label_size(self.axis.axis_name), vertical=vertical))

    return RatioLocator(), FuncFormatter(lambda v, _: _label(float(to_nat(v))))
