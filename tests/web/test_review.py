"""The review screens through the test client: every screen, every bad input, concurrent reviewers, a restart."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from metapool.datasets.review_demo import DEMO_FOLDER, build_review_demo
from metapool.review.imports import import_files
from metapool.review.screening import conflicts, decide, reviewer_progress
from metapool.review.store import init_review, open_review
from metapool.web.app import Settings, create_app
from metapool.web.highlight import highlight, keyword_pattern

from .conftest import TOKEN, csrf_of, make_client

FRESH = "reviews/fresh"

PAIR_RIS = b"""TY  - JOUR
TI  - Venetoclax plus azacitidine in relapsed or refractory acute myeloid leukemia: a multicentre cohort
ER  - 

TY  - JOUR
TI  - Venetoclax plus azacitidine in relapsed or refractory acute myeloid leukaemia: a multicentre cohort
ER  - 
"""

HOSTILE_RIS = b"""TY  - JOUR
TI  - <script>alert(1)</script> Venetoclax & "azacitidine" <b>bold</b>
AB  - An abstract with <img src=x onerror=alert(2)> and decitabine.
AU  - O'Brien, <i>Sean</i>
PY  - 2021
ER  - 
"""


def fresh_review(workspace: Path, files=(("embase.ris", "Embase (Ovid)"),), config: str | None = None) -> Path:
    """A review with the demo's review.toml and some of its exports imported, nothing deduplicated or screened."""
    folder = workspace / FRESH
    init_review(folder, config_text=config or (DEMO_FOLDER / "review.toml").read_text(encoding="utf-8")).engine.dispose()
    review = open_review(folder)
    for name, database in files:
        import_files(review, [DEMO_FOLDER / name], database, who="test")
    review.engine.dispose()
    return folder


@pytest.fixture
def fresh(workspace):
    return fresh_review(workspace)


def token(client) -> str:
    return csrf_of(client.get("/").text)


def shown_record(html: str) -> int | None:
    found = re.search(r'name="record" value="(\d+)"', html)
    return int(found.group(1)) if found else None


def message(html: str) -> str:
    return " ".join(re.findall(r"<p>([^<]*)</p>", html))


# --- the list, a new review, the overview --------------------------------------------------------------------------

def test_a_new_review_from_the_form_is_created_by_init_review_and_listed(client, workspace):
    t = token(client)
    r = client.post("/review/new", follow_redirects=False, data={
        "csrf_token": t, "title": "Magnesium <in> MI", "reviewers_per_record": "1", "keywords": "magnesium, infarction",
        "population": "adults", "exclusion_reasons": "population: Not adults\ndesign: Not a trial",
        "databases": "MEDLINE (PubMed) | 2025-03-01\nEmbase"})
    assert r.status_code == 303 and r.headers["location"] == "/review/open?path=reviews/magnesium-in-mi"
    review = open_review(workspace / "reviews" / "magnesium-in-mi")
    assert review.config.title == "Magnesium <in> MI" and review.config.keywords == ("magnesium", "infarction")
    assert [d.name for d in review.config.databases] == ["MEDLINE (PubMed)", "Embase"]
    assert review.config.reviewers_per_record == 1
    html = client.get(r.headers["location"]).text
    assert "Magnesium &lt;in&gt; MI" in html and "metapool review status reviews/magnesium-in-mi" in html
    assert "magnesium-in-mi" in client.get("/review").text and "magnesium-in-mi" in client.get("/").text


@pytest.mark.parametrize("fields, problem", [
    ({"title": ""}, "give the review a title"),
    ({"exclusion_reasons": "no colon here"}, "write it as `code: text`"),
    ({"exclusion_reasons": "bad code!: text"}, "is not a short code"),
    ({"databases": "MEDLINE | March 2025"}, "is not a date written YYYY-MM-DD"),
    ({"reviewers_per_record": "3"}, "is not 1 or 2"),
])
def test_a_bad_new_review_form_is_shown_again_with_the_problem_and_creates_nothing(client, workspace, fields, problem):
    data = {"csrf_token": token(client), "title": "T", "reviewers_per_record": "2", **fields}
    r = client.post("/review/new", data=data)
    assert r.status_code == 400 and problem in r.text.replace("&#39;", "'").replace("&#96;", "`")
    assert 'name="title"' in r.text  # the form, not a dead end
    assert not (workspace / "reviews").exists() or not any((workspace / "reviews").iterdir())


