"""Generated hostile input against the command line (issue 10, "Evidence").

Hypothesis writes malformed study tables and analysis files and feeds them to
``metapool pool`` and ``metapool run`` in-process. Whatever the input, the
command must

* end with exit status 0, 1 or 2 (an exception escaping ``main`` is a traceback),
* on status 2 print exactly one error line, ``metapool: error: ...``, on stderr,
* write nothing outside its output folder and change no input file,
* leave the previous output byte-identical when it fails (status 2).

The strategies mix valid cells with the kinds of text that broke the command
line before: formulas, separators inside labels, numbers that overflow,
spellings of missing values, wrong TOML types, and non-UTF-8 encodings. The
suite grows: add a strategy for each new class of input that breaks it.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metapool.cli.main import main

#: Exit statuses the command line may end with (0 done, 1 some outcome failed, 2 input error).
STATUSES = {0, 1, 2}

HOSTILE_TEXT = [
    "", " ", "NA", "None", "null", "nan", "inf", "-inf", "Infinity", "1e300", "-1e300", "1e999", "1e-320",
    "0", "-1", "3.5", "1,5", "12 ", " 7", "=1+1", "+cmd", "-2+3", "@SUM(A1)", "=HYPERLINK(\"http://x\")",
    "Smith 2010", "Smith\u20282010", "a\u2029b", "tab\tcell", "quote\"d", "semi;colon", "comma,cell",
    "<script>alert(1)</script>", "| x | y |", "**bold**", "[link](javascript:x)", "奏効率", "Ωmega",
    "\u202eevil", "\x00nul", "x" * 300,
]

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])  # capsys is read out per example


def _cell():
    return st.one_of(st.sampled_from(HOSTILE_TEXT), st.integers(-5, 500).map(str),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr),
                     st.text(max_size=12))


@st.composite
def study_tables(draw) -> bytes:
    """A study table as bytes: mostly numbers in ``e``/``n``, hostile cells anywhere, odd encodings and endings."""
    k = draw(st.integers(0, 8))
    header = ["study", "e", "n", *draw(st.lists(st.sampled_from(["x", "g", "e", "", "n "]), max_size=2))]
    rows = []
    for i in range(k):
        n = draw(st.integers(1, 300))
        e = draw(st.integers(0, n))
        row = [f"Study {i}", str(e), str(n), *(draw(_cell()) for _ in header[3:])]
        if draw(st.booleans()):
            row[draw(st.integers(0, len(row) - 1))] = draw(_cell())
        if draw(st.integers(0, 9)) == 0:
            row = row[: draw(st.integers(0, len(row)))] + [draw(_cell())] * draw(st.integers(0, 2))
        rows.append(row)
    sep = draw(st.sampled_from([",", ";", "\t"]))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))

    def quote(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in (sep, '"', "\n", "\r")) else cell

    text = end.join(sep.join(quote(c) for c in r) for r in [header, *rows]) + end
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 14)) == 0:
        data = draw(st.binary(max_size=200))
    return data


def _snapshot(folder: Path) -> dict:
    """Every file under ``folder`` (relative path) with its SHA-256 (symlinks by target)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            out[rel] = "-> " + str(path.readlink())
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[rel] = "dir"
    return out


def _call(argv: list, capsys) -> tuple[int, str]:
    """Run the command line in-process; an exception escaping it fails the test as a traceback would."""
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        status = exc.code
    err = capsys.readouterr().err
    assert status in STATUSES, f"exit status {status}: {err}"
    assert "Traceback" not in err
    if status == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines and lines[-1].startswith(("metapool: error:", "usage:", "metapool: ")), err
    return status, err


@SETTINGS
@given(data=study_tables(), measure=st.sampled_from(["PLO", "PR", "PFT", "PAS"]))
def test_pool_survives_generated_tables(data, measure, capsys):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "studies.csv"
        src.write_bytes(data)
        before = _snapshot(Path(tmp))
        status, err = _call(["pool", str(src), "--events", "e", "--total", "n", "--measure", measure, "--json"], capsys)
        assert _snapshot(Path(tmp)) == before
        if status == 2:  # one error line (a note on the encoding may come before it)
            assert sum(line.startswith("metapool: error:") for line in err.splitlines()) == 1, err


VALID_CSV = ("study,design,e,n,x,g\n"
             "A 2001,RCT,4,40,1.5,a\nB 2003,RCT,9,55,2.5,b\nC 2005,cohort,12,61,3.0,a\n"
             "D 2008,cohort,20,80,4.5,b\nE 2012,RCT,7,33,5.0,a\n")

#: A valid analysis file; each key below is then replaced by a generated value.
BASE_SPEC = {
    "title": "Generated", "data": "studies.csv", "study": "study", "n": "n",
    "outcome": [{"name": "Response", "kind": "proportion", "events": "e", "total": "n",
                 "bias": False, "sensitivity": False}],
}
OUTCOME_KEYS = ["name", "kind", "events", "total", "measure", "method", "test", "level", "ci_level", "unit",
                "subgroup", "mods", "bias", "sensitivity", "subgroup_tau2", "higher_is_better", "nonsense"]
TOP_KEYS = ["title", "data", "study", "n", "design", "risk_of_bias", "followup", "population", "sheet", "nonsense"]


