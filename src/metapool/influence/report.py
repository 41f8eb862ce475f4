"""Default sensitivity analyses of a fitted model (leave-one-out, influence), for the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import MetapoolError
from ..formatting.document import Document, Paragraph
from .diagnostics import influence
from .leave_one_out import leave_one_out

__all__ = ["SENSITIVITY_ANALYSES", "SensitivityReport", "sensitivity_report"]

#: Analyses run by ``metapool pool --sensitivity``: JSON key -> (title, function).
SENSITIVITY_ANALYSES = {
    "leave_one_out": ("Leave-one-out analysis", leave_one_out),
    "influence": ("Influence diagnostics", influence),
}


@dataclass(frozen=True)
class SensitivityReport:
    """Results of :data:`SENSITIVITY_ANALYSES`; ``undefined`` says why one has none."""

    results: dict
    undefined: dict

    def to_dict(self) -> dict:
        return {
            code: self.results[code].to_records() if code in self.results else {"undefined": self.undefined[code]}
            for code in SENSITIVITY_ANALYSES
        }

    def summary(self) -> Document:
        blocks = []
        for code, (title, _) in SENSITIVITY_ANALYSES.items():
            if code in self.results:
                doc = self.results[code].summary()
                blocks += [Paragraph(doc.title), *doc.blocks]
            else:
                blocks.append(Paragraph(f"{title}: {self.undefined[code]}"))
        return Document("Sensitivity and influence", tuple(blocks))


def sensitivity_report(res) -> SensitivityReport:
    """Run every analysis of :data:`SENSITIVITY_ANALYSES` on ``res``."""
    results, undefined = {}, {}
    for code, (_, function) in SENSITIVITY_ANALYSES.items():
        try:
            results[code] = function(res)
        except MetapoolError as exc:
            undefined[code] = str(exc)
    return SensitivityReport(results, undefined)