@pytest.mark.parametrize("path", ["../outside", "/etc", "reviews/../../x", "reviews/none", ""])
def test_a_path_outside_the_workspace_or_not_a_review_is_refused(client, workspace, fresh, path):
    for url in ("/review/open", "/review/screen", "/review/dedup", "/review/prisma", "/review/import"):
        r = client.get(url, params={"path": path})
        assert r.status_code == 400, url
        assert "outside the workspace" in r.text or "not a review folder" in r.text or "No review named" in r.text
    assert "Traceback" not in r.text


def test_every_state_changing_form_needs_the_csrf_token(client, fresh):
    for url, data in [("/review/new", {"title": "x"}), ("/review/decide", {"path": FRESH, "stage": "ta", "record": "1",
                                                                            "decision": "include"}),
                      ("/review/resolve", {"path": FRESH, "stage": "ta", "record": "1", "decision": "include"}),
                      ("/review/dedup/run", {"path": FRESH}), ("/review/dedup/decide", {"path": FRESH, "a": "1", "b": "2"}),
                      ("/review/dedup/undo", {"path": FRESH, "cluster": "1"}), ("/review/studies", {"path": FRESH}),
                      ("/review/reviewer", {"path": FRESH, "reviewer": "x"})]:
        assert client.post(url, data=data).status_code == 403, url
        assert client.post(url, data={**data, "csrf_token": "forged"}).status_code == 403, url
    r = client.post("/review/import", data={"path": FRESH, "source": "Scopus"}, files={"files": ("s.ris", PAIR_RIS)})
    assert r.status_code == 403
    review = open_review(fresh)
    assert reviewer_progress(review, "ta", "local").screened == 0


# --- importing -----------------------------------------------------------------------------------------------------

def test_import_an_export_shows_its_counts_and_stores_it_under_its_own_name(client, workspace, fresh):
    t = token(client)
    data = (DEMO_FOLDER / "scopus.ris").read_bytes()
    r = client.post("/review/import", data={"csrf_token": t, "path": FRESH, "source": "Scopus"},
                    files={"files": ("../../evil name.ris", data)})
    assert r.status_code == 200 and "Imported" in r.text and "records from Scopus" in r.text
    assert "evil name.ris" in r.text and not (workspace.parent / "evil name.ris").exists()
    assert list((workspace / "uploads").iterdir())  # saved under a generated name inside the workspace
    r = client.post("/review/import", data={"csrf_token": t, "path": FRESH, "source": "Scopus"},
                    files={"files": ("again.ris", data)})
    assert r.status_code == 400 and "imported before" in r.text


@pytest.mark.parametrize("name, content, problem", [
    ("table.xlsx", b"PK\x03\x04 not really", "files of this type are not accepted here"),
    ("notes.txt", b"just some words", "not a RIS, MEDLINE, BibTeX or CSV export"),
    ("empty.ris", b"", "empty.ris is empty"),
    ("image.ris", b"\x89PNG\r\n\x1a\n\x00\x00" * 20, "looks like"),
    ("bare.csv", b"title,year\n", "no records"),
])
def test_a_file_that_is_not_records_is_refused_with_its_reason(client, fresh, name, content, problem):
    r = client.post("/review/import", data={"csrf_token": token(client), "path": FRESH, "source": "Scopus"},
                    files={"files": (name, content)})
    assert r.status_code == 400 and problem in r.text and "Nothing was imported" in r.text
    assert name in r.text  # the user's own file name in the message


def test_an_import_without_a_file_or_with_an_unknown_database_is_refused(client, fresh):
    t = token(client)
    r = client.post("/review/import", data={"csrf_token": t, "path": FRESH, "source": "Scopus"})
    assert r.status_code == 400 and "Choose one or more export files" in r.text
    r = client.post("/review/import", data={"csrf_token": t, "path": FRESH, "source": "Nowhere"},
                    files={"files": ("p.ris", PAIR_RIS)})
    assert r.status_code == 400 and "not a database of" in r.text


