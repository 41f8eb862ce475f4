"""Careless and hostile input files and values (issue 10, sections 2 and 4, the reading side).

Each reported example has a test, and each class of input a test of its own:
study tables in any encoding or shape (``read_table`` and ``metapool pool``),
analysis files with values of the wrong type (``parse_spec``), numbers that
overflow (``to_float_array``, ``escalc``, ``rma``), and bias analyses on
degenerate data (equal variances, identical studies), run through
``metapool run``. Whatever the input: a result, or one ``DataValidationError``
line naming the file, row, column or key; never another exception.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metapool as mp
from metapool.analysis import run_analysis
from metapool.bias import bias_report
from metapool.bias.rank import MAX_K_EXACT, _kendall_s, kendall_tau
from metapool.bias.trimfill import trimfill
from metapool.cli.main import main
from metapool.exceptions import DataValidationError, MetapoolError
from metapool.io.parsing import LARGEST_NUMBER, to_float_array
from metapool.io.tables import MAX_CELL_CHARS, read_table
from metapool.models.rma import SMALLEST_VARIANCE
from metapool.spec import _OUTCOME_KEYS, _TOP_KEYS, load_spec, parse_spec

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

TABLE = "study,e,n\nMüller 2010,3,10\nB,4,12\nC,5,30\n"


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _one_line_error(capsys, argv: list[str]) -> str:
    """Run the CLI, expect exit status 2 with one line on stderr; return that line."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("metapool: error: "), err
    return err


# --- Reading files: encodings -----------------------------------------------------------------------------------


def test_cp1252_table_is_read_with_a_note(tmp_path):
    table = read_table(_write(tmp_path, "s.csv", TABLE.encode("cp1252")))
    assert table["study"][0] == "Müller 2010"
    assert table.encoding == "cp1252"
    assert len(table.notes) == 1 and "Windows-1252" in table.notes[0] and "s.csv" in table.notes[0]


def test_latin1_when_cp1252_cannot_decode(tmp_path):
    # 0x81 is undefined in cp1252 (a control character in Latin-1)
    table = read_table(_write(tmp_path, "s.csv", b"study,e,n\nA\x81,1,2\nB\xe9,1,2\n"))
    assert table.encoding == "latin-1" and table["study"] == ["A\x81", "Bé"]
    assert "Latin-1" in table.notes[0]


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "utf-16", "utf-32"])
def test_unicode_tables_need_no_note(tmp_path, codec):
    table = read_table(_write(tmp_path, "s.csv", TABLE.encode(codec)))
    assert list(table) == ["study", "e", "n"] and table["study"][0] == "Müller 2010"
    assert table.notes == ()


def test_explicit_encoding(tmp_path):
    path = _write(tmp_path, "s.csv", TABLE.encode("cp1252"))
    table = read_table(path, encoding="cp1252")
    assert table["study"][0] == "Müller 2010" and table.notes == ()
    with pytest.raises(DataValidationError, match=r"s\.csv, line 2: byte 0xfc is not valid utf-8"):
        read_table(path, encoding="utf-8")
    for unknown in ("klingon", "rot13", "base64"):
        with pytest.raises(DataValidationError, match="Unknown text encoding"):
            read_table(path, encoding=unknown)


def test_pool_shows_the_encoding_it_guessed(tmp_path, capsys):
    path = _write(tmp_path, "s.csv", TABLE.encode("cp1252"))
    assert main(["pool", str(path), "--events", "e", "--total", "n", "--study", "study"]) == 0
    captured = capsys.readouterr()
    assert "Windows-1252" in captured.err and "Traceback" not in captured.err


def _analysis(tmp_path: Path, data: str = "s.csv", extra: str = "", outcome: str = "") -> Path:
    text = (f'title = "T"\ndata = "{data}"\nstudy = "study"\n{extra}\n[[outcome]]\nname = "Response"\n'
            f'kind = "proportion"\nevents = "e"\ntotal = "n"\n{outcome}')
    return _write(tmp_path, "a.toml", text)


