"""``rma``: common- and random-effects models fitted by inverse variance."""

from __future__ import annotations

import sys
import warnings as _warnings

import numpy as np

from .._validation import check_choice, check_level, check_nonnegative
from ..effect_sizes.escalc import escalc
from ..effect_sizes.table import EffectSizeTable, Exclusion
from ..exceptions import ConvergenceError, DataValidationError, MetapoolWarning, OptionError, TransformWarning
from ..inference.tests import TESTS, wald_test
from .design import Design, build_design, check_rank
from ..io.parsing import describe_study
from .fit import VARIANCE_RATIO_LIMIT, fit_batch
from .kernels import Batch
from .results import CoefficientTable, ModeratorTest, RMAResult
from .rootfind import Control
from .tau2 import get_estimator

__all__ = ["rma", "PFT_SIZE_RATIO"]

#: Freeman-Tukey fits warn (and show the logit-scale result beside them) when the
#: largest study is this many times the smallest: the harmonic-mean inverse can
#: then be far off (Schwarzer et al. 2019).
PFT_SIZE_RATIO = 10.0

#: Smallest sampling variance pooled (about 5.6e-103): the sums of the fit take
#: the weights 1/vi up to the third power, which overflows for smaller variances.
SMALLEST_VARIANCE = sys.float_info.max ** (-1 / 3)


def _effect_table(yi, vi, sei, data, measure, slab, ni) -> EffectSizeTable:
    if isinstance(yi, EffectSizeTable):
        if vi is not None or sei is not None:
            raise DataValidationError("Give either an EffectSizeTable or yi with vi/sei, not both.")
        return yi
    if yi is None:
        raise DataValidationError("rma needs effect sizes: an EffectSizeTable, or yi with vi or sei.")
    generic = "GEN" if measure is None else check_choice("rma", "measure", measure, ("GEN", "LNR"))
    return escalc(generic, data, yi=yi, vi=vi, sei=sei, slab=slab, ni=ni)


