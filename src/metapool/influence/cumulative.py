"""Cumulative meta-analysis: studies added one at a time in a given order."""

from __future__ import annotations

from functools import singledispatch

import numpy as np

from ..exceptions import DataValidationError, MetapoolError
from ..models.results import RMAResult
from ._refit import refit_subsets, require_intercept_only
from .series import SubsetSeries, series_from_fit

__all__ = ["cumulative", "cumulative_order"]


def cumulative_order(res, order=None, *, decreasing: bool = False) -> np.ndarray:
    """Indices of the studies of ``res`` in the order they are added.

    ``order`` gives one sort key per study in the model (e.g. publication
    year); ties keep the data order (a stable sort, as R's ``order``). Text
    keys that are numbers sort as numbers. None keeps the data order.
    """
    if order is None:
        return np.arange(res.k)
    key = np.asarray(order)
    if key.dtype.kind in "USO":  # text read from a file: numbers sort as numbers
        try:
            key = key.astype(float)
        except ValueError:
            key = key.astype(str)
    if key.shape != (res.k,):
        raise DataValidationError(
            f"The order has {key.size} values; the model has k = {res.k} studies (one key per study)."
        )
    if decreasing:
        # Python's sort stays stable in reverse: ties keep the data order, as in R
        return np.array(sorted(range(res.k), key=lambda i: key[i], reverse=True), dtype=int)
    return np.argsort(key, kind="stable")


@singledispatch
def cumulative(res, order=None, *, decreasing: bool = False) -> SubsetSeries:
    """Cumulative meta-analysis (equal to metafor's ``cumul``).

    Row i is the model fitted to the first i studies in the given order; all
    k fits run as one batch of prefix masks.

    Parameters
    ----------
    res
        A fitted model without moderators.
    order
        Sort key per study in the model (array or sequence, e.g. the year);
        None keeps the data order.
    decreasing
        Sort the key in decreasing order.

    Returns
    -------
    SubsetSeries
        Row i labelled with the study added at step i.
    """
    raise MetapoolError(f"cumulative is not available for {type(res).__name__} results.")


@cumulative.register
def _(res: RMAResult, order=None, *, decreasing: bool = False) -> SubsetSeries:
    require_intercept_only(res, "Cumulative meta-analysis")
    idx = cumulative_order(res, order, decreasing=decreasing)
    k = res.k
    rank = np.empty(k, dtype=int)
    rank[idx] = np.arange(k)
    mask = rank[None, :] <= np.arange(k)[:, None]
    bf = refit_subsets(res, mask)
    return series_from_fit("cumulative", [res.slab[i] for i in idx], bf, res)
