"""Mantel-Haenszel and Peto common-effect models for 2x2 tables.

Both pool the tables directly instead of study-level estimates, as metafor's
``rma.mh`` and ``rma.peto`` do:

- the pooled estimate, its variance and the Cochran-Mantel-Haenszel and
  Breslow-Day tests use the *uncorrected* tables (studies with no events in
  either group are kept: they add nothing to the MH odds or risk ratio but do
  enter the MH risk difference);
- the test for heterogeneity (Q, I^2, H^2) uses study-level effect sizes from
  :func:`~metapool.effect_sizes.escalc` with metafor's defaults (1/2 added to
  every cell of tables with a zero cell, double-zero tables dropped).

The kernels take padded arrays with a leading batch axis (``[B, K]`` plus a
mask), so that a single analysis is a batch of one.

References
----------
Mantel N, Haenszel W (1959). Statistical aspects of the analysis of data from
retrospective studies of disease. J Natl Cancer Inst 22:719-748.
Robins J, Breslow N, Greenland S (1986). Estimators of the Mantel-Haenszel
variance consistent in both sparse data and large-strata limiting models.
Biometrics 42:311-323.
Greenland S, Robins JM (1985). Estimation of a common effect parameter from
sparse follow-up data. Biometrics 41:55-68.
Breslow NE, Day NE (1980). Statistical Methods in Cancer Research, Vol. I.
IARC, Lyon (test of homogeneity of odds ratios).
Tarone RE (1985). On heterogeneity tests based on efficient scores.
Biometrika 72:91-95.
Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Beta blockade during
and after myocardial infarction. Prog Cardiovasc Dis 27:335-371.
Viechtbauer W (2010). J Stat Softw 36(3):1-48.
"""

from __future__ import annotations

import math
import warnings as _warnings
from dataclasses import dataclass, field

import numpy as np

from .._distributions import chi2_sf
from .._validation import check_choice, check_level
from ..effect_sizes.escalc import escalc
from ..effect_sizes.table import EffectSizeTable
from ..exceptions import DataValidationError, MetapoolWarning
from ..inference.heterogeneity import common_i2_h2
from ..inference.tests import Coefficients, coefficient_tests
from .results import CoefficientTable, RMAResult, _num

__all__ = [
    "MH_MEASURES", "NOT_FOR_TABLES", "TableStats", "TableFits", "ChiSquareTest", "MHResult",
    "mh_tables", "peto_tables", "pool_tables", "refit_tables", "rma_mh", "rma_peto",
]  # fmt: skip

#: Why an analysis that refits inverse-variance models (trim-and-fill, influence diagnostics) is not run on
#: an MH or Peto fit (metafor has no ``trimfill`` or ``influence`` method for ``rma.mh``/``rma.peto``).
NOT_FOR_TABLES = "metafor has no version for Mantel-Haenszel or Peto fits, which pool the 2x2 tables directly"

#: Measures pooled by Mantel-Haenszel, with the variance each uses.
MH_MEASURES = {
    "OR": "log odds ratio; variance of Robins, Breslow & Greenland (1986)",
    "RR": "log risk ratio; variance of Greenland & Robins (1985)",
    "RD": "risk difference; variance of Greenland & Robins (1985)",
}


@dataclass(frozen=True)
class TableStats:
    """Batched results of pooling 2x2 tables (arrays of shape ``[B]``).

    ``estimate`` is on the analysis scale (log OR, log RR or RD) and NaN when
    undefined (e.g. no events in one arm of every table). The tests are NaN
    when they cannot be computed; ``bd_df`` is the number of tables entering
    the Breslow-Day test minus one. Peto's method fills ``q``; MH leaves it
    NaN (its Q comes from the study-level effect sizes).
    """

    estimate: np.ndarray
    se: np.ndarray
    weights: np.ndarray  # [B, K], unnormalised
    cmh: np.ndarray
    breslow_day: np.ndarray
    tarone: np.ndarray
    bd_df: np.ndarray
    q: np.ndarray


def _msum(x, mask):
    return np.where(mask, x, 0.0).sum(axis=-1)


