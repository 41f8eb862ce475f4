"""Regression tests for funnel-plot asymmetry: Egger's test and its variants, Peters' test."""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

import numpy as np

from .._summary import Rendered
from .._validation import check_choice
from ..exceptions import ConvergenceError, DataValidationError, MetapoolError
from ..models.fit import fit_batch
from ..models.kernels import Batch
from ..models.results import RMAResult, _num
from ..models.tau2 import get_estimator

__all__ = ["PREDICTORS", "REGRESSION_MODELS", "RegressionTest", "regtest", "peters"]

#: Predictors of the regression test: code -> (description, needs sample sizes,
#: whether the intercept is the "limit estimate" as the predictor goes to 0).
PREDICTORS = {
    "sei": ("standard error", False, True),
    "vi": ("sampling variance", False, True),
    "ni": ("sample size", True, False),
    "ninv": ("inverse of the sample size", True, True),
    "sqrtni": ("square root of the sample size", True, False),
    "sqrtninv": ("inverse square root of the sample size", True, True),
}

#: Models of the regression test.
REGRESSION_MODELS = {
    "rma": "meta-regression with the fitted model's estimator and test",
    "lm": "weighted regression with a multiplicative dispersion term",
}


@dataclass(frozen=True)
class RegressionTest(Rendered):
    """Result of a regression test for funnel-plot asymmetry.

    ``statistic`` is the z (or t, when ``ddf`` is not None) statistic of the
    predictor's coefficient ``slope``; ``limit``/``ci_lower``/``ci_upper``
    are the intercept and its CI, the estimate as the predictor goes to 0
    (None for predictors that do not go to 0 with precision).
    """

    name: str
    model: str
    predictor: str
    k: int
    statistic: float
    pvalue: float
    ddf: float | None
    slope: float
    slope_se: float
    limit: float | None
    ci_lower: float | None
    ci_upper: float | None
    method: str
    level: float

    def to_dict(self) -> dict:
        return {
            "model": self.model, "predictor": self.predictor, "k": self.k,
            # "z" is the statistic's stable key; it is a t value when ddf is not None
            "z": _num(self.statistic), "p": _num(self.pvalue),
            "ddf": _num(self.ddf), "slope": _num(self.slope), "slope_se": _num(self.slope_se),
            "limit": _num(self.limit), "ci_lower": _num(self.ci_lower), "ci_upper": _num(self.ci_upper),
        }


def _predictor(res: RMAResult, predictor: str) -> np.ndarray:
    if predictor == "sei":
        return np.sqrt(res.vi)
    if predictor == "vi":
        return np.asarray(res.vi, dtype=float)
    ni = np.asarray(res.ni, dtype=float)
    if not np.all(np.isfinite(ni)):
        raise DataValidationError(
            f"The predictor '{predictor}' needs the sample size of every study; some are unknown."
        )
    return {"ni": ni, "ninv": 1.0 / ni, "sqrtni": np.sqrt(ni), "sqrtninv": 1.0 / np.sqrt(ni)}[predictor]


def _fit(yi, vi, x, *, model: str, res: RMAResult, name: str, predictor: str) -> RegressionTest:
    """Regress ``yi`` on ``[1, x]`` with sampling variances ``vi``."""
    k = yi.shape[0]
    if k < 3:
        raise MetapoolError(f"{name} needs at least 3 studies (k = {k}): the test is undefined.")
    if np.ptp(x) <= 1e-12 * max(1.0, float(np.max(np.abs(x)))):
        raise DataValidationError(f"{name}: the predictor is the same for every study; the test is undefined.")
    X = np.column_stack([np.ones(k), x])[None]
    batch = Batch.from_arrays(yi, vi, X)
    if model == "rma":
        tau2 = np.array([res.tau2]) if res.tau2_fixed else None
        bf = fit_batch(batch, get_estimator(res.method), res.test, res.level, res.control, tau2)
        method = res.method
    else:
        # weighted least squares with weights 1/vi and a residual variance factor:
        # the common-effect fit with the Knapp-Hartung scale and t(k - 2)
        bf = fit_batch(batch, get_estimator("CE"), "knha", res.level, res.control)
        method = "lm"
    if not bf.converged[0]:
        raise ConvergenceError(f"{name}: the meta-regression did not converge.")
    c = bf.coef
    ddf = float(c.ddf[0])
    limit = PREDICTORS[predictor][2] if predictor in PREDICTORS else False
    return RegressionTest(
        name=name,
        model=model,
        predictor=predictor,
        k=k,
        statistic=float(c.statistic[0, 1]),
        pvalue=float(c.pvalue[0, 1]),
        ddf=None if np.isinf(ddf) else ddf,
        slope=float(c.estimate[0, 1]),
        slope_se=float(c.se[0, 1]),
        limit=float(c.estimate[0, 0]) if limit else None,
        ci_lower=float(c.ci_lower[0, 0]) if limit else None,
        ci_upper=float(c.ci_upper[0, 0]) if limit else None,
        method=method,
        level=res.level,
    )


