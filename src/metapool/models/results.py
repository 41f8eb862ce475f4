"""Frozen result types of model fits and their derived quantities."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._summary import Rendered
from .._validation import check_level
from ..effect_sizes.registry import MEASURES
from ..effect_sizes.transforms import TRANSFORMS
from ..inference.heterogeneity import random_i2_h2
from ..inference.intervals import natural_limits, prediction_interval
from ..inference.tests import critical
from .kernels import Batch
from .q_profile import q_profile
from .rootfind import Control
from .uniroot import R_TOL

__all__ = ["CoefficientTable", "ModeratorTest", "Prediction", "HeterogeneityCI", "RMAResult"]


def _num(x) -> float | None:
    """A float for JSON, with NaN/inf as None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _freeze(obj) -> None:
    """Make every ndarray field of a frozen dataclass read-only (a private copy)."""
    for name, value in vars(obj).items():
        if isinstance(value, np.ndarray):
            value = np.array(value, copy=True)
            value.flags.writeable = False
            object.__setattr__(obj, name, value)


#: Keys of the pooled estimate and of heterogeneity in every model's JSON (``metapool pool --json``).
ESTIMATE_KEYS = ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper", "pi_lower", "pi_upper")
HETEROGENEITY_KEYS = ("ddf", "tau2", "tau2_se", "tau", "i2", "h2", "q", "q_df", "q_pvalue")


def json_numbers(obj, keys) -> dict:
    """``{key: value}`` for the numeric attributes ``keys`` of a result (NaN/inf/missing as None)."""
    return {k: _num(getattr(obj, k, None)) for k in keys}


@dataclass(frozen=True)
class CoefficientTable:
    """Model coefficients with their inference (one entry per coefficient)."""

    names: tuple
    estimate: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray

    def __post_init__(self) -> None:
        _freeze(self)

    def to_records(self) -> list[dict]:
        return [
            {
                "name": n,
                "estimate": _num(self.estimate[i]),
                "se": _num(self.se[i]),
                "statistic": _num(self.statistic[i]),
                "pvalue": _num(self.pvalue[i]),
                "ci_lower": _num(self.ci_lower[i]),
                "ci_upper": _num(self.ci_upper[i]),
            }
            for i, n in enumerate(self.names)
        ]

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.to_records()).set_index("name")


@dataclass(frozen=True)
class ModeratorTest:
    """Omnibus test of the moderators (QM) and the pseudo-R^2 of a meta-regression.

    ``statistic`` is QM (chi-square, ``df``) for z inference, or QM / df
    (F with ``df`` and ``ddf`` degrees of freedom) for t and Knapp-Hartung.
    ``r2`` (percent) is the proportional reduction of tau2 against the model
    without moderators (for the common-effect model: the adjusted R^2 of the
    weighted regression); NaN without an intercept.
    """

    names: tuple
    statistic: float
    df: int
    ddf: float | None
    pvalue: float
    r2: float
    formula: str = ""
    intercept: bool = True


@dataclass(frozen=True)
class Prediction:
    """A pooled (or predicted) value with its CI and prediction interval.

    ``scale`` is ``"analysis"`` or ``"natural"`` (after back-transformation);
    ``pi_lower``/``pi_upper`` are NaN for common-effect models.
    """

    estimate: float
    ci_lower: float
    ci_upper: float
    pi_lower: float
    pi_upper: float
    level: float
    scale: str = "analysis"
    se: float = float("nan")

    def to_dict(self) -> dict:
        return {
            "estimate": _num(self.estimate),
            "ci_lower": _num(self.ci_lower),
            "ci_upper": _num(self.ci_upper),
            "pi_lower": _num(self.pi_lower),
            "pi_upper": _num(self.pi_upper),
        }

    def back_transformed(self, transform, ni=None) -> Prediction:
        """The values on the natural scale: each one transformed, the limits of each interval in order.

        ``transform`` is the measure's back-transformation, ``ni`` the study
        sizes it may need (:func:`~metapool.inference.intervals.natural_limits`).
        """
        est = float(np.ravel(transform(np.array([self.estimate]), ni))[0])
        ci = natural_limits(transform, self.ci_lower, self.ci_upper, ni)
        pi = natural_limits(transform, self.pi_lower, self.pi_upper, ni)
        return Prediction(est, *(float(np.ravel(v)[0]) for v in (*ci, *pi)), self.level, "natural")


