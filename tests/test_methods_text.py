"""The methods paragraph is generated from what ran: every claim points at a result that exists, and
every analysis that ran is described (issue 12)."""

from __future__ import annotations

import re
import warnings

import pytest
from markupsafe import escape

from metapool.analysis import run_analysis
from metapool.datasets import load_dataset
from metapool.report.methods import REFERENCES, methods_claims, methods_text
from metapool.spec import load_spec, parse_spec

DEMO = "src/metapool/datasets/data/aml_hma_ven_synthetic.toml"
BCG = load_dataset("bcg").columns
BCG_CSV = "author,year,tpos,n1,cpos,n2,ablat,alloc\n" + "\n".join(
    f"{a},{y},{t},{int(t) + int(tn)},{c},{int(c) + int(cn)},{ab},{al}"
    for a, y, t, tn, c, cn, ab, al in zip(BCG["author"], BCG["year"], BCG["tpos"], BCG["tneg"], BCG["cpos"],
                                          BCG["cneg"], BCG["ablat"], BCG["alloc"])) + "\n"
TABLES = 'kind = "binary"\nevents1 = "tpos"\ntotal1 = "n1"\nevents2 = "cpos"\ntotal2 = "n2"\n'
HEAD = 'title = "t"\ndata = "d.csv"\nstudy = ["author", "year"]\n'

SPECS = {
    "or_reml_moderators": (BCG_CSV, HEAD + f'[[outcome]]\nname = "TB"\n{TABLES}measure = "OR"\nmods = ["ablat"]\n'
                                          'subgroup = "alloc"\n'),
    "mh_only": (BCG_CSV, HEAD + f'[[outcome]]\nname = "TB"\n{TABLES}method = "MH"\n'),
    "medians_and_zero_cells": (
        "author,year,n,resp,med\nA,2001,20,0,5.1\nB,2003,31,4,6.3\nC,2005,25,0,4.8\nD,2007,40,9,7.0\nE,2009,28,5,\n",
        HEAD + '[[outcome]]\nname = "Response"\nkind = "proportion"\nevents = "resp"\ntotal = "n"\nmeasure = "PLO"\n'
        '[[outcome]]\nname = "Median OS"\nkind = "median"\nmedian = "med"\nn = "n"\n'),
    "risk_of_bias_domains": (
        "author,year,e1,n1,e2,n2,D1,D2\nA,2001,4,50,9,51,low,high\nB,2003,6,60,10,58,unclear,low\n"
        "C,2005,3,40,8,41,,low\n",
        HEAD + 'risk_of_bias_domains = ["D1", "D2"]\n[[outcome]]\nname = "Death"\nkind = "binary"\nevents1 = "e1"\n'
        'total1 = "n1"\nevents2 = "e2"\ntotal2 = "n2"\nmethod = "PETO"\n'),
    "glmm_proportions": (
        "author,year,n,resp\nA,2001,20,3\nB,2003,31,9\nC,2005,25,5\nD,2007,40,20\nE,2009,28,6\n",
        HEAD + '[[outcome]]\nname = "Response"\nkind = "proportion"\nevents = "resp"\ntotal = "n"\nmethod = "GLMM"\n'
        'sensitivity = false\n'),
}


@pytest.fixture(scope="module")
def analyses(tmp_path_factory):
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["demo"] = run_analysis(load_spec(DEMO))
        for name, (data, spec) in SPECS.items():
            folder = tmp_path_factory.mktemp(name)
            (folder / "d.csv").write_text(data)
            out[name] = run_analysis(parse_spec(spec, "a.toml", folder))
    assert all(o.error is None for a in out.values() for o in a.outcomes)
    return out


def resolve(d, path: str):
    """The value at a claim's evidence path ("outcomes.0.bias.egger") in results.json, None if absent."""
    for part in path.split("."):
        if isinstance(d, list):
            d = d[int(part)] if part.isdigit() and int(part) < len(d) else None
        elif isinstance(d, dict):
            d = d.get(part)
        if d is None:
            return None
    return d


def ran(results: dict) -> set[str]:
    """Paths of every analysis that ran, per outcome: the model, follow-ups, each bias analysis with a result."""
    paths = set()
    for i, o in enumerate(results["outcomes"]):
        for key in ("model", "medians", "subgroups", "regression", "leave_one_out", "influence"):
            if o.get(key) is not None:
                paths.add(f"outcomes.{i}.{key}")
        paths |= {f"outcomes.{i}.bias.{code}" for code, v in (o.get("bias") or {}).items() if "undefined" not in v}
    return paths


CASES = ["demo", *SPECS]


@pytest.mark.parametrize("case", CASES)
def test_every_claim_has_its_result(analyses, case):
    results = analyses[case].to_dict()
    claims = methods_claims(analyses[case])
    assert claims
    for claim in claims:
        assert claim.evidence, claim.text
        for path in claim.evidence:
            value = resolve(results, path)
            assert value is not None and not (isinstance(value, dict) and "undefined" in value), (path, claim.text)


