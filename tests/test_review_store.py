"""The review folder and its database (issue 14), on SQLite and on a real PostgreSQL server.

The ``review`` fixture runs every storage test on both backends: SQLite (a
file in the review folder) and PostgreSQL, a throwaway cluster this module
starts with the server binaries of Debian's ``postgresql`` package (initdb,
pg_ctl; as the ``postgres`` user when the tests run as root), listening on a
Unix socket in a temporary folder. Where no server binary exists the
PostgreSQL cases are skipped with that reason.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

import pytest

sa = pytest.importorskip("sqlalchemy")

from metapool.exceptions import MetapoolError  # noqa: E402
from metapool.review import migrations, schema  # noqa: E402
from metapool.review.config import TEMPLATE, load_config, parse_config  # noqa: E402
from metapool.review.imports import BATCH, store_import  # noqa: E402
from metapool.review.record import ParsedFile, Record  # noqa: E402
from metapool.review.status import RECORD_COLUMNS, record_table, review_status  # noqa: E402
from metapool.review.store import DB_NAME, init_review, open_review, transaction  # noqa: E402

FIXTURES = Path(__file__).parent / "review_fixtures"
SRC = Path(__file__).resolve().parents[1] / "src"

DATABASES = '''
[[databases]]
name = "MEDLINE (Ovid)"
search = """1 exp Leukemia, Myeloid, Acute/
2 venetoclax.mp.
3 1 and 2"""
searched = 2025-03-01
from = 2017
to = 2025-03-01

[[databases]]
name = "Embase"
search = "'acute myeloid leukemia'/exp AND venetoclax"
'''


# --- a throwaway PostgreSQL server -------------------------------------------------------------------------------

def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    initdb = found[-1] if found else shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL cluster in a temporary folder, on a Unix socket there; yields (socket folder, port)."""
    bindir = _pg_bin()
    if bindir is None:
        reason = "PostgreSQL tests skipped: no server binaries (initdb) found; install Debian's postgresql package"
        print(reason)
        pytest.skip(reason)
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="metapool-pg-"))
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user, in a folder it owns
        if shutil.which("runuser") is None:
            pytest.skip("PostgreSQL tests skipped: running as root without runuser to start the server as postgres")
        try:
            shutil.chown(base, "postgres", "postgres")
        except LookupError:
            pytest.skip("PostgreSQL tests skipped: running as root and there is no postgres user to run the server")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", 5432

    def run(*command: str) -> None:
        done = subprocess.run([*as_user, *command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode:
            log = (base / "log").read_text(errors="replace") if (base / "log").exists() else ""
            raise RuntimeError(f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr}\n{log}")

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
    options = f"-k {base} -p {port} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-o", options, "start")
    try:
        yield base, port
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_databases(postgres_server):
    """A function making new, empty databases on the throwaway server (each returns its URL; dropped after the test)."""
    socket_dir, port = postgres_server
    admin = sa.create_engine(f"postgresql+psycopg://postgres@/postgres?host={socket_dir}&port={port}",
                             isolation_level="AUTOCOMMIT")
    made = []

    def new() -> str:
        made.append("review_" + uuid.uuid4().hex[:12])
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{made[-1]}"')
        return f"postgresql://postgres@/{made[-1]}?host={socket_dir}&port={port}"

    yield new
    with admin.connect() as conn:
        for name in made:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def pg_url(pg_databases):
    """The URL of a new, empty database on the throwaway server."""
    return pg_databases()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    """None (SQLite in the folder) or the URL of an empty PostgreSQL database."""
    return None if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture
def review(tmp_path, backend):
    """A new review with two databases in its review.toml (MEDLINE with a date searched, Embase without)."""
    folder = tmp_path / "review"
    init_review(folder, db=backend, who="alice")
    config = folder / "review.toml"
    config.write_text(config.read_text(encoding="utf-8") + DATABASES, encoding="utf-8")
    return open_review(folder, db=backend)


# --- helpers -------------------------------------------------------------------------------------------------------

def parsed(name: str, n: int, salt: str = "", **fields) -> ParsedFile:
    """An export file of ``n`` records as the parsers give it (its hash from its name, records and salt)."""
    records = tuple(Record(position=i + 1, raw=f"TY  - JOUR\nTI  - Study {i + 1}{salt}\nER  -",
                           record_id=f"{name}-{i + 1}", title=f"Study {i + 1}{salt}", authors=("Smith, J", "Lee, K"),
                           year=2020, doi=f"10.1000/{name}.{i + 1}", keywords=("AML", "venetoclax"), **fields)
                    for i in range(n))
    digest = hashlib.sha256(f"{name}|{n}|{salt}".encode()).hexdigest()
    return ParsedFile(path=f"/exports/{name}", format="ris", encoding="utf-8", sha256=digest, records=records)


def snapshot(review) -> dict:
    """Every row of every table (what "unchanged" means)."""
    with transaction(review) as conn:
        return {t.name: sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr)
                for t in schema.metadata.sorted_tables}