@dataclass(frozen=True)
class HeterogeneityCI:
    """Estimates and Q-profile confidence limits of tau2, tau, I^2 (%) and H^2.

    Each attribute is a triple ``(estimate, lower, upper)``. ``null_set`` is
    True when both limits of tau2 fall below zero (reported as 0, 0).
    """

    tau2: tuple
    tau: tuple
    i2: tuple
    h2: tuple
    level: float
    null_set: bool = False
    upper_capped: bool = False

    def to_dict(self) -> dict:
        return {
            name: dict(zip(("estimate", "ci_lower", "ci_upper"), map(_num, getattr(self, name))))
            for name in ("tau2", "tau", "i2", "h2")
        } | {"level": self.level, "null_set": self.null_set}


@dataclass(frozen=True)
class RMAResult(Rendered):
    """Result of a common- or random-effects (meta-regression) model.

    Use :meth:`summary` for a printable table, :meth:`to_dict` for the
    machine-readable form (the CLI's JSON), :meth:`predict` and :meth:`back`
    for pooled values on the analysis and natural scale, and
    :meth:`heterogeneity_ci` for Q-profile intervals of tau2, I^2 and H^2.

    Attributes
    ----------
    measure, method, test, level
        The analysis' options (``level`` as a fraction).
    k
        Number of studies in the model.
    coefficients
        Coefficient table; for models without moderators one row,
        ``"intrcpt"``, also exposed as :attr:`estimate`, :attr:`se`, ...
    tau2, tau2_se, tau2_fixed
        Between-study variance and its standard error (0 and NaN for the
        common-effect model); ``tau2_fixed`` is True when tau2 was given.
    q, q_df, q_pvalue, i2, h2, vt
        Test for (residual) heterogeneity and I^2 (percent), H^2, and the
        typical within-study variance.
    ddf
        Degrees of freedom of t-based inference (None for z).
    s2w
        Knapp-Hartung scale factor (1 for other tests).
    pi_lower, pi_upper
        Prediction interval (NaN for the common-effect model).
    yi, vi, ni, slab, weights
        The studies in the model (weights in percent).
    rows
        The 0-based input-table row of each study in the model (labels may
        repeat, rows do not; a subgroup's fit records the rows of the table
        the subgroups were formed from).
    exclusions, corrected, warnings
        Rows left out with reasons, labels of continuity-corrected studies,
        and every warning raised during the fit.
    converged, n_iter
        Convergence of iterative tau2 estimators.
    companion
        For Freeman-Tukey fits whose back-transformation is unstable, the same
        model on the logit scale (shown beside it).
    X, moderators
        Design matrix of the studies and the test of moderators, for
        meta-regression models (None otherwise).
    """

    measure: str | None
    method: str
    test: str
    level: float
    k: int
    coefficients: CoefficientTable
    vb: np.ndarray
    tau2: float
    tau2_se: float
    tau2_fixed: bool
    q: float
    q_df: float
    q_pvalue: float
    i2: float
    h2: float
    vt: float
    ddf: float | None
    s2w: float
    pi_lower: float
    pi_upper: float
    yi: np.ndarray
    vi: np.ndarray
    ni: np.ndarray
    slab: tuple
    weights: np.ndarray
    rows: np.ndarray
    exclusions: tuple = ()
    corrected: tuple = ()
    warnings: tuple = ()
    notes: tuple = ()
    converged: bool = True
    n_iter: int = 0
    random: bool = True
    control: Control = field(default_factory=Control)
    companion: RMAResult | None = None
    X: np.ndarray | None = None
    moderators: ModeratorTest | None = None

    def __post_init__(self) -> None:
        _freeze(self)

    # -- the pooled estimate (models without moderators) -------------------------
    def _single(self, attr: str) -> float:
        if self.X is not None or len(self.coefficients.names) != 1:
            raise AttributeError(
                f"'{attr}' is defined for models without moderators; see .coefficients"
            )
        return float(getattr(self.coefficients, attr)[0])

    @property
    def estimate(self) -> float:
        return self._single("estimate")

    @property
    def se(self) -> float:
        return self._single("se")

    @property
    def statistic(self) -> float:
        return self._single("statistic")

    @property
    def pvalue(self) -> float:
        return self._single("pvalue")

    @property
    def ci_lower(self) -> float:
        return self._single("ci_lower")

    @property
    def ci_upper(self) -> float:
        return self._single("ci_upper")

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2) if self.tau2 >= 0 else float("nan")

    @property
    def model_name(self) -> str:
        return "Random-effects model" if self.random else "Common-effect model"

    # -- derived quantities ------------------------------------------------------
    def _crit(self, level: float) -> float:
        ddf = np.array([np.inf if self.ddf is None else self.ddf])
        return float(critical(level, ddf)[0])

    def conf_int(self, level=None) -> tuple[float, float]:
        """CI of the pooled estimate at ``level`` (default: the fit's level)."""
        lev = self.level if level is None else check_level("conf_int", level)
        half = self._crit(lev) * self.se
        return self.estimate - half, self.estimate + half

    def predict(self, newmods=None, level=None, transf: bool = False):
        """Pooled (or predicted) values with CI and prediction interval.

        Parameters
        ----------
        newmods
            For meta-regression: moderator values, one row per prediction,
            without the intercept column, in the order of the coefficients
            (a 1-D array is one row). Returns a tuple of predictions.
        level
            Confidence level (default: the fit's level).
        transf
            Back-transform to the natural scale (as :meth:`back`).
        """
        lev = self.level if level is None else check_level("predict", level)
        if self.X is not None or newmods is not None:
            return self._predict_mods(newmods, lev, transf)
        if transf:
            return self.back(lev)
        lo, hi = self.conf_int(lev)
        pi = prediction_interval(self.estimate, self.se, self.tau2 if self.random else math.nan, self._crit(lev))
        return Prediction(self.estimate, lo, hi, float(pi[0]), float(pi[1]), lev, "analysis", self.se)

    def _predict_mods(self, newmods, lev: float, transf: bool) -> tuple:
        from ..exceptions import DataValidationError

        if self.X is None:
            raise DataValidationError("newmods need a model with moderators.")
        names = self.coefficients.names
        intercept = names[0] == "intrcpt"
        rows = np.atleast_2d(np.asarray(newmods if newmods is not None else self.X[:, int(intercept):], dtype=float))
        if rows.shape[1] != len(names) - int(intercept):
            raise DataValidationError(
                f"newmods need {len(names) - int(intercept)} values per row ({', '.join(names[int(intercept):])})."
            )
        x = np.column_stack([np.ones(len(rows)), rows]) if intercept else rows
        pred = x @ self.coefficients.estimate
        se = np.sqrt(np.einsum("ip,pq,iq->i", x, self.vb, x))
        crit = self._crit(lev)
        pi = prediction_interval(pred, se, self.tau2 if self.random else math.nan, crit)
        out = tuple(Prediction(*(float(v[i]) for v in (pred, pred - crit * se, pred + crit * se, *pi)), lev,
                               "analysis", float(se[i])) for i in range(len(pred)))
        t = self.back_transform if transf else None
        return out if t is None else tuple(p.back_transformed(t, self.ni) for p in out)

    @property
    def back_transform(self):
        """The measure's back-transformation, or None when the scale is natural."""
        if self.measure is None:
            return None
        t = TRANSFORMS[MEASURES[self.measure].back]
        return None if t.code == "identity" else t

    def back(self, level=None) -> Prediction | None:
        """Pooled values on the natural scale (proportion, ratio, ...), or None.

        Intervals are transformed limit by limit (and re-sorted), as metafor's
        ``predict(..., transf=)`` does; the Freeman-Tukey inverse uses the
        harmonic mean of the study sizes (Miller 1978). ``level``: as for
        :meth:`predict`.
        """
        t = self.back_transform
        return None if t is None else self.predict(level=level).back_transformed(t, self.ni)

    def heterogeneity_ci(self, level=None, tol: float = R_TOL) -> HeterogeneityCI:
        """Q-profile CIs for tau2, tau, I^2 and H^2 (Viechtbauer 2007).

        Reproduces metafor's ``confint(res)`` for models with a random effect
        and k >= 2, with or without moderators (then for the residual
        heterogeneity, with k - p degrees of freedom). ``tol`` is the tolerance of the root search; the default
        is metafor's (R's ``uniroot`` default, about 1.2e-4 in tau2); pass a
        smaller value for more exact limits.
        """
        from ..exceptions import MetapoolError

        if not self.random:
            raise MetapoolError("The common-effect model has no heterogeneity variance to bound.")
        if self.k < 2:
            raise MetapoolError("A confidence interval for tau2 needs k >= 2 studies.")
        lev = self.level if level is None else check_level("heterogeneity_ci", level)
        y = self.yi
        if self.moderators is not None and not self.moderators.intercept:
            y = y - y.mean()  # metafor's convention for models without an intercept
        batch = Batch.from_arrays(y, self.vi, self.X)
        qp = q_profile(batch, np.array([self.tau2]), lev, tol)
        lo, hi = float(qp.lower[0]), float(qp.upper[0])
        i2, h2 = random_i2_h2([self.tau2, lo, hi], self.vt)
        return HeterogeneityCI(
            tau2=(self.tau2, lo, hi),
            tau=tuple(math.sqrt(t) if t >= 0 else float("nan") for t in (self.tau2, lo, hi)),
            i2=tuple(map(float, i2)),
            h2=tuple(map(float, h2)),
            level=lev,
            null_set=bool(qp.null_set[0]),
            upper_capped=bool(qp.upper_capped[0]),
        )

    # -- presentation --------------------------------------------------------------
    def to_dict(self) -> dict:
        """Machine-readable result; the schema of ``metapool pool --json``."""
        d = {
            "k": self.k,
            "measure": self.measure,
            "method": self.method,
            "test": self.test,
            "level": self.level * 100.0,
        }
        if self.X is None:
            d |= json_numbers(self, ESTIMATE_KEYS)
        d |= json_numbers(self, HETEROGENEITY_KEYS) | {
            "converged": bool(self.converged),
            "n_iter": int(self.n_iter),
            "excluded": [e.to_dict() for e in self.exclusions],
            "corrected": list(self.corrected),
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }
        if self.moderators is not None:
            m = self.moderators
            d |= {
                "coefficients": self.coefficients.to_records(),
                "qm": _num(m.statistic),
                "qm_df": m.df,
                "qm_ddf": _num(m.ddf),
                "qm_pvalue": _num(m.pvalue),
                "r2": _num(m.r2),
            }
        elif self.X is None:
            back = self.back()
            if back is not None:
                d["back"] = back.to_dict()
        if self.companion is not None:
            d["companion"] = {
                "measure": self.companion.measure,
                "reason": "Freeman-Tukey back-transformation unstable; logit-scale result for comparison",
                "back": self.companion.back().to_dict(),
            }
        return d

    def __repr__(self) -> str:
        if self.X is None:
            return (
                f"RMAResult(method={self.method!r}, k={self.k}, estimate={self.estimate:.4g}, "
                f"ci=({self.ci_lower:.4g}, {self.ci_upper:.4g}), tau2={self.tau2:.4g}, i2={self.i2:.4g})"
            )
        return f"RMAResult(method={self.method!r}, k={self.k}, coefficients={list(self.coefficients.names)})"
