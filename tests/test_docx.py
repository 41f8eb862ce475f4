"""``metapool run --docx``: report.docx, read back with python-docx.

The document's numbers are the evidence card's (results.json), its pictures
the PNG figures of the report folder, its captions numbered, and user text
(titles, outcome names, study labels, subgroup levels) plain text.
"""

import json
import re
import subprocess
import sys
import zipfile

import docx  # python-docx, a dependency of metapool: never skipped
import pytest

from metapool.analysis import run_analysis
from metapool.cli.main import main
from metapool.formatting.numbers import fmt_percent
from metapool.formatting.text import one_line
from metapool.report.docx import docx_text, write_docx
from metapool.spec import load_spec

BAD_LABEL = '<b>Bad & "x"</b>\x07 =cmd()'
BAD_LEVEL = "=HYPERLINK(1) <i>"
DATA = f"""study,year,hma,n,resp,e1,n1,e2,n2
A 2010,2010,aza,40,20,5,20,9,20
B 2012,2012,aza,55,30,4,27,10,28
"{BAD_LABEL.replace('"', '""')}",2013,"{BAD_LEVEL}",30,,3,15,6,15
D 2015,2015,"{BAD_LEVEL}",60,33,8,30,12,30
E 2016,2016,"{BAD_LEVEL}",45,20,6,22,11,23
F 2018,2018,aza,50,26,7,25,10,25
"""
BAD_OUTCOME = "Response <b> & \x07 =SUM(A1)"
SPEC = r"""title = "Review <script>x</script> & \u0007 =cmd"
data = "studies.csv"
study = "study"
n = "n"
intervention = "Drug"
comparator = "Placebo"

[[outcome]]
name = "Response <b> & \u0007 =SUM(A1)"
kind = "proportion"
events = "resp"
total = "n"
subgroup = "hma"
mods = ["year"]
sensitivity = false

[[outcome]]
name = "Death"
kind = "binary"
events1 = "e1"
total1 = "n1"
events2 = "e2"
total2 = "n2"
bias = false
sensitivity = false
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("review")
    (folder / "studies.csv").write_text(DATA, encoding="utf-8")
    (folder / "analysis.toml").write_text(SPEC, encoding="utf-8")
    before = {p for p in folder.parent.rglob("*")}
    assert main(["run", str(folder / "analysis.toml"), "-o", str(folder / "out"), "--docx"]) == 0
    after = {p for p in folder.parent.rglob("*")}
    out = folder / "out"
    return out, docx.Document(str(out / "report.docx")), json.loads((out / "results.json").read_text()), \
        before, after


def _body(document):
    """Paragraphs and tables in document order: ("p", style, text) or ("t", table)."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for element in document.element.body.iterchildren():
        tag = element.tag.rpartition("}")[2]
        if tag == "p":
            p = Paragraph(element, document)
            yield "p", p.style.name, p.text
        elif tag == "tbl":
            yield "t", Table(element, document)


def _headings(document) -> list:
    return [(style, text) for kind, *rest in _body(document) if kind == "p"
            for style, text in [rest] if style.startswith(("Heading", "Title"))]


def _table_after(document, caption_start: str):
    """The table that follows the caption starting with ``caption_start``."""
    seen = False
    for item in _body(document):
        if item[0] == "p" and item[2].startswith(caption_start):
            seen = True
        elif item[0] == "t" and seen:
            return [[c.text for c in row.cells] for row in item[1].rows]
    raise AssertionError(f"no table after {caption_start!r}")


def test_written_beside_the_html_report_and_nothing_outside(run):
    out, _, _, before, after = run
    assert (out / "report.docx").is_file() and (out / "report.html").is_file()
    assert all(out in p.parents or p == out for p in after - before)
    assert zipfile.is_zipfile(out / "report.docx")


def test_headings_of_a_manuscript(run):
    _, document, _, _, _ = run
    headings = _headings(document)
    assert headings[0] == ("Title", one_line("Review <script>x</script> & \x07 =cmd"))
    level1 = [text for style, text in headings if style == "Heading 1"]
    assert level1 == ["Summary", "Summary of findings", "Methods", "Results", "References"]
    assert [text for style, text in headings if style == "Heading 2"] == [one_line(BAD_OUTCOME), "Death"]
    assert document.styles["Normal"].font.name == "Calibri"


