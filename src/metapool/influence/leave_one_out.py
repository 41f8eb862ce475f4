"""Leave-one-out analysis: the model refitted without each study in turn."""

from __future__ import annotations

from functools import singledispatch

import numpy as np

from ..exceptions import MetapoolError
from ..models.mh_peto import MHResult, refit_tables
from ..models.results import RMAResult
from ._refit import refit_subsets, require_intercept_only, require_k
from .series import SubsetSeries, series_from_fit, series_from_tables

__all__ = ["leave_one_out", "leave_one_out_masks"]


def leave_one_out_masks(k: int) -> np.ndarray:
    """``[k, k]`` masks: row i keeps every study but study i."""
    return ~np.eye(k, dtype=bool)


@singledispatch
def leave_one_out(res) -> SubsetSeries:
    """Refit the model once without each study (equal to metafor's ``leave1out``).

    All k refits run as one batch of the model's own estimator, test and
    level (Viechtbauer & Cheung 2010); a Mantel-Haenszel or Peto model is
    refitted by its own method on the other tables (metafor's
    ``leave1out.rma.mh``, ``leave1out.rma.peto``).

    Parameters
    ----------
    res
        A fitted model without moderators (k >= 2).

    Returns
    -------
    SubsetSeries
        Row i: estimate, SE, test, CI, Q, tau2, I^2, H^2 without study i.

    References
    ----------
    Viechtbauer W, Cheung MWL (2010). Outlier and influence diagnostics for
    meta-analysis. Res Synth Methods 1:112-125.
    """
    raise MetapoolError(f"leave_one_out is not available for {type(res).__name__} results.")


@leave_one_out.register
def _(res: RMAResult) -> SubsetSeries:
    require_intercept_only(res, "Leave-one-out analysis")
    require_k(res, 2, "Leave-one-out analysis")
    bf = refit_subsets(res, leave_one_out_masks(res.k))
    return series_from_fit("leave-one-out", res.slab, bf, res)


@leave_one_out.register
def _(res: MHResult) -> SubsetSeries:
    require_k(res, 2, "Leave-one-out analysis")
    return series_from_tables("leave-one-out", res.slab, refit_tables(res, leave_one_out_masks(res.k)), res)
