"""GRADE in words: footnotes, the one-line reason, informative statements and the summary-of-findings table.

The judgements are computed in :mod:`metapool.evidence.grade` (analyses
layer); this module only words them. Footnotes give each domain's rule with
its numbers; the one-line reason names the start and every downgrade; the key
takeaway follows GRADE's informative statements (Santesso et al. 2020, table
2): high certainty "reduces", moderate "probably reduces", low "may reduce",
very low "the evidence is very uncertain about the effect"; a CI that
includes the null reads "little to no difference". Without an assessable
certainty the statement says so and uses no verb of certainty. The summary of
findings follows GRADEpro GDT's table (Guyatt 2013, GRADE guidelines 12-13):
relative effect, absolute effects per 1,000 for binary comparisons,
participants (studies), certainty with footnotes.

References
----------
Santesso N et al. (2020). GRADE guidelines 26: informative statements to communicate the findings of
systematic reviews of interventions. J Clin Epidemiol 119:126-135.
Guyatt GH et al. (2013). GRADE guidelines 12-13: preparing summary of findings tables. J Clin Epidemiol
66:158-172, 173-183.
Schünemann H et al., eds. (2013). GRADE Handbook, sections 5 and 6.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..effect_sizes import MEASURES
from ..evidence.grade import (
    I2_CONSIDERABLE, I2_SUBSTANTIAL, K_PUBLICATION_BIAS, LFK_MAJOR, NOT_ASSESSED, P_ASYMMETRY, ROB_SERIOUS_NOT_LOW,
    ROB_VERY_SERIOUS_HIGH, Domain, Grade,
)
from ..evidence.assess import natural_null
from ..evidence.designs import DESIGNS
from ..formatting.numbers import fmt_level, fmt_p_clinical, fmt_percent, fmt_percents, fmt_range, fmt_values

__all__ = ["SoFRow", "SYMBOLS", "footnote", "is_proportion", "reason_line", "sof_row", "statement"]

#: GRADEpro's certainty symbols.
SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very low": "⊕◯◯◯"}
_SHORT = {
    "risk of bias": ("risk of bias", "high risk of bias"),
    "inconsistency": ("substantial heterogeneity", "considerable heterogeneity"),
    "indirectness": ("indirectness", "serious indirectness"),
    "imprecision": ("imprecise estimate", "very imprecise estimate"),
    "publication bias": ("suspected publication bias", "strongly suspected publication bias"),
}
_VERBS = {  # certainty -> (decrease, increase, no difference), Santesso 2020 table 2
    "high": ("reduces", "increases", "results in little to no difference in"),
    "moderate": ("probably reduces", "probably increases", "probably results in little to no difference in"),
    "low": ("may reduce", "may increase", "may result in little to no difference in"),
}
_SINGLE = {"high": ("achieves", "occurs in"), "moderate": ("probably achieves", "probably occurs in"),
           "low": ("may achieve", "may occur in")}
_FRACTIONS = ((0.25, "a quarter"), (1 / 3, "a third"), (0.5, "half"), (2 / 3, "two-thirds"), (0.75, "three-quarters"))


def is_proportion(model) -> bool:
    """Whether a model's natural scale is a proportion (shown in percent)."""
    measure = None if model is None else MEASURES.get(model.measure or "")
    return measure is not None and measure.natural == "proportion"


def _pct(x: float) -> str:
    return fmt_percents((x,))[0] + "%"


def _range(values, percent: bool) -> str:
    shown = (fmt_percents if percent else fmt_values)(values)
    return fmt_range(shown[1], shown[2]) + ("%" if percent else "")


def _measure_name(outcome) -> str:
    entry = MEASURES.get(outcome.spec.measure or "")
    name = entry.natural if entry is not None else "estimate"
    return {"MH": f"{name} (Mantel–Haenszel)", "PETO": "odds ratio (Peto)"}.get(outcome.spec.method, name)


# --- footnotes ----------------------------------------------------------------------------------------