# --- review.toml ---------------------------------------------------------------------------------------------------

def test_template_is_a_valid_review_file_and_databases_parse():
    config = parse_config(TEMPLATE + DATABASES)
    assert config.reviewers_per_record == 2
    assert [r.code for r in config.exclusion_reasons] == ["population", "intervention", "design"]
    medline, embase = config.databases
    assert medline.name == "MEDLINE (Ovid)" and medline.searched == dt.date(2025, 3, 1)
    assert (medline.date_from, medline.date_to) == (2017, dt.date(2025, 3, 1))
    assert medline.search.startswith("1 exp Leukemia") and embase.searched is None


@pytest.mark.parametrize("text, key", [
    ('titel = "x"', "titel"),
    ("reviewers_per_record = 3", "reviewers_per_record"),
    ('[question]\npopulaton = "adults"', "question.populaton"),
    ('[[exclusion_reasons]]\ncode = "has space"\ntext = "x"', "exclusion_reasons[1].code"),
    ('[[exclusion_reasons]]\ncode = "a"\ntext = "x"\n[[exclusion_reasons]]\ncode = "a"\ntext = "y"',
     "exclusion_reasons.code"),
    ('[[databases]]\nsearch = "x"', "databases[1].name"),
    ('[[databases]]\nname = "M"\nsearched = "March 2025"', "databases[1].searched"),
    ('[[databases]]\nname = "M"\nfrom = 17', "databases[1].from"),
    ('[[databases]]\nname = "M"\nsearch_string = "x"', "databases[1].search_string"),
    ('databases = "MEDLINE"', "databases"),
])
def test_bad_review_file_names_the_key(text, key):
    with pytest.raises(MetapoolError, match=re.escape(f"review.toml: key '{key}'")):
        parse_config(text)


def test_unknown_source_lists_the_databases(review):
    with pytest.raises(MetapoolError, match=r"'Scopus' is not a database of .*'MEDLINE \(Ovid\)', 'Embase'"):
        store_import(review, [parsed("a.ris", 3)], "Scopus")


# --- init and open -------------------------------------------------------------------------------------------------

def test_init_creates_the_template_and_logs_who(tmp_path, backend):
    folder = tmp_path / "r"
    review = init_review(folder, db=backend, who="alice")
    assert (folder / "review.toml").read_text(encoding="utf-8") == TEMPLATE
    assert (folder / DB_NAME).exists() == (backend is None)
    load_config(folder / "review.toml")
    with transaction(review) as conn:
        (event,) = conn.execute(sa.select(schema.events)).all()
        assert migrations.database_version(conn) == schema.SCHEMA_VERSION
    assert (event.kind, event.who) == ("init", "alice")
    with pytest.raises(MetapoolError, match="already holds a review"):
        init_review(folder, db=backend)
    if backend is not None:  # the server's database holds a review already: a second folder is refused too
        with pytest.raises(MetapoolError, match="already holds a review"):
            init_review(tmp_path / "other", db=backend)
        assert not (tmp_path / "other").exists()


