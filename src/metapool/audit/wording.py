"""The words around a reported number: sentences, clauses, what the number is, what is claimed.

The extractor finds numbers; this module reads the words that give them a meaning. A statistic's
*label* is the few words just before it in its clause ("pooled overall response rate"); its *kind*
comes from the keywords of that label ("HR", "odds ratio", "median", "follow-up", "response
rate"); its *claim* is what its clause says about significance ("significantly lower", "did not
differ"). Keywords are matched as whole words, abbreviations case-sensitively ("OR" is an odds
ratio, "or" is not).
"""

from __future__ import annotations

import re

__all__ = ["KIND_KEYWORDS", "clause_bounds", "claim_of", "ends_with_keyword", "keyword_kind", "keyword_start",
           "label_before", "sentences"]

#: Keywords that name what a number is, in the order they decide (a "hazard ratio for overall
#: survival" is a hazard ratio, not a survival proportion).
KIND_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("hazard_ratio", r"(?i:hazard\s+ratios?)|\ba?HRs?\b"),
    ("rate_ratio", r"(?i:(?:incidence\s+)?rate\s+ratios?)|\bIRRs?\b"),
    ("odds_ratio", r"(?i:odds\s+ratios?)|\ba?ORs?\b"),
    ("risk_ratio", r"(?i:risk\s+ratios?|relative\s+risks?)|\ba?RRs?\b"),
    ("risk_difference", r"(?i:risk\s+differences?|absolute\s+risk\s+(?:difference|reduction|increase)s?)|\bRDs?\b"),
    ("smd", r"(?i:standardi[sz]ed\s+mean\s+differences?|hedges'?\s*g\b|cohen'?s\s*d\b)|\bSMDs?\b"),
    ("mean_difference", r"(?i:mean\s+differences?|difference\s+in\s+means?)|\bW?MDs?\b"),
    ("follow_up", r"(?i:follow[-\s]?up)"),
    ("median", r"(?i:\bmedian\b)"),
    ("mean", r"(?i:\bmean\b)"),
    ("proportion", r"(?i:\brates?\b|proportions?|prevalence|incidence|response|remission|probability|"
                   r"frequency|percentage|\bsurvival\b|\brisk\b)|\b(?:ORR|CRR|CR|CRi|PR|DCR|OS|PFS|EFS|RFS|DFS|MRD)\b"),
)
_KIND_RES = tuple((kind, re.compile(pattern)) for kind, pattern in KIND_KEYWORDS)
_ANY_KEYWORD = re.compile("|".join(f"(?:{pattern})" for _, pattern in KIND_KEYWORDS))
_KEYWORD_BEFORE = re.compile(rf"(?:{_ANY_KEYWORD.pattern})\s*[=:]?\s*$")
_CONNECTORS = r"(?:\s*(?:[=:,]|\b(?:was|were|is|are|of|at|reached|reaching|amounted\s+to|estimated\s+at)\b))*\s*$"

_REACH = 160  # characters looked back for a label: a few words, and bounded on run-on text
_VERB = re.compile(r"\b(?:was|were|is|are|had|has|have|estimated|showed|yielded|reported|found|gave|reached)\b",
                   re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"“'‘])|\n+")
_CLAUSE_WORDS = re.compile(r"\s(?:whereas|while|but)\s", re.IGNORECASE)
#: A number token starts after a space (``(?<!\S)``): the same matches, but linear on a long run without spaces.
_CUT = re.compile(r"[;·•|]|,\s+(?!$)|(?<!\S)\S*\d(?:\.\d|\s?%)\S*")
_CLOSED_GROUP = re.compile(r"\s*(?:\([^()\[\]]*\)|\[[^()\[\]]*\])")
_LEADING = re.compile(r"^(?:\([^()]*\)\s*|(?:the|a|an|and|in|with|for|of|overall,?|by|versus|vs\.?)\s+)+",
                      re.IGNORECASE)
_TRAILING = re.compile(r"(?:\s*(?:[=:,]|\b(?:was|were|is|are|of|at|with|a|an|the|had|showed|yielded|by|to|in|"
                       r"among|occurred|reached|approximately|about|estimated|amounted|around)\b))+\s*$",
                       re.IGNORECASE)

_NOT_SIGNIFICANT = re.compile(
    r"\b(?:no|not|non-?|nor|without)\s*(?:(?:a|any|statistically|clinically)\s+)*significan(?:t|tly|ce)\b|"
    r"\bnonsignificant|\bdid\s+not\s+(?:differ|reach|achieve)|\bfailed\s+to\s+reach|"
    r"\bno\s+(?:evidence\s+of\s+(?:a\s+)?)?(?:difference|effect|association)\b|\bsimilar\s+between\b",
    re.IGNORECASE)
