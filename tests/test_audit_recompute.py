"""``metapool audit --data``: reported pooled estimates recomputed from the study table.

The statistics are built by hand (what the extractor returns), so that these tests check the
matching of labels to outcomes, the rounding rule and the wording, not the extraction. The reference
numbers are metafor's (R 4, metafor 4), from the commands beside them; the estimators themselves are
covered by tests/reference.
"""

from __future__ import annotations

import shutil

import pytest

from metapool.audit.model import Statistic
from metapool.audit.recompute import choices, match_outcome, recompute, reproduces
from metapool.datasets import DATASETS
from metapool.exceptions import MetapoolError
from metapool.spec import load_spec

DEMO = DATASETS["aml_hma_ven_synthetic"].analysis_path
SENTENCE = (0, 200)

# d <- read.csv("aml_hma_ven_synthetic.csv")
# predict(rma(measure="PLO", xi=orr_events, ni=n, data=d, method="REML"), transf=transf.ilogit)
ORR_PLO_REML = (0.5001157907, 0.4476845008, 0.5525445343)
# predict(rma(measure="PR", xi=cr_events, ni=n, data=d, method="DL", test="knha"))
CR_PR_DL_KNHA = (0.2626434835, 0.2211116293, 0.3041753378)
# predict(rma(measure="PFT", xi=cr_cri_events, ni=n, data=d, method="PM"), transf=transf.ipft.hm, targs=list(ni=d$n))
CRCRI_PFT_PM = (0.4312779977, 0.3803008807, 0.4829704589)
# predict(rma(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg), transf=exp)
BCG_RR_REML = (0.4894209368, 0.3440742934, 0.6961660838)


def stat(label, numbers, decimals=1, percent=True, kind="proportion", level=0.95, sentence=SENTENCE):
    """A reported estimate with its CI, written with ``decimals`` (as a percentage by default)."""
    scale = 100 if percent else 1
    value, lower, upper = (round(x * scale, decimals) / scale for x in numbers)
    return Statistic(kind, (10, 40), "quoted", value=value, lower=lower, upper=upper, interval="ci", level=level,
                     decimals=decimals, bound_decimals=decimals, percent=percent, label=label, sentence=sentence)


def test_correct_reports_pass_and_name_the_choice_that_gives_them():
    findings = recompute([stat("The pooled overall response rate", ORR_PLO_REML),
                          stat("CR rate", CR_PR_DL_KNHA),
                          stat("The CR/CRi rate", CRCRI_PFT_PM, decimals=2)], DEMO)
    assert [f.status for f in findings] == ["pass", "pass", "pass"]
    assert all(f.check == "recompute" and f.span == (10, 40) for f in findings)
    assert "PLO + REML τ², z-test" in findings[0].reason and "'Overall response (ORR)'" in findings[0].reason
    assert "PR + DL τ², Knapp–Hartung" in findings[1].reason and "'Complete remission (CR)'" in findings[1].reason
    assert "PFT + PM τ², z-test" in findings[2].reason and "PLO" not in findings[2].reason  # 2 decimals: PFT only
    assert "(32 studies)" in findings[0].reason


def test_wrong_reports_are_flagged_with_the_closest_choice():
    wrong_ci = stat("Complete remission", (0.26, 0.24, 0.48), decimals=0)  # the "26% (95% CI 24-48%)"
    wrong_estimate = stat("ORR", (0.55, 0.448, 0.553), decimals=1)
    findings = recompute([wrong_ci, wrong_estimate], DEMO)
    assert [f.status for f in findings] == ["flag", "flag"]
    assert "No usual choice" in findings[0].reason and "GLMM" in findings[0].reason
    assert "PR, PLO, PAS, PFT" in findings[0].reason
    closest = findings[1].consistent_value
    assert closest.endswith(")") and "95% CI" in closest and "%" in closest


