"""A bundle of follow-up analyses of one fitted model (the CLI's --bias, --sensitivity).

Each analysis either gives a result (with ``summary()`` and ``to_dict()``) or is
undefined for the data (e.g. k < 3), which is reported with the reason
instead of a number.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._summary import Summarized
from .exceptions import MetapoolError

__all__ = ["AnalysisReport", "run_analyses"]


@dataclass(frozen=True)
class AnalysisReport(Summarized):
    """Results by code; ``undefined`` maps codes to the reason they have none."""

    title: str
    titles: dict  # code -> display title, in report order
    results: dict
    undefined: dict
    records: bool = False  # to_dict() gives each result's to_records() instead of to_dict()

    def to_dict(self) -> dict:
        def entry(code):
            if code not in self.results:
                return {"undefined": self.undefined[code]}
            r = self.results[code]
            return r.to_records() if self.records else r.to_dict()

        return {code: entry(code) for code in self.titles}


def run_analyses(res, title: str, analyses: dict, *, records: bool = False) -> AnalysisReport:
    """Run ``analyses`` (code -> (display title, function(res))) on ``res``."""
    results, undefined = {}, {}
    for code, (_, function) in analyses.items():
        try:
            results[code] = function(res)
        except MetapoolError as exc:
            undefined[code] = str(exc)
    titles = {code: t for code, (t, _) in analyses.items()}
    return AnalysisReport(title, titles, results, undefined, records)
