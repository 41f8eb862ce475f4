"""``metapool review``: init, import, status and records from the command line (issue 14).

The import command reads files with ``metapool.review.parse.read_records``;
most tests here stand a small fake parser in for it (so that the command's
wiring is tested on its own), and one test runs the real parsers where they exist.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")

from metapool.cli.main import main  # noqa: E402
from metapool.review.record import ParsedFile, Record  # noqa: E402
from metapool.review.status import RECORD_COLUMNS  # noqa: E402
from test_review_store import DATABASES, pg_databases, pg_url, postgres_server  # noqa: E402,F401  (fixtures)

RIS = """TY  - JOUR
ID  - emb-1
TI  - =HYPERLINK("http://evil.example","click") venetoclax in AML
AU  - Smith, John
AU  - Lee, K.
PY  - 2021
JO  - Blood
DO  - 10.1182/blood.2021.1
AB  - Line one.
ER  -

TY  - JOUR
ID  - emb-2
TI  - Azacitidine plus venetoclax
AU  - Wei, A
PY  - 2020
ER  -
"""


def fake_read_records(path, name=None) -> ParsedFile:
    """The records of a small RIS text, enough to test the command (the real parsers are tested elsewhere)."""
    data = Path(path).read_bytes()
    blocks = [b for b in data.decode("utf-8").split("ER  -") if "TI  -" in b]
    records = []
    for i, block in enumerate(blocks, 1):
        tags = {line[:2]: line[6:] for line in block.strip().splitlines() if line[2:6] == "  - "}
        authors = tuple(line[6:] for line in block.strip().splitlines() if line.startswith("AU  - "))
        records.append(Record(position=i, raw=block.strip(), record_id=tags.get("ID"), title=tags.get("TI"),
                              authors=authors, year=int(tags["PY"]) if "PY" in tags else None,
                              journal=tags.get("JO"), doi=tags.get("DO"),
                              abstract=(tags["AB"] + "\nLine two.") if "AB" in tags else None))
    return ParsedFile(path=str(path), format="ris", encoding="utf-8", sha256=hashlib.sha256(data).hexdigest(),
                      records=tuple(records))


@pytest.fixture
def fake_parser(monkeypatch):
    module = types.ModuleType("metapool.review.parse")
    module.read_records = fake_read_records
    monkeypatch.setitem(sys.modules, "metapool.review.parse", module)


@pytest.fixture
def folder(tmp_path, capsys):
    """A review folder made by `metapool review init`, with MEDLINE and Embase in its review.toml."""
    path = tmp_path / "review"
    assert main(["review", "init", str(path), "--who", "alice"]) == 0
    capsys.readouterr()
    config = path / "review.toml"
    config.write_text(config.read_text(encoding="utf-8") + DATABASES, encoding="utf-8")
    return path


@pytest.fixture
def ris(tmp_path):
    path = tmp_path / "embase.ris"
    path.write_text(RIS, encoding="utf-8")
    return path


def fails(capsys, argv: list[str], message: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("metapool: error: ") and message in err and "Traceback" not in err


def test_init_writes_the_template_and_refuses_a_second_time(folder, capsys):
    assert (folder / "review.toml").is_file() and (folder / "review.db").is_file()
    fails(capsys, ["review", "init", str(folder)], "already holds a review (review.toml); nothing was changed")


def test_status_of_a_new_review(folder, capsys):
    assert main(["review", "status", str(folder)]) == 0
    assert "No records imported yet" in capsys.readouterr().out
    assert main(["review", "status", str(folder), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["records"], out["sources"], out["clusters"], out["decisions"], out["events"]) == (0, [], 0, 0, 1)
    assert [d["database"] for d in out["databases"]] == ["MEDLINE (Ovid)", "Embase"]


def test_import_then_status_and_records(folder, ris, tmp_path, capsys, fake_parser):
    argv = ["review", "import", str(folder), str(ris), "--source", "Embase", "--searched", "2025-03-02", "--who", "bob"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "embase.ris: 2 records (ris, utf-8) as source 1" in out and "Imported 2 records from Embase" in out
    assert main(["review", "status", str(folder), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["records"] == 2 and status["sources"][0]["who"] == "bob"
    assert status["sources"][0]["searched"] == "2025-03-02"
    fails(capsys, argv, "embase.ris: this content was imported before, as embase.ris (source 1, Embase,"
                        " searched 2025-03-02, imported by bob")
    target = tmp_path / "records.csv"
    assert main(["review", "records", str(folder), "-o", str(target)]) == 0
    with target.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(RECORD_COLUMNS) and len(rows) == 2
    first = rows[0]
    assert first["title"].startswith("'=HYPERLINK(")  # a formula is guarded
    assert first["abstract"] == "Line one. Line two."  # one line per cell
    assert (first["record_id"], first["source_file"], first["source_database"], first["position"]) == (
        "emb-1", "embase.ris", "Embase", "1")
    assert first["authors"] == "Smith, John; Lee, K." and first["doi"] == "10.1182/blood.2021.1"
    assert [(r["cluster"], r["kept"]) for r in rows] == [(r["id"], "true") for r in rows]


def test_import_errors_exit_2(folder, ris, capsys, fake_parser):
    fails(capsys, ["review", "import", str(folder), str(ris), "--source", "Scopus"],
          "'Scopus' is not a database of")
    fails(capsys, ["review", "import", str(folder), str(ris), "--source", "Embase"], "no date searched for 'Embase'")
    with pytest.raises(SystemExit) as exc:  # argparse: a date that is not one
        main(["review", "import", str(folder), str(ris), "--source", "Embase", "--searched", "March 2025"])
    assert exc.value.code == 2
    assert "is not a date written YYYY-MM-DD" in capsys.readouterr().err


def test_records_never_overwrites_the_review(folder, capsys):
    fails(capsys, ["review", "records", str(folder), "-o", str(folder / "review.db")], "input file")
    fails(capsys, ["review", "records", str(folder), "-o", str(folder / "review.toml")], "input file")
    assert main(["review", "status", str(folder)]) == 0


def test_a_bad_review_file_exits_2_naming_the_key(folder, capsys):
    (folder / "review.toml").write_text('title = "x"\nreviewers_per_record = 3\n', encoding="utf-8")
    fails(capsys, ["review", "status", str(folder)], "key 'reviewers_per_record': must be 1 or 2, not 3")


def test_not_a_review_and_bad_urls_exit_2(tmp_path, capsys):
    fails(capsys, ["review", "status", str(tmp_path)], "is not a review folder (no review.toml)")
    fails(capsys, ["review", "init", str(tmp_path / "r"), "--db", "mysql://h/db"], "only PostgreSQL URLs are supported")
    assert not (tmp_path / "r").exists()


def test_the_same_commands_on_postgresql(tmp_path, ris, pg_url, capsys, fake_parser):
    path = tmp_path / "team"
    assert main(["review", "init", str(path), "--db", pg_url]) == 0
    assert not (path / "review.db").exists()
    config = path / "review.toml"
    config.write_text(config.read_text(encoding="utf-8") + DATABASES, encoding="utf-8")
    assert main(["review", "import", str(path), str(ris), "--source", "Embase", "--searched", "2025-03-02",
                 "--db", pg_url]) == 0
    capsys.readouterr()
    assert main(["review", "status", str(path), "--json", "--db", pg_url]) == 0
    assert json.loads(capsys.readouterr().out)["records"] == 2
    fails(capsys, ["review", "status", str(path)], "has no database review.db; a review kept on PostgreSQL")


@pytest.mark.skipif(importlib.util.find_spec("metapool.review.parse") is None,
                    reason="metapool.review.parse (the export parsers) is not on this branch yet")
def test_import_with_the_real_parsers(folder, ris, capsys):
    assert main(["review", "import", str(folder), str(ris), "--source", "Embase", "--searched", "2025-03-02"]) == 0
    capsys.readouterr()
    assert main(["review", "status", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["records"] == 2


def test_the_review_commands_keep_the_command_line_light():
    code = ("import sys, metapool, metapool.cli.main as m; m.build_parser();"
            " print(sorted(k for k in sys.modules if k.split('.')[0] in ('sqlalchemy', 'psycopg')"
            " or k.startswith('metapool.review')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")})
    assert done.stdout.strip() == "[]"
