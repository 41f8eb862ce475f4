"""Issue 12, GRADE summary of findings: each rule of metapool.evidence.grade with data that exercise it.

Unit tests pin each domain's thresholds and the OIS and absolute-effect formulas to hand-computed
values; the run tests go through ``metapool run`` and assert what the card, the report and
results.json say (RCTs without a design, mixed designs, Mantel-Haenszel, missing risk of bias,
k < 10 and k >= 10).
"""

import json
import math
from types import SimpleNamespace

import pytest

from metapool.cli.main import main
from metapool.evidence.absolute import absolute_effect, corresponding_risk, median_control_risk
from metapool.evidence.grade import (
    Domain, certainty, imprecision, inconsistency, indirectness, ois_binary, ois_continuous, ois_proportion,
    publication_bias, risk_of_bias,
)
from metapool.evidence.level import Start
from metapool.exceptions import DataValidationError
from metapool.spec import parse_spec

# --- risk of bias: weighted by the model's weights ------------------------------------------------------


def test_risk_of_bias_without_a_column_is_not_assessed_never_not_serious():
    d = risk_of_bias(None, [50, 50])
    assert d.judgement == "not assessed" and d.downgrade == 0
    assert risk_of_bias(["", None], [50, 50]).judgement == "not assessed"


def test_risk_of_bias_weight_shares():
    # high risk carries 60% of the weight: very serious, though only 1 of 3 studies is at high risk
    d = risk_of_bias(["high", "low", "low"], [60, 20, 20])
    assert d.judgement == "very serious" and d.numbers["share"]["high"] == pytest.approx(0.6)
    # the same labels with the high-risk study light: not serious (a label count would say 1 of 3)
    assert risk_of_bias(["high", "low", "low"], [10, 45, 45]).judgement == "not serious"
    # some concerns count: 20% high + 35% some concerns = 55% not at low risk
    d = risk_of_bias(["high", "some concerns", "low"], [20, 35, 45])
    assert d.judgement == "serious" and d.rule == "not_low_share"
    # ROBINS-I / RoB 1 spellings and missing judgements (counted with some concerns)
    assert risk_of_bias(["moderate", "Unclear", "low"], [30, 30, 40]).judgement == "serious"
    assert risk_of_bias(["", "", "low"], [30, 30, 40]).numbers["share"]["no information"] == pytest.approx(0.6)


def test_risk_of_bias_unrecognised_value_is_not_assessed_with_the_problem():
    d = risk_of_bias(["low", "probably fine"], [50, 50])
    assert d.judgement == "not assessed" and "probably fine" in d.numbers["problem"]


def test_risk_of_bias_without_weights_uses_equal_weights_and_says_so():
    d = risk_of_bias(["high", "low"], None)
    assert d.judgement == "very serious" and d.numbers["weights"].startswith("equal")


# --- inconsistency ------------------------------------------------------------------------------------

YI, VI = [0.1, 0.2, 0.15], [0.01, 0.01, 0.01]  # overlapping CIs
FAR = [-1.0, 0.0, 1.0]  # disjoint CIs (half-width 0.196)


def test_inconsistency_rules():
    assert inconsistency(30.0, YI, VI, 0.95, (0.8, 1.3), (1.0,)).judgement == "not serious"
    d = inconsistency(60.0, YI, VI, 0.95, (0.8, 1.3), (1.0,))
    assert (d.judgement, d.rule) == ("serious", "pi_crosses")
    d = inconsistency(60.0, YI, VI, 0.95, (1.1, 1.3), (1.0,))
    assert (d.judgement, d.rule) == ("not serious", "i2_without_consequence")
    assert inconsistency(60.0, FAR, VI, 0.95, (1.1, 1.3), (1.0,)).rule == "cis_disjoint"
    # both signals but I² below 75%: serious only; at 80%: very serious
    assert inconsistency(70.0, FAR, VI, 0.95, (0.5, 1.3), (1.0,)).judgement == "serious"
    assert inconsistency(80.0, FAR, VI, 0.95, (0.5, 1.3), (1.0,)).judgement == "very serious"
    # no prediction interval (common-effect MH): at most serious
    assert inconsistency(90.0, FAR, VI, 0.95, (math.nan, math.nan), (1.0,)).judgement == "serious"
    assert inconsistency(90.0, [0.1], [0.01], 0.95, None, ()).judgement == "not assessed"


