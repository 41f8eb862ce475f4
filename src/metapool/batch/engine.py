"""``fit_many``: one meta-analysis per key of a long table, fitted in padded batches.

The effect sizes come from :func:`metapool.escalc` and the models from
:func:`metapool.models.fit.fit_batch`, the code path behind :func:`metapool.rma`,
so every analysis gets the numbers a single ``rma`` fit of its rows would give.
Analyses that cannot be fitted are reported with a status and a message, never
dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from .._validation import check_choice, check_level
from ..effect_sizes.escalc import ROLES, escalc
from ..effect_sizes.registry import MEASURES, get_measure
from ..effect_sizes.transforms import TRANSFORMS
from ..exceptions import DataValidationError, OptionError
from ..inference.intervals import natural_limits
from ..inference.tests import TESTS
from ..io.tables import get_column
from ..models.fit import VARIANCE_RATIO_LIMIT, BatchFit, fit_batch
from ..models.kernels import Batch
from ..models.rma import PFT_SIZE_RATIO, overflow_problem, scale_problem, scale_problems
from ..models.rootfind import Control
from ..models.tau2 import get_estimator
from .pack import chunks, layout, pad

__all__ = ["fit_many", "STATUSES", "RESULT_COLUMNS", "BACK_COLUMNS", "DEFAULT_MAX_CELLS"]

#: Values of the ``status`` column.
STATUSES = {
    "ok": "fitted",
    "not_converged": "the tau2 estimator did not converge (numbers are missing, as rma raises)",
    "no_studies": "no row of the analysis has a usable effect size (k = 0)",
    "invalid_data": "a row has impossible values (message names it, counting rows within the analysis)",
}

#: Result columns (after the key columns), named as the keys of ``RMAResult.to_dict()``.
RESULT_COLUMNS = (
    "k", "measure", "method", "test", "level",
    "estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper", "pi_lower", "pi_upper",
    "ddf", "tau2", "tau2_se", "tau", "i2", "h2", "q", "q_df", "q_pvalue", "converged", "n_iter",
)  # fmt: skip

#: Natural-scale columns, ``back_<key>`` for the keys of ``to_dict()["back"]``, for measures
#: with a back-transformation.
BACK_COLUMNS = ("back_estimate", "back_ci_lower", "back_ci_upper", "back_pi_lower", "back_pi_upper")

#: Padded cells (analyses x largest k) fitted at once: 256 kB per array, which
#: keeps the kernels' temporaries in cache and memory bounded for any table size.
DEFAULT_MAX_CELLS = 1 << 15

_FLOAT_COLUMNS = tuple(c for c in RESULT_COLUMNS if c not in ("k", "measure", "method", "test", "level",
                                                               "converged", "n_iter")) + BACK_COLUMNS


@dataclass(frozen=True)
class _Options:
    measure: str
    escalc: dict
    estimator: object
    test: str
    level: float
    control: Control
    columns: dict


def _is_dask(table) -> bool:
    return type(table).__module__.split(".")[0] in ("dask", "dask_expr")


def fit_many(
    table,
    by,
    *,
    measure: str,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    add: float | None = None,
    to: str = "only0",
    drop00: bool = False,
    ci_level: float = 95,
    control: Control | None = None,
    max_cells: int = DEFAULT_MAX_CELLS,
    progress: Callable[[int], None] | None = None,
    **columns: str,
):
    """Fit one meta-analysis per key of a long table (one row per study).

    Parameters
    ----------
    table
        pandas DataFrame, or a ``dask.dataframe.DataFrame`` (then the result is
        one too, see :func:`metapool.batch.dask.fit_partitions`).
    by
        Key column, or list of key columns, that tells the analyses apart.
        Missing keys form an analysis of their own.
    measure
        Effect measure as in :func:`metapool.escalc` (e.g. ``"PLO"``, ``"OR"``, ``"GEN"``).
    method, test, level
        As in :func:`metapool.rma`.
    add, to, drop00, ci_level
        Continuity correction and CI level of ratios, as in :func:`metapool.escalc`;
        ``to="if0all"`` applies per analysis.
    control
        Convergence control of iterative estimators.
    max_cells
        Memory budget: analyses are fitted in chunks of at most this many padded
        cells (analyses x largest k); the working memory is a few dozen arrays of
        this size, whatever the number of rows.
    progress
        Called with the number of analyses finished after each chunk.
    **columns
        Column roles as in :func:`metapool.escalc`, given as column names:
        ``xi="events", ni="total"``, ``ai=..., n1i=..., ci=..., n2i=...``, ...

    Returns
    -------
    pandas.DataFrame
        One row per analysis, sorted by key: the key columns, then
        :data:`RESULT_COLUMNS` (named as the keys of ``RMAResult.to_dict()``;
        missing values are NaN), :data:`BACK_COLUMNS` where the measure has a
        back-transformation, ``n_excluded`` (rows without a usable effect size),
        ``status`` (see :data:`STATUSES`) and ``message`` (why an analysis failed,
        or the warnings ``rma`` would give, ``"; "``-separated).

    Notes
    -----
    Analyses are fitted in batches (Viechtbauer 2010 for the models): rows are
    sorted by analysis size, so analyses of similar k share a padded array. Sums
    over padded arrays may round differently from a single fit in the last bit.
    The Freeman-Tukey back-transformations (PFT, IRFT) use the harmonic mean of
    each analysis' sample sizes or person-times (Miller 1978), as ``rma``
    does; the logit companion fit of ``rma`` is not computed.

    References
    ----------
    Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
    J Stat Softw 36(3):1-48.
    Miller JJ (1978). The inverse of the Freeman-Tukey double arcsine
    transformation. Am Stat 32:138.
    """
    keys = [by] if isinstance(by, str) else list(by)
    if not keys:
        raise OptionError("fit_many needs at least one key column in 'by'.")
    unknown = sorted(set(columns) - set(ROLES))
    if unknown:
        raise OptionError(f"fit_many got unknown column roles {unknown}; roles are {', '.join(ROLES)}.")
    for role, name in columns.items():
        if not isinstance(name, str):
            raise OptionError(f"fit_many takes column names; '{role}' is {type(name).__name__}.")
    arguments = (measure, method, test, level, add, to, drop00, ci_level, control, columns)
    opts = _options(*arguments)
    if _is_dask(table):
        from .dask import fit_partitions

        # The raw arguments travel to the workers (picklable); each partition checks them again.
        return fit_partitions(table, keys, partial(_fit_partition, keys=keys, arguments=arguments,
                                                   max_cells=max_cells))
    return _fit_frame(table, keys, opts, max_cells, progress)


def _fit_partition(table, keys: list, arguments: tuple, max_cells: int) -> "pd.DataFrame":
    """The pandas fit of one Dask partition, from :func:`fit_many`'s raw arguments."""
    return _fit_frame(table, keys, _options(*arguments), max_cells, None)


