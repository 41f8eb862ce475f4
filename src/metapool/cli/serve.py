"""``metapool serve``: the web app over a workspace folder, on this computer only unless told otherwise.

Local mode (the default, ``--host`` a loopback address): one URL with a per-launch token. Team mode
(any other ``--host``): accounts with roles (:mod:`metapool.web.accounts`), a session secret kept in the
workspace so that a restart keeps everyone signed in, and a refusal to start without a lead account.
``--add-user NAME --role ROLE`` adds an account (the password from a prompt, or the first line of
standard input when it is not a terminal; never from the command line) and exits.
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import os
import socket
import sys
from pathlib import Path

from ..exceptions import MetapoolError

DEFAULT_PORT = 8765

#: Addresses that keep a server on this computer (local mode).
LOOPBACK = ("127.0.0.1", "localhost", "::1")

#: The team server's session secret, inside the workspace's app folder (mode 0600).
SECRET_NAME = "secret"


def add_serve_parser(sub) -> None:
    """Register ``metapool serve`` on the main parser's sub-commands."""
    from ..web.roles import ROLES

    serve = sub.add_parser(
        "serve", help="open the web app on a workspace folder (local, with a per-launch link; or a team server)",
        description="Serve the web app over WORKSPACE (default: the current folder). By default it listens on "
                    "127.0.0.1 and prints one URL with a per-launch token: open it in a browser on this computer. "
                    "With --host other than a loopback address it is a team server: people sign in with accounts "
                    "(add the first lead with --add-user NAME --role lead). Put a team server behind a TLS reverse "
                    "proxy and use --secure-cookies.")
    serve.add_argument("workspace", nargs="?", default=".", help="folder of analyses and reviews (created if missing)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT,
                       help=f"port (default {DEFAULT_PORT}; the next free one is taken when it is busy; 0 = any)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1, this computer only); any other address, "
                            "e.g. 0.0.0.0, makes a team server that needs accounts")
    serve.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                       help="a host name the team server answers to (the name in its URL, e.g. review.example.org); "
                            "repeatable; requests for other names are refused (DNS-rebinding protection)")
    serve.add_argument("--secure-cookies", action="store_true",
                       help="send the session cookie over HTTPS only (when a TLS reverse proxy is in front)")
    serve.add_argument("--add-user", metavar="NAME",
                       help="add an account to the workspace and exit (the password is asked for, or read from "
                            "standard input; never given on the command line)")
    serve.add_argument("--role", choices=list(ROLES), default="reviewer",
                       help="role of the account of --add-user (default reviewer)")


def free_port(host: str, wanted: int, tries: int = 20) -> int:
    """``wanted`` if it can be bound on ``host``, else the next free port (0 lets the system choose)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in ([0] if wanted == 0 else range(wanted, wanted + tries)):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError(f"no free port from {wanted} to {wanted + tries - 1} on {host}")


def is_loopback(host: str) -> bool:
    """Whether ``host`` keeps the server on this computer (local mode)."""
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def team_hosts(host: str, allowed: list[str]) -> tuple[str, ...]:
    """Host names a team server answers to: loopback, the ``--allowed-host`` names, and ``--host`` itself or,
    for a wildcard address (``0.0.0.0``, ``::``), this computer's name (the one the printed URL shows)."""
    names = [*LOOPBACK, *allowed, socket.gethostname() if is_wildcard(host) else host]
    return tuple(dict.fromkeys(names))


def is_wildcard(host: str) -> bool:
    """Whether ``host`` listens on every address of the computer."""
    return host in ("0.0.0.0", "::", "")


def session_secret(app_folder: Path) -> str:
    """The team server's session secret: read from ``app_folder/secret``, or made there (mode 0600) on first use."""
    from ..web.security import new_token

    app_folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = app_folder / SECRET_NAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text(encoding="ascii").strip()
        if len(secret) < 32:
            raise MetapoolError(f"{path} is not a session secret (too short); delete it and start again.") from None
        return secret
    secret = new_token()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secret + "\n")
    return secret


def read_password(stdin=None) -> str:
    """The new account's password: asked twice on a terminal, else the first line of standard input."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("Password for the new account: ")
        if getpass.getpass("The same password again: ") != first:
            raise MetapoolError("The two passwords differ; no account was added.")
        return first
    line = stdin.readline()
    return line[:-1] if line.endswith("\n") else line


def run_serve(args: argparse.Namespace) -> int:
    from ..web.accounts import APP_FOLDER, add_user, has_lead, open_accounts
    from ..web.workspace import Workspace

    workspace = Workspace(args.workspace)
    if args.add_user is not None:
        user = add_user(open_accounts(workspace.root), args.add_user, read_password(), args.role)
        print(f"metapool: account {user.name!r} ({user.role}) added to {workspace.root}", file=sys.stderr)
        return 0
    if is_loopback(args.host):
        if args.allowed_host:
            raise MetapoolError("--allowed-host is for a team server (--host other than 127.0.0.1); a local server "
                                "answers to 127.0.0.1 and localhost only.")
        return _serve_local(args, workspace)
    if not has_lead(open_accounts(workspace.root)):
        raise MetapoolError(f"A team server (--host {args.host}) needs accounts, and {workspace.root} has no lead "
                            f"account yet. Add one with: metapool serve {args.workspace} --add-user NAME --role lead")
    return _serve_team(args, workspace, session_secret(workspace.root / APP_FOLDER))


def _serve_local(args: argparse.Namespace, workspace) -> int:
    import uvicorn

    from ..web.app import Settings, create_app
    from ..web.security import new_token

    host = "127.0.0.1" if args.host == "localhost" else args.host
    port = free_port(host, args.port)
    token = new_token()
    app = create_app(Settings(workspace=workspace.root, token=token, hosts=LOOPBACK,
                              secure_cookies=args.secure_cookies, preload=True))
    print(f"metapool: serving {workspace.root}", file=sys.stderr)
    print("Open this link in your browser (it works until the server stops; Ctrl-C stops it):", file=sys.stderr)
    print(f"    http://{_url_host(host)}:{port}/?token={token}", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
    return 0


def _serve_team(args: argparse.Namespace, workspace, secret: str) -> int:
    import uvicorn

    from ..web.app import Settings, create_app

    port = free_port(args.host, args.port)
    hosts = team_hosts(args.host, args.allowed_host)
    app = create_app(Settings(workspace=workspace.root, token=None, hosts=hosts, team=True, secret=secret,
                              secure_cookies=args.secure_cookies, preload=True))
    shown = args.allowed_host[0] if args.allowed_host else hosts[-1]
    print(f"metapool: team server on {workspace.root}, answering to {', '.join(hosts)}", file=sys.stderr)
    if not args.secure_cookies:
        print("metapool: the session cookie is also sent over plain HTTP; behind a TLS reverse proxy, start with "
              "--secure-cookies", file=sys.stderr)
    print("Team members sign in with their account at (Ctrl-C stops the server):", file=sys.stderr)
    print(f"    http://{_url_host(shown)}:{port}/", flush=True)
    uvicorn.run(app, host=args.host, port=port, log_level="warning", server_header=False, proxy_headers=False)
    return 0


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
