"""The command line: text and JSON output, errors with exit status 2."""

import json
import subprocess
import sys

import pytest

from metapool.cli.main import main

JSON_KEYS = {
    "k", "estimate", "se", "ci_lower", "ci_upper", "pvalue", "tau2", "tau", "i2", "h2", "q", "q_df",
    "q_pvalue", "pi_lower", "pi_upper", "measure", "method", "test", "excluded",
}  # fmt: skip


@pytest.fixture
def single_csv(tmp_path):
    path = tmp_path / "studies.csv"
    path.write_text("study,events,n\nNA,0,20\nNone,3,30\nSmith 2010,10,40\nJones 2012,20,50\n")
    return path


def run_json(capsys, *args):
    assert main([*map(str, args), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_pool_json_schema(single_csv, capsys):
    out = run_json(capsys, "pool", single_csv, "--events", "events", "--total", "n", "--measure", "PLO")
    assert JSON_KEYS <= set(out)
    assert out["k"] == 4 and out["measure"] == "PLO" and out["method"] == "REML" and out["test"] == "z"
    # metafor: rma(measure="PLO", xi=c(0,3,10,20), ni=c(20,30,40,50)) (see tests/reference)
    assert out["estimate"] == pytest.approx(-1.42255628157, abs=1e-5)
    assert out["tau2"] == pytest.approx(0.84173008, abs=1e-5)
    assert out["i2"] == pytest.approx(79.150252769, abs=1e-4)
    assert set(out["back"]) == {"estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"}
    assert out["back"]["estimate"] == pytest.approx(0.19426115, abs=1e-5)
    assert out["corrected"] == ["NA"]  # labels stay text


def test_pool_options_are_passed(single_csv, capsys):
    out = run_json(capsys, "pool", single_csv, "--events", "events", "--total", "n",
                   "--measure", "pft", "--method", "dl", "--test", "KNHA", "--level", "90")
    assert (out["measure"], out["method"], out["test"], out["level"]) == ("PFT", "DL", "knha", 90.0)
    assert out["ddf"] == 3


def test_pool_text_output(single_csv, capsys):
    assert main(["pool", str(single_csv), "--events", "events", "--total", "n"]) == 0
    text = capsys.readouterr().out
    assert "Random-effects model (k = 4; tau^2 estimator: REML)" in text
    assert "Back-transformed (proportion)" in text


def test_generic_and_ratio_columns(tmp_path, capsys):
    path = tmp_path / "hr.csv"
    path.write_text("trial,hr,lo,hi\nA,0.8,0.6,1.07\nB,0.7,0.5,0.98\nC,0.95,0.7,1.29\n")
    out = run_json(capsys, "pool", path, "--ratio", "hr", "--ci-lower", "lo", "--ci-upper", "hi", "--study", "trial")
    assert out["measure"] == "LNR" and out["back"]["estimate"] < 1


def test_xlsx_input(tmp_path, capsys):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["study", "yi", "vi"], ["a", 0.1, 0.02], ["b", 0.3, 0.03], ["c", -0.1, 0.05]):
        sheet.append(row)
    path = tmp_path / "d.xlsx"
    book.save(path)
    out = run_json(capsys, "pool", path, "--yi", "yi", "--vi", "vi", "--method", "FE")
    assert out["k"] == 3 and out["pi_lower"] is None and "back" not in out


@pytest.mark.parametrize(
    "content, args, message",
    [
        ("study,events,n\nA,12,10\n", ["--events", "events", "--total", "n"], "row 1 (study 'A'), column 'events': events 12 exceed"),
        ("study,events,n\nA,1,\"1,000\"\n", ["--events", "events", "--total", "n"], "'1,000' is not a number"),
        ("study,events,n\nA,1,10\n", ["--events", "cases", "--total", "n"], "Column 'cases' for xi is not in the data"),
        ("study,events,n\nA,1,10\n", [], "Name the data columns"),
    ],
)
def test_errors_exit_2_with_one_message(tmp_path, capsys, content, args, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["pool", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("metapool: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_missing_file(capsys):
    assert main(["pool", "/nonexistent.csv", "--yi", "y", "--vi", "v"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_bad_choice_is_an_argparse_error(single_csv):
    with pytest.raises(SystemExit) as exc:
        main(["pool", str(single_csv), "--events", "events", "--total", "n", "--method", "XX"])
    assert exc.value.code == 2


def test_demo_runs(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "Overall response (ORR)" in out and "report.html" in out
    assert (tmp_path / "demo" / "report.html").is_file() and (tmp_path / "demo" / "card.md").is_file()


def test_list_reads_the_registries(capsys):
    assert main(["list", "methods"]) == 0
    out = capsys.readouterr().out
    for code in ("DL", "REML", "PMM", "CE"):
        assert code in out


def test_console_script_and_light_import():
    """`import metapool` pulls in neither pandas, scipy.stats nor matplotlib."""
    code = (
        "import sys, metapool, metapool.cli.main;"
        "heavy = [m for m in ('pandas', 'scipy.stats', 'matplotlib', 'scipy.optimize') if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_vocabulary_docs_are_generated_from_the_registries():
    from pathlib import Path

    from metapool.formatting.vocabulary import vocabulary_markdown

    doc = Path(__file__).parents[1] / "docs" / "vocabulary.md"
    assert doc.read_text() == vocabulary_markdown(), "regenerate: python -m metapool.formatting.vocabulary > docs/vocabulary.md"
