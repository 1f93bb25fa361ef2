"""Test guard (issue 16): no private key of a person ever appears under an evidence store.

``tests/conftest.py`` wraps ``CliRunner.invoke`` for the whole session: after every CLI command a
test runs, the stores the command was pointed at (``--store DIR``, ``GOLIVE_STORE`` from the
command's ``env`` or the process, ``./evidence``) are scanned for private key markers
(``golive.ledger.people.PRIVATE_MARKERS``). The store's own signing keys are golive's, not a
person's, and allowed: ``keys/<id>.key`` named by a whole key id that the ledger does not record
as a person's (a test that damages the ledger may have removed the ledger key's own entry).

Cheap by design: a file already found clean is skipped while its size and mtime are unchanged
(blobs are write-once), and the ledger's key ids are read only when a new key file appears.
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Mapping

from golive.ledger.people import PRIVATE_MARKERS
from golive.ledger.store import payload_bytes

STORE_ENV = "GOLIVE_STORE"
KEY_ID = re.compile(r"[0-9a-f]{64}")  # golive names a signing key file by its whole key id


class PrivateKeyInStore(AssertionError):
    """A person's private key material was found under a store after a command."""


def stores_named(args: Any, env: Mapping[str, str | None] | None) -> list[Path]:
    """The existing store folders a command was pointed at."""
    if isinstance(args, str):
        args = args.split()
    words = [str(a) for a in (args or ())]
    found = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--store"]
    found += [w.split("=", 1)[1] for w in words if w.startswith("--store=")]
    from_env = (env or {}).get(STORE_ENV) if env and STORE_ENV in env else os.environ.get(STORE_ENV)
    if from_env:
        found.append(from_env)
    found.append(str(Path.cwd() / "evidence"))
    stores = []
    for name in dict.fromkeys(found):
        path = Path(name).absolute()
        if path.is_dir() and path not in stores:
            stores.append(path)
    return stores


class StoreGuard:
    def __init__(self) -> None:
        self.clean: dict[Path, tuple[int, int]] = {}  # file -> (size, mtime_ns) when found clean
        self.scanned_files = 0

    def leaks(self, store: Path) -> list[Path]:
        """Files under ``store`` holding private key material that is not the store's own ledger key."""
        leaked, person_ids = [], None
        for path, stat in _files(store):
            stamp = (stat.st_size, stat.st_mtime_ns)
            if self.clean.get(path) == stamp:
                continue
            self.scanned_files += 1
            try:
                data = path.read_bytes()
            except OSError:
                continue  # gone between listing and reading (a temporary file)
            if any(marker in data for marker in PRIVATE_MARKERS):
                if path.parent == store / "keys" and path.suffix == ".key" and KEY_ID.fullmatch(path.stem):
                    person_ids = _person_key_ids(store) if person_ids is None else person_ids
                    if path.stem not in person_ids:  # golive's own signing key
                        self.clean[path] = stamp
                        continue
                leaked.append(path)
            else:
                self.clean[path] = stamp
        return leaked

    def check(self, stores: Iterable[Path], command: Any) -> None:
        for store in stores:
            leaked = self.leaks(store)
            if leaked:
                raise PrivateKeyInStore(
                    f"private key material under the store {store} after `golive {_words(command)}`: "
                    + ", ".join(str(p.relative_to(store)) for p in leaked))


def _words(args: Any) -> str:
    return args if isinstance(args, str) else " ".join(str(a) for a in (args or ())[:4])


def _files(root: Path) -> Iterable[tuple[Path, os.stat_result]]:
    stack = [root]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                yield Path(entry.path), entry.stat(follow_symlinks=False)


def _person_key_ids(store: Path) -> set[str]:
    """Ids of the person keys the store's SQLite ledger records (none without a readable one)."""
    db = store / "ledger.db"
    if not db.is_file():
        return set()
    conn = sqlite3.connect(db, timeout=30)
    try:
        rows = conn.execute("SELECT payload FROM ledger_entries WHERE kind = 'key'").fetchall()
    except sqlite3.Error:
        return set()
    finally:
        conn.close()
    ids = set()
    for (payload,) in rows:
        try:
            body = json.loads(payload_bytes(payload))
        except ValueError:
            continue  # a damaged entry (tamper tests): verify reports it
        if isinstance(body, dict) and body.get("role") == "person":
            ids.add(str(body.get("key_id", "")))
    return ids
