"""Issue 12: the evidence level, GRADE start, counts and SYNTHETIC stamp are derived, never guessed.

Each rule is exercised by a small review run through ``metapool run``, asserting what card.md,
card.html, report.html and results.json say.
"""

import json
import re

import pytest

from metapool.cli.main import main
from metapool.evidence import DESIGNS, comparison_of, evidence_level, grade_start, parse_design
from metapool.evidence.designs import normalise, vocabulary_text
from metapool.exceptions import DataValidationError
from metapool.spec import parse_spec

#: Five two-arm trials; n = total1 + total2.
TRIALS = """author,year,n,e1,n1,e2,n2,design
Smith,2010,100,10,50,20,50,{0}
Jones,2011,80,8,40,14,40,{1}
Smith,2010,60,5,30,9,30,{2}
Lee,2013,120,12,60,25,60,{3}
Park,2014,60,6,30,11,30,{4}
"""

MORTALITY = """
[[outcome]]
name = "Mortality"
kind = "binary"
events1 = "e1"
total1 = "n1"
events2 = "e2"
total2 = "n2"
"""

TREATED_ARM = """
[[outcome]]
name = "Deaths in the treated arm"
kind = "proportion"
events = "e1"
total = "n1"
"""


def spec_text(outcomes=MORTALITY, design='design = "design"', extra="", title="Trials review"):
    return (f'title = "{title}"\ndata = "studies.csv"\nstudy = ["author", "year"]\nn = "n"\n'
            f"{design}\n{extra}\n{outcomes}")


def run(tmp_path, designs=("RCT",) * 5, **spec):
    """Run the review; returns (exit status, card.md, card.html, report.html, results.json) or the status alone."""
    (tmp_path / "studies.csv").write_text(TRIALS.format(*designs), encoding="utf-8")
    (tmp_path / "analysis.toml").write_text(spec_text(**spec), encoding="utf-8")
    out = tmp_path / "out"
    status = main(["run", str(tmp_path / "analysis.toml"), "-o", str(out)])
    if status != 0:
        return status, None, None, None, None
    read = lambda name: (out / name).read_text(encoding="utf-8")  # noqa: E731
    return status, read("card.md"), read("card.html"), read("report.html"), json.loads(read("results.json"))


# --- the vocabulary -------------------------------------------------------------------------------------

NEGATIONS = ["non-randomised controlled study", "Non-randomized controlled trial", "nonrandomised", "non randomized",
             "NON-RANDOMISED", "not randomised", "Not Randomized", "quasi-randomised", "quasi randomized controlled trial",
             "pseudo-randomised", "Pseudo-Randomized Controlled Trial", "unrandomised", "controlled clinical trial",
             "non‑randomised"]  # the last with a non-breaking hyphen


@pytest.mark.parametrize("text", NEGATIONS)
def test_negations_are_never_randomised(text):
    design = parse_design(text)
    assert design.code == "nrs" and not design.randomised and design.grade_start == "low"
    assert design.ocebm_level == 3


@pytest.mark.parametrize("text, code", [
    ("RCT", "rct"), ("Randomised controlled trial", "rct"), ("randomized clinical trial", "rct"),
    ("Randomised, double-blind, placebo-controlled, multicentre trial", "rct"), ("phase III randomized", "rct"),
    ("cluster-randomised trial", "cluster_rct"), ("Cluster RCT", "cluster_rct"),
    ("randomised cross-over trial", "crossover_rct"), ("crossover RCT", "crossover_rct"),
    ("prospective", "prospective_cohort"), ("Retrospective", "retrospective_cohort"),
    ("retrospective cohort study", "retrospective_cohort"), ("cohort", "cohort"),
    ("case-control", "case_control"), ("Case Control Study", "case_control"),
    ("phase 2 single-arm", "single_arm"), ("Phase II single arm trial", "single_arm"), ("case series", "single_arm"),
    ("retrospective single-arm", "single_arm"), ("historically controlled", "historically_controlled"),
])  # fmt: skip
def test_spellings(text, code):
    assert parse_design(text).code == code


