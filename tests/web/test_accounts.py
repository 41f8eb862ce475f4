"""Team mode: accounts, signing in and out, the throttle, roles, and ``metapool serve`` as a team server."""

from __future__ import annotations

import datetime as dt
import io
import re
import socket
import stat

import pytest
from argon2 import PasswordHasher
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from metapool.cli import serve as serve_cli
from metapool.cli.main import main
from metapool.exceptions import MetapoolError
from metapool.web import accounts as acc
from metapool.web.app import Settings, create_app
from metapool.web.security import require_role

from .conftest import csrf_of, make_client

SECRET = "s" * 43
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """Argon2 with small parameters: the tests check the logic, not the cost."""
    monkeypatch.setattr(acc, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    acc._dummy_hash.cache_clear()


@pytest.fixture
def db(workspace):
    return acc.open_accounts(workspace)


def _team_client(workspace) -> TestClient:
    app = create_app(Settings(workspace=workspace, token=None, hosts=("testserver",), team=True, secret=SECRET))

    async def lead_only(request):
        require_role(request, "lead")
        return PlainTextResponse("resolved")

    app.router.routes.append(Route("/lead-only", lead_only))
    return TestClient(app, raise_server_exceptions=False)


def _sign_in(c: TestClient, name: str, password: str = PASSWORD, next_: str = "/"):
    token = csrf_of(c.get("/login").text)
    return c.post("/login", data={"name": name, "password": password, "csrf_token": token, "next": next_},
                  follow_redirects=False)


# --- the account database ---

def test_accounts_are_kept_in_the_workspace_readable_by_the_owner_only(workspace, db):
    acc.add_user(db, "ana", PASSWORD, "lead")
    path = workspace / ".metapool" / "app.db"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((workspace / ".metapool").stat().st_mode) == 0o700
    again = acc.open_accounts(workspace)
    assert [(u.name, u.role) for u in acc.list_users(again)] == [("ana", "lead")]
    assert PASSWORD not in path.read_bytes().decode("latin-1")


def test_verify_checks_the_password_and_rehashes_old_parameters(db, monkeypatch):
    acc.add_user(db, "ana", PASSWORD, "lead")
    assert acc.verify(db, "ana", PASSWORD).role == "lead"
    assert acc.verify(db, "ana", "wrong password") is None
    assert acc.verify(db, "nobody", PASSWORD) is None
    monkeypatch.setattr(acc, "HASHER", PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1))
    assert acc.verify(db, "ana", PASSWORD) is not None
    with acc._transaction(db) as conn:
        stored = conn.execute(acc.users.select()).first().password_hash
    assert "t=2" in stored and acc.verify(db, "ana", PASSWORD) is not None


@pytest.mark.parametrize("call, message", [
    (lambda db: acc.add_user(db, "ana", PASSWORD, "lead"), "exists already"),
    (lambda db: acc.add_user(db, "bob", "short", "reviewer"), "needs 8 to 1024 characters"),
    (lambda db: acc.add_user(db, "../bob", PASSWORD, "reviewer"), "use 1 to 40 letters"),
    (lambda db: acc.add_user(db, "bob", PASSWORD, "admin"), "Role 'admin' is not one of lead, reviewer"),
    (lambda db: acc.remove_user(db, "ana"), "'ana' is the only lead; removing it would leave"),
    (lambda db: acc.set_role(db, "ana", "reviewer"), "'ana' is the only lead"),
    (lambda db: acc.set_password(db, "zoe", PASSWORD), "no account named 'zoe'"),
])
def test_account_changes_refused_with_a_reason(db, call, message):
    acc.add_user(db, "ana", PASSWORD, "lead")
    with pytest.raises(MetapoolError, match=message):
        call(db)
    assert [u.name for u in acc.list_users(db)] == ["ana"]


def test_five_wrong_passwords_lock_the_account_for_thirty_seconds(db):
    acc.add_user(db, "ana", PASSWORD, "lead")
    now = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.timezone.utc)
    for _ in range(acc.MAX_FAILURES):
        assert acc.verify(db, "ana", "wrong password", now=now) is None
    with pytest.raises(acc.AccountLocked, match="try again in 30 s") as locked:
        acc.verify(db, "ana", PASSWORD, now=now)  # even the right password, while locked
    assert locked.value.seconds == acc.LOCK_SECONDS
    later = now + dt.timedelta(seconds=acc.LOCK_SECONDS + 1)
    assert acc.verify(db, "ana", PASSWORD, now=later) is not None
    for _ in range(acc.MAX_FAILURES - 1):  # a success reset the count
        acc.verify(db, "ana", "wrong password", now=later)
    assert acc.verify(db, "ana", PASSWORD, now=later) is not None


def test_a_newer_account_database_is_refused(workspace, db):
    with acc._transaction(db) as conn:
        conn.execute(acc.schema_version.insert().values(version=99, applied_at=dt.datetime.now(dt.timezone.utc),
                                                        metapool_version="9"))
    with pytest.raises(MetapoolError, match="account schema version 99, newer than this metapool's"):
        acc.open_accounts(workspace)