def test_summary_of_findings_table_is_the_cards(run):
    _, document, results, _, _ = run
    table = _table_after(document, "Table 1.")
    header, *rows = table
    assert header[:2] == ["Outcome", "Relative effect / pooled estimate"] and "Risk with Placebo (per 1,000)" in header
    card = results["card"]
    assert len(rows) == len(card["summary_of_findings"]) == 2
    for row, sof, outcome in zip(rows, card["summary_of_findings"], card["outcomes"]):
        cells = dict(zip(header, row))
        assert cells["Outcome"] == one_line(sof["outcome"])
        assert cells["Relative effect / pooled estimate"] == sof["relative_effect"]
        assert cells["Risk with Placebo (per 1,000)"] == sof["assumed_control_risk"]
        assert cells["Risk with Drug (per 1,000)"] == sof["corresponding_risk"]
        assert cells["Difference (per 1,000)"] == sof["risk_difference"]
        assert cells["Participants (studies)"] == sof["participants"]
        assert cells["I²"] == fmt_percent(outcome["i2"])
        assert cells["Certainty of the evidence (GRADE)"].startswith(sof["certainty"])
    assert rows[1][1].startswith("odds ratio 0.44 (95% CI")


def test_pooled_results_in_plain_words_with_the_cards_numbers(run):
    _, document, results, _, _ = run
    pooled = dict(_table_after(document, "Table 2."))  # labels and values: no header row
    estimate = next(label for label in pooled if label.startswith("Pooled "))  # "Pooled odds ratio (95% CI)"
    assert pooled[estimate] == results["card"]["outcomes"][0]["estimate"]
    assert {"Between-study variance τ²", "Test for heterogeneity"} <= set(pooled)
    assert any(label.startswith("Prediction interval") for label in pooled)
    assert any(label.startswith("I²") for label in pooled)
    text = "\n".join(item[2] for item in _body(document) if item[0] == "p")
    for metafor_name in ("zval", "ci.lb", "tau^2", "QE"):
        assert metafor_name not in text


def test_one_picture_per_png_figure_and_numbered_captions(run):
    out, document, _, _, _ = run
    pngs = sorted((out / "figures").glob("*.png"))
    assert pngs and len(document.inline_shapes) == len(pngs)
    width = document.sections[0].page_width - document.sections[0].left_margin - document.sections[0].right_margin
    assert all(shape.width <= width for shape in document.inline_shapes)
    captions = [text for kind, *rest in _body(document) if kind == "p" for style, text in [rest] if style == "Caption"]
    figures = [int(m[1]) for c in captions if (m := re.match(r"Figure (\d+)\. \S", c))]
    tables = [int(m[1]) for c in captions if (m := re.match(r"Table (\d+)\. \S", c))]
    assert figures == list(range(1, len(pngs) + 1))
    assert tables == list(range(1, len(document.tables) + 1))
    assert any(c.startswith("Figure 1. Forest plot: Response") for c in captions)


def test_user_text_is_plain_text(run):
    out, document, _, _, _ = run
    paragraphs = "\n".join(item[2] for item in _body(document) if item[0] == "p")
    assert f"row 3 (study {BAD_LABEL!r})" in paragraphs  # the study not pooled, named as the API names it
    subgroups = _table_after(document, "Table 3.")
    assert [BAD_LEVEL, "2"] == subgroups[1][:2]
    xml = zipfile.ZipFile(out / "report.docx").read("word/document.xml").decode("utf-8")
    assert "<script>" not in xml and "<b>" not in xml and "&lt;script&gt;" in xml and "\x07" not in xml


def test_docx_text_removes_what_xml_cannot_hold():
    assert docx_text("a\ud800b\x00c\ufffe<&>=x\n") == "ab c<&>=x "


def test_without_figures_the_document_says_so(run, tmp_path):
    out, _, _, _, _ = run
    analysis = run_analysis(load_spec(out.parent / "analysis.toml"))
    path = write_docx(analysis, tmp_path / "plain.docx")
    document = docx.Document(str(path))
    assert len(document.inline_shapes) == 0
    texts = [p.text for p in document.paragraphs]
    assert sum("were not drawn" in t for t in texts) == len(analysis.outcomes)


