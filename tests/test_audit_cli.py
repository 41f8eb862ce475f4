"""``metapool audit``: exit status 0/1/2, the --json shape, --html (escaped, never over an input), and mp.audit."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

import metapool as mp
from metapool.cli.main import main
from metapool.datasets import DATASETS

DEMO = DATASETS["aml_hma_ven_synthetic"].analysis_path
#: Right: the demo's pooled overall response (metafor: PLO, REML, z-test: 50.01%, 44.77% to 55.25%).
CORRECT = "In 32 studies, the pooled overall response rate was 50.0% (95% CI 44.8%-55.3%).\n"
#: Wrong as written: "26% (95% CI 24-48%)" is symmetric on no scale (the issue's example).
WRONG = "The pooled complete remission rate was 26% (95% CI 24%-48%).\n"
FINDING_KEYS = {"quote", "span", "check", "status", "reason", "consistent_value"}


def audit_cli(capsys, *args, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8"))))
    status = main(["audit", *map(str, args)])
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.fixture
def correct(tmp_path):
    path = tmp_path / "correct.txt"
    path.write_text(CORRECT, encoding="utf-8")
    return path


@pytest.fixture
def wrong(tmp_path):
    path = tmp_path / "wrong.txt"
    path.write_text(WRONG + '<script>alert("x")</script> =cmd|\' /C calc\'!A0\n', encoding="utf-8")
    return path


def test_nothing_flagged_exits_0_and_prints_a_table(correct, capsys):
    status, out, err = audit_cli(capsys, correct)
    assert status == 0, out
    assert f"metapool audit of {correct}: 0 flags" in out and "50.0%" in out and err == ""


def test_a_flag_exits_1(wrong, capsys):
    status, out, _ = audit_cli(capsys, wrong)
    assert status == 1
    assert "flag" in out and "26%" in out


def test_json_shape(wrong, capsys):
    status, out, _ = audit_cli(capsys, wrong, "--json")
    doc = json.loads(out)
    assert status == 1
    assert doc["findings"] and all(set(f) == FINDING_KEYS for f in doc["findings"])
    assert {f["status"] for f in doc["findings"]} <= {"pass", "flag", "cannot_check"}
    text = wrong.read_text(encoding="utf-8")
    for f in doc["findings"]:
        start, end = f["span"]
        assert text[start:end] == f["quote"]
    assert doc["counts"]["flag"] >= 1 and doc["source"] == str(wrong)
    assert doc["statistics"] and all("kind" in s for s in doc["statistics"])


def test_data_recomputes_the_demo(correct, wrong, capsys):
    status, out, _ = audit_cli(capsys, correct, "--data", DEMO, "--json")
    recomputed = [f for f in json.loads(out)["findings"] if f["check"] == "recompute"]
    assert status == 0 and [f["status"] for f in recomputed] == ["pass"]
    assert "PLO + REML τ², z-test" in recomputed[0]["reason"]
    status, out, _ = audit_cli(capsys, wrong, "--data", DEMO, "--json")
    recomputed = [f for f in json.loads(out)["findings"] if f["check"] == "recompute"]
    assert status == 1 and [f["status"] for f in recomputed] == ["flag"]
    assert recomputed[0]["consistent_value"]


def test_standard_input(capsys, monkeypatch):
    status, out, _ = audit_cli(capsys, "-", "--json", stdin=WRONG, monkeypatch=monkeypatch)
    assert status == 1 and json.loads(out)["source"] == "-"


def test_html_page_is_escaped_and_written(wrong, tmp_path, capsys):
    page = tmp_path / "audit.html"
    status, _, _ = audit_cli(capsys, wrong, "--html", page)
    html = page.read_text(encoding="utf-8")
    assert status == 1
    assert "<script>alert" not in html and "&lt;script&gt;alert(" in html
    assert "<mark class=\"audit-mark audit-flag\"" in html and "=cmd|" in html
    assert not list(tmp_path.glob(".*metapool-tmp"))  # the temporary file is gone


@pytest.mark.parametrize("case", ["missing", "binary", "empty", "html_over_input", "html_folder_missing",
                                  "bad_data", "data_over_input"])
def test_bad_input_exits_2_with_one_line(case, wrong, tmp_path, capsys):
    before = wrong.read_bytes()
    args = {
        "missing": [tmp_path / "nothing.txt"],
        "binary": [tmp_path / "image.png"],
        "empty": [tmp_path / "empty.txt"],
        "html_over_input": [wrong, "--html", wrong],
        "html_folder_missing": [wrong, "--html", tmp_path / "no" / "out.html"],
        "bad_data": [wrong, "--data", tmp_path / "missing.toml"],
        "data_over_input": [wrong, "--data", DEMO, "--html", DEMO],
    }[case]
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "empty.txt").write_bytes(b"")
    status, out, err = audit_cli(capsys, *args)
    assert status == 2 and out == ""
    assert err.startswith("metapool: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert wrong.read_bytes() == before


def test_list_checks_and_help(capsys):
    assert main(["list", "checks"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("checks:") and "recompute" in out
    with pytest.raises(SystemExit):
        main(["audit", "--help"])
    assert "metapool list checks" in capsys.readouterr().out


def test_mp_audit_is_the_library_function():
    import metapool.audit.model  # noqa: F401  (importing a module of the package keeps mp.audit callable)
    import metapool.audit.extract as extract_module  # "import a.b.c as x" reads a.b as an attribute of a

    assert callable(extract_module.extract)
    from metapool.audit import AuditResult, audit

    result = mp.audit(WRONG)
    assert isinstance(result, AuditResult) and result.flagged
    assert audit(WRONG) == result and "audit" in mp.__all__
    assert mp.audit(CORRECT, data=DEMO).counts()["flag"] == 0
    with pytest.raises(mp.MetapoolError, match="string"):
        mp.audit(b"bytes")


def test_import_metapool_stays_light():
    code = ("import sys, metapool; heavy = [m for m in ('metapool.audit.extract', 'metapool.audit.checks', 'lxml',"
            " 'docx', 'pypdf', 'rich', 'jinja2', 'matplotlib', 'scipy.stats') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_wording_flag_alone_exits_0(tmp_path, capsys):
    path = tmp_path / "spread.txt"
    path.write_text("Across 12 studies, the pooled overall response rate was 52% (IQR 40%-61%).\n", encoding="utf-8")
    status, out, _ = audit_cli(capsys, path, "--json")
    statuses = {f["check"]: f["status"] for f in json.loads(out)["findings"]}
    assert statuses["spread_as_inference"] == "flag" and status == 0
