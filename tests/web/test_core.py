"""The app's guards and the workspace screen, through the framework's test client and one real browser."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient

from metapool.exceptions import MetapoolError
from metapool.web.app import Settings, create_app
from metapool.web.security import Limits, read_form
from metapool.web.workspace import Workspace

from .conftest import TOKEN, csrf_of, make_client


def _app(workspace, **kw):
    return create_app(Settings(workspace=workspace, token=TOKEN, hosts=("testserver",), **kw))


def test_without_the_launch_token_every_page_is_refused_with_what_to_do(workspace):
    c = TestClient(_app(workspace))
    r = c.get("/")
    assert r.status_code == 403 and "metapool serve" in r.text
    assert c.get("/?token=wrong").status_code == 403


def test_the_token_becomes_an_httponly_strict_session_cookie_and_leaves_the_url(workspace):
    c = TestClient(_app(workspace))
    r = c.get(f"/?token={TOKEN}&x=1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/?x=1"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert c.get("/").status_code == 200


def test_a_foreign_host_header_is_refused(workspace):
    c = TestClient(_app(workspace), base_url="http://evil.example")
    assert c.get(f"/?token={TOKEN}").status_code == 400


def test_pages_carry_a_strict_csp_whose_nonce_is_on_every_script(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    scripts = re.findall(r"<script[^>]*>", r.text)
    assert scripts and all(f'nonce="{nonce}"' in s for s in scripts)
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"


def _with_echo(workspace, **kw):
    app = _app(workspace, **kw)

    async def echo(request):
        form = await read_form(request, max_files=1)
        return PlainTextResponse(f"fields={len(form)}")

    app.router.routes.append(Route("/echo", echo, methods=["POST"]))
    c = TestClient(app, raise_server_exceptions=False)
    c.get(f"/?token={TOKEN}")
    return c


def test_a_form_without_the_session_csrf_token_is_refused(workspace):
    c = _with_echo(workspace)
    assert c.post("/echo", data={"a": "1"}).status_code == 403
    assert c.post("/echo", data={"a": "1", "csrf_token": "forged"}).status_code == 403
    token = csrf_of(c.get("/").text)
    assert c.post("/echo", data={"a": "1", "csrf_token": token}).text == "fields=2"
    assert c.post("/echo", data={"a": "1"}, headers={"X-CSRF-Token": token}).status_code == 200


def test_a_body_past_the_limit_is_refused_while_it_streams(workspace):
    c = _with_echo(workspace, limits=Limits(body_bytes=1000))
    token = csrf_of(c.get("/").text)

    def chunks():  # a multipart upload sent without Content-Length
        yield b'--b\r\nContent-Disposition: form-data; name="f"; filename="a.csv"\r\n\r\n'
        for _ in range(10):
            yield b"x" * 500
        yield b"\r\n--b--\r\n"

    r = c.post("/echo", content=chunks(), headers={"X-CSRF-Token": token, "content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413 and "larger than this server accepts" in r.text
    r = c.post("/echo", files={"f": ("a.csv", b"y" * 5000)}, data={"csrf_token": token})
    assert r.status_code == 413


def test_errors_are_pages_without_traceback(workspace):
    app = _app(workspace)

    async def boom(request):
        raise RuntimeError("secret internals")

    async def bad(request):
        raise MetapoolError("row 3, column 'n': not a number")

    app.router.routes += [Route("/boom", boom), Route("/bad", bad)]
    c = TestClient(app, raise_server_exceptions=False)
    c.get(f"/?token={TOKEN}")
    r = c.get("/boom")
    assert r.status_code == 500 and "Traceback" not in r.text and "secret internals" not in r.text
    r = c.get("/bad")
    assert r.status_code == 400 and "row 3, column &#39;n&#39;: not a number" in r.text
    assert c.get("/no/such/page").status_code == 404


def test_the_workspace_lists_analyses_and_reviews_with_their_state(workspace):
    (workspace / "a.toml").write_text('title = "Magnesium <trial>"\ndata = "x.csv"\n[[outcome]]\nname = "m"\n')
    (workspace / "notes.toml").write_text("x = 1\n")
    (workspace / "rev").mkdir()
    (workspace / "rev" / "review.toml").write_text("")
    with make_client(workspace) as c:
        html = c.get("/").text
    assert "Magnesium &lt;trial&gt;" in html and "not run yet" in html and "notes.toml" not in html
    assert "rev" in html and "not initialised" in html


def test_workspace_paths_never_leave_the_folder(workspace):
    ws = Workspace(workspace)
    with pytest.raises(MetapoolError):
        ws.inside("..", "etc")
    with pytest.raises(MetapoolError):
        ws.inside("/etc/passwd")
    assert ws.slug("../../Évil name.csv") == "vil-name-csv"
    first = ws.new_name("uploads", "table", ".csv")
    first.write_text("")
    assert ws.new_name("uploads", "table", ".csv").name == "table-2.csv"


def test_the_workspace_page_in_a_real_browser(page, screenshots):
    assert page.title().startswith("Workspace")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(screenshots / f"workspace-{width}.png"), full_page=True)


def test_a_server_started_by_serve_loads_the_ranking_and_freezes_the_collector_in_the_background(workspace, monkeypatch):
    import threading

    from metapool.review import ranking
    from metapool.web import app as web_app

    done = threading.Event()
    calls = []
    monkeypatch.setattr(ranking, "load", lambda: calls.append("load"))
    monkeypatch.setattr(web_app.gc, "freeze", lambda: calls.append("freeze") or done.set())
    with TestClient(create_app(Settings(workspace=workspace, token=TOKEN, hosts=("testserver",), preload=True))):
        assert done.wait(30)
    assert calls == ["load", "freeze"]
    with TestClient(create_app(Settings(workspace=workspace, token=TOKEN, hosts=("testserver",)))):
        pass  # without preload (tests, embedding): nothing runs in the background
    assert calls == ["load", "freeze"]
