"""The audit's consistency checks (issue 15, "What it checks"), on hand-built statistics.

Each check: a pass, a flag, a "cannot check" and the rounding edges; property tests (an interval
computed symmetric on the logit or log scale and rounded never flags, one shifted well beyond
rounding always does; metapool's own pooled proportions, rounded, never flag); and the published
rules with the numbers of their papers (Altman & Bland 2011; Higgins & Thompson 2002; OCEBM 2011).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import special

import metapool as mp
from metapool.audit.checks import CHECKS, errors, run_checks
from metapool.audit.model import Statistic
from metapool.audit.rounding import box, written, written_decimals

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make(text: str, quote: str, kind: str, **fields) -> Statistic:
    """A statistic quoting ``quote`` in ``text`` (its sentence: the whole text)."""
    start = text.index(quote)
    return Statistic(kind=kind, span=(start, start + len(quote)), quote=quote, sentence=(0, len(text)), **fields)


def findings(text: str, *stats: Statistic, check: str | None = None):
    out = run_checks(stats, text)
    return [f for f in out if check is None or f.check == check]


def one(text: str, *stats: Statistic, check: str):
    found = findings(text, *stats, check=check)
    assert len(found) == 1, found
    return found[0]


def proportion(text, quote, value, lower, upper, decimals=0, percent=True, **kw):
    return make(text, quote, "proportion", value=value, lower=lower, upper=upper, interval="ci", level=0.95,
                decimals=decimals, bound_decimals=decimals, percent=percent, **kw)


def ratio(text, quote, value, lower, upper, decimals=2, kind="hazard_ratio", **kw):
    return make(text, quote, kind, value=value, lower=lower, upper=upper, interval="ci", level=0.95,
                decimals=decimals, bound_decimals=decimals, **kw)


# --- the registry ------------------------------------------------------------------------------

def test_registry_keys_and_texts():
    assert list(CHECKS) == ["estimate_in_interval", "interval_symmetry", "p_value", "significance_wording",
                            "i2_q_df", "interval_width", "n_total", "sample_size", "follow_up", "evidence_level",
                            "spread_as_inference", "recompute"]
    for key, check in CHECKS.items():
        assert check.key == key and check.title and len(check.description) > 60
        assert check.severity in ("error", "wording")
    assert CHECKS["spread_as_inference"].severity == "wording"


def test_findings_sorted_by_span_and_quote_their_text():
    text = "HR 0.72 (95% CI 0.61 to 0.85). The pooled rate was 26% (95% CI 24% to 48%)."
    stats = (proportion(text, "26% (95% CI 24% to 48%)", 0.26, 0.24, 0.48, label="pooled rate"),
             ratio(text, "HR 0.72 (95% CI 0.61 to 0.85)", 0.72, 0.61, 0.85))
    out = run_checks(stats, text)
    assert [f.span for f in out] == sorted(f.span for f in out)
    for f in out:
        assert text[f.span[0]:f.span[1]] == f.quote


# --- rounding ----------------------------------------------------------------------------------

def test_rounding_boxes():
    assert box(0.26, 0, True) == pytest.approx(box(0.26, 2))
    b = box(0.26, 0, True)
    assert (b.lo, b.hi) == pytest.approx((0.255, 0.265))
    assert written_decimals(0.032) == 3 and written_decimals(2e-05) == 5 and written_decimals(12.0) == 0
    assert written(0.2812, 0, True) == "28%" and written(0.7214, 2) == "0.72"


# --- estimate_in_interval ----------------------------------------------------------------------

def test_estimate_in_interval():
    text = "OR 1.50 (95% CI 1.10 to 2.05)"
    assert one(text, ratio(text, text, 1.5, 1.1, 2.05, kind="odds_ratio"), check="estimate_in_interval").status == "pass"
    text = "OR 2.50 (95% CI 1.10 to 2.05)"
    f = one(text, ratio(text, text, 2.5, 1.1, 2.05, kind="odds_ratio"), check="estimate_in_interval")
    assert f.status == "flag" and "above" in f.reason
    text = "OR 1.50 (95% CI 2.05 to 1.10)"
    f = one(text, ratio(text, text, 1.5, 2.05, 1.10, kind="odds_ratio"), check="estimate_in_interval")
    assert f.status == "flag" and "swapped" in f.reason
    text = "rate 104% (95% CI 90% to 110%)"
    f = one(text, proportion(text, text, 1.04, 0.9, 1.1), check="estimate_in_interval")
    assert f.status == "flag" and "outside 0% to 100%" in f.reason
    text = "HR -0.80 (95% CI 0.60 to 1.10)"
    f = one(text, ratio(text, text, -0.8, 0.6, 1.1), check="estimate_in_interval")
    assert f.status == "flag" and "positive" in f.reason


def test_estimate_on_a_limit_within_rounding_passes():
    # 26% stands for 25.5% to 26.5%, 26.5% for 26.45% to 26.55%: they meet at the edge
    text = "26% (95% CI 26.5% to 30.0%)"
    stat = make(text, text, "proportion", value=0.26, lower=0.265, upper=0.30, interval="ci", decimals=0,
                bound_decimals=1, percent=True)
    assert one(text, stat, check="estimate_in_interval").status == "pass"
    text = "26% (95% CI 26.6% to 30.0%)"
    stat = make(text, text, "proportion", value=0.26, lower=0.266, upper=0.30, interval="ci", decimals=0,
                bound_decimals=1, percent=True)
    assert one(text, stat, check="estimate_in_interval").status == "flag"


# --- interval_symmetry -------------------------------------------------------------------------

def test_issue_example_is_flagged_with_the_scales_tried():
    text = "In 32 studies the pooled rate was 26% (95% CI: 24-48%)."
    f = one(text, proportion(text, "26% (95% CI: 24-48%)", 0.26, 0.24, 0.48), check="interval_symmetry")
    assert f.status == "flag"
    for scale in ("raw", "logit", "log", "arcsine", "Freeman-Tukey", "Wilson", "Clopper-Pearson"):
        assert scale in f.reason
    assert "arcsine scale" in f.reason  # without N, FT's large-n form is named
    # logit: 26% with a lower limit of 24% gives 28%
    assert "upper limit of 28%" in f.consistent_value


def test_logit_symmetric_proportion_passes():
    p, se = 0.26, 0.05
    lo, hi = special.expit(special.logit(p) + np.array([-1.96, 1.96]) * se)
    text = "pooled rate 26.0% (95% CI 22.1% to 30.3%)"
    stat = proportion(text, text, 0.26, round(lo, 3), round(hi, 3), decimals=1)
    f = one(text, stat, check="interval_symmetry")
    assert f.status == "pass" and "logit" in f.reason


def test_single_study_exact_interval_passes():
    # 3/10: Clopper-Pearson 6.7% to 65.2%, symmetric on no pooling scale
    text = "30% (95% CI 6.7% to 65.2%)"
    f = one(text, proportion(text, text, 0.30, 0.067, 0.652, decimals=1), check="interval_symmetry")
    assert f.status == "pass" and "Clopper-Pearson" in f.reason and "3/10" in f.reason


def test_ratio_symmetry():
    text = "HR 0.72, 95% CI 0.61 to 0.85"
    assert one(text, ratio(text, text, 0.72, 0.61, 0.85), check="interval_symmetry").status == "pass"
    text = "HR 0.72, 95% CI 0.61 to 0.98"
    f = one(text, ratio(text, text, 0.72, 0.61, 0.98), check="interval_symmetry")
    assert f.status == "flag" and "log scale" in f.reason and "0.85" in f.consistent_value


def test_risk_difference_asymmetry_is_cannot_check():
    text = "RD 0.10 (95% CI 0.01 to 0.30)"
    stat = make(text, text, "risk_difference", value=0.10, lower=0.01, upper=0.30, interval="ci", decimals=2,
                bound_decimals=2)
    assert one(text, stat, check="interval_symmetry").status == "cannot_check"


def test_iqr_is_not_checked_for_symmetry():
    text = "median age 62 years (IQR 50 to 64)"
    stat = make(text, text, "median", value=62, lower=50, upper=64, interval="iqr", decimals=0, bound_decimals=0)
    assert findings(text, stat, check="interval_symmetry") == []


@SETTINGS
@given(st.floats(-3.0, 3.0), st.floats(0.01, 0.8), st.integers(0, 2), st.sampled_from(["logit", "log"]))
def test_symmetric_interval_rounded_never_flags(centre, se, decimals, scale):
    """A CI symmetric on the logit (proportion) or log (ratio) scale, rounded to d decimals, passes."""
    if scale == "logit":
        p, lo, hi = special.expit(centre + np.array([0.0, -1.96, 1.96]) * se)
        kind, percent = "proportion", True
        r = lambda x: round(100 * x, decimals) / 100  # noqa: E731
        if r(lo) <= 0 or r(hi) >= 1:
            return
    else:
        p, lo, hi = np.exp(centre + np.array([0.0, -1.96, 1.96]) * se)
        kind, percent = "odds_ratio", False
        r = lambda x: round(x, decimals + 1)  # noqa: E731
        if r(lo) <= 0:
            return
    text = "pooled estimate with its CI"
    stat = Statistic(kind=kind, span=(0, len(text)), quote=text, value=r(p), lower=r(lo), upper=r(hi), interval="ci",
                     level=0.95, decimals=decimals + (0 if percent else 1),
                     bound_decimals=decimals + (0 if percent else 1), percent=percent)
    out = run_checks([stat], text)
    assert not [f for f in out if f.status == "flag" and f.check in ("interval_symmetry", "estimate_in_interval")], out


@SETTINGS
@given(st.floats(-1.5, 1.5), st.floats(0.05, 0.5), st.floats(0.3, 2.0))
def test_ratio_bound_shifted_beyond_rounding_always_flags(centre, se, shift):
    """A ratio's upper limit moved by at least 30% of the CI's log width (far beyond rounding) is flagged."""
    est, lo, hi = np.exp(centre + np.array([0.0, -1.96, 1.96]) * se)
    hi = math.exp(math.log(hi) + shift * 2 * 1.96 * se)
    text = "OR with CI"
    stat = Statistic(kind="odds_ratio", span=(0, len(text)), quote=text, value=round(est, 3), lower=round(lo, 3),
                     upper=round(hi, 3), interval="ci", level=0.95, decimals=3, bound_decimals=3)
    f = [f for f in run_checks([stat], text) if f.check == "interval_symmetry"]
    assert f and f[0].status == "flag"


@SETTINGS
@given(st.floats(0.2, 0.6), st.floats(0.01, 0.04), st.floats(0.05, 0.2))
def test_proportion_bound_shifted_far_always_flags(p, delta, extra):
    """A proportion's upper arm far longer than its lower arm is symmetric on no scale."""
    upper = min(p + 4 * delta + extra, 0.98)
    text = "pooled rate with CI"
    stat = Statistic(kind="proportion", span=(0, len(text)), quote=text, value=round(p, 3), lower=round(p - delta, 3),
                     upper=round(upper, 3), interval="ci", level=0.95, decimals=1, bound_decimals=1, percent=True)
    f = [f for f in run_checks([stat], text) if f.check == "interval_symmetry"]
    assert f and f[0].status == "flag"


