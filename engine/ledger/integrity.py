"""Storage corruption of the SQLite evidence database, told apart from tampering.

Tampering is a readable database whose contents disagree with the chain's hashes and
signatures (``verify``'s verdict, exit 1). Corruption is a database SQLite itself cannot read
-- a torn write, a failing disk, a byte flipped in a page: what the pages held is unknown, so
nothing can be concluded about the evidence and the only remedy is a backup (exit 2).

* :func:`install` registers a SQLAlchemy ``handle_error`` listener on every ``Engine`` that
  turns SQLite's ``SQLITE_CORRUPT`` and ``SQLITE_NOTADB`` errors into :class:`StorageCorrupt`
  naming the database file, whichever command met them; ``golive.cli_errors`` installs it for
  every command and turns a corruption met through a raw DBAPI cursor (:func:`corruption_of`)
  into the same message.
* :func:`integrity_problems` / :func:`require_intact` run ``PRAGMA integrity_check``, which
  ``evidence verify`` runs first: it also finds a damaged index page that no query reads. On a
  large database (over :data:`FULL_CHECK_UP_TO` bytes) the default is ``PRAGMA quick_check``:
  it still reads every page of every table and index and checks each b-tree's structure and
  records, but does not compare index contents with their tables nor check UNIQUE constraints
  (O(N) instead of O(N log N): 1.0 s instead of 7.5 s of CPU on a 1 M-entry, 1.7 GB ledger).
  ``evidence verify --storage-check full`` always runs the full check.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from golive.ledger.store import Store, StoreError

# SQLite primary result codes (https://sqlite.org/rescode.html); extended codes keep them in
# the low byte, e.g. SQLITE_CORRUPT_INDEX = 779 = 11 | (3 << 8)
SQLITE_CORRUPT, SQLITE_NOTADB = 11, 26
SHOWN_PROBLEMS = 5  # integrity_check lists one line per damaged page or index entry
CHECKED_PROBLEMS = 100  # PRAGMA integrity_check(N) stops after N: enough to say how bad it is
FULL_CHECK_UP_TO = 256 * 1024 * 1024  # database bytes up to which "auto" runs the full integrity_check
CHECKS = ("auto", "quick", "full", "off")


class StorageCorrupt(StoreError):
    """The evidence database cannot be read reliably (SQLite reports a malformed image).
    Not tampering: restore the file from a backup, then verify again."""

    def __init__(self, database: str | Path, what: str):
        self.database, self.what = str(database), what
        super().__init__(
            f"storage corrupt: {database}: {what}; restore {Path(database).name} (with its -wal file, if "
            f"any) from a backup taken while no golive command was writing, then run `golive evidence "
            f"verify`. This is damage to the storage, not evidence of tampering: nothing in this "
            f"store can be trusted or refuted until it is restored")


def is_corruption(exc: BaseException | None) -> bool:
    """True for SQLite's 'database disk image is malformed' / 'file is not a database'."""
    if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, sqlite3.OperationalError):
        return False  # OperationalError: locked, read-only, I/O -- not a damaged image
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB)
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


def _database_of(engine: Any) -> str:
    url = getattr(engine, "url", None)
    return str(getattr(url, "database", None) or url or "the evidence database")


# SQLite databases this process connected to, in order: a corruption met through a raw DBAPI
# cursor (verify scans that way) carries no file name, and a command opens one store
_OPENED: dict[str, None] = {}


def _on_error(context: Any) -> None:
    if getattr(context.dialect, "name", "") == "sqlite" and is_corruption(context.original_exception):
        raise StorageCorrupt(_database_of(context.engine), str(context.original_exception))


def _on_connect(conn: Any) -> None:
    if conn.dialect.name == "sqlite":
        _OPENED[_database_of(conn.engine)] = None


def install() -> None:
    """Translate SQLite corruption into :class:`StorageCorrupt` on every engine (idempotent)."""
    if not event.contains(Engine, "handle_error", _on_error):
        event.listen(Engine, "handle_error", _on_error)
        event.listen(Engine, "engine_connect", _on_connect)


def corruption_of(exc: BaseException) -> StorageCorrupt | None:
    """``exc`` as a :class:`StorageCorrupt` when it is SQLite storage corruption (also raw
    ``sqlite3`` errors and SQLAlchemy-wrapped ones), else None."""
    if isinstance(exc, StorageCorrupt):
        return exc
    original = getattr(exc, "orig", None) or exc
    if not is_corruption(original):
        return None
    opened = list(_OPENED)
    database = opened[-1] if len(opened) == 1 else " or ".join(opened) or "the evidence database (ledger.db)"
    return StorageCorrupt(database, str(original))


def pragma_for(store: Store, check: str = "auto") -> str | None:
    """The PRAGMA ``check`` (one of :data:`CHECKS`) runs on the store: ``integrity_check``,
    ``quick_check`` or None (not SQLite, or ``off``); ``auto`` is the full check up to
    :data:`FULL_CHECK_UP_TO` bytes of database."""
    if not store.is_sqlite or check == "off":
        return None
    if check == "auto":
        try:
            size = Path(store.engine.url.database or "").stat().st_size
        except OSError:
            size = 0
        check = "full" if size <= FULL_CHECK_UP_TO else "quick"
    return "integrity_check" if check == "full" else "quick_check"


def integrity_problems(store: Store, check: str = "auto") -> list[str]:
    """What ``PRAGMA integrity_check`` (or ``quick_check``: :func:`pragma_for`) reports for the
    store's SQLite database (empty: intact). Other databases keep their own checksums and
    consistency checks: nothing to run here."""
    pragma = pragma_for(store, check)
    if pragma is None:
        return []
    install()
    try:
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql(f"PRAGMA {pragma}({CHECKED_PROBLEMS})").fetchall()
    except StorageCorrupt as exc:  # damage bad enough that the check itself cannot walk the b-tree
        return [exc.what]
    # one row per problem, or (some SQLite builds) one row of newline-separated problems
    lines = [line for row in rows for line in str(row[0]).splitlines()
             if line.strip() and not line.startswith("*** in database")]
    return [] if lines == ["ok"] else lines


def require_intact(store: Store, check: str = "auto") -> str | None:
    """Raise :class:`StorageCorrupt` when the integrity check finds damage; returns the PRAGMA
    that ran (None: none did)."""
    problems = integrity_problems(store, check)
    if problems:
        more = len(problems) - SHOWN_PROBLEMS
        shown = "; ".join(problems[:SHOWN_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")
        raise StorageCorrupt(store.engine.url.database or store.db_url,
                             f"PRAGMA {pragma_for(store, check)} found {len(problems)} problem(s): {shown}")
    return pragma_for(store, check)
