"""Bias analyses of GLMM fits, on the study-level logits (log rates, log odds ratios).

metafor's ``rma.glmm`` supports no funnel-plot analyses. For a GLMM fit,
metapool runs them on the study-level effect sizes of the same data
(:meth:`GLMMResult.effect_sizes <metapool.glmm.result.GLMMResult.effect_sizes>`:
PLO, IRLN or OR from :func:`~metapool.effect_sizes.escalc`, with the fit's
continuity correction, by default metafor's ``add = 1/2, to = "only0"``: 1/2
added to the cells of a study or 2x2 table with a zero cell; double-zero
tables are not among a UM.FS fit's studies unless ``drop00=False``; studies
without a finite outcome are left out) under a random-effects model
estimated by maximum likelihood, like the GLMM's tau2 (a report's methods
text says so). Peters' test applies to GLMMs of 2x2 tables (the events and
non-events of the fit's own tables).
"""

from __future__ import annotations

import warnings

from ..exceptions import DataValidationError
from ..glmm.result import GLMMResult
from ..models.results import RMAResult
from ..models.rma import rma
from .failsafe import fsn
from .funnel import funnel_data
from .lfk import lfk
from .rank import ranktest
from .regression import peters, regtest
from .trimfill import trimfill

__all__ = ["study_level_model", "STUDY_LEVEL_METHOD"]

#: tau2 estimator of the study-level model (the GLMM's tau2 is an ML estimate too).
STUDY_LEVEL_METHOD = "ML"


def study_level_model(res: GLMMResult) -> RMAResult:
    """The inverse-variance random-effects model of the GLMM's studies (ML tau2)."""
    es = res.effect_sizes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rma(es, method=STUDY_LEVEL_METHOD, test=res.test, level=res.level)


@regtest.register
def _(res: GLMMResult, model: str = "rma", predictor: str = "sei"):
    return regtest(study_level_model(res), model, predictor)


@peters.register
def _(res: GLMMResult, events=None, nonevents=None, *, table=None):
    if res.measure != "OR":
        raise DataValidationError("Peters' test needs two-group binary data (a GLMM of 2x2 tables).")
    if events is None and nonevents is None:  # the fit's own tables (double-zero tables are not among them)
        table = res.effect_sizes()
    return peters(study_level_model(res), events, nonevents, table=table)


@ranktest.register
def _(res: GLMMResult):
    return ranktest(study_level_model(res))


@trimfill.register
def _(res: GLMMResult, side: str | None = None, estimator: str = "L0"):
    return trimfill(study_level_model(res), side, estimator)


@lfk.register
def _(res: GLMMResult):
    return lfk(study_level_model(res))


@fsn.register
def _(res: GLMMResult, type: str = "Rosenthal", alpha: float = 0.05, target=None, weighted: bool = False):
    return fsn(study_level_model(res), type, alpha, target, weighted)


@funnel_data.register
def _(res: GLMMResult, *args, **kwargs):
    return funnel_data(study_level_model(res), *args, **kwargs)
