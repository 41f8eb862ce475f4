"""Screen 2 (analyses) and screen 5 (the evidence card page) through the framework's test client.

The flow of a user: upload a study table, map its columns, choose the methods, run, read the results
and download them; and every bad input of the issue refused with a page that says what is wrong.
"""

from __future__ import annotations

import io
import json
import re
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

from metapool.datasets import DATASETS

from .conftest import csrf_of

DEMO = DATASETS["aml_hma_ven_synthetic"].path
SMALL = "study,events,n,design\nA 2001,3,10,RCT\nB 2003,5,12,RCT\nC 2005,9,20,RCT\nD 2008,4,15,RCT\n"


def _upload(client, name: str, content: bytes, mime: str = "text/csv"):
    token = csrf_of(client.get("/analysis").text)
    return client.post("/analysis/new", data={"csrf_token": token}, files={"table": (name, content, mime)},
                       follow_redirects=False)


def _form(html: str) -> dict:
    """The fields of the setup form as the browser would send them (selected options, checked boxes)."""
    fields = {}
    for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html):
        fields[m.group(1)] = _unescape(m.group(2))
    for m in re.finditer(r'<input type="(?:text|number)" id="[^"]*" name="([^"]+)" value="([^"]*)"', html):
        fields[m.group(1)] = _unescape(m.group(2))
    for m in re.finditer(r'<input type="checkbox" name="([^"]+)"( checked)?>', html):
        if m.group(2):
            fields[m.group(1)] = "on"
    for m in re.finditer(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', m.group(2))
        first = re.search(r'<option value="([^"]*)"', m.group(2))
        fields[m.group(1)] = _unescape((chosen or first).group(1))
    return fields


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def _setup(client, content: bytes = SMALL.encode(), name: str = "studies.csv"):
    r = _upload(client, name, content)
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    assert page.status_code == 200, page.text
    return page


def _save(client, page, **changes):
    fields = _form(page.text) | {"action": "save"} | changes
    return client.post("/analysis/setup", data=fields, follow_redirects=False)


def _wait(client, job_url: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fragment = client.get(job_url + "/progress").text
        if "<progress" not in fragment:
            return fragment
        time.sleep(0.2)
    pytest.fail("the run did not finish")


def _run(client, analysis: str) -> str:
    """Start a run of ``analysis``; returns the run folder (relative) once it is finished."""
    token = csrf_of(client.get("/analysis/view", params={"path": analysis}).text)
    r = client.post("/analysis/run", data={"csrf_token": token, "path": analysis}, follow_redirects=False)
    assert r.status_code == 303
    fragment = _wait(client, r.headers["location"])
    run = re.search(r'/analysis/result\?run=([^"]+)"', fragment)
    assert run, fragment
    from urllib.parse import unquote

    return unquote(run.group(1))


@pytest.fixture
def small_analysis(client, workspace):
    page = _setup(client)
    r = _save(client, page)
    assert r.status_code == 303, r.text
    from urllib.parse import parse_qs, urlparse

    return parse_qs(urlparse(r.headers["location"]).query)["path"][0]


def test_upload_guesses_the_columns_as_metapool_init_does(client):
    page = _setup(client)
    fields = _form(page.text)
    assert fields["study"] == "study" and fields["n"] == "n" and fields["design"] == "design"
    assert fields["o0_kind"] == "proportion" and fields["o0_col_events"] == "events" and fields["o0_col_total"] == "n"
    # the registries' vocabularies with their explanations
    assert "REML — restricted maximum likelihood" in page.text and "knha — Knapp-Hartung" in page.text
    measures = re.findall(r'<option value="([A-Z]+)"', page.text.split("o0_measure")[1].split("</select>")[0])
    assert "PLO" in measures and "PFT" in measures and "OR" not in measures  # one-group measures only


def test_an_xlsx_table_is_read_too(client):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    for line in SMALL.strip().splitlines():
        sheet.append([int(c) if c.isdigit() else c for c in line.split(",")])
    buffer = io.BytesIO()
    book.save(buffer)
    r = _upload(client, "studies.xlsx", buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert r.status_code == 303 and r.headers["location"].endswith(".xlsx")
    assert _form(client.get(r.headers["location"]).text)["o0_col_events"] == "events"


def test_the_analysis_file_is_written_by_the_init_writer_and_user_text_cannot_add_keys(client, workspace):
    page = _setup(client)
    hostile = 'Title "x"\n[[outcome]]\nname = "injected"'
    r = _save(client, page, title=hostile, o0_name='Resp"onse\nkind = "binary"', o0_measure="PLN", o0_method="DL",
              o0_test="knha", o0_bias="")
    assert r.status_code == 303, r.text
    files = sorted(workspace.glob("*.toml"))
    assert len(files) == 1
    text = files[0].read_text(encoding="utf-8")
    assert text.startswith("# metapool analysis file (TOML), written by the web app (metapool serve).")
    raw = tomllib.loads(text)
    assert raw["title"] == hostile and len(raw["outcome"]) == 1
    out = raw["outcome"][0]
    assert out["name"] == 'Resp"onse\nkind = "binary"' and out["kind"] == "proportion"
    assert (out["measure"], out["method"], out["test"], out["bias"], out["sensitivity"]) == ("PLN", "DL", "knha", False, True)
    assert raw["data"].startswith("uploads/") and (workspace / raw["data"]).is_file()


def test_a_choice_the_method_refuses_shows_the_form_again_with_the_reason(client, workspace):
    page = _setup(client)
    r = _save(client, page, o0_method="MH")
    assert r.status_code == 400 and "MH" in r.text and "was not written" in r.text
    assert not list(workspace.glob("*.toml"))
    assert 'name="o0_col_events"' in r.text  # the form again, with what was chosen


def test_adding_an_outcome_keeps_what_was_chosen(client):
    page = _setup(client)
    fields = _form(page.text) | {"action": "add", "add_kind": "binary", "title": "Kept title"}
    r = client.post("/analysis/setup", data=fields)
    assert r.status_code == 200 and 'value="Kept title"' in r.text
    assert 'name="o1_col_events1"' in r.text and 'name="o1_col_nonevents1"' in r.text


def test_run_results_numbers_are_those_of_results_json_and_rerun_keeps_the_previous_run(client, workspace,
                                                                                       small_analysis):
    run1 = _run(client, small_analysis)
    assert run1.endswith("/1")
    page = client.get("/analysis/result", params={"run": run1})
    assert page.status_code == 200
    results = json.loads((workspace / run1 / "results.json").read_text())
    row = results["card"]["outcomes"][0]
    summary = page.text.split('id="summary"')[1].split("</table>")[0]
    assert row["estimate"] in summary and f">{row['k']}<" in summary
    assert "metapool run" in page.text and small_analysis in page.text  # the reproduce box
    assert 'sandbox' in page.text and "card.html" in page.text
    assert re.search(r'<img src="/analysis/file\?[^"]*forest\.svg" alt="Forest plot: Events"', page.text)
    assert "Test for heterogeneity" in page.text and "Small-study effects" in page.text
    for src in re.findall(r'<img src="([^"]+)"', page.text):
        image = client.get(src.replace("&amp;", "&"))
        assert image.status_code == 200 and image.headers["content-type"].startswith("image/svg+xml")
    run2 = _run(client, small_analysis)
    assert run2.endswith("/2") and (workspace / run1 / "results.json").is_file()
    opened = client.get("/analysis/open", params={"path": small_analysis}, follow_redirects=False)
    assert opened.headers["location"].endswith("%2F2")


def test_downloads_and_the_zip_of_a_run(client, workspace, small_analysis):
    run = _run(client, small_analysis)
    for name in ("report.html", "results.json", "effect_sizes.csv", "card.html"):
        r = client.get("/analysis/file", params={"run": run, "name": name, "download": "1"})
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        assert r.content == (workspace / run / name).read_bytes()
    toml = client.get("/analysis/file", params={"run": run, "name": "analysis.toml", "download": "1"})
    assert toml.status_code == 200 and tomllib.loads(toml.text)["outcome"]
    z = client.get("/analysis/zip", params={"run": run})
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert "1/results.json" in names and "1/report.html" in names and any(n.startswith("1/figures/") for n in names)
    assert any(n.endswith(".toml") for n in names)
    shown = client.get("/analysis/file", params={"run": run, "name": "report.html"})
    assert "script-src" not in shown.headers["content-security-policy"] and "sandbox" in shown.headers["content-security-policy"]


def test_the_evidence_card_page_is_the_runs_card_as_one_file(client, workspace, small_analysis):
    run = _run(client, small_analysis)
    page = client.get("/card", params={"run": run})
    assert page.status_code == 200 and page.content == (workspace / run / "card.html").read_bytes()
    assert "<script" not in page.text and 'name="viewport"' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    saved = client.get("/card", params={"run": run, "download": "1"})
    assert "attachment" in saved.headers["content-disposition"] and saved.content == page.content


def test_a_text_in_a_count_column_names_row_and_column(client, workspace):
    page = _setup(client, b"study,events,n\nA,3,10\nB,x3,12\nC,5,20\n")
    r = _save(client, page, o0_col_events="events", o0_col_total="n", o0_kind="proportion")
    if "o0_kind" not in _form(page.text):  # nothing recognised: the form offers a blank outcome
        pass
    assert r.status_code == 303, r.text
    path = r.headers["location"].split("path=")[1]
    from urllib.parse import unquote

    run = _run(client, unquote(path))
    text = client.get("/analysis/result", params={"run": run}).text
    assert "row 2 (study &#39;B&#39;), column &#39;events&#39;" in text and "x3" in text


@pytest.mark.parametrize("name, content, message", [
    ("empty.csv", b"", "empty"),
    ("notes.pdf", b"%PDF-1.4", "pdf"),
    ("header.csv", b"study,events,n\n", "no studies"),
])
def test_bad_uploads_get_a_page_that_says_why(client, workspace, name, content, message):
    r = _upload(client, name, content)
    assert r.status_code in (400, 413, 415) and message in r.text.lower() and "Traceback" not in r.text
    assert not [p for p in (workspace / "uploads").glob("*")] if (workspace / "uploads").exists() else True


@pytest.mark.parametrize("url, params", [
    ("/analysis/view", {"path": "../outside.toml"}),
    ("/analysis/open", {"path": "/etc/passwd"}),
    ("/analysis/edit", {"path": "../../x.toml"}),
    ("/analysis/result", {"run": "../.."}),
    ("/analysis/file", {"run": "runs/x/1", "name": "../../../secret.txt"}),
    ("/analysis/zip", {"run": "runs/../.."}),
    ("/analysis/setup", {"data": "../outside.csv"}),
    ("/card", {"run": "/tmp"}),
])
def test_a_path_outside_the_workspace_is_refused(client, workspace, url, params):
    (workspace.parent / "outside.toml").write_text('data = "x.csv"\n[[outcome]]\nkind = "proportion"\n')
    (workspace.parent / "outside.csv").write_text(SMALL)
    r = client.get(url, params=params)
    assert r.status_code in (400, 404) and "Traceback" not in r.text


def test_a_file_of_a_run_outside_its_folder_is_refused(client, workspace, small_analysis):
    run = _run(client, small_analysis)
    (workspace / "secret.txt").write_text("secret")
    for name in ("../../../secret.txt", "", "figures", "/etc/passwd"):
        assert client.get("/analysis/file", params={"run": run, "name": name}).status_code == 404


def test_forms_without_the_csrf_token_are_refused(client, small_analysis):
    assert client.post("/analysis/run", data={"path": small_analysis}).status_code == 403
    assert client.post("/analysis/new", files={"table": ("s.csv", SMALL.encode(), "text/csv")}).status_code == 403
    assert client.post("/analysis/setup", data={"data": "uploads/studies.csv", "action": "save"}).status_code == 403


def test_edit_is_prefilled_from_the_analysis_file_and_keeps_keys_the_form_does_not_show(client, workspace,
                                                                                     small_analysis):
    path = workspace / small_analysis
    path.write_text(path.read_text().replace('kind = "proportion"', 'kind = "proportion"\nhigher_is_better = false', 1)
                    .replace('title = ', 'synthetic = true\ntitle = ', 1))
    page = client.get("/analysis/edit", params={"path": small_analysis})
    assert page.status_code == 200 and "Edit the analysis" in page.text
    fields = _form(page.text)
    assert fields["o0_col_events"] == "events" and fields["path"] == small_analysis
    r = _save(client, page, o0_method="PM")
    assert r.status_code == 303
    raw = tomllib.loads(path.read_text())
    assert raw["synthetic"] is True and raw["outcome"][0]["higher_is_better"] is False
    assert raw["outcome"][0]["method"] == "PM"


def test_a_failed_run_shows_the_error_not_a_traceback(client, workspace, small_analysis):
    data = workspace / tomllib.loads((workspace / small_analysis).read_text())["data"]
    data.unlink()  # the analysis file now names a missing table
    token = csrf_of(client.get("/analysis").text)
    r = client.post("/analysis/run", data={"csrf_token": token, "path": small_analysis}, follow_redirects=False)
    fragment = _wait(client, r.headers["location"])
    assert "The run stopped" in fragment and "does not exist" in fragment and "Traceback" not in fragment


def test_a_report_metapool_run_wrote_in_the_workspace_opens_too(client, workspace):
    from metapool.cli.main import main

    (workspace / "studies.csv").write_text(SMALL)
    (workspace / "a.toml").write_text('data = "studies.csv"\nstudy = "study"\n[[outcome]]\nname = "R"\n'
                                      'kind = "proportion"\nevents = "events"\ntotal = "n"\n')
    assert main(["run", str(workspace / "a.toml"), "-o", str(workspace / "out" / "report"), "--figures", "none"]) == 0
    index = client.get("/analysis").text
    assert re.search(r"/analysis/result\?run=out(%2F|/)report", index)
    page = client.get("/analysis/result", params={"run": "out/report"})
    results = json.loads((workspace / "out" / "report" / "results.json").read_text())
    assert page.status_code == 200 and results["card"]["outcomes"][0]["estimate"] in page.text
    assert "Report folder" in page.text and "report.html" in page.text
    assert client.get("/card", params={"run": "out/report"}).status_code == 200
    z = zipfile.ZipFile(io.BytesIO(client.get("/analysis/zip", params={"run": "out/report"}).content))
    assert "report/results.json" in z.namelist()
    assert client.get("/analysis/result", params={"run": "out"}).status_code == 404  # not a report folder


def test_what_an_interrupted_run_leaves_is_not_listed_and_the_next_run_goes_on(client, workspace, small_analysis):
    runs = workspace / "runs" / Path(small_analysis).stem
    (runs / ".1.metapool-tmp").mkdir(parents=True)  # a server stopped while the results were written
    (runs / ".1.metapool-tmp" / "results.json").write_text("{}")
    page = client.get("/analysis/view", params={"path": small_analysis}).text
    assert "Not run yet." in page
    run = _run(client, small_analysis)
    assert run.endswith("/1") and not (runs / ".1.metapool-tmp").exists()


def test_user_text_is_shown_as_text_on_every_page(client, workspace):
    hostile = '<script>alert(1)</script>'
    page = _setup(client, f'study,{hostile},n\nA,3,10\nB,5,12\nC,9,20\n'.encode())
    r = _save(client, page, title=hostile, o0_kind="proportion", o0_name=hostile, o0_col_events=hostile,
              o0_col_total="n")
    assert r.status_code == 303, r.text
    view = client.get(r.headers["location"])
    assert hostile not in view.text and "&lt;script&gt;" in view.text
    run = _run(client, next(workspace.glob("*.toml")).name)
    result = client.get("/analysis/result", params={"run": run}).text
    assert hostile not in result and "&lt;script&gt;alert(1)&lt;/script&gt;" in result


def test_the_progress_fragment_polls_until_the_run_ends(client):
    from metapool.web.jobs import Job, Jobs

    jobs = client.app.state.jobs = Jobs(client.app.state.workspace)
    jobs._jobs["a"] = Job("a", "x.toml", state="pooling", done=2, total=8, step="Overall <response>")
    jobs._jobs["b"] = Job("b", "x.toml", state="failed", error="x.csv, row 3: 'abc' is not a number")
    running = client.get("/analysis/job/a/progress").text
    assert 'hx-trigger="every 1s"' in running and '<progress id="run-progress" max="8" value="2"' in running
    assert "Pooling outcome 2 of 8: Overall &lt;response&gt;" in running and 'role="status"' in running
    failed = client.get("/analysis/job/b/progress").text
    assert "hx-trigger" not in failed and "row 3: &#39;abc&#39; is not a number" in failed and 'role="alert"' in failed
    assert client.get("/analysis/job/nope").status_code == 404


def test_the_server_keeps_the_progress_of_the_last_finished_runs_only(workspace, monkeypatch):
    from metapool.web import jobs as web_jobs
    from metapool.web.workspace import Workspace

    monkeypatch.setattr(web_jobs, "FINISHED_KEPT", 3)
    jobs = web_jobs.Jobs(Workspace(workspace))
    jobs._jobs.update({k: web_jobs.Job(k, "x.toml", state=s) for k, s in
                       (("old", "done"), ("busy", "pooling"), ("f2", "failed"), ("d3", "done"), ("d4", "done"))})
    monkeypatch.setattr(jobs, "_queue", type("Q", (), {"put": lambda self, item: None})())
    monkeypatch.setattr(jobs, "_worker", object())  # no worker thread: the new job stays queued
    new = jobs.start(workspace / "y.toml")
    assert list(jobs._jobs) == ["busy", "d3", "d4", new.id]  # the oldest finished ones are forgotten, never a busy one


def test_editing_keeps_study_labels_joined_from_several_columns(client, workspace, small_analysis):
    path = workspace / small_analysis
    path.write_text(path.read_text().replace('study = "study"', 'study = ["study", "design"]', 1))
    page = client.get("/analysis/edit", params={"path": small_analysis})
    assert _save(client, page).status_code == 303
    assert tomllib.loads(path.read_text())["study"] == ["study", "design"]
