"""Recompute reported pooled estimates from the review's study table (``metapool audit --data``).

For each reported estimate with a confidence interval whose kind can be pooled from an outcome of
the analysis file (:data:`KIND_MEASURES`), the outcome is found by the words of the estimate's label
(:func:`match_outcome`) and pooled again under each usual modelling choice (:func:`choices`): the
measures a proportion is commonly pooled on (PR, PLO, PAS, PFT), every τ² estimator of
:data:`metapool.models.tau2.ESTIMATORS` with the z-test and (random effects) Knapp–Hartung, the GLMM,
Mantel–Haenszel and Peto's method where they apply; median survival times with their CIs
(:func:`metapool.medians.pool_median_survival`) with every estimator and test. Every other fit is one
call of :func:`metapool.models.methods.fit`, and its pooled value on the natural scale is
:func:`metapool.analysis.pooled_value`, as in the report.

A choice reproduces the reported numbers when the estimate and both bounds round to what is written:
a number written with ``d`` decimals (on its written scale, percent or not) stands for the interval
± 0.5·10⁻ᵈ around it. The finding (check ``"recompute"``) passes and lists the reproducing choices,
flags when no choice reproduces (giving the closest one), or cannot check: false alarms are worse
than misses, so an estimate whose label matches no outcome, or several, or names a subset of the
studies ("in the azacitidine subgroup", "excluding ...", one study or trial, a study's label) or a
number of studies other than the outcome's, is never flagged.

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3):1-48.
Schwarzer G, Chemaitelly H, Abu-Raddad LJ, Rücker G (2019). Seriously misleading results using
inverse of Freeman-Tukey double arcsine transformation in meta-analysis of single proportions.
Res Synth Methods 10:476-483 (why the measure of a pooled proportion changes its value).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import MetapoolError
from .model import Finding, Statistic

__all__ = ["CHECK", "TITLE", "DESCRIPTION", "REFERENCE", "KIND_MEASURES", "PROPORTION_MEASURES", "TESTS", "Choice",
           "choices", "match_outcome", "recompute", "registry_function", "reproduces"]

#: Key of the findings in :data:`metapool.audit.checks.CHECKS`, and the entry's title, description and reference.
CHECK = "recompute"
TITLE = "Pooled estimate recomputed from the study table"
DESCRIPTION = ("With --data analysis.toml: each reported pooled estimate with a CI is matched to one outcome by"
               " its label and pooled again under the usual choices (PR/PLO/PAS/PFT, every τ² estimator, z-test"
               " and Knapp–Hartung, GLMM, Mantel–Haenszel, Peto); flagged when no choice reproduces the estimate"
               " and both bounds to the written precision.")
REFERENCE = ("Viechtbauer W (2010). J Stat Softw 36(3):1-48; Schwarzer G et al. (2019). Res Synth Methods"
             " 10:476-483.")

#: Measures a pooled proportion is commonly computed on: raw, logit, arcsine, Freeman–Tukey.
PROPORTION_MEASURES = ("PR", "PLO", "PAS", "PFT")

#: Tests tried with every τ² estimator (Knapp–Hartung with random-effects estimators only).
TESTS = {"z": "z-test", "knha": "Knapp–Hartung"}

#: The "measure" of median survival times pooled with their CIs (:func:`metapool.medians.pool_median_survival`).
MEDIAN = "median"

#: Reported kind -> {escalc role (or, for medians, column key) that identifies an outcome's data: measures}.
KIND_MEASURES: dict[str, dict[str, tuple[str, ...]]] = {
    "proportion": {"xi": PROPORTION_MEASURES, "prop": ("PCI",)},
    "odds_ratio": {"ai": ("OR",), "ratio": ("LNR",)},
    "risk_ratio": {"ai": ("RR",), "ratio": ("LNR",)},
    "risk_difference": {"ai": ("RD",)},
    "hazard_ratio": {"ratio": ("LNR",)},
    "rate_ratio": {"ratio": ("LNR",)},
    "mean_difference": {"m1i": ("MD",)},
    "smd": {"m1i": ("SMD",)},
    "median": {"median": (MEDIAN,)},
}
#: Roles of data with two groups (a reported estimate may compare them the other way round).
_TWO_GROUPS = frozenset({"ai", "m1i", "ratio"})
#: Methods beside the τ² estimators, by measure: (method, tests).
_OTHER_METHODS = {"PLO": (("GLMM", "z"),), "OR": (("GLMM", "z"), ("MH", "z"), ("PETO", "z")),
                  "RR": (("MH", "z"),), "RD": (("MH", "z"),)}
#: Words that say an estimate is about part of the studies, not the outcome's pooled estimate.
_SUBSET_WORDS = frozenset({"subgroup", "subgroups", "excluding", "excluded", "except", "without", "sensitivity",
                           "restricted", "stratified", "subset", "study", "trial", "cohort", "registry"})
#: Words that do not tell outcomes apart.
_STOPWORDS = frozenset({"a", "an", "the", "of", "in", "on", "at", "and", "or", "with", "for", "to", "by", "was",
                        "were", "is", "are", "rate", "rates", "proportion", "pooled", "estimate", "estimated",
                        "ci", "95"})
_WORD = re.compile(r"[a-z0-9]+(?:/[a-z0-9]+)*")


def registry_function(context) -> tuple[Finding, ...]:
    """The function of the ``recompute`` entry of :data:`metapool.audit.checks.CHECKS`: no findings.

    Recomputing needs the analysis file, which the text's context does not hold; :func:`recompute`
    runs when one is given (``audit(text, data=...)``, ``metapool audit --data``).
    """
    return ()


@dataclass(frozen=True)
class Choice:
    """One way of pooling an outcome: measure, method (a code of ``METHODS``) and test."""

    measure: str
    method: str
    test: str

    @property
    def label(self) -> str:
        """``"PLO + REML τ², z-test"``, ``"OR + MH"``."""
        from ..models.methods import METHODS

        m = METHODS[self.method]
        if m.estimator is None:
            return f"{self.measure} + {self.method}"
        tau2 = " τ²" if m.kind == "random" else ""
        return f"{self.measure} + {self.method}{tau2}, {TESTS[self.test]}"


def choices(measures: Sequence[str]) -> tuple[Choice, ...]:
    """The usual choices for pooling on ``measures``: each τ² estimator with each test, then GLMM, MH, Peto."""
    from ..models.tau2 import ESTIMATORS

    out = []
    for measure in measures:
        for code, estimator in ESTIMATORS.items():
            out += [Choice(measure, code, test) for test in TESTS if estimator.random or test == "z"]
        out += [Choice(measure, method, test) for method, test in _OTHER_METHODS.get(measure, ())]
    return tuple(out)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS}


def _names(outcome) -> tuple[set[str], str | None]:
    """An outcome's required words (its name outside parentheses) and its abbreviation ("ORR"), if any."""
    inside = re.findall(r"\(([^()]*)\)", outcome.name)
    outside = re.sub(r"\([^()]*\)", " ", outcome.name)
    abbreviation = next((w for part in inside if len(ws := _WORD.findall(part.lower())) == 1 for w in ws), None)
    return _words(outside), abbreviation