# --- deduplication -------------------------------------------------------------------------------------------------

def test_the_dedup_queue_shows_a_pair_side_by_side_merge_undo_and_not_duplicate(client, workspace, fresh):
    t = token(client)
    client.post("/review/import", data={"csrf_token": t, "path": FRESH, "source": "Scopus"},
                files={"files": ("pair.ris", PAIR_RIS)})
    r = client.post("/review/dedup/run", data={"csrf_token": t, "path": FRESH})
    assert r.status_code == 200 and "Deduplication ran" in r.text
    assert "Pairs waiting for a person: 1" in r.text and 'class="differs"' in r.text and "leukaemia" in r.text
    a, b = (int(x) for x in re.search(r'name="a" value="(\d+)".*?name="b" value="(\d+)"', r.text, re.S).groups())
    assert "metapool review merge reviews/fresh " + f"{a} {b}" in r.text
    r = client.post("/review/dedup/decide", data={"csrf_token": t, "path": FRESH, "a": a, "b": b, "action": "merge"})
    assert "Merged: cluster" in r.text and "Pairs waiting for a person: 0" in r.text
    cluster = int(re.search(r"Merged: cluster (\d+)", r.text).group(1))
    r = client.post("/review/dedup/undo", data={"csrf_token": t, "path": FRESH, "cluster": cluster})
    assert r.status_code == 200 and "Clusters merged by hand" not in r.text
    r = client.post("/review/dedup/decide", data={"csrf_token": t, "path": FRESH, "a": a, "b": b, "action": "apart"})
    assert r.status_code == 200
    for bad in ({"a": "x", "b": b}, {"a": a, "b": a}, {"a": 99999, "b": a}):
        r = client.post("/review/dedup/decide", data={"csrf_token": t, "path": FRESH, "action": "merge", **bad})
        assert r.status_code == 400
    assert client.post("/review/dedup/undo", data={"csrf_token": t, "path": FRESH, "cluster": 999}).status_code == 400


# --- screening -----------------------------------------------------------------------------------------------------

def test_keywords_are_marked_in_escaped_text_only():
    pattern = keyword_pattern(["venetoclax", "amp", "AML"])
    html = str(highlight('<b>Venetoclax</b> & amp "AMLx" pAML', pattern))
    assert html == ("&lt;b&gt;<mark>Venetoclax</mark>&lt;/b&gt; &amp; <mark>amp</mark> &#34;<mark>AML</mark>x&#34; pAML")
    assert str(highlight("<i>x</i>", None)) == "&lt;i&gt;x&lt;/i&gt;"


def test_the_screening_page_shows_one_record_escaped_with_keywords_marked(client, fresh):
    t = token(client)
    client.post("/review/import", data={"csrf_token": t, "path": FRESH, "source": "Scopus"},
                files={"files": ("hostile.ris", HOSTILE_RIS)})
    review = open_review(fresh)
    hostile = max(reviewer_progress(review, "ta", "local").queue)
    r = client.get("/review/screen", params={"path": FRESH, "stage": "ta", "record": hostile})
    assert r.status_code == 200
    assert "<script>alert" not in r.text and "<img src=x" not in r.text and "<i>Sean" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Venetoclax</mark> &amp; &#34;<mark>azacitidine</mark>&#34;" in r.text
    assert "<mark>decitabine</mark>" in r.text
    scripts = re.findall(r"<script[^>]*>", r.text)
    assert any("/static/screening.js" in s for s in scripts) and all("nonce=" in s for s in scripts)
    assert re.search(r"onclick|onkeydown|javascript:", r.text) is None
    for key in ("I", "E", "M"):
        assert f'data-key="{key}"' in r.text
    assert "metapool review screen reviews/fresh" in r.text


