"""Fail-safe N: how many null studies would overturn the result (as metafor's ``fsn``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import singledispatch

import numpy as np

from .._distributions import norm_ppf, norm_sf2
from .._summary import Summarized
from .._validation import check_choice
from ..exceptions import MetapoolError
from ..models.results import RMAResult, _num

__all__ = ["FSN_TYPES", "FailSafeN", "fsn"]

FSN_TYPES = {
    "Rosenthal": "Rosenthal (1979): Stouffer's combined z falls to the alpha level",
    "Orwin": "Orwin (1983): the mean effect falls to a target",
    "Rosenberg": "Rosenberg (2005): the weighted (common-effect) mean is no longer significant",
}


@dataclass(frozen=True)
class FailSafeN(Summarized):
    """Fail-safe number of studies; ``pvalue`` of the observed data (NaN for Orwin)."""

    type: str
    fsnum: float
    alpha: float
    pvalue: float
    mean_effect: float
    target: float

    def to_dict(self) -> dict:
        return {"type": self.type, "fsnum": _num(self.fsnum), "alpha": self.alpha, "p": _num(self.pvalue),
                "mean_effect": _num(self.mean_effect), "target": _num(self.target)}


def _upper(p: float) -> float:
    return float(norm_ppf(1.0 - p))


def _round_up(x: float) -> float:
    # metafor: integers (within sqrt(eps)) stay, anything else is rounded up
    if math.isinf(x):
        return x
    return float(math.ceil(x)) if abs(x - round(x)) >= math.sqrt(np.finfo(float).eps) else float(round(x))


@singledispatch
def fsn(res, type: str = "Rosenthal", alpha: float = 0.05, target: float | None = None,
        weighted: bool = False) -> FailSafeN:
    """Fail-safe N of the studies of a fitted model, equal to metafor's ``fsn``.

    Parameters
    ----------
    res
        A fitted model (its ``yi``/``vi`` are used).
    type
        ``"Rosenthal"`` (Stouffer's method, one-sided ``alpha``), ``"Orwin"``
        or ``"Rosenberg"`` (two-sided ``alpha``).
    target
        Orwin's target effect (default: half the average effect).
    weighted
        Orwin: use the inverse-variance weighted average instead of the mean.

    References
    ----------
    Rosenthal R (1979). Psychol Bull 86:638-641. Orwin RG (1983). J Educ Stat
    8:157-159. Rosenberg MS (2005). Evolution 59:464-468.
    """
    raise MetapoolError(f"fsn is not available for {type(res).__name__} results.")


@fsn.register
def _(res: RMAResult, type: str = "Rosenthal", alpha: float = 0.05, target: float | None = None,
      weighted: bool = False) -> FailSafeN:
    kind = check_choice("fsn", "type", type, FSN_TYPES)
    yi, vi = np.asarray(res.yi), np.asarray(res.vi)
    k = yi.size
    nan = float("nan")
    if kind == "Rosenthal":
        z_avg = abs(np.sum(yi / np.sqrt(vi)) / math.sqrt(k))
        p = float(norm_sf2(z_avg)) / 2.0
        n = max(0.0, k * (z_avg / _upper(alpha)) ** 2 - k)
        return FailSafeN(kind, _round_up(n), alpha, p, nan, nan)
    if kind == "Orwin":
        mean = float(np.sum(yi / vi) / np.sum(1.0 / vi)) if weighted else float(np.mean(yi))
        tgt = mean / 2.0 if target is None else float(target)
        if tgt == 0:
            return FailSafeN(kind, math.inf, alpha, nan, mean, tgt)
        if np.sign(tgt) != np.sign(mean):
            tgt = -tgt
        return FailSafeN(kind, _round_up(max(0.0, k * (mean - tgt) / tgt)), alpha, nan, mean, tgt)
    w = 1.0 / vi
    mean = float(np.sum(w * yi) / np.sum(w))
    z = mean / math.sqrt(1.0 / np.sum(w))
    wp = (np.sum(w * yi) / _upper(alpha / 2.0)) ** 2 - np.sum(w)
    n = max(0.0, k * wp / np.sum(w))
    return FailSafeN(kind, _round_up(n), alpha, float(norm_sf2(z)), mean, nan)