def rma(
    yi=None,
    vi=None,
    *,
    sei=None,
    data=None,
    measure: str | None = None,
    mods=None,
    intercept: bool = True,
    reference: dict | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    slab=None,
    ni=None,
    tau2: float | None = None,
    control: Control | None = None,
) -> RMAResult:
    """Fit a common-effect, random-effects or mixed-effects (meta-regression) model.

    Parameters
    ----------
    yi
        An :class:`~metapool.effect_sizes.EffectSizeTable` from :func:`escalc`,
        or effect sizes (values or a column name of ``data``).
    vi, sei
        Sampling variances or standard errors when ``yi`` holds values.
    data
        Table whose columns ``yi``, ``vi``, ``sei``, ``slab``, ``ni`` and
        ``mods`` may name (same rows as the effect sizes).
    measure
        For plain ``yi``: ``"GEN"`` (default, no back-transformation) or
        ``"LNR"`` (log ratios, back-transformed with exp).
    mods
        Moderators for a meta-regression: column names (``"agent:cat"`` marks
        a categorical column; text columns are categorical anyway), a formula
        such as ``"~ ablat + year"`` or ``"~ C(agent) - 1"``, or a numeric
        array. See :func:`metapool.models.design.build_design`.
    intercept, reference
        Add an intercept (for column names and arrays; formulas use ``- 1``),
        and reference levels of categorical moderators (``{"agent": "aza"}``).
    method
        tau2 estimator: ``"REML"`` (default), ``"ML"``, ``"DL"``, ``"HE"``,
        ``"HS"``, ``"SJ"``, ``"EB"``, ``"PM"``, ``"PMM"``, or ``"CE"`` (common
        effect; ``"FE"`` and ``"EE"`` are accepted as aliases).
    test
        ``"z"`` (default), ``"t"`` or ``"knha"`` (Knapp-Hartung).
    level
        Confidence level, as a percentage (95) or a fraction (0.95).
    slab, ni
        Study labels and sample sizes for plain ``yi``.
    tau2
        Fix tau2 at this value instead of estimating it (as metafor's
        ``tau2=``; its standard error is then undefined). Random-effects
        methods only.
    control
        Convergence control of iterative estimators.

    Returns
    -------
    RMAResult

    Raises
    ------
    DataValidationError
        No usable study (k = 0), a sampling variance <= 0, a moderator that is
        collinear with the others, or more coefficients than studies allow.
    ConvergenceError
        An iterative estimator found no solution.

    Notes
    -----
    Numerically equal to metafor's ``rma.uni`` (Viechtbauer 2010), except that
    ML/REML/EB always converge (safeguarded scoring instead of plain Fisher
    scoring) and Paule-Mandel extends a too-short search interval instead of
    failing. With k = 1 tau2 is 0 and the z test is used, as in metafor. As in
    metafor, models without an intercept estimate tau2 and QE from the
    mean-centred effect sizes.

    References
    ----------
    Viechtbauer W (2010). J Stat Softw 36(3):1-48.
    DerSimonian R, Laird N (1986). Control Clin Trials 7:177-188.
    Knapp G, Hartung J (2003). Stat Med 22:2693-2710.
    """
    estimator = get_estimator(method)
    test = check_choice("rma", "test", test, TESTS)
    lev = check_level("rma", level)
    control = control or Control()
    table = _effect_table(yi, vi, sei, data, measure, slab, ni)
    if tau2 is not None:
        if not estimator.random:
            raise OptionError("A fixed tau2 needs a random-effects method, not the common-effect model.")
        tau2 = check_nonnegative("rma", "tau2", tau2)
    design = None if mods is None else build_design(mods, data, len(table), table.slab, reference, intercept)
    keep, exclusions = _rows_in_model(table, design)
    k = int(keep.sum())
    yi_k, vi_k = table.yi[keep], table.vi[keep]
    X = None if design is None else design.X[keep]
    if X is not None:
        check_rank(X, design.names)
        if X.shape[1] + int(estimator.random) > k:
            raise DataValidationError(
                f"The model has {X.shape[1]} coefficients{' and tau2' if estimator.random else ''}"
                f" but only k = {k} studies."
            )
    batch = Batch.from_arrays(yi_k, vi_k, X)
    tau_batch = None
    if design is not None and not design.intercept:
        tau_batch = Batch.from_arrays(yi_k - yi_k.mean(), vi_k, X)
    bf = fit_batch(batch, estimator, test, lev, control, None if tau2 is None else np.array([tau2]), tau_batch)
    if not bf.converged[0]:
        raise ConvergenceError(
            f"The {estimator.code} estimator did not converge in {control.maxiter} iterations"
            " (increase control.maxiter or use another method)."
        )

    notes = list(table.notes)
    warns = _fit_warnings(table, bf, estimator, test, notes, fixed_tau2=tau2 is not None)
    ni_k = table.ni[keep]
    companion = None
    if design is None and _unstable_pft(table.measure, ni_k):
        warns.append(
            f"Study sizes range from {np.nanmin(ni_k):g} to {np.nanmax(ni_k):g}: the Freeman-Tukey"
            " back-transformation with the harmonic mean of n can be misleading (Schwarzer et al."
            " 2019). The logit (PLO) result is shown beside it."
        )
        cells = table.cells
        plo = escalc("PLO", xi=cells["xi"], mi=cells["mi"], slab=list(table.slab))
        companion = rma(plo, method=estimator.code, test=test, level=lev, control=control)
    for w in warns:
        _warnings.warn(w, TransformWarning if "Freeman" in w else MetapoolWarning, stacklevel=2)

    c = bf.coef
    names = ("intrcpt",) if design is None else design.names
    coefficients = CoefficientTable(
        names=names,
        estimate=c.estimate[0],
        se=c.se[0],
        statistic=c.statistic[0],
        pvalue=c.pvalue[0],
        ci_lower=c.ci_lower[0],
        ci_upper=c.ci_upper[0],
    )
    ddf = float(c.ddf[0])
    moderators = None
    if design is not None:
        moderators = _moderator_test(design, X, bf, yi_k, vi_k, estimator, test, lev, control)
    return RMAResult(
        measure=table.measure,
        method=estimator.code,
        test=test,
        level=lev,
        k=k,
        coefficients=coefficients,
        vb=bf.vb[0],
        tau2=float(bf.tau2[0]),
        tau2_fixed=tau2 is not None,
        tau2_se=float(bf.tau2_se[0]),
        q=float(bf.het.q[0]),
        q_df=float(bf.het.df[0]),
        q_pvalue=float(bf.het.pvalue[0]),
        i2=float(bf.het.i2[0]),
        h2=float(bf.het.h2[0]),
        vt=float(bf.het.vt[0]),
        ddf=None if np.isinf(ddf) else ddf,
        s2w=float(bf.s2w[0]),
        pi_lower=float(bf.pi_lower[0]),
        pi_upper=float(bf.pi_upper[0]),
        yi=yi_k,
        vi=vi_k,
        ni=ni_k,
        slab=tuple(table.slab) if k == len(table) else tuple(np.asarray(table.slab, dtype=object)[keep]),
        weights=bf.weights[0][:k],
        rows=table.rows[keep],
        exclusions=exclusions,
        corrected=tuple(table.slab[i] for i in np.flatnonzero(table.corrected & keep))
        if np.count_nonzero(table.corrected) else (),
        warnings=tuple(warns),
        notes=tuple(n for n in notes if n not in warns),
        converged=bool(bf.converged[0]),
        n_iter=int(bf.n_iter[0]),
        random=estimator.random,
        control=control,
        companion=companion,
        X=X,
        moderators=moderators,
    )