def test_open_refuses_a_folder_without_a_review(tmp_path):
    with pytest.raises(MetapoolError, match="not a review folder"):
        open_review(tmp_path)
    (tmp_path / "review.toml").write_text(TEMPLATE, encoding="utf-8")
    with pytest.raises(MetapoolError, match="no database review.db"):
        open_review(tmp_path)
    (tmp_path / "review.db").write_text("not a database\n" * 100, encoding="utf-8")
    with pytest.raises(MetapoolError, match="review.db: file is not a database; the review was not changed"):
        open_review(tmp_path)
    (tmp_path / "review.db").unlink()
    sqlite3.connect(tmp_path / "review.db").execute("CREATE TABLE other (x)").connection.commit()
    with pytest.raises(MetapoolError, match="review.db holds no review"):
        open_review(tmp_path)


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    review = init_review(tmp_path / "r")
    with transaction(review) as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_foreign_keys_are_enforced(review):
    with pytest.raises(MetapoolError, match="the review was not changed"):
        with transaction(review) as conn:
            conn.execute(schema.records.insert().values(source_id=999, position=1, raw="x", authors=[], keywords=[]))


# --- import --------------------------------------------------------------------------------------------------------

def test_import_stores_every_field_with_who_and_when(review):
    fields = {"abstract": "Background.\nMethods.", "journal": "Blood", "volume": "12", "issue": "3", "pages": "1-9",
              "pmid": "123", "issn": "0006-4971", "language": "eng", "publication_type": "Journal Article"}
    before = dt.datetime.now(dt.timezone.utc)
    result = store_import(review, [parsed("medline.ris", 3, **fields), parsed("medline2.ris", 2)], "MEDLINE (Ovid)",
                          who="bob")
    assert result.records == 5 and [s.records for s in result.sources] == [3, 2]
    assert result.searched == dt.date(2025, 3, 1)  # from review.toml
    with transaction(review) as conn:
        rows = conn.execute(sa.select(schema.records).order_by(schema.records.c.id)).all()
        sources = conn.execute(sa.select(schema.sources).order_by(schema.sources.c.id)).all()
        event = conn.execute(sa.select(schema.events).where(schema.events.c.kind == "import")).one()
    assert len(rows) == 5 and [r.position for r in rows] == [1, 2, 3, 1, 2]
    first = rows[0]._mapping
    assert {k: first[k] for k in fields} == fields
    assert first["authors"] == ["Smith, J", "Lee, K"] and first["keywords"] == ["AML", "venetoclax"]
    assert first["raw"].startswith("TY  - JOUR") and first["record_id"] == "medline.ris-1"
    assert [(s.file_name, s.database, s.searched, s.who, s.format) for s in sources] == [
        ("medline.ris", "MEDLINE (Ovid)", dt.date(2025, 3, 1), "bob", "ris"),
        ("medline2.ris", "MEDLINE (Ovid)", dt.date(2025, 3, 1), "bob", "ris")]
    assert event.who == "bob" and event.payload["records"] == 5
    assert event.payload["files"] == ["medline.ris", "medline2.ris"]
    assert review_status(review).sources[0].at >= before.replace(microsecond=0) - dt.timedelta(seconds=1)


def test_same_content_twice_is_refused_naming_the_earlier_import(review):
    store_import(review, [parsed("medline.ris", 3)], "MEDLINE (Ovid)", who="bob")
    before = snapshot(review)
    again = parsed("medline.ris", 3)
    again = ParsedFile(path="/elsewhere/renamed.ris", format=again.format, encoding=again.encoding,
                       sha256=again.sha256, records=again.records)
    with pytest.raises(MetapoolError, match=r"renamed.ris: this content was imported before, as medline.ris "
                                            r"\(source 1, MEDLINE \(Ovid\), searched 2025-03-01, imported by bob"):
        store_import(review, [parsed("new.ris", 2), again], "Embase", dt.date(2025, 3, 2))
    with pytest.raises(MetapoolError, match="same content as a.ris in this import"):
        store_import(review, [parsed("a.ris", 2), parsed("a.ris", 2)], "Embase", dt.date(2025, 3, 2))
    assert snapshot(review) == before