def _named(outcome, words: set[str]) -> bool:
    """Whether ``words`` (of a label) name ``outcome``: its abbreviation, or every word of its name.

    A word written with a slash in the name ("CR/CRi") is named by itself or by all its parts.
    """
    required, abbreviation = _names(outcome)
    if abbreviation is not None and abbreviation in words:
        return True
    parts = set().union(*(w.split("/") for w in words)) | words
    return bool(required) and all(w in words or set(w.split("/")) <= parts for w in required)


def match_outcome(statistic: Statistic, outcomes: Sequence) -> tuple[object | None, tuple[str, ...], str | None]:
    """The outcome a reported estimate is about, its measures, or why there is none.

    Returns
    -------
    tuple
        ``(outcome, measures, None)`` when exactly one outcome whose data can give the statistic's
        kind is named by its label; ``(None, (), reason)`` otherwise.
    """
    if not statistic.label:
        return None, (), "the text does not say which outcome this estimate is about"
    words = _words(statistic.label)
    usable = {}
    for outcome in outcomes:
        roles = set(outcome.roles) | ({"median"} if {"median", "lower", "upper"} <= set(outcome.columns) else set())
        measures = next((m for role, m in KIND_MEASURES[statistic.kind].items() if role in roles), None)
        if measures is not None and "ti" not in roles and _same_unit(statistic, outcome):
            usable[outcome.name] = (outcome, measures)
    named = [name for name, (outcome, _) in usable.items() if _named(outcome, words)]
    kind = _kind_name(statistic)
    if not usable:
        return None, (), f"the analysis file has no outcome whose data give {kind}"
    if not named:
        listed = ", ".join(repr(n) for n in usable)
        return None, (), f"'{statistic.label}' names none of the analysis file's outcomes of {kind} ({listed})"
    if len(named) > 1:
        return None, (), f"'{statistic.label}' could be any of the outcomes {', '.join(map(repr, named))}"
    outcome, measures = usable[named[0]]
    return outcome, measures, None