def test_a_decision_is_stored_and_the_next_record_follows_from_the_database(client, fresh):
    t = token(client)
    review = open_review(fresh)
    first = shown_record(client.get("/review/screen", params={"path": FRESH, "stage": "ta"}).text)
    assert first == reviewer_progress(review, "ta", "local").next
    r = client.post("/review/decide", data={"csrf_token": t, "path": FRESH, "stage": "ta", "record": first,
                                             "decision": "exclude", "reason": "design"}, follow_redirects=False)
    assert r.status_code == 303
    r = client.get(r.headers["location"])
    progress = reviewer_progress(review, "ta", "local")
    assert progress.mine[first].decision == "exclude" and progress.mine[first].reason == "design"
    assert shown_record(r.text) == progress.next != first and "1 of" in r.text
    assert f"record={first}" in r.text  # U: change the last decision
    r = client.get("/review/screen", params={"path": FRESH, "stage": "ta", "record": first})
    assert "Your decision on this record" in r.text and shown_record(r.text) == first


@pytest.mark.parametrize("fields, problem", [
    ({"record": "99999"}, "record 99999 is not in the review"),
    ({"record": "abc"}, "is not a record or cluster number"),
    ({"record": "²"}, "is not a record or cluster number"),  # str.isdigit() says yes, int() says no
    ({"record": "9" * 30}, "is not a record or cluster number"),  # beyond the database's integers
    ({"decision": "yes"}, "decision &#39;yes&#39; is not one of"),
    ({"stage": "xx"}, "is not a screening stage"),
    ({"stage": "ft"}, "is not forward to full text"),
    ({"decision": "exclude", "reason": "nonsense"}, "is not an exclusion reason"),
])
def test_a_bad_decision_is_refused_and_stores_nothing(client, fresh, fields, problem):
    data = {"csrf_token": token(client), "path": FRESH, "stage": "ta", "record": "1", "decision": "include", **fields}
    r = client.post("/review/decide", data=data)
    assert r.status_code == 400 and problem in r.text and "Traceback" not in r.text
    assert reviewer_progress(open_review(fresh), "ta", "local").screened == 0


def test_a_record_not_open_to_the_reviewer_is_refused_on_the_screen(client, fresh):
    for record in ("99999", "²", "9" * 30):
        r = client.get("/review/screen", params={"path": FRESH, "stage": "ta", "record": record})
        assert r.status_code == 400 and "not one you can screen" in r.text
    assert client.get("/review/dedup", params={"path": FRESH, "ran": "²-1", "skip": "³"}).status_code == 200


def _screen_as(client, name: str) -> None:
    r = client.post("/review/reviewer", data={"csrf_token": token(client), "path": FRESH, "reviewer": name})
    assert r.status_code == 200


