"""Batched refits of a fitted model on subsets of its studies.

Leave-one-out, cumulative, influence and GOSH analyses all refit the model of
a result on subsets of its studies. Each subset is one row of a padded batch
(``mask[B, K]`` marks the studies kept), fitted in one call of
:func:`~metapool.models.fit.fit_batch` with the result's own estimator, test,
level, control and (if it was fixed) tau2, as metafor's refits do.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import MetapoolError
from ..models.fit import BatchFit, fit_batch
from ..models.kernels import Batch
from ..models.results import RMAResult
from ..models.tau2 import get_estimator

__all__ = ["pack_subsets", "refit_subsets", "require_intercept_only", "require_k"]


def require_intercept_only(res: RMAResult, what: str) -> None:
    """Raise unless ``res`` is a model without moderators (as metafor requires)."""
    if len(res.coefficients.names) != 1:
        raise MetapoolError(f"{what} is defined for models without moderators.")


def require_k(res: RMAResult, minimum: int, what: str) -> None:
    """Raise a clear error when ``res`` has fewer than ``minimum`` studies."""
    if res.k < minimum:
        raise MetapoolError(f"{what} needs at least {minimum} studies; the model has k = {res.k}.")


def pack_subsets(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pack each subset's studies (in data order) into the leading columns.

    Returns ``idx[B, W]`` (study indices) and ``kept[B, W]`` (False in padded
    cells), ``W`` the size of the largest subset.
    """
    mask = np.atleast_2d(np.asarray(mask, dtype=bool))
    width = int(mask.sum(axis=1).max())
    idx = np.argsort(~mask, axis=1, kind="stable")[:, :width]
    return idx, np.take_along_axis(mask, idx, axis=1)


def refit_subsets(res: RMAResult, mask: np.ndarray, *, test: str | None = None, level: float | None = None) -> BatchFit:
    """Fit the model of ``res`` to each subset ``mask[b]`` of its studies.

    Only the studies of each subset enter its row (packed in data order), so
    the batch is as wide as the largest subset. Rows whose iterative
    estimator did not converge are returned as they are
    (check ``converged``); callers report them as missing, as metafor does for
    refits that fail.
    """
    mask = np.atleast_2d(np.asarray(mask, dtype=bool))
    idx, kept = pack_subsets(mask)
    batch = Batch.from_arrays(np.asarray(res.yi)[idx], np.asarray(res.vi)[idx], mask=kept)
    tau2 = np.full(mask.shape[0], res.tau2) if res.tau2_fixed else None
    return fit_batch(
        batch,
        get_estimator(res.method),
        res.test if test is None else test,
        res.level if level is None else level,
        res.control,
        tau2,
    )