def _options(measure, method, test, level, add, to, drop00, ci_level, control, columns) -> _Options:
    code = get_measure(measure).code
    estimator = get_estimator(method, "fit_many")
    opts = _Options(
        measure=code,
        escalc={"add": add, "to": to, "drop00": drop00, "ci_level": ci_level},
        estimator=estimator,
        test=check_choice("fit_many", "test", test, TESTS),
        level=check_level("fit_many", level),
        control=control or Control(),
        columns=dict(columns),
    )
    # Options and column roles are checked by escalc itself on one missing row.
    escalc(code, {name: np.array([np.nan]) for name in columns.values()}, **columns, **opts.escalc)
    return opts


def _fit_frame(table, keys: list, opts: _Options, max_cells: int, progress) -> "pd.DataFrame":
    import pandas as pd

    for name in keys:
        get_column(table, name, "by")
    arrays = {name: get_column(table, name, role) for role, name in opts.columns.items()}
    grouped = table.groupby(keys, sort=True, dropna=False, observed=True)
    codes = grouped.ngroup().to_numpy()
    key_frame = grouped.size().index.to_frame(index=False)
    n_groups = len(key_frame)
    out = _Output(n_groups, opts)
    if n_groups:
        lay = layout(codes, n_groups, grouped.cumcount().to_numpy())
        arrays = {name: np.asarray(col)[lay.order] for name, col in arrays.items()}
        for a, b in chunks(lay.sizes, max_cells):
            r0, r1 = lay.starts[a], lay.starts[b - 1] + lay.sizes[b - 1]
            part = {name: col[r0:r1] for name, col in arrays.items()}
            _fit_chunk(part, lay.sizes[a:b], lay.analyses[a:b], opts, out)
            if progress is not None:
                progress(b - a)
    return pd.concat([key_frame, pd.DataFrame(out.columns(), index=key_frame.index)], axis=1)