def test_date_searched_is_required_from_the_command_or_the_review_file(review):
    with pytest.raises(MetapoolError, match="no date searched for 'Embase'"):
        store_import(review, [parsed("e.ris", 2)], "Embase")
    assert store_import(review, [parsed("e.ris", 2)], "Embase", dt.date(2025, 2, 1)).searched == dt.date(2025, 2, 1)


def test_a_file_without_records_is_refused(review):
    empty = ParsedFile(path="/x/empty.ris", format="ris", encoding="utf-8", sha256="0" * 64, records=())
    with pytest.raises(MetapoolError, match="empty.ris: no records found"):
        store_import(review, [parsed("a.ris", 2), empty], "MEDLINE (Ovid)")
    assert review_status(review).records == 0


def test_an_import_failing_half_way_leaves_the_review_as_it_was(review):
    store_import(review, [parsed("first.ris", 2)], "MEDLINE (Ovid)")
    before = snapshot(review)

    def fail(done, total):
        if done >= BATCH:
            raise RuntimeError("disk full (simulated)")

    with pytest.raises(RuntimeError, match="simulated"):
        store_import(review, [parsed("big.ris", 3 * BATCH)], "Embase", dt.date(2025, 3, 2), progress=fail)
    assert snapshot(review) == before
    # a record the database refuses, in the second batch of the second file
    bad = parsed("bad.ris", BATCH + 10)
    records = list(bad.records)
    records[BATCH + 5] = records[0]  # a repeated position violates the unique (source, position)
    bad = ParsedFile(path=bad.path, format=bad.format, encoding=bad.encoding, sha256=bad.sha256, records=tuple(records))
    with pytest.raises(MetapoolError, match="(?i)unique.*the review was not changed"):
        store_import(review, [parsed("fine.ris", 4), bad], "Embase", dt.date(2025, 3, 2))
    assert snapshot(review) == before
    # and the review is usable: the same files import afterwards
    assert store_import(review, [parsed("big.ris", 3 * BATCH)], "Embase", dt.date(2025, 3, 2)).records == 3 * BATCH


KILLED_IMPORT = """
import datetime as dt, hashlib, sys
from metapool.review.imports import store_import
from metapool.review.record import ParsedFile, Record
from metapool.review.store import open_review

review = open_review(sys.argv[1], db=sys.argv[2] or None)
records = tuple(Record(position=i + 1, raw="x" * 1000, title=f"Record {i}", authors=("A",)) for i in range(50_000))
big = ParsedFile(path="big.ris", format="ris", encoding="utf-8", sha256=hashlib.sha256(b"big").hexdigest(),
                 records=records)

def progress(done, total):
    if done == 2 * 500:
        print("storing", flush=True)

store_import(review, [big], "Embase", dt.date(2025, 3, 2), who="killed", progress=progress)
print("finished", flush=True)
"""


def test_a_killed_import_leaves_the_review_unchanged_and_usable(review, tmp_path):
    store_import(review, [parsed("first.ris", 2)], "MEDLINE (Ovid)")
    before = snapshot(review)
    script = tmp_path / "killed_import.py"
    script.write_text(KILLED_IMPORT, encoding="utf-8")
    db = "" if review.engine.dialect.name == "sqlite" else review.engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, str(script), str(review.folder), db], stdout=subprocess.PIPE, env=env,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "storing"  # in the middle of the transaction
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    reopened = open_review(review.folder, db=db or None)
    assert snapshot(reopened) == before
    assert store_import(reopened, [parsed("after.ris", 3)], "Embase", dt.date(2025, 3, 2)).records == 3
    assert review_status(reopened).records == 5


# --- status and the record table -----------------------------------------------------------------------------------