def test_rounding_rule_half_a_unit_of_the_last_written_digit():
    exact = stat("ORR", ORR_PLO_REML, decimals=1)  # 50.0% (44.8% to 55.3%)
    assert reproduces(exact, ORR_PLO_REML) <= 1
    off = Statistic(**{**exact.__dict__, "upper": 0.554})  # 55.4%: 0.09 points away, more than 0.05
    assert reproduces(off, ORR_PLO_REML) > 1
    coarse = Statistic(**{**off.__dict__, "decimals": 0, "bound_decimals": 0, "value": 0.50, "lower": 0.45,
                          "upper": 0.55})  # 50% (45% to 55%) holds 50.01% (44.77% to 55.25%)
    assert reproduces(coarse, ORR_PLO_REML) <= 1
    fraction = stat("ORR", ORR_PLO_REML, decimals=2, percent=False)  # 0.50 (0.45 to 0.55)
    assert recompute([fraction], DEMO)[0].status == "pass"


@pytest.mark.parametrize("label, expected", [
    ("ORR", "Overall response (ORR)"),
    ("the overall response rate", "Overall response (ORR)"),
    ("CR rate", "Complete remission (CR)"),
    ("complete remission", "Complete remission (CR)"),
    ("CR/CRi", "CR/CRi"),
    ("MRD negativity", "MRD negativity (among tested)"),
    ("grade ≥3 febrile neutropenia", "Grade >=3 febrile neutropenia"),
    ("1-year overall survival", "1-year overall survival"),
    ("CR or CRi", None),  # could be either
    ("overall survival", None),  # the outcome is 1-year overall survival
    ("febrile neutropenia", None),  # the outcome is of grade 3 or more
    ("response", None),
    (None, None),
])
def test_labels_are_matched_to_outcomes_conservatively(label, expected):
    outcomes = load_spec(DEMO).outcomes
    outcome, measures, reason = match_outcome(stat(label, ORR_PLO_REML), outcomes)
    assert (outcome.name if outcome else None) == expected
    assert (measures == ("PR", "PLO", "PAS", "PFT")) == (expected is not None)
    assert (reason is None) == (expected is not None)


def test_what_cannot_be_matched_is_not_checked_never_flagged():
    k_other = Statistic("k_studies", (50, 60), "12 studies", value=12, sentence=SENTENCE)
    findings = recompute([
        stat("overall survival", (0.2, 0.1, 0.3)),
        stat("CR or CRi", (0.2, 0.1, 0.3)),
        stat("In the azacitidine subgroup, the ORR", (0.2, 0.1, 0.3)),
        stat("ORR excluding high-risk studies", (0.2, 0.1, 0.3)),
        stat("In the largest study, the ORR", (0.2, 0.1, 0.3)),
        stat("ORR in Brennan 2019", (0.2, 0.1, 0.3)),
        stat(None, (0.2, 0.1, 0.3)),
        stat("hazard of death", (0.7, 0.6, 0.8), percent=False, kind="hazard_ratio"),
        stat("ORR", (0.2, 0.1, 0.3)), k_other,
    ], DEMO)
    assert [f.status for f in findings] == ["cannot_check"] * 9
    reasons = [f.reason for f in findings]
    assert "names none of the analysis file's outcomes" in reasons[0]
    assert "could be any of the outcomes 'CR/CRi', 'Complete remission (CR)'" in reasons[1]
    assert "part of the studies" in reasons[2] and "'azacitidine'" in reasons[2]
    assert "'excluding'" in reasons[3] and "'study'" in reasons[4] and "'2019'" in reasons[5]
    assert "does not say which outcome" in reasons[6]
    assert "no outcome whose data give hazard ratios" in reasons[7]
    assert "pools 12 studies" in reasons[8] and "has 32" in reasons[8]