def test_two_reviewers_posting_at_once_lose_no_decision(workspace, fresh):
    clients = [make_client(workspace), make_client(workspace)]
    for c, name in zip(clients, ("Reviewer A", "Reviewer B")):
        _screen_as(c, name)
    posted: dict[str, list[tuple[int, str]]] = {"Reviewer A": [], "Reviewer B": []}
    errors: list[str] = []
    start = threading.Barrier(2)

    def work(client, name: str, choices: tuple[str, ...]):
        t = token(client)
        start.wait()
        for i in range(15):
            record = shown_record(client.get("/review/screen", params={"path": FRESH, "stage": "ta"}).text)
            decision = choices[i % len(choices)]
            r = client.post("/review/decide", data={"csrf_token": t, "path": FRESH, "stage": "ta", "record": record,
                                                     "decision": decision}, follow_redirects=False)
            if r.status_code != 303:
                errors.append(f"{name}: {r.status_code} {message(r.text)}")
            posted[name].append((record, decision))

    threads = [threading.Thread(target=work, args=(c, n, ch)) for c, n, ch in
               zip(clients, ("Reviewer A", "Reviewer B"), (("include", "exclude", "maybe"), ("exclude", "include")))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not errors
    review = open_review(fresh)
    for name, decisions in posted.items():
        progress = reviewer_progress(review, "ta", name)
        assert len(decisions) == 15 == progress.screened == len({r for r, _ in decisions})
        assert {r: d for r, d in decisions} == {r: v.decision for r, v in progress.mine.items()}
    for c in clients:
        c.close()


def test_a_restarted_server_resumes_at_the_reviewers_next_record(workspace, fresh):
    with make_client(workspace) as before:
        t = token(before)
        _screen_as(before, "Reviewer A")
        for _ in range(3):
            record = shown_record(before.get("/review/screen", params={"path": FRESH, "stage": "ta"}).text)
            before.post("/review/decide", data={"csrf_token": t, "path": FRESH, "stage": "ta", "record": record,
                                                 "decision": "include"})
        waiting = shown_record(before.get("/review/screen", params={"path": FRESH, "stage": "ta"}).text)
        remembered = before.cookies.get("metapool_reviewer")
    with make_client(workspace) as after:  # a new app: new secret, new session, same workspace and browser
        after.cookies.set("metapool_reviewer", remembered, path="/review")
        r = after.get("/review/screen", params={"path": FRESH, "stage": "ta"})
        assert shown_record(r.text) == waiting and "<strong>Reviewer A</strong>: 3 of" in r.text


# --- conflicts, agreement, PRISMA, the study table -----------------------------------------------------------------

def _seed_conflict(fresh: Path) -> int:
    review = open_review(fresh)
    record = reviewer_progress(review, "ta", "Reviewer A").next
    decide(review, record, "ta", "Reviewer A", "include", who="test")
    decide(review, record, "ta", "Reviewer B", "exclude", who="test")
    return record


def test_the_lead_resolves_a_conflict(client, fresh):
    record = _seed_conflict(fresh)
    r = client.get("/review/conflicts", params={"path": FRESH, "stage": "ta"})
    assert r.status_code == 200 and f"Record {record}:" in r.text and "Reviewer A" in r.text and "Reviewer B" in r.text
    assert "Resolve: include" in r.text
    r = client.post("/review/resolve", data={"csrf_token": token(client), "path": FRESH, "stage": "ta",
                                              "record": record, "decision": "include"})
    assert r.status_code == 200 and f"Record {record} resolved" in r.text and "No conflict at this stage" in r.text
    assert conflicts(open_review(fresh), "ta") == ()
    r = client.post("/review/resolve", data={"csrf_token": token(client), "path": FRESH, "stage": "ta",
                                              "record": record + 1, "decision": "include"})
    assert r.status_code == 400 and "has no conflict" in r.text
    r = client.get("/review/agreement", params={"path": FRESH})
    assert "Reviewer A and Reviewer B" in r.text and "metapool review agreement reviews/fresh" in r.text


def test_a_reviewer_who_is_not_the_lead_may_not_resolve(workspace, fresh):
    import base64
    import json

    from itsdangerous import TimestampSigner
    from starlette.testclient import TestClient

    from metapool.web.app import Settings, create_app

    record = _seed_conflict(fresh)
    app = create_app(Settings(workspace=workspace, token="t", hosts=("testserver",), secret="s3cret"))
    client = TestClient(app, raise_server_exceptions=False)
    session = {"user": "Reviewer B", "role": "reviewer", "csrf_token": "tok"}
    cookie = TimestampSigner("s3cret").sign(base64.b64encode(json.dumps(session).encode())).decode()
    client.cookies.set("metapool_session", cookie)
    r = client.get("/review/conflicts", params={"path": FRESH, "stage": "ta"})
    assert r.status_code == 200 and "Only the review's lead resolves them" in r.text and "Resolve:" not in r.text
    r = client.post("/review/resolve", data={"csrf_token": "tok", "path": FRESH, "stage": "ta", "record": record,
                                              "decision": "include"})
    assert r.status_code == 403
    assert len(conflicts(open_review(fresh), "ta")) == 1
    for url in ("/review/dedup/run", "/review/dedup/decide", "/review/dedup/undo", "/review/studies"):
        assert client.post(url, data={"csrf_token": "tok", "path": FRESH}).status_code == 403, url


def test_prisma_page_svg_and_the_study_table_of_the_demo_review(client, workspace):
    build_review_demo(workspace / "reviews" / "demo").engine.dispose()
    r = client.get("/review/prisma", params={"path": "reviews/demo"})
    assert r.status_code == 200 and 'src="/review/prisma.svg?path=reviews/demo"' in r.text
    assert "metapool review prisma reviews/demo -o prisma.svg --json" in r.text
    svg = client.get("/review/prisma.svg", params={"path": "reviews/demo"})
    assert svg.headers["content-type"].startswith("image/svg+xml") and svg.text.lstrip().startswith("<?xml")
    r = client.post("/review/studies", data={"csrf_token": token(client), "path": "reviews/demo", "outcomes": "ORR, CR"})
    assert r.status_code == 200 and "32 included studies" in r.text
    assert 'href="/analysis/setup?data=reviews/demo/studies.csv"' in r.text
    download = client.get("/review/studies.csv", params={"path": "reviews/demo", "file": "studies.csv"})
    assert download.status_code == 200 and download.text.startswith("study,citation")
    assert "attachment" in download.headers["content-disposition"]
    for bad in ("review.toml", "../reviews/demo/studies.csv", "review.db", "nothere.csv", "studies-9.csv"):
        assert client.get("/review/studies.csv", params={"path": "reviews/demo", "file": bad}).status_code == 404
    setup = client.get("/analysis/setup", params={"data": "reviews/demo/studies.csv"})
    assert setup.status_code == 200  # the Analysis screen reads the table
    header = (workspace / "reviews" / "demo" / "studies.csv").read_text().splitlines()[0]
    assert header.endswith(",ORR,CR") and header.startswith("study,citation")
    r = client.post("/review/studies", data={"csrf_token": token(client), "path": "reviews/demo", "outcomes": "year"})
    assert r.status_code == 400 and "repeat(s) a column" in r.text
    assert (workspace / "reviews" / "demo" / "studies-2.csv").exists() is False


def test_every_review_page_has_its_reproduce_command(client, workspace, fresh):
    pages = {"/review": "metapool review init", "/review/new": "metapool review init",
             f"/review/open?path={FRESH}": "metapool review status reviews/fresh",
             f"/review/import?path={FRESH}": "metapool review import reviews/fresh FILE --source",
             f"/review/dedup?path={FRESH}": "metapool review dedup reviews/fresh",
             f"/review/screen?path={FRESH}&stage=ta": "metapool review screen reviews/fresh",
             f"/review/conflicts?path={FRESH}&stage=ta": "metapool review conflicts reviews/fresh --stage ta",
             f"/review/agreement?path={FRESH}": "metapool review agreement reviews/fresh",
             f"/review/prisma?path={FRESH}": "metapool review prisma reviews/fresh"}
    for url, command in pages.items():
        r = client.get(url)
        assert r.status_code == 200 and "Reproduce without the app" in r.text and command in r.text, url
        labelled = set(re.findall(r'<label for="([^"]+)"', r.text))
        for field in re.findall(r"<(?:input|select|textarea)\b[^>]*>", r.text):  # every input labelled
            if 'type="hidden"' not in field:
                found = re.search(r'id="([^"]+)"', field)
                assert (found and found.group(1) in labelled) or "aria-label=" in field, (url, field)


def test_screen_as_needs_a_name_and_sets_the_reviewer_of_this_browser(client, fresh):
    t = token(client)
    for bad in ("", "   ", "x" * 61, "bad\x07name"):
        r = client.post("/review/reviewer", data={"csrf_token": t, "path": FRESH, "reviewer": bad})
        assert r.status_code == 400
    r = client.post("/review/reviewer", data={"csrf_token": t, "path": FRESH, "reviewer": "  Reviewer   A ",
                                               "next": "https://evil.example/"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/review/open?path=reviews/fresh"
    assert "<strong>Reviewer A</strong>: 0 of" in client.get("/review/screen", params={"path": FRESH}).text
    client.post("/review/reviewer", data={"csrf_token": t, "path": FRESH, "reviewer": "Jürgen 李"})
    assert "<strong>Jürgen 李</strong>: 0 of" in client.get("/review/screen", params={"path": FRESH}).text


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_the_review_screens_colours_meet_wcag_aa_contrast():
    css = (Path(__file__).parents[2] / "src/metapool/web/static/app.css").read_text(encoding="utf-8")
    var = dict(re.findall(r"--([a-z-]+): (#[0-9a-f]{6})", css))
    mark = re.search(r"mark \{ background: (#[0-9a-f]{6})", css).group(1)
    differs = re.search(r"tr\.differs td \{ background: (#[0-9a-f]{6})", css).group(1)
    pairs = {"include button": ("#ffffff", var["ok"]), "exclude button": ("#ffffff", var["bad"]),
             "keyword mark": (var["ink"], mark), "differs row": (var["ink"], differs),
             "differs tag": (var["warn"], var["paper"]), "muted on panel": (var["muted"], var["panel"]),
             "link on panel": (var["accent"], var["panel"])}
    for name, (fg, bg) in pairs.items():
        hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
        assert (hi + 0.05) / (lo + 0.05) >= 4.5, name


def test_full_text_screening_asks_for_a_reason_to_exclude(client, fresh):
    review = open_review(fresh)
    record = reviewer_progress(review, "ta", "A").next
    for name in ("A", "B"):
        decide(review, record, "ta", name, "include", who="test")
    r = client.get("/review/screen", params={"path": FRESH, "stage": "ft"})
    assert shown_record(r.text) == record and 'id="reason"' in r.text and 'data-key="N"' in r.text
    assert "0 of 1 records screened" in r.text
    data = {"csrf_token": token(client), "path": FRESH, "stage": "ft", "record": record, "decision": "exclude"}
    r = client.post("/review/decide", data=data)
    assert r.status_code == 400 and "exclude at full text needs a reason" in r.text
    r = client.post("/review/decide", data={**data, "reason": "design"})
    assert r.status_code == 200 and "Nothing left for you at this stage" in r.text
    assert reviewer_progress(review, "ft", "local").mine[record].reason == "design"


def test_reviewers_of_one_server_are_shown_different_records_and_none_is_refused(workspace):
    """Three reviewers, two per record: each is offered the best record no one else has on screen."""
    fresh = fresh_review(workspace)
    app = create_app(Settings(workspace=workspace, token=TOKEN, hosts=("testserver",)))
    clients = [TestClient(app, base_url="http://testserver") for _ in range(3)]
    shown = []
    for c, name in zip(clients, ("A", "B", "C")):
        c.get(f"/?token={TOKEN}")
        _screen_as(c, name)
        shown.append(shown_record(c.get("/review/screen", params={"path": FRESH, "stage": "ta"}).text))
    assert len(set(shown)) == 3
    assert shown[0] == reviewer_progress(open_review(fresh), "ta", "A").next  # the first is the best one
    again = shown_record(clients[1].get("/review/screen", params={"path": FRESH, "stage": "ta"}).text)
    assert again == shown[1]  # a reload keeps the record
    for round_ in range(4):  # everyone decides on what they see, over and over: no vote is refused
        for c in clients:
            t = token(c)
            record = shown_record(c.get("/review/screen", params={"path": FRESH, "stage": "ta"}).text)
            r = c.post("/review/decide", data={"csrf_token": t, "path": FRESH, "stage": "ta", "record": record,
                                               "decision": "exclude"}, follow_redirects=False)
            assert r.status_code == 303, message(r.text)
    for c in clients:
        c.close()


def test_a_record_on_screen_is_held_until_a_decision_or_the_hold_ends():
    from metapool.web.onscreen import OnScreen

    now = [0.0]
    held = OnScreen(hold_seconds=600, decided_seconds=30, clock=lambda: now[0])
    assert held.pick("r", "ta", "A", [1, 2, 3]) == 1
    assert held.pick("r", "ta", "B", [1, 2, 3]) == 2
    assert held.pick("r", "ft", "B", [1, 2, 3]) == 1  # another stage, another screen
    assert held.pick("other", "ta", "B", [1, 2]) == 1  # another review
    assert held.pick("r", "ta", "C", [1, 2]) == 1  # nothing else left: the best one all the same
    held.decided("r", "ta", "A", 3)  # a decision on another record (a second tab): A still holds 1
    assert held.pick("r", "ta", "D", [1, 3, 4]) == 4
    held.decided("r", "ta", "A", 1)  # A decided on the record it held
    # D's queue was read before A's decision: record 1 is not offered to D, nor to anyone, for 30 s
    assert held.pick("r", "ta", "D", [1, 4, 5]) == 4
    now[0] = 31  # record 1 is no longer "just decided", but C still has it on screen
    assert held.pick("r", "ta", "E", [1, 5]) == 5
    now[0] = 620  # every hold of time 0 has ended; E holds 5 since 31 s
    assert held.pick("r", "ta", "F", [1, 5]) == 1
    assert held.pick("r", "ta", "F", []) is None
