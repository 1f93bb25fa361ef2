"""One active scheduler per store: the lease rules with a controlled clock, then two real
``golive schedule start`` processes on one store -- the second waits, and takes over when the
first is killed (bounded waits, no fixed sleeps)."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


from golive.ledger import Store
from golive.schedule import SchedulerLock
from golive.schedule.runlog import RunLog

from pg import db_url  # noqa: F401 -- the parametrised back-end fixture

BOUND_S = 90  # generous upper bound for a slow, shared CI machine; the tests finish in seconds


class FakeTime:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def test_the_lease_is_exclusive_until_it_expires_or_is_released(tmp_path, db_url):  # noqa: F811
    store = Store(tmp_path / "evidence", db_url)
    clock = FakeTime()
    first, second = SchedulerLock(store, 10, clock), SchedulerLock(store, 10, clock)
    assert first.try_acquire() and not second.try_acquire()
    clock.now += 8
    assert first.try_acquire()          # a renewal moves the lease on
    clock.now += 8
    assert not second.try_acquire()     # 8 s after the renewal: still held
    clock.now += 3
    assert second.try_acquire()         # 11 s without a heartbeat: taken over
    assert not first.try_acquire() and second.holder().owner == second.owner
    second.release()
    assert first.try_acquire()          # a clean stop hands over at once
    store.close()


class Proc:
    """A ``golive schedule start`` subprocess whose stderr lines are read in the background."""

    def __init__(self, store_dir: Path, target: Path, url: str | None):
        args = [sys.executable, "-c", "from golive.schedule.cli import schedule; schedule(prog_name='golive schedule')",
                "start", "--store", str(store_dir), "-t", str(target), "--lease", "2", "--no-catch-up"]
        if url:
            args += ["--db", url]
        env = {**os.environ, "COLUMNS": "200"}
        self.popen = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.popen.stderr:
            self.lines.put(line)

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + BOUND_S
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.popen.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} from the scheduler within {BOUND_S} s; it said: {''.join(self.seen)[-2000:]}")

    def stop(self):
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(timeout=BOUND_S)


def test_two_scheduler_processes_one_active_and_the_second_takes_over(tmp_path, db_url):  # noqa: F811
    store_dir, target = tmp_path / "evidence", tmp_path / "workspace"
    target.mkdir()
    first = Proc(store_dir, target, db_url)
    second = None
    try:
        first.wait_for("scheduler active")
        second = Proc(store_dir, target, db_url)
        second.wait_for("waiting as a standby")
        assert second.popen.poll() is None
        first.popen.send_signal(signal.SIGKILL)  # no clean release: the lease must run out
        first.popen.wait(timeout=BOUND_S)
        second.wait_for("scheduler active")
        second.popen.send_signal(signal.SIGTERM)
        assert second.popen.wait(timeout=BOUND_S) == 0
        second.wait_for("scheduler stopped")
    finally:
        first.stop()
        if second is not None:
            second.stop()
    store = Store(store_dir, db_url)
    log = RunLog(store, "test")
    owners = [e["instance"] for e in log.entries() if e["event"] == "lock"]
    assert len(owners) == 2 and owners[0] != owners[1]
    registered = [e["job_id"] for e in log.entries() if e["event"] == "registered"]
    assert len(registered) == len(set(registered))  # the standby reconciled nothing twice
    from golive.ledger import verify_store
    assert verify_store(store).ok
    store.close()