def _describe(table: EffectSizeTable, position: int) -> str:
    """The study at ``position`` of ``table`` for a message: its input row and label (``row 3 (study 'A')``)."""
    return describe_study(int(table.rows[position]), table.slab[position])


def _rows_in_model(table: EffectSizeTable, design: Design | None) -> tuple[np.ndarray, tuple]:
    """Positions of the table that enter the model, and every other row (input-table row) with its reason."""
    keep = table.included
    bad = keep & ~(table.vi > 0)
    if np.count_nonzero(bad):
        row = int(np.flatnonzero(bad)[0])
        raise DataValidationError(
            f"{_describe(table, row)}: sampling variance {float(table.vi[row])!r} is not positive;"
            " every study needs vi > 0."
        )
    _check_scale(table, keep)
    reasons = {r: e.reason for r, e in table.excluded_positions().items()}
    if np.count_nonzero(keep) < keep.size:
        for r in np.flatnonzero(~keep):
            reasons.setdefault(int(r), "effect size or variance missing")
    if design is not None:
        for r, reason in design.missing.items():
            if keep[r]:
                reasons[r] = reason
        keep = keep & np.array([r not in design.missing for r in range(len(table))])
    exclusions = tuple(Exclusion(int(table.rows[r]), table.slab[r], reasons[r]) for r in sorted(reasons))
    if not np.count_nonzero(keep):
        detail = "; ".join(str(e) for e in exclusions[:5])
        raise DataValidationError(f"No study can be analysed (k = 0). {detail}")
    return keep, exclusions


