"""Issue 13, the first five minutes: `metapool init` recognises the data, one spelling of keys,
R's row names, numbers as a reader expects them, and summaries that print in a terminal and in Jupyter."""

import tomllib

import numpy as np
import pytest

from metapool.cli.detect import detect_outcomes, detect_study_columns
from metapool.cli.main import main
from metapool.exceptions import DataValidationError
from metapool.formatting.numbers import fmt_interval, fmt_p_clinical, fmt_values
from metapool.io.tables import read_table
from metapool.spec import load_spec, parse_spec

# --- metapool init: one small table per shape ----------------------------------------------------------------

SHAPES = {
    "metafor two-group counts": ("study,ai,n1i,ci,n2i\nA,3,40,8,41\nB,5,60,9,55\n",
                                 "binary", {"events1": "ai", "total1": "n1i", "events2": "ci", "total2": "n2i"}),
    "events and totals per arm": ("Study,events_t,n_t,events_c,n_c\nA,3,40,8,41\nB,5,60,9,55\n",
                                  "binary", {"events1": "events_t", "total1": "n_t", "events2": "events_c",
                                             "total2": "n_c"}),
    "events and non-events (ai, bi, ci, di)": ("study,ai,bi,ci,di\nA,3,37,8,33\nB,5,55,9,46\n", "binary",
                                               {"events1": "ai", "nonevents1": "bi", "events2": "ci",
                                                "nonevents2": "di"}),
    "bcg-style tpos/tneg/cpos/cneg": ("author,tpos,tneg,cpos,cneg\nA,4,119,11,128\nB,6,300,29,274\n", "binary",
                                      {"events1": "tpos", "nonevents1": "tneg", "events2": "cpos",
                                       "nonevents2": "cneg"}),
    "metafor means with SDs": ("study,m1i,sd1i,n1i,m2i,sd2i,n2i\nA,5.1,1.2,30,4.2,1.1,31\nB,6.0,2.0,40,5.5,1.9,38\n",
                               "continuous", {"mean1": "m1i", "sd1": "sd1i", "n1": "n1i", "mean2": "m2i",
                                              "sd2": "sd2i", "n2": "n2i"}),
    "mean/sd/n per arm": ("study,mean_treatment,sd_treatment,n_treatment,mean_control,sd_control,n_control\n"
                          "A,5.1,1.2,30,4.2,1.1,31\nB,6.0,2.0,40,5.5,1.9,38\n", "continuous",
                          {"mean1": "mean_treatment", "sd1": "sd_treatment", "n1": "n_treatment",
                           "mean2": "mean_control", "sd2": "sd_control", "n2": "n_control"}),
    "yi/vi": ("study,yi,vi\nA,-0.3,0.04\nB,0.1,0.09\n", "generic", {"yi": "yi", "vi": "vi"}),
    "yi/sei": ("study,yi,sei\nA,-0.3,0.2\nB,0.1,0.3\n", "generic", {"yi": "yi", "sei": "sei"}),
    "hazard ratios with CIs": ("study,hr,hr_lower,hr_upper\nA,0.8,0.6,1.1\nB,0.7,0.5,0.98\n", "generic",
                               {"ratio": "hr", "ci_lower": "hr_lower", "ci_upper": "hr_upper"}),
    "odds ratios with lower/upper": ("trial,OR,lower,upper\nA,1.8,1.1,2.9\nB,1.2,0.7,2.0\n", "generic",
                                     {"ratio": "OR", "ci_lower": "lower", "ci_upper": "upper"}),
    "medians with CIs": ("study,os_median,os_lower,os_upper\nA,8.1,6.0,10.5\nB,9.0,7.1,12.0\n", "median",
                         {"median": "os_median", "lower": "os_lower", "upper": "os_upper"}),
    "one-group events/total": ("study,n,responders\nA,40,12\nB,55,30\nC,30,9\n", "proportion",
                               {"events": "responders", "total": "n"}),
}