@st.composite
def studies(draw):
    k = draw(st.integers(3, 12))
    ni = np.array(draw(st.lists(st.integers(10, 800), min_size=k, max_size=k)))
    share = draw(st.floats(0.05, 0.6))
    spread = np.array(draw(st.lists(st.floats(-0.04, 0.04), min_size=k, max_size=k)))
    return np.round(np.clip(share + spread, 0.02, 0.98) * ni).astype(int), ni


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(studies(), st.sampled_from(["PLO", "PFT", "PAS", "PR"]), st.sampled_from(["REML", "DL", "FE"]),
       st.integers(0, 1))
def test_metapool_pooled_proportions_never_flag(data, measure, method, decimals):
    """Pooled proportions as metapool (= metafor) reports them, rounded, pass every interval check."""
    xi, ni = data
    if measure == "PR" and method != "FE":
        return  # a raw-scale random-effects CI may pass 0% or 100%, which estimate_in_interval flags
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mp.rma(mp.escalc(measure, xi=xi, ni=ni), method=method)
    back = res.back()
    est, lo, hi = (back.estimate, back.ci_lower, back.ci_upper) if back is not None else (
        res.estimate, res.ci_lower, res.ci_upper)
    r = lambda x: round(100 * float(x), decimals) / 100  # noqa: E731
    text = f"In {len(ni)} studies with {ni.sum()} patients the pooled rate was X."
    stats = [make(text, "X", "proportion", value=r(est), lower=r(lo), upper=r(hi), interval="ci", level=0.95,
                  decimals=decimals, bound_decimals=decimals, percent=True, label="pooled rate"),
             make(text, f"{ni.sum()} patients", "n_patients", value=float(ni.sum())),
             make(text, f"{len(ni)} studies", "k_studies", value=float(len(ni)))]
    out = run_checks(stats, text)
    # an inverse-variance pool of raw proportions (PR) can be narrower than the binomial bound (its
    # flag says so); every other check holds for it too
    exempt = ("interval_width",) if measure == "PR" else ()
    assert not [f for f in out if f.status == "flag" and f.check not in exempt], out


