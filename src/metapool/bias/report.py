"""All default bias analyses of a fitted model, for the CLI and reports."""

from __future__ import annotations

from ..analysis_report import AnalysisReport, run_analyses
from .registry import BIAS_TESTS, DEFAULT_BIAS_TESTS

__all__ = ["bias_report"]


def bias_report(res) -> AnalysisReport:
    """Run every analysis of :data:`DEFAULT_BIAS_TESTS` with its defaults (metafor's)."""
    analyses = {code: (BIAS_TESTS[code].name, BIAS_TESTS[code].function) for code in DEFAULT_BIAS_TESTS}
    return run_analyses(res, "Small-study effects and publication bias", analyses)