def test_every_documented_spelling_parses_to_its_design():
    for design in DESIGNS.values():
        for spelling in design.spellings:
            assert parse_design(spelling) is design, spelling
        assert design.grade_start == ("high" if design.randomised else "low")
    assert {d.ocebm_level for d in DESIGNS.values()} == {2, 3, 4}


@pytest.mark.parametrize("text", ["randomised?", "pilot", "random", "observational", "phase 2", "crossover", ""])
def test_unknown_design_is_an_error_listing_the_vocabulary(text):
    with pytest.raises(DataValidationError, match="is not recognised; the designs are: randomised controlled trial"):
        parse_design(text)
    assert all(d.name in vocabulary_text() for d in DESIGNS.values())


def test_normalise_folds_case_hyphens_and_spelling():
    assert normalise("Non-Randomised Controlled Study") == normalise("nonrandomized controlled trial")


@pytest.mark.parametrize("kind, measure, method, expected", [
    ("binary", "OR", "REML", "two-group"), ("binary", "RR", "REML", "two-group"), ("binary", "RD", "DL", "two-group"),
    ("binary", "PETO", "REML", "two-group"), ("continuous", "MD", "REML", "two-group"),
    ("continuous", "SMD", "REML", "two-group"), ("continuous", "ROM", "REML", "two-group"),
    ("generic", "LNR", "REML", "two-group"), ("binary", "OR", "MH", "two-group"), ("binary", "OR", "PETO", "two-group"),
    ("proportion", "PLO", "REML", "single-group"), ("rate", "IRLN", "REML", "single-group"),
    ("survival", "PCI", "REML", "single-group"), ("median", None, "REML", "single-group"),
    ("generic", "GEN", "REML", "unspecified"),
])  # fmt: skip
def test_comparison_of_outcomes(kind, measure, method, expected):
    assert comparison_of(kind, measure, method) == expected


def test_level_rules_without_running():
    assert evidence_level({"rct": 16}, "two-group").level == 1
    assert evidence_level({"not stated": 16}, "two-group").level is None
    assert evidence_level({"rct": 12, "not stated": 4}, "two-group").label == "Level not stated"
    assert evidence_level({"single_arm": 32}, "single-group").level == 4
    assert evidence_level({"rct": 12, "nrs": 4}, "two-group").level == 3
    assert evidence_level({"rct": 12, "case_control": 1}, "two-group").level == 4
    assert evidence_level({"nrs": 3}, "unspecified").level is None
    assert grade_start({"not stated": 3}, "two-group").certainty is None
    assert grade_start({"rct": 3}, "single-group").certainty == "low"


# --- through metapool run -----------------------------------------------------------------------------

def test_rcts_without_a_design_column_are_not_stated_never_level_4(tmp_path):
    status, md, html, report, results = run(tmp_path, design="")
    assert status == 0
    outcome = results["outcomes"][0]
    assert outcome["evidence_level"]["level"] is None and outcome["evidence_level"]["label"] == "Level not stated"
    assert outcome["designs"] == {"not stated": 5}
    assert results["card"]["outcomes"][0]["certainty"]["start"] == "not assessed"
    assert results["card"]["outcomes"][0]["certainty"]["rating"] == "not assessed"
    for text in (md, html, report):
        assert "Level not stated: the study design is not stated for any study" in text
        assert "Level 4" not in text and "no comparison group" not in text and "single-arm" not in text
    assert "| Mortality | " in md and "| certainty not assessed: the study design is not stated for any study" in md
    assert ("Mortality, the intervention (group 1) compared with the comparator (group 2): odds ratio") in md
    assert not re.search(r"\b(may|probably|reduces|increases)\b", results["card"]["statements"][0])