def test_status_counts_per_source_and_database(review):
    store_import(review, [parsed("m1.ris", 3), parsed("m2.ris", 4)], "MEDLINE (Ovid)", who="bob")
    store_import(review, [parsed("e.ris", 5)], "Embase", dt.date(2025, 3, 2), who="carol")
    status = review_status(review)
    assert [(s.file_name, s.database, s.records, s.who) for s in status.sources] == [
        ("m1.ris", "MEDLINE (Ovid)", 3, "bob"), ("m2.ris", "MEDLINE (Ovid)", 4, "bob"), ("e.ris", "Embase", 5, "carol")]
    assert [(d.database, d.records, d.files) for d in status.databases] == [("MEDLINE (Ovid)", 7, 2), ("Embase", 5, 1)]
    assert (status.records, status.clusters, status.decisions, status.events) == (12, 0, 0, 3)
    out = status.to_dict()
    assert out["sources"][2]["searched"] == "2025-03-02" and out["schema_version"] == schema.SCHEMA_VERSION


def test_record_table_lists_every_record_with_its_cluster(review):
    store_import(review, [parsed("m.ris", 2)], "MEDLINE (Ovid)")
    store_import(review, [parsed("e.ris", 1)], "Embase", dt.date(2025, 3, 2))
    rows = list(record_table(review))
    assert [set(r) for r in rows] == [set(RECORD_COLUMNS)] * 3
    assert [(r["source_file"], r["source_database"], r["position"], r["record_id"]) for r in rows] == [
        ("m.ris", "MEDLINE (Ovid)", 1, "m.ris-1"), ("m.ris", "MEDLINE (Ovid)", 2, "m.ris-2"),
        ("e.ris", "Embase", 1, "e.ris-1")]
    assert all(r["cluster"] == r["id"] and r["kept"] for r in rows)  # no duplicate clusters yet
    assert rows[0]["authors"] == "Smith, J; Lee, K" and rows[0]["searched"] == "2025-03-01"
    # the shape deduplication will fill: a cluster keeps one record; an undone cluster no longer counts
    with transaction(review) as conn:
        from metapool.review.store import log_event

        merge = log_event(conn, "merge", {"records": [rows[0]["id"], rows[2]["id"]]}, "alice")
        cluster = conn.execute(schema.clusters.insert().values(kept_record=rows[2]["id"], method="doi", evidence={},
                                                               event_id=merge)).inserted_primary_key[0]
        conn.execute(schema.cluster_members.insert(), [{"cluster_id": cluster, "record": rows[0]["id"]},
                                                       {"cluster_id": cluster, "record": rows[2]["id"]}])
    merged = list(record_table(review))
    assert [(r["cluster"], r["kept"]) for r in merged] == [(rows[2]["id"], False), (rows[1]["id"], True),
                                                           (rows[2]["id"], True)]
    with transaction(review) as conn:
        from metapool.review.store import log_event

        undo = log_event(conn, "unmerge", {"cluster": cluster}, "alice", undoes=merge)
        conn.execute(schema.clusters.update().where(schema.clusters.c.id == cluster).values(undone_by=undo))
    assert all(r["cluster"] == r["id"] for r in record_table(review))
    assert review_status(review).events == 5  # init, two imports, the merge and its undo: nothing deleted


# --- migrations: a newer metapool opens an older review -----------------------------------------------------------

def _run_ddl(conn, dialect: str) -> None:
    text = (FIXTURES / f"schema_v1.{dialect}.sql").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    for statement in body.split(";"):
        if statement.strip():
            conn.exec_driver_sql(statement)


