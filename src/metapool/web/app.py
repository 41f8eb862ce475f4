"""Build the ASGI app: the guards of :mod:`metapool.web.security` around the pages of :mod:`metapool.web.pages`.

The app is an adapter. It holds no statistics: every number on a page comes from the functions that
``metapool run``, ``metapool review`` and ``metapool audit`` call, so the app and the CLI cannot disagree.
"""

from __future__ import annotations

import gc
import logging
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from ..exceptions import MetapoolError
from .accounts import get_user, open_accounts
from .onscreen import OnScreen
from .pages import routes
from .security import AccessGuard, BodyLimit, Limits, SecurityHeaders, new_token
from .templating import make_templates, render
from .workspace import Workspace

log = logging.getLogger("metapool.web")

STATIC = Path(__file__).parent / "static"


@dataclass(frozen=True)
class Settings:
    """How one server was started.

    Attributes
    ----------
    workspace : Path
        The folder served.
    token : str or None
        Launch token of local mode (printed in the URL); None in team mode.
    hosts : tuple of str
        Host names the server answers to (the Host-header check).
    team : bool
        Team mode: accounts and roles instead of the launch token.
    secret : str
        Key that signs session cookies.
    limits : Limits
        Upload and form caps.
    secure_cookies : bool
        Send the session cookie over HTTPS only (a team server behind a TLS reverse proxy).
    preload : bool
        At start, import what the first screening page needs and freeze the garbage collector's
        view of the loaded modules (:func:`_lifespan`); ``metapool serve`` sets it.
    """

    workspace: Path
    token: str | None
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
    team: bool = False
    secret: str = ""
    limits: Limits = Limits()
    secure_cookies: bool = False
    preload: bool = False


def _preload() -> None:
    from ..review import ranking, screening  # noqa: F401

    ranking.load()
    gc.freeze()


@asynccontextmanager
async def _lifespan(app: Starlette):
    """Import what the first screening page needs in the background, so that no user waits for it.

    Then the objects of every module loaded are moved out of the garbage collector's generations
    (:func:`gc.freeze`): a full collection that walks them all takes 0.1 s, a pause every user would share.
    """
    if app.state.settings.preload:
        threading.Thread(target=_preload, name="metapool-preload", daemon=True).start()
    yield


def create_app(settings: Settings) -> Starlette:
    """The ASGI app for one workspace (see :class:`Settings`)."""
    workspace = Workspace(settings.workspace)
    accounts = open_accounts(workspace.root) if settings.team else None
    app = Starlette(
        routes=[*routes(), Mount("/static", StaticFiles(directory=STATIC), name="static")],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(TrustedHostMiddleware, allowed_hosts=list(settings.hosts), www_redirect=False),
            Middleware(BodyLimit, limit=settings.limits.body_bytes),
            Middleware(SessionMiddleware, secret_key=settings.secret or new_token(), session_cookie="metapool_session",
                       same_site="strict", https_only=settings.secure_cookies, max_age=None if not settings.team else 12 * 3600),
            Middleware(AccessGuard, token=None if settings.team else settings.token,
                       account_of=None if accounts is None else partial(get_user, accounts)),
        ],
        exception_handlers={HTTPException: _http_error, MetapoolError: _bad_input, Exception: _server_error},
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.workspace = workspace
    app.state.accounts = accounts
    app.state.team = settings.team
    app.state.limits = settings.limits
    app.state.templates = make_templates()
    app.state.on_screen = OnScreen()
    return app


async def _http_error(request: Request, exc: HTTPException):
    titles = {400: "This request could not be used", 403: "Not allowed", 404: "Not found",
              405: "Not allowed here", 413: "Too large"}
    return render(request, "error.html", {"title": titles.get(exc.status_code, "Error"), "message": exc.detail},
                  exc.status_code)


async def _bad_input(request: Request, exc: MetapoolError):
    return render(request, "error.html", {"title": "This input could not be used", "message": str(exc)}, 400)


async def _server_error(request: Request, exc: Exception):
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return render(request, "error.html", {"title": "Something went wrong",
                                          "message": "The server could not finish this request. Its log has the "
                                                     "details; nothing was changed by the failed step."}, 500)
