"""Dashboard users, roles, login throttling, CSRF tokens and the audit log.

Users and the audit log live in the evidence database in tables of their own (``serve_users``,
``serve_audit``), created here and never in ``ledger_entries``: who may look at the evidence is
not evidence. Passwords are hashed with argon2id (``argon2-cffi``). Roles are ordered:
``viewer`` reads runs, requirements and comparisons; ``auditor`` may also download artifacts;
``admin`` may also read the audit log and the user list.
"""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import datetime, timezone
from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import text
from sqlmodel import Field, SQLModel

from golive.serve import sessions

ROLES = ("viewer", "auditor", "admin")
MIN_PASSWORD = 12
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-")

_hasher = PasswordHasher()


class User(SQLModel, table=True):
    __tablename__ = "serve_users"
    name: str = Field(primary_key=True)
    role: str
    password_hash: str
    created: str
    disabled: bool = False


class AuditEntry(SQLModel, table=True):
    """One request of a signed-in user, or a login/logout event."""

    __tablename__ = "serve_audit"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: str = Field(index=True)
    username: str = Field(index=True)  # "user" is reserved in PostgreSQL
    role: str = ""
    action: str = ""  # view | download | login | login-failed | logout | refused
    path: str = ""
    status: int = 200
    client: str = ""


TABLES = (User, AuditEntry, sessions.Session)


class AuthError(ValueError):
    """A user cannot be added (bad name, role or password, or the name is taken)."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def ensure_tables(store) -> None:
    with store.write() as conn:
        SQLModel.metadata.create_all(conn, tables=[t.__table__ for t in TABLES])


def add_user(store, name: str, role: str, password: str) -> None:
    if not name or len(name) > 64 or not set(name) <= NAME_CHARS:
        raise AuthError(f"user name {name!r}: use 1-64 letters, digits and . _ @ -")
    if role not in ROLES:
        raise AuthError(f"role {role!r}: one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"the password needs at least {MIN_PASSWORD} characters")
    ensure_tables(store)
    with store.write() as conn:
        if conn.execute(text("SELECT 1 FROM serve_users WHERE name = :n"), {"n": name}).first():
            raise AuthError(f"user {name!r} exists; `golive users remove {name}` first to replace it")
        conn.execute(text("INSERT INTO serve_users (name, role, password_hash, created, disabled) "
                          "VALUES (:n, :r, :h, :c, :d)"),
                     {"n": name, "r": role, "h": _hasher.hash(password), "c": now(), "d": False})


def remove_user(store, name: str) -> bool:
    """Remove ``name`` and end their sessions; False when there is no such user."""
    ensure_tables(store)
    with store.write() as conn:
        sessions.end_all(conn, name)
        return conn.execute(text("DELETE FROM serve_users WHERE name = :n"), {"n": name}).rowcount > 0


def set_disabled(store, name: str, disabled: bool) -> bool:
    """Disable (or enable again) ``name``; disabling ends their sessions."""
    ensure_tables(store)
    with store.write() as conn:
        if disabled:
            sessions.end_all(conn, name)
        return conn.execute(text("UPDATE serve_users SET disabled = :d WHERE name = :n"),
                            {"d": disabled, "n": name}).rowcount > 0


def set_password(store, name: str, password: str) -> bool:
    """A new password for ``name``; every session signed in with the old one ends."""
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"the password needs at least {MIN_PASSWORD} characters")
    ensure_tables(store)
    with store.write() as conn:
        sessions.end_all(conn, name)
        return conn.execute(text("UPDATE serve_users SET password_hash = :h WHERE name = :n"),
                            {"h": _hasher.hash(password), "n": name}).rowcount > 0


def list_users(store) -> list[dict[str, str]]:
    ensure_tables(store)
    with store.read() as conn:
        rows = conn.execute(text("SELECT name, role, created, disabled FROM serve_users ORDER BY name")).all()
    return [{"name": n, "role": r, "created": c, "disabled": bool(d)} for n, r, c, d in rows]


def role_of(store, name: str) -> str | None:
    """The role of an enabled user ``name``, else None."""
    with store.read() as conn:
        row = conn.execute(text("SELECT role, disabled FROM serve_users WHERE name = :n"), {"n": name}).first()
    return row[0] if row and not row[1] and row[0] in ROLES else None


# a real hash to verify against when the user does not exist, so both cases take the same time
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def authenticate(store, name: str, password: str) -> str | None:
    """The user's role when ``password`` is theirs, else None."""
    with store.read() as conn:
        row = conn.execute(text("SELECT role, password_hash, disabled FROM serve_users WHERE name = :n"),
                           {"n": name}).first()
    try:
        _hasher.verify(row[1] if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return row[0] if row and not row[2] and row[0] in ROLES else None


def allows(role: str | None, needed: str) -> bool:
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def record(store, user: str, role: str, action: str, path: str, status: int, client: str) -> None:
    with store.write() as conn:
        conn.execute(text("INSERT INTO serve_audit (at, username, role, action, path, status, client) "
                          "VALUES (:t, :u, :r, :a, :p, :s, :c)"),
                     {"t": now(), "u": user[:64], "r": role, "a": action, "p": path[:500], "s": status,
                      "c": client[:64]})


def audit_log(store, limit: int = 200, offset: int = 0) -> list[dict]:
    with store.read() as conn:
        rows = conn.execute(text("SELECT at, username, role, action, path, status, client FROM serve_audit "
                                 "ORDER BY id DESC LIMIT :l OFFSET :o"), {"l": limit, "o": offset}).all()
    return [dict(zip(("time", "user", "role", "action", "path", "status", "client"), r)) for r in rows]


class LoginThrottle:
    """At most ``attempts`` failed logins per user name and per client address within
    ``window_s``; further attempts are refused until the oldest failure leaves the window."""

    def __init__(self, attempts: int = 5, window_s: float = 900.0, clock=time.monotonic) -> None:
        self.attempts, self.window_s, self.clock = attempts, window_s, clock
        self._failures: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque:
        q = self._failures[key]
        while q and self.clock() - q[0] > self.window_s:
            q.popleft()
        return q

    def blocked(self, name: str, client: str) -> bool:
        with self._lock:
            return any(len(self._recent(k)) >= self.attempts for k in (f"u:{name}", f"c:{client}"))

    def failed(self, name: str, client: str) -> None:
        with self._lock:
            for key in (f"u:{name}", f"c:{client}"):
                self._recent(key).append(self.clock())

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(f"u:{name}", None)


def csrf_token(session: dict) -> str:
    """The session's CSRF token (made on first use); every form carries it."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(session: dict, sent: str | None) -> bool:
    token = session.get("csrf")
    return bool(token and sent) and hmac.compare_digest(str(token), str(sent))
