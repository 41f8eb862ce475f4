"""What ``metapool audit`` reads: the extractor on a corpus of written abstracts, each spelling, and
properties (numbers formatted in every spelling come back with their exact span; no text raises).

The corpus (``tests/audit_corpus/``) holds one ``.txt`` per text and ``expected.json``: for each text
the statistics the extractor must return (kind, span, quote, values as written) and ``planted``, the
checks that must flag it with a note on the error planted. Texts without planted errors are
internally consistent: their intervals come from random-effects fits (logit scale for proportions,
log scale for ratios), their I² is (Q − df)/Q and their p-values follow from the intervals.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metapool.audit.extract import extract
from metapool.audit.model import STAT_KINDS, Statistic
from metapool.evidence.designs import parse_design

CORPUS = Path(__file__).parent / "audit_corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
#: The checks of issue 15 (keys of metapool.audit.checks.CHECKS).
CHECK_KEYS = {"estimate_in_interval", "interval_symmetry", "p_value", "significance_wording", "i2_q_df",
              "interval_width", "n_total", "sample_size", "follow_up", "evidence_level", "spread_as_inference"}
FIELDS = ("value", "lower", "upper", "interval", "level", "decimals", "bound_decimals", "percent", "p_value",
          "p_relation", "q", "df", "n", "unit", "label", "claim")


def _text(name: str) -> str:
    return (CORPUS / f"{name}.txt").read_text(encoding="utf-8")


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


# -- the corpus ------------------------------------------------------------------------------------

def test_corpus_shape():
    names = sorted(p.stem for p in CORPUS.glob("*.txt"))
    assert names == sorted(EXPECTED), "every text has an entry in expected.json and vice versa"
    planted = [n for n in names if EXPECTED[n]["planted"]]
    assert len(names) >= 45 and len(names) - len(planted) >= 25 and len(planted) >= 15
    keys = {p["check"] for n in planted for p in EXPECTED[n]["planted"]}
    assert keys == CHECK_KEYS, f"checks without a planted error: {CHECK_KEYS - keys}"
    for name in planted:
        for p in EXPECTED[name]["planted"]:
            assert p["check"] in CHECK_KEYS and len(p["note"]) > 10, name
        assert set(EXPECTED[name].get("may_also_flag", ())) <= CHECK_KEYS


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_extraction(name):
    """Every expected statistic is found with its kind, span and values; nothing else is found."""
    text = _text(name)
    got = {(s.kind, s.span): s for s in extract(text)}
    for want in EXPECTED[name]["statistics"]:
        key = (want["kind"], tuple(want["span"]))
        assert key in got, f"{name}: missed {want['kind']} {want['quote']!r}"
        stat = got.pop(key)
        assert stat.quote == want["quote"] == text[slice(*stat.span)]
        for field in FIELDS:
            default = Statistic.__dataclass_fields__[field].default
            assert _same(getattr(stat, field), want.get(field, default)), (name, want["quote"], field)
    assert not got, f"{name}: unexpected extra statistics {[s.quote for s in got.values()]}"


def test_corpus_sentences_and_kinds():
    for name in EXPECTED:
        text = _text(name)
        for stat in extract(text):
            assert stat.kind in STAT_KINDS
            start, end = stat.sentence
            assert start <= stat.span[0] < stat.span[1] <= max(end, stat.span[1])


def test_corpus_design_labels_are_in_the_design_vocabulary():
    """A design label is one the evidence vocabulary reads (phase words alone name no design)."""
    for name in EXPECTED:
        for stat in extract(_text(name)):
            if stat.kind == "design" and not stat.label.lower().startswith("phase"):
                parse_design(stat.label)


def test_checks_registry_matches_the_planted_keys():
    checks = pytest.importorskip("metapool.audit.checks")
    assert set(checks.CHECKS) - {"recompute"} == CHECK_KEYS  # recompute needs the study table, not the text


# -- each spelling ---------------------------------------------------------------------------------

def one(text: str, kind: str | None = None) -> Statistic:
    stats = [s for s in extract(text) if kind is None or s.kind == kind]
    assert len(stats) == 1, [(s.kind, s.quote) for s in extract(text)]
    return stats[0]


@pytest.mark.parametrize("text, quote, value, lower, upper, level", [
    ("The rate was 26% (95% CI: 24-48%).", "26% (95% CI: 24-48%)", 0.26, 0.24, 0.48, 0.95),
    ("ORR 26% (95% CI 24%–48%)", "26% (95% CI 24%–48%)", 0.26, 0.24, 0.48, 0.95),
    ("pooled proportion 0.26 [0.24; 0.48]", "0.26 [0.24; 0.48]", 0.26, 0.24, 0.48, None),
    ("response rate 0.26 (0.24 to 0.48)", "0.26 (0.24 to 0.48)", 0.26, 0.24, 0.48, None),
    ("It was 26.0% (95% confidence interval [CI], 24.1–48.3).", "26.0% (95% confidence interval [CI], 24.1–48.3)",
     0.26, 0.241, 0.483, 0.95),
    ("The pooled ORR was 62% (95% CI, 55%-69%).", "62% (95% CI, 55%-69%)", 0.62, 0.55, 0.69, 0.95),
    ("a CR rate of 45.2% (95% CI: 38.1, 52.4)", "45.2% (95% CI: 38.1, 52.4)", 0.452, 0.381, 0.524, 0.95),
    ("a pooled rate of 26% with a 95% CI of 24–48%", "26% with a 95% CI of 24–48%", 0.26, 0.24, 0.48, 0.95),
    ("response rate 30% (90% CI 25–35%)", "30% (90% CI 25–35%)", 0.30, 0.25, 0.35, 0.9),
])
def test_proportion_spellings(text, quote, value, lower, upper, level):
    stat = one(text)
    assert (stat.kind, stat.quote, stat.percent or stat.decimals == 2) == ("proportion", quote, True)
    assert (stat.value, stat.lower, stat.upper, stat.level) == pytest.approx((value, lower, upper, level)) \
        if level else (stat.value, stat.lower, stat.upper) == pytest.approx((value, lower, upper))
    assert stat.interval == "ci"


@pytest.mark.parametrize("text, kind, quote, value, lower, upper, p", [
    ("HR 0.72, 95% CI 0.61 to 0.85, p < .001", "hazard_ratio", "HR 0.72, 95% CI 0.61 to 0.85, p < .001",
     0.72, 0.61, 0.85, ("<", 0.001)),
    ("The odds ratio 1.45 (1.12–1.88) was reported.", "odds_ratio", "odds ratio 1.45 (1.12–1.88)",
     1.45, 1.12, 1.88, None),
    ("RR = 0.80 [95% CI 0.70; 0.92]", "risk_ratio", "RR = 0.80 [95% CI 0.70; 0.92]", 0.80, 0.70, 0.92, None),
    ("MD −2.3 mmHg (−3.1 to −1.5)", "mean_difference", "MD −2.3 mmHg (−3.1 to −1.5)", -2.3, -3.1, -1.5,
     None),
    ("SMD −0.20 (−0.34 to −0.05), P = 0.03", "smd", "SMD −0.20 (−0.34 to −0.05), P = 0.03", -0.2, -0.34,
     -0.05, ("=", 0.03)),
    ("SMD -0.20 (-0.34--0.05), p=0.048", "smd", "SMD -0.20 (-0.34--0.05), p=0.048", -0.2, -0.34, -0.05,
     ("=", 0.048)),
    ("SMD –0.20 (–0.34 – –0.05)", "smd", "SMD –0.20 (–0.34 – –0.05)", -0.2, -0.34, -0.05, None),
    ("IRR 1.32 (1.04—1.67; p<0.0001)", "rate_ratio", "IRR 1.32 (1.04—1.67; p<0.0001)", 1.32, 1.04, 1.67,
     ("<", 0.0001)),
    ("the risk difference was −4.2% (−6.7% to −1.7%)", "risk_difference", "−4.2% (−6.7% to −1.7%)", -0.042,
     -0.067, -0.017, None),
    ("aHR 0.85 (95% CrI 0.74–0.97)", "hazard_ratio", "aHR 0.85 (95% CrI 0.74–0.97)", 0.85, 0.74, 0.97, None),
    ("lower with treatment (odds ratio [OR], 1.45; 95% CI, 1.12-1.88; P = .005)", "odds_ratio",
     "1.45; 95% CI, 1.12-1.88; P = .005", 1.45, 1.12, 1.88, ("=", 0.005)),
    ("HR: 0.72 (0.61, 0.85)", "hazard_ratio", "HR: 0.72 (0.61, 0.85)", 0.72, 0.61, 0.85, None),
    ("OS HR 0.72 (95 % CI 0.61-0.85)", "hazard_ratio", "HR 0.72 (95 % CI 0.61-0.85)", 0.72, 0.61, 0.85, None),
    ("Risk ratio (M-H, random, 95% CI) 0.80 [0.70, 0.92]", "risk_ratio", "0.80 [0.70, 0.92]", 0.8, 0.7, 0.92, None),
])
def test_effect_spellings(text, kind, quote, value, lower, upper, p):
    stat = one(text, kind)
    assert stat.quote == quote
    assert (stat.value, stat.lower, stat.upper) == pytest.approx((value, lower, upper))
    assert (stat.p_relation, stat.p_value) == (p if p else (None, None))


def test_interval_kinds_and_decimals():
    assert one("aHR 0.85 (95% CrI 0.74–0.97)").interval == "cri"
    stat = one("OR 1.450 (1.12–1.88)")
    assert (stat.decimals, stat.bound_decimals, stat.level, stat.interval) == (3, 2, None, "ci")
    assert one("median age 67 years (IQR 58–74)").interval == "iqr"
    assert one("median follow-up 14 months (range 2–31)").interval == "range"


@pytest.mark.parametrize("text, relation, value", [
    ("The difference was significant (p < .001).", "<", 0.001), ("P = 0.03", "=", 0.03),
    ("p=0.048", "=", 0.048), ("p<0.0001", "<", 0.0001), ("P-value 0.2", "=", 0.2), ("p ≤ 0.05", "<=", 0.05),
    ("P > 0.99", ">", 0.99),
])
def test_p_values_alone(text, relation, value):
    stat = one(text)
    assert (stat.kind, stat.p_relation, stat.p_value, stat.value) == ("p_value", relation, value, value)


def test_p_values_of_other_tests_stay_apart():
    stats = extract("OR 0.80 (0.70–0.92; P for heterogeneity = 0.2)")
    assert [(s.kind, s.p_value) for s in stats] == [("odds_ratio", None), ("p_value", 0.2)]
    stats = extract("I² = 40%, P for heterogeneity = 0.2")
    assert [(s.kind, s.p_value) for s in stats] == [("i2", 0.2)]
    stats = extract("HR 0.70 (0.55–0.89), p for interaction = 0.04")
    assert [(s.kind, s.p_value) for s in stats] == [("hazard_ratio", None), ("p_value", 0.04)]


def test_documented_examples():
    assert one("Studies required a minimum sample size of 20.").kind == "threshold"
    assert extract("Grade 3 infection occurred in 45 patients (12%).") == ()
    assert one("HR 0.91 (0.76–1.09) failed to reach significance", "hazard_ratio").claim == "not_significant"
    assert one("a pooled rate 25% (95% CI 20-30%), p = 3 × 10−5").p_value is None
    stat = one("26\u00a0% (95\u00a0% CI 24–48\u00a0%)")
    assert (stat.value, stat.lower, stat.upper, stat.level) == (0.26, 0.24, 0.48, 0.95)


def test_p_values_not_read():
    assert extract("p = 3 × 10−5 was reported") == ()
    assert extract("Group P, P1 and P2 were compared") == ()


@pytest.mark.parametrize("text, value, q, df, p", [
    ("I² = 78% (Q = 142.3, df = 31, p < 0.001)", 0.78, 142.3, 31, 0.001),
    ("I2=78%", 0.78, None, None, None), ("an I^2 of 78%", 0.78, None, None, None),
    ("Chi² = 142.3, df = 31 (P < 0.00001); I² = 78%", 0.78, 142.3, 31, 0.00001),
    ("heterogeneity was substantial (I² 64%; τ² = 0.21)", 0.64, None, None, None),
])
def test_i2_spellings(text, value, q, df, p):
    stat = one(text, "i2")
    assert (stat.value, stat.q, stat.df, stat.p_value) == (pytest.approx(value), q, df, p)
    assert stat.percent


def test_q_tau_and_prediction_intervals():
    q = one("Cochran's Q 45.2 (df = 12)", "q")
    assert (q.value, q.df, q.quote) == (45.2, 12, "Cochran's Q 45.2 (df = 12)")
    assert one("τ² = 0.21", "tau2").value == 0.21
    assert one("tau = 0.46", "tau").value == 0.46
    stats = extract("The pooled OR was 0.80 (0.70–0.92); the 95% prediction interval 0.41 to 1.62.")
    pi = [s for s in stats if s.interval == "pi"]
    assert len(pi) == 1 and (pi[0].kind, pi[0].lower, pi[0].upper, pi[0].value) == ("odds_ratio", 0.41, 1.62, None)
    assert [s.interval for s in extract("OR 0.80 (95% CI 0.70–0.92; 95% PI 0.41–1.62)")] == ["ci", "pi"]


@pytest.mark.parametrize("text, value", [
    ("32 studies", 32), ("thirty-two trials", 32), ("Thirty-two trials", 32), ("k = 12", 12), ("12 RCTs", 12),
    ("data from 18 cohorts", 18), ("14 randomised controlled trials", 14), ("5 phase II trials", 5),
])
def test_k(text, value):
    assert one(text, "k_studies").value == value


@pytest.mark.parametrize("text, value", [
    ("N = 2289", 2289), ("n=2,289", 2289), ("2,289 patients", 2289), ("2 289 participants", 2289),
    ("a total of 1,204 subjects", 1204), ("1,204 newly diagnosed adults", 1204),
])
def test_n(text, value):
    stat = one(text, "n_patients")
    assert (stat.value, stat.unit) == (value, "patients")


def test_sample_size_and_thresholds():
    assert one("the sample size n = 20 was", "sample_size").value == 20
    assert one("We included studies with at least 20 patients.", "threshold").value == 20
    assert one("Trials enrolling ≥20 participants were eligible.", "threshold").value == 20
    assert one("a minimum of 20 patients was required", "threshold").value == 20
    assert one("Studies of 20 or more patients were included.", "threshold").value == 20
    # "at least" about what happened, not about who was included, is no threshold
    assert [s.kind for s in extract("At least 20 patients died of infection.")] == ["n_patients"]


def test_fractions():
    stat = one("12/40 (30%)")
    assert (stat.kind, stat.value, stat.n, stat.decimals) == ("proportion", 0.30, 40, 0)
    stat = one("in 12 of 40 patients (30.0%)")
    assert (stat.value, stat.n, stat.decimals, stat.quote) == (0.30, 40, 1, "12 of 40 patients (30.0%)")
    assert one("30% (12/40)").n == 40


def test_words_between_a_percentage_and_its_named_interval():
    stat = one("Grade 3-4 neutropenia occurred in 23% of patients receiving lenalidomide (95% CI 17%–30%).")
    assert (stat.quote, stat.lower, stat.upper) == \
        ("23% of patients receiving lenalidomide (95% CI 17%–30%)", 0.17, 0.3)
    assert extract("45% in older adults (range 30–60%)") == ()  # only a named CI, never a spread
    assert [s.kind for s in extract("45% of the 20 studies (95% CI 38–52%)")] == ["k_studies"]


def test_quality_words_without_evidence_are_no_level():
    stats = extract("Image quality was high and study quality was low in 5 trials.")
    assert all(s.kind != "evidence_level" for s in stats)


def test_medians_means_and_follow_up():
    stat = one("median OS 8.0 months (95% CI 6.9–9.4)")
    assert (stat.kind, stat.unit, stat.label, stat.value, stat.lower) == ("median", "months", "median OS", 8.0, 6.9)
    stat = one("median age 67 years (IQR 58–74)")
    assert (stat.kind, stat.unit, stat.interval) == ("median", "years", "iqr")
    stat = one("after a median follow-up of 24.5 months")
    assert (stat.kind, stat.value, stat.unit, stat.quote) == ("follow_up", 24.5, "months", "24.5 months")
    assert one("follow-up: 8.0 mo").unit == "months"
    stat = one("after a median of 24 weeks of follow-up")
    assert (stat.kind, stat.unit, stat.quote) == ("follow_up", "weeks", "24 weeks of follow-up")
    stat = one("mean age 54.2 ± 11.3 years")
    assert (stat.kind, stat.value, stat.lower, stat.upper) == ("mean", 54.2, None, None)


@pytest.mark.parametrize("text, value, label", [
    ("evidence level 1", 1, "evidence level"), ("level of evidence: 2a", 2, "level of evidence"),
    ("Oxford level 1b", 1, "Oxford level"), ("Level I evidence", 1, "Level"),
    ("GRADE certainty: low", None, "GRADE certainty"), ("low-certainty evidence", None, "certainty evidence"),
    ("certainty of evidence for overall survival was low", None, "certainty of evidence"),
    ("quality of the evidence: high", None, "quality of the evidence"),
])
def test_evidence_levels(text, value, label):
    stat = one(text, "evidence_level")
    assert (stat.value, stat.label, stat.quote) == (value, label, text)


@pytest.mark.parametrize("text, label", [
    ("pooled single-arm cohorts", "single-arm cohort"), ("randomised controlled trials", "randomised controlled trial"),
    ("randomized controlled trials", "randomized controlled trial"), ("retrospective cohort studies",
                                                                    "retrospective cohort study"),
    ("observational studies", "observational study"), ("case series", "case series"), ("a phase II trial", "phase II"),
])
def test_designs(text, label):
    stat = one(text, "design")
    assert (stat.label, stat.value) == (label, None)


@pytest.mark.parametrize("text, claim", [
    ("significantly reduced relapse (HR 0.72, 0.61–0.85)", "significant"),
    ("no significant difference (HR 0.91, 0.76–1.09)", "not_significant"),
    ("survival did not differ (HR 0.91, 0.76–1.09)", "not_significant"),
    ("a non-significant trend (HR 0.91, 0.76–1.09)", "not_significant"),
    ("was not statistically significant (HR 0.91, 0.76–1.09)", "not_significant"),
    ("HR 0.91 (0.76–1.09), with no significant heterogeneity", None),
    ("HR 0.72 (0.61–0.85)", None),
])
def test_claims(text, claim):
    assert one(text, "hazard_ratio").claim == claim


def test_claims_stay_in_their_clause():
    stats = extract("PFS improved significantly (HR 0.64, 0.52–0.79), "
                    "whereas OS did not differ (HR 0.91, 0.76–1.09).")
    assert [s.claim for s in stats] == ["significant", "not_significant"]


def test_labels():
    assert one("The pooled overall response rate was 62% (55–68%).").label == "pooled overall response rate"
    assert one("median overall survival was 8.0 months (6.8–9.4)").label == "median overall survival"
    assert one("complete remission: 45% (38–52%)").label == "complete remission"


@pytest.mark.parametrize("text", [
    "Studies published in 2019 were screened.", "as shown previously [12]", "as shown previously [12, 15]",
    "response rates of 45% [12–15] were seen", "cytarabine 20 mg/m² (days 1–5)", "patients aged 18-65 years",
    "See Section 2.3.", "on 12 March 2020", "The 95% CI was computed with the Wald method.",
    "between 2010 and 2019 (n/a)", "Figure 2 (panel 3–4)", "Table 1 lists 3 outcomes.",
    "at least three studies were needed", "grade 3 events", "ages 18 (range 18–90)",
    "The mean (SD) age was 64.3 (9.8) years.", "The pooled estimate was 0.72 (95% CI 0.61–0.85).",
    "Total (95% CI) 2289 2301 100.0%", "The response rate ranged from 20% to 80% across studies.",
])
def test_not_read(text):
    assert extract(text) == ()


# -- properties ------------------------------------------------------------------------------------

def _fmt(x: float, decimals: int, minus: str) -> str:
    out = f"{x:.{decimals}f}"
    return out.replace("-", minus) if out.startswith("-") else out


SPELLINGS = {
    # name: (template, uses percent)
    "paren_ci": ("{v} (95% CI {lo} to {hi})", False),
    "bracket_semicolon": ("{v} [{lo}; {hi}]", False),
    "paren_dash": ("{v} ({lo}–{hi})", False),
    "comma_ci": ("{v}, 95% CI {lo} to {hi}", False),
    "colon_comma": ("{v} (95% CI: {lo}, {hi})", False),
    "percent_ci": ("{v}% (95% CI {lo}%–{hi}%)", True),
    "percent_with": ("{v}% with a 95% CI of {lo}–{hi}%", True),
}


@settings(max_examples=150, deadline=None)
@given(spelling=st.sampled_from(sorted(SPELLINGS)), keyword=st.sampled_from(["SMD", "mean difference", "MD"]),
       v=st.floats(-50, 50), half=st.floats(0.01, 20), skew=st.floats(0.5, 2), decimals=st.integers(0, 3),
       minus=st.sampled_from(["-", "−", "–"]), prefix=st.sampled_from(["", "Overall, ", "In 12 trials, the "]))
def test_property_differences_round_trip(spelling, keyword, v, half, skew, decimals, minus, prefix):
    template, percent = SPELLINGS[spelling]
    lo, hi = v - half, v + half * skew
    written = {k: _fmt(x, decimals, minus) for k, x in (("v", v), ("lo", lo), ("hi", hi))}
    if minus == "–" and spelling == "paren_dash":
        return  # "(–3.1––1.5)" is not a spelling anyone writes
    expression = template.format(**written)
    text = f"{prefix}{keyword} {expression}. Nothing else."
    stats = [s for s in extract(text) if s.family == "difference"]
    if spelling == "bracket_semicolon" and decimals == 0 and not any(w.startswith(minus) for w in written.values()):
        assert stats == [] or stats[0].lower is None  # "[2; 5]" is a citation
        return
    assert len(stats) == 1, (text, extract(text))
    stat = stats[0]
    scale = 100 if percent else 1
    assert stat.quote == f"{keyword} {expression}" == text[slice(*stat.span)]
    expected = [float(written[k].replace(minus, "-")) / scale for k in ("v", "lo", "hi")]
    assert [stat.value, stat.lower, stat.upper] == pytest.approx(expected)
    assert (stat.decimals, stat.bound_decimals, stat.percent) == (decimals, decimals, percent)


@settings(max_examples=150, deadline=None)
@given(spelling=st.sampled_from(sorted(SPELLINGS)), p=st.floats(0.001, 0.999), half=st.floats(0.001, 0.3),
       decimals=st.integers(0, 2), label=st.sampled_from(["response rate", "pooled proportion", "CR rate"]))
def test_property_proportions_round_trip(spelling, p, half, decimals, label):
    template, percent = SPELLINGS[spelling]
    scale = 100 if percent else 1
    lo, hi = max(p - half, 0.0), min(p + half, 1.0)
    written = {k: f"{x * scale:.{decimals + (0 if percent else 2)}f}" for k, x in (("v", p), ("lo", lo), ("hi", hi))}
    expression = template.format(**written)
    text = f"The {label} was {expression} in 12 studies."
    stats = [s for s in extract(text) if s.kind == "proportion"]
    assert len(stats) == 1, (text, extract(text))
    stat = stats[0]
    assert stat.quote == expression == text[slice(*stat.span)]
    assert [stat.value, stat.lower, stat.upper] == pytest.approx([float(written[k]) / scale for k in ("v", "lo", "hi")])


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_property_never_raises(text):
    for stat in extract(text):
        assert text[slice(*stat.span)] == stat.quote and stat.kind in STAT_KINDS


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789.,;:-–−()[]%± pPIQNkn=<>²^CIto ", max_size=200))
def test_property_never_raises_on_number_soup(text):
    for stat in extract(text):
        assert text[slice(*stat.span)] == stat.quote


def test_unnamed_interval_after_a_comma_inside_brackets():
    stat = one("sensitivity analyses gave similar results (OR 0.75, 0.60–0.94).")
    assert (stat.quote, stat.lower, stat.upper, stat.interval, stat.unit) == \
        ("OR 0.75, 0.60–0.94", 0.6, 0.94, "ci", None)
    assert one("(OR 1.2, 3 to 4 weeks)").lower is None


def test_subset_counts_are_not_k():
    assert [s.kind for s in extract("Excluding 3 high-risk-of-bias studies changed nothing.")] == []


@pytest.mark.parametrize("text", ["HR 0.72, 95% CI [0.61, 0.85]", "HR 0.72 (95% CI: [0.61; 0.85])"])
def test_bracket_after_the_interval_name(text):
    stat = one(text)
    assert (stat.quote, stat.lower, stat.upper, stat.level) == (text, 0.61, 0.85, 0.95)


def test_second_arm_has_no_label():
    stats = extract("ORR was 62% (95% CI 55–68%) with A versus 45% (95% CI 38–52%) with B")
    assert [(s.value, s.label) for s in stats] == [(0.62, "ORR"), (0.45, None)]


@settings(max_examples=150, deadline=None)
@given(spelling=st.sampled_from(sorted(s for s in SPELLINGS if not SPELLINGS[s][1])),
       keyword=st.sampled_from(["HR", "OR", "RR", "IRR", "aHR", "hazard ratio", "odds ratio", "risk ratio"]),
       log_v=st.floats(-2, 2), half=st.floats(0.05, 1), decimals=st.integers(1, 3),
       p=st.one_of(st.none(), st.tuples(st.sampled_from(["<", "=", ">"]), st.sampled_from(["0.001", ".05", "0.3"]))),
       p_sep=st.sampled_from([", ", "; "]))
def test_property_ratios_round_trip(spelling, keyword, log_v, half, decimals, p, p_sep):
    v, lo, hi = (math.exp(x) for x in (log_v, log_v - half, log_v + half))
    written = {k: f"{x:.{decimals}f}" for k, x in (("v", v), ("lo", lo), ("hi", hi))}
    if float(written["v"]) <= 0 or (spelling == "bracket_semicolon" and float(written["lo"]).is_integer()
                                    and float(written["hi"]).is_integer() and decimals == 0):
        return
    expression = SPELLINGS[spelling][0].format(**written)
    p_text = f"{p_sep}p {p[0]} {p[1]}" if p else ""
    text = f"Overall, the {keyword} {expression}{p_text}. Nothing else."
    stats = [s for s in extract(text) if s.family == "ratio"]
    assert len(stats) == 1, (text, extract(text))
    stat = stats[0]
    assert stat.quote == f"{keyword} {expression}{p_text}" == text[slice(*stat.span)]
    assert [stat.value, stat.lower, stat.upper] == pytest.approx([float(written[k]) for k in ("v", "lo", "hi")])
    assert (stat.p_relation, stat.p_value) == ((p[0], float(p[1])) if p else (None, None))


@settings(max_examples=100, deadline=None)
@given(n=st.integers(2, 999_999), sep=st.sampled_from([",", " ", "\u2009", ""]),
       noun=st.sampled_from(["patients", "participants", "subjects", "adults"]))
def test_property_counts_round_trip(n, sep, noun):
    written = f"{n:,}".replace(",", sep)
    text = f"We pooled {written} {noun} from the trials."
    stat = one(text, "n_patients")
    assert (stat.value, stat.quote) == (n, f"{written} {noun}")
