"""Definitions of the effect measures (metafor's ``escalc`` formulas).

Each function maps canonical, already corrected cells to ``(yi, vi)``.
Variances are the large-sample ones metafor uses by default (``vtype="LS"``).

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3):1-48.
Freeman MF, Tukey JW (1950). Ann Math Stat 21:607-611.
Hedges LV (1981). J Educ Stat 6:107-128.
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
    Measure("MD", "mean difference", "continuous", "mean difference", "mean difference", "identity", _md, 0.0, _METAFOR),
    Measure(
        "SMD", "standardised mean difference (Hedges' g)", "continuous", "Hedges' g", "Hedges' g",
        "identity", _smd, 0.0, "Hedges (1981), exact correction; variance as metafor",
    ),
    Measure("GEN", "generic effect", "generic", "as given", "as given", "identity", _generic, 0.0, "user-supplied yi and vi"),
    Measure(
        "LNR", "generic log ratio (e.g. hazard ratio)", "generic", "log ratio", "ratio", "exp",
        _generic, 0.0, "user-supplied log ratios, or ratios with CIs converted to log scale",
    ),
):
    register(_m)
