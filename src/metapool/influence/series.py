"""Series of refits on subsets: leave-one-out and cumulative meta-analysis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._summary import Rendered
from ..models.fit import BatchFit
from ..models.mh_peto import TableFits
from ..models.results import _freeze, _num

__all__ = ["SubsetSeries", "series_from_fit", "series_from_tables"]

_COLUMNS = ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper", "q", "q_pvalue", "tau2", "i2", "h2")


@dataclass(frozen=True)
class SubsetSeries(Rendered):
    """One refit per row: pooled estimate, CI, heterogeneity (arrays ``[n]``).

    ``kind`` is ``"leave-one-out"`` (row i omits study ``slab[i]``) or
    ``"cumulative"`` (row i adds study ``slab[i]`` to those above it).
    ``statistic`` is a z or t value as the model's test says (``ddf``).
    Refits that fail to converge are NaN, as metafor reports them as NA.
    """

    kind: str
    slab: tuple
    k: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    q: np.ndarray
    q_pvalue: np.ndarray
    tau2: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    ddf: np.ndarray
    method: str
    test: str
    level: float
    random: bool

    def __post_init__(self) -> None:
        _freeze(self)

    def to_records(self) -> list[dict]:
        """One JSON-safe dict per row (NaN as None)."""
        return [
            {"study": self.slab[i], "k": int(self.k[i])}
            | {c: _num(getattr(self, c)[i]) for c in _COLUMNS}
            for i in range(len(self.slab))
        ]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "method": self.method, "test": self.test,
                "level": self.level * 100.0, "rows": self.to_records()}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.to_records()).set_index("study")


def series_from_fit(kind: str, slab, bf: BatchFit, res) -> SubsetSeries:
    """Collect the pooled results of a batch of intercept-only refits."""
    het = bf.het
    return _series(kind, slab, bf.k, bf.converged, bf.coef, het.q, het.pvalue, bf.tau2, het.i2, het.h2, res)


def series_from_tables(kind: str, slab, fits: TableFits, res) -> SubsetSeries:
    """Collect the refits of a Mantel-Haenszel or Peto model (:func:`~metapool.models.mh_peto.refit_tables`).

    ``tau2`` is 0: these are common-effect models.
    """
    ok = np.ones(len(fits.k), dtype=bool)
    return _series(kind, slab, fits.k, ok, fits.coef, fits.q, fits.q_pvalue, np.zeros(len(fits.k)), fits.i2,
                   fits.h2, res)


def _series(kind, slab, k, ok, c, q, q_pvalue, tau2, i2, h2, res) -> SubsetSeries:
    def col(a):
        return np.where(ok, a, np.nan)

    return SubsetSeries(
        kind=kind,
        slab=tuple(slab),
        k=np.asarray(k),
        estimate=col(c.estimate[:, 0]),
        se=col(c.se[:, 0]),
        statistic=col(c.statistic[:, 0]),
        pvalue=col(c.pvalue[:, 0]),
        ci_lower=col(c.ci_lower[:, 0]),
        ci_upper=col(c.ci_upper[:, 0]),
        q=col(q),
        q_pvalue=col(q_pvalue),
        tau2=col(tau2),
        i2=col(i2),
        h2=col(h2),
        ddf=c.ddf,
        method=res.method,
        test=res.test,
        level=res.level,
        random=res.random,
    )