class _Output:
    """Result columns of all analyses, filled chunk by chunk."""

    def __init__(self, n: int, opts: _Options):
        self.opts = opts
        back = MEASURES[opts.measure].back
        self.back = None if back == "identity" else TRANSFORMS[back]
        names = _FLOAT_COLUMNS if self.back is not None else _FLOAT_COLUMNS[: -len(BACK_COLUMNS)]
        self.float = {name: np.full(n, np.nan) for name in names}
        self.k = np.zeros(n, dtype=np.int64)
        self.n_excluded = np.zeros(n, dtype=np.int64)
        self.converged = np.zeros(n, dtype=bool)
        self.n_iter = np.zeros(n, dtype=np.int64)
        self.status = np.full(n, "ok", dtype=object)
        self.message = np.full(n, "", dtype=object)

    def fail(self, rows, status: str, messages) -> None:
        self.status[rows] = status
        self.message[rows] = messages

    def columns(self) -> dict:
        import pandas as pd

        o = self.opts
        n = len(self.k)
        cols = {
            "k": self.k,
            "measure": _constant(o.measure, n),
            "method": _constant(o.estimator.code, n),
            "test": _constant(o.test, n),
            "level": np.full(n, 100.0 * o.level),
        }
        cols |= {name: self.float[name] for name in RESULT_COLUMNS if name in self.float}
        cols |= {"converged": self.converged, "n_iter": self.n_iter}
        cols |= {name: self.float[name] for name in BACK_COLUMNS if name in self.float}
        status = pd.Categorical(self.status, categories=list(STATUSES))
        cols |= {"n_excluded": self.n_excluded, "status": status, "message": self.message}
        return {name: cols[name] for name in (*RESULT_COLUMNS, *BACK_COLUMNS, "n_excluded", "status", "message")
                if name in cols}


def _constant(value: str, n: int):
    """A column holding one text value (categorical: built without n Python strings)."""
    import pandas as pd

    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[value])


def _escalc_rows(opts: _Options, part: dict, group: np.ndarray):
    """escalc on rows of whole analyses; ``to="if0all"`` decided per analysis."""
    if opts.escalc["to"] != "if0all":
        es = escalc(opts.measure, part, **opts.columns, **opts.escalc)
        return es.yi, es.vi, es.ni
    es = escalc(opts.measure, part, **opts.columns, **(opts.escalc | {"to": "only0"}))
    yi, vi = np.array(es.yi), np.array(es.vi)
    rows = np.isin(group, np.unique(group[es.corrected]))
    if rows.any():
        subset = {name: c[rows] for name, c in part.items()}
        every = escalc(opts.measure, subset, **opts.columns, **(opts.escalc | {"to": "all"}))
        yi[rows], vi[rows] = every.yi, every.vi
    return yi, vi, es.ni


