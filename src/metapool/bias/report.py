"""All default bias analyses of a fitted model, for the CLI and reports."""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import MetapoolError
from ..formatting.document import Document, Paragraph
from .registry import BIAS_TESTS, DEFAULT_BIAS_TESTS

__all__ = ["BiasReport", "bias_report"]


@dataclass(frozen=True)
class BiasReport:
    """Results of the default bias analyses; ``undefined`` says why one has none (e.g. k < 3)."""

    results: dict
    undefined: dict

    def to_dict(self) -> dict:
        out = {code: r.to_dict() for code, r in self.results.items()}
        out |= {code: {"undefined": reason} for code, reason in self.undefined.items()}
        return {code: out[code] for code in DEFAULT_BIAS_TESTS if code in out}

    def summary(self) -> Document:
        blocks = []
        for code in DEFAULT_BIAS_TESTS:
            if code in self.results:
                doc = self.results[code].summary()
                blocks += [Paragraph(doc.title), *doc.blocks]
            else:
                blocks.append(Paragraph(f"{BIAS_TESTS[code].name}: {self.undefined[code]}"))
        return Document("Small-study effects and publication bias", tuple(blocks))


def bias_report(res) -> BiasReport:
    """Run every analysis of :data:`DEFAULT_BIAS_TESTS` with its defaults (metafor's)."""
    results, undefined = {}, {}
    for code in DEFAULT_BIAS_TESTS:
        try:
            results[code] = BIAS_TESTS[code].function(res)
        except MetapoolError as exc:
            undefined[code] = str(exc)
    return BiasReport(results, undefined)