# --- imprecision and the optimal information size ---------------------------------------------------


def test_ois_hand_computed():
    z2 = (1.959963984540054 + 0.8416212335729143) ** 2  # 7.848879
    assert ois_binary(0.2) == 2 * math.ceil(z2 * (0.2 * 0.8 + 0.15 * 0.85) / 0.05**2) == 1806
    assert ois_continuous() == 2 * math.ceil(2 * z2 / 0.2**2) == 786
    assert ois_proportion(0.5) == math.ceil(1.959963984540054**2 * 0.25 / 0.1**2) == 97


@pytest.mark.parametrize("ci, n, expected, rule", [
    ((0.5, 0.9), 2000, "serious", "ci_includes_threshold"),  # excludes 1 but includes 0.75
    ((0.5, 0.7), 2000, "not serious", "precise"),
    ((0.5, 0.7), 1000, "serious", "ois_not_met"),
    ((0.8, 1.1), 2000, "serious", "ci_includes_null"),
    ((0.8, 1.1), 1000, "very serious", "null_and_ois"),
    ((0.7, 1.3), 5000, "very serious", "benefit_and_harm"),
])
def test_imprecision_two_group_ratio(ci, n, expected, rule):
    d = imprecision("two-group", ci, n, ratio=True, null=1.0, ois=1806)
    assert (d.judgement, d.rule) == (expected, rule)


def test_imprecision_with_a_mid_and_differences():
    # MID 1.1 for a ratio: thresholds 1/1.1 and 1.1
    d = imprecision("two-group", (0.85, 0.95), 5000, ratio=True, null=1.0, mid=1.1, ois=100)
    assert d.judgement == "serious" and d.numbers["thresholds"] == pytest.approx([1 / 1.1, 1.1])
    # a difference without MID: only the null and the OIS
    assert imprecision("two-group", (-0.4, -0.1), 900, ois=786).judgement == "not serious"
    assert imprecision("two-group", (-0.4, 0.1), 900, ois=786).judgement == "serious"


def test_imprecision_single_group():
    assert imprecision("single-group", (0.45, 0.55), 500, proportion=True, ois=97).judgement == "not serious"
    assert imprecision("single-group", (0.35, 0.6), 500, proportion=True, ois=97).rule == "ci_wide"
    assert imprecision("single-group", (0.1, 0.55), 500, proportion=True, ois=97).judgement == "very serious"
    d = imprecision("single-group", (0.45, 0.55), 500, proportion=True, threshold=0.5, ois=97)
    assert (d.judgement, d.rule) == ("serious", "ci_includes_threshold")
    assert imprecision("single-group", (6.0, 9.0), 500).judgement == "not assessed"  # a median, no threshold
    assert imprecision("single-group", (6.0, 9.0), 500, threshold=8.0).judgement == "serious"


# --- publication bias ---------------------------------------------------------------------------------

def _bias(**results):
    return SimpleNamespace(results=results, undefined={})


def test_publication_bias_only_from_ten_studies_and_from_tests_that_ran():
    egger = SimpleNamespace(pvalue=0.04)
    assert publication_bias(9, _bias(egger=egger)).rule == "k_below_10"
    assert publication_bias(12, None, skipped="needs ...").rule == "no_test"
    assert publication_bias(12, _bias(egger=egger), requested=False).rule == "not_requested"
    d = publication_bias(12, _bias(egger=egger, begg=SimpleNamespace(pvalue=0.5)))
    assert d.judgement == "serious" and d.numbers["suspected_by"] == ["egger"]
    assert publication_bias(12, _bias(lfk=SimpleNamespace(index=-2.4))).judgement == "serious"
    d = publication_bias(12, _bias(egger=SimpleNamespace(pvalue=0.4), trimfill=SimpleNamespace(k0=2)))
    assert d.judgement == "not serious" and d.numbers["trimfill_k0"] == 2


