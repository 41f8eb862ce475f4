"""Find the statistics a text reports, each with its character span: ``extract(text)``.

The extractor reads what people write in abstracts, results sections and digest pages: estimates
with their intervals ("26% (95% CI: 24-48%)", "HR 0.72, 95% CI 0.61 to 0.85, p < .001",
"MD −2.3 mmHg (−3.1 to −1.5)"), heterogeneity ("I² = 78% (Q = 142.3, df = 31, p < 0.001)",
"τ² = 0.21"), prediction intervals, counts of studies and patients, sample sizes and inclusion
thresholds, medians and follow-up times, evidence levels and study designs (the spellings are
listed in ``docs/audit.md``). It is pure, uses the standard library's ``re`` only and never
evaluates the text.

Each number is read only where its words say what it is: a keyword before it ("HR", "odds ratio",
"median", "follow-up", "response rate"), a percent sign with an interval, a noun after it
("32 studies", "2,289 patients"). Years, reference numbers, doses, ages and the "95" of "95% CI"
are therefore not read: a false extraction would feed a false alarm, a miss only a silence.

The pieces of the grammar are in :mod:`metapool.audit.numbers` (numbers, intervals, units) and
:mod:`metapool.audit.wording` (sentences, labels, kinds, significance claims).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import replace

from .model import STAT_KINDS, Statistic
from .numbers import (COUNT, NUM, UNIT, WORD_NUMBER, find_standalone_intervals, match_interval, number_at,
                      parse_count, parse_number, time_unit)
from .wording import clause_bounds, claim_of, ends_with_keyword, keyword_kind, keyword_start, label_before, sentences

__all__ = ["extract"]

_FAMILY_CLAIMED = ("ratio", "difference", "p")
_ATTACHES_P = ("ratio", "difference", "proportion", "location", "heterogeneity")
_NOUNS_N = (r"(?:patients|participants|subjects|individuals|people|persons|adults|children|women|men|cases|"
            r"infants|adolescents|recipients|survivors)\b")
_NOUNS_K = r"(?:studies|trials|RCTs|cohorts|reports|articles|publications|series|datasets)\b"
_STOP = (r"(?!(?:in|of|from|with|and|or|to|per|the|a|an|were|was|had|have|that|which|who|for|on|at|by|"
         r"patients|participants|subjects|months?|years?|weeks?|days?)\b)")
_ADJ = rf"{_STOP}(?:[A-Za-z][A-Za-z'’-]*|I{{1,3}}|IV)\s+"
_START = r"(?<![\w.,/^²])"

_I2 = re.compile(rf"{_START}(?:I\s?(?:²|2(?!\d)|\^2|\^\{{2\}})|I-squared|I\s+squared)(?:\s+statistic)?"
                 rf"\s*(?:=|:|,|\bof\b|\bwas\b)?\s*(?P<v>{NUM})\s?%")
_TAU = re.compile(rf"{_START}(?:τ|(?i:tau))\s?(?P<sq>²|2(?!\d)|\^2|-squared|\s+squared)?\s*"
                  rf"(?:=|:|\bof\b|\bwas\b)\s*(?P<v>{NUM})")
_Q = re.compile(
    rf"(?<![A-Za-z])(?:(?:(?:Cochran['’]?s\s+Q|Q\s+statistic|χ²|χ2|[Cc]hi[²2]|[Cc]hi-squared?)(?:\s+statistic)?"
    rf"(?:\s*\(\s*(?:df\s*=\s*)?(?P<df0>\d+)\s*\))?\s*(?:=|:|\bof\b|\bwas\b)?)|"
    rf"Q(?:\s*\(\s*(?:df\s*=\s*)?(?P<df1>\d+)\s*\))?\s*[=:])\s*(?P<v>\d+(?:\.\d+)?)(?![\d.]\d)"
    rf"(?:\s*(?:(?P<dfopen>\()|[,;])?\s*(?:df\s*[=:]?\s*(?P<df>\d+)|"
    rf"with\s+(?P<df2>\d+)\s+(?:df|degrees\s+of\s+freedom)|on\s+(?P<df3>\d+)\s+df)(?(dfopen)\s*\)))?")
_P = re.compile(
    rf"(?<![A-Za-z])[Pp](?:\s*-?\s*values?)?(?:\s*(?:for\s+)?(?:heterogeneity|interaction|trend|difference))?"
    rf"\s*(?:(?P<rel><=|>=|=<|=>|[<>=≤≥])|\s(?:of|was)\s|:)\s*(?P<v>0?\.\d+|[01](?:\.\d+)?)"
    rf"(?![\d.]\d|\s*[×x*]\s*10|[eE][-−]?\d)")
_P_VALUE_WORD = re.compile(rf"(?<![A-Za-z])[Pp]\s*-?\s*values?\s+(?P<v>0?\.\d+|[01](?:\.\d+)?)(?![\d.]\d)")
_RELATIONS = {"=": "=", "<": "<", ">": ">", "<=": "<=", "=<": "<=", "≤": "<=", ">=": ">=", "=>": ">=", "≥": ">="}

_EVIDENCE = re.compile(
    r"(?:(?:Oxford|OCEBM|CEBM)\s+)?(?:(?i:level\s+of\s+evidence|evidence\s+level)|LoE)\s*(?:[:=]|\bwas\b|\bof\b)?\s*"
    r"(?P<lvl>[1-5][abc]?|IV|V|I{1,3})(?!\w|\.\d)|"
    r"(?:(?:Oxford|OCEBM|CEBM)\s+)(?i:level)\s+(?P<lvl2>[1-5][abc]?|IV|V|I{1,3})(?!\w|\.\d)|"
    r"(?i:level)\s+(?P<lvl3>[1-5][abc]?|IV|V|I{1,3})\s+(?i:evidence)")
_GRADE = re.compile(
    r"(?P<head>(?i:GRADE\s+(?:certainty|quality)(?:\s+of\s+(?:the\s+)?evidence)?|"
    r"(?:certainty|quality)\s+of\s+(?:the\s+)?evidence))"
    r"(?i:(?:\s+for\s+[A-Za-z][\w\s-]{0,30}?)?(?:\s*(?:\(GRADE\))?\s*"
    r"(?::|=|was|were|is)\s*(?:rated\s+(?:as\s+)?|judged\s+(?:as\s+)?|graded\s+(?:as\s+)?)?))"
    r"(?P<g>(?i:very\s+low|high|moderate|low))\b|"
    r"\b(?P<g2>(?i:very\s+low|high|moderate|low))[-\s](?i:certainty|quality)\s+(?i:evidence)")
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}

_DESIGN = re.compile(
    r"(?i:\b(?:single|one)[-\s]arm(?:\s+(?:phase\s+(?:II|2)\s+)?(?:trials?|stud(?:y|ies)|cohorts?))?\b|"
    r"\b(?:non-?|quasi-)?randomi[sz]ed\s+(?:controlled\s+|clinical\s+)?trials?\b|"
    r"\b(?:prospective\s+|retrospective\s+)?cohort\s+stud(?:y|ies)\b|\bobservational\s+stud(?:y|ies)\b|"
    r"\b(?:retrospective\s+|prospective\s+)?case\s+series\b|\bcase[-\s]control\s+stud(?:y|ies)\b|"
    r"\bphase\s+(?:I{1,3}V?|[1-4])(?:/(?:I{1,3}|[1-4]))?\b)|\bRCTs?\b")

_THRESHOLD_CONTEXT = re.compile(r"includ|eligib|criteri|enrol|requir|minimum|restrict|select|limited|exclud",
                                re.IGNORECASE)
_THRESHOLD = re.compile(
    rf"(?:(?i:at\s+least|a\s+minimum\s+of|minimum\s+of|no\s+fewer\s+than|not\s+less\s+than)\s+|[≥⩾]\s*|>=\s*)"
    rf"(?P<n>{COUNT})\s+(?:{_ADJ}){{0,2}}?{_NOUNS_N}|"
    rf"(?<![\d,.])(?P<n2>{COUNT})\s+(?i:or\s+more)\s+(?:{_ADJ}){{0,2}}?{_NOUNS_N}|"
    rf"(?i:minimum\s+sample\s+size)\s*(?:of|was|:|=|\bn\s*=)?\s*(?P<n3>{COUNT})")
_SAMPLE_SIZE = re.compile(rf"(?i:sample\s+size)\s*(?:\(\s*)?(?:(?i:was|of|:|=|is)\s*)?(?:[Nn]\s*=\s*)?"
                          rf"(?P<n>{COUNT})(?:\s+{_NOUNS_N})?")
_N = re.compile(rf"{_START}(?:[Nn]\s*=\s*(?P<n>{COUNT})|(?P<n2>{COUNT})\s+(?:{_ADJ}){{0,3}}?{_NOUNS_N}"
                rf"(?!\s*\(\s*\d+(?:\.\d+)?\s?%))")
_K = re.compile(rf"{_START}(?:\bk\s*=\s*(?P<n>\d+)|(?P<n2>{COUNT}|\b(?i:{WORD_NUMBER}))\s+"
                rf"(?:{_ADJ}){{0,3}}?{_NOUNS_K})")
_FRACTION = re.compile(
    rf"{_START}(?P<x>\d+)\s*(?:/|\s+of\s+(?:the\s+)?)(?P<n>{COUNT})(?:\s+(?:{_ADJ}){{0,2}}?{_NOUNS_N})?\s*"
    rf"\(\s*(?P<p>\d+(?:\.\d+)?)\s?%\s*\)|"
    rf"{_START}(?P<p2>\d+(?:\.\d+)?)\s?%\s*\(\s*(?P<x2>\d+)\s*(?:/|\s+of\s+)(?P<n2>{COUNT})\s*\)")
_PM = re.compile(rf"\s*(?:±|\+/-|\+-)\s*{NUM}")
_VALUE_START = re.compile(rf"{_START}(?:[-−‒–—]\s?)?(?:\d|\.\d)")
_INTERVAL_NAME_AFTER = re.compile(r"\s?%\s*(?:CI|C\.I|CrI|PI|(?i:confidence|credib|prediction))")
_UNIT_AFTER = re.compile(rf"\s*(?P<unit>{UNIT})(?![A-Za-z])")
_RATE_AFTER = re.compile(r"\s*(?:per\b|/\s*\d|/\s*(?:person|patient|year))", re.IGNORECASE)
_OF_FOLLOW_UP = re.compile(r"\s+of\s+follow[-\s]?up", re.IGNORECASE)
_QUALIFIED = re.compile(r"(?:at\s+least|more\s+than|fewer\s+than|less\s+than|up\s+to|minimum\s+of|[≥≤<>]|"
                        r"excluding|except|omitting|removing|without)\s*$",
                        re.IGNORECASE)
_PERCENT = re.compile(r"\s?%")
_PERCENT_OF = re.compile(r"\s+(?:of|in)\s+[^\d();,.\[\]]{1,60}?(?=\s*[(\[])")
_P_OF_TEST = re.compile(r"heterogeneity|interaction|trend|difference", re.IGNORECASE)
_CLOSING = (("(", ")", re.compile(r"\s*\)")), ("[", "]", re.compile(r"\s*\]")))
_P_GAP = re.compile(r"^\s*[,;(\[]?\s*$")


def extract(text: str) -> tuple[Statistic, ...]:
    """Every statistic recognised in ``text``, in text order, with its span and sentence.

    Parameters
    ----------
    text : str
        Plain text: an abstract, a results section, a digest page converted to text.

    Returns
    -------
    tuple of Statistic
        Sorted by span. A p-value written with an estimate is set on that estimate
        (``p_value``/``p_relation``, its span extended over it); one with nothing to attach to is its
        own ``p_value`` statistic. An I² takes Q and df written in the same sentence.

    Notes
    -----
    Percentages are stored as fractions (``percent=True``); ``decimals`` count the digits as
    written. Designs are reported even where they overlap a count ("12 randomised trials" is both
    ``k_studies`` and the design "randomised trials").

    References
    ----------
    Nuijten MB et al. (2016). The prevalence of statistical reporting errors in psychology
    (1985-2013). Behav Res Methods 48:1205-1226 (statcheck: extraction of reported tests).
    """
    spans = sentences(text)
    estimates = list(_estimates(text, spans))
    candidates: list[tuple[int, Statistic]] = estimates + list(_prediction_intervals(text, spans, estimates))
    for finder in (_heterogeneity, _p_values, _evidence, _counts_written):
        candidates.extend(finder(text, spans))
    stats = _attach_p_values(text, [_close_brackets(text, s) for s in _without_overlaps(candidates)])
    stats = _merge_q_into_i2([_close_brackets(text, s) for s in stats])
    stats += list(_designs(text, spans))
    stats = _claims(text, spans, stats)
    return tuple(sorted(stats, key=lambda s: (s.span, s.kind)))


# -- helpers ---------------------------------------------------------------------------------------

def _without_overlaps(candidates: list[tuple[int, Statistic]]) -> list[Statistic]:
    """Candidates that overlap none preferred to them (lower priority number, then longer, then
    earlier), in text order."""
    starts: list[int] = []
    accepted: list[Statistic] = []
    for _, stat in sorted(candidates, key=lambda c: (c[0], -(c[1].span[1] - c[1].span[0]), c[1].span[0])):
        start, end = stat.span
        i = bisect.bisect_left(starts, start)
        if (i > 0 and accepted[i - 1].span[1] > start) or (i < len(starts) and starts[i] < end):
            continue
        starts.insert(i, start)
        accepted.insert(i, stat)
    return accepted


def _sentence(spans: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    i = bisect.bisect_right(spans, (pos, len(spans) and spans[-1][1] + 1)) - 1
    if i >= 0 and spans[i][0] <= pos < spans[i][1]:
        return spans[i]
    return (pos, pos)


def _stat(text: str, spans, kind: str, start: int, end: int, **fields) -> Statistic:
    return Statistic(kind=kind, span=(start, end), quote=text[start:end], sentence=_sentence(spans, start), **fields)


# -- finders: each yields (priority, Statistic); lower priority wins an overlap ---------------------

def _heterogeneity(text: str, spans):
    for m in _I2.finditer(text):
        value = parse_number(m.group("v"))
        fields = dict(value=value.value / 100, decimals=value.decimals, percent=True, label="I²")
        end = m.end()
        interval = match_interval(text, end)
        if interval is not None and interval.kind in (None, "ci", "cri"):
            fields.update(lower=interval.low.value / 100, upper=interval.high.value / 100,
                          interval=interval.kind or "ci", level=interval.level,
                          bound_decimals=max(interval.low.decimals, interval.high.decimals))
            end = interval.end
        yield 0, _stat(text, spans, "i2", m.start(), end, **fields)
    for m in _TAU.finditer(text):
        value = parse_number(m.group("v"))
        kind, label = ("tau2", "τ²") if m.group("sq") else ("tau", "τ")
        fields = dict(value=value.value, decimals=value.decimals, label=label)
        end = m.end()
        interval = match_interval(text, end)
        if interval is not None and not interval.percent and interval.kind in (None, "ci", "cri"):
            fields.update(lower=interval.low.value, upper=interval.high.value, interval=interval.kind or "ci",
                          level=interval.level, bound_decimals=max(interval.low.decimals, interval.high.decimals))
            end = interval.end
        yield 0, _stat(text, spans, kind, m.start(), end, **fields)
    for m in _Q.finditer(text):
        value = parse_number(m.group("v"))
        df = next((m.group(g) for g in ("df0", "df1", "df", "df2", "df3") if m.group(g)), None)
        yield 0, _stat(text, spans, "q", m.start(), m.end(), value=value.value, decimals=value.decimals,
                       q=value.value, df=float(df) if df is not None else None, label="Q")


def _p_values(text: str, spans):
    for pattern in (_P, _P_VALUE_WORD):
        for m in pattern.finditer(text):
            value = parse_number(m.group("v"))
            relation = _RELATIONS.get(m.groupdict().get("rel") or "=", "=")
            yield 1, _stat(text, spans, "p_value", m.start(), m.end(), value=value.value, decimals=value.decimals,
                           p_value=value.value, p_relation=relation)


def _evidence(text: str, spans):
    for m in _EVIDENCE.finditer(text):
        written = m.group("lvl") or m.group("lvl2") or m.group("lvl3")
        value = float(_ROMAN[written]) if written in _ROMAN else float(written[0])
        label = text[m.start():m.start("lvl" if m.group("lvl") else "lvl2" if m.group("lvl2") else "lvl3")]
        yield 0, _stat(text, spans, "evidence_level", m.start(), m.end(), value=value,
                       label=label.strip(" :=") or "level of evidence")
    for m in _GRADE.finditer(text):
        label = m.group("head") if m.group("g") else m.group(0)[len(m.group("g2")):].strip(" -")
        yield 0, _stat(text, spans, "evidence_level", m.start(), m.end(), label=label)


def _counts_written(text: str, spans):
    for m in _THRESHOLD.finditer(text):
        sentence = _sentence(spans, m.start())
        before = text[max(sentence[0], m.start() - 40):m.start()]
        if not (_THRESHOLD_CONTEXT.search(text[sentence[0]:sentence[1]])
                or re.search(r"(?:studies|trials|cohorts|series)\s+(?:\w+\s+)?$", before)):
            continue
        n = parse_count(m.group("n") or m.group("n2") or m.group("n3"))
        yield 0, _stat(text, spans, "threshold", m.start(), m.end(), value=float(n), decimals=0, unit="patients")
    for m in _SAMPLE_SIZE.finditer(text):
        yield 0, _stat(text, spans, "sample_size", m.start(), m.end(), value=float(parse_count(m.group("n"))),
                       decimals=0, unit="patients", label="sample size")
    for m in _FRACTION.finditer(text):
        if m.group("p") is not None:
            percent, n = parse_number(m.group("p")), parse_count(m.group("n"))
        else:
            percent, n = parse_number(m.group("p2")), parse_count(m.group("n2"))
        yield 1, _stat(text, spans, "proportion", m.start(), m.end(), value=percent.value / 100,
                       decimals=percent.decimals, percent=True, n=n,
                       label=label_before(text, _sentence(spans, m.start())[0], m.start()))
    for m in _N.finditer(text):
        n = m.group("n") or m.group("n2")
        yield 5, _stat(text, spans, "n_patients", m.start(), m.end(), value=float(parse_count(n)), decimals=0,
                       unit="patients")
    for m in _K.finditer(text):
        written = m.group("n") or m.group("n2")
        k = parse_count(written)
        year = written.isdigit() and len(written) == 4 and 1900 <= k <= 2099
        if k < 2 or year or _QUALIFIED.search(text, max(0, m.start() - 20), m.start()):
            continue
        yield 5, _stat(text, spans, "k_studies", m.start(), m.end(), value=float(k), decimals=0)


def _estimates(text: str, spans):
    """Numbers with an interval or right after a keyword, classified by the words before them."""
    for m in _VALUE_START.finditer(text):
        number = number_at(text, m.start())
        stat = _estimate_at(text, spans, number) if number is not None else None
        if stat is not None:
            yield 3, stat


def _estimate_at(text: str, spans, number: re.Match) -> Statistic | None:
    if _INTERVAL_NAME_AFTER.match(text, number.end()):
        return None
    sentence = _sentence(spans, number.start())
    value = parse_number(number.group())
    end = number.end()
    percent = False
    percent_sign = _PERCENT.match(text, end)
    if percent_sign is not None:
        percent, end = True, percent_sign.end()
    unit = None
    unit_match = _UNIT_AFTER.match(text, end)
    if unit_match is not None and not percent:
        unit, end = unit_match.group("unit"), unit_match.end()
    if _RATE_AFTER.match(text, end):
        return None
    kind = keyword_kind(text, sentence[0], number.start())
    if kind == "follow_up" or (kind == "median" and _OF_FOLLOW_UP.match(text, end)):
        kind = "follow_up"
    interval = match_interval(text, end)
    if interval is None and percent:
        aside = _PERCENT_OF.match(text, end)
        named = match_interval(text, aside.end()) if aside is not None else None
        if named is not None and named.kind == "ci" and named.bracket:
            interval = named
    spread = _PM.match(text, end) if interval is None else None
    kind = _settle_kind(kind, value.value, percent or bool(interval and interval.percent), interval, unit,
                        ends_with_keyword(text, sentence[0], number.start()), spread is not None)
    if kind is None:
        return None
    fields = dict(value=value.value, decimals=value.decimals)
    if interval is not None:
        percent = percent or interval.percent
        unit = unit or interval.unit
        named = interval.kind or (None if kind in ("median", "mean", "follow_up") else "ci")
        fields.update(lower=interval.low.value, upper=interval.high.value, interval=named, level=interval.level,
                      bound_decimals=max(interval.low.decimals, interval.high.decimals))
        end = interval.end
    elif spread is not None:
        end = spread.end()
    if percent:
        fields.update({key: fields[key] / 100 for key in ("value", "lower", "upper") if key in fields})
    if kind == "follow_up" and _OF_FOLLOW_UP.match(text, end):
        end = _OF_FOLLOW_UP.match(text, end).end()
    start = number.start()
    if STAT_KINDS[kind][0] in ("ratio", "difference"):
        keyword = keyword_start(text, sentence[0], number.start())
        start = number.start() if keyword is None else keyword
    return _stat(text, spans, kind, start, end, percent=percent, unit=time_unit(unit) or unit,
                 label=label_before(text, sentence[0], number.start()), **fields)


def _settle_kind(kind, value, percent, interval, unit, keyword_next, spread) -> str | None:
    """The kind of an estimate, or None when its words do not say enough to read it safely."""
    if kind in ("hazard_ratio", "odds_ratio", "risk_ratio", "rate_ratio"):
        return kind if (interval is not None or keyword_next) and value > 0 and not percent else None
    if kind in ("risk_difference", "mean_difference", "smd"):
        return kind if interval is not None or keyword_next else None
    if kind == "follow_up":
        return kind if time_unit(unit) or (interval is not None and time_unit(interval.unit)) else None
    if kind == "median":
        return kind if interval is not None or unit is not None else None
    if kind == "mean" or (kind is None and spread):
        return "mean" if interval is not None or spread else None
    if interval is None:
        return None
    if percent or (kind == "proportion" and 0 <= value <= 1):
        return "proportion"
    return None


def _prediction_intervals(text: str, spans, estimates: list[tuple[int, Statistic]]):
    """Prediction intervals written apart from their estimate take the kind of the estimate before
    them in the same paragraph (a ratio, a difference or a proportion)."""
    effects = [s for _, s in estimates if s.family in ("ratio", "difference", "proportion")]
    ends = [s.span[1] for s in effects]
    for start, interval in find_standalone_intervals(text):
        i = bisect.bisect_right(ends, start) - 1
        if i < 0 or "\n\n" in text[effects[i].span[1]:start]:
            continue
        prev = effects[i]
        percent = interval.percent or prev.percent
        scale = 100 if percent else 1
        yield 4, _stat(text, spans, prev.kind, start, interval.end, lower=interval.low.value / scale,
                       upper=interval.high.value / scale, interval="pi", level=interval.level, percent=percent,
                       bound_decimals=max(interval.low.decimals, interval.high.decimals), label=prev.label)


def _designs(text: str, spans):
    """Design words, labelled in the singular so that :func:`metapool.evidence.designs.parse_design`
    reads them ("single-arm cohorts" → "single-arm cohort", "RCTs" → "RCT")."""
    for m in _DESIGN.finditer(text):
        yield _stat(text, spans, "design", m.start(), m.end(), label=_SINGULAR.sub(_singular, m.group(0)))


_SINGULAR = re.compile(r"(?:(?<!ser)ies|(?<!serie)(?<!s)s)$")


def _singular(match: re.Match) -> str:
    return "y" if match.group(0) == "ies" else ""


# -- what the words around the numbers add ---------------------------------------------------------

def _attach_p_values(text: str, stats: list[Statistic]) -> list[Statistic]:
    """Set each p-value on the estimate just before it in its clause (a p for heterogeneity only on
    an I² or Q; a p for interaction, trend or subgroup difference on nothing)."""
    out: list[Statistic] = []
    for stat in stats:
        if stat.kind == "p_value" and out:
            prev = out[-1]
            gap = text[prev.span[1]:stat.span[0]]
            families = ("heterogeneity",) if _P_OF_TEST.search(stat.quote) else _ATTACHES_P
            same_clause = (prev.sentence == stat.sentence and prev.family in families and prev.p_value is None
                           and len(gap) <= 60 and not re.search(r"[0-9]", gap))
            if same_clause:
                end = stat.span[1] if _P_GAP.match(gap) else prev.span[1]
                out[-1] = replace(prev, p_value=stat.p_value, p_relation=stat.p_relation, span=(prev.span[0], end),
                                  quote=text[prev.span[0]:end])
                continue
        out.append(stat)
    return out


def _merge_q_into_i2(stats: list[Statistic]) -> list[Statistic]:
    """Give each I² the Q and df (and, when it has none, the p-value) of the nearest Q in its sentence."""
    out = list(stats)
    q_by_sentence: dict[tuple[int, int] | None, list[Statistic]] = {}
    for stat in out:
        if stat.kind == "q":
            q_by_sentence.setdefault(stat.sentence, []).append(stat)
    for i, stat in enumerate(out):
        if stat.kind != "i2" or stat.q is not None:
            continue
        qs = q_by_sentence.get(stat.sentence)
        if qs:
            q = min(qs, key=lambda s: abs(s.span[0] - stat.span[0]))
            p = dict(p_value=q.p_value, p_relation=q.p_relation) if stat.p_value is None else {}
            out[i] = replace(stat, q=q.q, df=q.df, **p)
    return out


def _close_brackets(text: str, stat: Statistic) -> Statistic:
    """The statistic's span over the bracket its quote opened, when the bracket closes right after."""
    end = stat.span[1]
    for opening, closing, pattern in _CLOSING:
        if stat.quote.count(opening) > stat.quote.count(closing):
            m = pattern.match(text, end)
            if m is not None:
                end = m.end()
    if end == stat.span[1]:
        return stat
    return replace(stat, span=(stat.span[0], end), quote=text[stat.span[0]:end])


def _claims(text: str, spans, stats: list[Statistic]) -> list[Statistic]:
    out, clauses = [], {}
    for stat in stats:
        if stat.family in _FAMILY_CLAIMED and stat.sentence is not None:
            if stat.sentence not in clauses:
                clauses[stat.sentence] = clause_bounds(text, stat.sentence)
            for start, end in clauses[stat.sentence]:
                if start <= stat.span[0] < end:
                    claim = claim_of(text[start:end])
                    if claim is not None:
                        stat = replace(stat, claim=claim)
                    break
        out.append(stat)
    return out
