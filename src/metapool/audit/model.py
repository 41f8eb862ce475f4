"""What an audit reads and what it says: reported statistics, findings and the audit's result.

A :class:`Statistic` is one number (with its interval, p-value or companions) as someone wrote it,
kept with its character span in the text, so that every finding can point at the words it is about.
A :class:`Finding` is one check applied to one or more statistics. Both are plain frozen data: the
extractor builds statistics, the checks build findings, the renderers (terminal, JSON, HTML) present
them. Nothing here parses, checks or prints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["pass", "flag", "cannot_check"]
STATUSES: tuple[str, ...] = ("pass", "flag", "cannot_check")

#: Closed vocabulary of what a reported number is. Each kind maps to its family, which decides the
#: scales a check may use (proportions: raw, logit, log, arcsine, Freeman-Tukey; ratios: log; ...).
STAT_KINDS: dict[str, tuple[str, str]] = {
    # kind: (family, display name)
    "proportion": ("proportion", "proportion or percentage"),
    "risk_difference": ("difference", "risk difference"),
    "odds_ratio": ("ratio", "odds ratio"),
    "risk_ratio": ("ratio", "risk ratio"),
    "hazard_ratio": ("ratio", "hazard ratio"),
    "rate_ratio": ("ratio", "incidence rate ratio"),
    "mean_difference": ("difference", "mean difference"),
    "smd": ("difference", "standardised mean difference"),
    "mean": ("location", "mean"),
    "median": ("location", "median"),
    "i2": ("heterogeneity", "I²"),
    "q": ("heterogeneity", "Cochran's Q"),
    "tau2": ("heterogeneity", "τ²"),
    "tau": ("heterogeneity", "τ"),
    "p_value": ("p", "p-value"),
    "k_studies": ("count", "number of studies"),
    "n_patients": ("count", "number of patients"),
    "sample_size": ("count", "sample size"),
    "threshold": ("count", "inclusion threshold"),
    "follow_up": ("time", "follow-up"),
    "evidence_level": ("evidence", "level of evidence"),
    "design": ("evidence", "study design"),
}

#: Interval kinds: a confidence interval, a prediction interval, a credible interval, or a
#: descriptive spread (interquartile range, range).
INTERVALS: tuple[str, ...] = ("ci", "pi", "cri", "iqr", "range")


@dataclass(frozen=True)
class Statistic:
    """One reported number, as written, with where it is written.

    Values are stored on the natural scale of the statistic: a percentage is stored as a fraction
    (``26%`` is ``value=0.26, percent=True``), a ratio as the ratio, a time in ``unit``. ``decimals``
    is the number of decimals as written on the written scale (``26%`` → 0, ``0.260`` → 3), so that a
    check can allow for rounding half a unit of the last written digit.

    Attributes
    ----------
    kind : str
        A key of :data:`STAT_KINDS`.
    span : tuple of int
        ``(start, end)`` character offsets of the whole quoted expression in the audited text.
    quote : str
        ``text[start:end]``.
    value : float or None
        Point estimate (None when only an interval or a count-less phrase was written).
    lower, upper : float or None
        Interval bounds on the same scale as ``value``.
    interval : str or None
        A member of :data:`INTERVALS`.
    level : float or None
        Coverage of the interval (0.95 for "95% CI"); None when not written.
    decimals, bound_decimals : int or None
        Decimals written for the value and for the bounds (the larger of the two bounds).
    percent : bool
        Written as a percentage.
    p_value, p_relation : float or None, str or None
        A p-value written with the statistic, and its relation ``"="``, ``"<"``, ``">"``, ``"<="``.
    q, df : float or None
        Cochran's Q and its degrees of freedom written with an I².
    n : int or None
        The denominator written with a proportion as a count ("12/40 (30%)", "12 of 40 patients
        (30%)"); None otherwise.
    unit : str or None
        ``"months"``, ``"weeks"``, ``"years"``, ``"days"`` for times; ``"patients"`` for counts.
    label : str or None
        The words that say what the number is about ("overall response rate", "median overall
        survival"), as written just before it in the same sentence.
    claim : str or None
        ``"significant"`` or ``"not_significant"`` when the sentence says so about this statistic.
    sentence : tuple of int
        ``(start, end)`` of the sentence that holds the statistic.
    """

    kind: str
    span: tuple[int, int]
    quote: str
    value: float | None = None
    lower: float | None = None
    upper: float | None = None
    interval: str | None = None
    level: float | None = None
    decimals: int | None = None
    bound_decimals: int | None = None
    percent: bool = False
    p_value: float | None = None
    p_relation: str | None = None
    q: float | None = None
    df: float | None = None
    n: int | None = None
    unit: str | None = None
    label: str | None = None
    claim: str | None = None
    sentence: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.kind not in STAT_KINDS:
            raise ValueError(f"unknown statistic kind {self.kind!r}; expected one of {sorted(STAT_KINDS)}")
        if self.interval is not None and self.interval not in INTERVALS:
            raise ValueError(f"unknown interval {self.interval!r}; expected one of {INTERVALS}")

    @property
    def family(self) -> str:
        """The family of :attr:`kind` (``"proportion"``, ``"ratio"``, ``"difference"``, ...)."""
        return STAT_KINDS[self.kind][0]

    def to_dict(self) -> dict:
        """Plain JSON-ready mapping (spans as two-element lists)."""
        out = asdict(self)
        out["span"] = list(self.span)
        if self.sentence is not None:
            out["sentence"] = list(self.sentence)
        return out


@dataclass(frozen=True)
class Finding:
    """One check applied to reported numbers.

    Attributes
    ----------
    quote : str
        The text the finding is about (``text[span[0]:span[1]]``).
    span : tuple of int
        Character offsets in the audited text.
    check : str
        Key of the check in :data:`metapool.audit.checks.CHECKS`.
    status : {"pass", "flag", "cannot_check"}
        ``flag`` only when the numbers as written cannot all be right; ``cannot_check`` when the
        check applies but what is written is not enough to decide.
    reason : str
        One sentence an author can act on.
    consistent_value : str or None
        What a consistent value would be (for example "95% CI 22% to 30% on the logit scale"), or
        None when there is nothing to propose.
    """

    quote: str
    span: tuple[int, int]
    check: str
    status: Status
    reason: str
    consistent_value: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    def to_dict(self) -> dict:
        """The JSON shape of one finding: quote, span, check, status, reason, consistent_value."""
        return {"quote": self.quote, "span": list(self.span), "check": self.check, "status": self.status,
                "reason": self.reason, "consistent_value": self.consistent_value}


@dataclass(frozen=True)
class AuditResult:
    """Everything one audit read and concluded.

    Attributes
    ----------
    text : str
        The audited text (after conversion from HTML, DOCX or PDF).
    statistics : tuple of Statistic
        What was extracted, in text order.
    findings : tuple of Finding
        What the checks said, in text order.
    source : str or None
        Where the text came from (a file name, ``"-"`` for standard input), for the report header.
    """

    text: str
    statistics: tuple[Statistic, ...]
    findings: tuple[Finding, ...]
    source: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def flagged(self) -> bool:
        """True when any finding is a flag (the command then exits 1)."""
        return any(f.status == "flag" for f in self.findings)

    def counts(self) -> dict[str, int]:
        """Number of findings per status."""
        return {s: sum(f.status == s for f in self.findings) for s in STATUSES}

    def to_dict(self) -> dict:
        """The ``--json`` document: ``findings`` first, then what was extracted and the counts."""
        return {"findings": [f.to_dict() for f in self.findings],
                "statistics": [s.to_dict() for s in self.statistics],
                "counts": self.counts(), "source": self.source, "notes": list(self.notes)}