def test_only_estimates_with_a_ci_are_recomputed():
    no_ci = Statistic("proportion", (0, 3), "26%", value=0.26, decimals=0, percent=True, label="ORR")
    iqr = Statistic("proportion", (0, 3), "26%", value=0.26, lower=0.2, upper=0.3, interval="iqr", label="ORR")
    i2 = Statistic("i2", (0, 3), "I² = 40%", value=0.4, percent=True, label="ORR")
    assert recompute([no_ci, iqr, i2], "does-not-exist.toml") == ()  # nothing to recompute: nothing is read


def test_two_groups_ratios_either_way_round_and_mantel_haenszel(tmp_path):
    shutil.copy(DATASETS["bcg"].path, tmp_path / "bcg.csv")
    (tmp_path / "analysis.toml").write_text(
        'title = "BCG"\ndata = "bcg.csv"\nstudy = "author"\n[[outcome]]\nname = "Tuberculosis"\nkind = "binary"\n'
        'measure = "RR"\nevents1 = "tpos"\nnonevents1 = "tneg"\nevents2 = "cpos"\nnonevents2 = "cneg"\n',
        encoding="utf-8")
    rr = stat("risk of tuberculosis", BCG_RR_REML, decimals=2, percent=False, kind="risk_ratio")
    reversed_rr = stat("risk of tuberculosis", tuple(1 / x for x in (BCG_RR_REML[0], *BCG_RR_REML[:0:-1])),
                       decimals=2, percent=False, kind="risk_ratio")
    # rma.mh(measure="OR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg): 0.623 (0.575 to 0.675)
    mh_or = stat("tuberculosis", (0.6228740246, 0.5747703225, 0.6750036237), decimals=3, percent=False,
                 kind="odds_ratio")
    findings = recompute([rr, reversed_rr, mh_or], tmp_path / "analysis.toml")
    assert [f.status for f in findings] == ["pass"] * 3
    assert "RR + REML τ², z-test" in findings[0].reason
    assert "(groups reversed)" in findings[1].reason
    assert "OR + MH" in findings[2].reason


def test_choices_cover_every_estimator_both_tests_and_the_glmm():
    from metapool.models.tau2 import ESTIMATORS

    proportion = choices(("PLO",))
    assert {c.method for c in proportion} == set(ESTIMATORS) | {"GLMM"}
    assert {(c.method, c.test) for c in proportion if c.method == "CE"} == {("CE", "z")}
    assert len(proportion) == 2 * (len(ESTIMATORS) - 1) + 1 + 1
    assert {c.method for c in choices(("OR",))} >= {"MH", "PETO", "GLMM"}


def test_unreadable_analysis_file_is_an_error(tmp_path):
    with pytest.raises(MetapoolError):
        recompute([stat("ORR", ORR_PLO_REML)], tmp_path / "missing.toml")


def test_median_survival_with_its_ci_in_the_outcomes_unit():
    # d <- d[!is.na(d$os_median_months), ]; se <- (upper - lower) / (2 * qnorm(.975)) (lower half-width when
    # the upper limit is missing); rma(yi=d$os_median_months, sei=se, method="REML"): 7.661 (6.735 to 8.587)
    reml = (7.661172697, 6.735001120, 8.587344275)
    median = Statistic("median", (0, 30), "7.7 months (95% CI 6.7-8.6)", value=7.7, lower=6.7, upper=8.6,
                       interval="ci", level=0.95, decimals=1, bound_decimals=1, unit="months",
                       label="the pooled median overall survival")
    weeks = Statistic(**{**median.__dict__, "unit": "weeks"})
    wrong = Statistic(**{**median.__dict__, "value": 8.0})  # the "follow-up 8.0 mo"
    findings = recompute([median, weeks, wrong], DEMO)
    assert [f.status for f in findings] == ["pass", "cannot_check", "flag"]
    assert "median + REML τ², z-test" in findings[0].reason and "(28 studies)" in findings[0].reason
    assert reproduces(median, reml) <= 1
    assert "medians in weeks" in findings[1].reason
    assert findings[2].consistent_value.split(": ")[1].startswith("7.") and " months (95% CI" in findings[2].consistent_value
