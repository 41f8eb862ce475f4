"""The README's screenshot of the web app: the demo's results page, drawn by Debian's chromium.

Rerun after changing how the app looks:  .venv/bin/python docs/images/make_app_screenshot.py
Needs the project's environment (make demo creates .venv) with Playwright, and /usr/bin/chromium.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from metapool.cli.main import main as metapool
from metapool.web.app import Settings, create_app

HERE = Path(__file__).parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        metapool(["demo", "-o", str(workspace / "out" / "demo"), "--force"])
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(Settings(workspace=workspace, token="shot")),
                                               host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/?token=shot")
            page.goto(f"http://127.0.0.1:{port}/analysis/result?run=out/demo")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(HERE / "app.png"))
            browser.close()
        server.should_exit = True
    print(f"wrote {HERE / 'app.png'}")


if __name__ == "__main__":
    main()
