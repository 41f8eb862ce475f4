"""All default bias analyses of a fitted model, for the CLI and reports."""

from __future__ import annotations

from functools import partial

from ..analysis_report import AnalysisReport, run_analyses
from .registry import BIAS_TESTS, DEFAULT_BIAS_TESTS

__all__ = ["bias_report"]


def bias_report(res, table=None) -> AnalysisReport:
    """Run every analysis of :data:`DEFAULT_BIAS_TESTS` with its defaults (metafor's).

    With ``table``, the two-group binary :class:`~metapool.effect_sizes.EffectSizeTable`
    the model was fitted to, Peters' test is run too.
    """
    from ..effect_sizes import MEASURES

    analyses = {code: (BIAS_TESTS[code].name, BIAS_TESTS[code].function) for code in DEFAULT_BIAS_TESTS}
    if table is not None and MEASURES[table.measure].family == "binary":
        analyses["peters"] = (BIAS_TESTS["peters"].name, partial(BIAS_TESTS["peters"].function, table=table))
    return run_analyses(res, "Small-study effects and publication bias", analyses)
