"""Frozen result of a generalised linear mixed model (:func:`metapool.rma_glmm`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from .._distributions import chi2_isf
from .._summary import Rendered
from .._validation import check_level
from ..effect_sizes.registry import MEASURES
from ..effect_sizes.transforms import TRANSFORMS
from ..exceptions import MetapoolError
from ..inference.heterogeneity import random_i2_h2
from ..inference.intervals import prediction_interval
from ..inference.tests import critical
from ..models.results import (ESTIMATE_KEYS, HETEROGENEITY_KEYS, CoefficientTable, HeterogeneityCI, Prediction, _freeze,
                              _num, json_numbers)

__all__ = ["GLMMResult", "GLMM_MODELS", "Correction", "observed_outcomes", "require_glmm"]

#: Model codes of :attr:`GLMMResult.model` with their descriptions.
GLMM_MODELS = {
    "binomial-normal": "binomial-normal random-intercept model (logit link)",
    "poisson-normal": "Poisson-normal random-intercept model (log link, log person-time offset)",
    "UM.FS": "unconditional logistic model with fixed study intercepts and a random log odds ratio (UM.FS)",
    "common-effect": "common-effect logistic / Poisson model (tau^2 = 0)",
    "exact": "no GLMM (separated data): exact interval for the pooled value",
}


@dataclass(frozen=True)
class Correction:
    """The escalc options of a GLMM's observed outcomes: metafor's ``add``, ``to`` and ``drop00`` of ``rma.glmm``.

    metafor's ``rma.glmm`` passes them to ``escalc``; the observed outcomes
    ``yi``, ``vi`` (PLO, IRLN or OR, with ``add`` added to the cells of the
    studies chosen by ``to``) give the typical within-study variance behind
    I^2 and H^2 and are the study-level effect sizes of plots and bias tests.
    ``add`` and ``to`` leave the model fit alone: it uses the counts. For 2x2
    tables ``drop00`` also decides whether tables with no events (or only
    events) in both groups are among the model's studies. The defaults are
    metafor's (``add = 1/2, to = "only0", drop00 = TRUE``).
    """

    add: float = 0.5
    to: str = "only0"
    drop00: bool = True

    def to_dict(self) -> dict:
        return {"add": self.add, "to": self.to, "drop00": self.drop00}


def observed_outcomes(measure: str, xi, size, slab, correction: Correction):
    """escalc's PLO, IRLN or OR of a GLMM's studies with the fit's ``correction`` (rows numbered from 0).

    ``xi``, ``size`` as :attr:`GLMMResult.xi` and ``size`` hold them (for OR
    events and sizes of both groups, ``[k, 2]``). Studies whose outcome is
    undefined (a zero cell with ``add = 0`` or ``to = "none"``) are listed
    among the table's exclusions with NaN ``yi``, ``vi``, as metafor's
    ``escalc`` recodes them to NA.
    """
    from ..effect_sizes.escalc import escalc

    options = correction.to_dict()
    if measure == "OR":
        events, totals = np.asarray(xi).T, np.asarray(size).T
        return escalc("OR", ai=events[0], n1i=totals[0], ci=events[1], n2i=totals[1], slab=list(slab), **options)
    del options["drop00"]  # one-group counts: metafor's rma.glmm does not pass drop00 to escalc
    sizes = {"ni": size} if measure == "PLO" else {"ti": size}
    return escalc(measure, xi=xi, slab=list(slab), **sizes, **options)


@dataclass(frozen=True)
class GLMMResult(Rendered):
    """Result of a random-intercept GLMM for study counts (Stijnen et al. 2010).

    The JSON keys of :meth:`to_dict` are those of
    :class:`~metapool.models.results.RMAResult` plus ``model``, ``q_lrt``,
    ``q_lrt_pvalue``, ``loglik``, ``marginal_loglik``, ``n_quadrature``,
    ``optimizer`` and ``correction`` (the escalc options ``add``, ``to``,
    ``drop00`` of the observed outcomes); ``method`` is ``"GLMM"``.

    Attributes
    ----------
    measure, model, test, level
        ``"PLO"`` (proportions), ``"IRLN"`` (rates) or ``"OR"`` (2x2 tables);
        the model fitted (see :data:`GLMM_MODELS`); ``"z"`` or ``"t"``; level
        as a fraction.
    k
        Number of studies in the model.
    estimate, se, statistic, pvalue, ci_lower, ci_upper, ddf
        Pooled logit (log rate) and its Wald inference (``ddf`` None for z).
        NaN in the ``"exact"`` case, whose answer is :meth:`back`.
    tau2, i2, h2, vt
        ML estimate of tau^2; I^2 (percent) and H^2 as metafor defines them
        for GLMMs, with the typical within-study variance ``vt`` of the
        studies' observed PLO/IRLN/OR sampling variances (escalc with the
        fit's ``correction``; by default 0.5 added to zero cells; studies
        without a finite outcome are left out, as metafor does).
    q, q_df, q_pvalue, q_lrt, q_lrt_pvalue
        Wald-type and likelihood-ratio tests for heterogeneity (metafor's
        ``QE.Wld`` and ``QE.LRT``: saturated versus common-effect GLM).
    pi_lower, pi_upper
        Prediction interval on the analysis scale.
    loglik, marginal_loglik
        metafor's log-likelihood of the fit (``logLik(res)``, its
        ``fit.stats`` "ll": the saturated log-likelihood minus half lme4's
        conditional deviance) and the marginal (AGQ) log-likelihood that is
        maximised (lme4's ``logLik``; binomial coefficients included), which
        the likelihood-ratio test and profile CI use.
    n_quadrature, optimizer, converged, n_iter
        Quadrature points per study, the optimiser that gave the estimate and
        whether it converged.
    correction
        The escalc options (``add``, ``to``, ``drop00``) of the observed
        outcomes (:class:`Correction`; metafor's defaults unless given).
    exact
        For the ``"exact"`` model: the pooled proportion (rate) with its exact
        Clopper-Pearson (Poisson) interval, else None.
    xi, size, slab, exclusions, warnings, notes
        The studies (events and totals or person-time; for OR shape ``(k, 2)``,
        events and sizes of group 1 and group 2), rows left out, remarks.
    rows
        The 0-based input-table row of each study in the model.
    weights
        Each study's weight in percent: its share of the GLMM's information
        for the pooled value at the fitted tau2,
        ``100 I_i(tau2) / sum_j I_j(tau2)``
        (:func:`~metapool.glmm.information.information_share`; the
        counterpart of the normal model's ``100 w_i / sum w_j``, used for the
        forest plot and the influence diagnostics). metafor has no
        ``weights()`` for ``rma.glmm``; NaN for the ``"exact"`` model.
    """

    measure: str
    model: str
    test: str
    level: float
    k: int
    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_lower: float
    ci_upper: float
    ddf: float | None
    tau2: float
    i2: float
    h2: float
    vt: float
    q: float
    q_df: float
    q_pvalue: float
    q_lrt: float
    q_lrt_pvalue: float
    pi_lower: float
    pi_upper: float
    loglik: float
    marginal_loglik: float
    n_quadrature: int
    optimizer: str
    converged: bool
    n_iter: int
    xi: np.ndarray
    size: np.ndarray
    slab: tuple
    rows: np.ndarray
    weights: np.ndarray
    exclusions: tuple = ()
    warnings: tuple = ()
    notes: tuple = ()
    exact: Prediction | None = None
    correction: Correction = Correction()

    def __post_init__(self) -> None:
        _freeze(self)

    method = "GLMM"

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2) if self.tau2 >= 0 else float("nan")

    @property
    def ni(self) -> np.ndarray:
        """Each study's size, as escalc's ``ni``: patients (both groups of a 2x2 table), person-time for IRLN."""
        return self.size.sum(axis=1) if self.size.ndim == 2 else self.size

    @property
    def tau2_se(self) -> float:
        """NaN: no standard error of tau2, as metafor's ``rma.glmm``.

        metafor sets ``se.tau2`` to NA for the models it fits with lme4
        (binomial-normal, Poisson-normal, ``UM.FS``); the profile-likelihood
        CI of :meth:`heterogeneity_ci` describes the uncertainty of tau2.
        """
        return float("nan")

    @property
    def coefficients(self) -> CoefficientTable:
        """The coefficient table: one row, ``"intrcpt"`` (the pooled logit, log rate or log odds ratio)."""
        return CoefficientTable(("intrcpt",), *(np.array([getattr(self, f)]) for f in (
            "estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper")))

    def conf_int(self, level=None) -> tuple[float, float]:
        """Wald CI of the pooled estimate at ``level`` (default: the fit's level), on the analysis scale."""
        lev = self.level if level is None else check_level("conf_int", level)
        half = self._crit(lev) * self.se
        return self.estimate - half, self.estimate + half

    def _crit(self, level: float) -> float:
        return float(critical(level, np.array([np.inf if self.ddf is None else self.ddf]))[0])

    def predict(self, level=None) -> Prediction:
        """Pooled estimate with CI and prediction interval on the analysis scale.

        As metafor's ``predict`` for ``rma.glmm``: ``estimate +- crit sqrt(se^2 + tau2)``
        (equal to the CI when tau2 = 0).
        """
        lev = self.level if level is None else check_level("predict", level)
        lo, hi = self.conf_int(lev)
        pi = prediction_interval(self.estimate, self.se, self.tau2, self._crit(lev))
        return Prediction(self.estimate, lo, hi, float(pi[0]), float(pi[1]), lev, "analysis", self.se)

    def heterogeneity_ci(self, level=None) -> HeterogeneityCI:
        """Profile-likelihood CIs for tau2, tau, I^2 and H^2.

        The tau2 interval is ``{tau2 >= 0 : 2 (logL_max - logL_p(tau2)) <=
        chi2_{1, level}}``, where the profile log-likelihood ``logL_p(tau2)``
        maximises the marginal log-likelihood (the same adaptive Gauss-Hermite
        quadrature with ``n_quadrature`` points as the fit) over the pooled
        logit (log rate) at fixed tau2. The lower limit is 0 when the
        statistic at tau2 = 0 is below the critical value; the limits are
        found by a bracketing root search (Brent). I^2 and H^2 limits follow
        from the tau2 limits with the typical within-study variance ``vt``.

        metafor gives no tau2 interval for ``rma.glmm``; this is metapool's
        (a likelihood-ratio interval, not the Q-profile interval of
        :meth:`RMAResult.heterogeneity_ci <metapool.models.results.RMAResult.heterogeneity_ci>`).
        ``upper_capped`` is True when the statistic stays below the critical
        value up to tau2 = 1e4 (the upper limit is then reported as inf).
        """
        from scipy import optimize

        from .kernels import Counts, agq_deviance

        if self.exact is not None:
            raise MetapoolError("Separated data have no GLMM fit, hence no interval for tau2.")
        if self.k < 2:
            raise MetapoolError("A confidence interval for tau2 needs k >= 2 studies.")
        lev = self.level if level is None else check_level("heterogeneity_ci", level)
        family = "binomial" if self.measure == "PLO" else "poisson"
        counts = Counts.from_arrays(family, self.xi, self.size)
        n_agq, beta0 = self.n_quadrature, self.estimate

        def profile(tau2: float) -> float:
            """Minimum over beta of the AGQ deviance at theta = sqrt(tau2)."""
            theta = np.array([math.sqrt(max(tau2, 0.0))])

            def dev(b):
                return float(agq_deviance(counts, np.array([b]), theta, n_agq)[0][0])

            opt = optimize.minimize_scalar(dev, bracket=(beta0 - 0.1, beta0 + 0.1), method="brent",
                                           options={"xtol": 1e-10, "maxiter": 500})
            return float(opt.fun)

        sat = float(counts.saturated_constant[0])
        if self.measure == "OR":  # 2x2 tables: the study intercepts are profiled out too
            from .tables import profile_deviance

            sat, profile = profile_deviance(self)
        dev_max = float(sat - self.marginal_loglik) * 2.0
        dev_max = min(dev_max, profile(self.tau2))
        crit = float(chi2_isf(1.0 - lev, 1.0))

        def excess(tau2: float) -> float:
            return profile(tau2) - dev_max - crit

        kw = dict(xtol=1e-14, rtol=1e-12, maxiter=200)
        lo = 0.0
        if self.tau2 > 0 and excess(0.0) > 0:
            lo = float(optimize.brentq(excess, 0.0, self.tau2, **kw))
        a, b, hi, capped = self.tau2, max(2.0 * self.tau2, 0.01), math.inf, True
        while b <= 1e4:
            if excess(b) > 0:
                hi, capped = float(optimize.brentq(excess, a, b, **kw)), False
                break
            a, b = b, 2.0 * b
        i2, h2 = random_i2_h2([self.tau2, lo, hi], self.vt)
        return HeterogeneityCI(
            tau2=(self.tau2, lo, hi),
            tau=tuple(math.sqrt(t) for t in (self.tau2, lo, hi)),
            i2=tuple(map(float, i2)),
            h2=tuple(map(float, h2)),
            level=lev,
            upper_capped=capped,
        )

    @cached_property
    def reported_heterogeneity_ci(self) -> tuple[HeterogeneityCI | None, str | None]:
        """:meth:`heterogeneity_ci` at the fit's level for the summary and JSON, or None and the reason.

        Computed once per result. Where no interval exists (k = 1, separated
        data) or the profile search fails, the interval is None and the
        reason is given instead of an error.
        """
        try:
            return self.heterogeneity_ci(), None
        except MetapoolError as exc:
            return None, f"No confidence interval for tau^2: {exc}"
        except (ArithmeticError, ValueError, RuntimeError) as exc:
            return None, f"The profile-likelihood confidence interval for tau^2 could not be computed ({exc})."

    @property
    def back_transform(self):
        """The measure's back-transformation to the natural scale (inverse logit, exp)."""
        return TRANSFORMS[MEASURES[self.measure].back]

    def effect_sizes(self):
        """The studies' PLO (IRLN, OR) effect sizes, as :func:`~metapool.effect_sizes.escalc` gives them.

        With the fit's :attr:`correction` (metafor's ``add``, ``to``,
        ``drop00`` of ``rma.glmm``; by default 1/2 added to each cell of a
        study with a zero cell): the ``vi`` behind ``vt`` and the study-level
        analyses of a GLMM fit (bias tests, forest and funnel plots, influence
        diagnostics). Its entries keep the studies' input rows (``rows``).
        """
        es = observed_outcomes(self.measure, self.xi, self.size, self.slab, self.correction)
        return replace(es, rows=self.rows, exclusions=tuple(replace(e, row=int(self.rows[e.row]))
                                                             for e in es.exclusions))

    def back(self, level=None) -> Prediction:
        """Pooled proportion (rate) with CI and prediction interval.

        Limits are transformed one by one (inverse logit, exp). In the
        ``"exact"`` case this is the exact interval (at the fit's level only).
        """
        if self.exact is not None:
            if level is not None and check_level("back", level) != self.level:
                raise ValueError("The exact interval is available at the fit's level only.")
            return self.exact
        return self.predict(level).back_transformed(self.back_transform)

    def to_dict(self) -> dict:
        """Machine-readable result; the schema of ``metapool pool --method GLMM --json``.

        ``heterogeneity_ci`` holds the profile-likelihood CIs of tau2, tau, I^2
        and H^2 (the keys of :meth:`HeterogeneityCI.to_dict
        <metapool.models.results.HeterogeneityCI.to_dict>`), or None with the
        reason among the ``notes``.
        """
        ci, ci_note = self.reported_heterogeneity_ci
        return {
            "k": self.k,
            "measure": self.measure,
            "method": self.method,
            "model": self.model,
            "test": self.test,
            "level": self.level * 100.0,
            **json_numbers(self, ESTIMATE_KEYS),
            **json_numbers(self, HETEROGENEITY_KEYS),
            "q_lrt": _num(self.q_lrt),
            "q_lrt_pvalue": _num(self.q_lrt_pvalue),
            "loglik": _num(self.loglik),
            "marginal_loglik": _num(self.marginal_loglik),
            "n_quadrature": self.n_quadrature,
            "optimizer": self.optimizer,
            "converged": bool(self.converged),
            "n_iter": int(self.n_iter),
            "correction": self.correction.to_dict(),
            "excluded": [e.to_dict() for e in self.exclusions],
            "corrected": [],
            "warnings": list(self.warnings),
            "notes": list(self.notes) + ([ci_note] if ci_note else []),
            "back": self.back().to_dict(),
            "heterogeneity_ci": None if ci is None else (
                ci.to_dict() | {"method": "profile likelihood", "upper_capped": ci.upper_capped}),
        }

    def __repr__(self) -> str:
        return (
            f"GLMMResult(measure={self.measure!r}, model={self.model!r}, k={self.k}, "
            f"estimate={self.estimate:.4g}, tau2={self.tau2:.4g}, converged={self.converged})"
        )


def require_glmm(res: GLMMResult, minimum: int, what: str) -> None:
    """Raise unless ``res`` is a GLMM fit (not the exact answer) with ``minimum`` studies."""
    if res.exact is not None:
        raise MetapoolError(f"{what} needs a GLMM fit; separated data have an exact interval only.")
    if res.k < minimum:
        raise MetapoolError(f"{what} needs at least {minimum} studies; the model has k = {res.k}.")
