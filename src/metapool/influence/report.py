"""Default sensitivity analyses of a fitted model (leave-one-out, influence), for the CLI and reports.

Both refit the model once per study, so their cost grows with k²: above
:func:`refit_limit` studies the default runs skip them with the reason
(the functions themselves, called from Python, have no limit).
"""

from __future__ import annotations

from ..analysis_report import AnalysisReport, run_analyses
from ..exceptions import MetapoolError
from ..glmm.result import GLMMResult
from .diagnostics import influence
from .leave_one_out import leave_one_out

__all__ = ["SENSITIVITY_ANALYSES", "MAX_K_REFITS", "MAX_K_REFITS_GLMM", "refit_limit", "sized", "sensitivity_report"]

#: Most studies for which the default runs refit an inverse-variance model once per study.
#: Measured on 2 shared vCPUs: 5 s and 0.4 GB at k = 2,000 (30 s and 2.4 GB at 5,000).
MAX_K_REFITS = 2000
#: The same for GLMMs: 5 s at k = 200 (32 s at 500).
MAX_K_REFITS_GLMM = 200


def refit_limit(res) -> int:
    """Most studies of ``res`` for which the default runs do its per-study refits."""
    return MAX_K_REFITS_GLMM if isinstance(res, GLMMResult) else MAX_K_REFITS


def sized(function):
    """``function(res)``, refused with the reason (a :class:`MetapoolError`) above :func:`refit_limit` studies."""

    def run(res):
        limit = refit_limit(res)
        if res.k > limit:
            raise MetapoolError(f"k = {res.k:,} > {limit:,}: skipped, as its cost grows with k² (it refits the model"
                                f" once per study); run it with the Python API (metapool.influence.{function.__name__})")
        return function(res)

    return run


#: Analyses run by ``metapool pool --sensitivity``: JSON key -> (title, function).
SENSITIVITY_ANALYSES = {
    "leave_one_out": ("Leave-one-out analysis", sized(leave_one_out)),
    "influence": ("Influence diagnostics", sized(influence)),
}


def sensitivity_report(res) -> AnalysisReport:
    """Run every analysis of :data:`SENSITIVITY_ANALYSES` on ``res`` (JSON: lists of rows)."""
    return run_analyses(res, "Sensitivity and influence", SENSITIVITY_ANALYSES, records=True)
