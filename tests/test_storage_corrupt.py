"""A damaged SQLite page is storage corruption, reported as such: never a traceback, never
"tampered".

Each test records a real ledger, flips bytes in one page of ``ledger.db`` (the page found
through SQLite's ``dbstat`` table, so the damage lands where intended), and runs the commands
that open the store: each says ``storage corrupt: <file>: ...; restore ... from a backup`` and
exits 2. ``PRAGMA integrity_check`` also finds a damaged index page that no query reads.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from golive.cli import cli
from golive.ledger import LedgerRecorder, Store, default_signer
from golive.ledger.integrity import StorageCorrupt, integrity_problems, require_intact
from golive.ledger.simulate import record_run

RUNNER = CliRunner()


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    store = Store(tmp_path / "evidence")
    recorder = LedgerRecorder(store, default_signer(store, announce=lambda m: None))
    for _ in range(2):
        record_run(recorder, 25, tmp_path)
    store.close()
    with sqlite3.connect(store.path / "ledger.db") as conn:  # every page in the main file, none in the WAL
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store.path


def pages_of(db: Path, name: str, kind: str = "leaf") -> list[int]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = ? ORDER BY pageno", (name, kind))]


def damage(db: Path, page: int, length: int = 64) -> None:
    """Flip the first bytes of ``page`` (its b-tree header; after the file header on page 1)."""
    with sqlite3.connect(db) as conn:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    raw = bytearray(db.read_bytes())
    start = (page - 1) * size + (100 if page == 1 else 0)
    for i in range(start, start + length):
        raw[i] ^= 0xA5
    db.write_bytes(bytes(raw))


def assert_reports_corruption(result, db: Path) -> None:
    output = result.output.replace("\n", "")
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, output
    assert f"storage corrupt: {db}" in output and "restore" in output and "backup" in output, output
    assert "FAILED" not in output  # not reported as tampering


def test_a_damaged_schema_page_is_storage_corruption_for_every_command(store_dir, tmp_path):
    db = store_dir / "ledger.db"
    damage(db, 1)
    (tmp_path / "target").mkdir()
    commands = [
        ["evidence", "verify", "--store", str(store_dir)],
        ["evidence", "show", "--store", str(store_dir)],
        ["keys", "list", "--store", str(store_dir)],
        ["run", "-t", str(tmp_path / "target"), "--only", "AUD-06", "-q", "--store", str(store_dir)],
    ]
    for command in commands:
        assert_reports_corruption(RUNNER.invoke(cli, command), db)


def test_a_damaged_entry_page_is_corruption_not_tampering(store_dir):
    db = store_dir / "ledger.db"
    pages = pages_of(db, "ledger_entries")
    damage(db, pages[len(pages) // 2])
    assert_reports_corruption(RUNNER.invoke(cli, ["evidence", "verify", "--store", str(store_dir)]), db)


def test_the_integrity_check_finds_a_damaged_index_page_no_query_reads(store_dir):
    db = store_dir / "ledger.db"
    store = Store(store_dir)
    assert integrity_problems(store) == []
    require_intact(store)  # an intact store passes
    store.close()
    damage(db, pages_of(db, "sqlite_autoindex_ledger_entries_1")[0])
    store = Store(store_dir)
    try:
        problems = integrity_problems(store)
        assert problems and any("malformed" in p or "Page" in p for p in problems), problems
        with pytest.raises(StorageCorrupt, match=f"storage corrupt: {db}: PRAGMA integrity_check found"):
            require_intact(store)
    finally:
        store.close()


def test_verify_reports_a_damaged_index_page_as_storage_corruption(store_dir):
    """verify reads entries in seq order and never an entry-hash index page: only the integrity
    check sees the damage, and a store whose pages are damaged must not be called verified."""
    db = store_dir / "ledger.db"
    damage(db, pages_of(db, "sqlite_autoindex_ledger_entries_1")[0])
    assert_reports_corruption(RUNNER.invoke(cli, ["evidence", "verify", "--store", str(store_dir)]), db)


@pytest.mark.parametrize("check", ["quick", "full"])
def test_both_storage_checks_find_a_damaged_index_page(store_dir, check):
    """`verify --storage-check quick` (the default on a large database: O(N)) reads every page of
    every b-tree too, so a damaged index page no query reads is storage corruption either way."""
    db = store_dir / "ledger.db"
    ok = CliRunner().invoke(cli, ["evidence", "verify", "--store", str(store_dir), "--storage-check", check])
    assert ok.exit_code == 0 and f"PRAGMA {check}_check found no damage".replace("full_check", "integrity_check") \
        in ok.output, ok.output
    damage(db, pages_of(db, "sqlite_autoindex_ledger_entries_1")[0])
    res = CliRunner().invoke(cli, ["evidence", "verify", "--store", str(store_dir), "--storage-check", check])
    assert res.exit_code == 2 and "storage" in res.output.lower() and "not evidence of tampering" in res.output, res.output