def test_import_metapool_does_not_import_python_docx():
    code = "import sys, metapool; sys.exit('docx' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_median_of_medians_and_an_outcome_not_analysed(tmp_path):
    from metapool.spec import parse_spec

    (tmp_path / "s.csv").write_text("study,n,m,resp\nA,40,8.1,10\nB,55,9.0,20\nC,25,6.5,x\n")
    spec = parse_spec('title = "T"\ndata = "s.csv"\nstudy = "study"\nn = "n"\n'
                      '[[outcome]]\nname = "OS"\nkind = "median"\nmedian = "m"\nn = "n"\nunit = "months"\n'
                      '[[outcome]]\nname = "R"\nkind = "proportion"\nevents = "resp"\ntotal = "n"\n',
                      "a.toml", tmp_path)
    analysis = run_analysis(spec)
    document = docx.Document(str(write_docx(analysis, tmp_path / "m.docx")))
    pooled = dict(_table_after(document, "Table 2."))  # labels and values: no header row
    medians = analysis.outcomes[0].medians
    label = next(label for label in pooled if label.startswith("Pooled median"))  # the plain table's, with its CI
    assert pooled[label].startswith(f"{medians.estimate:.2f} months (") and "95% CI" in label and "sign test" in label
    assert len(_table_after(document, "Table 1.")) == 2  # header + the one analysed outcome
    texts = [p.text for p in document.paragraphs]
    assert any(t.startswith("Not analysed: row 3 (study 'C'), column 'resp'") for t in texts)


def test_risk_of_bias_plots_have_their_section(tmp_path):
    from metapool.report.figures import risk_of_bias_figures
    from metapool.spec import parse_spec

    (tmp_path / "s.csv").write_text("study,e1,n1,e2,n2,D1,D2\nA,4,50,9,51,low,high\nB,6,60,10,58,some concerns,low\n"
                                    "C,3,40,8,41,high,low\n")
    spec = parse_spec('title = "T"\ndata = "s.csv"\nstudy = "study"\nrisk_of_bias_domains = ["D1", "D2"]\n'
                      '[[outcome]]\nname = "Death"\nkind = "binary"\nevents1 = "e1"\ntotal1 = "n1"\n'
                      'events2 = "e2"\ntotal2 = "n2"\nbias = false\nsensitivity = false\n', "a.toml", tmp_path)
    analysis = run_analysis(spec)
    (tmp_path / "figures").mkdir()
    rob = risk_of_bias_figures(analysis, tmp_path / "figures")
    document = docx.Document(str(write_docx(analysis, tmp_path / "r.docx", figures={}, rob_figures=rob)))
    assert ("Heading 1", "Risk of bias") in _headings(document)
    assert len(document.inline_shapes) == len(rob) == 2
    texts = [p.text for p in document.paragraphs]
    assert "No figure was drawn for Death." in texts and any(t.startswith("Figure 2. Risk of bias") for t in texts)


def test_the_api_never_writes_over_an_input_file(run):
    from metapool.exceptions import MetapoolError

    out, _, _, _, _ = run
    data = out.parent / "studies.csv"
    before = data.read_bytes()
    analysis = run_analysis(load_spec(out.parent / "analysis.toml"))
    with pytest.raises(MetapoolError, match="input file"):
        write_docx(analysis, data)
    assert data.read_bytes() == before


def test_the_sensitivity_summary_with_a_row_that_has_no_numbers(tmp_path):
    """A refit that does not apply (the GLMM of generic effect sizes) says why, across the value columns."""
    from metapool.report.plain import sensitivity_table
    from metapool.spec import parse_spec

    (tmp_path / "s.csv").write_text("study,yi,vi\nA,0.1,0.02\nB,0.3,0.03\nC,0.2,0.01\nD,0.5,0.04\n")
    spec = parse_spec('title = "T"\ndata = "s.csv"\nstudy = "study"\n[[outcome]]\nname = "Effect"\nkind = "generic"\n'
                      'yi = "yi"\nvi = "vi"\nsensitivity = true\n', "a.toml", tmp_path)
    analysis = run_analysis(spec)
    document = docx.Document(str(write_docx(analysis, tmp_path / "s.docx")))
    expected = sensitivity_table(analysis.outcomes[0])
    caption = next(p.text for p in document.paragraphs if p.text.endswith(f"{expected.title}: Effect"))
    rows = _table_after(document, caption.split(" ")[0] + " " + caption.split(" ")[1])
    assert [row[0] for row in rows[1:]] == [row[0] for row in expected.rows]
    short = [row for row in expected.rows if len(row) < len(expected.header)]
    assert short  # the GLMM row: not applicable to generic effect sizes
    for row in rows[1:]:
        if row[0] == short[0][0]:
            assert set(row[1:]) == {short[0][1]}  # one merged cell spanning the value columns