# --- p_value (Altman & Bland 2011) -------------------------------------------------------------

def test_altman_bland_difference_example():
    """BMJ 2011;343:d2090: 49% v 32%, P = 0.032, gives a difference of 17 points with 95% CI 1.4 to 32.6."""
    text = "difference 17.0 percentage points (95% CI 1.4 to 32.6), P = 0.032"
    stat = make(text, text, "risk_difference", value=17.0, lower=1.4, upper=32.6, interval="ci", level=0.95,
                decimals=1, bound_decimals=1, p_value=0.032, p_relation="=")
    assert one(text, stat, check="p_value").status == "pass"
    stat = make(text, text, "risk_difference", value=17.0, lower=1.4, upper=32.6, interval="ci", level=0.95,
                decimals=1, bound_decimals=1, p_value=0.32, p_relation="=")
    f = one(text, stat, check="p_value")
    assert f.status == "flag" and "p ≈ 0.03" in f.consistent_value


def test_altman_bland_ratio_example():
    """BMJ 2011;343:d2090: relative risk 0.30, P = 0.034, gives 95% CI 0.10 to 0.91 on the log scale."""
    text = "relative risk 0.30 (95% CI 0.10 to 0.91), P = 0.034"
    stat = ratio(text, text, 0.30, 0.10, 0.91, kind="risk_ratio", p_value=0.034, p_relation="=")
    assert one(text, stat, check="p_value").status == "pass"
    stat = ratio(text, text, 0.30, 0.10, 0.91, kind="risk_ratio", p_value=0.001, p_relation="<")
    assert one(text, stat, check="p_value").status == "flag"


