"""Server-side sessions: a signed cookie alone cannot be taken back, so each sign-in also gets a
row in ``serve_sessions`` and the cookie carries only its random token.

Every request looks the token up (with the user's role, and whether the user is still enabled):
signing out deletes the row, so a copy of the cookie stops working at once; removing or
disabling a user, or changing their password, deletes every row of that user. Only a hash of the
token is stored, so a copy of the database cannot be replayed as a cookie. Expired rows are
pruned at each sign-in.
"""
from __future__ import annotations

import hashlib
import secrets
import time

from sqlalchemy import text
from sqlmodel import Field, SQLModel


class Session(SQLModel, table=True):
    __tablename__ = "serve_sessions"
    id: str = Field(primary_key=True)  # sha256 of the cookie's token
    username: str = Field(index=True)
    created: float
    expires: float = Field(index=True)  # Unix time


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(store, name: str, max_age_s: float) -> str:
    """A new session of ``name``; returns the token the cookie carries."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    with store.write() as conn:
        conn.execute(text("DELETE FROM serve_sessions WHERE expires < :now"), {"now": now})
        conn.execute(text("INSERT INTO serve_sessions (id, username, created, expires) VALUES (:i, :u, :c, :e)"),
                     {"i": _key(token), "u": name, "c": now, "e": now + max_age_s})
    return token


def user_of(store, token: str | None) -> tuple[str, str] | None:
    """(name, role) of the live session ``token`` whose user is enabled, else None."""
    if not token or not isinstance(token, str):
        return None
    with store.read() as conn:
        row = conn.execute(text(
            "SELECT u.name, u.role FROM serve_sessions s JOIN serve_users u ON u.name = s.username "
            "WHERE s.id = :i AND s.expires >= :now AND NOT u.disabled"), {"i": _key(token), "now": time.time()}).first()
    return (row[0], row[1]) if row else None


def end(store, token: str | None) -> None:
    if token and isinstance(token, str):
        with store.write() as conn:
            conn.execute(text("DELETE FROM serve_sessions WHERE id = :i"), {"i": _key(token)})


def end_all(conn, name: str) -> int:  # noqa: ANN001 -- a write connection
    """End every session of ``name`` (in the caller's transaction); how many there were."""
    return conn.execute(text("DELETE FROM serve_sessions WHERE username = :u"), {"u": name}).rowcount
