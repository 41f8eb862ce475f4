"""``metapool serve``: the web app over a workspace folder, on this computer only unless told otherwise."""

from __future__ import annotations

import argparse
import socket
import sys

DEFAULT_PORT = 8765


def add_serve_parser(sub) -> None:
    """Register ``metapool serve`` on the main parser's sub-commands."""
    serve = sub.add_parser(
        "serve", help="open the web app on a workspace folder (local, with a per-launch link)",
        description="Serve the web app over WORKSPACE (default: the current folder). It listens on 127.0.0.1 "
                    "and prints one URL with a per-launch token: open it in a browser on this computer.")
    serve.add_argument("workspace", nargs="?", default=".", help="folder of analyses and reviews (created if missing)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT,
                       help=f"port (default {DEFAULT_PORT}; the next free one is taken when it is busy; 0 = any)")


def free_port(host: str, wanted: int, tries: int = 20) -> int:
    """``wanted`` if it can be bound on ``host``, else the next free port (0 lets the system choose)."""
    for port in ([0] if wanted == 0 else range(wanted, wanted + tries)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError(f"no free port from {wanted} to {wanted + tries - 1} on {host}")


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ..web.app import Settings, create_app
    from ..web.security import new_token

    host = "127.0.0.1"
    port = free_port(host, args.port)
    token = new_token()
    app = create_app(Settings(workspace=args.workspace, token=token, hosts=("127.0.0.1", "localhost")))
    print(f"metapool: serving {app.state.workspace.root}", file=sys.stderr)
    print("Open this link in your browser (it works until the server stops; Ctrl-C stops it):", file=sys.stderr)
    print(f"    http://{host}:{port}/?token={token}", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
    return 0