def _same_unit(statistic: Statistic, outcome) -> bool:
    """Whether a time is reported in the outcome's unit (months and months; anything without a unit)."""
    if not (statistic.unit and outcome.unit):
        return True
    return statistic.unit.lower().rstrip("s") == outcome.unit.lower().rstrip("s")


def _kind_name(statistic: Statistic) -> str:
    from .model import STAT_KINDS

    name = STAT_KINDS[statistic.kind][1]
    return name + "s" + (f" in {statistic.unit}" if statistic.unit else "")


def _subset_reason(statistic: Statistic, outcome, levels: set[str]) -> str | None:
    """Why the estimate may be about part of the outcome's studies (subgroup, exclusion), or None."""
    words = set(_WORD.findall(statistic.label.lower()))
    hit = sorted(words & (_SUBSET_WORDS | levels))
    if hit:
        return (f"'{statistic.label}' may be about part of the studies of outcome '{outcome.name}' ('{hit[0]}');"
                " only the whole outcome is recomputed")
    return None


def _scale(statistic: Statistic) -> float:
    return 100.0 if statistic.percent else 1.0


def _decimals(value: float, written: int | None) -> int:
    """Decimals as written, else those of the shortest spelling of the value."""
    if written is not None:
        return written
    text = repr(round(value, 10))
    return len(text.split(".")[1]) if "." in text and not text.endswith(".0") else 0


def _reported(statistic: Statistic) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """The reported estimate and bounds on their written scale, and half a unit of each last digit."""
    scale = _scale(statistic)
    values = tuple(v * scale for v in (statistic.value, statistic.lower, statistic.upper))
    d = _decimals(values[0], statistic.decimals)
    bd = statistic.bound_decimals
    tolerance = (0.5 * 10.0 ** -d, *(0.5 * 10.0 ** -_decimals(v, bd) for v in values[1:]))
    return values, tolerance


def reproduces(statistic: Statistic, computed: tuple[float, float, float], reverse: bool = False) -> float:
    """How far ``computed`` (estimate, lower, upper, natural scale) is from what is written.

    The largest of the three differences in units of the reported rounding (half a unit of the
    last written digit): at most 1 means the choice reproduces the reported numbers. With
    ``reverse`` the groups are swapped first (a ratio inverted, a difference negated).
    """
    est, lo, hi = computed
    if reverse:
        est, lo, hi = (1 / est, 1 / hi, 1 / lo) if statistic.family == "ratio" else (-est, -hi, -lo)
    values, tolerance = _reported(statistic)
    scale = _scale(statistic)
    return max(abs(c * scale - v) / t for c, v, t in zip((est, lo, hi), values, tolerance))