def _rob_note(d: Domain) -> str:
    if d.rule == "no_column":
        return "Risk of bias not assessed: the analysis file names no risk_of_bias column."
    if d.rule == "no_judgements":
        return "Risk of bias not assessed: no analysed study has a risk-of-bias judgement."
    if d.rule == "unrecognised":
        return f"Risk of bias not assessed: {d.numbers['problem']}."
    s = d.numbers["share"]
    weights = ("by the model's study weights" if d.numbers["weights"] == "model"
               else "with equal weights (the model gives none)")
    parts = f"low {_pct(s['low'])}, some concerns {_pct(s['some concerns'])}, high {_pct(s['high'])}" + (
        f", no information {_pct(s['no information'])} (counted with some concerns)" if s["no information"] else "")
    if d.rule == "high_share":
        return (f"Very serious risk of bias: studies at high risk carry {_pct(s['high'])} of the weight"
                f" (≥ {ROB_VERY_SERIOUS_HIGH:.0%}); shares {weights}: {parts}.")
    if d.rule == "not_low_share":
        return (f"Serious risk of bias: studies not at low risk carry"
                f" {_pct(1 - s['low'])} of the weight (≥ {ROB_SERIOUS_NOT_LOW:.0%}); shares {weights}: {parts}.")
    return f"Risk of bias not serious: most of the weight is from studies at low risk; shares {weights}: {parts}."


def _values_text(values, percent: bool) -> str:
    shown = (fmt_percents if percent else fmt_values)(values)
    return " or ".join(v + ("%" if percent else "") for v in shown)


def _inconsistency_note(d: Domain, percent: bool, level: float) -> str:
    n = d.numbers
    if d.rule == "fewer_than_2":
        return "Inconsistency not assessed: fewer than 2 studies with an estimate and a variance."
    if d.rule == "no_i2":
        return "Inconsistency not assessed: the model gives no I²."
    i2 = f"I² = {fmt_percent(n['i2'])}"
    if d.rule == "i2_low":
        return f"Inconsistency not serious: {i2} (< {I2_SUBSTANTIAL:.0f}%)."
    facts = [f"{i2} (≥ {I2_CONSIDERABLE if d.judgement == 'very serious' else I2_SUBSTANTIAL:.0f}%)"]
    pi = n["prediction_interval"]
    if pi is not None and n["decision_values"]:
        shown = _range((pi[0], *pi), percent)
        facts.append(f"the {fmt_level(level)} prediction interval ({shown})"
                     f" {'includes' if n['pi_crosses'] else 'does not include'}"
                     f" {_values_text(n['decision_values'], percent)}")
    elif pi is None:
        facts.append("no prediction interval (common-effect model)")
    facts.append(f"{'some' if n['study_cis_disjoint'] else 'no'} studies' {fmt_level(level)} CIs do not overlap")
    head = {"not serious": "Inconsistency not serious", "serious": "Serious inconsistency",
            "very serious": "Very serious inconsistency"}[d.judgement]
    return f"{head}: " + "; ".join(facts) + "."


def _imprecision_note(d: Domain, percent: bool, level: float) -> str:
    n = d.numbers
    if d.rule == "no_ci":
        return "Imprecision not assessed: no confidence interval."
    if d.rule == "unspecified_comparison":
        return "Imprecision not assessed: a generic effect does not say what it compares."
    if d.rule == "no_threshold":
        return ("Imprecision not assessed: no decision threshold for this outcome (outcome key threshold);"
                " GRADE sets none for single-group estimates other than proportions.")
    lo, hi = n["ci"]
    ci = f"the {fmt_level(level)} CI ({_range((lo, lo, hi), percent)})"
    facts = []
    if "null" in n:
        facts.append(f"{ci} {'includes' if n['ci_includes_null'] else 'excludes'} the null"
                     f" ({fmt_values((n['null'],))[0]})")
        if n["thresholds"] is not None:
            where = "the MID" if n["thresholds_from"] == "mid" else "a relative change of 25% (GRADE default)"
            t = _values_text(n["thresholds"], False)
            if n["ci_includes_benefit_and_harm"]:
                facts.append(f"it includes both appreciable benefit and harm ({t}, {where})")
            elif n["ci_includes_threshold"]:
                facts.append(f"it includes a threshold of appreciable effect ({t}, {where})")
    else:
        if "ci_width" in n:
            facts.append(f"{ci} spans {fmt_percents((n['ci_width'],))[0]} percentage points"
                         f" ({'more' if n['ci_width'] > n['max_width'] else 'not more'} than"
                         f" {fmt_percents((n['max_width'],))[0]})")
        else:
            facts.append(ci)
        if n["threshold"] is not None:
            facts.append(f"it {'includes' if n['ci_includes_threshold'] else 'excludes'} the threshold"
                         f" {_values_text((n['threshold'],), percent)}")
    if n["ois"] is not None and n["n"] is not None:
        facts.append(f"{n['n']:,} patients {'reach' if n['ois_met'] else 'fall short of'} the optimal information"
                     f" size of {n['ois']:,} ({n['ois_basis']})")
    head = {"not serious": "Imprecision not serious", "serious": "Serious imprecision",
            "very serious": "Very serious imprecision"}[d.judgement]
    return f"{head}: " + "; ".join(facts) + "."


