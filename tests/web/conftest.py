"""Fixtures of the web app's tests: a signed-in test client, a live server, a real browser.

``client``: Starlette's test client on a fresh workspace, signed in with the launch token (local mode).
``live_server``: the app under uvicorn on a free loopback port in a thread (for the browser tests).
``page``: a Playwright page in Debian's ``/usr/bin/chromium`` (never a downloaded browser); the tests
that use it skip with the reason when Playwright or chromium is missing (``.ci/run`` installs both).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the web app's dependencies are not installed")

from starlette.testclient import TestClient  # noqa: E402

from metapool.web.app import Settings, create_app  # noqa: E402

TOKEN = "test-launch-token"
CHROMIUM = os.environ.get("METAPOOL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def make_client(workspace: Path, **settings) -> TestClient:
    """A test client of a local-mode app on ``workspace``, already through the token door."""
    app = create_app(Settings(workspace=workspace, token=TOKEN, hosts=("testserver", "127.0.0.1", "localhost"),
                              **settings))
    client = TestClient(app, base_url="http://testserver", raise_server_exceptions=False)
    response = client.get(f"/?token={TOKEN}")
    assert response.status_code == 200, response.text
    return client


def csrf_of(html: str) -> str:
    """The CSRF token a page carries (hidden field or the body's hx-headers)."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(r'X-CSRF-Token&#34;: &#34;([^&]+)&#34;', html) \
        or re.search(r'"X-CSRF-Token": "([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def workspace(tmp_path) -> Path:
    folder = tmp_path / "workspace"
    folder.mkdir()
    return folder


@pytest.fixture
def client(workspace) -> TestClient:
    with make_client(workspace) as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(workspace):
    """``(base_url, workspace)`` of the app served by uvicorn in a thread, stopped after the test."""
    import uvicorn

    port = _free_port()
    app = create_app(Settings(workspace=workspace, token=TOKEN))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", workspace
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def browser():
    playwright = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).is_file():
        pytest.skip(f"no chromium at {CHROMIUM} (Debian's package 'chromium'; .ci/run installs it)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    """A browser page already signed in to the live server (token link opened)."""
    base, _ = live_server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.goto(f"{base}/?token={TOKEN}")
    yield pg
    context.close()


@pytest.fixture
def screenshots() -> Path:
    """Folder for the browser tests' screenshots (``METAPOOL_SCREENSHOTS`` or tests/web/screenshots, ignored by git)."""
    folder = Path(os.environ.get("METAPOOL_SCREENSHOTS", Path(__file__).parent / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
