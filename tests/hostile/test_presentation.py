"""Issue 10, presentation: numbers that read right, levels that are the ones used, user text that
stays text in Markdown and CSV, and studies counted and weighted by row, never by label.
"""

import csv
import io
import math
import re
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metapool.analysis import Analysis, run_analysis, run_outcome
from metapool.evidence import DESIGNS
from metapool.formatting.numbers import MINUS, fmt, fmt_interval, fmt_percents, fmt_values
from metapool.formatting.text import md_escape, one_line
from metapool.io.tables import StudyTable
from metapool.report.card import build_card, format_estimate
from metapool.report.certainty import footnote
from metapool.report.render import _csv, effect_size_rows, render_card, render_report, safe_cell, write_outputs
from metapool.spec import parse_spec

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def analyse(tmp_path, data: str, spec: str):
    (tmp_path / "studies.csv").write_text(data, encoding="utf-8", newline="")
    return run_analysis(parse_spec(spec, base_dir=tmp_path))


def proportion_spec(extra: str = "", defaults: str = "") -> str:
    return f"""title = "Review"
data = "studies.csv"
study = "study"
n = "n"
design = "design"
{defaults}
[[outcome]]
name = "Response"
kind = "proportion"
events = "events"
total = "n"
{extra}"""


# --- 1. precision follows the value -----------------------------------------------------------------

RARE = "study,n,events,design\n" + "".join(
    f"S{i},{n},{e},cohort\n" for i, (n, e) in enumerate([(1000, 2), (1500, 3), (800, 1), (2000, 5), (1200, 2)]))


def test_rare_event_rate_is_not_printed_as_zero_percent(tmp_path, capsys):
    """The report: a pooled 0.19% (0.09-0.40%) printed as "0% (95% CI 0–0%)" on card, report and console."""
    analysis = analyse(tmp_path, RARE, proportion_spec())
    outcome = analysis.outcomes[0]
    p = outcome.pooled
    assert 0.001 < p.estimate < 0.003
    text = format_estimate(outcome)
    est, lo, hi = fmt_percents((p.estimate, p.ci_lower, p.ci_upper))
    assert text == f"{est}% (95% CI {lo}\u2013{hi}%)"
    assert re.fullmatch(r"0\.[1-9]\d", est)  # two significant digits
    card = build_card(analysis)
    assert f"{est}% of patients (95% CI {lo}\u2013{hi}%" in card.takeaway and card.rows[0].estimate == text
    html, md = render_card(analysis)
    for shown in (md, html, render_report(analysis)):
        assert text in shown and not re.search(r"(?<![\d.])0% \(95% CI", shown)
    from metapool.cli.main import main

    (tmp_path / "analysis.toml").write_text(proportion_spec())
    assert main(["run", str(tmp_path / "analysis.toml"), "-o", str(tmp_path / "out")]) == 0
    assert f"{est}%" in capsys.readouterr().out


def test_rare_event_forest_plot_numbers_are_not_zero(tmp_path):
    """The forest plot's columns share one precision: enough decimals for the smallest estimate."""
    from metapool.plots import forest_plot, forest_table
    from metapool.plots._style import pyplot

    outcome = analyse(tmp_path, RARE, proportion_spec()).outcomes[0]
    ax = forest_plot(forest_table(outcome.model, outcome.effects))
    texts = [t.get_text() for t in ax.figure.findobj(lambda o: hasattr(o, "get_text"))]
    intervals = [t for t in texts if re.fullmatch(r"[\d.]+ \[[\d.]+, [\d.]+\]", t)]
    assert len(intervals) == 6  # five studies and the pooled row, about 0.2%: two decimals each (0.17, not 0.2)
    assert all(re.fullmatch(r"\d\.\d\d \[\d\.\d\d, \d\.\d\d\]", t) for t in intervals), intervals
    pyplot().close(ax.figure)


@pytest.mark.parametrize(("x", "text"), [(1.8e20, "1.8000e+20"), (-1e300, "-1.0000e+300"), (123.456, "123.4560"),
                                         (float("inf"), "inf"), (float("nan"), "NA")])
