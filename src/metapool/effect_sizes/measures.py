"""Definitions of the effect measures (metafor's ``escalc`` formulas).

Each function maps canonical, already corrected cells to ``(yi, vi)``.
Variances are the large-sample ones metafor uses by default (``vtype="LS"``).

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3):1-48.
Freeman MF, Tukey JW (1950). Ann Math Stat 21:607-611.
Hedges LV (1981). J Educ Stat 6:107-128.
Fisher RA (1921). On the "probable error" of a coefficient of correlation
deduced from a small sample. Metron 1:3-32.
Hedges LV, Gurevitch J, Curtis PS (1999). The meta-analysis of response ratios
in experimental ecology. Ecology 80:1150-1156.
Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Prog Cardiovasc Dis
27:335-371.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from .registry import Measure, register


def _single(c):
    xi, mi = c["xi"], c["mi"]
    return xi, mi, xi + mi


def _pr(c):
    xi, _, ni = _single(c)
    p = xi / ni
    return p, p * (1.0 - p) / ni


def _pln(c):
    xi, _, ni = _single(c)
    return np.log(xi / ni), 1.0 / xi - 1.0 / ni


def _plo(c):
    xi, mi, _ = _single(c)
    return np.log(xi / mi), 1.0 / xi + 1.0 / mi


def _pas(c):
    xi, _, ni = _single(c)
    return np.arcsin(np.sqrt(xi / ni)), 1.0 / (4.0 * ni)


def _pft(c):
    xi, _, ni = _single(c)
    yi = 0.5 * (np.arcsin(np.sqrt(xi / (ni + 1.0))) + np.arcsin(np.sqrt((xi + 1.0) / (ni + 1.0))))
    return yi, 1.0 / (4.0 * ni + 2.0)


def _two_by_two(c):
    ai, bi, ci, di = c["ai"], c["bi"], c["ci"], c["di"]
    return ai, bi, ci, di, ai + bi, ci + di


def _or(c):
    ai, bi, ci, di, _, _ = _two_by_two(c)
    return np.log(ai * di / (bi * ci)), 1.0 / ai + 1.0 / bi + 1.0 / ci + 1.0 / di


def _rr(c):
    ai, _, ci, _, n1, n2 = _two_by_two(c)
    return np.log(ai / n1) - np.log(ci / n2), 1.0 / ai - 1.0 / n1 + 1.0 / ci - 1.0 / n2


def _rd(c):
    ai, _, ci, _, n1, n2 = _two_by_two(c)
    p1, p2 = ai / n1, ci / n2
    return p1 - p2, p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2


def _peto(c):
    ai, bi, ci, di, n1, n2 = _two_by_two(c)
    n = n1 + n2
    expected = (ai + ci) * n1 / n
    var = (ai + ci) * (bi + di) * (n1 / n) * (n2 / n) / (n - 1.0)
    return (ai - expected) / var, 1.0 / var


def _ir(c):
    rate = c["xi"] / c["ti"]
    return rate, rate / c["ti"]


def _irln(c):
    return np.log(c["xi"] / c["ti"]), 1.0 / c["xi"]


def _irs(c):
    return np.sqrt(c["xi"] / c["ti"]), 1.0 / (4.0 * c["ti"])


def _irft(c):
    rate, ti = c["xi"] / c["ti"], c["ti"]
    return 0.5 * (np.sqrt(rate) + np.sqrt(rate + 1.0 / ti)), 1.0 / (4.0 * ti)


def _mn(c):
    return c["meani"], c["sdi"] ** 2 / c["ni"]


def _mnln(c):
    m = c["meani"]
    return np.log(m), c["sdi"] ** 2 / (c["ni"] * m**2)


def _rom(c):
    m1, m2 = c["m1i"], c["m2i"]
    return np.log(m1 / m2), c["sd1i"] ** 2 / (c["n1i"] * m1**2) + c["sd2i"] ** 2 / (c["n2i"] * m2**2)


def _cor(c):
    r = c["ri"]
    n = c["ni"]
    return r, np.where(n > 3, (1.0 - r**2) ** 2 / (n - 1.0), np.nan)


def _zcor(c):
    r, n = c["ri"], c["ni"]
    return np.arctanh(r), np.where(n > 3, 1.0 / (n - 3.0), np.nan)


def _md(c):
    return c["m1i"] - c["m2i"], c["sd1i"] ** 2 / c["n1i"] + c["sd2i"] ** 2 / c["n2i"]


def hedges_correction(m):
    """Exact small-sample correction J(m) of Hedges (1981), m degrees of freedom."""
    m = np.asarray(m, dtype=float)
    return np.exp(gammaln(m / 2.0) - 0.5 * np.log(m / 2.0) - gammaln((m - 1.0) / 2.0))


def _smd(c):
    n1, n2 = c["n1i"], c["n2i"]
    m = n1 + n2 - 2.0
    sp = np.sqrt(((n1 - 1.0) * c["sd1i"] ** 2 + (n2 - 1.0) * c["sd2i"] ** 2) / m)
    yi = hedges_correction(m) * (c["m1i"] - c["m2i"]) / sp
    return yi, 1.0 / n1 + 1.0 / n2 + yi**2 / (2.0 * (n1 + n2))


def _generic(c):
    return c["yi"], c["vi"]


_METAFOR = "Viechtbauer (2010), metafor escalc()"

for _m in (
    Measure("PR", "raw proportion", "single", "proportion", "proportion", "identity", _pr, 0.5, _METAFOR),
    Measure("PLN", "log proportion", "single", "log proportion", "proportion", "exp", _pln, 0.5, _METAFOR),
    Measure("PLO", "logit proportion", "single", "log odds", "proportion", "ilogit", _plo, 0.5, _METAFOR),
    Measure("PAS", "arcsine square-root proportion", "single", "arcsine", "proportion", "iarcsin", _pas, 0.0, _METAFOR),
    Measure(
        "PFT", "Freeman-Tukey double arcsine proportion", "single", "double arcsine", "proportion",
        "ipft_hm", _pft, 0.0, "Freeman & Tukey (1950); back-transform Miller (1978)",
    ),
    Measure("OR", "odds ratio", "binary", "log odds ratio", "odds ratio", "exp", _or, 0.5, _METAFOR),
    Measure("RR", "risk ratio", "binary", "log risk ratio", "risk ratio", "exp", _rr, 0.5, _METAFOR),
    Measure("RD", "risk difference", "binary", "risk difference", "risk difference", "identity", _rd, 0.5, _METAFOR),
    Measure(
        "PETO", "log odds ratio (Peto's method)", "binary", "log odds ratio", "odds ratio", "exp", _peto, 0.5,
        "Yusuf et al. (1985): (O - E) / V with the hypergeometric variance V",
        undefined="no events, or only events, in both groups",
    ),
    Measure("MD", "mean difference", "continuous", "mean difference", "mean difference", "identity", _md, 0.0, _METAFOR),
    Measure(
        "SMD", "standardised mean difference (Hedges' g)", "continuous", "Hedges' g", "Hedges' g",
        "identity", _smd, 0.0, "Hedges (1981), exact correction; variance as metafor",
    ),
    Measure(
        "ROM", "ratio of means", "continuous", "log ratio of means", "ratio of means", "exp", _rom, 0.0,
        "Hedges, Gurevitch & Curtis (1999); large-sample variance as metafor",
        positive=("m1i", "m2i"),
    ),
    Measure(
        "IR", "incidence rate", "rate", "rate", "rate", "identity", _ir, 0.5, _METAFOR,
        undefined="zero events without a continuity correction",
    ),
    Measure(
        "IRLN", "log incidence rate", "rate", "log rate", "rate", "exp", _irln, 0.5, _METAFOR,
        undefined="zero events without a continuity correction",
    ),
    Measure("IRS", "square-root incidence rate", "rate", "square-root rate", "rate", "square", _irs, 0.0, _METAFOR),
    Measure(
        "IRFT", "Freeman-Tukey incidence rate", "rate", "Freeman-Tukey rate", "rate", "iirft_hm", _irft, 0.0,
        "Freeman & Tukey (1950), as metafor's IRFT; back-transform transf.iirft",
    ),
    Measure("MN", "raw mean", "mean", "mean", "mean", "identity", _mn, 0.0, _METAFOR),
    Measure(
        "MNLN", "log mean", "mean", "log mean", "mean", "exp", _mnln, 0.0, _METAFOR, positive=("meani",),
    ),
    Measure(
        "COR", "raw correlation coefficient", "correlation", "correlation", "correlation", "identity", _cor,
        0.0, "Pearson correlation; large-sample variance (1 - r^2)^2 / (n - 1) as metafor",
        undefined="metafor leaves the variance undefined for n <= 3",
    ),
    Measure(
        "ZCOR", "Fisher's r-to-z transformed correlation", "correlation", "Fisher's z", "correlation", "tanh",
        _zcor, 0.0, "Fisher (1921); variance 1 / (n - 3)",
        undefined="Fisher's z needs |r| < 1 and n >= 4 (variance 1 / (n - 3))",
    ),
    Measure("GEN", "generic effect", "generic", "as given", "as given", "identity", _generic, 0.0, "user-supplied yi and vi"),
    Measure(
        "LNR", "generic log ratio (e.g. hazard ratio)", "generic", "log ratio", "ratio", "exp",
        _generic, 0.0, "user-supplied log ratios, or ratios with CIs converted to log scale",
    ),
    Measure(
        "PCI", "proportion reported with its CI (e.g. 1-year survival)", "generic", "log odds", "proportion",
        "ilogit", _generic, 0.0, "reported proportions with CIs converted to the logit scale",
    ),
):
    register(_m)
