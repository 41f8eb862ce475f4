"""The app's guards: who may in, what a page may load, what a request may carry.

Each guard is a small ASGI middleware or a helper that endpoints call; :func:`metapool.web.app.create_app`
stacks them. The rules follow the Jupyter server's for a local notebook (a per-launch token in the
printed URL, exchanged for a session cookie) and OWASP's cheat sheets for the rest:

- **Host check** (DNS rebinding): Starlette's ``TrustedHostMiddleware`` with the names the server was
  started for.
- **Access**: :class:`AccessGuard`. Local mode: the ``token`` query parameter of the printed URL, compared
  in constant time, becomes a session; without a session every page answers 403 with what to do.
  Team mode (``--host 0.0.0.0``): a signed-in account (``metapool.web.accounts``), whose role is read
  again on every request; :func:`require_role` guards lead-only actions.
- **CSRF**: a random token per session; every state-changing request carries it in the form field
  ``csrf_token`` or the ``X-CSRF-Token`` header (htmx sends it from ``hx-headers`` on ``<body>``);
  :func:`read_form` checks it before an endpoint sees any field.
- **Content-Security-Policy** with a per-response nonce (:class:`SecurityHeaders`): scripts only from the
  app (``script-src 'self' 'nonce-…'``), no ``eval``, no framing by other sites, no referrer (the token
  is in the first URL).
- **Body limit** (:class:`BodyLimit`): a request body is counted while it streams and refused with 413
  past the cap, whatever ``Content-Length`` claims.

References
----------
OWASP Cheat Sheet Series: Cross-Site Request Forgery Prevention; Content Security Policy; DOM based
XSS Prevention. Project Jupyter, "Security in the Jupyter Server" (token authentication).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .roles import ROLES

#: Paths any visitor may load: the stylesheet and vendored script, the favicon, the sign-in page.
PUBLIC_PREFIXES: tuple[str, ...] = ("/static/", "/favicon.ico", "/login")

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Limits:
    """Caps on what one request may bring (defaults suit a study table or a records export).

    Attributes
    ----------
    body_bytes : int
        Largest request body, counted while it streams.
    file_bytes : int
        Largest uploaded file, counted while it is written (:func:`metapool.web.uploads.save_upload`).
    upload_rows, upload_columns : int
        Largest study table an upload may hold (checked by the pages that read tables).
    form_fields : int
        Most fields in one form.
    """

    body_bytes: int = 50 * 1024 * 1024
    file_bytes: int = 20 * 1024 * 1024
    upload_rows: int = 100_000
    upload_columns: int = 500
    form_fields: int = 2000


def new_token() -> str:
    """A random URL-safe token (32 bytes of entropy), for launch tokens, session secrets and CSRF."""
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of two tokens; False when either is missing."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use)."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = request.session[CSRF_FIELD] = new_token()
    return token


def check_csrf(request: Request, form: FormData | None = None) -> None:
    """Refuse (403) a state-changing request whose CSRF token is missing or wrong."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and form is not None:
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not same_token(given, request.session.get(CSRF_FIELD)):
        raise HTTPException(403, "This form has expired or did not come from this app. Reload the page and try again.")


def require_role(request: Request, role: str) -> None:
    """Refuse (403, the app's error page) a request whose user does not have ``role`` or a higher one.

    Pages call it before a lead-only action (``require_role(request, "lead")``). In local mode the one
    user, who opened the printed link, is the lead; in team mode the role is the account's, read again
    from the account database on every request (:class:`AccessGuard`).
    """
    ranks = list(ROLES)
    held = request.session.get("role")
    if held not in ROLES or ranks.index(held) > ranks.index(role):
        raise HTTPException(403, f"This needs the role {role!r} ({ROLES[role].split(':')[0]}); "
                                 f"you are signed in as {held or 'nobody'!s}. Ask the review's lead.")


