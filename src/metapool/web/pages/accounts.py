"""Signing in and out, and the accounts of a team server (lead only).

``/login`` (GET the form, POST it with the session's CSRF token: the session exists before anyone signs
in), ``/logout`` (POST), ``/password`` (a member changes their own password), ``/accounts`` (the lead's
list: add, change role, set a password, remove). In
local mode nobody signs in: the printed link is the key and its holder is the lead; ``/accounts`` then
prepares the accounts of a later team server (the same as ``metapool serve WORKSPACE --add-user``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from ...exceptions import MetapoolError
from ..accounts import (LOCK_SECONDS, MAX_FAILURES, AccountLocked, Accounts, add_user, end_sessions, get_user,
                        list_users, open_accounts, remove_user, set_password, set_role, verify)
from ..roles import ROLES
from ..security import read_form, require_role
from ..templating import render


def _accounts(request: Request) -> Accounts:
    """The workspace's account database (opened once; in local mode on first use)."""
    state = request.app.state
    if state.accounts is None:
        state.accounts = open_accounts(state.workspace.root)
    return state.accounts


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this app only (never another site, ``//host`` or ``/\\host``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


#: The one answer to a failed sign-in: wrong name, wrong password or a locked account (OWASP: generic messages).
FAILED = (f"Wrong account name or password. After {MAX_FAILURES} wrong passwords in a row an account is locked for"
          f" {LOCK_SECONDS} seconds, and even its right password is refused until then.")


async def login_form(request: Request):
    return render(request, "login.html", {"next": safe_next(request.query_params.get("next")), "error": None})


async def login(request: Request):
    if not request.app.state.team:
        raise HTTPException(404, "This server runs in local mode: open the link that `metapool serve` printed.")
    form = await read_form(request)
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "/")))
    try:
        user = await run_in_threadpool(verify, _accounts(request), name, password)  # Argon2: not on the event loop
    except AccountLocked:
        user = None  # the same answer as a wrong password: a visitor cannot tell which account names exist
    if user is None:
        return render(request, "login.html", {"next": target, "error": FAILED}, 400)
    request.session.clear()  # a new session: nothing of the one before signing in is carried over
    request.session.update({"user": user.name, "role": user.role, "generation": user.generation})
    return RedirectResponse(target, 303)


async def logout(request: Request):
    await read_form(request)
    if request.app.state.team and request.session.get("user"):
        end_sessions(_accounts(request), request.session["user"])
    request.session.clear()
    return RedirectResponse("/login", 303)


def _page(request: Request, message: str | None = None, error: str | None = None, status: int = 200):
    return render(request, "accounts.html", {"users": list_users(_accounts(request)), "roles": ROLES,
                                             "message": message, "error": error}, status)


async def accounts_page(request: Request):
    require_role(request, "lead")
    return _page(request)


#: The actions of the accounts page: form fields → (change, message).
_ACTIONS = {
    "add": (lambda db, f: add_user(db, f["name"], f["password"], f["role"]), "Account {name} added."),
    "role": (lambda db, f: set_role(db, f["name"], f["role"]), "{name} is now {role}."),
    "password": (lambda db, f: set_password(db, f["name"], f["password"]), "New password set for {name}."),
    "remove": (lambda db, f: remove_user(db, f["name"]), "Account {name} removed."),
}


async def accounts_action(request: Request):
    require_role(request, "lead")
    action = _ACTIONS.get(request.path_params["action"])
    if action is None:
        raise HTTPException(404, "There is no such action on accounts.")
    form = await read_form(request)
    fields = {k: str(form.get(k, "")) for k in ("name", "password", "role")}
    change, message = action
    try:
        await run_in_threadpool(change, _accounts(request), fields)  # a password is hashed: not on the event loop
    except MetapoolError as exc:
        return _page(request, error=str(exc), status=400)
    return _page(request, message=message.format(**fields))


async def password_form(request: Request):
    _team_only(request)
    return render(request, "password.html", {"error": None, "message": None})


async def change_password(request: Request):
    """A signed-in member changes their own password (the current one is checked, with the throttle)."""
    _team_only(request)
    form = await read_form(request)
    name = request.session["user"]
    current, new, again = (str(form.get(k, "")) for k in ("current", "new", "again"))
    error = None
    try:
        if new != again:
            error = "The two new passwords differ."
        elif await run_in_threadpool(verify, _accounts(request), name, current) is None:
            error = "The current password is wrong."
        else:
            await run_in_threadpool(set_password, _accounts(request), name, new)
            user = await run_in_threadpool(get_user, _accounts(request), name)  # this session stays signed in
            request.session["generation"] = user.generation
    except MetapoolError as exc:  # locked, or a new password too short
        error = str(exc)
    if error:
        return render(request, "password.html", {"error": error, "message": None}, 400)
    return render(request, "password.html", {"error": None, "message": "Your password was changed."})


def _team_only(request: Request) -> None:
    if not request.app.state.team:
        raise HTTPException(404, "This server runs in local mode, where nobody signs in or has a password.")


ROUTES = [
    Route("/login", login_form, methods=["GET"], name="login"),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"], name="logout"),
    Route("/password", password_form, methods=["GET"], name="password"),
    Route("/password", change_password, methods=["POST"]),
    Route("/accounts", accounts_page, methods=["GET"], name="accounts"),
    Route("/accounts/{action}", accounts_action, methods=["POST"]),
]