def _fit_choices(outcome, table, measures: tuple[str, ...], level: float):
    """Each usual choice and its natural-scale pooled value (estimate, lower, upper), or the first error."""
    from ..analysis import pooled_value
    from ..models.methods import fit

    fitted, error = [], None
    for choice in choices(measures):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if choice.measure == MEDIAN:
                    from ..medians import pool_median_survival

                    cols = outcome.columns
                    model = pool_median_survival(cols["median"], cols["lower"], cols["upper"], table,
                                                 ci_level=outcome.ci_level, ni=cols.get("n"), method=choice.method,
                                                 test=choice.test, level=level)
                else:
                    model = fit(choice.method, table, measure=choice.measure, test=choice.test, level=level,
                                ci_level=outcome.ci_level, **outcome.roles).model
        except MetapoolError as exc:
            error = error or str(exc)
            continue
        value = pooled_value(model)
        numbers = (float(value.estimate), float(value.ci_lower), float(value.ci_upper))
        if all(math.isfinite(x) for x in numbers):
            fitted.append((choice, numbers, int(model.k)))
    return fitted, error


def _format(statistic: Statistic, numbers: tuple[float, float, float], level: float) -> str:
    """Numbers as the text writes them, one decimal more (``49.9% (95% CI 44.6% to 55.2%)``)."""
    values, _ = _reported(statistic)
    d = max(_decimals(values[0], statistic.decimals), _decimals(values[1], statistic.bound_decimals)) + 1
    unit = "%" if statistic.percent else ""
    est, lo, hi = (f"{x * _scale(statistic):.{d}f}{unit}" for x in numbers)
    after = f" {statistic.unit}" if statistic.unit and statistic.family == "location" else ""
    return f"{est}{after} ({level:g}% CI {lo} to {hi})"


def _finding(statistic: Statistic, status: str, reason: str, consistent: str | None = None) -> Finding:
    return Finding(statistic.quote, statistic.span, CHECK, status, reason, consistent)


def _sentence_k(statistic: Statistic, statistics: Sequence[Statistic]) -> int | None:
    """The number of studies written in the same sentence as ``statistic``, if exactly one is."""
    if statistic.sentence is None:
        return None
    ks = {int(s.value) for s in statistics
          if s.kind == "k_studies" and s.sentence == statistic.sentence and s.value is not None}
    return ks.pop() if len(ks) == 1 else None


def recompute(statistics: Sequence[Statistic], data) -> tuple[Finding, ...]:
    """Recompute each reported pooled estimate with a CI from the analysis file's study table.

    Parameters
    ----------
    statistics
        What the extractor found (:func:`metapool.audit.extract.extract`).
    data
        An analysis file (path to ``analysis.toml``) or a loaded
        :class:`~metapool.spec.AnalysisSpec`.

    Returns
    -------
    tuple of Finding
        One finding (check ``"recompute"``) per estimate with a confidence interval of a kind in
        :data:`KIND_MEASURES`: ``pass`` naming the choices that reproduce it, ``flag`` with the
        closest choice as the consistent value, or ``cannot_check`` with the reason.

    Raises
    ------
    MetapoolError
        The analysis file or its study table cannot be read.
    """
    from ..io.tables import read_table
    from ..spec import AnalysisSpec, load_spec

    targets = [s for s in statistics if s.kind in KIND_MEASURES and s.interval == "ci"
               and None not in (s.value, s.lower, s.upper)]
    if not targets:
        return ()
    spec = data if isinstance(data, AnalysisSpec) else load_spec(Path(data))
    table = read_table(spec.data_path, sheet=spec.sheet, encoding=spec.encoding)
    source = Path(spec.source).name or "the analysis file"
    fits: dict = {}  # (outcome, level) -> fitted choices: several numbers of one outcome are pooled once
    return tuple(_recompute_one(statistic, statistics, spec, table, source, fits) for statistic in targets)