def test_design_default_declares_the_design(tmp_path):
    status, md, _, report, results = run(tmp_path, design='design_default = "RCT"')
    assert status == 0
    text = "Level 1 (OCEBM 2011): systematic review of randomised trials (5 randomised controlled trials)"
    assert text in md and text in report
    assert results["outcomes"][0]["evidence_level"]["level"] == 1
    certainty = results["card"]["outcomes"][0]["certainty"]
    assert certainty["start"] == "high" and certainty["start_reason"] == "starts high: randomised trials"


def test_two_group_outcome_from_rcts_is_level_1_also_by_mantel_haenszel(tmp_path):
    mh = MORTALITY + 'method = "MH"\n'
    status, md, html, _, results = run(tmp_path, outcomes=mh)
    assert status == 0
    assert "Level 1 (OCEBM 2011): systematic review of randomised trials (5 randomised controlled trials)" in html
    assert results["card"]["evidence_level"]["level"] == 1 and "no comparison group" not in md


@pytest.mark.parametrize("text", ["non-randomised controlled study", "quasi-randomised", "not randomised"])
def test_non_randomised_designs_are_level_3_and_start_low(tmp_path, text):
    status, md, _, report, results = run(tmp_path, designs=(text,) * 5)
    assert status == 0
    assert ("Level 3 (OCEBM 2011): systematic review of non-randomised controlled studies"
            " (5 non-randomised controlled studies)") in md
    assert "Level 1" not in md + report and results["card"]["outcomes"][0]["certainty"]["start"] == "low"


def test_mixed_designs_are_reported_as_such(tmp_path):
    designs = ("RCT", "RCT", "non-randomised controlled study", "RCT", "nonrandomized")
    status, md, html, _, results = run(tmp_path, designs=designs)
    assert status == 0
    text = ("Level 3 (OCEBM 2011): systematic review of mixed designs; level 3, that of the weakest design"
            " (3 randomised controlled trials, 2 non-randomised controlled studies)")
    assert text in md and text in html
    assert "Studies: 5 (3 randomised controlled trials, 2 non-randomised controlled studies)" in md
    reason = results["card"]["outcomes"][0]["certainty"]["start_reason"]
    assert reason.startswith("starts low: 2 of 5 studies are observational")


def test_unknown_design_stops_the_run_with_exit_2_naming_row_study_and_column(tmp_path, capsys):
    status, *_ = run(tmp_path, designs=("RCT", "pilot study", "RCT", "RCT", "RCT"))
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert ("metapool: error: row 2 (study 'Jones 2011'), column 'design': design 'pilot study' is not recognised;"
            " the designs are: randomised controlled trial") in err
    assert not (tmp_path / "out").exists()


def test_unknown_design_default_names_key_and_line(tmp_path):
    with pytest.raises(DataValidationError, match=r"line 5: key 'design_default': design 'trial' is not recognised"):
        parse_spec(spec_text(design='design_default = "trial"'), "a.toml", tmp_path)


def test_single_arm_proportions_are_level_4_case_series(tmp_path):
    status, md, html, _, results = run(tmp_path, designs=("phase 2 single-arm",) * 5, outcomes=TREATED_ARM)
    assert status == 0
    text = ("Level 4 (OCEBM 2011): case series: single-group results without a comparison group"
            " (5 single-arm trials or case series)")
    assert text in md and text in html and results["outcomes"][0]["evidence_level"]["level"] == 4


def test_one_arm_of_rcts_does_not_claim_their_level(tmp_path):
    status, md, _, report, results = run(tmp_path, outcomes=TREATED_ARM)
    assert status == 0
    assert ("Level 4 (OCEBM 2011): single-group results taken from one arm of controlled studies; they make no"
            " comparison, so the studies' controlled design does not raise the level") in md
    assert "Level 1" not in md + report
    assert results["card"]["outcomes"][0]["certainty"]["start"] == "low"


def test_outcomes_at_different_levels_are_named(tmp_path):
    status, md, _, _, results = run(tmp_path, outcomes=MORTALITY + TREATED_ARM)
    assert status == 0
    assert ("Evidence level: Evidence level differs by outcome: Level 1 (OCEBM 2011) for Mortality (systematic"
            " review of randomised trials); Level 4 (OCEBM 2011) for Deaths in the treated arm") in md
    assert [o["evidence_level"]["level"] for o in results["card"]["outcomes"]] == [1, 4]