def _cells(a, b, c, d, mask):
    """Padded cells with 1s outside the mask (no 0/0 there), and the margins."""
    a, b, c, d = (np.where(mask, np.asarray(x, dtype=float), 1.0) for x in (a, b, c, d))
    n1, n2 = a + b, c + d
    return a, b, c, d, n1, n2, n1 + n2, a + c, b + d


def _breslow_day(psi, a, n1, n2, n, xt, yt, mask):
    """Breslow-Day statistic and Tarone's corrected version at the common OR ``psi``.

    The expected count of each table under ``psi`` is the root in
    ``(max(0, xt - n2), min(n1, xt))`` of the conditional quadratic; tables
    without events or without non-events are left out, as in metafor.
    """
    p = psi[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        aa = p * (n1 + xt) + (n2 - xt)
        root = np.sqrt(aa**2 - 4.0 * n1 * xt * p * (p - 1.0))
        e11 = np.where(p == 1.0, n1 * xt / n, (aa - root) / (2.0 * (p - 1.0)))
        pos = mask & (e11 > 0) & (xt > 0) & (yt > 0)
        e11 = np.where(pos, e11, 1.0)
        info = 1.0 / (1.0 / e11 + 1.0 / (n1 - e11) + 1.0 / (xt - e11) + 1.0 / (e11 - n1 - xt + n))
        dev = a - e11
        bd = np.maximum(0.0, _msum(dev**2 / info, pos))
        tarone = np.maximum(0.0, bd - _msum(dev, pos) ** 2 / _msum(info, pos))
    df = pos.sum(axis=-1) - 1.0
    undefined = np.isnan(psi)
    bd = np.where(undefined, np.nan, bd)
    tarone = np.where(undefined, np.nan, tarone)
    return bd, tarone, np.where(undefined, np.nan, df)


def mh_tables(measure: str, a, b, c, d, mask, correct: bool = True) -> TableStats:
    """Mantel-Haenszel pooled OR, RR or RD of 2x2 tables ``[B, K]``.

    Parameters
    ----------
    measure
        ``"OR"``, ``"RR"`` or ``"RD"``.
    a, b, c, d
        Cells: events and non-events in group 1 (``a``, ``b``) and group 2
        (``c``, ``d``); uncorrected counts.
    mask
        True for the tables of each analysis.
    correct
        Continuity correction (1/2) in the Cochran-Mantel-Haenszel test.

    Returns
    -------
    TableStats
        For OR also the Cochran-Mantel-Haenszel test (Mantel & Haenszel 1959)
        and the Breslow-Day test with Tarone's (1985) correction.
    """
    mask = np.asarray(mask, dtype=bool)
    a, b, c, d, n1, n2, n, xt, yt = _cells(a, b, c, d, mask)
    nan = np.full(mask.shape[0], np.nan)
    cmh, bd, tarone, bd_df = nan, nan, nan, nan
    with np.errstate(invalid="ignore", divide="ignore"):
        if measure == "OR":
            r_i, s_i = a * d / n, b * c / n
            p_i, q_i = (a + d) / n, (b + c) / n
            r, s = _msum(r_i, mask), _msum(s_i, mask)
            var = 0.5 * (
                _msum(p_i * r_i, mask) / r**2
                + _msum(p_i * s_i + q_i * r_i, mask) / (r * s)
                + _msum(q_i * s_i, mask) / s**2
            )
            defined = (r > 0) & (s > 0)
            est, weights = np.log(r / s), s_i
            sum_xt, sum_yt = _msum(xt, mask), _msum(yt, mask)
            dev = np.abs(_msum(a - n1 * xt / n, mask)) - (0.5 if correct else 0.0)
            cmh = dev**2 / _msum(n1 * n2 * xt * yt / (n**2 * (n - 1.0)), mask)
            cmh = np.where((sum_xt > 0) & (sum_yt > 0), cmh, np.nan)
            psi = np.where(defined, r / s, np.nan)
            bd, tarone, bd_df = _breslow_day(psi, a, n1, n2, n, xt, yt, mask)
        elif measure == "RR":
            r, s = _msum(a * n2 / n, mask), _msum(c * n1 / n, mask)
            var = _msum(n1 * n2 * (a + c) / n**2 - a * c / n, mask) / (r * s)
            defined = (_msum(a, mask) > 0) & (_msum(c, mask) > 0)
            est, weights = np.log(r / s), c * n1 / n
        elif measure == "RD":
            weights = n1 * n2 / n
            wsum = _msum(weights, mask)
            est = _msum(a * n2 / n - c * n1 / n, mask) / wsum
            num = est * _msum(c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2.0, mask)
            num += _msum(a * (n2 - c) / n + c * (n1 - a) / n, mask) / 2.0
            var = num / wsum**2
            defined = np.ones(mask.shape[0], dtype=bool)
        else:
            raise ValueError(f"no Mantel-Haenszel estimator for measure {measure!r}")
        se = np.sqrt(var)
    est = np.where(defined, est, np.nan)
    se = np.where(defined, se, np.nan)
    return TableStats(est, se, np.where(mask, weights, 0.0), cmh, bd, tarone, bd_df, nan)


def peto_tables(a, b, c, d, mask) -> TableStats:
    """Peto's one-step log odds ratio of 2x2 tables ``[B, K]`` (Yusuf et al. 1985).

    ``estimate = sum(O - E) / sum(V)`` with ``E`` and ``V`` the hypergeometric
    mean and variance of the events in group 1; ``se = 1 / sqrt(sum(V))``;
    ``q = sum((O - E)^2 / V) - sum(O - E)^2 / sum(V)`` over tables with
    ``V > 0``, truncated at 0.
    """
    mask = np.asarray(mask, dtype=bool)
    a, b, c, d, n1, n2, n, xt, yt = _cells(a, b, c, d, mask)
    expected = xt * n1 / n
    var = xt * yt * (n1 / n) * (n2 / n) / (n - 1.0)
    pos = mask & (var > 0)
    total = _msum(var, mask)
    dev = _msum(a - expected, mask)
    with np.errstate(invalid="ignore", divide="ignore"):
        est, se = dev / total, 1.0 / np.sqrt(total)
        q = np.maximum(0.0, _msum((a - expected) ** 2 / np.where(pos, var, 1.0), pos) - dev**2 / total)
    nan = np.full(mask.shape[0], np.nan)
    return TableStats(est, se, np.where(mask, var, 0.0), nan, nan, nan, nan, q)


@dataclass(frozen=True)
class TableFits:
    """Batched pooled results of 2x2 tables with their test for heterogeneity (arrays ``[B]``).

    ``coef`` holds the z tests and CIs of the pooled estimate (``[B, 1]``);
    ``q`` is Cochran's Q (0, with ``q_pvalue`` 1, ``i2`` 0 and ``h2`` 1,
    where it has no test: fewer than two studies with a study-level
    estimate, or for Peto's method fewer than two informative tables), on
    ``q_df = k_yi - 1`` degrees of freedom.
    """

    k: np.ndarray
    k_yi: np.ndarray
    coef: Coefficients
    q: np.ndarray
    q_df: np.ndarray
    q_pvalue: np.ndarray
    i2: np.ndarray
    h2: np.ndarray


def pool_tables(method: str, measure: str, cells, yi, vi, mask, correct: bool, level: float):
    """Pool 2x2 tables by Mantel-Haenszel or Peto's method, each row of ``mask`` one analysis.

    Parameters
    ----------
    method
        ``"MH"`` or ``"PETO"``.
    measure
        ``"OR"``, ``"RR"``, ``"RD"`` (MH) or ``"PETO"``.
    cells
        The uncorrected cells ``ai, bi, ci, di`` of the ``K`` tables (arrays ``[K]``).
    yi, vi
        The tables' study-level estimates (NaN where a table has none); they
        enter only the Mantel-Haenszel test for heterogeneity (as in metafor).
    mask
        ``[B, K]``: the tables of each analysis.
    correct, level
        As for :func:`rma_mh`; ``level`` a fraction.

    Returns
    -------
    tuple of TableStats and TableFits
    """
    mask = np.atleast_2d(np.asarray(mask, dtype=bool))
    a, b, c, d = (np.broadcast_to(np.asarray(cells[r], dtype=float), mask.shape) for r in ("ai", "bi", "ci", "di"))
    has = mask & np.isfinite(yi) & np.isfinite(vi)
    k_yi = has.sum(axis=1)
    if method == "MH":
        stats = mh_tables(measure, a, b, c, d, mask, correct)
        beta = stats.estimate[:, None]
        with np.errstate(invalid="ignore"):
            q = np.maximum(0.0, _msum((np.where(has, yi, 0.0) - beta) ** 2 / np.where(has, vi, 1.0), has))
        testable = k_yi > 1
    else:
        stats = peto_tables(a, b, c, d, mask)
        q, testable = stats.q, (stats.weights > 0).sum(axis=1) > 1
    df = (k_yi - 1).astype(float)
    i2, h2 = common_i2_h2(q, df)
    coef = coefficient_tests(stats.estimate[:, None], (stats.se**2)[:, None, None],
                             np.full(mask.shape[0], np.inf), level)
    fits = TableFits(
        k=mask.sum(axis=1), k_yi=k_yi, coef=coef, q=np.where(testable, q, 0.0), q_df=np.maximum(df, 0.0),
        q_pvalue=np.where(testable, chi2_sf(q, df), 1.0), i2=np.where(testable, i2, 0.0),
        h2=np.where(testable, h2, 1.0),
    )  # fmt: skip
    return stats, fits


def refit_tables(res: "MHResult", mask) -> TableFits:
    """Refit the Mantel-Haenszel or Peto model of ``res`` to subsets ``mask[b]`` of its tables.

    Each row keeps the model's measure, continuity corrections and level, as
    metafor's ``leave1out.rma.mh`` and ``leave1out.rma.peto`` refit
    ``rma.mh``/``rma.peto`` on a subset (an estimate that is undefined for a
    subset is NaN, as metafor reports NA).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return pool_tables(res.method, res.measure, res.cells, res.yi, res.vi, mask, res.correct, res.level)[1]


@dataclass(frozen=True)
class ChiSquareTest:
    """A chi-square test: statistic, degrees of freedom and p-value (NaN if undefined)."""

    name: str
    statistic: float
    df: float
    pvalue: float

    def to_dict(self) -> dict:
        return {"statistic": _num(self.statistic), "df": _num(self.df), "pvalue": _num(self.pvalue)}


def _chi2(name: str, stat: float, df: float) -> ChiSquareTest:
    defined = math.isfinite(stat) and df >= 1
    return ChiSquareTest(name, float(stat), float(df), float(chi2_sf(stat, df)) if defined else math.nan)


@dataclass(frozen=True, kw_only=True)
class MHResult(RMAResult):
    """Result of a Mantel-Haenszel (``method="MH"``) or Peto (``"PETO"``) model.

    An :class:`~metapool.models.results.RMAResult` of a common-effect model
    (``tau2`` is 0, no prediction interval) with the same keys in
    :meth:`to_dict`, plus the tests of 2x2 tables.

    Attributes
    ----------
    k
        Number of tables pooled (including tables without events).
    k_yi
        Number of studies with a study-level effect size (those enter Q,
        whose degrees of freedom are ``k_yi - 1``).
    yi, vi
        Study-level effect sizes of the ``k`` tables (NaN for tables without
        one, e.g. no events in either group).
    weights
        Weights of the tables in the pooled estimate, in percent (metafor's
        ``weights()``).
    cmh
        Cochran-Mantel-Haenszel test of OR = 1 (MH odds ratio only).
    breslow_day, tarone
        Breslow-Day test of homogeneity of odds ratios and Tarone's corrected
        version (MH odds ratio only).
    cells
        The uncorrected cells ``ai, bi, ci, di`` of the ``k`` tables (for refits
        on subsets, :func:`refit_tables`).
    correct
        Whether the Cochran-Mantel-Haenszel test used the continuity correction.
    """

    k_yi: int = 0
    cells: dict = field(default_factory=dict, repr=False)
    correct: bool = True
    cmh: ChiSquareTest | None = None
    breslow_day: ChiSquareTest | None = None
    tarone: ChiSquareTest | None = None

    @property
    def model_name(self) -> str:
        return "Common-effect model (Mantel-Haenszel)" if self.method == "MH" else "Common-effect model (Peto)"

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["k_yi"] = self.k_yi
        for name in ("cmh", "breslow_day", "tarone"):
            test = getattr(self, name)
            d[name] = None if test is None else test.to_dict()
        return d


def _tables(measure, data, cols, slab, add, to, drop00) -> tuple[EffectSizeTable, np.ndarray]:
    """Validated tables with their study-level effect sizes (via escalc), and the rows pooled."""
    es = escalc(measure, data, slab=slab, add=add, to=to, drop00=drop00, **cols)
    keep = np.all([np.isfinite(es.cells[r]) for r in ("ai", "bi", "ci", "di")], axis=0)
    if not keep.any():
        raise DataValidationError("No table can be analysed (k = 0): every row misses a value.")
    return es, keep


def _result(method, measure, es, keep, level, correct=True) -> MHResult:
    """Pool the tables ``keep`` of ``es`` and assemble the result."""
    cells = {r: es.cells[r][keep] for r in ("ai", "bi", "ci", "di")}
    yi, vi = es.yi[keep], es.vi[keep]
    stats, fits = pool_tables(method, measure, cells, yi, vi, np.ones((1, len(yi)), dtype=bool), correct, level)
    if method == "PETO" and not stats.weights[0].sum() > 0:
        raise DataValidationError(
            "Peto's odds ratio is undefined: no table has both events and non-events."
        )
    tests = {}
    if measure == "OR" and method == "MH":
        df = float(stats.bd_df[0])
        tests = {
            "cmh": _chi2("Cochran-Mantel-Haenszel test", stats.cmh[0], 1.0),
            "breslow_day": _chi2("Breslow-Day test", stats.breslow_day[0], df),
            "tarone": _chi2("Tarone's test for heterogeneity", stats.tarone[0], df),
        }
    k, k_yi = int(keep.sum()), int(fits.k_yi[0])
    coef = fits.coef
    coefficients = CoefficientTable(
        ("intrcpt",), coef.estimate[0], coef.se[0], coef.statistic[0], coef.pvalue[0],
        coef.ci_lower[0], coef.ci_upper[0],
    )  # fmt: skip
    notes, warns = list(es.notes), []
    excluded = es.excluded_positions()
    dropped = [e for r, e in excluded.items() if keep[r]]
    if dropped:
        reasons = "; ".join(dict.fromkeys(e.reason for e in dropped))
        notes.append(
            f"Pooled, but without a study-level {es.measure} estimate and so left out of the test for"
            f" heterogeneity ({len(dropped)} of {k} tables): " + ", ".join(e.label for e in dropped)
            + f". Reason: {reasons}."
        )
    if math.isnan(stats.estimate[0]):
        warns.append(f"The {method} estimate is undefined for these data (no events in one group of every table).")
    for w in warns:
        _warnings.warn(w, MetapoolWarning, stacklevel=3)
    w = stats.weights[0]
    return MHResult(
        measure=measure, method=method, test="z", level=level, k=k, coefficients=coefficients,
        vb=(stats.se**2)[:, None], tau2=0.0, tau2_se=math.nan, tau2_fixed=False,
        q=float(fits.q[0]), q_df=float(fits.q_df[0]), q_pvalue=float(fits.q_pvalue[0]), i2=float(fits.i2[0]),
        h2=float(fits.h2[0]), vt=math.nan, ddf=None, s2w=1.0,
        pi_lower=math.nan, pi_upper=math.nan, yi=yi, vi=vi, ni=es.ni[keep],
        slab=tuple(np.asarray(es.slab, dtype=object)[keep]),
        weights=100.0 * w / w.sum() if w.sum() > 0 else np.full(k, np.nan), rows=es.rows[keep],
        exclusions=tuple(e for r, e in excluded.items() if not keep[r]),
        corrected=tuple(es.slab[i] for i in np.flatnonzero(es.corrected & keep)),
        warnings=tuple(warns), notes=tuple(notes), random=False, k_yi=k_yi, cells=cells, correct=correct, **tests,
    )  # fmt: skip


def _given(ai, bi, ci, di, n1i, n2i) -> dict:
    cols = {"ai": ai, "bi": bi, "ci": ci, "di": di, "n1i": n1i, "n2i": n2i}
    return {r: v for r, v in cols.items() if v is not None}


def rma_mh(
    measure: str = "OR",
    data=None,
    *,
    ai=None, bi=None, ci=None, di=None, n1i=None, n2i=None,
    slab=None,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = True,
    correct: bool = True,
    level: float = 95,
) -> MHResult:  # fmt: skip
    """Mantel-Haenszel common-effect model for 2x2 tables (metafor's ``rma.mh``).

    Parameters
    ----------
    measure
        ``"OR"`` (default), ``"RR"`` or ``"RD"``.
    data, ai, bi, ci, di, n1i, n2i, slab
        The tables, as for :func:`~metapool.effect_sizes.escalc`: events
        ``ai``/``ci`` with totals ``n1i``/``n2i``, or the four cells.
    add, to, drop00
        Continuity correction of the *study-level* effect sizes used for the
        test for heterogeneity only (metafor's defaults: 1/2 added to tables
        with a zero cell; tables without events, or with only events, in both
        groups dropped). The pooled estimate uses the uncorrected tables.
    correct
        Continuity correction in the Cochran-Mantel-Haenszel test.
    level
        Confidence level (percent or fraction).

    Returns
    -------
    MHResult
        Pooled estimate with its z test and CI (variance of Robins, Breslow &
        Greenland 1986 for OR, Greenland & Robins 1985 for RR and RD), Q, I^2
        and H^2 from the study-level estimates; for OR also the
        Cochran-Mantel-Haenszel test and the Breslow-Day test with Tarone's
        correction.

    Raises
    ------
    DataValidationError
        Impossible counts (named by row and column), or no usable table.

    References
    ----------
    Mantel N, Haenszel W (1959). J Natl Cancer Inst 22:719-748.
    Robins J, Breslow N, Greenland S (1986). Biometrics 42:311-323.
    Greenland S, Robins JM (1985). Biometrics 41:55-68.
    Tarone RE (1985). Biometrika 72:91-95.
    """
    measure = check_choice("rma_mh", "measure", measure, MH_MEASURES)
    lev = check_level("rma_mh", level)
    es, keep = _tables(measure, data, _given(ai, bi, ci, di, n1i, n2i), slab, add, to, drop00)
    return _result("MH", measure, es, keep, lev, correct)


def rma_peto(
    data=None,
    *,
    ai=None, bi=None, ci=None, di=None, n1i=None, n2i=None,
    slab=None,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = True,
    level: float = 95,
) -> MHResult:  # fmt: skip
    """Peto's common-effect odds ratio for 2x2 tables (metafor's ``rma.peto``).

    Parameters are those of :func:`rma_mh`. The estimate, its SE and the test
    for heterogeneity come from the observed minus expected events and their
    hypergeometric variances in the uncorrected tables (Yusuf et al. 1985);
    ``add``/``to``/``drop00`` only shape the study-level estimates (``yi``,
    ``vi``) and so the degrees of freedom of Q (``k_yi - 1``, as in metafor).

    Returns
    -------
    MHResult
        With ``measure="PETO"`` and ``method="PETO"``.

    Raises
    ------
    DataValidationError
        Impossible counts, no usable table, or no table with both events and
        non-events (the estimate is then undefined).

    References
    ----------
    Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Prog Cardiovasc Dis
    27:335-371.
    """
    lev = check_level("rma_peto", level)
    es, keep = _tables("PETO", data, _given(ai, bi, ci, di, n1i, n2i), slab, add, to, drop00)
    return _result("PETO", "PETO", es, keep, lev)