# --- the rating ---------------------------------------------------------------------------------------

def test_certainty_counts_downgrades_and_never_counts_not_assessed():
    serious, very = Domain("imprecision", "serious", "x"), Domain("inconsistency", "very serious", "x")
    gap = Domain("risk of bias", "not assessed", "no_column")
    assert certainty(Start("high", ""), (serious, gap)) == "moderate"
    assert certainty(Start("high", ""), (serious, very)) == "very low"
    assert certainty(Start("low", ""), (very,)) == "very low"
    assert certainty(Start(None, "not assessed"), (serious,)) is None
    assert indirectness(None).judgement == "not assessed"
    assert indirectness("serious", "adults only").downgrade == 1


# --- absolute effects ---------------------------------------------------------------------------------

def test_absolute_effects_hand_computed():
    assert corresponding_risk("OR", 0.2, 0.5) == pytest.approx(0.1 / 0.9)  # 111 per 1,000
    assert corresponding_risk("PETO", 0.2, 0.5) == pytest.approx(0.1 / 0.9)
    assert corresponding_risk("RR", 0.2, 0.5) == pytest.approx(0.1)
    assert corresponding_risk("RD", 0.2, -0.05) == pytest.approx(0.15)
    assert median_control_risk([1, 2, 3, 5], [10, 10, 10, 0]) == (pytest.approx(0.2), 3)
    a = absolute_effect("OR", (0.5, 0.25, 1.0), 0.95, control_events=[1, 2, 3], control_totals=[10, 10, 10])
    p = a.per_1000()
    assert p["control"] == pytest.approx(200) and p["intervention"] == pytest.approx(1000 / 9)
    assert p["intervention_lower"] == pytest.approx(1000 * 0.05 / 0.85)  # OR 0.25: 0.05 / (0.8 + 0.05)
    assert p["difference"] == pytest.approx(1000 / 9 - 200)
    assert p["difference_upper"] == pytest.approx(0.0)
    assert absolute_effect("OR", (0.5, 0.25, 1.0), 0.95, control_risk=0.1).control_source == "given"
    assert absolute_effect("MD", (0.5, 0.25, 1.0), 0.95, control_risk=0.1) is None
    # a risk difference is applied directly: the difference is the RD even where ACR + RD is cut at 0
    rd = absolute_effect("RD", (-0.025, -0.046, -0.004), 0.95, control_risk=0.016)
    assert rd.risk == 0.0 and (rd.difference, rd.difference_lower) == (-0.025, -0.046)


# --- through metapool run -----------------------------------------------------------------------------

def trials(k: int, designs=None, rob=None) -> str:
    """k two-arm trials with a benefit (treated 10-14% vs control 20-25%)."""
    lines = ["study,n,e1,n1,e2,n2,design,rob"]
    for i in range(k):
        n1 = n2 = 60 + 10 * (i % 5)
        e1, e2 = round(n1 * (0.10 + 0.01 * (i % 5))), round(n2 * (0.20 + 0.0125 * (i % 4)))
        lines.append(f"T{i + 1},{n1 + n2},{e1},{n1},{e2},{n2},{(designs or ['RCT'] * k)[i]},"
                     f"{(rob or [''] * k)[i]}")
    return "\n".join(lines) + "\n"


def spec(extra_top: str = "", extra_outcome: str = "", method: str = "REML") -> str:
    return (f'title = "Trials"\ndata = "studies.csv"\nstudy = "study"\nn = "n"\ndesign = "design"\n{extra_top}\n'
            '[[outcome]]\nname = "Mortality"\nkind = "binary"\nevents1 = "e1"\ntotal1 = "n1"\nevents2 = "e2"\n'
            f'total2 = "n2"\nmethod = "{method}"\n{extra_outcome}\n')