def test_fmt_huge_values_are_scientific_not_hundreds_of_digits(x, text):
    """metapool pool printed 1e300 as a 300-digit fixed-point string."""
    assert fmt(x) == text


@pytest.mark.parametrize(("values", "expected"), [
    ((0.0019, 0.0009, 0.0040), "0.19% (0.09\u20130.40%)"),
    ((0.042, 0.021, 0.080), "4.2% (2.1\u20138.0%)"),
    ((0.50, 0.45, 0.55), "50% (45\u201355%)"),
    ((0.9996, 0.995, 1.0), "99.96% (99.50\u2013100.00%)"),
    ((0.30, 0.004, 0.60), "30% (0.40\u201360%)"),
])
def test_percent_examples(values, expected):
    assert fmt_interval(*values, percent=True) == expected


@pytest.mark.parametrize(("values", "expected"), [
    ((-0.34, -0.61, -0.05), f"{MINUS}0.34 ({MINUS}0.61 to {MINUS}0.05)"),
    ((0.5, -0.2, 1.3), f"0.50 ({MINUS}0.20 to 1.30)"),
    ((0.0034, 0.0012, 0.0095), "0.0034 (0.0012\u20130.0095)"),
    ((12345.678, 10000.0, 15000.0), "12,345.68 (10,000.00\u201315,000.00)"),
    ((1.0, 0.5, 2.0), "1.00 (0.50\u20132.00)"),
])
def test_other_estimate_examples(values, expected):
    assert fmt_interval(*values) == expected


def _numbers(texts):
    return [float(t.replace(MINUS, "-").replace(",", "")) for t in texts]


@SETTINGS
@given(p=st.floats(1e-6, 1.0), down=st.floats(0.0, 1.0), up=st.floats(0.0, 1.0))
def test_property_percentages_never_read_zero_or_alike(p, down, up):
    """Class: no nonzero proportion reads as 0%, none below 1 as 100%, and values that differ by
    more than 1% (relative) never read alike."""
    values = (p, p * down, p + (1 - p) * up)
    texts = fmt_percents(values)
    shown = _numbers(texts)
    for v, text, x in zip(values, texts, shown):
        if v > 0:
            assert x > 0, (values, texts)
        if v < 1:
            assert x < 100, (values, texts)
        assert abs(x - 100 * v) <= 0.5 * 10 ** -len(text.partition(".")[2]) * 1.0001 + 1e-12  # + float error of 100 * v
    for i in range(3):
        for j in range(i):
            a, b = values[i], values[j]
            if abs(a - b) > 0.01 * max(a, b):
                assert texts[i] != texts[j], (values, texts)
    assert not re.search(r"(?<![\d.])0%", fmt_interval(*values, percent=True))


@SETTINGS
@given(x=st.floats(-1e6, 1e6).filter(lambda v: abs(v) > 1e-9), spread=st.floats(0.0, 10.0))
def test_property_other_estimates_never_read_zero_or_alike(x, spread):
    values = (x, x - spread * abs(x), x + spread * abs(x))
    texts = fmt_values(values)
    for v, text in zip(values, texts):
        assert (v == 0) == (_numbers([text])[0] == 0), (values, texts)
        assert text.startswith(MINUS) == (v < 0) and "-" not in text
    for i in range(3):
        for j in range(i):
            if abs(values[i] - values[j]) > 0.01 * max(abs(values[i]), abs(values[j])):
                assert texts[i] != texts[j], (values, texts)
    shown = fmt_interval(*values)
    assert (" to " in shown) == any(v < 0 for v in values[1:])


def test_certainty_reasons_and_i2_use_the_same_precision(tmp_path):
    analysis = analyse(tmp_path, RARE, proportion_spec())
    card = build_card(analysis)
    i2 = analysis.outcomes[0].model.i2
    assert card.rows[0].i2_text == ("–" if i2 is None else
                                    fmt_percents((i2 / 100,))[0] + "%")