def _effect_sizes(opts: _Options, part: dict, sizes: np.ndarray):
    """Effect sizes of the rows of a chunk; analyses with impossible rows are isolated.

    escalc stops at the first impossible row; the analyses of a failing range are
    split in halves until each failing analysis is found, so each is reported with
    escalc's own message (rows counted within the analysis).
    """
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    n = int(bounds[-1])
    group = np.repeat(np.arange(len(sizes)), sizes)
    yi, vi, ni = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    failures: dict[int, str] = {}
    pending = [(0, len(sizes))]
    while pending:
        g0, g1 = pending.pop()
        r0, r1 = bounds[g0], bounds[g1]
        try:
            yi[r0:r1], vi[r0:r1], ni[r0:r1] = _escalc_rows(
                opts, {name: c[r0:r1] for name, c in part.items()}, group[r0:r1]
            )
        except DataValidationError as exc:
            if g1 - g0 == 1:
                failures[g0] = f"{exc} (rows counted within the analysis)"
            else:
                mid = (g0 + g1) // 2
                pending += [(mid, g1), (g0, mid)]
    return yi, vi, ni, group, failures


def _fail_scale(yi, vi, rows: np.ndarray, group, sizes, analyses, out: _Output, failed: np.ndarray) -> None:
    """Mark analyses whose effect sizes are too extreme to pool (:func:`~metapool.models.rma.scale_problems`).

    ``rows`` are the rows still to be fitted; ``failed`` (per analysis) is updated.
    """
    tiny, huge, wy2 = scale_problems(yi, vi)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.bincount(group[rows], weights=wy2[rows], minlength=len(sizes))
    messages = {}
    for g in np.flatnonzero(~np.isfinite(total)).tolist():
        members = np.flatnonzero(rows & (group == g))
        row = int(members[np.nanargmax(wy2[members])])
        messages[g] = overflow_problem(yi[row], vi[row], f"row {row - starts[g] + 1}")
    bad = np.flatnonzero(rows & (tiny | huge))
    groups, first = np.unique(group[bad], return_index=True)
    for g, row in zip(groups.tolist(), bad[first].tolist()):
        messages[g] = scale_problem(bool(tiny[row]), yi[row], vi[row], f"row {row - starts[g] + 1}")
    for g, message in messages.items():
        out.fail(analyses[g], "invalid_data", message)
        failed[g] = True


def _fit_chunk(part: dict, sizes: np.ndarray, analyses: np.ndarray, opts: _Options, out: _Output) -> None:
    yi, vi, ni, group, failures = _effect_sizes(opts, part, sizes)
    n_an = len(sizes)
    included = np.isfinite(yi) & np.isfinite(vi)
    k = np.bincount(group[included], minlength=n_an)
    out.k[analyses] = k
    out.n_excluded[analyses] = sizes - k
    failed = np.zeros(n_an, dtype=bool)
    if failures:
        idx = np.fromiter(failures, dtype=np.int64)
        failed[idx] = True
        out.fail(analyses[idx], "invalid_data", list(failures.values()))
    bad_v = included & ~(vi > 0) & ~failed[group]
    if bad_v.any():
        first = {}
        for row in np.flatnonzero(bad_v)[::-1]:
            first[int(group[row])] = row
        starts = np.concatenate([[0], np.cumsum(sizes)])
        for g, row in first.items():
            out.fail(analyses[g], "invalid_data",
                     f"row {row - starts[g] + 1}: sampling variance {float(vi[row])!r} is not positive;"
                     " every study needs vi > 0.")
            failed[g] = True
    _fail_scale(yi, vi, included & ~failed[group], group, sizes, analyses, out, failed)
    empty = (k == 0) & ~failed
    if empty.any():
        out.fail(analyses[empty], "no_studies", "No study can be analysed (k = 0).")
    fit = ~failed & ~empty
    if not fit.any():
        return
    use = included & fit[group]
    g = group[use]
    brow = np.cumsum(fit) - 1
    first_use = np.concatenate([[0], np.cumsum(k * fit)[:-1]])
    pos = np.arange(int(use.sum())) - first_use[g]
    nb, width = int(fit.sum()), int(k[fit].max())
    rows = brow[g]
    mask = pad(True, pos, rows, nb, width, False)
    batch = Batch.from_arrays(pad(yi[use], pos, rows, nb, width, 0.0), pad(vi[use], pos, rows, nb, width, 1.0),
                              mask=mask)
    bf = fit_batch(batch, opts.estimator, opts.test, opts.level, opts.control)
    _store(out, analyses[fit], bf, pad(ni[use], pos, rows, nb, width, np.nan), opts)


