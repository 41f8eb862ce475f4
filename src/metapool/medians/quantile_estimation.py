"""Quantile estimation (QE): pooled median by inverse variance (McGrath et al. 2019).

For each study reporting a median with its quartiles and/or range, candidate
distributions (normal, log-normal, gamma, Weibull) are fitted by least squares
between their quantiles and the reported ones; the best fit gives the density
``f`` at the median, and the median's variance is the asymptotic
``1 / (4 n f(m)^2)``. Studies reporting a mean and SD contribute the mean with
variance ``sd^2 / n``. The medians are then pooled with :func:`metapool.rma`.
Fitting follows R's metamedian/estmeansd (``qe``, ``qe.fit`` with
``two.sample.default = TRUE``): same starting values, box constraints, and
L-BFGS-B with R's central-difference gradient (step 1e-3).

References
----------
McGrath S, Zhao X, Qin ZZ, Steele R, Benedetti A (2019). One-sample aggregate
data meta-analysis of medians. Stat Med 38:969-984.
McGrath S, Sohn H, Steele R, Benedetti A (2020). Meta-analysis of the
difference of medians. Biom J 62:69-98.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import DataValidationError
from ._input import column, labels

__all__ = ["QEFit", "qe_fit", "pool_medians_qe", "QE_FAMILIES"]


def _stats():
    """:mod:`scipy.stats`, imported on first use (about 900 modules: not at ``import metapool.medians``)."""
    from scipy import stats

    return stats


#: Candidate families: name -> frozen-distribution factory from two parameters.
QE_FAMILIES = {
    "normal": lambda a, b: _stats().norm(loc=a, scale=b),
    "log-normal": lambda a, b: _stats().lognorm(s=b, scale=np.exp(a)),
    "gamma": lambda a, b: _stats().gamma(a, scale=1.0 / b),
    "weibull": lambda a, b: _stats().weibull_min(a, scale=b),
}
_QUANTILE = {
    "normal": lambda p, a, b: _stats().norm.ppf(p, loc=a, scale=b),
    "log-normal": lambda p, a, b: _stats().lognorm.ppf(p, b, scale=np.exp(a)),
    "gamma": lambda p, a, b: _stats().gamma.ppf(p, a, scale=1.0 / b),
    "weibull": lambda p, a, b: _stats().weibull_min.ppf(p, a, scale=b),
}
_NDEPS = 1e-3  # R optim's finite-difference step
_FACTR = 1e7  # R optim's L-BFGS-B convergence factor


@dataclass(frozen=True)
class QEFit:
    """Distributions fitted to one study's quantiles.

    ``values`` holds the least-squares objective of each family (NaN when not
    fitted); ``family`` is the best one, ``params`` its two parameters, and
    ``variance`` the asymptotic variance of the median, ``1/(4 n f(m)^2)``.
    """

    scenario: str
    family: str
    params: tuple
    values: dict
    density_at_median: float
    variance: float


def _optim(fun, start, lower, upper):
    """R's ``optim(method = "L-BFGS-B")`` with its default numerical gradient."""
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)

    def grad(x):
        g = np.empty_like(x)
        for i in range(x.size):
            up = min(_NDEPS, upper[i] - x[i])
            dn = min(_NDEPS, x[i] - lower[i])
            e = np.zeros_like(x)
            e[i] = 1.0
            g[i] = (fun(x + up * e) - fun(x - dn * e)) / (up + dn)
        return g

    from scipy import optimize  # on use: ``import metapool`` loads no scipy.optimize

    x0 = np.clip(np.asarray(start, float), lower, upper)
    res = optimize.minimize(fun, x0, jac=grad, method="L-BFGS-B", bounds=list(zip(lower, upper)),
                            options={"maxcor": 5, "ftol": _FACTR * np.finfo(float).eps, "gtol": 0.0,
                                     "maxiter": 100})  # fmt: skip
    return res.x, float(res.fun)


