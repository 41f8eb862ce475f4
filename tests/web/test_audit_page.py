"""The "Audit a text" page: the same audit as ``metapool audit``, shown highlighted, kept and reproducible."""

from __future__ import annotations

import io
import json
import shutil

import pytest

pytest.importorskip("metapool.audit.pipeline", reason="the audit library is not on this branch yet")

from metapool.audit.pipeline import audit  # noqa: E402
from metapool.datasets import __file__ as datasets_init  # noqa: E402

from .conftest import csrf_of  # noqa: E402
from .test_accessibility import check_page  # noqa: E402

WRONG = "The pooled response rate was 26% (95% CI 24-48%) across 12 studies."


def _post(client, **fields):
    files = fields.pop("files", None)
    token = csrf_of(client.get("/audit").text)
    return client.post("/audit", data={"csrf_token": token, **fields}, files=files)


def test_the_form_is_labelled_and_says_how_to_reproduce(client):
    html = client.get("/audit").text
    for field in ("audit-text", "audit-file", "audit-data"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert "metapool audit FILE --json" in html and 'enctype="multipart/form-data"' in html


def test_a_pasted_text_is_audited_as_the_cli_audits_it(client, workspace):
    r = _post(client, text=WRONG)
    assert r.status_code == 200
    expected = audit(WRONG, source="pasted text")
    assert 'class="audit-mark audit-flag"' in r.text and "Something is flagged" in r.text
    assert "metapool audit audits/pasted-text.txt --json" in r.text
    assert (workspace / "audits" / "pasted-text.txt").read_text() == WRONG
    download = client.get("/audit/download/pasted-text.json")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    assert download.json() == json.loads(json.dumps(expected.to_dict()))
    assert _post(client, text=WRONG).text.count("audits/pasted-text-2.txt") >= 1


def test_user_text_is_escaped_everywhere(client):
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)> ' + WRONG
    r = _post(client, text=hostile)
    assert r.status_code == 200
    assert "<script>alert(1)" not in r.text and "<img src=x" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_an_uploaded_word_file_is_read_by_the_audit_reader(client, workspace):
    import docx

    document = docx.Document()
    document.add_paragraph(WRONG)
    buf = io.BytesIO()
    document.save(buf)
    r = _post(client, files={"file": ("../../Abstract <v2>.docx", buf.getvalue())})
    assert r.status_code == 200 and "Findings for Abstract &lt;v2&gt;.docx" in r.text
    assert 'audit-flag' in r.text and "metapool audit audits/abstract-v2.docx --json" in r.text
    assert sorted(p.name for p in (workspace / "audits").iterdir()) == ["abstract-v2.docx", "abstract-v2.json"]


@pytest.mark.parametrize("fields, message", [
    ({"text": "  "}, "Paste a text or choose a file to audit."),
    ({"text": WRONG, "data": "../outside.toml"}, "Choose an analysis file from the list."),
    ({"files": {"file": ("scan.pdf", b"not a pdf at all")}}, "scan.pdf is named like a PDF document (.pdf) but looks like a text file"),
    ({"files": {"file": ("notes.exe", b"MZ")}}, "notes.exe: files of this type are not accepted here"),
    ({"files": {"file": ("scan.pdf", b"%PDF-1.4 damaged")}}, "&#39;scan.pdf&#39; is not a readable PDF"),
    ({"files": {"file": ("old.docx", b"PK\x03\x04" + bytes(60))}}, "&#39;old.docx&#39; is a ZIP archive but not a Word"),
])
def test_bad_input_is_shown_on_the_form(client, workspace, fields, message):
    r = _post(client, **fields)
    assert r.status_code == 400 and message in r.text and "Traceback" not in r.text
    assert not (workspace / "audits").exists() or not any((workspace / "audits").iterdir())


def test_the_audit_needs_the_csrf_token(client):
    assert client.post("/audit", data={"text": WRONG}).status_code == 403


@pytest.mark.parametrize("name", ["../app.db", "..%2Fsecret.json", "x.txt", "nothing.json"])
def test_downloads_serve_only_the_audits_the_page_wrote(client, name):
    assert client.get(f"/audit/download/{name}").status_code == 404


def test_the_review_analysis_can_be_recomputed(client, workspace):
    from pathlib import Path

    data = Path(datasets_init).parent / "data"
    for name in ("aml_hma_ven_synthetic.toml", "aml_hma_ven_synthetic.csv"):
        shutil.copy(data / name, workspace / name)
    assert 'value="aml_hma_ven_synthetic.toml"' in client.get("/audit").text
    r = _post(client, text="Overall response (ORR) was 55% (95% CI 48-62%).", data="aml_hma_ven_synthetic.toml")
    assert r.status_code == 200
    assert "--data aml_hma_ven_synthetic.toml --json" in r.text


def test_the_audit_page_in_a_real_browser(page, live_server, screenshots):
    base, _ = live_server
    page.goto(base + "/audit")
    page.fill("#audit-text", WRONG + "\nHeterogeneity was moderate (I² = 45%, Q = 20.1, df = 11, p = 0.04).")
    page.click("button[type=submit]")
    page.wait_for_selector(".audit-report")
    assert page.locator("mark.audit-flag").count() >= 1
    assert check_page(page, "audit-result", screenshots) == []  # the findings too: labels, focus, contrast


def _docx_with_doctype(doctype: bytes, reference: bytes) -> bytes:
    """A Word document whose body XML declares ``doctype`` and uses ``reference`` as its text."""
    import zipfile

    import docx

    document = docx.Document()
    document.add_paragraph("PLACEHOLDER")
    buf = io.BytesIO()
    document.save(buf)
    source = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    body = source.read("word/document.xml")
    start = body.index(b"?>") + 2
    body = (body[:start] + doctype + body[start:]).replace(b"PLACEHOLDER", reference)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in source.namelist():
            archive.writestr(name, body if name == "word/document.xml" else source.read(name))
    return out.getvalue()


def test_word_files_with_xml_entity_attacks_are_harmless(client, tmp_path):
    laughs = b"".join(b'<!ENTITY l%d "%s">' % (i + 1, b"&l%d;" % i * 10) for i in range(8))
    bomb = _docx_with_doctype(b'<!DOCTYPE w:document [<!ENTITY l0 "lol">' + laughs + b"]>", b"&l8;")
    r = _post(client, files={"file": ("laughs.docx", bomb)})
    assert r.status_code == 400 and "declares entities or a document type" in r.text  # refused before parsing
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    xxe = _docx_with_doctype(b'<!DOCTYPE w:document [<!ENTITY x SYSTEM "file://%s">]>' % str(secret).encode(), b"&x;")
    r = _post(client, files={"file": ("xxe.docx", xxe)})
    assert r.status_code == 400 and "TOP-SECRET-VALUE" not in r.text  # never parsed, so never read
