"""Issue 10 at the command line: one-line errors with exit status 2, Ctrl-C as 130, and the single files
that ``init`` and ``batch`` write (checked before any work, written atomically, never over an input).
"""

import os
import tomllib

import pandas as pd
import pytest

import metapool.cli.batch
from metapool.cli.main import main
from metapool.cli.run import toml_string
from metapool.exceptions import DataValidationError
from metapool.spec import load_spec

DATA = "study,n,resp\nA 2019,40,12\nB 2020,55,30\nC 2021,30,9\n"


def one_line_error(err: str, *parts: str) -> None:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for part in parts:
        assert part in err, err


# --- init ---------------------------------------------------------------------------------------------

HOSTILE_COLUMNS = ['quote"d', "back\\slash", "new\nline", "# hash", "tab\there", "del\x7f", "line\u2028sep",
                   "emoji 😀", "]]\n[[outcome]]"]


@pytest.mark.parametrize("text", [*HOSTILE_COLUMNS, "", "plain"])
def test_toml_string_round_trips_through_tomllib(text):
    assert tomllib.loads(f"x = {toml_string(text)}\n# c {toml_string(text)}\n")["x"] == text


def test_init_with_hostile_column_names_writes_a_valid_template(tmp_path, capsys):
    """The report: a quote in a column name made `init` write invalid TOML (a traceback at `run`)."""
    header = ",".join('"' + c.replace('"', '""') + '"' for c in HOSTILE_COLUMNS)
    (tmp_path / 'st"udies.csv').write_text(f"{header}\n" + ",".join("1" for _ in HOSTILE_COLUMNS) + "\n", newline="")
    out = tmp_path / "analysis.toml"
    assert main(["init", str(tmp_path / 'st"udies.csv'), "-o", str(out)]) == 0
    raw = tomllib.loads(out.read_text(encoding="utf-8"))
    assert raw["data"] == 'st"udies.csv' and raw["study"] == HOSTILE_COLUMNS[0]
    assert len(raw["outcome"]) == 1  # a column name cannot add TOML tables
    assert (out.parent / raw["data"]).resolve() == (tmp_path / 'st"udies.csv').resolve()
    with pytest.raises(DataValidationError, match="placeholders are still in it"):  # no outcome was recognised
        load_spec(out)


def test_init_data_path_is_relative_to_the_template(tmp_path, capsys):
    (tmp_path / "studies.csv").write_text(DATA)
    (tmp_path / "sub").mkdir()
    assert main(["init", str(tmp_path / "studies.csv"), "-o", str(tmp_path / "sub" / "a.toml")]) == 0
    assert load_spec(tmp_path / "sub" / "a.toml").data_path == (tmp_path / "studies.csv").resolve()


@pytest.mark.parametrize("case, message", [
    ("a folder", "is a folder"),
    ("a folder, --force", "is a folder"),
    ("the data file, --force", "is an input file"),
    ("a hard link of the data, --force", "is an input file"),
    ("a symbolic link, --force", "symbolic link"),
    ("in a missing folder", "does not exist"),
    ("exists", "use --force"),
])
def test_init_refuses_outputs_it_must_not_write(tmp_path, case, message, capsys):
    data = tmp_path / "studies.csv"
    data.write_text(DATA)
    target = {"a folder": tmp_path, "the data file": data, "in a missing folder": tmp_path / "no" / "a.toml"}.get(
        case.split(",")[0], tmp_path / "a.toml")
    if case.startswith("a hard link"):
        os.link(data, target)
    elif case.startswith("a symbolic link"):
        target.symlink_to(tmp_path / "elsewhere.toml")
    elif case == "exists":
        target.write_text("mine")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and not p.is_symlink()}
    force = ["--force"] if "--force" in case else []
    assert main(["init", str(data), "-o", str(target), *force]) == 2
    one_line_error(capsys.readouterr().err, message)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and not p.is_symlink()} == before
    assert not (tmp_path / "elsewhere.toml").exists()


def test_init_in_a_read_only_folder_is_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "studies.csv").write_text(DATA)
    monkeypatch.setattr(os, "access", lambda *a, **k: False)  # tests may run as root, where chmod cannot refuse
    assert main(["init", str(tmp_path / "studies.csv"), "-o", str(tmp_path / "a.toml")]) == 2
    one_line_error(capsys.readouterr().err, "cannot write in")


# --- batch --------------------------------------------------------------------------------------------

LONG = "key,x,n\n{0},3,20\n{0},5,25\n{1},4,30\n{1},6,22\n"


def batch(path, out, *extra):
    return main(["batch", str(path), "--by", "key", "--events", "x", "--total", "n", "-o", str(out),
                 "--no-progress", *extra])


def test_batch_keys_na_none_and_empty_stay_distinct_analyses(tmp_path, capsys):
    """The report: keys "NA" and "None" became missing and two analyses merged into one (k = 4)."""
    src = tmp_path / "long.csv"
    src.write_text(LONG.format("NA", "None") + ",2,10\n,3,12\n")
    assert batch(src, tmp_path / "r.csv") == 0
    res = pd.read_csv(tmp_path / "r.csv", dtype={"key": str}, keep_default_na=False)
    assert sorted(res["key"]) == ["", "NA", "None"]
    assert res["k"].tolist() == [2, 2, 2]


