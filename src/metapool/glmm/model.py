"""``rma_glmm``: random-effects meta-analysis of proportions, rates and 2x2 tables by GLMM."""

from __future__ import annotations

import warnings as _warnings

import numpy as np

from .._validation import check_choice, check_level, check_nonnegative
from ..effect_sizes.escalc import CORRECTION_TARGETS, escalc
from ..effect_sizes.table import Exclusion
from ..exceptions import ConvergenceWarning, DataValidationError, OptionError
from ..inference.exact import clopper_pearson, poisson_exact
from ..models.results import Prediction
from .assemble import SATURATED_NOTE, exact_result, glmm_result
from .kernels import Counts, GLMMFit, agq_deviance, conditional_loglik, fit_glmm, saturated_glm, wald_contributions
from .result import Correction, GLMMResult

__all__ = ["rma_glmm", "GLMM_MEASURES", "model_studies", "check_correction", "SATURATED_NOTE", "HESSIAN_NOTE"]

#: Measures with a GLMM: code -> (family, column holding the sizes, model name).
GLMM_MEASURES = {
    "PLO": ("binomial", "ni", "binomial-normal"),
    "IRLN": ("poisson", "ti", "poisson-normal"),
    "OR": ("binomial", "n1i, n2i", "UM.FS"),
}
NEWTON = "Newton (central-difference derivatives, step halving)"
NELDER_MEAD = "Nelder-Mead (scipy; after Newton failed)"
HESSIAN_NOTE = ("The finite-difference Hessian was not positive definite; the SE comes from the conditional"
                " information (as lme4 falls back to).")


def model_studies(table) -> tuple[np.ndarray, tuple, int]:
    """The rows of an escalc ``table`` a GLMM fits: mask, exclusions (sorted by row) and k.

    Rows escalc excluded keep its reason; other rows without effect size
    lack counts. Raises DataValidationError when no study is left.
    """
    keep = table.included
    exclusions = list(table.exclusions)
    listed = table.excluded_positions()
    exclusions += [Exclusion(int(table.rows[r]), table.slab[r], "counts missing")
                   for r in np.flatnonzero(~keep) if int(r) not in listed]
    k = int(keep.sum())
    if k == 0:
        raise DataValidationError("No study can be analysed (k = 0). " + "; ".join(map(str, exclusions[:5])))
    return keep, tuple(sorted(exclusions, key=lambda e: e.row)), k


def check_correction(owner: str, add, to, drop00) -> Correction:
    """Check ``add``, ``to``, ``drop00`` as :func:`~metapool.effect_sizes.escalc` does; a :class:`Correction`."""
    if not isinstance(drop00, bool | np.bool_):
        raise OptionError(f"The 'drop00' parameter of {owner} must be True or False. Got {drop00!r}.")
    return Correction(check_nonnegative(owner, "add", add), check_choice(owner, "to", to, CORRECTION_TARGETS),
                      bool(drop00))


def _nelder_mead(counts: Counts, fit: GLMMFit, n_agq: int) -> tuple[GLMMFit, bool]:
    """Refit one analysis with Nelder-Mead from the Newton end point."""
    from scipy import optimize

    def f(p):
        return float(agq_deviance(counts, np.array([p[1]]), np.array([abs(p[0])]), n_agq)[0][0])

    start = np.array([max(fit.theta[0], 0.1), fit.beta[0]])
    opt = optimize.minimize(f, start, method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})
    polished = fit_glmm(counts, n_agq, maxiter=0, start=np.array([[abs(opt.x[0]), opt.x[1]]]))
    return polished, bool(opt.success)


def _exact(measure: str, x: float, size: float, lev: float) -> Prediction:
    """Pooled proportion (Clopper-Pearson 1934) or rate (exact Poisson) interval."""
    lo, hi = (clopper_pearson if measure == "PLO" else poisson_exact)(x, size, lev)
    return Prediction(x / size, float(lo), float(hi), float("nan"), float("nan"), lev, "natural")


def _saturate(counts: Counts):
    """The saturated GLM, each study's Wald term and the common-effect deviance (pooled proportion or rate)."""
    sat = saturated_glm(counts)
    x, s = counts.x[0], counts.size[0]
    rate = x.sum() / s.sum()
    beta_ce = np.log(rate / (1.0 - rate)) if counts.family == "binomial" else np.log(rate)
    dev_ce = counts.deviance(np.full((1, len(x)), beta_ce) + counts.offset).sum()
    return sat, wald_contributions(counts, sat), dev_ce


