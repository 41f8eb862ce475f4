"""Per-domain risk-of-bias judgements: the analysis-file key, the vocabulary, and the robvis figures
(traffic light and summary) in the report (issue 12)."""

from __future__ import annotations

import json
import re

import pytest

from metapool.cli.main import main
from metapool.evidence.risk_of_bias import JUDGEMENTS, parse_judgement, risk_of_bias_table
from metapool.exceptions import DataValidationError
from metapool.plots.risk_of_bias import rob_summary_plot, traffic_light_plot
from metapool.spec import parse_spec

TRIALS = """study,year,e1,n1,e2,n2,overall,D1 randomisation,D2 deviations,D3 missing data
<b>Smith</b>,2001,4,50,9,51,low,low,Low risk,+
Jones $x$,2003,6,60,10,58,some concerns,Some concerns,unclear,low
"Lee
Chan",2005,3,40,8,41,high,high,serious,
Park,2007,9,80,15,79,{},low,low,no information
Kim,2009,5,45,7,44,low,L,low,low
"""

SPEC = """title = "RoB"
data = "studies.csv"
study = ["study", "year"]
risk_of_bias = "overall"
risk_of_bias_domains = ["D1 randomisation", "D2 deviations", "D3 missing data"]

[[outcome]]
name = "Death"
kind = "binary"
events1 = "e1"
total1 = "n1"
events2 = "e2"
total2 = "n2"
"""


def run(tmp_path, overall="low", spec=SPEC):
    (tmp_path / "studies.csv").write_text(TRIALS.format(overall), encoding="utf-8")
    (tmp_path / "analysis.toml").write_text(spec, encoding="utf-8")
    return main(["run", str(tmp_path / "analysis.toml"), "-o", str(tmp_path / "out")])


@pytest.mark.parametrize(("cell", "judgement"), [
    ("low", "low"), (" Low Risk ", "low"), ("+", "low"), ("Some concerns", "some concerns"), ("unclear", "some concerns"),
    ("moderate", "some concerns"), ("HIGH", "high"), ("serious", "high"), ("critical", "high"), ("X", "high"),
    ("no information", "no information"), ("NI", "no information"), ("", "no information"), (None, "no information"),
    (float("nan"), "no information"), ("NA", "no information"),
])
def test_accepted_spellings(cell, judgement):
    assert parse_judgement(cell) == judgement


def test_an_unknown_judgement_names_row_study_column_and_value():
    with pytest.raises(DataValidationError) as info:
        risk_of_bias_table(["A 2001", "B 2002"], {"D1": ["low", "probably fine"]})
    assert str(info.value).startswith("row 2 (study 'B 2002'), column 'D1': risk-of-bias judgement 'probably fine' is"
                                      " not recognised; the judgements are: " + ", ".join(JUDGEMENTS))


def test_the_key_is_read_and_checked(tmp_path):
    spec = parse_spec(SPEC, "a.toml", tmp_path)
    assert spec.risk_of_bias_domains == ("D1 randomisation", "D2 deviations", "D3 missing data")
    assert spec.to_dict()["risk_of_bias_domains"] == spec.risk_of_bias_domains
    for value, message in (('"D1"', "must be a list of the columns"), ("[]", "must be a list of the columns"),
                           ('["D1", "D1"]', "column 'D1' is listed twice"), ("[1]", "must be a non-empty text")):
        text = SPEC.replace('["D1 randomisation", "D2 deviations", "D3 missing data"]', value)
        with pytest.raises(DataValidationError, match=re.escape(message)) as info:
            parse_spec(text, "a.toml", tmp_path)
        assert "line 5" in str(info.value) and "risk_of_bias_domains" in str(info.value)


def test_a_missing_domain_column_is_an_error_of_the_file(tmp_path, capsys):
    status = run(tmp_path, spec=SPEC.replace('"D3 missing data"]', '"D4 outcome"]'))
    err = capsys.readouterr().err
    assert status == 2 and "risk_of_bias_domains" in err and "'D4 outcome' is not in studies.csv" in err


def test_an_unknown_judgement_stops_the_run_with_exit_2(tmp_path, capsys):
    status = run(tmp_path, overall="fine I think")
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert ("row 4 (study 'Park 2007'), column 'overall': risk-of-bias judgement 'fine I think' is not recognised"
            in err)
    assert not (tmp_path / "out").exists()


def test_report_shows_the_traffic_light_and_summary_plots(tmp_path):
    assert run(tmp_path) == 0
    out = tmp_path / "out"
    for stem in ("risk_of_bias_traffic_light", "risk_of_bias_summary"):
        assert (out / "figures" / f"{stem}.svg").is_file()
    html = (out / "report.html").read_text(encoding="utf-8")
    section = html[html.index('<h2 id="risk-of-bias">'):html.index('<h2 id="outcome-1">')]
    assert section.count("<figure>") == 2 and "<svg" in section
    assert "<b>Smith" not in section and "&lt;b&gt;Smith&lt;/b&gt; 2001" in section  # user text is escaped
    assert "Jones $x$ 2003" in section  # drawn literally, no mathtext
    assert "Lee Chan 2005" in section  # one line
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    rob = results["risk_of_bias_domains"]
    assert rob["domains"] == ["D1 randomisation", "D2 deviations", "D3 missing data"]
    assert rob["studies"][2] == {"study": "Lee\nChan 2005", "D1 randomisation": "high", "D2 deviations": "high",
                                 "D3 missing data": "no information", "Overall": "high"}
    assert rob["counts"]["D3 missing data"] == {"low": 3, "some concerns": 0, "high": 0, "no information": 2}
    assert "risk of bias in 3 domains and overall is shown as traffic-light and summary plots [" in html


def test_without_domains_there_is_no_section(tmp_path):
    spec = SPEC.replace('risk_of_bias_domains = ["D1 randomisation", "D2 deviations", "D3 missing data"]\n', "")
    assert run(tmp_path, spec=spec) == 0
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert 'id="risk-of-bias"' not in html and "robvis" not in html.lower()
    assert not list((tmp_path / "out" / "figures").glob("risk_of_bias*"))


def test_figures_draw_on_given_axes_without_an_overall_column():
    from metapool.plots._style import pyplot

    table = risk_of_bias_table(["A", "B"], {"Randomisation": ["low", "high"], "Selection": ["", "unclear"]})
    assert table.overall is None and table.counts()["Selection"]["no information"] == 1
    fig, (a, b) = pyplot().subplots(1, 2)
    assert traffic_light_plot(table, ax=a) is a and rob_summary_plot(table, ax=b) is b
    texts = [t.get_text() for t in a.texts]
    assert "Overall" not in texts and "D1: Randomisation" in texts and texts.count("X") == 1
    pyplot().close(fig)


@pytest.mark.parametrize(("j", "name", "shown"), [(0, "D1 randomisation", "D1 randomisation"),
                                                  (0, "Randomisation", "D1: Randomisation"),
                                                  (0, "D10 other", "D1: D10 other"), (1, "d2: deviations", "d2: deviations")])
def test_a_domain_named_with_its_key_is_not_prefixed_twice(j, name, shown):
    from metapool.plots.risk_of_bias import _domain_name

    assert _domain_name(j, name, 70) == shown