# --- 2. every label carries the level actually used --------------------------------------------------

HETERO = "study,n,events,design\n" + "".join(
    f"S{i},{n},{e},cohort\n" for i, (n, e) in enumerate([(40, 10), (60, 35), (50, 12), (80, 60), (30, 20), (70, 21)]))


def test_level_90_everywhere(tmp_path):
    """The report: with level = 90 the card said "95% prediction interval" and the headers "95% CI"."""
    analysis = analyse(tmp_path, HETERO, proportion_spec(defaults="[defaults]\nlevel = 90\n"))
    outcome = analysis.outcomes[0]
    assert outcome.model.level == pytest.approx(0.90)
    card = build_card(analysis)
    assert card.pooled_header == "Pooled (90% CI)"
    assert "(90% CI " in card.rows[0].estimate
    assert any("90% prediction interval" in c for c in card.cautions)
    html, md = render_card(analysis)
    report = render_report(analysis)
    for text in (html, md, card.takeaway, " ".join(card.cautions)):
        assert "95%" not in text
    assert "90% CI" in md and "90% CI" in html
    assert "Intervals are 90% intervals." in report
    rows = effect_size_rows(analysis)
    assert {r["level"] for r in rows} == {90.0}


def test_mixed_levels_each_cell_states_its_own(tmp_path, capsys):
    spec = proportion_spec(extra='level = 90\n\n[[outcome]]\nname = "Response (95)"\nkind = "proportion"\n'
                                 'events = "events"\ntotal = "n"\n')
    analysis = analyse(tmp_path, HETERO, spec)
    card = build_card(analysis)
    assert card.pooled_header == "Pooled (CI)"
    assert "(90% CI " in card.rows[0].estimate and "(95% CI " in card.rows[1].estimate
    _, md = render_card(analysis)
    assert "| Outcome | Pooled (CI) |" in md
    cautions = " ".join(card.cautions)
    assert "Response: 90% prediction interval" in cautions and "Response (95): 95% prediction interval" in cautions
    assert "90% for Response; 95% for Response (95)" in render_report(analysis)
    from metapool.cli.main import main

    (tmp_path / "analysis.toml").write_text(spec)
    assert main(["run", str(tmp_path / "analysis.toml"), "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "Pooled (CI)" in out and "95% CI" in out and "90% CI" in out


def test_certainty_imprecision_reason_names_the_level(tmp_path):
    data = "study,n,events,design\nA,10,2,cohort\nB,12,9,cohort\nC,8,4,cohort\n"
    analysis = analyse(tmp_path, data, proportion_spec(defaults="[defaults]\nlevel = 80\n"))
    outcome = analysis.outcomes[0]
    reasons = [footnote(d, percent=True, level=outcome.pooled.level) for d in outcome.grade.domains]
    assert any(r.startswith("Serious imprecision: the 80% CI (") or r.startswith("Very serious imprecision: the 80% CI (")
               for r in reasons), reasons
    assert not any("95%" in r for r in reasons), reasons


# --- 3 and 4. Markdown/HTML injection and line separators ---------------------------------------------

def test_markdown_escape_examples():
    assert md_escape("A | B") == "A \\| B"
    assert md_escape("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert md_escape("x\u2028| y\r\nz") == "x \\| y  z"
    assert md_escape("**[link](http://x)**") == "\\*\\*\\[link\\](http://x)\\*\\*"
    assert md_escape("- 1. # title") == "\\- 1. \\# title"
    assert md_escape("Smith-Jones (2010) 0.19% (95% CI 0.09\u20130.40%)") == \
        "Smith-Jones (2010) 0.19% (95% CI 0.09\u20130.40%)"


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85", "\r", "\n", "\v", "\f", "\x1e", "\x00", "\t"])
def test_one_line_and_csv_cells_drop_every_line_break(char):
    assert one_line(f"Smith{char}2010") == "Smith 2010"
    assert safe_cell(f"Smith{char}2010") == "Smith 2010"
    assert safe_cell(f"{char}=cmd()") == " =cmd()"
    assert safe_cell(1.5) == 1.5


INJECT = "study,n,events,design\nA,40,10,cohort\nB,60,35,cohort\nC,50,12,cohort\n"


def test_card_md_title_takeaway_and_labels_cannot_inject(tmp_path):
    """The report: card.md wrote title and takeaway raw, and a label could inject a table row."""
    spec = proportion_spec().replace('title = "Review"', 'title = "<img src=x onerror=alert(1)> **T**"').replace(
        'name = "Response"', 'name = "R | injected | row |\\n| x | y | z | w | v |"')
    analysis = analyse(tmp_path, INJECT, spec)
    _, md = render_card(analysis)
    assert "<" not in md and ">" not in md.replace("\n> **SYNTHETIC", "")
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert len(table) == 3  # header, rule, one outcome
    assert md.splitlines()[0] == "# &lt;img src=x onerror=alert(1)&gt; \\*\\*T\\*\\*"


def test_report_and_card_html_keep_autoescaping(tmp_path):
    spec = proportion_spec().replace('name = "Response"', 'name = "<script>alert(1)</script>"')
    analysis = analyse(tmp_path, INJECT, spec)
    html, _ = render_card(analysis)
    for text in (html, render_report(analysis)):
        assert "<script>alert(1)</script>" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def _in_memory(labels, name: str, title: str, design: str, unit: str, tmp_path) -> Analysis:
    """An analysis of a table built in memory, so that the labels reach the renderers unchanged."""
    n = len(labels)
    (tmp_path / "studies.csv").write_text("study\nx\n")
    spec = parse_spec(proportion_spec(), base_dir=tmp_path)
    spec = replace(spec, title=title, outcomes=(replace(spec.outcomes[0], name=name, unit=unit),))
    table = StudyTable({"study": list(labels), "n": [40 + 5 * i for i in range(n)],
                        "events": [10 + 3 * i for i in range(n)], "design": [design] * n}, n)
    outcomes = tuple(run_outcome(spec, o, table) for o in spec.outcomes)
    return Analysis(spec, outcomes, n, "0" * 64, table=table)


HOSTILE = st.text(alphabet=st.sampled_from(list("|<>*_`[]()#+-.!\\{}&;=@\t\r\n\v\f\x85\u2028\u2029 aZ0")) |
                  st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=25).filter(str.strip)


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)(?:\\\\)*\|", line))


#: Designs are a closed vocabulary (any other text is an error: tests/test_evidence.py); the card shows their names.
DESIGN_SPELLINGS = st.sampled_from([s for d in DESIGNS.values() for s in d.spellings])


@SETTINGS
@given(label=HOSTILE, name=HOSTILE, title=HOSTILE, design=DESIGN_SPELLINGS)
def test_property_hostile_text_never_adds_a_row_or_a_tag(tmp_path_factory, label, name, title, design):
    """Class: any label, outcome name, title or unit in card.md and effect_sizes.csv stays one
    cell: no extra table row, no raw tag, the CSV has one record per study on one line each."""
    labels = [label, label, "Plain", f"<script>{label}"]  # a repeated hostile label reaches the cautions
    analysis = _in_memory(labels, name, title, design, name, tmp_path_factory.mktemp("h"))
    html, md = render_card(analysis)
    assert "<" not in md
    lines = md.splitlines()
    table = [line for line in lines if line.startswith("|")]
    assert len(table) == 3 and all(_unescaped_pipes(line) == 6 for line in table), table
    assert lines[0].startswith("# ") and len(lines) == len(md.split("\n")) - 1
    assert "<script>" not in html
    text = _csv(effect_size_rows(analysis))
    records = list(csv.DictReader(io.StringIO(text)))
    assert len(records) == len(labels) and len(text.splitlines()) == len(labels) + 1
    assert [r["row"] for r in records] == ["1", "2", "3", "4"]
    assert all(not r["study"].startswith(("=", "+", "-", "@")) for r in records)


# --- 5. count and map by row, never by label ---------------------------------------------------------

DUPLICATES = """study,n,events,design
Smith 2010,100,10,cohort
Jones 2011,80,20,cohort
Smith 2010,200,40,cohort
,150,30,RCT
Lee 2013,60,5,cohort
 ,90,30,cohort
"""


def test_duplicate_and_blank_labels_get_their_own_weights_rows_and_counts(tmp_path):
    """The report: both "Smith 2010" rows got 25.015%, the weights summed to 100.68%, and the card
    counted a set of labels."""
    analysis = analyse(tmp_path, DUPLICATES, proportion_spec())
    outcome = analysis.outcomes[0]
    assert outcome.rows == (0, 1, 2, 3, 4, 5) and outcome.to_dict()["rows"] == [1, 2, 3, 4, 5, 6]
    assert outcome.model.slab[3] == "Study 4" and outcome.model.slab[5] == "Study 6"
    assert any("study labels repeated: Smith 2010 (rows 1, 3)" in w for w in outcome.warnings)
    rows = effect_size_rows(analysis)
    weights = [r["weight_percent"] for r in rows]
    assert len(rows) == 6 and math.fsum(weights) == pytest.approx(100.0, abs=1e-9)
    assert weights == pytest.approx(list(outcome.model.weights), abs=1e-12)
    assert weights[0] != weights[2]
    assert [r["study"] for r in rows] == ["Smith 2010 (row 1)", "Jones 2011", "Smith 2010 (row 3)", "Study 4",
                                          "Lee 2013", "Study 6"]
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5, 6]
    card = build_card(analysis)
    assert card.n_studies == 6 and card.n_patients == 680
    assert card.designs == {"cohort studies": 5, "randomised controlled trial": 1}
    assert any("Smith 2010 (rows 1, 3)" in c for c in card.cautions)
    written = write_outputs(analysis, tmp_path / "out")
    records = list(csv.DictReader(written["effect_sizes"].open(encoding="utf-8")))
    assert math.fsum(float(r["weight_percent"]) for r in records) == pytest.approx(100.0, abs=1e-9)
    assert "Smith 2010 (rows 1, 3)" in written["card_md"].read_text(encoding="utf-8")


def test_card_counts_rows_over_outcomes_not_labels(tmp_path):
    data = "study,n,events,other,design\nA,40,10,,cohort\nA,50,12,5,cohort\nB,60,20,9,cohort\nC,30,5,,cohort\n"
    spec = proportion_spec(extra='\n[[outcome]]\nname = "Other"\nkind = "proportion"\nevents = "other"\ntotal = "n"\n')
    analysis = analyse(tmp_path, data, spec)
    assert [o.rows for o in analysis.outcomes] == [(0, 1, 2, 3), (1, 2)]
    card = build_card(analysis)
    assert card.n_studies == 4 and card.n_patients == 180


def test_only_rows_in_a_model_count(tmp_path):
    data = "study,n,events,design\nA,40,10,cohort\nB,50,,RCT\nC,60,20,cohort\n"
    analysis = analyse(tmp_path, data, proportion_spec())
    assert analysis.outcomes[0].rows == (0, 2)
    card = build_card(analysis)
    assert card.n_studies == 2 and card.n_patients == 100 and card.designs == {"cohort studies": 2}
    rows = effect_size_rows(analysis)
    assert rows[1]["weight_percent"] == "" and rows[1]["excluded"]


def test_median_of_medians_records_its_rows(tmp_path):
    data = "study,n,med,design\nA,40,8.1,cohort\nA,50,,cohort\nB,60,9.0,cohort\nC,30,6.5,cohort\n"
    spec = ('title = "M"\ndata = "studies.csv"\nstudy = "study"\nn = "n"\n[[outcome]]\nname = "OS"\n'
            'kind = "median"\nmedian = "med"\n')
    analysis = analyse(tmp_path, data, spec)
    outcome = analysis.outcomes[0]
    assert outcome.medians.rows == (0, 2, 3) and outcome.rows == (0, 2, 3)
    assert build_card(analysis).n_studies == 3 and outcome.n_patients == 130


def test_mantel_haenszel_rows_include_double_zero_tables(tmp_path):
    data = ("study,n,a,n1,c,n2,design\nA,100,5,50,2,50,RCT\nA,80,0,40,0,40,RCT\nB,120,8,60,3,60,RCT\n"
            "C,90,4,45,1,45,RCT\n")
    spec = ('title = "MH"\ndata = "studies.csv"\nstudy = "study"\nn = "n"\n[[outcome]]\nname = "AE"\n'
            'kind = "binary"\nmeasure = "OR"\nmethod = "MH"\nevents1 = "a"\ntotal1 = "n1"\nevents2 = "c"\n'
            'total2 = "n2"\n')
    analysis = analyse(tmp_path, data, spec)
    outcome = analysis.outcomes[0]
    assert outcome.error is None, outcome.error
    assert outcome.rows == tuple(range(outcome.k))
    rows = effect_size_rows(analysis)
    assert math.fsum(r["weight_percent"] for r in rows if r["weight_percent"] != "") == pytest.approx(100.0)


def test_glmm_rows_skip_dropped_tables_and_weights_sum_to_100(tmp_path):
    data = ("study,n,a,n1,c,n2,design\nA,100,5,50,2,50,RCT\nA,80,0,40,0,40,RCT\nB,120,8,60,3,60,RCT\n"
            "C,90,4,45,1,45,RCT\nD,70,6,35,2,35,RCT\n")
    spec = ('title = "G"\ndata = "studies.csv"\nstudy = "study"\nn = "n"\n[[outcome]]\nname = "AE"\n'
            'kind = "binary"\nmeasure = "OR"\nmethod = "GLMM"\nevents1 = "a"\ntotal1 = "n1"\nevents2 = "c"\n'
            'total2 = "n2"\n')
    analysis = analyse(tmp_path, data, spec)
    outcome = analysis.outcomes[0]
    assert outcome.rows == (0, 2, 3, 4) and not outcome.warnings  # the double-zero "A" is not in the fit
    rows = effect_size_rows(analysis)
    assert [r["study"] for r in rows][:2] == ["A (row 1)", "A (row 2)"]
    assert rows[1]["weight_percent"] == "" and "drop00" in rows[1]["excluded"]
    assert math.fsum(r["weight_percent"] for r in rows if r["weight_percent"] != "") == pytest.approx(100.0)
    assert build_card(analysis).n_studies == 4


def test_forest_rows_follow_table_rows_with_repeated_labels(tmp_path):
    from metapool.plots.forest_data import forest_table

    analysis = analyse(tmp_path, DUPLICATES, proportion_spec())
    outcome = analysis.outcomes[0]
    table = forest_table(outcome.model, outcome.effects)
    assert [s.label for s in table.studies][:3] == ["Smith 2010", "Jones 2011", "Smith 2010"]
    assert [s.cells for s in table.studies][:3] == [("10", "100"), ("20", "80"), ("40", "200")]
    assert math.fsum(s.weight for s in table.studies) == pytest.approx(100.0)


def test_forest_labels_stay_on_one_line():
    """A U+2028 or newline in a label is a space in the forest plot, not a dropped character or a second line."""
    import metapool as mp
    from metapool.plots import forest_plot, forest_table
    from metapool.plots._style import pyplot

    es = mp.escalc("PLO", xi=[3, 10, 20], ni=[30, 40, 50], slab=["Lee\u20282015", "Kim\n2016", "Park\r2017"])
    ax = forest_plot(forest_table(mp.rma(es), es))
    texts = {t.get_text() for t in ax.figure.findobj(lambda o: hasattr(o, "get_text"))}
    assert {"Lee 2015", "Kim 2016", "Park 2017"} <= texts
    pyplot().close(ax.figure)