_TEST_NAMES = {"egger": "Egger's test", "peters": "Peters' test", "begg": "Begg's test"}


def _publication_note(d: Domain) -> str:
    n = d.numbers
    if d.rule == "k_below_10":
        return (f"Publication bias not assessed: fewer than {K_PUBLICATION_BIAS} studies (k = {n['k']}); funnel-plot"
                " asymmetry tests are not interpreted below 10 (Cochrane Handbook 13.3.5.4).")
    if d.rule == "not_requested":
        return "Publication bias not assessed: bias analyses were not requested (bias = false)."
    if d.rule == "no_test":
        why = n.get("skipped") or "; ".join(f"{code}: {reason}" for code, reason in n["not_run"].items())
        return "Publication bias not assessed: no test ran for this model" + (f" ({why})." if why else ".")
    facts = [f"{_TEST_NAMES[c]} {fmt_p_clinical(p)}" for c, p in n["p_values"].items()]
    if n["lfk_index"] is not None:
        facts.append(f"LFK index {fmt_values((n['lfk_index'],))[0]}")
    if n["trimfill_k0"] is not None:
        k0 = n["trimfill_k0"]
        facts.append(f"trim-and-fill: {k0} missing {'study' if k0 == 1 else 'studies'} estimated"
                     " (reported, not judged)")
    rule = f"p < {P_ASYMMETRY:g} or |LFK| > {LFK_MAJOR:g}"
    by = ", ".join(_TEST_NAMES.get(c, "the LFK index") for c in n.get("suspected_by", ()))
    head = f"Publication bias suspected ({by}; {rule})" if by else f"Publication bias not suspected ({rule})"
    return f"{head}: " + "; ".join(facts) + "."


def footnote(d: Domain, *, percent: bool = False, level: float = 0.95) -> str:
    """The reason for one domain's judgement, with its numbers (a summary-of-findings footnote)."""
    if d.name == "risk of bias":
        return _rob_note(d)
    if d.name == "inconsistency":
        return _inconsistency_note(d, percent, level)
    if d.name == "imprecision":
        return _imprecision_note(d, percent, level)
    if d.name == "publication bias":
        return _publication_note(d)
    if d.judgement == NOT_ASSESSED:
        return ("Indirectness not assessed: it is the review team's judgement (outcome keys indirectness,"
                " indirectness_reason).")
    why = d.numbers.get("reason") or "no reason given"
    return f"Indirectness {d.judgement} (declared by the review team): {why}."


# --- the one-line reason ------------------------------------------------------------------------------

def _start_short(grade: Grade, designs: dict) -> str:
    """Why the certainty starts low, in a few words ("single-arm studies"); nothing when it starts high."""
    if grade.start.certainty in (None, "high"):
        return ""
    stated = {c for c in designs if c != "not stated"}
    if stated == {"single_arm"}:
        return "single-arm studies"
    if grade.comparison == "single-group":
        return "single-group results"
    return "includes observational studies" if any(DESIGNS[c].randomised for c in stated) else "observational studies"