def test_p_value_relations_and_knapp_hartung():
    text = "HR 0.72, 95% CI 0.61 to 0.85, p < 0.001"
    assert one(text, ratio(text, text, 0.72, 0.61, 0.85, p_value=0.001, p_relation="<"), check="p_value").status == "pass"
    text = "HR 0.72, 95% CI 0.61 to 0.85, p = 0.03"
    f = one(text, ratio(text, text, 0.72, 0.61, 0.85, p_value=0.03, p_relation="="), check="p_value")
    assert f.status == "flag" and "p ≈ 0.0001" in f.reason
    # Knapp-Hartung with 5 studies: CI and p from t on 4 df (est/SE = 4 gives p = 0.016)
    t4 = 2.7764451
    lo, hi = np.exp(0.4 + np.array([-t4, t4]) * 0.1)
    text = "In 5 studies, OR 1.49 (95% CI X), p = 0.016"
    stat = ratio(text, "OR 1.49 (95% CI X), p = 0.016", 1.49, round(lo, 2), round(hi, 2), kind="odds_ratio",
                 p_value=0.016, p_relation="=")
    k = make(text, "5 studies", "k_studies", value=5.0)
    assert one(text, stat, check="p_value").status == "flag"  # normal reference only
    assert one(text, stat, k, check="p_value").status == "pass"


def test_heterogeneity_p_value():
    text = "I² = 78% (Q = 142.3, df = 31, p < 0.001)"
    stat = make(text, text, "i2", value=0.78, decimals=0, percent=True, q=142.3, df=31, p_value=0.001, p_relation="<")
    assert one(text, stat, check="p_value").status == "pass"
    stat = make(text, text, "i2", value=0.78, decimals=0, percent=True, q=142.3, df=31, p_value=0.2, p_relation="=")
    assert one(text, stat, check="p_value").status == "flag"


# --- significance_wording ----------------------------------------------------------------------

