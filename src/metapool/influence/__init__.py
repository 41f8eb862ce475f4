"""Sensitivity and influence analyses of fitted models.

Leave-one-out, cumulative meta-analysis, influence diagnostics, Baujat-plot
data and GOSH. Each function dispatches on the type of the fitted result and
returns its own frozen result type; all refits run as batches of subsets.
GLMM fits (PLO, IRLN and the OR model UM.FS) get every analysis too, as
metapool's extension of metafor: leave-one-out, cumulative, influence and
GOSH refit the subsets as one batch (:mod:`metapool.glmm.subsets`; all
registered by :mod:`.glmm`). Mantel-Haenszel and Peto fits are refitted by
their own method (leave-one-out, cumulative, GOSH), as metafor does.
"""

from . import glmm as _glmm  # registers the GLMM analyses
from .cumulative import cumulative
from .diagnostics import BaujatData, InfluenceDiagnostics, baujat, influence
from .gosh import GoshResult, gosh
from .leave_one_out import leave_one_out
from .series import SubsetSeries

__all__ = [
    "BaujatData", "GoshResult", "InfluenceDiagnostics", "SubsetSeries",
    "baujat", "cumulative", "gosh", "influence", "leave_one_out",
]  # fmt: skip