def reason_line(grade: Grade | None, designs: dict, unassessed: bool = True) -> str:
    """The certainty with its reasons in one line ("low certainty: single-arm studies, substantial heterogeneity").

    Domains not assessed are named after the reasons (unless ``unassessed``
    is False: the statements leave them to the table beside them); a start
    that cannot be assessed gives "certainty not assessed" with its reason.
    """
    if grade is None:
        return "certainty not assessed: no pooled estimate"
    if grade.certainty is None:
        return "certainty not assessed: " + grade.start.reason.removeprefix("not assessed: ")
    reasons = [_start_short(grade, designs)] + [_SHORT[d.name][d.downgrade - 1] for d in grade.domains if d.downgrade]
    reasons = [r for r in reasons if r] or ["no domain lowers it"]
    line = f"{grade.certainty} certainty: {', '.join(reasons)}"
    return line + (f"; not assessed: {', '.join(grade.not_assessed)}" if grade.not_assessed and unassessed else "")


# --- informative statements ---------------------------------------------------------------------------

def _arms(analysis) -> tuple[str, str]:
    spec = analysis.spec
    return (spec.intervention or "the intervention (group 1)", spec.comparator or "the comparator (group 2)")


def _outcome_words(outcome) -> str:
    name = outcome.spec.name
    return name if name[:2].isupper() else name[:1].lower() + name[1:]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fewer_more(x: float) -> str:
    x = round(x)
    return f"{abs(x):,} fewer" if x < 0 else f"{x:,} more"


def _absolute_words(grade: Grade) -> str:
    """The risk difference per 1,000 with its CI ("97 fewer per 1,000, 95% CI 128 fewer to 51 fewer")."""
    a = grade.absolute
    p = a.per_1000()
    return (f"{_fewer_more(p['difference'])} per 1,000, {fmt_level(a.level)} CI"
            f" {_fewer_more(p['difference_lower'])} to {_fewer_more(p['difference_upper'])}")


def inline(estimate: str) -> str:
    """An estimate as it reads inside parentheses: "0.46 (95% CI 0.31–0.70)" -> "0.46, 95% CI 0.31–0.70"."""
    head, sep, tail = estimate.partition(" (")
    return f"{head}, {tail[:-1]}" if sep and tail.endswith(")") else estimate


def statement(outcome, analysis, estimate: str) -> str:  # noqa: C901 (one branch per kind of statement)
    """The outcome's informative statement (module docstring), naming the measure, direction and arms.

    ``estimate`` is the pooled estimate as the card shows it
    (:func:`~metapool.report.card.format_estimate`).
    """
    grade = outcome.grade
    pooled = outcome.pooled
    line = reason_line(grade, outcome.designs, unassessed=False)
    what = _outcome_words(outcome)
    if grade is None or pooled is None:
        return f"{_capital(what)}: not estimable."
    certain = grade.certainty
    estimate = inline(estimate)
    if grade.comparison == "two-group":
        intervention, comparator = _arms(analysis)
        absolute = f"; {_absolute_words(grade)}" if grade.absolute is not None else ""
        effect = f"{_measure_name(outcome)} {estimate}{absolute}; {line}"
        if certain is None:
            return f"{_capital(what)}, {intervention} compared with {comparator}: {effect}."
        if certain == "very low":
            return (f"The evidence is very uncertain about the effect of {intervention} on {what} compared with"
                    f" {comparator} ({effect}).")
        _, null = natural_null(outcome.spec.measure)
        down, up, none = _VERBS[certain]
        includes_null = pooled.ci_lower <= null <= pooled.ci_upper
        entry = MEASURES.get(outcome.spec.measure or "")
        if entry is not None and entry.family == "generic":  # e.g. a hazard ratio: the direction is the ratio's
            lower = ("little to no difference in" if includes_null
                     else "a lower" if pooled.estimate < null else "a higher")
            verb = {"high": "results in", "moderate": "probably results in", "low": "may result in"}[certain]
            return (f"{_capital(intervention)} {verb} {lower} {_measure_name(outcome)} for {what} compared with"
                    f" {comparator} ({effect}).")
        verb = none if includes_null else down if pooled.estimate < null else up
        return f"{_capital(intervention)} {verb} {what} compared with {comparator} ({effect})."
    who = analysis.spec.intervention
    if grade.comparison == "single-group" and is_proportion(outcome.model):
        p = pooled.estimate
        words = next((w for f, w in _FRACTIONS if abs(p - f) <= 0.03), None)
        interval = estimate.partition(", ")[2] or estimate
        share = f"about {words} of patients ({estimate}" if words else f"{_pct(p)} of patients ({interval}"
        if certain in _SINGLE:
            achieves, occurs = _SINGLE[certain]
            if outcome.spec.higher_is_better and who:
                return f"{_capital(who)} {achieves} {what} in {share}; {line})."
            return f"{_capital(what)}{f' with {who}' if who else ''} {occurs} {share}; {line})."
        with_who = f" with {who}" if who else ""
        if certain == "very low":
            return f"The evidence is very uncertain about {what}{with_who}: observed in {share}; {line})."
        return f"{_capital(what)}{with_who}: {estimate} ({line})."
    if certain == "very low":
        return f"The evidence is very uncertain about {what} ({estimate}; {line})."
    return f"{_capital(what)}{f' with {who}' if who else ''}: {estimate} ({line})."