def test_significance_wording_sedgwick_example():
    """BMJ 2015;350:h1113: abstinence OR 1.08 (95% CI 0.45 to 2.60) is not significant."""
    text = "odds ratio 1.08, 95% confidence interval 0.45 to 2.60"
    f = one(text, ratio(text, text, 1.08, 0.45, 2.60, kind="odds_ratio", claim="significant"),
            check="significance_wording")
    assert f.status == "flag" and "includes 1" in f.reason
    assert one(text, ratio(text, text, 1.08, 0.45, 2.60, kind="odds_ratio", claim="not_significant"),
               check="significance_wording").status == "pass"
    text = "difference 50 g, -71.1 to 172.3"
    stat = make(text, text, "mean_difference", value=50, lower=-71.1, upper=172.3, interval="ci", decimals=0,
                bound_decimals=1, claim="significant")
    assert one(text, stat, check="significance_wording").status == "flag"


def test_significance_wording_at_the_rounding_edge():
    text = "RR 0.90 (95% CI 0.81 to 1.00)"
    f = one(text, ratio(text, text, 0.90, 0.81, 1.00, kind="risk_ratio", claim="significant"),
            check="significance_wording")
    assert f.status == "cannot_check"
    text = "RR 0.80 (95% CI 0.70 to 0.91), not significant"
    f = one(text, ratio(text, "RR 0.80 (95% CI 0.70 to 0.91)", 0.80, 0.70, 0.91, kind="risk_ratio",
                        claim="not_significant"), check="significance_wording")
    assert f.status == "flag"


# --- i2_q_df (Higgins & Thompson 2002) ---------------------------------------------------------

def test_i2_from_q_and_df():
    text = "I² = 78% (Q = 142.3, df = 31)"
    assert one(text, make(text, text, "i2", value=0.78, decimals=0, percent=True, q=142.3, df=31),
               check="i2_q_df").status == "pass"
    quote = "I² = 60% (Q = 142.3, df = 31)"
    text = "DerSimonian-Laird random effects: " + quote
    f = one(text, make(text, quote, "i2", value=0.60, decimals=0, percent=True, q=142.3, df=31), check="i2_q_df")
    assert f.status == "flag" and f.consistent_value == "I² = 78.2% for Q = 142.3 on 31 df"
    # no estimator named: metafor's REML I² may be 18 points away, so only a far larger gap is flagged
    assert one(quote, make(quote, quote, "i2", value=0.60, decimals=0, percent=True, q=142.3, df=31),
               check="i2_q_df").status == "cannot_check"
    quote = "I² = 20% (Q = 142.3, df = 31)"
    assert one(quote, make(quote, quote, "i2", value=0.20, decimals=0, percent=True, q=142.3, df=31),
               check="i2_q_df").status == "flag"
    text = "I² = 0% (Q = 20.1, df = 31)"  # Q below df: I² is truncated at 0
    assert one(text, make(text, text, "i2", value=0.0, decimals=0, percent=True, q=20.1, df=31),
               check="i2_q_df").status == "pass"
    text = "REML random effects; I² = 60% (Q = 142.3, df = 31)"
    stat = make(text, "I² = 60% (Q = 142.3, df = 31)", "i2", value=0.60, decimals=0, percent=True, q=142.3, df=31)
    assert one(text, stat, check="i2_q_df").status == "cannot_check"


def test_i2_rounding_edge():
    # Q = 40.0 on 20 df: I² = 50%; Q written 40 may be 39.5 to 40.5 (49.4% to 50.6%): "51%" still meets it
    text = "I² = 51% (Q = 40, df = 20)"
    assert one(text, make(text, text, "i2", value=0.51, decimals=0, percent=True, q=40.0, df=20),
               check="i2_q_df").status == "pass"
    quote = "I² = 52% (Q = 40, df = 20)"
    text = "Common-effect model; " + quote
    assert one(text, make(text, quote, "i2", value=0.52, decimals=0, percent=True, q=40.0, df=20),
               check="i2_q_df").status == "flag"


# --- interval_width ----------------------------------------------------------------------------

