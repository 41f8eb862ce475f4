"""Data of (contour-enhanced) funnel plots."""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

import numpy as np

from .._distributions import crit_value, norm_sf2
from ..exceptions import MetapoolError
from ..models.results import RMAResult, _freeze, _num

__all__ = ["FunnelData", "funnel_data", "CONTOUR_LEVELS"]

#: Significance contours drawn by default: two-sided p = 0.10, 0.05 and 0.01.
CONTOUR_LEVELS = (0.90, 0.95, 0.99)


@dataclass(frozen=True)
class FunnelData:
    """Everything a (contour-enhanced) funnel plot draws, on the analysis scale.

    Attributes
    ----------
    yi, sei, slab
        The studies (effect size against standard error).
    estimate, level
        The pooled estimate; its pseudo-confidence funnel at ``level`` is
        ``estimate +/- z * se`` over ``se_grid`` (``funnel_lower``/``funnel_upper``).
    se_grid
        Standard errors from 0 to the largest one.
    refline, contour_levels, contour_lower, contour_upper
        Contours of two-sided significance about ``refline`` (0): for each
        level ``c`` (rows), the effect sizes with p = 1 - c at each standard
        error (columns): the regions p < 0.10, 0.05, 0.01 lie outside them.
    pvalue
        Two-sided p-value of each study against ``refline``.
    """

    slab: tuple
    yi: np.ndarray
    sei: np.ndarray
    pvalue: np.ndarray
    estimate: float
    level: float
    se_grid: np.ndarray
    funnel_lower: np.ndarray
    funnel_upper: np.ndarray
    refline: float
    contour_levels: tuple
    contour_lower: np.ndarray
    contour_upper: np.ndarray

    def __post_init__(self) -> None:
        _freeze(self)

    def to_dict(self) -> dict:
        return {
            "studies": [{"study": s, "yi": _num(self.yi[i]), "sei": _num(self.sei[i]), "p": _num(self.pvalue[i])}
                        for i, s in enumerate(self.slab)],
            "estimate": _num(self.estimate),
            "refline": self.refline,
            "se_grid": [float(v) for v in self.se_grid],
            "contours": {f"{c:g}": {"lower": [float(v) for v in self.contour_lower[j]],
                                    "upper": [float(v) for v in self.contour_upper[j]]}
                         for j, c in enumerate(self.contour_levels)},
        }


@singledispatch
def funnel_data(res, levels=CONTOUR_LEVELS, refline: float = 0.0, points: int = 100) -> FunnelData:
    """Funnel-plot and contour-enhanced funnel-plot data of a fitted model.

    The contours mark where a study's two-sided z test against ``refline``
    reaches p = 0.10, 0.05 and 0.01 (Peters et al. 2008), as metafor's
    ``funnel(res, level=c(90, 95, 99), refline=0)`` draws them.

    References
    ----------
    Peters JL, Sutton AJ, Jones DR, Abrams KR, Rushton L (2008).
    Contour-enhanced meta-analysis funnel plots help distinguish publication
    bias from other causes of asymmetry. J Clin Epidemiol 61:991-996.
    """
    raise MetapoolError(f"funnel_data is not available for {type(res).__name__} results.")


@funnel_data.register
def _(res: RMAResult, levels=CONTOUR_LEVELS, refline: float = 0.0, points: int = 100) -> FunnelData:
    if len(res.coefficients.names) != 1:
        raise MetapoolError("Funnel-plot data are defined for models without moderators.")
    has = np.isfinite(res.yi) & np.isfinite(res.vi)  # MH/Peto fits: tables without a study-level estimate
    yi = np.asarray(res.yi, dtype=float)[has]
    sei = np.sqrt(np.asarray(res.vi, dtype=float)[has])
    grid = np.linspace(0.0, float(sei.max()), points + 1)
    z = crit_value(res.level)
    zc = np.array([crit_value(c) for c in levels])
    return FunnelData(
        slab=tuple(s for s, h in zip(res.slab, has) if h),
        yi=yi,
        sei=sei,
        pvalue=norm_sf2((yi - refline) / sei),
        estimate=res.estimate,
        level=res.level,
        se_grid=grid,
        funnel_lower=res.estimate - z * grid,
        funnel_upper=res.estimate + z * grid,
        refline=float(refline),
        contour_levels=tuple(float(c) for c in levels),
        contour_lower=refline - zc[:, None] * grid[None, :],
        contour_upper=refline + zc[:, None] * grid[None, :],
    )