def _warnings(bf: BatchFit, ni: np.ndarray, opts: _Options) -> np.ndarray:
    """The warnings rma gives (but for all-zero-event notes), as one string per analysis."""
    parts = [
        (bf.z_forced, f"k = 1: the {opts.test} test is undefined; the z test was used."),
        (bf.tau2_reset, "The likelihood at tau^2 = 0 exceeds that at the local maximum found; tau^2 was set"
                        " to 0 (as metafor does)."),
        (bf.variance_ratio >= VARIANCE_RATIO_LIMIT, "Ratio of largest to smallest sampling variance is"
                                                    " >= 1e7: results may not be stable."),
    ]
    if opts.measure == "PFT":
        with np.errstate(invalid="ignore"):
            spread = (bf.k > 1) & (np.nanmax(ni, axis=1) >= PFT_SIZE_RATIO * np.nanmin(ni, axis=1))
        parts.append((spread, "Study sizes differ tenfold or more: the Freeman-Tukey back-transformation with"
                              " the harmonic mean of n can be misleading (Schwarzer et al. 2019)."))
    if opts.test == "knha" and not opts.estimator.random:
        parts.append((np.ones(len(bf.k), dtype=bool), "The Knapp-Hartung adjustment is meant for random-effects models."))
    text = np.full(len(bf.k), "", dtype=object)
    for flag, msg in parts:
        text[flag] = np.where(text[flag] == "", msg, text[flag] + "; " + msg)
    return text


def _store(out: _Output, rows: np.ndarray, bf: BatchFit, ni: np.ndarray, opts: _Options) -> None:
    c = bf.coef
    values = {
        "estimate": c.estimate[:, 0], "se": c.se[:, 0], "statistic": c.statistic[:, 0],
        "pvalue": c.pvalue[:, 0], "ci_lower": c.ci_lower[:, 0], "ci_upper": c.ci_upper[:, 0],
        "pi_lower": bf.pi_lower, "pi_upper": bf.pi_upper,
        "ddf": np.where(np.isinf(c.ddf), np.nan, c.ddf),
        "tau2": bf.tau2, "tau2_se": bf.tau2_se, "tau": np.sqrt(bf.tau2),
        "i2": bf.het.i2, "h2": bf.het.h2, "q": bf.het.q, "q_df": bf.het.df, "q_pvalue": bf.het.pvalue,
    }  # fmt: skip
    if out.back is not None:
        values |= _back(out.back, values, ni, opts.estimator.random)
    ok = bf.converged
    for name, v in values.items():
        out.float[name][rows] = np.where(ok, v, np.nan)
    out.converged[rows] = ok
    out.n_iter[rows] = bf.n_iter
    out.message[rows] = _warnings(bf, ni, opts)
    if not ok.all():
        out.fail(rows[~ok], "not_converged",
                 f"The {opts.estimator.code} estimator did not converge in {opts.control.maxiter} iterations"
                 " (increase control.maxiter or use another method).")


def _back(transform, v: dict, ni: np.ndarray, random: bool) -> dict:
    """Natural-scale values as ``RMAResult.back()`` gives them (limits transformed and sorted).

    ``ni`` is ``[B, K]`` (NaN-padded): a Freeman-Tukey inverse uses the harmonic
    mean of each analysis' sizes (Miller 1978).
    """
    out = {"back_estimate": transform(v["estimate"], ni)}
    out["back_ci_lower"], out["back_ci_upper"] = natural_limits(transform, v["ci_lower"], v["ci_upper"], ni)
    if random:
        out["back_pi_lower"], out["back_pi_upper"] = natural_limits(transform, v["pi_lower"], v["pi_upper"], ni)
    return out