def test_interval_width():
    text = "In 32 studies of 2,289 patients, the pooled rate was 26.0% (95% CI 25.9% to 26.1%)."
    stats = [make(text, "32 studies", "k_studies", value=32.0), make(text, "2,289 patients", "n_patients", value=2289.0)]
    narrow = proportion(text, "26.0% (95% CI 25.9% to 26.1%)", 0.26, 0.259, 0.261, decimals=1)
    f = one(text, narrow, *stats, check="interval_width")
    assert f.status == "flag" and "2,289" in f.reason and f.consistent_value.startswith("at least")
    text2 = text.replace("25.9% to 26.1%", "24.2% to 27.9%")
    wide = proportion(text2, "26.0% (95% CI 24.2% to 27.9%)", 0.26, 0.242, 0.279, decimals=1)
    stats2 = [make(text2, "32 studies", "k_studies", value=32.0),
              make(text2, "2,289 patients", "n_patients", value=2289.0)]
    assert one(text2, wide, *stats2, check="interval_width").status == "pass"
    text3 = "The pooled rate was 26.0% (95% CI 25.9% to 26.1%)."
    assert one(text3, proportion(text3, "26.0% (95% CI 25.9% to 26.1%)", 0.26, 0.259, 0.261, decimals=1),
               check="interval_width").status == "cannot_check"
    text4 = "Prevalence in the population is 26.0% (95% CI 25.9% to 26.1%); we had 2,289 patients."
    stats4 = [proportion(text4, "26.0% (95% CI 25.9% to 26.1%)", 0.26, 0.259, 0.261, decimals=1),
              make(text4, "2,289 patients", "n_patients", value=2289.0)]
    assert findings(text4, *stats4, check="interval_width") == []  # not a pooled estimate


# --- counts ------------------------------------------------------------------------------------

TABLE = ("We included {k} studies with N = {n} patients.\n\n"
         "Study              N     Events\n"
         "Smith 2019         120   30\n"
         "Jones et al. 2020  80    12\n"
         "Lee 2021           100   41\n")


def _table(n, k="3"):
    text = TABLE.format(n=n, k=k)
    stats = [make(text, f"N = {n}", "n_patients", value=float(n))]
    if k.isdigit():
        stats.append(make(text, f"{k} studies", "k_studies", value=float(k)))
    return text, stats


def test_study_table_rows():
    from metapool.audit.tables import study_rows
    text, _ = _table(300)
    rows = study_rows(text)
    assert [(r.label, r.n) for r in rows] == [("Smith 2019", 120), ("Jones et al. 2020", 80), ("Lee 2021", 100)]
    assert all(text[r.span[0]:r.span[1]] == str(r.n) for r in rows)
    piped = "| Study | Events | n |\n|---|---|---|\n| Smith 2019 | 30 | 120 |\n| Lee 2021 | 41 | 100 |\n"
    assert [r.n for r in study_rows(piped)] == [120, 100]
    assert study_rows("Smith 2019 reported 12 of 40 and 3 deaths.\nLee 2021 found 5 of 9.") == ()


def test_n_total():
    text, stats = _table(300)
    assert one(text, *stats, check="n_total").status == "pass"
    text, stats = _table(320)
    f = one(text, *stats, check="n_total")
    assert f.status == "flag" and f.consistent_value == "N = 300" and f.quote == "N = 320"
    text, stats = _table(320, k="several")
    assert one(text, *stats, check="n_total").status == "cannot_check"


def test_sample_size():
    text = "Studies with at least 20 patients were eligible; sample size n = 20; N = 2289 patients were pooled."
    thr = make(text, "at least 20 patients", "threshold", value=20.0)
    ss = make(text, "sample size n = 20", "sample_size", value=20.0)
    n = make(text, "N = 2289 patients", "n_patients", value=2289.0)
    f = one(text, thr, ss, n, check="sample_size")
    assert f.status == "flag" and "threshold" in f.reason and f.consistent_value == "N = 2,289 patients"
    text = "The sample size was n = 150 while N = 2289 patients were pooled."
    f = one(text, make(text, "n = 150", "sample_size", value=150.0), make(text, "N = 2289 patients", "n_patients",
                                                                          value=2289.0), check="sample_size")
    assert f.status == "flag" and "tenth" in f.reason
    text = "The total sample size was n = 2289; N = 2289 patients."
    assert one(text, make(text, "n = 2289", "sample_size", value=2289.0),
               make(text, "N = 2289 patients", "n_patients", value=2289.0), check="sample_size").status == "pass"
    text = "The median sample size was 45; N = 2289 patients."
    assert findings(text, make(text, "45", "sample_size", value=45.0),
                    make(text, "N = 2289 patients", "n_patients", value=2289.0), check="sample_size") == []