# --- summary of findings ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SoFRow:
    """One outcome of the summary-of-findings table (texts as shown; numbers in ``grade``)."""

    outcome: str
    relative: str
    control: str
    intervention: str
    difference: str
    participants: str
    certainty: str
    reason: str
    footnotes: tuple
    statement: str
    grade: Grade | None

    @property
    def why(self) -> str:
        """The reasons of :attr:`reason` without the rating in front ("single-arm studies, risk of bias")."""
        return self.reason.partition(": ")[2]

    @property
    def flagged(self) -> tuple:
        """The footnotes of the domains that lower the certainty or were not assessed (the table's footnotes)."""
        if self.grade is None:
            return ()
        return tuple(n for n, d in zip(self.footnotes, self.grade.domains) if d.judgement != "not serious")

    @property
    def domains(self) -> tuple:
        """(domain, judgement, footnote) for each of the five domains."""
        if self.grade is None:
            return ()
        return tuple((d.name, d.judgement, n) for d, n in zip(self.grade.domains, self.footnotes))

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "relative_effect": self.relative, "assumed_control_risk": self.control,
                "corresponding_risk": self.intervention, "risk_difference": self.difference,
                "participants": self.participants, "certainty": self.certainty, "certainty_reason": self.reason,
                "footnotes": list(self.footnotes),
                "statement": self.statement,
                "grade": None if self.grade is None else self.grade.to_dict()}


def _per_1000(value: float) -> str:
    return f"{round(value):,} per 1,000"


def sof_row(outcome, analysis, estimate: str) -> SoFRow:
    """The summary-of-findings row of one analysed outcome."""
    grade = outcome.grade
    level = getattr(outcome.pooled, "level", 0.95)
    percent = is_proportion(outcome.model)
    notes = tuple(footnote(d, percent=percent, level=level) for d in grade.domains) if grade else ()
    relative = f"{_measure_name(outcome)} {estimate}" if grade and grade.comparison == "two-group" else estimate
    control = intervention = difference = "–"
    if grade is not None and grade.absolute is not None:
        a, p = grade.absolute, grade.absolute.per_1000()
        source = (f"median of {a.control_studies} control groups" if a.control_source == "median"
                  else "given in the analysis file")
        control = f"{_per_1000(p['control'])} ({source})"
        intervention = (f"{_per_1000(p['intervention'])} ({fmt_level(a.level)} CI"
                        f" {round(p['intervention_lower']):,} to {round(p['intervention_upper']):,})")
        difference = _absolute_words(grade)
    n = f"{outcome.n_patients:,}" if outcome.n_patients is not None else "not given"
    studies = f"{outcome.k} {'study' if outcome.k == 1 else 'studies'}"
    rating = NOT_ASSESSED if grade is None or grade.certainty is None else grade.certainty
    certainty = f"{SYMBOLS.get(rating, '')} {rating}".strip()
    return SoFRow(outcome.spec.name, relative, control, intervention, difference, f"{n} ({studies})", certainty,
                  reason_line(grade, outcome.designs), notes, statement(outcome, analysis, estimate), grade)