def test_run_reports_guessed_encodings_of_table_and_analysis_file(tmp_path):
    _write(tmp_path, "s.csv", TABLE.encode("cp1252"))
    path = _analysis(tmp_path)
    path.write_bytes(path.read_text(encoding="utf-8").replace('"T"', '"Tést"').encode("cp1252"))
    spec = load_spec(path)
    assert spec.title == "Tést" and "a.toml is not UTF-8" in spec.notes[0]
    warnings = run_analysis(spec).outcomes[0].warnings
    assert any("a.toml is not UTF-8" in w for w in warnings)
    assert any("s.csv is not UTF-8" in w for w in warnings)


def test_analysis_file_names_the_data_encoding(tmp_path):
    _write(tmp_path, "s.csv", TABLE.encode("cp1252"))
    spec = load_spec(_analysis(tmp_path, extra='encoding = "cp1252"'))
    assert spec.encoding == "cp1252"
    outcome = run_analysis(spec).outcomes[0]
    assert outcome.error is None and not any("UTF-8" in w for w in outcome.warnings)
    with pytest.raises(DataValidationError, match=r"a\.toml, line 4: key 'encoding': Unknown text encoding"):
        load_spec(_analysis(tmp_path, extra='encoding = "klingon"'))


# --- Reading files: record separators, long cells, R's row names --------------------------------------------------


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085", "\v", "\f", "\x1c", "\x1d", "\x1e"])
def test_only_csv_record_separators_end_a_row(tmp_path, separator):
    table = read_table(_write(tmp_path, "s.csv", f"study,e,n\nSmith{separator}2010,1,10\nB,2,20\n"))
    assert table.n_rows == 2 and table["study"] == [f"Smith{separator}2010", "B"]
    assert table["e"] == ["1", "2"]


def test_line_endings_and_quoted_newlines(tmp_path):
    table = read_table(_write(tmp_path, "s.csv", 'study,e,n\r\n"A\nB",1,10\rC,2,20\n\nD,3,30'))
    assert table["study"] == ["A\nB", "C", "D"]
    with pytest.raises(DataValidationError, match=r"s\.csv, row 3 \(line 6\): 4 cells but the header has 3"):
        read_table(_write(tmp_path, "s.csv", 'study,e,n\n"A\nB",1,10\nC,2,20\n\nD,3,30,9\n'))


def test_long_cells_up_to_the_limit(tmp_path):
    label = "x" * 200_000  # over the csv module's default limit of 131,072
    assert read_table(_write(tmp_path, "s.csv", f"study,e,n\n{label},1,10\n"))["study"] == [label]
    with pytest.raises(DataValidationError, match=rf"s\.csv, line 3: a cell is longer than {MAX_CELL_CHARS:,}"):
        read_table(_write(tmp_path, "s.csv", f"study,e,n\nA,1,10\n{'y' * (MAX_CELL_CHARS + 1)},1,10\n"))