def test_follow_up():
    text = "Median overall survival was 8.0 months; follow-up 8.0 mo."
    med = make(text, "8.0 months", "median", value=8.0, decimals=1, unit="months", label="median overall survival")
    fu = make(text, "follow-up 8.0 mo", "follow_up", value=8.0, decimals=1, unit="months")
    f = one(text, med, fu, check="follow_up")
    assert f.status == "flag" and "survival" in f.reason
    text = "Median overall survival was 24 months; follow-up 2 years."
    med = make(text, "24 months", "median", value=24.0, decimals=0, unit="months", label="median overall survival")
    fu = make(text, "follow-up 2 years", "follow_up", value=2.0, decimals=0, unit="years")
    assert one(text, med, fu, check="follow_up").status == "flag"
    text = "Median overall survival was 8.0 months; follow-up 14.2 mo."
    med = make(text, "8.0 months", "median", value=8.0, decimals=1, unit="months", label="median overall survival")
    fu = make(text, "follow-up 14.2 mo", "follow_up", value=14.2, decimals=1, unit="months")
    assert one(text, med, fu, check="follow_up").status == "pass"
    text = "Median age 8.0 years; follow-up 8.0 years."
    med = make(text, "8.0 years", "median", value=8.0, decimals=1, unit="years", label="median age")
    fu = make(text, "follow-up 8.0 years", "follow_up", value=8.0, decimals=1, unit="years")
    assert findings(text, med, fu, check="follow_up") == []


# --- evidence_level (OCEBM 2011) ---------------------------------------------------------------

def test_evidence_level():
    text = "We pooled 12 single-arm phase II trials. Evidence level 1."
    f = one(text, make(text, "Evidence level 1", "evidence_level", value=1.0), check="evidence_level")
    assert f.status == "flag" and f.consistent_value == "level 4 (OCEBM 2011)"
    text = "We pooled 8 randomised controlled trials. Evidence level 1a."
    assert one(text, make(text, "Evidence level 1a", "evidence_level"), check="evidence_level").status == "pass"
    text = "We pooled 5 non-randomised comparative cohorts and 3 case series. Level of evidence: II."
    f = one(text, make(text, "Level of evidence: II", "evidence_level"), check="evidence_level")
    assert f.status == "flag" and "level 3" in f.reason
    text = "Evidence level 1."
    assert one(text, make(text, "Evidence level 1", "evidence_level", value=1.0),
               check="evidence_level").status == "cannot_check"
    text = "Evidence level 1 from retrospective cohorts."
    design = make(text, "retrospective cohorts", "design", label="retrospective cohort")
    assert one(text, make(text, "Evidence level 1", "evidence_level", value=1.0), design,
               check="evidence_level").status == "flag"


# --- spread_as_inference -----------------------------------------------------------------------

def test_spread_as_inference_is_wording():
    text = "The pooled median OS was 8.0 months (IQR 6.1-10.2)."
    stat = make(text, "8.0 months (IQR 6.1-10.2)", "median", value=8.0, lower=6.1, upper=10.2, interval="iqr",
                decimals=1, bound_decimals=1, unit="months", label="pooled median OS")
    out = findings(text, stat)
    f = [f for f in out if f.check == "spread_as_inference"][0]
    assert f.status == "flag" and f.reason.startswith("Wording:")
    assert errors(out) == ()  # a wording flag alone is no error
    text = "Median age was 62 years (IQR 55-70)."
    stat = make(text, "62 years (IQR 55-70)", "median", value=62, lower=55, upper=70, interval="iqr", decimals=0,
                bound_decimals=0, unit="years", label="median age")
    assert findings(text, stat, check="spread_as_inference") == []
    text = "In one cohort, median overall survival was 8.0 months (range 0.5-36.0)."
    stat = make(text, "8.0 months (range 0.5-36.0)", "median", value=8.0, lower=0.5, upper=36.0, interval="range",
                decimals=1, bound_decimals=1, unit="months", label="median overall survival")
    assert findings(text, stat, check="spread_as_inference") == []


@st.composite
def two_group_studies(draw):
    k = draw(st.integers(2, 15))
    n1 = np.array(draw(st.lists(st.integers(20, 300), min_size=k, max_size=k)))
    n2 = np.array(draw(st.lists(st.integers(20, 300), min_size=k, max_size=k)))
    p2 = draw(st.floats(0.1, 0.5))
    log_or = draw(st.floats(-1.0, 1.0))
    spread = np.array(draw(st.lists(st.floats(-0.5, 0.5), min_size=k, max_size=k)))
    odds = p2 / (1 - p2) * np.exp(log_or + spread)
    return np.round(odds / (1 + odds) * n1).astype(int), n1, np.round(p2 * n2).astype(int), n2


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(two_group_studies(), st.sampled_from(["OR", "RR", "RD"]), st.sampled_from(["REML", "DL"]),
       st.sampled_from(["z", "t"]), st.integers(2, 3))