def _levels(spec, outcome, table) -> set[str]:
    """Words that name some of the outcome's studies: its subgroups, the designs, the study labels."""
    from ..analysis import study_labels

    cells = [cell for column in (outcome.subgroup, spec.design) if column is not None and column in table
             for cell in table[column] if cell is not None]
    words = {w for cell in cells for w in _WORD.findall(str(cell).lower())}
    # study labels: their names and years ("Smith 2010"), not small numbers ("Trial 3" vs "3 trials")
    words |= {w for label in study_labels(spec, table) or () for w in _WORD.findall(label.lower())
              if not w.isdigit() or len(w) == 4}
    return words - _STOPWORDS


def _recompute_one(statistic: Statistic, statistics, spec, table, source: str, fits: dict) -> Finding:
    from ..models.methods import METHODS
    from ..models.tau2 import ESTIMATORS

    outcome, measures, reason = match_outcome(statistic, spec.outcomes)
    if outcome is None:
        return _finding(statistic, "cannot_check", f"Not recomputed: {reason}.")
    reason = _subset_reason(statistic, outcome, _levels(spec, outcome, table))
    if reason is not None:
        return _finding(statistic, "cannot_check", f"Not recomputed: {reason}.")
    level = 100 * (statistic.level or 0.95)
    two_groups = any(role in outcome.roles for role in _TWO_GROUPS)
    key = (id(outcome), measures, level)
    if key not in fits:
        fits[key] = _fit_choices(outcome, table, measures, level)
    fitted, error = fits[key]
    if not fitted:
        return _finding(statistic, "cannot_check",
                        f"Not recomputed: outcome '{outcome.name}' of {source} could not be pooled ({error}).")
    k = fitted[0][2]
    written_k = _sentence_k(statistic, statistics)
    if written_k is not None and written_k != k:
        return _finding(statistic, "cannot_check",
                        f"Not recomputed: the sentence pools {written_k} studies, outcome '{outcome.name}' of"
                        f" {source} has {k}.")
    scored = []
    for choice, numbers, _ in fitted:
        scored.append((reproduces(statistic, numbers), choice, numbers, ""))
        if two_groups:
            scored.append((reproduces(statistic, numbers, reverse=True), choice, numbers, " (groups reversed)"))
    scored.sort(key=lambda row: row[0])
    hits = [(choice.label + note) for distance, choice, _, note in scored if distance <= 1 + 1e-9]
    what = f"outcome '{outcome.name}' of {source} ({k} studies)"
    level_note = "" if statistic.level else " (a 95% CI assumed)"
    if hits:
        others = f" (and {len(hits) - 1} other choice{'s' if len(hits) > 2 else ''}: {', '.join(hits[1:6])}" \
                 f"{', ...' if len(hits) > 6 else ''})" if len(hits) > 1 else ""
        return _finding(statistic, "pass",
                        f"Estimate and CI{level_note} reproduced from {what} by {hits[0]}{others}.")
    distance, choice, numbers, note = scored[0]
    shown = (1 / numbers[0], 1 / numbers[2], 1 / numbers[1]) if note and statistic.family == "ratio" else (
        (-numbers[0], -numbers[2], -numbers[1]) if note else numbers)
    others = sorted({c.method for c, _, _ in fitted} - set(ESTIMATORS), key=list(METHODS).index)
    tried = ", ".join(measures) + " with every τ² estimator, z-test and Knapp–Hartung" + "".join(
        f", {m}" for m in others)
    return _finding(
        statistic, "flag",
        f"No usual choice ({len(fitted)} fits: {tried}) reproduces the estimate and its"
        f" CI{level_note} to the written precision from {what}; the closest is {choice.label}{note}.",
        f"{choice.label}{note}: {_format(statistic, shown, level)}")
