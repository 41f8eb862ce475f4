"""Trim-and-fill (Duval & Tweedie 2000), equal to metafor's ``trimfill``."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import singledispatch

import numpy as np

from .._summary import Rendered
from .._validation import check_choice
from ..effect_sizes.table import EffectSizeTable
from ..exceptions import ConvergenceError, MetapoolError
from ..models.fit import fit_batch
from ..models.kernels import Batch
from ..models.results import RMAResult, _freeze, _num
from ..models.rma import rma
from ..models.rootfind import Control
from ..models.tau2 import get_estimator

__all__ = ["TRIMFILL_ESTIMATORS", "TrimFillResult", "trimfill", "trimfill_side"]

TRIMFILL_ESTIMATORS = {
    "L0": "rank-based estimator L0 (Duval & Tweedie 2000)",
    "R0": "run-length estimator R0 (Duval & Tweedie 2000)",
    "Q0": "estimator Q0 (Duval 2005)",
}
MAXITER = 100


@dataclass(frozen=True)
class TrimFillResult(Rendered):
    """Trim-and-fill: estimated number of missing studies and the filled analysis.

    Attributes
    ----------
    k0, se_k0
        Estimated number of missing studies and its standard error.
    side
        ``"left"`` or ``"right"``: the side of the funnel plot where studies
        were judged missing.
    estimator
        ``"L0"``, ``"R0"`` or ``"Q0"``; ``p_k0`` is R0's p-value for
        ``k0 > 0`` (NaN for the other estimators).
    model
        The model fitted to observed plus filled studies (the original model
        when ``k0 = 0``).
    filled_yi, filled_vi
        The k0 filled studies (mirror images about the trimmed estimate),
        labelled "Filled 1", ... in ``model.slab`` after the observed ones.
    """

    k0: int
    se_k0: float
    side: str
    estimator: str
    p_k0: float
    model: RMAResult
    filled_yi: np.ndarray
    filled_vi: np.ndarray

    def __post_init__(self) -> None:
        _freeze(self)

    @property
    def filled(self) -> np.ndarray:
        """Boolean mask over ``model.yi``: True for filled studies."""
        k = self.model.k
        return np.arange(k) >= k - self.k0

    def to_dict(self) -> dict:
        m = self.model
        return {
            "k0": self.k0, "se_k0": _num(self.se_k0), "side": self.side, "estimator": self.estimator,
            "p_k0": _num(self.p_k0), "estimate": _num(m.estimate), "se": _num(m.se),
            "ci_lower": _num(m.ci_lower), "ci_upper": _num(m.ci_upper), "tau2": _num(m.tau2),
            "filled": [{"yi": _num(y), "vi": _num(v)} for y, v in zip(self.filled_yi, self.filled_vi)],
        }


def _slope_sign_side(yi, vi, method: str, control: Control) -> str:
    """metafor's rule: regress yi on sqrt(vi); a negative slope puts missing studies on the right.

    With equal sampling variances the regression is singular (metafor stops
    with an error too): there is no side to choose.
    """
    X = np.column_stack([np.ones(yi.size), np.sqrt(vi)])[None]
    try:
        bf = fit_batch(Batch.from_arrays(yi, vi, X), get_estimator(method), "z", 0.95, control)
    except np.linalg.LinAlgError:
        raise MetapoolError(
            "Trim-and-fill cannot choose the side of the missing studies: all studies have the same"
            " sampling variance, so the funnel plot has no slope (give the side explicitly)."
        ) from None
    return "right" if bf.coef.estimate[0, 1] < 0 else "left"


def trimfill_side(res: RMAResult) -> str:
    """The side of missing studies as metafor chooses it (sign of Egger-type slope on sqrt(vi))."""
    return _slope_sign_side(np.asarray(res.yi), np.asarray(res.vi), res.method, res.control)


def _sqrt_var_sr(k: int, k0: float) -> float:
    # NaN where the variance formula turns negative (metafor reports NaN then)
    var = (k * (k + 1) * (2 * k + 1) + 10 * k0**3 + 27 * k0**2 + 17 * k0 - 18 * k * k0**2
           - 18 * k * k0 + 6 * k**2 * k0) / 24.0
    return math.sqrt(var) if var >= 0 else float("nan")


def _k0(signed_ranks: np.ndarray, k: int, estimator: str) -> tuple[float, float]:
    if estimator == "R0":
        neg = -signed_ranks[signed_ranks < 0]
        k0 = k - (neg.max() if neg.size else 0) - 1.0
        return k0, math.sqrt(2 * max(0.0, k0) + 2)
    sr = float(signed_ranks[signed_ranks > 0].sum())
    if estimator == "L0":
        k0 = (4 * sr - k * (k + 1)) / (2 * k - 1)
        return k0, 4 * _sqrt_var_sr(k, k0) / (2 * k - 1)
    k0 = k - 0.5 - math.sqrt(2 * k**2 - 4 * sr + 0.25)
    denom = (k - 0.5) ** 2 - k0 * (2 * k - k0 - 1)
    return k0, 2 * _sqrt_var_sr(k, k0) / math.sqrt(denom) if denom > 0 else float("nan")


@singledispatch
def trimfill(res, side: str | None = None, estimator: str = "L0") -> TrimFillResult:
    """Trim-and-fill analysis (Duval & Tweedie 2000), equal to metafor's ``trimfill``.

    Studies are trimmed from the side opposite the missing ones until the
    number of missing studies k0 is stable; the k0 most extreme studies are
    then mirrored about the trimmed estimate and the model is refitted to all
    studies.

    Parameters
    ----------
    res
        A fitted model without moderators (k >= 3).
    side
        ``"left"`` or ``"right"`` (where studies are missing); None chooses
        it as metafor does: by the sign of the slope of a regression of the
        effect sizes on their standard errors (negative: right).
    estimator
        ``"L0"`` (default), ``"R0"`` or ``"Q0"``.

    Notes
    -----
    As in metafor, the refits use the model's tau2 estimator with the z test
    and 95% level (metafor does not carry the test and level over), and the
    model itself is returned when k0 = 0.

    References
    ----------
    Duval S, Tweedie R (2000). Trim and fill: a simple funnel-plot-based
    method of testing and adjusting for publication bias in meta-analysis.
    Biometrics 56:455-463.
    """
    raise MetapoolError(f"trimfill is not available for {type(res).__name__} results.")


@trimfill.register
def _(res: RMAResult, side: str | None = None, estimator: str = "L0") -> TrimFillResult:
    estimator = check_choice("trimfill", "estimator", estimator, TRIMFILL_ESTIMATORS)
    if len(res.coefficients.names) != 1:
        raise MetapoolError("Trim-and-fill is defined for models without moderators.")
    if res.k < 3:
        raise MetapoolError(f"Trim-and-fill needs at least 3 studies (k = {res.k}): it is undefined.")
    side = trimfill_side(res) if side is None else check_choice("trimfill", "side", side, ("left", "right"))
    sign = -1.0 if side == "right" else 1.0
    order = np.argsort(sign * np.asarray(res.yi), kind="stable")
    yi = sign * np.asarray(res.yi)[order]
    vi = np.asarray(res.vi)[order]
    k = yi.size
    estimator_fn = get_estimator(res.method)
    k0, k0_prev, it = 0, -1, 0
    while k0 != k0_prev:
        k0_prev = k0
        it += 1
        if it > MAXITER:
            raise ConvergenceError("The trim-and-fill algorithm did not converge.")
        keep = np.arange(k) < k - k0
        bf = fit_batch(Batch.from_arrays(yi, vi, mask=keep), estimator_fn, "z", 0.95, res.control)
        beta = float(bf.coef.estimate[0, 0])
        centred = yi - beta
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(centred), kind="stable")] = np.arange(1, k + 1)
        raw, se_k0 = _k0(np.sign(centred) * ranks, k, estimator)
        k0 = int(max(0, np.round(raw)))
        se_k0 = se_k0 if math.isnan(se_k0) else max(0.0, se_k0)
    p_k0 = 0.5 ** (k0 + 1) if estimator == "R0" else float("nan")
    if k0 == 0:
        return TrimFillResult(0, se_k0, side, estimator, p_k0, res, np.empty(0), np.empty(0))
    # mirror the k0 most extreme studies about the trimmed estimate (back on the original scale)
    filled_yi = sign * (2.0 * beta - yi[k - k0:])
    filled_vi = vi[k - k0:]
    ni = np.asarray(res.ni, dtype=float)[order][k - k0:]
    # the Freeman-Tukey back-transformation needs cells the filled studies lack
    measure = "GEN" if res.measure in (None, "PFT") else res.measure
    table = EffectSizeTable(
        measure=measure,
        yi=np.concatenate([res.yi, filled_yi]),
        vi=np.concatenate([res.vi, filled_vi]),
        slab=tuple(res.slab) + tuple(f"Filled {i + 1}" for i in range(k0)),
        ni=np.concatenate([res.ni, ni]),
        corrected=np.zeros(k + k0, dtype=bool),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = rma(table, method=res.method, control=res.control)
    return TrimFillResult(k0, se_k0, side, estimator, p_k0, model, filled_yi, filled_vi)
