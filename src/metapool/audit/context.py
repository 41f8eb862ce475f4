"""What the checks read: the statistics of one text, the text, and what the text says around them.

A :class:`Context` is built once per audit. Besides the statistics it answers the questions several
checks share: the written boxes of a statistic's numbers, the words around it, the number of
patients and of studies the text reports, the rows of a table of study sizes, and whether the text
names a method (Knapp-Hartung, a tau² estimator) that changes what a consistent number is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from .model import Finding, Statistic
from .rounding import Box, box
from .tables import StudyRow, study_rows

__all__ = ["Context", "finding", "POOLED"]

#: Words that say a number is a pooled (meta-analytic) result.
#: "Overall" counts unless it names an outcome ("overall survival", "overall response").
POOLED = re.compile(r"\b(?:pool(?:ed|ing)?|overall(?!\s+(?:survival|response|mortality|remission|OS|ORR)\b)|"
                    r"summary|combined|meta-?analy[a-z]*|random[- ]effects?|common[- ]effect|fixed[- ]effects?)\b",
                    re.IGNORECASE)


def finding(stat: Statistic, check: str, status: str, reason: str, consistent_value: str | None = None) -> Finding:
    """A finding about one statistic, quoting it."""
    return Finding(quote=stat.quote, span=stat.span, check=check, status=status, reason=reason,
                   consistent_value=consistent_value)


@dataclass(frozen=True)
class Context:
    """One text and the statistics extracted from it.

    Attributes
    ----------
    statistics : tuple of Statistic
        In text order.
    text : str
        The audited text (spans index it).
    """

    statistics: tuple[Statistic, ...]
    text: str

    @classmethod
    def of(cls, statistics: Sequence[Statistic], text: str) -> Context:
        """A context with the statistics in text order."""
        return cls(tuple(sorted(statistics, key=lambda s: s.span)), text)

    def kind(self, *kinds: str) -> tuple[Statistic, ...]:
        """The statistics of the given kinds, in text order."""
        return tuple(s for s in self.statistics if s.kind in kinds)

    # --- boxes -------------------------------------------------------------------------------
    @staticmethod
    def value_box(stat: Statistic) -> Box:
        """The values the written point estimate stands for."""
        return box(stat.value, stat.decimals, stat.percent)

    @staticmethod
    def bound_boxes(stat: Statistic) -> tuple[Box, Box]:
        """The values the written lower and upper limits stand for."""
        d = stat.bound_decimals if stat.bound_decimals is not None else stat.decimals
        return box(stat.lower, d, stat.percent), box(stat.upper, d, stat.percent)

    # --- words around a statistic ------------------------------------------------------------
    def sentence_of(self, stat: Statistic) -> str:
        """The sentence holding ``stat`` (or 200 characters either side when no sentence was found)."""
        if stat.sentence is not None:
            return self.text[stat.sentence[0]:stat.sentence[1]]
        return self.text[max(0, stat.span[0] - 200):stat.span[1] + 200]

    def words_before(self, stat: Statistic, width: int = 80) -> str:
        """The label of ``stat`` with the words just before it in its sentence."""
        start = stat.sentence[0] if stat.sentence is not None else max(0, stat.span[0] - width)
        before = self.text[max(start, stat.span[0] - width):stat.span[0]]
        return f"{stat.label or ''} {before} {stat.quote}"

    def is_pooled(self, stat: Statistic) -> bool:
        """Whether the words about ``stat`` (its label and the words just before it) say it is pooled.

        The words before it stop at the previous statistic of its sentence, so that "the pooled
        median survival" later in a sentence does not make an earlier follow-up pooled.
        """
        start = max(stat.sentence[0] if stat.sentence is not None else 0, stat.span[0] - 80)
        for other in self.statistics:
            if start < other.span[1] <= stat.span[0] and other is not stat:
                start = other.span[1]
        return bool(POOLED.search(f"{stat.label or ''} {self.text[start:stat.span[0]]}"))

    def line_of(self, stat: Statistic) -> str:
        """The line of the text holding ``stat``."""
        start = self.text.rfind("\n", 0, stat.span[0]) + 1
        end = self.text.find("\n", stat.span[1])
        return self.text[start:end if end >= 0 else len(self.text)]

    def mentions(self, pattern: re.Pattern) -> bool:
        """Whether the text matches ``pattern`` anywhere."""
        return bool(pattern.search(self.text))

    # --- what the text reports about the whole review ----------------------------------------
    @cached_property
    def study_rows(self) -> tuple[StudyRow, ...]:
        """The rows of the text's table of study sizes (:func:`metapool.audit.tables.study_rows`)."""
        return study_rows(self.text)

    @cached_property
    def totals(self) -> tuple[Statistic, ...]:
        """Patient counts the text reports (not within a table of study sizes)."""
        inside = [row.line for row in self.study_rows]
        return tuple(s for s in self.kind("n_patients") if s.value is not None and s.interval is None
                     and not any(a <= s.span[0] < b for a, b in inside))

    @cached_property
    def n_max(self) -> float | None:
        """The largest number of patients the text reports (None when it reports none)."""
        values = [s.value for s in self.totals]
        return max(values) if values else None

    @cached_property
    def k_values(self) -> tuple[int, ...]:
        """The numbers of studies the text reports, distinct, ascending."""
        return tuple(sorted({int(s.value) for s in self.kind("k_studies") if s.value is not None}))
