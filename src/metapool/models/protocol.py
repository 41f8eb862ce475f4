"""The shape every pooled result shares: :class:`PooledResult`.

rma (common and random effects), Mantel-Haenszel, Peto, GLMM and each
subgroup's fit answer the same questions under the same names, so that the
report, the card, the figures and the command line read any of them without
asking which model it is. A model adds its own attributes (the Breslow-Day
test of MH, the likelihood-ratio Q of a GLMM), never a different name for a
shared one.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["PooledResult"]


@runtime_checkable
class PooledResult(Protocol):
    """A pooled (intercept-only) meta-analytic result.

    ``isinstance(result, PooledResult)`` checks that every name below exists
    (a model with moderators has no single ``estimate`` and fails it).

    Attributes
    ----------
    measure
        Effect measure code (:data:`~metapool.effect_sizes.MEASURES`), or None
        for generic effect sizes.
    k, level
        Number of studies pooled; confidence level as a fraction.
    estimate, se, ci_lower, ci_upper
        Pooled value on the analysis scale, its standard error and CI.
    pi_lower, pi_upper
        Prediction interval (NaN for common-effect models).
    tau2, tau2_se
        Between-study variance and its standard error (0 and NaN for
        common-effect models; NaN where no SE is defined).
    i2, h2
        I^2 (percent) and H^2.
    q, q_df, q_pvalue
        Test for heterogeneity.
    rows
        The 0-based input-table row of each pooled study (an int array of
        length ``k``, in the order of ``slab`` and ``weights``).
    slab
        The pooled studies' labels (they may repeat; rows do not).
    exclusions
        Input rows left out, as :class:`~metapool.effect_sizes.table.Exclusion`.
    weights
        Each study's weight in percent (NaN where undefined).
    coefficients
        The coefficient table (one row, ``"intrcpt"``).
    """

    measure: str | None
    k: int
    level: float
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    pi_lower: float
    pi_upper: float
    tau2: float
    tau2_se: float
    i2: float
    h2: float
    q: float
    q_df: float
    q_pvalue: float
    rows: np.ndarray
    slab: tuple
    exclusions: tuple
    weights: np.ndarray
    coefficients: object

    def back(self, level=None):
        """The pooled values on the natural scale (a Prediction), or None when the scale is natural."""

    def predict(self, *, level=None):
        """The pooled value with its CI and prediction interval at ``level`` (a Prediction)."""

    def conf_int(self, level=None) -> tuple[float, float]:
        """The CI of the pooled value at ``level`` (default: the fit's level)."""