def _v1_review(tmp_path: Path, backend) -> Path:
    """A review folder whose database was made by the version-1 DDL (with an import in it)."""
    from metapool.review.store import _engine

    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "review.toml").write_text(TEMPLATE + DATABASES, encoding="utf-8")
    engine, _ = _engine(folder, backend)
    with engine.begin() as conn:
        _run_ddl(conn, engine.dialect.name)
        at = dt.datetime(2025, 3, 1, 12, tzinfo=dt.timezone.utc)
        conn.execute(sa.text("INSERT INTO schema_version (version, applied_at, metapool_version) VALUES (1, :at, '0.1.0')"),
                     {"at": at})
        conn.execute(sa.text("INSERT INTO events (kind, payload, who, at) VALUES ('init', '{}', 'old', :at)"), {"at": at})
        conn.execute(sa.text("INSERT INTO sources (file_name, sha256, format, encoding, database, searched, record_count,"
                             " event_id, who, at) VALUES ('old.ris', :sha, 'ris', 'utf-8', 'Embase', :day, 1, 1, 'old', :at)"),
                     {"sha": "a" * 64, "day": dt.date(2025, 3, 1), "at": at})
        conn.execute(sa.text("INSERT INTO records (source_id, position, title, authors, keywords, raw)"
                             " VALUES (1, 1, 'Old record', '[\"Old, A\"]', '[]', 'TI  - Old record')"))
    engine.dispose()
    return folder