def run(tmp_path, data: str, text: str):
    (tmp_path / "studies.csv").write_text(data, encoding="utf-8")
    (tmp_path / "analysis.toml").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "analysis.toml"), "-o", str(out), "--force"]) == 0
    read = lambda name: (out / name).read_text(encoding="utf-8")  # noqa: E731
    return read("card.md"), read("report.html"), json.loads(read("results.json"))


def _domain(results, name, outcome=0):
    return next(d for d in results["outcomes"][outcome]["grade"]["domains"] if d["domain"] == name)


def test_missing_risk_of_bias_is_shown_not_assessed(tmp_path):
    md, report, results = run(tmp_path, trials(5), spec())
    assert _domain(results, "risk of bias")["judgement"] == "not assessed"
    assert "Risk of bias not assessed: the analysis file names no risk_of_bias column." in report
    assert "not assessed: risk of bias, indirectness, publication bias" in md
    assert "Publication bias not assessed: fewer than 10 studies (k = 5)" in report


def test_rcts_with_risk_of_bias_and_k_at_least_10_are_fully_assessed(tmp_path):
    rob = ["high"] * 3 + ["low"] * 9
    md, report, results = run(tmp_path, trials(12, rob=rob), spec('risk_of_bias = "rob"\nintervention = "Drug A"\n'
                                                                  'comparator = "placebo"'))
    grade = results["outcomes"][0]["grade"]
    assert grade["start"] == "high"
    assert _domain(results, "risk of bias")["judgement"] == "not serious"
    assert _domain(results, "publication bias")["rule"] in ("no_asymmetry", "asymmetry")
    assert set(_domain(results, "publication bias")["numbers"]["p_values"]) >= {"egger", "begg"}
    statement = results["card"]["statements"][0]
    assert statement.startswith("Drug A") and "compared with placebo (odds ratio" in statement
    assert "fewer per 1,000" in statement
    sof = results["card"]["summary_of_findings"][0]
    assert sof["assumed_control_risk"].endswith("(median of 12 control groups)")
    acr = grade["absolute"]["control_risk"]
    assert f"{round(1000 * acr)} per 1,000" in sof["assumed_control_risk"]
    assert "Risk with placebo" in report and "Risk with Drug A" in report


def test_mantel_haenszel_outcome_gets_absolute_effects_and_its_bias_tests(tmp_path):
    md, report, results = run(tmp_path, trials(12), spec(method="MH"))
    grade = results["outcomes"][0]["grade"]
    assert grade["absolute"]["measure"] == "OR" and grade["start"] == "high"
    pub = _domain(results, "publication bias")
    assert pub["judgement"] != "not assessed" and "egger" in pub["numbers"]["p_values"]
    ran = results["outcomes"][0].get("bias", {})
    ran_tests = {c for c, v in ran.items() if isinstance(v, dict) and "undefined" not in v}
    assert set(pub["numbers"].get("p_values", {})) <= ran_tests
    assert "odds ratio (Mantel–Haenszel)" in results["card"]["statements"][0]
    # no prediction interval for the common-effect MH fit: inconsistency says so
    assert _domain(results, "inconsistency")["numbers"]["prediction_interval"] is None


def test_mixed_designs_start_low_and_statement_has_low_certainty_verbs(tmp_path):
    designs = ["RCT", "RCT", "prospective cohort", "RCT", "retrospective cohort"]
    md, _, results = run(tmp_path, trials(5, designs=designs), spec())
    grade = results["outcomes"][0]["grade"]
    assert grade["start"] == "low"
    assert grade["certainty"] in ("low", "very low")
    statement = results["card"]["statements"][0]
    assert ("may reduce" in statement or "may result in" in statement
            or statement.startswith("The evidence is very uncertain"))


