"""Accounts of a team server: who may sign in, with which role, and the throttle on wrong passwords.

The accounts live in the workspace's app database ``.metapool/app.db`` (SQLite, created on first use
with the review database's settings: :func:`metapool.review.store.sqlite_engine`; the folder is made
``0700`` and the file ``0600``). Its tables, at :data:`SCHEMA_VERSION`:

``schema_version``
    One row per schema version applied (version, when, by which metapool); a database of a newer
    metapool is refused, an older one gets the steps of :data:`MIGRATIONS` (none yet).
``users``
    name (unique), password hash, role (:data:`metapool.web.roles.ROLES`), created, the throttle's
    state (consecutive failures, the time the account is locked until) and the generation of its
    sessions (raised by signing out and by a new password: every older session ends).

Passwords are hashed with Argon2id (argon2-cffi's ``PasswordHasher`` with its RFC 9106 defaults); a
hash made with older parameters is replaced on the next successful sign-in. A wrong password and an
unknown name take the same time (an unknown name is checked against a dummy hash) and get the same
answer. After :data:`MAX_FAILURES` wrong passwords in a row an account is locked for
:data:`LOCK_SECONDS` seconds: sign-ins are refused without checking the password, then the count
starts again. A success resets the count.

References
----------
RFC 9106, "Argon2 Memory-Hard Function for Password Hashing and Proof-of-Work Applications" (2021).
OWASP Cheat Sheet Series: Password Storage; Authentication (account lockout, generic error messages).
NIST SP 800-63B, section 5.1.1 (at least 8 characters, no composition rules).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..exceptions import MetapoolError
from ..review.migrations import create_schema, database_version, upgrade
from ..review.schema import version_table
from ..review.store import as_utc, connected, sqlite_engine, utc_now
from .roles import ROLES

#: Where the app database lives inside the workspace.
APP_FOLDER, APP_DB = ".metapool", "app.db"

#: Wrong passwords in a row that lock an account, and for how long (seconds).
MAX_FAILURES, LOCK_SECONDS = 5, 30

#: Shortest and longest password accepted (characters).
MIN_PASSWORD, MAX_PASSWORD = 8, 1024

#: Account names: a letter or digit, then letters, digits, dot, dash or underscore (at most 40).
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")

#: The version of the tables below; a change to them adds a step to :data:`MIGRATIONS`.
SCHEMA_VERSION = 1

#: Step to version ``n`` (from ``n - 1``), for ``n`` in 2 .. SCHEMA_VERSION.
MIGRATIONS: Mapping[int, Callable[[sa.Connection], None]] = {}

HASHER = PasswordHasher()

metadata = sa.MetaData()

schema_version = version_table(metadata)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("generation", sa.Integer, nullable=False, default=0),
    sa.CheckConstraint(f"role IN ({', '.join(repr(r) for r in ROLES)})", name="ck_users_role"),
)


@dataclass(frozen=True)
class User:
    """An account as the pages show it (never its password hash).

    ``generation`` numbers the account's sessions: a session signed in under another number is over
    (:func:`end_sessions`).
    """

    name: str
    role: str
    created: dt.datetime
    generation: int = 0


@dataclass(frozen=True)
class Accounts:
    """The open app database of a workspace."""

    engine: sa.Engine
    where: str


class AccountLocked(MetapoolError):
    """Sign-in refused: too many wrong passwords in a row; ``seconds`` until the next try."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"Too many wrong passwords for this account; try again in {seconds} s.")
        self.seconds = seconds


def open_accounts(workspace_root: Path) -> Accounts:
    """The app database of the workspace at ``workspace_root``, created (and its tables) on first use."""
    folder = Path(workspace_root) / APP_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / APP_DB
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # hashes: readable by the owner only
    accounts = Accounts(sqlite_engine(path), str(path))
    with _transaction(accounts) as conn:
        _bring_up_to_date(conn, accounts.where)
    return accounts


def _transaction(accounts: Accounts, read_only: bool = False):
    """One transaction (a reader does not take SQLite's write lock); a database error becomes a MetapoolError."""
    return connected(accounts.engine, f"account database {accounts.where}", read_only)


def _bring_up_to_date(conn: sa.Connection, where: str) -> None:
    """Create the tables of a new app database, or run the :data:`MIGRATIONS` an older one lacks."""
    if database_version(conn, schema_version) is None:
        create_schema(conn, metadata, schema_version, SCHEMA_VERSION)
    else:
        upgrade(conn, where, MIGRATIONS, SCHEMA_VERSION, schema_version, what="account")


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise MetapoolError(f"Account name {name!r}: use 1 to 40 letters, digits, '.', '-' or '_', starting with a "
                            "letter or digit.")
    return name


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise MetapoolError(f"Role {role!r} is not one of {', '.join(ROLES)}.")
    return role


def _hash(password: str) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise MetapoolError(f"A password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters.")
    return HASHER.hash(password)


def _user(row) -> User:
    return User(row.name, row.role, as_utc(row.created), row.generation)