async def read_form(request: Request, *, max_files: int = 0) -> FormData:
    """The request's form after the CSRF check, with the app's limits on fields and files.

    Endpoints read forms only through this function, so that no field of a forged request is ever
    acted on. ``max_files`` is 0 unless the form uploads files.
    """
    limits: Limits = request.app.state.limits
    try:
        form = await request.form(max_files=max_files, max_fields=limits.form_fields)
    except HTTPException:
        raise
    except Exception as exc:  # multipart errors: a malformed body is the client's problem, not a 500
        raise HTTPException(400, f"The form could not be read: {exc}") from exc
    check_csrf(request, form)
    return form


class AccessGuard:
    """Let in a request with a session; turn the launch token into one; refuse the rest.

    Parameters
    ----------
    app : ASGI app
        The app behind the guard (after the session middleware, so ``scope["session"]`` exists).
    token : str or None
        The launch token of local mode; None in team mode, where a signed-in account is needed and a
        visitor without one is sent to ``/login``.
    account_of : callable, optional
        Team mode: the account of a name (with ``role`` and ``generation``), or None when it no longer
        exists. Read on every request, so that a removed account, or a session of an older generation
        (signed out, password changed), is over, and a changed role applies at once.
    """

    def __init__(self, app: ASGIApp, token: str | None, account_of: Callable[[str], object | None] | None = None) -> None:
        self.app = app
        self.token = token
        self.account_of = account_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        session = scope["session"]
        if self.token is not None:
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            given = dict(query).get("token")
            if given is not None:
                if not same_token(given, self.token):
                    await _refuse(scope, receive, send, "This link's token is not the one of the running server. "
                                  "Open the URL that `metapool serve` printed.")
                    return
                session.clear()
                session["user"] = "local"
                session["role"] = "lead"
                rest = urlencode([(k, v) for k, v in query if k != "token"])
                await RedirectResponse(scope["path"] + (f"?{rest}" if rest else ""), 303)(scope, receive, send)
                return
        if session.get("user") and self.account_of is not None:
            account = self.account_of(session["user"])
            if account is None or account.generation != session.get("generation"):
                session.clear()
            else:
                session["role"] = account.role
        if session.get("user"):
            await self.app(scope, receive, send)
        elif self.token is None:
            await RedirectResponse(f"/login?{urlencode({'next': scope['path']})}", 303)(scope, receive, send)
        else:
            await _refuse(scope, receive, send, "Open this app with the URL that `metapool serve` printed "
                          "(it carries the launch token); restarting the server prints a new one.")


async def _refuse(scope: Scope, receive: Receive, send: Send, message: str) -> None:
    await PlainTextResponse(message, 403)(scope, receive, send)


class SecurityHeaders:
    """Add the Content-Security-Policy (with a fresh nonce) and the other protective headers.

    The nonce is in ``request.state.csp_nonce`` for templates; files of a run folder (report, card)
    are served with :data:`OUTPUT_CSP`, which allows their inline styles and no script at all.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-security-policy"
                           or scope["state"].get("output_file")]
                if not scope["state"].get("output_file"):
                    headers.append((b"content-security-policy", app_csp(nonce).encode()))
                headers += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                            (b"x-frame-options", b"SAMEORIGIN"), (b"cross-origin-opener-policy", b"same-origin")]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def app_csp(nonce: str) -> str:
    """The Content-Security-Policy of the app's own pages."""
    return ("default-src 'self'; " f"script-src 'self' 'nonce-{nonce}'; " "style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")


#: Policy for a run's own files (report.html, card.html, SVG figures) when the app shows them:
#: their inline styles apply, no script runs, nothing loads from elsewhere.
OUTPUT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
              "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")


class BodyLimit:
    """Refuse (413) a request body larger than ``limit`` bytes, counted while it streams."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, self._message())
            return message

        await self.app(scope, counted, send)

    def _message(self) -> str:
        return f"The upload is larger than this server accepts ({self.limit // (1024 * 1024)} MB)."

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse(self._message(), 413)(scope, receive, send)
