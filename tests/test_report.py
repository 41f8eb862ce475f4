"""The main job: analysis file -> report, results, CSV, figures and evidence card."""

import csv
import json
import math
import re

import pytest

import metapool as mp
from metapool.analysis import run_analysis
from metapool.cli.main import main
from metapool.exceptions import DataValidationError
from metapool.report.render import write_outputs
from metapool.spec import load_spec, parse_spec

DATA = """study,n,resp,cr,surv_m,surv_lo,surv_hi,design,rob
<script>alert(1)</script>,40,20,10,8.1,6.0,10.5,prospective,low
=HYPERLINK("http://x"),55,30,,9.0,7.1,12.0,retrospective,high
Plain 2020,25,9,,6.5,4.0,9.9,retrospective,low
Other 2021,60,33,,,,,prospective,some concerns
"""

SPEC = """title = "Test review"
population = "Single-arm studies with n >= 20 patients"
data = "studies.csv"
study = "study"
n = "n"
design = "design"
risk_of_bias = "rob"

[[outcome]]
name = "Response"
kind = "proportion"
events = "resp"
total = "n"
subgroup = "design"

[[outcome]]
name = "CR (one study)"
kind = "proportion"
events = "cr"
total = "n"

[[outcome]]
name = "Median OS"
kind = "median"
median = "surv_m"
lower = "surv_lo"
upper = "surv_hi"
n = "n"
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("review")
    (folder / "studies.csv").write_text(DATA)
    (folder / "analysis.toml").write_text(SPEC)
    analysis = run_analysis(load_spec(folder / "analysis.toml"))
    written = write_outputs(analysis, folder / "out")
    return folder, analysis, written


def test_files_are_written(run):
    _, _, written = run
    for name in ("report", "results", "effect_sizes", "card_html", "card_md"):
        assert written[name].is_file()
    assert written["figures"] and all(p.is_file() for p in written["figures"])
    assert {p.suffix for p in written["figures"]} == {".svg"}  # PNGs with figures="both" (test_figure_drawing)


def test_report_numbers_equal_the_api(run):
    folder, analysis, written = run
    results = json.loads(written["results"].read_text())
    es = mp.escalc("PLO", mp.io.read_table(folder / "studies.csv"), xi="resp", ni="n", slab="study")
    direct = mp.rma(es)
    response = results["outcomes"][0]
    assert response["model"]["estimate"] == pytest.approx(direct.estimate, rel=1e-12)
    assert response["model"]["back"]["estimate"] == pytest.approx(direct.back().estimate, rel=1e-12)
    assert response["n_patients"] == 180 and response["k"] == 4
    html = written["report"].read_text()
    assert f"{100 * direct.back().estimate:.0f}%" in html


def test_k1_and_k2_outcomes_build_and_say_what_is_undefined(run):
    _, analysis, _ = run
    cr = analysis.outcomes[1]
    assert cr.k == 1 and cr.error is None
    assert "bias" in cr.skipped and "needs at least 3 studies" in cr.skipped["bias"]
    os_ = analysis.outcomes[2]
    assert os_.k == 3 and os_.model is not None


def test_user_text_is_escaped_in_html(run):
    _, _, written = run
    for name in ("report", "card_html"):
        html = written[name].read_text()
        assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in written["report"].read_text()
    provenance = written["report"].read_text().split('id="metapool-provenance">')[1].split("</script>")[0]
    assert "<" not in provenance and ">" not in provenance and json.loads(provenance)["input_sha256"]


def test_csv_guards_formulas_and_keeps_numbers(run):
    _, _, written = run
    rows = list(csv.DictReader(written["effect_sizes"].open()))
    labels = {r["study"] for r in rows}
    assert "'=HYPERLINK(\"http://x\")" in labels
    first = rows[0]
    assert float(first["yi"]) == pytest.approx(0.0) and not first["yi"].startswith("'")
    negative = [r for r in rows if r["yi"] and float(r["yi"]) < 0]
    assert negative and all(not r["yi"].startswith("'") for r in negative)


def test_card_reports_analysed_patients_not_the_inclusion_threshold(run):
    _, _, written = run
    card = written["card_md"].read_text()
    assert ("Patients: 180 patients in 4 studies (the sum of the declared study sizes, column 'n', over the"
            " studies analysed in any outcome)") in card
    assert not re.search(r"\b20 patients", card)
    results = json.loads(written["results"].read_text())
    assert results["card"]["n_patients"] == 180
    assert results["card"]["evidence_level"]["level"] == 4


def test_existing_report_needs_force(run, capsys):
    folder, _, _ = run
    args = ["run", str(folder / "analysis.toml"), "-o", str(folder / "out")]
    assert main(args) == 2
    assert "use --force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


def test_outcome_names_cannot_escape_the_output_folder(tmp_path):
    (tmp_path / "studies.csv").write_text(DATA)
    spec = SPEC.replace('name = "Response"', 'name = "../../../etc/evil"')
    analysis = run_analysis(parse_spec(spec, "a.toml", tmp_path))
    written = write_outputs(analysis, tmp_path / "out")
    out = (tmp_path / "out").resolve()
    assert written["figures"] and all(p.resolve().is_relative_to(out) for p in written["figures"])


@pytest.mark.parametrize(
    "text, message",
    [
        ('data = "x.csv"\n[[outcome]]\nname = "A"\nkind = "proportion"\nevents = "e"\ntotal = "n"\nmethod = "XX"\n',
         "line 7: outcome 1 ('A'), key 'method': 'XX' is not one of"),
        ('data = "x.csv"\n[[outcome]]\nname = "A"\nkind = "proportion"\nevents = "e"\n',
         "outcome 1 ('A'), key 'kind': a 'proportion' outcome needs the column keys (events, total)"),
        ('data = "x.csv"\n[[outcome]]\nname = "A"\nkind = "proportion"\nevents = "e"\ntotal = "n"\ncolour = 1\n',
         "line 7: outcome 1 ('A'), key 'colour': unknown key"),
        ('data = "x.csv"\n[[outcome]\n', "not valid TOML"),
        ('title = "x"\n', "key 'data' (the study table) is missing"),
    ],
)
def test_bad_analysis_files_name_key_and_line(text, message):
    with pytest.raises(DataValidationError, match=None) as exc:
        parse_spec(text, "a.toml")
    assert message in str(exc.value)


def test_init_writes_a_template_that_parses(tmp_path, capsys):
    (tmp_path / "studies.csv").write_text(DATA)
    out = tmp_path / "analysis.toml"
    assert main(["init", str(tmp_path / "studies.csv"), "-o", str(out)]) == 0
    spec = load_spec(out)
    assert spec.study == "study" and spec.n == "n"
    assert main(["init", str(tmp_path / "studies.csv"), "-o", str(out)]) == 2


def test_pooled_values_are_finite(run):
    _, analysis, _ = run
    for o in analysis.outcomes:
        p = o.pooled
        assert math.isfinite(p.estimate) and p.ci_lower <= p.estimate <= p.ci_upper


def test_landmark_survival_from_reported_estimates_with_cis(tmp_path):
    (tmp_path / "s.csv").write_text("study,os1y,lo,hi\nA,0.45,0.35,0.55\nB,0.30,0.20,0.42\nC,0.52,0.40,0.64\n")
    spec = parse_spec('data = "s.csv"\nstudy = "study"\n[[outcome]]\nname = "1-year OS"\nkind = "survival"\n'
                      'prop = "os1y"\nci_lower = "lo"\nci_upper = "hi"\n', "a.toml", tmp_path)
    outcome = run_analysis(spec).outcomes[0]
    direct = mp.rma(mp.escalc("PCI", prop=[0.45, 0.30, 0.52], ci_lb=[0.35, 0.20, 0.40], ci_ub=[0.55, 0.42, 0.64]))
    assert outcome.model.measure == "PCI"
    assert outcome.pooled.estimate == pytest.approx(direct.back().estimate, rel=1e-12)