def qe_fit(n: float, median: float, *, q1=None, q3=None, minimum=None, maximum=None) -> QEFit:
    """Fit the QE candidate distributions to one study's summary.

    Scenarios: S1 (minimum, median, maximum), S2 (quartiles and median), S3
    (all five); the minimum and maximum are matched to the quantiles at
    ``1/n`` and ``1 - 1/n``. With a negative value only the normal is fitted.
    """
    has = lambda v: v is not None and np.isfinite(v)  # noqa: E731
    if has(minimum) and has(maximum) and has(q1) and has(q3):
        scenario, probs, q = "S3", [1 / n, 0.25, 0.5, 0.75, 1 - 1 / n], [minimum, q1, median, q3, maximum]
    elif has(q1) and has(q3):
        scenario, probs, q = "S2", [0.25, 0.5, 0.75], [q1, median, q3]
    elif has(minimum) and has(maximum):
        scenario, probs, q = "S1", [1 / n, 0.5, 1 - 1 / n], [minimum, median, maximum]
    else:
        raise DataValidationError("QE needs the median with the quartiles and/or the range.")
    probs = np.asarray(probs, dtype=float)
    q = np.asarray(q, dtype=float)
    if np.all(q == 0):
        q = np.full_like(q, 0.01)
    inner = (q[0], q[2]) if scenario != "S3" else (q[1], q[3])
    med = float(median)
    setup = {"normal": ([med, 1.0], [inner[0], 1e-3], [inner[1], 50.0])}
    if q.min() > 0:
        setup |= {
            "log-normal": ([np.log(med), 1.0], [np.log(inner[0]), 1e-3], [np.log(inner[1]), 10.0]),
            "gamma": ([1.0, 1.0], [1e-3, 1e-3], [40.0, 40.0]),
            "weibull": ([1.0, 1.0], [1e-3, 1e-3], [50.0, 50.0]),
        }
    values = {name: float("nan") for name in QE_FAMILIES}
    params = {}
    for name, (start, lo, hi) in setup.items():
        quantile = _QUANTILE[name]

        def objective(theta, quantile=quantile):
            with np.errstate(over="ignore", invalid="ignore"):
                value = float(np.sum((quantile(probs, theta[0], theta[1]) - q) ** 2))
            if not np.isfinite(value):  # R's L-BFGS-B stops; qe.fit then drops the family
                raise FloatingPointError(name)
            return value

        try:
            params[name], values[name] = _optim(objective, start, lo, hi)
        except FloatingPointError:
            continue
    best = min(params, key=lambda k: values[k])
    a, b = params[best]
    dist = QE_FAMILIES[best](a, b)
    fm = float(dist.pdf(dist.ppf(0.5)))
    return QEFit(scenario, best, (float(a), float(b)), values, fm, 0.25 / (fm * fm * n))


def pool_medians_qe(
    n,
    median=None,
    data=None,
    *,
    q1=None,
    q3=None,
    minimum=None,
    maximum=None,
    mean=None,
    sd=None,
    slab=None,
    **rma_options,
):
    """Pool medians by the quantile estimation method (McGrath et al. 2019).

    Parameters
    ----------
    n, median, q1, q3, minimum, maximum
        Sample sizes, medians, quartiles and ranges (values or column names
        of ``data``; any may have missing cells).
    mean, sd
        Studies reporting a mean and SD instead of a median contribute the
        mean with variance ``sd^2 / n``.
    slab
        Study labels.
    **rma_options
        Passed to :func:`metapool.rma` (``method``, ``test``, ``level``).

    Returns
    -------
    RMAResult
        Inverse-variance model of the medians (measure ``GEN``); rows with
        neither a usable median summary nor a mean and SD are excluded.
    """
    from ..models.rma import rma

    nn = column(data, n, "n")
    k = nn.shape[0]
    lab = labels(data, slab, k)
    cols = {role: (np.full(k, np.nan) if v is None else column(data, v, role, k, lab))
            for role, v in (("median", median), ("q1", q1), ("q3", q3), ("minimum", minimum),
                            ("maximum", maximum), ("mean", mean), ("sd", sd))}  # fmt: skip
    yi = np.full(k, np.nan)
    vi = np.full(k, np.nan)
    for i in range(k):
        c = {role: v[i] for role, v in cols.items()}
        if not np.isfinite(nn[i]):
            continue
        if np.isfinite(c["median"]) and (np.isfinite(c["q1"]) and np.isfinite(c["q3"])
                                         or np.isfinite(c["minimum"]) and np.isfinite(c["maximum"])):  # fmt: skip
            fit = qe_fit(nn[i], c["median"], q1=c["q1"], q3=c["q3"], minimum=c["minimum"], maximum=c["maximum"])
            yi[i], vi[i] = c["median"], fit.variance
        elif np.isfinite(c["mean"]) and np.isfinite(c["sd"]):
            yi[i], vi[i] = c["mean"], c["sd"] ** 2 / nn[i]
    return rma(yi, vi, slab=list(lab), ni=nn, **rma_options)
