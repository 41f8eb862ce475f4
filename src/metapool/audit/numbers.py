"""How numbers and intervals are spelled in abstracts: the pieces of the extractor's grammar.

A reported number may carry a Unicode minus (``−2.3``), an en dash used as a minus (``–0.34``),
thousands separators (``2,289``, ``2 289``) and a percent sign; an interval may be bracketed
(``(0.61–0.85)``, ``[0.24; 0.48]``) or follow its name (``95% CI 0.61 to 0.85``), with bounds
separated by a hyphen, an en or em dash, ``to``, a comma or a semicolon. Everything here is a
regular expression of the standard library or a pure function on its match; nothing is evaluated.

Count words ("thirty-two trials") are read with :func:`word_number`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["COUNT", "IntervalMatch", "NUM", "Number", "UNIT", "WORD_NUMBER", "find_standalone_intervals",
           "match_interval", "number_at", "parse_count", "parse_number", "time_unit", "word_number"]

#: A signed decimal number as written for an estimate or a bound (no thousands separators).
#: A sign is a hyphen, a Unicode minus or a dash directly before the digits.
NUM = r"(?:[-−‒–—]\s?)?(?:\d+(?:\.\d+)?|\.\d+)"
_NUM_RE = re.compile(NUM)

#: A whole count with optional thousands separators: ``2289``, ``2,289``, ``2 289`` (thin spaces too).
COUNT = r"(?:\d{1,3}(?:[,\u2009\u202f\u00a0 ]\d{3})+|\d+)(?!\d|[.,]\d)"

_UNITS = {
    "months": r"months?|mos?(?![a-z])",
    "weeks": r"weeks?|wks?(?![a-z])",
    "years": r"years?|yrs?(?![a-z])",
    "days": r"days?",
}
#: Units that may follow an estimate before its interval (times, and the usual measurement units).
UNIT = (r"(?:" + "|".join(_UNITS.values()) +
        r"|mm\s?Hg|kg/m²|kg/m2|kg|cm|mm|mg/dL|mmol/L|g/dL|bpm|points?|hours?|h(?![a-z])|units?)")
_TIME_UNIT_RE = {name: re.compile(rf"^(?:{pattern})$", re.IGNORECASE) for name, pattern in _UNITS.items()}

_ONES = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if i > 1}
#: A count written in words, one to ninety-nine ("thirty-two", "twelve").
WORD_NUMBER = (r"(?:(?:" + "|".join(_TENS) + r")(?:[-\s](?:" + "|".join(w for w in _ONES if _ONES[w] and _ONES[w] < 10)
               + r"))?|" + "|".join(sorted((w for w in _ONES if _ONES[w]), key=len, reverse=True)) + r")")

_LEVEL = r"(?P<level>\d{2}(?:\.\d+)?)\s?%\s*"
_NAMES = {
    "ci": r"CIs?|C\.I\.|(?i:confidence\s+(?:intervals?|limits?))(?:\s*[\[(]CI[\])])?",
    "cri": r"CrIs?|(?i:credib(?:le|ility)\s+intervals?)(?:\s*[\[(]CrI[\])])?",
    "pi": r"PIs?|(?i:prediction\s+intervals?)(?:\s*[\[(]PI[\])])?",
    "iqr": r"IQR|(?i:interquartile\s+range)(?:\s*[\[(]IQR[\])])?",
    "range": r"(?i:range)",
}
_NAME = "|".join(f"(?P<{key}>{pattern})" for key, pattern in _NAMES.items())
_BOUND_SEP = r"\s*(?:[-–—‒]|--|\bto\b|[,;])\s*"
_BOUNDS = (rf"(?P<low>{NUM})(?P<lowpct>\s?%)?(?P<sep>{_BOUND_SEP})(?P<high>{NUM})(?P<highpct>\s?%)?"
           rf"(?:\s*(?P<bunit>{UNIT})(?![A-Za-z]))?")
_NAMED = rf"(?:{_LEVEL})?(?:{_NAME})(?:\s*(?:[:=,]|\bof\b|\bwas\b|\bfrom\b|\bbetween\b))?\s*(?:[\[(]\s*)?"
_BRACKETED = re.compile(rf"\s*(?P<open>[(\[])\s*(?:{_NAMED})?{_BOUNDS}")
_FOLLOWING = re.compile(
    rf"(?:\s*[,;]\s*|\s+(?:with|and)\s+(?:an?\s+|the\s+|its\s+)?|\s+)(?P<sopen>\(\s*)?{_NAMED}{_BOUNDS}")
_AFTER_COMMA = re.compile(rf"\s*,\s*(?P<low>{NUM})(?P<lowpct>\s?%)?(?P<sep>\s*(?:[-–—‒]|\bto\b)\s*)"
                          rf"(?P<high>{NUM})(?P<highpct>\s?%)?(?P<bunit>)(?=\s*\))")
_STANDALONE = re.compile(rf"(?<![\w.])(?:{_LEVEL})?(?P<pi>(?i:prediction\s+intervals?)|PIs?)"
                         rf"(?:\s*(?:[:=,(]|\bof\b|\bwas\b|\b(?:ranged\s+|ranging\s+|was\s+)?from\b))?\s*{_BOUNDS}")


@dataclass(frozen=True)
class Number:
    """A number as written: its value (sign and percent applied later) and its decimals."""

    value: float
    decimals: int


def parse_number(written: str) -> Number:
    """Read a written number (Unicode minus, dashes as minus, thousands separators).

    >>> parse_number("−2.30")
    Number(value=-2.3, decimals=2)
    """
    t = re.sub(r"[−‒–—]", "-", written.strip())
    t = re.sub(r"[,\u2009\u202f\u00a0 ]", "", t)
    decimals = len(t.split(".", 1)[1]) if "." in t else 0
    return Number(float(t), decimals)


def parse_count(written: str) -> int:
    """A whole count written in digits (``2,289``, ``2 289``) or words (``thirty-two``)."""
    if written[:1].isdigit():
        return int(re.sub(r"\D", "", written))
    return word_number(written)


def word_number(written: str) -> int:
    """A number from one to ninety-nine written in words.

    >>> word_number("Thirty-two")
    32
    """
    total = 0
    for word in re.split(r"[-\s]+", written.strip().lower()):
        total += _TENS.get(word, 0) + _ONES.get(word, 0)
    return total


def time_unit(written: str | None) -> str | None:
    """The canonical time unit ("months", "weeks", "years", "days") of a written unit, else None."""
    if written is None:
        return None
    for name, pattern in _TIME_UNIT_RE.items():
        if pattern.match(written.strip()):
            return name
    return None


@dataclass(frozen=True)
class IntervalMatch:
    """An interval found after an estimate (or on its own): bounds as written and where it ends."""

    end: int
    kind: str | None
    level: float | None
    low: Number
    high: Number
    percent: bool
    bracket: str | None
    unit: str | None
    separator: str


def _interval(match: re.Match, bracket: str | None) -> IntervalMatch:
    kind = next((key for key in _NAMES if match.groupdict().get(key)), None)
    low, high = parse_number(match.group("low")), parse_number(match.group("high"))
    level = match.groupdict().get("level")
    return IntervalMatch(
        end=match.end(), kind=kind, level=float(level) / 100 if level else None, low=low, high=high,
        percent=bool(match.group("lowpct") or match.group("highpct")), bracket=bracket,
        unit=match.group("bunit") or None, separator=match.group("sep").strip())


def match_interval(text: str, pos: int) -> IntervalMatch | None:
    """The interval that follows position ``pos`` of ``text``, if one does.

    Bracketed: ``(95% CI: 24-48%)``, ``[0.24; 0.48]``, ``(−3.1 to −1.5)``, ``(IQR 58–74)``. Following
    its name: ``, 95% CI 0.61 to 0.85``, ``with a 95% CI of 24–48%``. After a comma without a name
    only inside brackets that close right after it: ``(OR 0.75, 0.60–0.94)``. Square brackets without a name
    around non-negative whole numbers (``[12, 15]``, ``[12–15]``) are reference citations, not
    intervals, and are refused.
    """
    match = _BRACKETED.match(text, pos)
    if match is not None:
        found = _interval(match, match.group("open"))
        unnamed = found.kind is None
        citation_like = not found.percent and all(
            b.decimals == 0 and math.copysign(1.0, b.value) > 0 for b in (found.low, found.high))
        if match.group("open") == "[" and unnamed and citation_like:
            return None
        return found
    match = _FOLLOWING.match(text, pos)
    if match is not None and any(match.group(key) for key in _NAMES):
        return _interval(match, "(" if match.group("sopen") else None)
    match = _AFTER_COMMA.match(text, pos)
    if match is not None and text.rfind("(", 0, pos) > text.rfind(")", 0, pos):
        return _interval(match, None)
    return None


def find_standalone_intervals(text: str):
    """Prediction intervals written on their own (``95% prediction interval 0.41 to 1.62``)."""
    for match in _STANDALONE.finditer(text):
        yield match.start(), _interval(match, None)


def number_at(text: str, pos: int) -> re.Match | None:
    """The signed number that starts exactly at ``pos``."""
    return _NUM_RE.match(text, pos)
