"""Uploads: streamed under a generated name into the workspace, typed by extension and content, capped."""

from __future__ import annotations

import io
import zipfile

import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from metapool.web.app import Settings, create_app
from metapool.web.security import Limits, read_form
from metapool.web.uploads import TABLE_SUFFIXES, display_name, read_uploaded_table, save_upload
from metapool.web.workspace import UPLOADS

from .conftest import TOKEN, csrf_of

TABLE = b"study,ai,n1i,ci,n2i\nA,1,10,2,10\nB,3,12,4,11\n"


def _client(workspace, **limits) -> tuple[TestClient, str]:
    """A signed-in client of an app with one test route that saves and reads an uploaded table."""
    app = create_app(Settings(workspace=workspace, token=TOKEN, hosts=("testserver",), limits=Limits(**limits)))

    async def upload(request):
        form = await read_form(request, max_files=1)
        file = form["table"]
        ws, lim = request.app.state.workspace, request.app.state.limits
        path = await save_upload(file, ws, UPLOADS, TABLE_SUFFIXES, max_bytes=lim.file_bytes)
        table = read_uploaded_table(path, lim, display_name(file))
        return PlainTextResponse(f"{ws.relative(path)} rows={table.n_rows} columns={len(table)}")

    app.router.routes.append(Route("/upload", upload, methods=["POST"]))
    c = TestClient(app, raise_server_exceptions=False)
    c.get(f"/?token={TOKEN}")
    return c, csrf_of(c.get("/").text)


def _post(c, token, name, data):
    return c.post("/upload", files={"table": (name, data)}, data={"csrf_token": token})


def _files(workspace):
    return sorted(p.relative_to(workspace).as_posix() for p in workspace.rglob("*") if p.is_file())


def test_a_table_is_saved_in_uploads_and_read(workspace):
    c, token = _client(workspace)
    r = _post(c, token, "Magnesium trials.csv", TABLE)
    assert r.status_code == 200 and r.text == "uploads/magnesium-trials.csv rows=2 columns=5"
    r = _post(c, token, "Magnesium trials.csv", TABLE)
    assert r.text.startswith("uploads/magnesium-trials-2.csv ")


@pytest.mark.parametrize("name, saved", [
    ("../../etc/passwd.csv", "uploads/passwd.csv"),
    ("..\\..\\windows\\evil.csv", "uploads/evil.csv"),
    ("<script>alert(1)</script>.csv", "uploads/script.csv"),
    ("<img src=x onerror=alert(1)>.csv", "uploads/img-src-x-onerror-alert-1.csv"),
    ("/etc/cron.d/job.CSV", "uploads/job.csv"),
    ("....csv", "uploads/upload.csv"),
])
def test_the_uploaded_name_is_never_a_path(workspace, name, saved):
    c, token = _client(workspace)
    r = _post(c, token, name, TABLE)
    assert r.status_code == 200 and r.text.startswith(saved + " ")
    assert _files(workspace) == [saved]


@pytest.mark.parametrize("name, data, message", [
    ("table.exe", TABLE, r"table.exe: files of this type are not accepted here (accepted: .csv, .tsv, .txt, .xlsm, .xlsx)"),
    ("table", TABLE, r"files of this type are not accepted here"),
    ("table.csv", b"\x89PNG\r\n\x1a\n" + bytes(30), r"table.csv is named like a CSV table (.csv) but looks like a PNG image"),
    ("table.xlsx", TABLE, r"table.xlsx is named like a Excel workbook (.xlsx) but looks like a text file"),
    ("table.csv", b"", "table.csv is empty"),
])
def test_wrong_types_are_refused_with_a_page_and_leave_nothing(workspace, name, data, message):
    c, token = _client(workspace)
    r = _post(c, token, name, data)
    assert r.status_code == 400 and message.replace("'", "&#39;").replace("<", "&lt;") in r.text
    assert "Traceback" not in r.text and _files(workspace) == []


def test_a_file_past_the_per_file_cap_is_refused_while_it_streams(workspace):
    c, token = _client(workspace, file_bytes=100_000)
    r = _post(c, token, "big.csv", TABLE + b"C,1,10,2,10\n" * 20_000)
    assert r.status_code == 400 and "big.csv is larger than the 0.0954 MB this server accepts for one file" in r.text
    assert _files(workspace) == []


def test_a_request_past_the_body_cap_is_refused(workspace):
    c, token = _client(workspace, body_bytes=10_000)
    assert _post(c, token, "big.csv", TABLE * 1000).status_code == 413
    assert _files(workspace) == []


def test_too_many_rows_or_columns_name_the_limit(workspace):
    c, token = _client(workspace, upload_rows=2, upload_columns=5)
    assert _post(c, token, "ok.csv", TABLE).status_code == 200
    r = _post(c, token, "long.csv", TABLE + b"C,5,10,6,10\n")
    assert r.status_code == 400 and "long.csv has more than 2 rows, the most this reader accepts" in r.text
    r = _post(c, token, "wide.csv", b"study,ai,n1i,ci,n2i,extra\nA,1,10,2,10,x\n")
    assert r.status_code == 400 and "wide.csv has more than 5 columns" in r.text


def test_a_zip_bomb_named_xlsx_is_refused_before_it_is_unpacked(workspace):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", bytes(16 * 1024 * 1024))
    assert len(buf.getvalue()) < 50_000
    c, token = _client(workspace)
    r = _post(c, token, "trials.xlsx", buf.getvalue())
    assert r.status_code == 400 and "trials.xlsx was refused as a possible decompression bomb" in r.text


def test_an_xlsx_upload_is_read(workspace):
    import openpyxl

    book = openpyxl.Workbook()
    for row in [["study", "yi", "vi"], ["A", 0.1, 0.01], ["B", 0.2, 0.02]]:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    c, token = _client(workspace)
    r = _post(c, token, "trials.xlsx", buf.getvalue())
    assert r.status_code == 200 and r.text == "uploads/trials.xlsx rows=2 columns=3"


def test_an_upload_without_the_csrf_token_is_refused_and_not_saved(workspace):
    c, _ = _client(workspace)
    r = c.post("/upload", files={"table": ("t.csv", TABLE)})
    assert r.status_code == 403 and _files(workspace) == []