@singledispatch
def regtest(res, model: str = "rma", predictor: str = "sei") -> RegressionTest:
    """Regression test for funnel-plot asymmetry (Egger et al. 1997), as metafor's ``regtest``.

    Parameters
    ----------
    res
        A fitted model without moderators (k >= 3).
    model
        ``"rma"`` (default): meta-regression of the effect sizes on the
        predictor with the model's tau2 estimator, test and level;
        ``"lm"``: weighted least squares with weights ``1/vi`` and a
        multiplicative dispersion term (Egger's original test), t(k - 2).
    predictor
        ``"sei"`` (default), ``"vi"``, ``"ni"``, ``"ninv"``, ``"sqrtni"`` or
        ``"sqrtninv"``; the last four need the sample sizes.

    Returns
    -------
    RegressionTest
        Test of the predictor's coefficient, and for ``sei``, ``vi``,
        ``ninv``, ``sqrtninv`` the limit estimate (the intercept) with its CI.

    References
    ----------
    Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in
    meta-analysis detected by a simple, graphical test. BMJ 315:629-634.
    """
    raise MetapoolError(f"regtest is not available for {type(res).__name__} results.")


@regtest.register
def _(res: RMAResult, model: str = "rma", predictor: str = "sei") -> RegressionTest:
    model = check_choice("regtest", "model", model, REGRESSION_MODELS)
    predictor = check_choice("regtest", "predictor", predictor, PREDICTORS)
    if len(res.coefficients.names) != 1:
        raise MetapoolError("regtest is implemented for models without moderators.")
    x = _predictor(res, predictor)
    return _fit(np.asarray(res.yi), np.asarray(res.vi), x, model=model, res=res,
                name="Regression test for funnel plot asymmetry", predictor=predictor)


@singledispatch
def peters(res, events=None, nonevents=None, *, table=None) -> RegressionTest:
    """Peters' regression test for small-study effects in binary outcomes (Peters et al. 2006).

    Weighted regression (with a multiplicative dispersion term) of the effect
    sizes on ``1/n`` (total sample size), with weights
    ``1/(1/events + 1/nonevents)`` computed from the total events and
    non-events of each study (both groups together).

    Parameters
    ----------
    res
        A fitted model of a binary measure (k >= 3) whose ``ni`` are the total
        sample sizes.
    events, nonevents
        Per study in the model: ``ai + ci`` and ``bi + di``.
    table
        Instead of ``events``/``nonevents``: the two-group
        :class:`~metapool.effect_sizes.EffectSizeTable` the model was fitted
        to (its uncorrected 2x2 cells of the studies in the model are used).

    References
    ----------
    Peters JL, Sutton AJ, Jones DR, Abrams KR, Rushton L (2006). Comparison of
    two methods to detect publication bias in meta-analysis. JAMA 295:676-680.
    """
    raise MetapoolError(f"peters is not available for {type(res).__name__} results.")


@peters.register
def _(res: RMAResult, events=None, nonevents=None, *, table=None) -> RegressionTest:
    if table is not None:
        cells = table.cells
        if not {"ai", "bi", "ci", "di"} <= set(cells):
            raise DataValidationError("Peters' test needs two-group binary data (2x2 cells ai, bi, ci, di).")
        keep = table.included
        events = (np.asarray(cells["ai"], dtype=float) + np.asarray(cells["ci"], dtype=float))[keep]
        nonevents = (np.asarray(cells["bi"], dtype=float) + np.asarray(cells["di"], dtype=float))[keep]
    if events is None or nonevents is None:
        raise DataValidationError("Peters' test needs events and non-events per study (or the 2x2 table).")
    events = np.asarray(events, dtype=float)
    nonevents = np.asarray(nonevents, dtype=float)
    if events.shape != (res.k,) or nonevents.shape != (res.k,):
        raise DataValidationError(f"Peters' test needs events and non-events for each of the k = {res.k} studies.")
    if np.any(events <= 0) or np.any(nonevents <= 0):
        raise DataValidationError("Peters' test needs at least one event and one non-event in every study.")
    v = 1.0 / events + 1.0 / nonevents
    x = 1.0 / (events + nonevents)
    return _fit(np.asarray(res.yi), v, x, model="lm", res=res, name="Peters' test for small-study effects",
                predictor="ninv")