def rma_glmm(
    measure: str = "PLO",
    data=None,
    *,
    xi=None,
    ni=None,
    mi=None,
    ti=None,
    ai=None,
    bi=None,
    ci=None,
    di=None,
    n1i=None,
    n2i=None,
    slab=None,
    test: str = "z",
    level: float = 95,
    n_agq: int = 7,
    model: str | None = None,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = True,
) -> GLMMResult:
    """Random-effects GLMM for single-group proportions or incidence rates, or 2x2 tables.

    Fits the binomial-normal model ``x_i ~ Bin(n_i, ilogit(beta + b_i))``
    (``measure="PLO"``) or the Poisson-normal model
    ``x_i ~ Poisson(t_i exp(beta + b_i))`` (``measure="IRLN"``), with
    ``b_i ~ N(0, tau2)``, by maximum likelihood; each study's marginal
    likelihood is approximated by adaptive Gauss-Hermite quadrature with
    ``n_agq`` points (7, metafor's default for ``rma.glmm``, which passes it to
    ``lme4::glmer``). Equal to metafor's ``rma.glmm(measure=, xi, ni | ti)``.

    ``measure="OR"`` pools the log odds ratio of 2x2 tables with metafor's
    default ``model="UM.FS"``: the unconditional logistic model with a fixed
    intercept per study and a random treatment effect,
    ``logit p_i1 = alpha_i + mu + b_i / 2``, ``logit p_i2 = alpha_i - b_i / 2``,
    ``b_i ~ N(0, tau2)`` (see :func:`metapool.glmm.tables.rma_glmm_fs`),
    equal to ``rma.glmm(measure="OR", ai, bi, ci, di, model="UM.FS")``.

    Parameters
    ----------
    measure
        ``"PLO"`` (proportions, logit link), ``"IRLN"`` (rates, log link) or
        ``"OR"`` (2x2 tables, log odds ratio).
    data
        Table whose columns the count arguments and ``slab`` may name.
    xi, ni, mi, ti
        Events, totals (or non-events ``mi``) for PLO; events and person-time
        ``ti`` for IRLN.
    ai, bi, ci, di, n1i, n2i
        For OR, as for :func:`~metapool.effect_sizes.escalc`: events ``ai``/``ci``
        with group sizes ``n1i``/``n2i``, or the four cells of each table.
    slab
        Study labels.
    test
        ``"z"`` (default) or ``"t"`` (t distribution with k - 1 df).
    level
        Confidence level, as a percentage (95) or a fraction (0.95).
    n_agq
        Quadrature points per study (1 is the Laplace approximation).
    model
        GLMM of 2x2 tables (``measure="OR"`` only): ``"UM.FS"`` (the default,
        and for now the only one). Must be None for PLO and IRLN.
    add, to, drop00
        The escalc options of the observed outcomes, as metafor's
        ``rma.glmm(add = 1/2, to = "only0", drop00 = TRUE)`` (the defaults):
        ``add`` is added to the cells (for IRLN the events) of the studies
        chosen by ``to`` (``"only0"``, ``"all"``, ``"if0all"``, ``"none"``).
        They shape the study-level outcomes ``yi``, ``vi`` only, and so the
        typical within-study variance ``vt`` behind I^2 and H^2 and
        :meth:`GLMMResult.effect_sizes`; the fit uses the counts, and a study
        whose outcome is undefined (a zero cell with ``add=0`` or
        ``to="none"``) stays in the model but not in ``vt`` (metafor's escalc
        gives it NA). ``drop00`` (OR only; ignored for one group, as metafor
        does): True leaves tables with no events (or only events) in both
        groups out of the model; False keeps them among the k studies (see
        Notes).

    Returns
    -------
    GLMMResult
        With the Wald and likelihood-ratio heterogeneity tests (``q``,
        ``q_lrt``) and I^2 as metafor defines it for GLMMs. Non-convergence
        is reported (``converged`` False and a warning), never hidden.

    Raises
    ------
    DataValidationError
        Impossible counts (from :func:`escalc`), no usable study, or (OR) an
        infinite ML log odds ratio (separation, e.g. no events in group 1 of
        any study).

    Notes
    -----
    Where lme4 stops with "Cannot fit ML model", metapool answers:

    * tau^2 at its boundary 0 (e.g. identical proportions) gives the
      common-effect logistic (Poisson) model, with a note;
    * no events (or only events) in every study make the likelihood
      unbounded (separation): the answer is the pooled proportion with its
      exact Clopper-Pearson interval (the exact Poisson interval for rates),
      never a separated fit;
    * if Newton's method fails, Nelder-Mead is tried and named in
      ``optimizer``.

    With ``drop00=False`` a table with no events (or only events) in both
    groups has no finite ML intercept: its likelihood tends to 1 as its
    intercept diverges, whatever the odds ratio and tau^2. metapool uses that
    limit (the table adds nothing to the likelihood, to the Wald and
    likelihood-ratio statistics or to the weights) but counts the table among
    the k studies, in the degrees of freedom of the heterogeneity tests and
    of ``test="t"``, and in ``vt`` (its log odds ratio with ``add``), as
    metafor does. lme4 stops such an intercept at a large finite value, which
    moves metafor's estimate and SE slightly (by about 1e-5 and 1e-2 relative
    in the reference tests).

    References
    ----------
    Stijnen T, Hamza TH, Özdemir P (2010). Stat Med 29:3046-3067.
    Jackson D, Law M, Stijnen T, Viechtbauer W, White IR (2018). A comparison
    of seven random-effects models for meta-analyses that estimate the summary
    odds ratio. Stat Med 37:1059-1085.
    Clopper CJ, Pearson ES (1934). Biometrika 26:404-413.
    """
    measure = check_choice("rma_glmm", "measure", measure, GLMM_MEASURES)
    test = check_choice("rma_glmm", "test", test, ("z", "t"))
    lev = check_level("rma_glmm", level)
    if not isinstance(n_agq, int | np.integer) or not 1 <= n_agq <= 50:
        raise OptionError(f"The 'n_agq' parameter of rma_glmm must be an integer from 1 to 50. Got {n_agq!r}.")
    correction = check_correction("rma_glmm", add, to, drop00)
    two_group = dict(ai=ai, bi=bi, ci=ci, di=di, n1i=n1i, n2i=n2i)
    if measure == "OR":
        from .tables import OR_MODELS, rma_glmm_fs

        check_choice("rma_glmm", "model", "UM.FS" if model is None else model, OR_MODELS)
        return rma_glmm_fs(data, slab=slab, test=test, level=lev, n_agq=int(n_agq), correction=correction,
                           **two_group)
    if model is not None:
        raise OptionError(f"The 'model' parameter of rma_glmm applies to measure 'OR' only. Got {model!r}"
                          f" with measure {measure!r}.")
    given = sorted(r for r, v in two_group.items() if v is not None)
    if given:
        raise DataValidationError(f"Measure {measure} takes one-group counts; also given: {', '.join(given)}.")
    family, size_col, model = GLMM_MEASURES[measure]
    # the model's studies are those with counts: with escalc's default correction every one has a finite outcome
    if measure == "PLO":
        table = escalc("PLO", data, xi=xi, ni=ni, mi=mi, slab=slab)
    else:
        table = escalc("IRLN", data, xi=xi, ti=ti, slab=slab)
    keep, exclusions, k = model_studies(table)
    x = np.asarray(table.cells["xi"], dtype=float)[keep]
    size = (x + np.asarray(table.cells["mi"], dtype=float)[keep] if measure == "PLO"
            else np.asarray(table.cells["ti"], dtype=float)[keep])
    counts = Counts.from_arrays(family, x, size)
    common = dict(measure=measure, test=test, level=lev, xi=x, size=size, n_quadrature=n_agq, exclusions=exclusions,
                  correction=correction)

    separated = x.sum() == 0 or (measure == "PLO" and x.sum() == size.sum())
    if separated:
        what = "no events" if x.sum() == 0 else "only events"
        kind = "Clopper-Pearson" if measure == "PLO" else "exact Poisson"
        note = (f"All studies have {what}: the GLMM likelihood has no maximum (separation). The pooled"
                f" {'proportion' if measure == 'PLO' else 'rate'} is {x.sum() / size.sum():g}"
                f" with an exact {kind} interval.")
        _warnings.warn(note, ConvergenceWarning, stacklevel=2)
        return exact_result(table, keep, exact=_exact(measure, x.sum(), size.sum(), lev), note=note, **common)

    warns, notes = [], []
    fit = fit_glmm(counts, n_agq)
    optimizer = NEWTON
    if not fit.converged[0]:
        fit, ok = _nelder_mead(counts, fit, n_agq)
        optimizer = NELDER_MEAD
        if not ok:
            warns.append("Neither Newton's method nor Nelder-Mead converged: the estimates are the last"
                          " iterate and may not be the maximum-likelihood estimates.")
    converged = optimizer == NEWTON or not warns
    tau2 = float(fit.theta[0] ** 2)
    if k == 1:
        notes.append("k = 1: tau^2 cannot be estimated; the common-effect model was fitted.")
    if fit.at_boundary[0]:
        model = "common-effect"
        if k > 1:
            notes.append("tau^2 is estimated at its boundary 0 (e.g. identical proportions, where lme4"
                         " fails): the result is the common-effect model.")
    if not fit.vb_from_hessian[0] and not fit.at_boundary[0]:
        notes.append(HESSIAN_NOTE)
    _, modes = agq_deviance(counts, fit.beta, fit.theta, n_agq)
    obs = counts.expand(0, tail=1)
    loglik = float(conditional_loglik(obs, fit.beta[:, None, None] + obs.offset, fit.theta[:, None, None], modes)[0])
    for w in warns:
        _warnings.warn(w, ConvergenceWarning, stacklevel=2)
    return glmm_result(
        table, keep, model=model, estimate=float(fit.beta[0]), vb=float(fit.vb[0]), tau2=tau2,
        saturate=lambda: _saturate(counts), loglik=loglik,
        marginal_loglik=float(counts.saturated_constant[0] - fit.deviance[0] / 2.0), optimizer=optimizer,
        converged=converged, n_iter=int(fit.n_iter[0]), warnings=warns, notes=notes, **common,
    )