def add_user(accounts: Accounts, name: str, password: str, role: str) -> User:
    """Create an account; refused (MetapoolError) if the name is taken or invalid, the role unknown, the password short."""
    values = {"name": _check_name(name), "role": _check_role(role), "password_hash": _hash(password),
              "created": utc_now(), "failures": 0, "generation": 0}
    with _transaction(accounts) as conn:
        if conn.execute(sa.select(users.c.id).where(users.c.name == name)).first():
            raise MetapoolError(f"An account named {name!r} exists already; nothing was changed.")
        conn.execute(users.insert().values(**values))
    return User(name, role, values["created"])


def list_users(accounts: Accounts) -> list[User]:
    """Every account, by name."""
    with _transaction(accounts, read_only=True) as conn:
        return [_user(r) for r in conn.execute(sa.select(users).order_by(users.c.name))]


def get_user(accounts: Accounts, name: str) -> User | None:
    """The account called ``name``, or None."""
    with _transaction(accounts, read_only=True) as conn:
        row = conn.execute(sa.select(users).where(users.c.name == name)).first()
    return None if row is None else _user(row)


def has_lead(accounts: Accounts) -> bool:
    """Whether some account has the role ``lead`` (a team server needs one)."""
    return any(u.role == "lead" for u in list_users(accounts))


def _existing(conn: sa.Connection, name: str):
    row = conn.execute(sa.select(users).where(users.c.name == name)).first()
    if row is None:
        raise MetapoolError(f"There is no account named {name!r}.")
    return row


def _keep_a_lead(conn: sa.Connection, row, what: str) -> None:
    leads = conn.execute(sa.select(sa.func.count()).select_from(users).where(users.c.role == "lead")).scalar_one()
    if row.role == "lead" and leads == 1:
        raise MetapoolError(f"{row.name!r} is the only lead; {what} would leave the workspace without one. "
                            "Make another account lead first.")


def set_password(accounts: Accounts, name: str, password: str) -> None:
    """Give ``name`` a new password, lift a lock, and end the account's sessions in every browser."""
    new_hash = _hash(password)
    with _transaction(accounts) as conn:
        _existing(conn, name)
        conn.execute(users.update().where(users.c.name == name).values(
            password_hash=new_hash, failures=0, locked_until=None, generation=users.c.generation + 1))


def end_sessions(accounts: Accounts, name: str) -> None:
    """End every session of ``name`` (signing out ends them all: session cookies cannot be recalled one by one)."""
    with _transaction(accounts) as conn:
        conn.execute(users.update().where(users.c.name == name).values(generation=users.c.generation + 1))


def set_role(accounts: Accounts, name: str, role: str) -> None:
    """Change the role of ``name``; the last lead cannot stop being one."""
    _check_role(role)
    with _transaction(accounts) as conn:
        row = _existing(conn, name)
        if role != "lead":
            _keep_a_lead(conn, row, "this change")
        conn.execute(users.update().where(users.c.name == name).values(role=role))


def remove_user(accounts: Accounts, name: str) -> None:
    """Delete the account ``name`` (its decisions in reviews stay, under its name); never the last lead."""
    with _transaction(accounts) as conn:
        row = _existing(conn, name)
        _keep_a_lead(conn, row, "removing it")
        conn.execute(users.delete().where(users.c.name == name))


@functools.cache
def _dummy_hash() -> str:
    """A hash no password matches quickly: what an unknown name is checked against."""
    return HASHER.hash(secrets.token_urlsafe(16))


def verify(accounts: Accounts, name: str, password: str, now: dt.datetime | None = None) -> User | None:
    """The account if ``password`` is its password, else None (same time and answer for an unknown name).

    The password is checked outside any database transaction (Argon2 takes a good fraction of a
    second by design), so that other requests never wait for it; the failure count is increased in
    the database itself, so that wrong passwords sent at once all count.

    Raises
    ------
    AccountLocked
        The account is locked after :data:`MAX_FAILURES` wrong passwords in a row (see the module's notes).
    """
    now = now or utc_now()
    with _transaction(accounts, read_only=True) as conn:
        row = conn.execute(sa.select(users).where(users.c.name == name)).first() if isinstance(name, str) else None
    if row is not None and row.locked_until is not None and as_utc(row.locked_until) > now:
        _matches(_dummy_hash(), password)  # as long as a check: the time does not tell a locked account either
        raise AccountLocked(max(1, int((as_utc(row.locked_until) - now).total_seconds() + 0.999)))
    if row is None:
        _matches(_dummy_hash(), password)
        return None
    this = users.c.id == row.id
    if not _matches(row.password_hash, password):
        with _transaction(accounts) as conn:
            conn.execute(users.update().where(this).values(failures=users.c.failures + 1))
            if conn.execute(sa.select(users.c.failures).where(this)).scalar_one() >= MAX_FAILURES:
                conn.execute(users.update().where(this).values(
                    failures=0, locked_until=now + dt.timedelta(seconds=LOCK_SECONDS)))
        return None
    changes = {"failures": 0, "locked_until": None}
    if HASHER.check_needs_rehash(row.password_hash):
        changes["password_hash"] = HASHER.hash(password)
    with _transaction(accounts) as conn:
        conn.execute(users.update().where(this).values(**changes))
    return _user(row)


def _matches(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password if isinstance(password, str) else "")
    except (VerificationError, InvalidHashError):
        return False