# --- the pages ---

def test_sign_in_and_out(workspace, db):
    acc.add_user(db, "ana", PASSWORD, "lead")
    c = _team_client(workspace)
    r = c.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2F"
    r = _sign_in(c, "ana", next_="/accounts")
    assert r.status_code == 303 and r.headers["location"] == "/accounts"
    assert "max-age=43200" in r.headers["set-cookie"].lower() and "httponly" in r.headers["set-cookie"].lower()
    page = c.get("/").text
    assert "ana (lead)" in page and 'href="/accounts"' in page
    token = csrf_of(page)
    assert c.post("/logout", data={}).status_code == 403  # sign-out needs the CSRF token too
    r = c.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert c.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_sign_in_never_redirects_to_another_site(workspace, db, target):
    acc.add_user(db, "ana", PASSWORD, "lead")
    r = _sign_in(_team_client(workspace), "ana", next_=target)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_wrong_password_and_unknown_name_get_the_same_answer(workspace, db):
    acc.add_user(db, "ana", PASSWORD, "lead")
    c = _team_client(workspace)
    wrong, unknown = _sign_in(c, "ana", "not the password"), _sign_in(c, "zoe", PASSWORD)
    assert wrong.status_code == unknown.status_code == 400
    assert "Wrong account name or password." in wrong.text and "Wrong account name or password." in unknown.text
    assert c.get("/", follow_redirects=False).status_code == 303


def test_the_login_page_throttles_after_five_failures(workspace, db):
    acc.add_user(db, "ana", PASSWORD, "lead")
    c = _team_client(workspace)
    for _ in range(acc.MAX_FAILURES):
        assert _sign_in(c, "ana", "wrong password").status_code == 400
    r, unknown = _sign_in(c, "ana"), _sign_in(c, "zoe")
    assert r.status_code == unknown.status_code == 400 and "is locked for 30 seconds" in r.text
    def same(html: str) -> str:
        return re.sub(r'nonce="[^"]+"', "", html.replace(csrf_of(html), ""))
    assert same(r.text) == same(unknown.text)  # nothing tells them apart


def test_login_needs_the_csrf_token_of_the_session(workspace, db):
    acc.add_user(db, "ana", PASSWORD, "lead")
    c = _team_client(workspace)
    c.get("/login")
    r = c.post("/login", data={"name": "ana", "password": PASSWORD})
    assert r.status_code == 403
    r = c.post("/login", data={"name": "ana", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 403
    assert c.get("/", follow_redirects=False).status_code == 303


def test_roles_are_enforced_and_read_again_on_every_request(workspace, db):
    acc.add_user(db, "ana", PASSWORD, "lead")
    acc.add_user(db, "rui", PASSWORD, "reviewer")
    lead, reviewer = _team_client(workspace), _team_client(workspace)
    _sign_in(lead, "ana")
    _sign_in(reviewer, "rui")
    assert lead.get("/lead-only").text == "resolved"
    r = reviewer.get("/lead-only")
    assert r.status_code == 403 and "needs the role &#39;lead&#39;" in r.text and "signed in as reviewer" in r.text
    assert reviewer.get("/accounts").status_code == 403
    token = csrf_of(reviewer.get("/").text)
    assert reviewer.post("/accounts/add", data={"csrf_token": token, "name": "eve", "password": PASSWORD,
                                                "role": "lead"}).status_code == 403
    acc.set_role(db, "rui", "lead")
    assert reviewer.get("/lead-only").text == "resolved"
    acc.remove_user(db, "rui")
    assert reviewer.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_the_lead_manages_accounts_on_the_accounts_page(workspace, db):
    acc.add_user(db, "ana", PASSWORD, "lead")
    c = _team_client(workspace)
    _sign_in(c, "ana")
    token = csrf_of(c.get("/accounts").text)
    r = c.post("/accounts/add", data={"csrf_token": token, "name": "rui", "password": PASSWORD, "role": "reviewer"})
    assert r.status_code == 200 and "Account rui added." in r.text
    r = c.post("/accounts/role", data={"csrf_token": token, "name": "rui", "role": "lead"})
    assert "rui is now lead." in r.text
    r = c.post("/accounts/password", data={"csrf_token": token, "name": "rui", "password": "another password"})
    assert "New password set for rui." in r.text and acc.verify(db, "rui", "another password")
    r = c.post("/accounts/add", data={"csrf_token": token, "name": "<b>x</b>", "password": PASSWORD, "role": "lead"})
    assert r.status_code == 400 and "&lt;b&gt;x&lt;/b&gt;" in r.text and "<b>x</b>" not in r.text
    r = c.post("/accounts/remove", data={"csrf_token": token, "name": "rui"})
    assert "Account rui removed." in r.text and [u.name for u in acc.list_users(db)] == ["ana"]
    assert c.post("/accounts/nonsense", data={"csrf_token": token}).status_code == 404


def test_in_local_mode_the_link_holder_is_the_lead_and_needs_no_sign_in(workspace):
    with make_client(workspace) as c:
        assert "printed" in c.get("/login").text
        assert c.post("/login", data={"csrf_token": csrf_of(c.get("/").text)}).status_code == 404
        page = c.get("/accounts")
        assert page.status_code == 200 and "local mode" in page.text


# --- metapool serve ---

def test_a_team_server_refuses_to_start_without_a_lead(workspace, capsys, monkeypatch):
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("the server must not start"))
    assert main(["serve", str(workspace), "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "needs accounts" in err and "--add-user NAME --role lead" in err and "Traceback" not in err


def test_add_user_reads_the_password_from_stdin_never_argv(workspace, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["serve", str(workspace), "--add-user", "ana", "--role", "lead"]) == 0
    assert "account 'ana' (lead) added" in capsys.readouterr().err
    assert acc.verify(acc.open_accounts(workspace), "ana", PASSWORD) is not None
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["serve", str(workspace), "--add-user", "rui"]) == 2
    assert "needs 8 to 1024 characters" in capsys.readouterr().err


def test_a_team_server_starts_with_a_lead_and_keeps_its_session_secret(workspace, capsys, monkeypatch):
    acc.add_user(acc.open_accounts(workspace), "ana", PASSWORD, "lead")
    started = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: started.append((app, kw)))
    argv = ["serve", str(workspace), "--host", "0.0.0.0", "--port", "0", "--allowed-host", "review.example.org"]
    assert main(argv) == 0
    app, kw = started[0]
    settings = app.state.settings
    assert settings.team and settings.token is None and kw["host"] == "0.0.0.0"
    assert set(settings.hosts) == {"127.0.0.1", "localhost", "::1", "review.example.org", socket.gethostname()}
    out = capsys.readouterr()
    assert "http://review.example.org:" in out.out and "token" not in out.out and "--secure-cookies" in out.err
    secret = workspace / ".metapool" / "secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert main([*argv, "--secure-cookies"]) == 0
    assert started[1][0].state.settings.secret == settings.secret == secret.read_text().strip()
    assert started[1][0].state.settings.secure_cookies


def test_loopback_hosts_are_local_mode():
    assert all(serve_cli.is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "127.0.0.2"))
    assert not any(serve_cli.is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "review.example.org"))
    assert serve_cli.team_hosts("192.168.1.5", []) == ("127.0.0.1", "localhost", "::1", "192.168.1.5")