def test_long_label_through_pool(tmp_path, capsys):
    path = _write(tmp_path, "s.csv", f"study,e,n\n{'L' * 140_000},1,10\nB,2,20\nC,3,9\n")
    assert main(["pool", str(path), "--events", "e", "--total", "n", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["k"] == 3


def test_r_write_csv_row_names(tmp_path):
    """R's write.csv: the unnamed first column of row names is the row index, not a column of data."""
    table = read_table(_write(tmp_path, "s.csv", '"","study","e","n"\n"1","A",1,10\n"2","B",2,20\n'))
    assert list(table) == ["study", "e", "n"] and table.row_names == ("1", "2") and table.notes == ()
    named = read_table(_write(tmp_path, "s.csv", '"","e","n"\n"Smith","1","10"\n"Jones","2","20"\n'))
    assert list(named) == ["e", "n"] and named.row_names == ("Smith", "Jones")
    assert "read as the row index" in named.notes[0]
    with pytest.raises(DataValidationError, match="column 2 has no name"):
        read_table(_write(tmp_path, "s.csv", "study,,n\nA,1,10\n"))


# --- Reading files: files that are not study tables --------------------------------------------------------------


def _zip(entries: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def _workbook(rows: list | None) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows or []:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _workbook_without_sheets() -> bytes:
    src = zipfile.ZipFile(io.BytesIO(_workbook([["a"], [1]])))
    return _zip({n: re.sub(rb"<sheet [^>]*/>", b"", src.read(n)) if n == "xl/workbook.xml" else src.read(n)
                 for n in src.namelist()})


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(20)

NOT_TABLES = {
    "csv named xlsx": ("s.xlsx", TABLE.encode(), r"s\.xlsx looks like a CSV or text file, not an Excel workbook;"
                                                 r" rename it to \.csv"),
    "empty": ("s.csv", b"", r"'s\.csv' is empty"),
    "blank lines": ("s.csv", b" \n\n,,\n", r"'s\.csv' is empty"),
    "empty named xlsx": ("s.xlsx", b"", r"'s\.xlsx' is empty"),
    "header only": ("s.csv", b"study,e,n\n", r"s\.csv has a header row but no studies"),
    "nul bytes": ("s.csv", b"study,e\x00,n\nA,1,2\n", r"s\.csv looks like a binary file \(it contains NUL bytes\)"),
    "image": ("s.csv", PNG, r"s\.csv looks like a PNG image, not a text file"),
    "image named xlsx": ("s.xlsx", PNG, r"s\.xlsx looks like a PNG image, not an Excel workbook"),
    "zip": ("s.csv", _zip({"a.txt": "x"}), r"s\.csv looks like a ZIP archive"),
    "zip named xlsx": ("s.xlsx", _zip({"a.txt": "x"}), r"s\.xlsx is a ZIP archive but not a readable Excel workbook"),
    "truncated workbook": ("s.xlsx", _workbook([["a"], [1]])[:300], r"not a readable Excel workbook"),
    "workbook without sheets": ("s.xlsx", _workbook_without_sheets(), r"s\.xlsx has no worksheets"),
    "empty sheet": ("s.xlsx", _workbook(None), r"s\.xlsx: sheet 'Sheet' is empty"),
    "old xls": ("s.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(40), r"old Excel \.xls workbook"),
}


@pytest.mark.parametrize("name, data, message", NOT_TABLES.values(), ids=NOT_TABLES.keys())
def test_files_that_are_not_tables(tmp_path, capsys, name, data, message):
    path = _write(tmp_path, name, data)
    with pytest.raises(DataValidationError, match=message):
        read_table(path)
    err = _one_line_error(capsys, ["pool", str(path), "--events", "e", "--total", "n"])
    assert re.search(message, err)


def test_folders_missing_and_unreadable_files(tmp_path, monkeypatch, capsys):
    with pytest.raises(DataValidationError, match="is a folder, not a file"):
        read_table(tmp_path)
    with pytest.raises(DataValidationError, match="does not exist"):
        read_table(tmp_path / "missing.csv")
    path = _write(tmp_path, "s.csv", TABLE)

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)  # (the tests may run as root, who reads anything)
    with pytest.raises(DataValidationError, match=r"'.*s\.csv' cannot be read: Permission denied"):
        read_table(path)
    _one_line_error(capsys, ["pool", str(path), "--events", "e", "--total", "n"])


def test_sheets(tmp_path):
    book = _write(tmp_path, "s.xlsx", _workbook([["study", "e", "n"], ["A", 1, 10]]))
    assert read_table(book, sheet="Sheet")["e"] == [1]
    with pytest.raises(DataValidationError, match=r"Sheet 'Other' is not in s\.xlsx; sheets: Sheet"):
        read_table(book, sheet="Other")
    with pytest.raises(DataValidationError, match=r"s\.csv is a text table; a sheet"):
        read_table(_write(tmp_path, "s.csv", TABLE), sheet="Sheet")


@st.composite
def text_tables(draw) -> bytes:
    """Bytes of a delimited file: random text, ragged rows, huge or odd cells, BOMs, NULs, mixed line ends."""
    cells = st.one_of(st.text(max_size=8), st.sampled_from(["1", "10", "", "NA", '"', '"a,b"', "\x00", "x" * 140_000,
                                                            "1e999", "inf", "\u2028", "\ufeff"]))
    rows = draw(st.lists(st.lists(cells, max_size=5), max_size=6))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    ends = st.sampled_from(["\n", "\r\n", "\r", "\u2028", ""])
    text = "".join(delimiter.join(r) + draw(ends) for r in [["study", "e", "n"], *rows])
    if draw(st.booleans()):
        text = draw(st.text(max_size=60))
    codec = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1", "utf-32-le"]))
    data = text.encode(codec, errors="replace")
    return draw(st.one_of(st.just(data), st.binary(max_size=200), st.just(data[: draw(st.integers(0, len(data)))])))


@SETTINGS
@given(data=text_tables(), suffix=st.sampled_from([".csv", ".txt", ".xlsx"]))
def test_any_bytes_give_a_table_or_one_line_error(tmp_path_factory, capsys, data, suffix):
    path = tmp_path_factory.mktemp("t") / f"s{suffix}"
    path.write_bytes(data)
    try:
        table = read_table(path)
    except DataValidationError as exc:
        assert "\n" not in str(exc) and "\r" not in str(exc)
    else:
        assert table.n_rows >= 1 and all(len(c) == table.n_rows for c in table.columns.values())
    status = main(["pool", str(path), "--events", "e", "--total", "n"])
    err = capsys.readouterr().err
    assert status in (0, 2) and "Traceback" not in err
    if status == 2:  # one error line (after notes such as the encoding used)
        lines = err.splitlines()
        assert lines[-1].startswith("metapool: error: ") and all(line.startswith("metapool: ") for line in lines)
        assert sum(line.startswith("metapool: error: ") for line in lines) == 1


# --- Analysis files: every key's type --------------------------------------------------------------------------


def _spec_text(top: str = "", outcome: str = "") -> str:
    return (f'title = "T"\ndata = "s.csv"\nstudy = "study"\n{top}\n[[outcome]]\nname = "Response"\n'
            f'kind = "proportion"\nevents = "e"\ntotal = "n"\n{outcome}\n')


@pytest.mark.parametrize("outcome, message", [
    ('ci_level = "abc"', r"line 10: outcome 1 \('Response'\), key 'ci_level': 'abc' is not a confidence level"),
    ('level = "95"', r"key 'level': '95' is not a confidence level"),
    ("level = true", r"key 'level': True is not a confidence level"),
    ('bias = "yes"', r"key 'bias': must be true or false, not a text"),
    ("sensitivity = 1", r"key 'sensitivity': must be true or false, not a number"),
    ("unit = 3", r"key 'unit': must be a text in quotes, not a number"),
    ("subgroup = []", r"key 'subgroup': must be a non-empty text in quotes .*, not a list"),
    ("sd = { a = 1 }", r"key 'sd': must be a non-empty text in quotes .*, not a table"),
    ('ci_lower = ""', r"key 'ci_lower': must be a non-empty text in quotes .*, not empty"),
    ("mods = [1]", r"key 'mods': must be a list of column names"),
    ('subgroup_tau2 = "both"', r"key 'subgroup_tau2': 'both' is not one of separate, common"),
])
def test_outcome_values_of_the_wrong_type(outcome, message):
    with pytest.raises(DataValidationError, match=message):
        parse_spec(_spec_text(outcome=outcome), "a.toml")


@pytest.mark.parametrize("top, message", [
    ("title = 5", r"a\.toml, line 1: key 'title': must be a non-empty text in quotes"),
    ("population = []", r"key 'population': must be a text in quotes, not a list"),
    ('sheet = "Sheet1"', r"key 'sheet': 's\.csv' is a text table; a sheet can only be chosen in an Excel"),
    ("design = 2024-01-01", r"key 'design': must be a non-empty text in quotes .*, not a date or time"),
    ("defaults = 3", r"key 'defaults': must be a table"),
])
def test_top_level_values_of_the_wrong_type(top, message):
    with pytest.raises(DataValidationError, match=message):
        parse_spec(_spec_text().replace('title = "T"', top), "a.toml")


def test_outcome_must_be_an_array_of_tables():
    for text in ('data = "s.csv"\noutcome = [1, 2]\n', 'data = "s.csv"\n[outcome]\nname = "x"\n'):
        with pytest.raises(DataValidationError, match="key 'outcome': each outcome is a table"):
            parse_spec(text, "a.toml")
    with pytest.raises(DataValidationError, match="nested too deeply"):
        parse_spec("a = " + "[" * 10_000, "a.toml")


def _toml(value) -> str:
    """A TOML value (floats include nan and inf)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not np.isfinite(value):
        return "nan" if np.isnan(value) else "inf" if value > 0 else "-inf"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def _file(top: dict, outcome: dict, defaults: dict | None = None) -> str:
    lines = [f"{k} = {_toml(v)}" for k, v in top.items()]
    if defaults is not None:
        lines += ["[defaults]", *(f"{k} = {_toml(v)}" for k, v in defaults.items())]
    return "\n".join([*lines, "[[outcome]]", *(f"{k} = {_toml(v)}" for k, v in outcome.items())]) + "\n"


TOP = {"data": "s.csv", "study": "study"}
OUTCOME = {"name": "R", "kind": "proportion", "events": "e", "total": "n"}


def test_defaults_are_checked_where_they_are_written():
    with pytest.raises(DataValidationError, match=r"a\.toml, line 4: key 'level': '95' is not a confidence level"):
        parse_spec(_file(TOP, OUTCOME, {"level": "95"}), "a.toml")


@pytest.mark.parametrize("key", sorted(_OUTCOME_KEYS))
def test_every_outcome_key_is_type_checked(key):
    """Every outcome key holds a text, a number, a flag or a list: a table is an error naming the key."""
    with pytest.raises(DataValidationError, match=rf"a\.toml, line \d+: outcome 1 .*key '{key}'"):
        parse_spec(_file(TOP, OUTCOME | {key: {"a": 1}}), "a.toml")


@pytest.mark.parametrize("key", sorted(_TOP_KEYS - {"outcome"}))
def test_every_top_level_key_is_type_checked(key):
    with pytest.raises(DataValidationError, match=rf"a\.toml, line \d+: key '{key}'"):
        parse_spec(_file(TOP | {key: [1, 2]}, OUTCOME), "a.toml")


@st.composite
def analysis_files(draw) -> str:
    """An analysis file with a random, often wrongly typed, value for some keys."""
    values = st.recursive(
        st.one_of(st.text(max_size=6), st.integers(-3, 200), st.floats(), st.booleans(),
                  st.sampled_from(["REML", "DL", "PLO", "z", "proportion", "median", "95", "e", "n", "GLMM"])),
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("abc"), inner, max_size=2)),
        max_leaves=4)
    top = draw(st.dictionaries(st.sampled_from(sorted(_TOP_KEYS - {"outcome", "defaults"})), values, max_size=3))
    defaults = draw(st.dictionaries(st.sampled_from(["measure", "method", "test", "level"]), values, max_size=2))
    outcome = OUTCOME | draw(st.dictionaries(st.sampled_from(sorted(_OUTCOME_KEYS)), values, max_size=3))
    return _file({"data": "s.csv"} | top, outcome, defaults)


@SETTINGS
@given(text=analysis_files())
def test_any_analysis_file_gives_a_spec_or_one_error(text):
    try:
        spec = parse_spec(text, "a.toml")
    except DataValidationError as exc:
        assert str(exc).startswith("a.toml")
    else:
        out = spec.outcomes[0]
        assert isinstance(out.level, float) and isinstance(out.ci_level, float) and isinstance(out.bias, bool)
        assert isinstance(spec.title, str) and isinstance(out.unit, str)


def test_data_path_folder_or_missing(tmp_path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(DataValidationError, match=r"a\.toml, line 2: key 'data': '.*folder' is a folder"):
        load_spec(_analysis(tmp_path, data="folder"))
    with pytest.raises(DataValidationError, match=r"a\.toml, line 2: key 'data': '.*nope\.csv' does not exist"):
        load_spec(_analysis(tmp_path, data="nope.csv"))
    with pytest.raises(DataValidationError, match="Analysis file .* is a folder"):
        load_spec(tmp_path)


def test_binary_analysis_file(tmp_path, capsys):
    path = _write(tmp_path, "a.toml", PNG)
    _one_line_error(capsys, ["run", str(path), "-o", str(tmp_path / "out")])


# --- Numbers: spellings of infinity, overflow --------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["inf", "-inf", "Infinity", "INF", "1e999", "-1e400", "1_000", "0x10", "1e200"])
def test_cells_that_are_no_finite_poolable_number(cell):
    with pytest.raises(DataValidationError, match=r"row 2 \(study 'B'\), column 'yi'"):
        to_float_array(["1", cell], "yi", ["A", "B"])


def test_nan_spellings_are_missing_markers():
    assert np.isnan(to_float_array(["nan", "NaN", "NA", ""], "yi")).all()


def test_numbers_up_to_the_square_root_of_the_largest_float():
    assert to_float_array([str(LARGEST_NUMBER)], "x")[0] == LARGEST_NUMBER
    with pytest.raises(DataValidationError, match="too large to pool: its square overflows; check the units"):
        to_float_array(np.array([1.0, 2e154]), "x")


def test_yi_1e300_through_pool(tmp_path, capsys):
    path = _write(tmp_path, "s.csv", "study,yi,vi\nA,0.1,0.04\nB,0.3,0.05\nX,1e300,0.02\nD,0.2,0.03\n")
    err = _one_line_error(capsys, ["pool", str(path), "--yi", "yi", "--vi", "vi"])
    assert "row 3 (study 'X'), column 'yi': 1e+300 is too large to pool: its square overflows" in err


def test_yi_1e300_through_escalc_rma_and_run(tmp_path):
    with pytest.raises(DataValidationError, match=r"row 3 \(study 'X'\), column 'yi': 1e\+300 is too large"):
        mp.escalc("GEN", yi=[0.1, 0.3, 1e300], vi=[0.1, 0.1, 0.1], slab=["A", "B", "X"])
    with pytest.raises(DataValidationError, match=r"row 3 \(study 'Study 3'\), column 'yi'"):
        mp.rma(yi=[0.1, 0.3, 1e300], vi=[0.1, 0.1, 0.1])
    with pytest.raises(DataValidationError, match=r"column 'sd1i': 1e\+200 is too large"):
        mp.escalc("MD", m1i=[1, 2], sd1i=[1, 1e200], n1i=[10, 10], m2i=[1, 1], sd2i=[1, 1], n2i=[10, 10])
    _write(tmp_path, "s.csv", "study,yi,vi\nA,0.1,0.04\nB,0.3,0.05\nX,1e300,0.02\n")
    path = _write(tmp_path, "a.toml", 'data = "s.csv"\nstudy = "study"\n[[outcome]]\nname = "G"\n'
                                      'kind = "generic"\nyi = "yi"\nvi = "vi"\n')
    outcome = run_analysis(load_spec(path)).outcomes[0]
    assert outcome.model is None and "row 3 (study 'X'), column 'yi'" in outcome.error


@pytest.mark.parametrize("yi, vi, message", [
    ([0.1, 0.2, 0.3], [0.1, 1e-110, 0.1], r"vi = 1e-110 in row 2 \(study 'Study 2'\) is too small to pool"),
    ([0.1, 1e150, 0.3], [0.1, 1e-10, 0.1], r"yi = 1e\+150 in row 2 \(study 'Study 2'\) is too large to pool: yi\^2/vi"),
    ([1e153] * 300, [0.1] * 300, r"The sum of yi\^2/vi over the studies overflows"),
])
def test_weighted_squares_that_overflow(yi, vi, message):
    with pytest.raises(DataValidationError, match=message):
        mp.rma(yi=yi, vi=vi)


@pytest.mark.filterwarnings("ignore:Ratio of largest to smallest sampling variance")
def test_smallest_variance_still_pools():
    res = mp.rma(yi=[0.1, 0.2, 0.3], vi=[0.1, SMALLEST_VARIANCE * 1.01, 0.1])
    assert np.isfinite([res.estimate, res.se, res.q, res.tau2]).all()


def test_tau2_se_overflow_is_a_warning():
    with pytest.warns(UserWarning, match="standard error of tau\\^2 overflows"):
        res = mp.rma(yi=[0.1, 0.3, 1e100, 0.25], vi=[0.04, 0.05, 0.1, 0.03])
    assert np.isfinite(res.tau2) and res.tau2 > 1e190 and res.i2 > 99
    assert any("overflows" in w for w in res.warnings)


# --- Degenerate data in bias and sensitivity analyses ------------------------------------------------------------


def test_trimfill_with_equal_variances_says_why():
    res = mp.rma(yi=[0.1, 0.3, 0.2, 0.5, 0.4], vi=[0.04] * 5)
    with pytest.raises(MetapoolError, match="same sampling variance, so the funnel plot has no slope"):
        trimfill(res)
    assert trimfill(res, side="left").k0 >= 0
    report = bias_report(res)
    assert "same sampling variance" in report.undefined["trimfill"]
    assert "the predictor is the same for every study" in report.undefined["egger"]
    assert "every study has the same sampling variance" in report.undefined["begg"]
    assert set(report.results) == {"lfk", "fsn"}


DEGENERATE = {
    "equal variances": ("yi,vi", [(0.1, 0.04), (0.3, 0.04), (0.2, 0.04), (0.5, 0.04), (0.4, 0.04)], "generic"),
    "identical studies": ("yi,vi", [(0.2, 0.04)] * 4, "generic"),
    "k = 3, one huge study": ("e,n", [(3, 10), (4, 12), (3000, 10000)], "proportion"),
    "no events anywhere": ("e,n", [(0, 10), (0, 12), (0, 15), (0, 20)], "proportion"),
}


@pytest.mark.parametrize("columns, rows, kind", DEGENERATE.values(), ids=DEGENERATE.keys())
@pytest.mark.parametrize("method", ["REML", "DL"])
def test_bias_and_sensitivity_on_degenerate_data_keep_the_report(tmp_path, capsys, columns, rows, kind, method):
    lines = [f"study,{columns}", *(f"S{i},{a},{b}" for i, (a, b) in enumerate(rows, 1))]
    _write(tmp_path, "s.csv", "\n".join(lines) + "\n")
    keys = 'yi = "yi"\nvi = "vi"' if kind == "generic" else 'events = "e"\ntotal = "n"'
    path = _write(tmp_path, "a.toml", f'data = "s.csv"\nstudy = "study"\n[[outcome]]\nname = "O"\nkind = "{kind}"\n'
                                      f'{keys}\nmethod = "{method}"\nbias = true\nsensitivity = true\n')
    assert main(["run", str(path), "-o", str(tmp_path / "out")]) == 0
    assert "Traceback" not in capsys.readouterr().err
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))["outcomes"][0]
    assert results["error"] is None and "bias" in results and "leave_one_out" in results
    assert (tmp_path / "out" / "report.html").exists()
    if kind == "generic":
        reason = results["bias"]["trimfill"]["undefined"]
        assert "same sampling variance" in reason
        assert reason.replace("'", "&#39;") in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_kendall_s_equals_the_pairwise_sum():
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(1, 40))
        x = rng.integers(0, 4, n).astype(float) if rng.random() < 0.5 else rng.normal(size=n)
        y = rng.integers(0, 4, n).astype(float) if rng.random() < 0.5 else rng.normal(size=n)
        pairwise = np.sum(np.sign(x[:, None] - x[None, :]) * np.sign(y[:, None] - y[None, :])) / 2.0
        assert _kendall_s(x, y) == pairwise


def test_rank_test_of_many_untied_studies_uses_the_normal_approximation():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=20_000), rng.normal(size=20_000)
    tau, p, exact = kendall_tau(x, y)
    assert not exact and 0 <= p <= 1 and abs(tau) < 0.05
    assert kendall_tau(x[:MAX_K_EXACT], y[:MAX_K_EXACT])[2]


@pytest.mark.parametrize(("yi", "vi", "says"), [
    ([1e150, 2.0, 3.0], [1e-10, 0.1, 0.2], "yi = 1e+150 in row 1 is too large to pool"),
    ([1.0, 2.0], [1e-110, 0.1], "vi = 1e-110 in row 1 is too small to pool"),
    ([1.2e154, 1.2e154, 1.2e154], [1.0, 1.0, 1.0], "sum of yi^2/vi over the studies overflows"),
])
def test_batch_refuses_what_rma_refuses(yi, vi, says):
    """The batch engine fits with the kernels directly: the same overflow checks as rma, per analysis."""
    import pandas as pd

    from metapool.batch import fit_many

    with pytest.raises(DataValidationError, match=re.escape(says.split(" is ")[0])):
        mp.rma(yi=np.array(yi), vi=np.array(vi))
    frame = pd.DataFrame({"key": ["bad"] * len(yi) + ["good"] * 3, "yi": yi + [1.0, 2.0, 1.5],
                          "vi": vi + [0.1, 0.1, 0.2]})
    res = fit_many(frame, "key", measure="GEN", yi="yi", vi="vi").set_index("key")
    assert res.loc["bad", "status"] == "invalid_data" and says in res.loc["bad", "message"]
    assert np.isnan(res.loc["bad", "estimate"])
    assert res.loc["good", "status"] == "ok" and res.loc["good", "estimate"] == pytest.approx(
        mp.rma(yi=np.array([1.0, 2.0, 1.5]), vi=np.array([0.1, 0.1, 0.2])).estimate, rel=1e-12)


@pytest.mark.parametrize("key", ["study", "n", "design", "risk_of_bias", "followup"])
def test_study_level_key_naming_a_missing_column_is_an_error_of_the_file(tmp_path, key, capsys):
    """Study-level columns serve every outcome: a missing one is exit 2 naming key and line, and nothing is written."""
    from metapool.cli.main import main

    (tmp_path / "s.csv").write_text("study,e,n\nA,4,40\nB,9,55\nC,12,61\n", encoding="utf-8")
    lines = ['data = "s.csv"', *(["study = \"study\""] if key != "study" else []), f'{key} = "Missing"',
             "[[outcome]]", 'name = "R"', 'kind = "proportion"', 'events = "e"', 'total = "n"']
    (tmp_path / "a.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["run", str(tmp_path / "a.toml"), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    line = lines.index(f'{key} = "Missing"') + 1
    assert err == (f"metapool: error: a.toml, line {line}: key {key!r}: column 'Missing' is not in s.csv;"
                   " its columns: 'study', 'e', 'n'.")
    assert not (tmp_path / "out").exists()


def test_provenance_hash_is_of_the_bytes_analysed(tmp_path):
    """results.json's input_sha256 is the SHA-256 of the data file's bytes as read (cp1252 here), read once."""
    import hashlib

    from metapool.analysis import run_analysis
    from metapool.spec import parse_spec

    data = "study,e,n\nM\u00fcller,4,40\nB,9,55\nC,12,61\n".encode("cp1252")
    (tmp_path / "s.csv").write_bytes(data)
    spec = parse_spec('data = "s.csv"\nstudy = "study"\n[[outcome]]\nname = "R"\nkind = "proportion"\n'
                      'events = "e"\ntotal = "n"\n', base_dir=tmp_path)
    assert run_analysis(spec).input_sha256 == hashlib.sha256(data).hexdigest()