# --- counting -----------------------------------------------------------------------------------------

def test_headline_n_is_stated_with_its_definition_and_outcome_counts_agree(tmp_path):
    status, md, html, _, results = run(tmp_path, outcomes=MORTALITY + TREATED_ARM)
    assert status == 0
    assert ("Patients: 420 patients in 5 studies (the sum of the declared study sizes, column 'n', over the"
            " studies analysed in any outcome)") in md
    assert "420 patients in 5 studies" in html
    assert "| Mortality | " in md and "| 5 | 420 |" in md and "| 5 | 210 |" in md
    takeaway = results["card"]["takeaway"]
    # counts follow an outcome only where they differ from the headline (5 studies, 420 patients)
    assert takeaway.startswith("Across 5 studies (420 patients):") and "In 5 studies (420 patients)" not in takeaway
    assert "In 5 studies (210 patients)." in takeaway and "**Across 5 studies (420 patients):**" in md
    assert ("Counting: Patients per outcome are those analysed in it, counted from the outcome's own group sizes;"
            " they differ from the declared study sizes (column 'n') in: Deaths in the treated arm 210 of 420") in md
    assert results["card"]["n_patients"] == 420
    assert [o["n"] for o in results["card"]["outcomes"]] == [o["n_patients"] for o in results["outcomes"]]


def test_no_counting_line_when_the_outcome_analyses_the_declared_patients(tmp_path):
    status, md, _, _, results = run(tmp_path)
    assert status == 0 and "Counting:" not in md and results["card"]["counting"] is None


def test_labels_from_several_columns_and_repeated_labels_warned(tmp_path):
    status, md, _, report, results = run(tmp_path)
    assert status == 0
    csv_text = (tmp_path / "out" / "effect_sizes.csv").read_text(encoding="utf-8")
    assert "Smith 2010 (row 1)" in csv_text and "Jones 2011" in csv_text and "Smith 2010 (row 3)" in csv_text
    assert "study labels repeated: Smith 2010 (rows 1, 3); each row is analysed as its own study" in md
    assert results["outcomes"][0]["k"] == 5 and results["card"]["n_studies"] == 5
    assert re.search(r"Across 5 studies", md)


def test_study_key_must_name_columns(tmp_path):
    with pytest.raises(DataValidationError, match="key 'study'"):
        parse_spec(spec_text().replace('["author", "year"]', "[]"), "a.toml", tmp_path)


# --- SYNTHETIC only by key ----------------------------------------------------------------------------

def test_synthetic_is_never_inferred_from_a_title(tmp_path):
    status, md, html, report, _ = run(tmp_path, title="Synthetic cannabinoids: SYNTHETIC data? no")
    assert status == 0
    assert "SYNTHETIC DATA" not in md and "SYNTHETIC DATA" not in html and "SYNTHETIC DATA" not in report


def test_synthetic_key_stamps_card_and_report(tmp_path):
    status, md, html, report, results = run(tmp_path, extra="synthetic = true")
    assert status == 0
    assert "**SYNTHETIC DATA** for demonstration" in md and "<strong>SYNTHETIC DATA</strong>" in html
    assert "<strong>SYNTHETIC DATA.</strong>" in report and results["spec"]["synthetic"] is True


def test_synthetic_key_must_be_true_or_false(tmp_path):
    with pytest.raises(DataValidationError, match="key 'synthetic': must be true or false"):
        parse_spec(spec_text(extra='synthetic = "yes"'), "a.toml", tmp_path)


def test_bundled_demo_declares_synthetic():
    from metapool.datasets import DATASETS

    path = DATASETS["aml_hma_ven_synthetic"].path.with_suffix(".toml")
    spec = parse_spec(path.read_text(encoding="utf-8"), path.name, path.parent)
    assert spec.synthetic is True