def test_the_cli_has_no_password_option():
    from metapool.cli.main import build_parser

    text = build_parser()._subparsers._group_actions[0].choices["serve"].format_help()
    assert "--password" not in text and "--add-user" in text


def test_a_member_changes_their_own_password(workspace, db):
    acc.add_user(db, "ana", PASSWORD, "lead")
    acc.add_user(db, "rui", PASSWORD, "reviewer")
    c = _team_client(workspace)
    _sign_in(c, "rui")
    token = csrf_of(c.get("/password").text)

    def change(current, new, again):
        return c.post("/password", data={"csrf_token": token, "current": current, "new": new, "again": again})

    assert "two new passwords differ" in change(PASSWORD, "new password 1", "new password 2").text
    assert "current password is wrong" in change("wrong password", "new password 1", "new password 1").text
    assert "needs 8 to 1024 characters" in change(PASSWORD, "short", "short").text
    r = change(PASSWORD, "new password 1", "new password 1")
    assert r.status_code == 200 and "Your password was changed." in r.text
    assert acc.verify(db, "rui", "new password 1") and not acc.verify(db, "rui", PASSWORD)
    assert 'href="/password"' in c.get("/").text
    with make_client(workspace) as local:
        assert local.get("/password").status_code == 404


def test_signing_out_or_a_new_password_ends_copies_of_the_session_cookie(workspace, db):
    acc.add_user(db, "ana", PASSWORD, "lead")
    laptop, phone = _team_client(workspace), _team_client(workspace)
    _sign_in(laptop, "ana")
    _sign_in(phone, "ana")
    stolen = _team_client(workspace)
    stolen.cookies.update(laptop.cookies)
    assert stolen.get("/", follow_redirects=False).status_code == 200
    r = laptop.post("/password", data={"csrf_token": csrf_of(laptop.get("/password").text), "current": PASSWORD,
                                       "new": "new password 1", "again": "new password 1"})
    assert "Your password was changed." in r.text
    assert laptop.get("/", follow_redirects=False).status_code == 200  # the session that changed it stays
    assert phone.get("/", follow_redirects=False).status_code == 303  # every other one is over
    stolen.cookies.clear()
    stolen.cookies.update(laptop.cookies)
    laptop.post("/logout", data={"csrf_token": csrf_of(laptop.get("/").text)})
    assert stolen.get("/", follow_redirects=False).status_code == 303