def scale_problems(yi: np.ndarray, vi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where effect sizes and variances are too extreme to pool (their weighted squares overflow).

    Returns ``(tiny, huge, wy2)``: variances below :data:`SMALLEST_VARIANCE`
    (powers of the weight 1/vi overflow), finite effect sizes whose
    ``yi^2/vi`` overflows, and ``yi^2/vi`` itself (whose sum over an analysis
    must be finite too). Values that large or small are unit errors; pooled,
    they give Q = inf with tau^2 = 0 and I^2 = 0 (or NaN) without a sign.
    """
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        wy2 = yi * yi / vi
    usable = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
    return usable & (vi < SMALLEST_VARIANCE), usable & ~np.isfinite(wy2), wy2


def scale_problem(tiny: bool, yi: float, vi: float, where: str) -> str:
    """The message for a study flagged by :func:`scale_problems` (``tiny``: its variance, else its effect size)."""
    what = (f"vi = {vi:g} in {where} is too small to pool: powers of its weight 1/vi overflow" if tiny else
            f"yi = {yi:g} in {where} is too large to pool: yi^2/vi (vi = {vi:g}) overflows")
    return what + "; check the units."


def overflow_problem(yi: float, vi: float, where: str) -> str:
    """The message for an analysis whose sum of ``yi^2/vi`` overflows (its largest term given)."""
    return (f"The sum of yi^2/vi over the studies overflows (the largest term is yi = {yi:g} with"
            f" vi = {vi:g} in {where}); check the units.")


def _check_scale(table: EffectSizeTable, keep: np.ndarray) -> None:
    """Refuse effect sizes and variances whose weighted squares overflow (:func:`scale_problems`)."""
    yi, vi = table.yi, table.vi
    tiny, huge, wy2 = scale_problems(yi, vi)
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.sum(wy2[keep])
    bad = np.flatnonzero(keep & (tiny | huge))
    if bad.size:
        row = int(bad[0])
        raise DataValidationError(scale_problem(bool(tiny[row]), yi[row], vi[row], _describe(table, row)))
    if not np.isfinite(total):
        row = int(np.nanargmax(np.where(keep, wy2, np.nan)))
        raise DataValidationError(overflow_problem(yi[row], vi[row], _describe(table, row)))


def _fit_warnings(table: EffectSizeTable, bf, estimator, test: str, notes: list, fixed_tau2: bool) -> list[str]:
    warns = [n for n in notes if "artefact" in n]
    if estimator.random and not fixed_tau2 and bf.k[0] > 1 and not np.isfinite(bf.tau2_se[0]):
        warns.append(
            f"The standard error of tau^2 overflows at the scale of these data (tau^2 = {bf.tau2[0]:.3g}):"
            " it is not available; check the units."
        )
    if bf.z_forced[0]:
        warns.append(f"k = 1: the {test} test is undefined; the z test was used.")
    if bf.tau2_fallback[0]:
        warns.append(
            f"Fisher scoring (metafor's algorithm) did not converge in {bf.estimator.code} on these data;"
            " the safeguarded Newton search found the optimum instead (metafor stops with an error here)."
        )
    if bf.tau2_reset[0]:
        warns.append(
            "The likelihood at tau^2 = 0 exceeds that at the local maximum found; tau^2 was set"
            " to 0 (as metafor does)."
        )
    if test == "knha" and not estimator.random:
        warns.append("The Knapp-Hartung adjustment is meant for random-effects models.")
    if bf.variance_ratio[0] >= VARIANCE_RATIO_LIMIT:
        warns.append(
            f"Ratio of largest to smallest sampling variance is {bf.variance_ratio[0]:.3g}"
            " (>= 1e7): results may not be stable."
        )
    return warns


def _unstable_pft(measure: str, ni: np.ndarray) -> bool:
    return measure == "PFT" and len(ni) > 1 and np.nanmax(ni) >= PFT_SIZE_RATIO * np.nanmin(ni)


def _moderator_test(design: Design, X, bf, yi, vi, estimator, test, level, control) -> ModeratorTest:
    """QM test of the moderators and the pseudo-R^2 (metafor's conventions)."""
    which = np.array([n != "intrcpt" for n in design.names])
    wt = wald_test(bf.coef.estimate[0], bf.vb[0], which, float(bf.coef.ddf[0]))
    r2 = float("nan")
    if design.intercept and which.any():
        if estimator.random:
            null = fit_batch(Batch.from_arrays(yi, vi), estimator, test, level, control)
            tau2_null, tau2 = float(null.tau2[0]), float(bf.tau2[0])
            r2 = 0.0 if tau2_null == 0 else max(0.0, 100.0 * (tau2_null - tau2) / tau2_null)
        else:
            r2 = _weighted_adjusted_r2(yi, vi, X, bf.coef.estimate[0])
    return ModeratorTest(
        names=tuple(n for n, w in zip(design.names, which) if w),
        statistic=wt.statistic,
        df=wt.df,
        ddf=wt.ddf,
        pvalue=wt.pvalue,
        r2=r2,
        formula=design.formula,
        intercept=design.intercept,
    )


def _weighted_adjusted_r2(yi, vi, X, beta) -> float:
    """Adjusted R^2 (percent) of the inverse-variance weighted regression (CE models)."""
    w = 1.0 / vi
    p = X.shape[1]
    fitted = X @ beta
    mean = np.sum(w * yi) / np.sum(w)
    rss = np.sum(w * (yi - fitted) ** 2)
    tss = np.sum(w * (yi - mean) ** 2)
    k = len(yi)
    r2 = 1.0 - rss / tss
    return max(0.0, 100.0 * (1.0 - (1.0 - r2) * (k - 1) / (k - p)))