def test_batch_csv_guards_formula_keys(tmp_path, capsys):
    """The report: keys such as =HYPERLINK(...) and +cmd were written unguarded."""
    src = tmp_path / "long.csv"
    src.write_text(LONG.format('"=HYPERLINK(""http://x"")"', "+cmd") + "-x,2,10\n-x,3,12\n@x,2,10\n@x,3,12\n")
    assert batch(src, tmp_path / "r.csv") == 0
    keys = pd.read_csv(tmp_path / "r.csv", dtype={"key": str})["key"].tolist()
    assert sorted(keys) == sorted(["'=HYPERLINK(\"http://x\")", "'+cmd", "'-x", "'@x"])


@pytest.mark.parametrize("case, message", [
    ("missing_dir/r.csv", "does not exist"),
    ("long.csv", "is an input file"),
    ("hardlink.csv", "is an input file"),
    ("link.csv", "symbolic link"),
    ("folder.csv", "is a folder"),
])
def test_batch_refuses_its_output_before_any_work(tmp_path, monkeypatch, case, message, capsys):
    """The report: `batch -o missing_dir/r.csv` fitted everything, then crashed; `-o` could be the input."""
    src = tmp_path / "long.csv"
    src.write_text(LONG.format("a", "b"))
    os.link(src, tmp_path / "hardlink.csv")
    (tmp_path / "link.csv").symlink_to(tmp_path / "elsewhere.csv")
    (tmp_path / "folder.csv").mkdir()
    monkeypatch.setattr(metapool.batch, "fit_many", lambda *a, **k: pytest.fail("fitted before checking -o"))
    assert batch(src, tmp_path / case) == 2
    one_line_error(capsys.readouterr().err, message)
    assert src.read_text() == LONG.format("a", "b") and not (tmp_path / "elsewhere.csv").exists()


def test_batch_interrupted_while_writing_keeps_the_previous_results(tmp_path, monkeypatch, capsys):
    src = tmp_path / "long.csv"
    src.write_text(LONG.format("a", "b"))
    out = tmp_path / "r.csv"
    out.write_text("previous results\n")

    def half_write(self, path, **kwargs):
        open(path, "w").write("key,est")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_write)
    assert batch(src, out) == 130
    one_line_error(capsys.readouterr().err, "interrupted")
    assert out.read_text() == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.csv", "r.csv"]


# --- --encoding ---------------------------------------------------------------------------------------


def test_encoding_flag_and_detection_for_pool_and_batch(tmp_path, capsys):
    src = tmp_path / "long.csv"
    src.write_bytes(LONG.format("Zürich", "Genève").encode("cp1252"))
    assert batch(src, tmp_path / "r.csv", "--encoding", "cp1252") == 0
    assert "Windows-1252" not in capsys.readouterr().err
    assert batch(src, tmp_path / "r.csv") == 0
    assert "Windows-1252" in capsys.readouterr().err  # detected, and said
    assert sorted(pd.read_csv(tmp_path / "r.csv")["key"]) == ["Genève", "Zürich"]
    table = tmp_path / "t.csv"
    table.write_bytes("study,x,n\nMüller,3,20\nGarçon,5,25\n".encode("cp1252"))
    assert main(["pool", str(table), "--events", "x", "--total", "n", "--encoding", "cp1252", "--sensitivity"]) == 0
    assert "Müller" in capsys.readouterr().out
    assert main(["pool", str(table), "--events", "x", "--total", "n"]) == 0
    assert "read as Windows-1252" in capsys.readouterr().err
    assert main(["pool", str(table), "--events", "x", "--total", "n", "--encoding", "utf-8"]) == 2
    one_line_error(capsys.readouterr().err, "not valid utf-8")


# --- interrupts ---------------------------------------------------------------------------------------


def test_ctrl_c_anywhere_is_one_line_and_status_130(tmp_path, monkeypatch, capsys):
    (tmp_path / "t.csv").write_text(DATA)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("metapool.models.methods.rma", interrupted)  # the fit that metapool pool dispatches to
    assert main(["pool", str(tmp_path / "t.csv"), "--events", "resp", "--total", "n"]) == 130
    one_line_error(capsys.readouterr().err, "metapool: interrupted")


def test_batch_keys_na_and_none_stay_distinct_in_a_workbook(tmp_path, capsys):
    src = tmp_path / "long.xlsx"
    pd.DataFrame({"key": ["NA", "NA", "None", "None"], "x": [3, 5, 4, 6], "n": [20, 25, 30, 22]}).to_excel(
        src, index=False)
    assert batch(src, tmp_path / "r.csv") == 0
    res = pd.read_csv(tmp_path / "r.csv", dtype={"key": str}, keep_default_na=False)
    assert sorted(res["key"]) == ["NA", "None"] and res["k"].tolist() == [2, 2]


def test_os_errors_are_one_line_with_status_2(monkeypatch, capsys):
    def denied(args):
        raise PermissionError(13, "Permission denied", "/somewhere/report.html")

    monkeypatch.setattr("metapool.cli.main.run_pool", denied)
    assert main(["pool", "x.csv", "--events", "e", "--total", "n"]) == 2
    one_line_error(capsys.readouterr().err, "metapool: error: /somewhere/report.html: Permission denied")