@pytest.mark.parametrize("case", CASES)
def test_every_analysis_that_ran_is_described(analyses, case):
    evidence = {p for c in methods_claims(analyses[case]) for p in c.evidence}
    described = {p for p in ran(analyses[case].to_dict()) if any(e == p or e.startswith(p + ".") for e in evidence)}
    assert ran(analyses[case].to_dict()) == described


@pytest.mark.parametrize("case", CASES)
def test_citations_are_numbered_in_order_and_listed(analyses, case):
    text, references = methods_text(analyses[case])
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", text)]
    assert sorted(set(numbers)) == list(range(1, len(references) + 1))
    assert list(dict.fromkeys(numbers)) == sorted(set(numbers))  # first cited, first numbered
    assert set(references) <= set(REFERENCES.values()) and "[@" not in text


def test_single_arm_proportions_demo(analyses):
    text, refs = methods_text(analyses["demo"])
    assert "Study confidence intervals in the forest plots are those the studies report for Median overall survival;" \
           " exact (Clopper-Pearson) [5] for the other outcomes." in text
    assert "Q-profile" not in text and "Mantel" not in text
    assert "Subgroup analyses were run by hma (separate tau² per subgroup)" in text
    assert "Meta-regression was run on prior_hma_fraction and year" in text
    assert ("a random-effects model of the study medians (standard errors from their reported confidence"
            " intervals [1]), tau² estimated by the restricted maximum likelihood method (REML) [2] for Median overall"
            " survival") in text
    assert "for every outcome except Median overall survival" in text
    assert re.search(r"metapool \S+ \(Python [\d.]+; NumPy [\d.]+; SciPy [\d.]+\)", text)


def test_rcts_with_odds_ratios_under_reml(analyses):
    text, refs = methods_text(analyses["or_reml_moderators"])
    assert "Clopper" not in text and not any("Clopper" in r for r in refs)
    assert "Study confidence intervals in the forest plots are Wald intervals on the log odds ratio scale." in text
    assert "Heterogeneity was quantified by Cochran's Q and I² [2], tau² and a prediction interval [3]." in text
    assert "Subgroup analyses were run by alloc (separate tau² per subgroup) with a test for subgroup differences." in text
    assert "Meta-regression was run on ablat (mixed-effects meta-regression" in text
    assert "trim-and-fill (estimator L0)" in text and "Peters' regression test" in text
    assert "influence diagnostics with the Baujat plot" in text


def test_mantel_haenszel_only(analyses):
    text, refs = methods_text(analyses["mh_only"])
    assert ("Estimates were pooled with a common-effect Mantel-Haenszel model of the 2x2 tables [1] (variance of"
            " Robins, Breslow and Greenland [2]), with the Cochran-Mantel-Haenszel test and the Breslow-Day test with"
            " Tarone's correction; Cochran's Q and I² [3] from the study-level estimates.") in text
    assert "tau" not in text and "Heterogeneity was quantified" not in text and "prediction interval" not in text
    assert "trim-and-fill" not in text and "influence diagnostics" not in text  # not defined for MH fits
    assert "as metafor's regtest and ranktest on these fits" in text
    assert "leave-one-out analyses (refitting the Mantel-Haenszel model without each study)" in text


def test_medians_and_continuity_corrections(analyses):
    text, _ = methods_text(analyses["medians_and_zero_cells"])
    assert "the (weighted) median of the study medians [" in text and "for Median OS" in text
    assert "Continuity correction: 1/2 was added to every cell of the 2 studies with a zero cell in Response." in text
    assert "Study-level effect sizes were computed as logit proportion (PLO) for Response." in text


def test_glmm_tau2_interval_is_claimed_where_shown(analyses):
    analysis = analyses["glmm_proportions"]
    text, refs = methods_text(analysis)
    assert analysis.outcomes[0].model.to_dict()["heterogeneity_ci"] is not None
    assert "tau² with its profile likelihood confidence interval" in text
    assert "generalised linear mixed model of the proportions (binomial-normal model)" in text
    assert "Q-profile" not in text


def test_the_report_carries_the_paragraph_escaped(analyses):
    from metapool.report.render import render_report

    html = render_report(analyses["demo"])
    text, refs = methods_text(analyses["demo"])
    assert str(escape(text)) in html and all(str(escape(r)) in html for r in refs)
    assert "Grade &gt;=3 infection" in html and "Grade >=3" not in html


def test_risk_of_bias_plots_are_described(analyses):
    text, refs = methods_text(analyses["risk_of_bias_domains"])
    assert "Each study's risk of bias in 2 domains is shown as traffic-light and summary plots [" in text
    assert any(r.startswith("McGuinness LA, Higgins JPT (2021)") for r in refs)
    assert "robvis" not in methods_text(analyses["mh_only"])[0] and not any(
        r.startswith("McGuinness") for r in methods_text(analyses["mh_only"])[1])