def _columns(review) -> dict:
    with transaction(review) as conn:
        inspector = sa.inspect(conn)
        return {t: sorted((c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(t))
                for t in inspector.get_table_names()}


def test_a_version_1_review_opens_and_matches_a_new_one(tmp_path, backend, request):
    old = open_review(_v1_review(tmp_path, backend), db=backend)
    assert [r["title"] for r in record_table(old)] == ["Old record"]
    store_import(old, [parsed("new.ris", 2)], "Embase", dt.date(2025, 3, 2))
    assert review_status(old).records == 3
    # the migrated tables are those a new review gets
    new = init_review(tmp_path / "new", db=None if backend is None else request.getfixturevalue("pg_databases")())
    assert _columns(old) == _columns(new)


def test_the_migration_steps_run_in_order_in_one_transaction(tmp_path, backend):
    review = open_review(_v1_review(tmp_path, backend), db=backend)
    ran = []

    def step2(conn):
        ran.append(2)
        conn.execute(sa.text("ALTER TABLE records ADD COLUMN study TEXT"))

    def step3(conn):
        ran.append(3)
        raise RuntimeError("step 3 failed")

    with pytest.raises(RuntimeError, match="step 3 failed"):
        with transaction(review) as conn:
            migrations.upgrade(conn, "test", {2: step2, 3: step3}, target=3)
    assert ran == [2, 3]
    with transaction(review) as conn:  # neither step 2 nor its stamp stayed
        assert migrations.database_version(conn) == 1
        assert "study" not in {c["name"] for c in sa.inspect(conn).get_columns("records")}
        assert migrations.upgrade(conn, "test", {2: step2}, target=2) == (2,)
        assert migrations.database_version(conn) == 2


def test_a_review_of_a_newer_metapool_is_refused_and_left_alone(review):
    with transaction(review) as conn:
        conn.execute(schema.schema_version.insert().values(version=schema.SCHEMA_VERSION + 1, metapool_version="9.0",
                                                           applied_at=dt.datetime.now(dt.timezone.utc)))
    before = snapshot(review)
    with pytest.raises(MetapoolError, match=f"schema version {schema.SCHEMA_VERSION + 1}, newer than this metapool's"):
        open_review(review.folder, db=None if review.engine.dialect.name == "sqlite" else
                    review.engine.url.render_as_string(hide_password=False))
    assert snapshot(review) == before


def test_postgresql_server_binaries_are_there_on_this_machine():
    """The CI installs Debian's postgresql (.ci/run); where it did, the PostgreSQL cases above must not skip."""
    if not Path("/usr/lib/postgresql").is_dir():
        pytest.skip("no /usr/lib/postgresql here")
    assert _pg_bin() is not None


# --- concurrency ---------------------------------------------------------------------------------------------------

def test_a_reader_is_not_blocked_by_a_writer(review):
    store_import(review, [parsed("m.ris", 2)], "MEDLINE (Ovid)")
    with transaction(review) as conn:  # a writer in the middle of its transaction
        conn.execute(schema.events.insert().values(kind="test", payload={}, who="w", at=dt.datetime.now(dt.timezone.utc)))
        status = review_status(review)  # reads the last committed state at once (no wait for the lock)
        assert (status.records, status.events) == (2, 2)
    assert review_status(review).events == 3


CONCURRENT_IMPORT = """
import datetime as dt, hashlib, sys
from metapool.review.imports import store_import
from metapool.review.record import ParsedFile, Record
from metapool.review.store import open_review

name = sys.argv[3]
review = open_review(sys.argv[1], db=sys.argv[2] or None)
records = tuple(Record(position=i + 1, raw=f"{name} {i}", title=f"{name} {i}") for i in range(3000))
f = ParsedFile(path=name, format="ris", encoding="utf-8", sha256=hashlib.sha256(name.encode()).hexdigest(),
               records=records)
store_import(review, [f], "Embase", dt.date(2025, 3, 2), who=name)
"""


def test_two_processes_importing_at_once_both_succeed(review, tmp_path):
    script = tmp_path / "concurrent_import.py"
    script.write_text(CONCURRENT_IMPORT, encoding="utf-8")
    db = "" if review.engine.dialect.name == "sqlite" else review.engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    procs = [subprocess.Popen([sys.executable, str(script), str(review.folder), db, name], env=env,
                              stderr=subprocess.PIPE, text=True) for name in ("one.ris", "two.ris")]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    status = review_status(review)
    assert status.records == 6000 and sorted(s.who for s in status.sources) == ["one.ris", "two.ris"]
    positions = {}
    for row in record_table(review):
        positions.setdefault(row["source_file"], []).append(row["position"])
    assert {k: v == list(range(1, 3001)) for k, v in positions.items()} == {"one.ris": True, "two.ris": True}


def test_a_nul_character_is_refused_naming_the_record(review):
    bad = parsed("utf16.ris", 3)
    records = list(bad.records)
    records[1] = Record(position=2, raw="TI  - T I", title="T\x00I\x00")
    bad = ParsedFile(path=bad.path, format="ris", encoding="latin-1", sha256=bad.sha256, records=tuple(records))
    with pytest.raises(MetapoolError, match="utf16.ris: record 2: title contains a NUL character"):
        store_import(review, [bad], "MEDLINE (Ovid)")
    assert review_status(review).records == 0


# --- review.toml written from values (the web app's form), keywords --------------------------------------------------

def test_config_text_round_trips_user_text_as_data_and_init_review_writes_it(tmp_path):
    from metapool.review.config import Database, ExclusionReason, Question, config_text
    from metapool.review.store import init_review

    hostile = 'AML "x"\n[evil]\nkey = 1 \\ \x7f'
    text = config_text(hostile, 1, Question(population=hostile), ("venetoclax", "AML"),
                       (ExclusionReason("pop", hostile),), (Database("MEDLINE", hostile, dt.date(2025, 3, 1), 2017),))
    config = parse_config(text)
    assert config.title == hostile.strip() and config.question.population == hostile.strip()
    assert config.keywords == ("venetoclax", "AML") and config.databases[0].search == hostile
    review = init_review(tmp_path / "r", who="ana", config_text=text)
    assert load_config(review.config_path).keywords == ("venetoclax", "AML")
    with pytest.raises(MetapoolError, match="reviewers_per_record"):
        init_review(tmp_path / "bad", config_text=text.replace("reviewers_per_record = 1", "reviewers_per_record = 5"))
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("line, problem", [('keywords = "AML"', "must be a list of texts"),
                                           ('keywords = ["AML", 3]', "keywords[2]"),
                                           ('keywords = ["  "]', "non-empty")])
def test_keywords_must_be_a_list_of_texts(line, problem):
    with pytest.raises(MetapoolError, match=re.escape(problem)):
        parse_config(TEMPLATE.replace("keywords = []", line))
    assert parse_config(TEMPLATE).keywords == ()
