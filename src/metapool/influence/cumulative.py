"""Cumulative meta-analysis: studies added one at a time in a given order."""

from __future__ import annotations

from functools import singledispatch

import numpy as np

from ..exceptions import DataValidationError, MetapoolError
from ..models.mh_peto import MHResult, refit_tables
from ..models.results import RMAResult
from ._refit import refit_subsets, require_intercept_only
from .series import SubsetSeries, series_from_fit, series_from_tables

__all__ = ["cumulative", "cumulative_order", "prefix_masks"]


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
    k fits run as one batch of prefix masks. A Mantel-Haenszel or Peto model
    is refitted by its own method on the first i tables (metafor's
    ``cumul.rma.mh``, ``cumul.rma.peto``).

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
    idx, mask = prefix_masks(res, order, decreasing)
    return series_from_fit("cumulative", [res.slab[i] for i in idx], refit_subsets(res, mask), res)


@cumulative.register
def _(res: MHResult, order=None, *, decreasing: bool = False) -> SubsetSeries:
    idx, mask = prefix_masks(res, order, decreasing)
    return series_from_tables("cumulative", [res.slab[i] for i in idx], refit_tables(res, mask), res)


def prefix_masks(res, order, decreasing: bool) -> tuple[np.ndarray, np.ndarray]:
    """The order of the studies and the ``[k, k]`` masks whose row i keeps the first i + 1 of them."""
    idx = cumulative_order(res, order, decreasing=decreasing)
    rank = np.empty(res.k, dtype=int)
    rank[idx] = np.arange(res.k)
    return idx, rank[None, :] <= np.arange(res.k)[:, None]
