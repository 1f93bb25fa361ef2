"""One active scheduler per evidence store: a lock row with a heartbeat lease.

APScheduler's job store cannot be shared by two running schedulers (both would run every
job). ``golive_scheduler_lock`` holds a single row: the owner (host, pid, a random token), the
time of its last heartbeat and the lease length. An instance takes the row when it is free,
its own, or its lease has expired; it then renews it every ``lease / 3`` seconds. A second
instance waits, polling, and takes over once the first stops renewing (killed, host lost).
Each acquire/renew is one short write transaction under the ledger's write lock
(``Store.write``: ``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL), so
two instances can never both see the row free. Leases compare wall clocks: across machines
sharing a PostgreSQL store, keep clocks in sync (NTP) well within the lease.
"""
from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from golive.ledger.store import Store

LOCK_TABLE = "golive_scheduler_lock"
_metadata = MetaData()
lock_table = Table(
    LOCK_TABLE, _metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("owner", String(200), nullable=False),
    Column("heartbeat", Float, nullable=False),
    Column("lease_s", Float, nullable=False),
)


@dataclass(frozen=True)
class Holder:
    owner: str
    heartbeat: float
    lease_s: float

    def expired(self, now: float) -> bool:
        return now > self.heartbeat + self.lease_s


class SchedulerLock:
    """The lease on ``store``; ``owner`` names this instance (host:pid:token)."""

    def __init__(self, store: Store, lease_s: float = 30.0, clock: Callable[[], float] = time.time) -> None:
        if lease_s <= 0:
            raise ValueError("the scheduler lock lease must be positive seconds")
        self.store = store
        self.lease_s = float(lease_s)
        self.clock = clock
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held = False
        with store.engine.begin() as conn:
            _metadata.create_all(conn)

    def holder(self) -> Holder | None:
        with self.store.read() as conn:
            row = conn.execute(select(lock_table).where(lock_table.c.id == 1)).first()
        return None if row is None else Holder(row.owner, row.heartbeat, row.lease_s)

    def try_acquire(self) -> bool:
        """Take or renew the lease if it is free, ours, or expired; True when we hold it."""
        now = self.clock()
        with self.store.write() as conn:
            row = conn.execute(select(lock_table).where(lock_table.c.id == 1)).first()
            if row is None:
                insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
                conn.execute(insert(lock_table).values(id=1, owner=self.owner, heartbeat=now, lease_s=self.lease_s)
                             .on_conflict_do_nothing())
                row = conn.execute(select(lock_table).where(lock_table.c.id == 1)).first()
                self.held = row.owner == self.owner
                return self.held
            current = Holder(row.owner, row.heartbeat, row.lease_s)
            if current.owner == self.owner or current.expired(now):
                conn.execute(update(lock_table).where(lock_table.c.id == 1)
                             .values(owner=self.owner, heartbeat=now, lease_s=self.lease_s))
                self.held = True
            else:
                self.held = False
        return self.held

    def wait_acquire(self, stop: threading.Event, poll_s: float | None = None,
                     on_wait: Callable[[Holder | None], None] | None = None) -> bool:
        """Block until the lease is ours (True) or ``stop`` is set (False)."""
        poll = poll_s if poll_s is not None else max(0.2, self.lease_s / 3)
        told = False
        while not stop.is_set():
            if self.try_acquire():
                return True
            if on_wait and not told:
                on_wait(self.holder())
                told = True
            stop.wait(poll)
        return False

    def release(self) -> None:
        """Give the lease up at once (a clean shutdown: the standby takes over immediately)."""
        if not self.held:
            return
        with self.store.write() as conn:
            conn.execute(update(lock_table).where(lock_table.c.id == 1, lock_table.c.owner == self.owner)
                         .values(heartbeat=0.0))
        self.held = False
