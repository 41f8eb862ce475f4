"""Sample mean and SD from the median with the IQR and/or the range.

So that studies reporting medians can join a mean-difference analysis. The SD
follows Wan et al. (2014) and the mean Luo et al. (2018) (default) or Wan et
al. (2014), in the three scenarios of those papers:

* C1: minimum, median, maximum, n
* C2: first quartile, median, third quartile, n
* C3: all five numbers and n

References
----------
Wan X, Wang W, Liu J, Tong T (2014). Estimating the sample mean and standard
deviation from the sample size, median, range and/or interquartile range. BMC
Med Res Methodol 14:135.
Luo D, Wan X, Liu J, Tong T (2018). Optimally estimating the sample mean from
the sample size, median, mid-range, and/or mid-quartile range. Stat Methods
Med Res 27:1785-1805.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._distributions import norm_ppf
from .._summary import Summarized
from .._validation import check_choice
from ..exceptions import DataValidationError
from ._input import column, labels

__all__ = ["MeanSDEstimate", "estimate_mean_sd", "WAN_TABLE1", "WAN_TABLE2", "wan_xi", "wan_eta"]

_MEAN_METHODS = ("luo", "wan")


#: Wan et al. (2014) Table 1: xi(n) = 2 E[Z_(n:n)] (expected range of n standard
#: normal values) for n = 1..50, as published (three decimals).
WAN_TABLE1 = (
    0.000, 1.128, 1.693, 2.059, 2.326, 2.534, 2.704, 2.847, 2.970, 3.078,
    3.173, 3.259, 3.336, 3.407, 3.472, 3.532, 3.588, 3.640, 3.689, 3.735,
    3.778, 3.819, 3.858, 3.895, 3.931, 3.964, 3.997, 4.027, 4.057, 4.086,
    4.113, 4.139, 4.165, 4.189, 4.213, 4.236, 4.259, 4.280, 4.301, 4.322,
    4.341, 4.361, 4.379, 4.398, 4.415, 4.433, 4.450, 4.466, 4.482, 4.498,
)  # fmt: skip
#: Wan et al. (2014) Table 2: eta(Q) = 2 E[Z_(3Q+1:4Q+1)] (expected IQR of
#: n = 4Q + 1 standard normal values) for Q = 1..50, as published.
WAN_TABLE2 = (
    0.990, 1.144, 1.206, 1.239, 1.260, 1.274, 1.284, 1.292, 1.298, 1.303,
    1.307, 1.311, 1.313, 1.316, 1.318, 1.320, 1.322, 1.323, 1.324, 1.326,
    1.327, 1.328, 1.329, 1.330, 1.330, 1.331, 1.332, 1.332, 1.333, 1.333,
    1.334, 1.334, 1.335, 1.335, 1.336, 1.336, 1.336, 1.337, 1.337, 1.337,
    1.338, 1.338, 1.338, 1.338, 1.339, 1.339, 1.339, 1.339, 1.339, 1.340,
)  # fmt: skip


def wan_xi(n: int) -> float:
    """The range divisor xi(n): Table 1 for n <= 50, else 2 Phi^-1((n - 0.375)/(n + 0.25))."""
    n = int(n)
    if n <= 50:
        return WAN_TABLE1[n - 1]
    return float(2.0 * norm_ppf((n - 0.375) / (n + 0.25)))


def wan_eta(n: int) -> float:
    """The IQR divisor eta(n): Table 2 (Q = ceil((n - 1)/4)) for n <= 201, else the approximation.

    The approximation is 2 Phi^-1((0.75 n - 0.125)/(n + 0.25)); for n not of
    the form 4Q + 1 the table entry of the next Q is used, as R's meta does.
    """
    n = int(n)
    if n <= 201:
        return WAN_TABLE2[max(1, -(-(n - 1) // 4)) - 1]
    return float(2.0 * norm_ppf((0.75 * n - 0.125) / (n + 0.25)))


@dataclass(frozen=True)
class MeanSDEstimate(Summarized):
    """Estimated means and SDs, one per study (NaN where no scenario applies).

    ``scenario`` is ``"C1"``, ``"C2"``, ``"C3"`` or ``""`` per study;
    ``mean_method`` the mean estimator used (``"luo"`` or ``"wan"``).
    """

    mean: np.ndarray
    sd: np.ndarray
    scenario: tuple
    mean_method: str
    slab: tuple = ()

    def __post_init__(self) -> None:
        for name in ("mean", "sd"):
            a = np.array(getattr(self, name), dtype=float, copy=True)
            a.flags.writeable = False
            object.__setattr__(self, name, a)

    def to_dict(self) -> dict:
        """JSON-safe: one record per study, missing estimates as None."""

        def num(x):
            return float(x) if np.isfinite(x) else None

        return {
            "mean_method": self.mean_method,
            "studies": [
                {"study": s, "scenario": sc or None, "mean": num(m), "sd": num(d)}
                for s, sc, m, d in zip(self.slab, self.scenario, self.mean, self.sd)
            ],
        }

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(
            {"study": list(self.slab), "scenario": list(self.scenario), "mean": self.mean, "sd": self.sd}
        )


def _luo_mean(sc, n, a, q1, m, q3, b):
    if sc == "C1":
        w = 4.0 / (4.0 + n**0.75)
        return w * (a + b) / 2.0 + (1.0 - w) * m
    if sc == "C2":
        w = 0.7 + 0.39 / n
        return w * (q1 + q3) / 2.0 + (1.0 - w) * m
    w1 = 2.2 / (2.2 + n**0.75)
    w2 = 0.7 - 0.72 / n**0.55
    return w1 * (a + b) / 2.0 + w2 * (q1 + q3) / 2.0 + (1.0 - w1 - w2) * m


def _wan_mean(sc, n, a, q1, m, q3, b):
    if sc == "C1":
        return (a + 2.0 * m + b) / 4.0
    if sc == "C2":
        return (q1 + m + q3) / 3.0
    return (a + 2.0 * q1 + 2.0 * m + 2.0 * q3 + b) / 8.0


def _wan_sd(sc, n, a, q1, m, q3, b):
    if sc == "C1":
        return (b - a) / wan_xi(n)
    if sc == "C2":
        return (q3 - q1) / wan_eta(n)
    return 0.5 * ((b - a) / wan_xi(n) + (q3 - q1) / wan_eta(n))


def estimate_mean_sd(
    n,
    median,
    data=None,
    *,
    q1=None,
    q3=None,
    minimum=None,
    maximum=None,
    mean_method: str = "luo",
    slab=None,
) -> MeanSDEstimate:
    """Estimate each study's mean and SD from its median, IQR and/or range.

    Each study uses the richest scenario its cells allow: C3 (all five
    numbers), else C2 (quartiles), else C1 (range). The SD is Wan et al.'s
    (2014) estimator, with the expected normal order statistics of their
    Tables 1-2 for small samples (n <= 50 for the range, n <= 201 for the
    IQR) and their approximations above; the mean is Luo et al.'s (2018)
    optimally weighted estimator (``mean_method="luo"``, default) or Wan et
    al.'s (``"wan"``). Both assume roughly normal data; strongly skewed
    outcomes are better pooled as medians (:func:`pool_medians`).

    Parameters
    ----------
    n, median
        Sample sizes and medians (values or column names of ``data``).
    q1, q3, minimum, maximum
        Quartiles and range (any may be absent or have missing cells).
    mean_method
        ``"luo"`` or ``"wan"``.
    slab
        Study labels, used in messages.
    """
    method = check_choice("estimate_mean_sd", "mean_method", mean_method, _MEAN_METHODS)
    m = column(data, median, "median")
    k = m.shape[0]
    lab = labels(data, slab, k)
    nn = column(data, n, "n", k, lab)
    nan = np.full(k, np.nan)
    a, lo, hi, b = (nan if v is None else column(data, v, role, k, lab)
                    for v, role in ((minimum, "minimum"), (q1, "q1"), (q3, "q3"), (maximum, "maximum")))  # fmt: skip
    mean_f = _luo_mean if method == "luo" else _wan_mean
    means, sds, scenarios = nan.copy(), nan.copy(), []
    for i in range(k):
        has_range = np.isfinite(a[i]) and np.isfinite(b[i])
        has_iqr = np.isfinite(lo[i]) and np.isfinite(hi[i])
        sc = "" if not (np.isfinite(m[i]) and np.isfinite(nn[i])) else (
            "C3" if has_range and has_iqr else "C2" if has_iqr else "C1" if has_range else "")  # fmt: skip
        scenarios.append(sc)
        if not sc:
            continue
        ni = nn[i]
        if ni < 2 or ni != np.floor(ni):
            raise DataValidationError(f"Study {lab[i]!r}: n must be an integer >= 2 (got {ni:g}).")
        order = [v for v in (a[i], lo[i], m[i], hi[i], b[i]) if np.isfinite(v)]
        if any(x > y for x, y in zip(order, order[1:])):
            raise DataValidationError(
                f"Study {lab[i]!r}: the summary values must be ordered minimum <= q1 <= median <= q3 <= maximum."
            )
        args = (sc, ni, a[i], lo[i], m[i], hi[i], b[i])
        means[i] = mean_f(*args)
        sds[i] = _wan_sd(*args)
    return MeanSDEstimate(means, sds, tuple(scenarios), method, lab)
