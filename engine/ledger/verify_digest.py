"""Per-entry digests for verification, computed in a second process on large SQLite ledgers.

Verifying an entry computes pure functions of its row alone: the entry hash (the formula of
``chain.entry_hash``: a ledger it appended verifies only if the two agree) and the payload's
key in the replay index. Reading payloads and hashing them is half a verification's CPU time
and needs nothing from earlier entries, so on a large ledger a worker process reads the next batch
from SQLite and digests it while the verifier checks this batch in order; every
order-dependent check (sequence, links, replay, lifecycle, signatures, tree) stays in
``verify.py``. Small ledgers, non-SQLite stores and ledgers with gaps in ``seq`` are digested
in-process: the same function, no process start-up.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
import threading
import time
from collections import deque
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Callable, Iterable, Iterator

from golive.ledger.chain import ENTRY_DOMAIN
from golive.ledger.store import payload_bytes

PARALLEL_MIN_ENTRIES = 50_000  # below this, starting a process costs more than it saves
LOAD_SAMPLES = 5
AHEAD = 2  # batches the worker may digest ahead of the verifier: bounds the results held
DIGEST_SQL = ("SELECT seq, run_id, kind, payload, prev_hash, entry_hash, NULL "
              "FROM ledger_entries WHERE seq BETWEEN ? AND ? ORDER BY seq")
Digests = tuple[set[int], list[int], set[int]]
Digested = tuple[list[tuple], set[int] | None, list[int] | None, set[int] | None]  # rows, Digests or Nones


def digest_rows(rows: list[tuple], check_blobs: bool = True) -> Digests:
    """For rows ``(seq, run_id, kind, payload, prev_hash, entry_hash, ...)``: the seqs whose
    recomputed entry hash differs from the stored one; each payload's
    Python hash (the replay index's key: the same in a forked worker, which shares the hash
    seed); the seqs whose payload names artifact blobs (if ``check_blobs``)."""
    sha256, bad, keys, blobbed = hashlib.sha256, set(), [], set()
    add_key = keys.append
    for seq, run_id, kind, payload, prev_hash, stored_hash, _ in rows:
        if payload.__class__ is not bytes:
            payload = payload_bytes(payload)
        add_key(hash(payload))
        if check_blobs and b'"blobs":[{' in payload:
            blobbed.add(seq)
        if sha256(f"{ENTRY_DOMAIN}\n{seq}\n{run_id}\n{kind}\n{prev_hash}\n{len(payload)}\n".encode()
                  + payload).hexdigest() != stored_hash:
            bad.add(seq)
    return bad, keys, blobbed


_connections: dict[str, sqlite3.Connection] = {}


def _digest_range(db_file: str, first: int, last: int, check_blobs: bool) -> tuple[tuple[int, int, int], Digests]:
    """In the worker: digest entries ``first..last``; returns ((first seq, last seq, rows), digests)."""
    conn = _connections.get(db_file)
    if conn is None:
        conn = _connections[db_file] = sqlite3.connect(db_file)
    rows = conn.execute(DIGEST_SQL, (first, last)).fetchall()
    return ((rows[0][0], rows[-1][0], len(rows)) if rows else (0, 0, 0)), digest_rows(rows, check_blobs)


def start_worker(size: int, first: int, last: int) -> Executor | None:
    """A one-process pool for a ledger of ``size`` entries numbered ``first..last``, or None
    when in-process digesting is the better choice: a small ledger, or no idle core (the
    worker repeats part of the reading, so on a busy machine it costs more than it saves). Fork only: it starts in milliseconds, and a
    process with other threads running (a server) is not forked, as that is unsafe."""
    if (size < PARALLEL_MIN_ENTRIES or (first, last) != (1, size) or threading.active_count() != 1
            or "fork" not in multiprocessing.get_all_start_methods() or not idle_core()):
        return None
    return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))


def idle_core() -> bool:
    """Whether a core is free for the worker. The runnable count of /proc/loadavg (this
    process included; the least of a few samples, as it flickers) says what runs now; the
    one-minute load average, which also counts this process's own past, is the fallback."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        samples = []
        for _ in range(LOAD_SAMPLES):
            with open("/proc/loadavg", encoding="ascii") as f:
                samples.append(int(f.read().split()[3].split("/")[0]))
            time.sleep(0.002)
        running = min(samples)
    except (OSError, ValueError, IndexError):
        running = os.getloadavg()[0] + 1
    return running + 1 <= cores


def digested(batches: Iterable[list[tuple]], pool: Executor | None, db_file: str, size: int,
             batch: int, reread: Callable[[int, int], list[tuple]], check_blobs: bool) -> Iterator[Digested]:
    """Each batch of rows with its digests. With a ``pool`` the rows come without payloads
    (seqs 1.., ``batch`` per batch) and the worker's digests are used when they cover exactly
    these rows; else (a worker failed, entries were appended meanwhile) ``reread`` reads the
    rows ``first..last`` again with payloads, in the same snapshot, to digest them here."""
    if pool is None:
        for rows in batches:
            yield rows, None, None, None  # the scan hashes them as it goes
        return
    ranges = iter([(lo, min(lo + batch - 1, size)) for lo in range(1, size + 1, batch)])
    pending: deque[Future] = deque()

    def submit() -> None:
        span = next(ranges, None)
        if span is not None:
            try:
                pending.append(pool.submit(_digest_range, db_file, *span, check_blobs))
            except Exception:  # noqa: BLE001 -- a broken pool: the rest is digested here
                pass

    for _ in range(AHEAD + 1):
        submit()
    for rows in batches:
        result = None
        if pending:
            try:
                result = pending.popleft().result()
            except Exception:  # noqa: BLE001 -- a failed worker only costs speed: digest here
                result = None
            submit()
        if rows and result and result[0] == (rows[0][0], rows[-1][0], len(rows)):
            yield rows, *result[1]
        else:
            rows = reread(rows[0][0], rows[-1][0])
            yield rows, *digest_rows(rows, check_blobs)