def test_given_control_risk_mid_and_indirectness_are_used(tmp_path):
    extra = ('control_risk = 0.3\nmid = 1.5\nindirectness = "serious"\n'
             'indirectness_reason = "older patients than the question\'s"')
    md, report, results = run(tmp_path, trials(5), spec(extra_outcome=extra))
    grade = results["outcomes"][0]["grade"]
    assert grade["absolute"]["control_risk"] == 0.3 and grade["absolute"]["control_source"] == "given"
    assert _domain(results, "indirectness")["judgement"] == "serious"
    assert "Indirectness serious (declared by the review team): older patients than the question&#39;s." in report
    imp = _domain(results, "imprecision")["numbers"]
    assert imp["thresholds"] == pytest.approx([1 / 1.5, 1.5]) and imp["thresholds_from"] == "mid"
    assert "300 per 1,000 (given in the analysis file)" in report


@pytest.mark.parametrize("extra, message", [
    ("mid = 0.8", "key 'mid': 0.8 is not a ratio above 1"),
    ("control_risk = 1.5", "key 'control_risk': 1.5 is not a risk between 0 and 1"),
    ('indirectness = "some"', "key 'indirectness': 'some' is not one of not serious, serious, very serious"),
    ('threshold = "high"', "key 'threshold': 'high' is not a number"),
])
def test_grade_keys_are_validated(tmp_path, extra, message):
    with pytest.raises(DataValidationError, match=message):
        parse_spec(spec(extra_outcome=extra), "a.toml", tmp_path)


def test_intervention_and_comparator_are_text(tmp_path):
    with pytest.raises(DataValidationError, match="key 'intervention': must be a text"):
        parse_spec(spec("intervention = 3"), "a.toml", tmp_path)


def test_single_arm_statement_names_the_intervention_and_share(tmp_path):
    data = "study,n,events,design\n" + "".join(f"S{i},{n},{e},single-arm\n" for i, (n, e) in enumerate(
        [(100, 50), (120, 61), (80, 39), (150, 74), (90, 46)]))
    text = ('title = "Single arm"\ndata = "studies.csv"\nstudy = "study"\nn = "n"\ndesign = "design"\n'
            'intervention = "HMA + venetoclax"\n[[outcome]]\nname = "Overall response"\nkind = "proportion"\n'
            'events = "events"\ntotal = "n"\n')
    md, _, results = run(tmp_path, data, text)
    statement = results["card"]["statements"][0]
    assert statement.startswith("HMA + venetoclax may achieve overall response in about half of patients (50%, 95% CI")
    assert "low certainty: single-arm studies)" in statement


def test_zero_control_risk_has_no_information_size_and_does_not_stop_the_run(tmp_path):
    """A rare event with no control-group events: the OIS of a relative reduction of 0 is undefined (it divided by 0)."""
    data = "study,n,e1,n1,e2,n2,design,rob\nA,100,1,50,0,50,RCT,\nB,120,2,60,0,60,RCT,\nC,80,0,40,1,40,RCT,\n"
    _, _, results = run(tmp_path, data, spec(extra_outcome='measure = "RR"'))
    imprecision = _domain(results, "imprecision")
    assert "ois" not in imprecision["numbers"] or imprecision["numbers"]["ois"] is None
    assert results["outcomes"][0]["grade"]["absolute"]["control_risk"] == 0


def test_an_outcome_without_an_estimate_gets_no_certainty(tmp_path):
    """A median of medians has no CI: nothing is rated (the card said 'not estimable' beside 'low')."""
    data = "study,n,med,design\nA,40,7.1,cohort\nB,55,8.0,cohort\nC,61,6.5,cohort\n"
    text = ('title = "Medians"\ndata = "studies.csv"\nstudy = "study"\nn = "n"\ndesign = "design"\n'
            '[[outcome]]\nname = "Median OS"\nkind = "median"\nmedian = "med"\nn = "n"\n')
    card, _, results = run(tmp_path, data, text)
    assert results["outcomes"][0].get("grade") is None
    assert "low certainty" not in card
