"""Bias analyses of Mantel-Haenszel and Peto fits, as metafor runs them on ``rma.mh`` / ``rma.peto``.

metafor's ``regtest`` and ``ranktest`` accept these fits and work on their
study-level estimates (``yi``, ``vi``: the tables with an estimate, 1/2 added
to the cells of tables with a zero cell, double-zero tables dropped), the
regression test as a common-effect meta-regression with the z test; the
fail-safe N and the LFK index take the same estimates, Peters' test the
tables' events and non-events. ``trimfill`` has no method for these fits in
metafor (its refits are inverse-variance models), nor here: it is refused with
that reason.

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3):1-48.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..exceptions import MetapoolError
from ..models.mh_peto import NOT_FOR_TABLES, MHResult
from ..models.results import RMAResult
from ..models.rma import rma
from .failsafe import fsn
from .lfk import lfk
from .rank import ranktest
from .regression import peters, regtest
from .trimfill import trimfill

__all__ = ["study_level_fit"]


def study_level_fit(res: MHResult) -> RMAResult:
    """The common-effect inverse-variance model of the fit's study-level estimates (what ``regtest`` fits)."""
    has = np.isfinite(res.yi) & np.isfinite(res.vi)
    slab = [s for s, h in zip(res.slab, has) if h]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rma(np.asarray(res.yi)[has], np.asarray(res.vi)[has], method="CE", test="z", level=res.level,
                   slab=slab, ni=np.asarray(res.ni, dtype=float)[has])


@regtest.register
def _(res: MHResult, model: str = "rma", predictor: str = "sei"):
    return regtest(study_level_fit(res), model, predictor)


@peters.register
def _(res: MHResult, events=None, nonevents=None, *, table=None):
    """The fit's own tables (those with a study-level estimate, as :func:`study_level_fit`), unless events are given.

    A ``table`` handed in (e.g. escalc's, which keeps double-zero tables) is not used: its rows need not
    be the fit's studies.
    """
    if events is None and nonevents is None:
        has = np.isfinite(res.yi) & np.isfinite(res.vi)
        cells = {r: np.asarray(res.cells[r], dtype=float)[has] for r in ("ai", "bi", "ci", "di")}
        events, nonevents = cells["ai"] + cells["ci"], cells["bi"] + cells["di"]
    return peters(study_level_fit(res), events, nonevents)


@ranktest.register
def _(res: MHResult):
    return ranktest(study_level_fit(res))


@lfk.register
def _(res: MHResult):
    return lfk(study_level_fit(res))


@fsn.register
def _(res: MHResult, type: str = "Rosenthal", alpha: float = 0.05, target=None, weighted: bool = False):
    return fsn(study_level_fit(res), type, alpha, target, weighted)


@trimfill.register
def _(res: MHResult, side: str | None = None, estimator: str = "L0"):
    raise MetapoolError(f"Trim-and-fill refits inverse-variance models; {NOT_FOR_TABLES}.")
