"""Tamper-test helper: drop the append-only triggers on ``ledger_entries`` first, as an attacker
who owns the database does (golive.ledger.store.guard_append_only). The triggers stop mistakes
and golive's own code; the tests that follow show the hash chain catches what comes next."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from golive.ledger.store import PG_APPEND_ONLY_TRIGGERS, SQLITE_APPEND_ONLY

SQLITE_TRIGGERS = tuple(s.split()[5] for s in SQLITE_APPEND_ONLY)  # CREATE TRIGGER IF NOT EXISTS <name>


def unguard_sqlite(db: Path | sqlite3.Connection) -> None:
    """Drop the triggers of a SQLite ledger (a path, or an open sqlite3 connection)."""
    conn = db if isinstance(db, sqlite3.Connection) else sqlite3.connect(db)
    try:
        for name in SQLITE_TRIGGERS:
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        conn.commit()
    finally:
        if conn is not db:
            conn.close()


def unguard(conn) -> None:  # noqa: ANN001 -- a SQLAlchemy connection, either back end
    names = SQLITE_TRIGGERS if conn.dialect.name == "sqlite" else tuple(PG_APPEND_ONLY_TRIGGERS)
    for name in names:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}" + ("" if conn.dialect.name == "sqlite"
                                                                 else " ON ledger_entries"))