_SIGNIFICANT = re.compile(r"\bsignifican(?:t|tly)\b", re.IGNORECASE)
_ABOUT_SPREAD = re.compile(r"^\W*(?:\w+\W+){0,2}(?:heterogeneity|publication\s+bias|asymmetry|small-study)",
                           re.IGNORECASE)


def sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence: split after ``.``, ``!``, ``?`` before a capital or digit,
    and at line breaks (a table row is a sentence of its own)."""
    out, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.start() > start:
            out.append((start, match.start()))
        start = match.end()
    if start < len(text):
        out.append((start, len(text)))
    return out


def clause_bounds(text: str, sentence: tuple[int, int]) -> list[tuple[int, int]]:
    """The clauses of a sentence: split at semicolons outside brackets and at "whereas", "while", "but"."""
    start, end = sentence
    cuts, depth = [], 0
    for i in range(start, end):
        ch = text[i]
        depth += ch in "([" and 1 or 0
        depth -= ch in ")]" and depth > 0 and 1 or 0
        if ch == ";" and depth == 0:
            cuts.append(i)
    for match in _CLAUSE_WORDS.finditer(text, start, end):
        cuts.append(match.start())
    out, begin = [], start
    for cut in sorted(cuts):
        out.append((begin, cut))
        begin = cut + 1
    out.append((begin, end))
    return out


def claim_of(clause: str) -> str | None:
    """``"significant"``, ``"not_significant"`` or None: what a clause says about significance.

    Wording about heterogeneity or publication bias ("no significant heterogeneity") is not a claim
    about the effect and is ignored.
    """
    for pattern, claim in ((_NOT_SIGNIFICANT, "not_significant"), (_SIGNIFICANT, "significant")):
        for match in pattern.finditer(clause):
            if not _ABOUT_SPREAD.match(clause[match.end():]):
                return claim
    return None


def _window(text: str, start: int, pos: int) -> str:
    """The clause before ``pos``: after the last semicolon, comma, separator ("·", "|"), decimal or
    percentage, or bracket still open, without the bracketed asides it holds ("odds ratio (OR)").
    Whole numbers do not cut ("grade 3–4 infections"), nor a comma right before the number
    ("odds ratio [OR], 1.45")."""
    window = text[max(start, pos - _REACH):pos]
    cut, opened = 0, []
    for i, ch in enumerate(window):
        if ch in "([":
            opened.append(i + 1)
        elif ch in ")]" and opened:
            opened.pop()
    if opened:
        cut = opened[-1]
    window = window[:cut] + _CLOSED_GROUP.sub(_aside, window[cut:])
    for match in _CUT.finditer(window, cut):
        cut = match.end()
    return window[cut:]


def _aside(match: re.Match) -> str:
    """A closed bracket group: dropped when it is an aside ("(OR)", "(n = 418)", "(M-H, 95% CI)"),
    a cut when it holds a statistic (a decimal or a range: "(95% CI 12.1–16.7)", "(IQR 58–74)")."""
    return ";" if re.search(r"\d\.\d|\d\s*%?\s*(?:[-–—]|to)\s*[-−–]?\d", match.group(0)) else ""


def label_before(text: str, start: int, pos: int) -> str | None:
    """The words naming the number at ``pos``: the end of its clause before it, without numbers,
    leading articles and trailing verbs ("The pooled ORR was 62%" → "pooled ORR"), and after the last
    verb when words follow it ("Patients had a median age of 67 years" → "median age")."""
    window = _window(text, start, pos)
    if ": " in window.rstrip(" :"):
        window = window.rstrip(" :").rsplit(": ", 1)[1]
    words = window.split()[-8:]
    label = _TRAILING.sub("", _LEADING.sub("", " ".join(words) + " ")).strip(" ,:=")
    verbs = list(_VERB.finditer(label))
    if verbs and verbs[-1].end() < len(label):
        label = _LEADING.sub("", label[verbs[-1].end():].strip() + " ").strip()
    return label or None


def keyword_kind(text: str, start: int, pos: int) -> str | None:
    """The kind named by the keywords just before ``pos`` (in the same clause), or None."""
    window = _window(text, start, pos)
    for kind, pattern in _KIND_RES:
        if pattern.search(window):
            return kind
    return None


def ends_with_keyword(text: str, start: int, pos: int) -> bool:
    """Whether a kind keyword comes right before ``pos``, with only connectors ("=", "was", "of",
    a bracketed aside) between them."""
    window = _window(text, start, pos)
    last = None
    for last in _ANY_KEYWORD.finditer(window):
        pass
    return last is not None and re.match(_CONNECTORS, window[last.end():]) is not None


def keyword_start(text: str, start: int, pos: int) -> int | None:
    """Where a keyword written right before ``pos`` starts ("HR 0.72", "RR = 0.80", "odds ratio 1.45"),
    looking no further back than ``start``."""
    match = _KEYWORD_BEFORE.search(text, max(start, pos - 40), pos)
    return match.start() if match is not None else None