def test_metapool_pooled_comparisons_never_flag(data, measure, method, test, decimals):
    """Pooled OR, RR and RD with p-value, significance wording and I², as metapool reports them, pass."""
    from metapool.formatting.numbers import fmt_p_clinical

    ai, n1, ci, n2 = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mp.rma(mp.escalc(measure, ai=ai, n1i=n1, ci=ci, n2i=n2), method=method, test=test)
    values = np.array([res.estimate, res.ci_lower, res.ci_upper], dtype=float).ravel()
    if measure != "RD":
        values = np.exp(values)
    est, lo, hi = (round(float(v), decimals) for v in values)
    p = float(np.ravel(res.pvalue)[0])
    shown = fmt_p_clinical(p)
    relation, written_p = ("<", 0.0001) if "<" in shown else ("=", float(shown.split("= ")[1]))
    k = len(n1)
    model = "REML" if method == "REML" else "DerSimonian-Laird"
    text = f"{model} random effects{', Knapp-Hartung' if test == 't' else ''}; {k} studies: X. Heterogeneity: Y."
    kind = {"OR": "odds_ratio", "RR": "risk_ratio", "RD": "risk_difference"}[measure]
    stats = [make(text, "X", kind, value=est, lower=lo, upper=hi, interval="ci", level=0.95, decimals=decimals,
                  bound_decimals=decimals, p_value=written_p, p_relation=relation,
                  claim="significant" if p < 0.05 else "not_significant"),
             make(text, f"{k} studies", "k_studies", value=float(k)),
             make(text, "Y", "i2", value=round(float(res.i2) / 100, 3), decimals=1, percent=True,
                  q=round(float(res.q), 2), df=k - 1)]
    out = run_checks(stats, text)
    assert not [f for f in out if f.status == "flag"], out


def test_p_value_at_the_significance_edge():
    """A CI touching 1 implies p close to 0.05: 'p = 0.05' and 'p < 0.05' both agree, 'p = 0.5' does not."""
    text = "HR 1.35 (95% CI 1.00 to 1.82)"
    for p, relation, status in ((0.05, "=", "pass"), (0.05, "<", "pass"), (0.5, "=", "flag"), (0.001, "<", "flag")):
        stat = ratio(text, text, 1.35, 1.00, 1.82, p_value=p, p_relation=relation)
        assert one(text, stat, check="p_value").status == status, (p, relation)


_NUMBER = st.one_of(st.none(), st.floats(-5.0, 5.0, allow_nan=False), st.sampled_from([0.0, 1.0, 100.0, 2289.0]))


@st.composite
def any_statistic(draw):
    from metapool.audit.model import INTERVALS, STAT_KINDS

    return Statistic(kind=draw(st.sampled_from(sorted(STAT_KINDS))), span=(0, 4), quote="text",
                     value=draw(_NUMBER), lower=draw(_NUMBER), upper=draw(_NUMBER),
                     interval=draw(st.one_of(st.none(), st.sampled_from(INTERVALS))),
                     level=draw(st.sampled_from([None, 0.9, 0.95])), decimals=draw(st.one_of(st.none(), st.integers(0, 3))),
                     bound_decimals=draw(st.one_of(st.none(), st.integers(0, 3))), percent=draw(st.booleans()),
                     p_value=draw(st.one_of(st.none(), st.floats(0.0, 1.0))),
                     p_relation=draw(st.sampled_from([None, "=", "<", ">"])),
                     q=draw(st.one_of(st.none(), st.floats(0.0, 200.0))), df=draw(st.one_of(st.none(), st.integers(1, 40))),
                     claim=draw(st.sampled_from([None, "significant", "not_significant"])))


@SETTINGS
@given(st.lists(any_statistic(), max_size=5))
def test_any_statistics_never_raise(stats):
    """Whatever the extractor hands over, the checks return findings (no exception, valid statuses)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = run_checks(stats, "text and more text")
    assert all(f.check in CHECKS and f.reason for f in out)
