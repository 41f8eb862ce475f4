"""Default sensitivity analyses of a fitted model (leave-one-out, influence), for the CLI."""

from __future__ import annotations

from ..analysis_report import AnalysisReport, run_analyses
from .diagnostics import influence
from .leave_one_out import leave_one_out

__all__ = ["SENSITIVITY_ANALYSES", "sensitivity_report"]

#: Analyses run by ``metapool pool --sensitivity``: JSON key -> (title, function).
SENSITIVITY_ANALYSES = {
    "leave_one_out": ("Leave-one-out analysis", leave_one_out),
    "influence": ("Influence diagnostics", influence),
}


def sensitivity_report(res) -> AnalysisReport:
    """Run every analysis of :data:`SENSITIVITY_ANALYSES` on ``res`` (JSON: lists of rows)."""
    return run_analyses(res, "Sensitivity and influence", SENSITIVITY_ANALYSES, records=True)