def _table(tmp_path, text, name="studies.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("shape", SHAPES)
def test_init_detects_the_shape_and_writes_a_file_that_runs(tmp_path, shape, capsys):
    text, kind, columns = SHAPES[shape]
    data = _table(tmp_path, text)
    found = detect_outcomes(read_table(data))
    assert [(d.kind, dict(d.columns)) for d in found] == [(kind, columns)]
    out = tmp_path / "analysis.toml"
    assert main(["init", str(data), "-o", str(out)]) == 0
    assert f"metapool run {out} -o report" in out.read_text(encoding="utf-8").splitlines()[2]
    assert "check the 1 outcome(s) it found" in capsys.readouterr().err
    spec = load_spec(out)
    assert (spec.outcomes[0].kind, spec.outcomes[0].columns) == (kind, columns)
    assert main(["run", str(out), "-o", str(tmp_path / "report")]) == 0


def test_a_text_column_is_never_a_count(tmp_path):
    """Columns named as events and totals whose cells are text (or fractions) are not counts."""
    text = "study,events_t,n_t,events_c,n_c,n,resp,rate\nA,three,40,8,41,40,12a,0.3\nB,5,60,9,55,55,30b,0.5\n"
    assert detect_outcomes(read_table(_table(tmp_path, text))) == ()
    year = "study,n,year,events\nA,40,2019,12\nB,55,2020,30\n"  # a year is never events, nor above n
    assert [dict(d.columns) for d in detect_outcomes(read_table(_table(tmp_path, year)))] == [
        {"events": "events", "total": "n"}]


def test_one_group_events_use_their_own_total_and_labels_prefer_text(tmp_path):
    text = ("id,study,year,n,orr_events,mrd_tested,mrd_negative,os_median_months,os_median_lower,os_median_upper,"
            "followup_median_months\n1,A,2019,40,12,20,9,8.1,6.0,10.5,12\n2,B,2020,55,30,25,10,9.0,7.1,12.0,14\n")
    table = read_table(_table(tmp_path, text))
    found = {d.columns[0][1]: dict(d.columns) for d in detect_outcomes(table)}
    assert found == {"os_median_months": {"median": "os_median_months", "lower": "os_median_lower",
                                          "upper": "os_median_upper"},
                     "orr_events": {"events": "orr_events", "total": "n"},
                     "mrd_negative": {"events": "mrd_negative", "total": "mrd_tested"}}
    assert detect_study_columns(table) == {"study": "study", "n": "n", "design": None, "risk_of_bias": None,
                                           "followup": "followup_median_months"}


def test_the_demo_table_gives_the_demo_outcomes():
    from metapool.datasets import load_dataset

    found = detect_outcomes(load_dataset("aml_hma_ven_synthetic"))
    assert [d.columns[0][1] for d in found] == [
        "os_median_months", "orr_events", "cr_cri_events", "cr_events", "mrd_negative", "os_1y_alive",
        "fn_g3_events", "infection_g3_events"]


def test_an_unedited_template_exits_2_naming_what_to_edit(tmp_path, capsys):
    data = _table(tmp_path, "study,a,b\nA,x,y\nB,z,w\n")
    out = tmp_path / "analysis.toml"
    assert main(["init", str(data), "-o", str(out)]) == 0
    assert 'replace its "<... column>" placeholders' in capsys.readouterr().err
    raw = tomllib.loads(out.read_text(encoding="utf-8"))
    assert raw["outcome"][0]["events"] == "<events column>"
    assert main(["run", str(out), "-o", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert "placeholders are still in it" in err and "events = '<events column>'" in err and "line " in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "report").exists()


# --- keys: one spelling documented, both read ---------------------------------------------------------------

RATIO = 'data = "x.csv"\n[[outcome]]\nname = "HR"\nkind = "generic"\nratio = "hr"\n{lower} = "lo"\n{upper} = "hi"\n'


@pytest.mark.parametrize("lower, upper", [("ci_lower", "ci_upper"), ("ci-lower", "ci-upper"), ("ci_lower", "ci-upper")])
def test_column_keys_read_with_dashes_or_underscores(lower, upper):
    out = parse_spec(RATIO.format(lower=lower, upper=upper), "a.toml").outcomes[0]
    assert out.columns == {"ratio": "hr", "ci_lower": "lo", "ci_upper": "hi"}
    assert out.roles == {"ratio": "hr", "ci_lb": "lo", "ci_ub": "hi"} and out.measure == "LNR"


def test_any_key_reads_with_dashes_and_a_key_given_twice_is_named_with_its_line():
    text = ('data = "x.csv"\nrisk-of-bias = "rob"\n[[outcome]]\nname = "A"\nkind = "proportion"\nevents = "e"\n'
            'total = "n"\nsubgroup-tau2 = "common"\nhigher-is-better = false\n')
    spec = parse_spec(text, "a.toml")
    assert spec.risk_of_bias == "rob" and spec.outcomes[0].subgroup_tau2 == "common"
    assert spec.outcomes[0].higher_is_better is False
    with pytest.raises(DataValidationError, match=r"line 6: outcome 1 \('HR'\), key 'ci_lower': given twice"):
        parse_spec(RATIO.format(lower="ci_lower", upper="ci-lower"), "a.toml")
    with pytest.raises(DataValidationError, match=r"line 9: outcome 1 \('A'\), key 'subgroup_tau2': 'x' is not one"):
        parse_spec(text.replace('subgroup-tau2 = "common"', "subgroup-tau2 = 'x'").replace("total", "\ntotal"),
                   "a.toml")


def test_a_unit_is_never_given_to_a_measure_without_units():
    base = ('data = "x.csv"\n[[outcome]]\nname = "A"\nkind = "continuous"\nmean1 = "a"\nsd1 = "b"\nn1 = "c"\n'
            'mean2 = "d"\nsd2 = "e"\nn2 = "f"\nunit = "mmHg"\n')
    assert parse_spec(base, "a.toml").outcomes[0].unit == "mmHg"  # a mean difference keeps the data's units
    with pytest.raises(DataValidationError, match=r"line 11: .*key 'unit': SMD \(standardised .*\) has no unit"):
        parse_spec(base + 'measure = "SMD"\n', "a.toml")


# --- R's write.csv ---------------------------------------------------------------------------------------

def test_r_write_csv_row_names_are_the_row_index_not_a_study_column(tmp_path, capsys):
    data = _table(tmp_path, '"","study","n","responders"\n"1","A",40,12\n"2","B",55,30\n"3","C",30,9\n')
    table = read_table(data)
    assert list(table) == ["study", "n", "responders"] and table.row_names == ("1", "2", "3")
    assert list(table.to_frame().index) == ["1", "2", "3"]
    assert detect_study_columns(table)["study"] == "study"
    out = tmp_path / "a.toml"
    assert main(["init", str(data), "-o", str(out)]) == 0
    assert load_spec(out).study == "study"


def test_row_names_of_a_workbook_are_its_row_index(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    for row in ([None, "study", "e", "n"], [1, "A", 1, 10], [2.0, "B", 2, 20]):
        book.active.append(row)
    book.save(tmp_path / "s.xlsx")
    table = read_table(tmp_path / "s.xlsx")
    assert list(table) == ["study", "e", "n"] and table.row_names == ("1", "2") and table.notes == ()


# --- numbers for readers ------------------------------------------------------------------------------------

def test_p_values_for_readers_have_one_spelling():
    assert [fmt_p_clinical(p) for p in (1e-12, 0.00009, 0.0004, 0.0042, 0.0496, 0.04996, 0.05, 0.21, None)] == [
        "p < 0.0001", "p < 0.0001", "p = 0.0004", "p = 0.004", "p = 0.0496", "p = 0.04996", "p = 0.05", "p = 0.21",
        "p = NA"]


def test_negative_ranges_use_a_minus_sign_and_to_and_counts_get_separators():
    assert fmt_interval(-0.2, -0.34, -0.05, label="95% CI") == "\u22120.20 (95% CI \u22120.34 to \u22120.05)"
    assert fmt_interval(0.5, 0.4, 0.6) == "0.50 (0.40\u20130.60)"
    assert fmt_values((12345.678,)) == ("12,345.68",)


def test_effect_size_frames_number_rows_as_the_report_does():
    import metapool as mp

    es = mp.escalc("PLO", xi=[3, np.nan, 5], ni=[10, 12, 20], slab=["A", "B", "C"])
    frame = es.to_frame()
    assert list(frame.index) == [1, 2, 3] and frame.index.name == "row"
    assert frame.loc[2, "excluded"] != "" and str(es.exclusions[0]).startswith("row 2 (study 'B')")


# --- summaries in a terminal and in Jupyter --------------------------------------------------------------

def test_summary_prints_as_text_and_shows_as_html_in_jupyter():
    import metapool as mp

    res = mp.rma(mp.escalc("PLO", xi=[3, 4, 5, 9], ni=[10, 12, 20, 30]))
    doc = res.summary()
    text = doc.to_text()
    assert str(doc) == repr(doc) == text and "Document(" not in text
    assert doc._repr_html_() == doc.to_html() and doc.to_html().startswith("<div class='metapool-summary'>")

    class Printer:  # IPython's pretty printer protocol
        def __init__(self):
            self.out = []

        def text(self, value):
            self.out.append(value)

    for shown in (doc, res):
        printer = Printer()
        shown._repr_pretty_(printer, False)
        assert printer.out == [text]
    assert np.isfinite(res.estimate)