def _toml_value(value) -> str:
    """TOML text of a JSON-like value (JSON strings are valid TOML basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if value == value and abs(value) != float("inf") else ("nan" if value != value else
                                                                                  ("inf" if value > 0 else "-inf"))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def _toml(spec: dict) -> str:
    lines = [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in spec.items() if k != "outcome"]
    for outcome in spec["outcome"]:
        lines.append("\n[[outcome]]")
        lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in outcome.items()]
    return "\n".join(lines) + "\n"


_values = st.one_of(
    st.sampled_from(HOSTILE_TEXT), st.sampled_from(["e", "n", "x", "g", "design", "REML", "DL", "GLMM", "MH",
                                                    "proportion", "binary", "median", "PLO", "OR", "knha"]),
    st.sampled_from(["~ x", "~ x + C(g)", "~ {x.__class__}", "x; import os", "~ __import__('os')", "~ log(e)"]),
    st.integers(-10, 200), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.lists(st.sampled_from(["x", "g", "g:cat", "~ x", "nope"]), max_size=3), st.just({"a": 1}),
)


@SETTINGS
@given(top=st.dictionaries(st.sampled_from(TOP_KEYS), _values, max_size=2),
       outcome=st.dictionaries(st.sampled_from(OUTCOME_KEYS), _values, max_size=3))
def test_run_survives_generated_analysis_files(top, outcome, capsys):
    spec = {**BASE_SPEC, **top, "outcome": [{**BASE_SPEC["outcome"][0], **outcome}]}
    with tempfile.TemporaryDirectory() as tmp:
        inputs, parent = Path(tmp) / "in", Path(tmp) / "out"
        inputs.mkdir()
        parent.mkdir()
        (inputs / "studies.csv").write_text(VALID_CSV, encoding="utf-8")
        (inputs / "analysis.toml").write_text(_toml(spec), encoding="utf-8")
        before = _snapshot(inputs)
        status, _ = _call(["run", str(inputs / "analysis.toml"), "-o", str(parent / "report")], capsys)
        assert _snapshot(inputs) == before
        leftovers = {p.name for p in parent.iterdir()} - {"report", ".report.metapool-lock"}
        assert not leftovers, leftovers  # no temporary folder, nothing beside the report
        if status == 2:
            assert not (parent / "report").exists() or not any((parent / "report").iterdir())


@pytest.fixture(scope="module")
def previous_output(tmp_path_factory):
    """A finished report folder, made once, to be copied by each example."""
    root = tmp_path_factory.mktemp("previous")
    (root / "studies.csv").write_text(VALID_CSV, encoding="utf-8")
    (root / "analysis.toml").write_text(_toml(BASE_SPEC), encoding="utf-8")
    assert main(["run", str(root / "analysis.toml"), "-o", str(root / "report")]) == 0
    return root / "report"


@SETTINGS
@given(outcome=st.dictionaries(st.sampled_from(OUTCOME_KEYS), _values, min_size=1, max_size=3))
def test_failed_run_leaves_previous_output_intact(previous_output, outcome, capsys):
    import shutil

    spec = {**BASE_SPEC, "outcome": [{**BASE_SPEC["outcome"][0], **outcome}]}
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report"
        shutil.copytree(previous_output, report)
        (Path(tmp) / "studies.csv").write_text(VALID_CSV, encoding="utf-8")
        (Path(tmp) / "analysis.toml").write_text(_toml(spec), encoding="utf-8")
        before = _snapshot(report)
        status, _ = _call(["run", str(Path(tmp) / "analysis.toml"), "-o", str(report), "--force"], capsys)
        if status == 2:
            assert _snapshot(report) == before


@SETTINGS
@given(data=study_tables())
def test_init_writes_a_valid_template_or_refuses(data, capsys):
    import tomllib

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "studies.csv"
        src.write_bytes(data)
        before = _snapshot(Path(tmp))
        status, _ = _call(["init", str(src), "-o", str(Path(tmp) / "analysis.toml")], capsys)
        after = _snapshot(Path(tmp))
        assert after["studies.csv"] == before["studies.csv"]
        assert set(after) - set(before) <= {"analysis.toml"}
        if status == 0:
            tomllib.loads((Path(tmp) / "analysis.toml").read_text(encoding="utf-8"))


#: Text cells a spreadsheet would run as a formula (a guarded cell starts with ').
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@SETTINGS
@given(keys=st.lists(st.sampled_from(HOSTILE_TEXT), min_size=1, max_size=4),
       rows=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 50), st.integers(1, 50)), min_size=1, max_size=12))
def test_batch_keeps_keys_as_text_and_guards_them(keys, rows, capsys):
    import csv

    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "long.csv", Path(tmp) / "results.csv"
        with src.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["key", "e", "n"])
            for key, e, n in rows:
                writer.writerow([keys[key % len(keys)], min(e, n), n])
        before = _snapshot(Path(tmp))
        status, _ = _call(["batch", str(src), "--by", "key", "--events", "e", "--total", "n", "-o", str(out),
                           "--no-progress"], capsys)
        after = _snapshot(Path(tmp))
        assert after["long.csv"] == before["long.csv"]
        assert set(after) - set(before) <= {"results.csv"}
        if status == 0:
            with out.open(newline="", encoding="utf-8") as fh:
                written = list(csv.DictReader(fh))
            sent = {keys[key % len(keys)] for key, _, _ in rows}
            assert len(written) == len(sent)  # "NA", "None" and "" stay analyses of their own
            for row in written:
                assert not row["key"].startswith(FORMULA_START)
