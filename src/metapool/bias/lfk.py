"""The LFK index and the data of the Doi plot (Furuya-Kanamori, Barendregt & Doi 2018)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

import numpy as np

from .._distributions import norm_ppf
from .._summary import Rendered
from ..exceptions import MetapoolError
from ..models.results import RMAResult, _freeze, _num

__all__ = ["LFK_BANDS", "LFKResult", "lfk", "lfk_interpretation"]

#: Interpretation bands of |LFK| (Furuya-Kanamori et al. 2018).
LFK_BANDS = ((1.0, "no asymmetry"), (2.0, "minor asymmetry"), (float("inf"), "major asymmetry"))


def lfk_interpretation(index: float) -> str:
    """``|LFK| <= 1``: no asymmetry; ``<= 2``: minor; ``> 2``: major asymmetry."""
    for bound, text in LFK_BANDS:
        if abs(index) <= bound:
            return text
    return "unclear"


@dataclass(frozen=True)
class LFKResult(Rendered):
    """LFK index with the Doi-plot coordinates.

    The Doi plot draws ``abs_z`` (y, upwards: 0 at the top of a folded
    normal quantile plot) against ``yi`` (x) for the studies sorted by effect
    size; ``percentile`` and ``z`` are the normal quantiles of each study's
    cumulative mid-rank weight.
    """

    index: float
    interpretation: str
    yi: np.ndarray
    sei: np.ndarray
    slab: tuple
    percentile: np.ndarray
    z: np.ndarray

    def __post_init__(self) -> None:
        _freeze(self)

    @property
    def abs_z(self) -> np.ndarray:
        return np.abs(self.z)

    def to_dict(self) -> dict:
        return {"index": _num(self.index), "interpretation": self.interpretation,
                "doi_plot": [{"study": s, "yi": _num(self.yi[i]), "abs_z": _num(abs(self.z[i]))}
                             for i, s in enumerate(self.slab)]}


def lfk_index(yi, sei, slab=None) -> LFKResult:
    """LFK index of effect sizes ``yi`` with standard errors ``sei``.

    Studies sorted by effect size get weights ``N_i = 100 max(v) / v_i``;
    their cumulative mid-ranks, less 0.5, over ``sum N`` are turned into
    normal quantiles ``z_i``. With ``j`` the study of smallest ``|z|``, the
    index is ``5/(2k) * sum(z_i + (max z - min z)/(max d - min d) * d_i)``,
    ``d_i = y_i - y_j``: the difference between the areas under the two limbs
    of the Doi plot (0 for a symmetric plot).
    """
    yi = np.asarray(yi, dtype=float)
    sei = np.asarray(sei, dtype=float)
    k = yi.size
    if k < 3:
        raise MetapoolError(f"The LFK index needs at least 3 studies (k = {k}): it is undefined.")
    order = np.argsort(yi, kind="stable")
    y, s = yi[order], sei[order]
    v = s**2
    n = 100.0 * v.max() / v
    mid = np.cumsum(n) - n / 2.0
    percentile = (mid - 0.5) / n.sum()
    z = norm_ppf(percentile)
    d = y - y[np.argmin(np.abs(z))]
    if np.ptp(d) == 0:
        raise MetapoolError("The LFK index is undefined when all effect sizes are equal.")
    index = 5.0 / (2.0 * k) * float(np.sum(z + np.ptp(z) / np.ptp(d) * d))
    labels = tuple(slab[i] for i in order) if slab is not None else tuple(str(i + 1) for i in order)
    return LFKResult(index, lfk_interpretation(index), y, s, labels, percentile, z)


@singledispatch
def lfk(res) -> LFKResult:
    """LFK index and Doi-plot data of a fitted model (Furuya-Kanamori et al. 2018).

    Interpretation: ``|LFK| <= 1`` no asymmetry, ``1 < |LFK| <= 2`` minor and
    ``|LFK| > 2`` major asymmetry; the sign gives the side (positive: more
    small studies with large effects). Suggested where Egger's test is
    unreliable, e.g. for proportions.

    References
    ----------
    Furuya-Kanamori L, Barendregt JJ, Doi SAR (2018). A new improved graphical
    and quantitative method for detecting bias in meta-analysis. Int J Evid
    Based Healthc 16:195-203.
    """
    raise MetapoolError(f"lfk is not available for {type(res).__name__} results.")


@lfk.register
def _(res: RMAResult) -> LFKResult:
    return lfk_index(res.yi, np.sqrt(res.vi), res.slab)
