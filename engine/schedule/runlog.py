"""The scheduler's own run log, kept in the evidence ledger as ``schedule`` entries.

Every scheduled run, calendar skip, misfire, error, reconciliation and pause is appended (run
id ``-``, kind ``schedule``), so the ledger shows what the scheduler did and did not do, and
start-up catch-up reads the last run of each job from here rather than from APScheduler's job
store, which may silently drop a run due exactly at shutdown (APScheduler issues #285/#985).
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any, Iterator

from sqlalchemy import text

from golive.ledger.chain import NO_RUN, Ledger
from golive.ledger.secrets import redact
from golive.ledger.store import Store, payload_bytes

EVENTS = ("registered", "run", "skip", "misfire", "error", "reconcile", "paused", "resumed", "lock")


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).isoformat(timespec="seconds")


class RunLog:
    """Appends and reads ``schedule`` entries of ``store``; ``instance`` names the writer."""

    def __init__(self, store: Store, instance: str, clock=lambda: datetime.now(timezone.utc)) -> None:
        self.store = store
        self.ledger = Ledger(store)
        self.instance = instance
        self.clock = clock

    def record(self, event: str, job_id: str | None = None, **fields: Any) -> dict[str, Any]:
        if event not in EVENTS:
            raise ValueError(f"unknown schedule event {event!r}; expected one of {', '.join(EVENTS)}")
        payload = {"event": event, "time": iso(self.clock()), "instance": self.instance,
                   # a nonce: two identical events (same second) must not look like a replay to verify
                   "entry": uuid.uuid4().hex}
        if job_id is not None:
            payload["job_id"] = job_id
        payload.update({k: v for k, v in fields.items() if v is not None})
        payload = redact(payload)
        self.ledger.append(NO_RUN, "schedule", payload)
        return payload

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every schedule entry, oldest first (with its ledger ``seq``)."""
        with self.store.read() as conn:
            rows = conn.execute(text("SELECT seq, payload FROM ledger_entries WHERE kind = 'schedule' ORDER BY seq")).all()
        for seq, payload in rows:
            try:
                item = json.loads(payload_bytes(payload))
            except ValueError:
                continue  # verify reports a damaged payload; the scheduler keeps going
            item["seq"] = seq
            yield item

    def last_fires(self) -> dict[str, datetime]:
        """Per job: the latest fire time accounted for (a run, a recorded skip or misfire, or
        the moment it was registered) -- catch-up starts after it."""
        last: dict[str, datetime] = {}
        for e in self.entries():
            job = e.get("job_id")
            stamp = e.get("scheduled_for") or e.get("until") or (e.get("time") if e["event"] in ("registered", "resumed") else None)
            if not job or not stamp or e["event"] not in ("registered", "resumed", "run", "misfire", "skip", "error"):
                continue
            moment = datetime.fromisoformat(stamp)
            if job not in last or moment > last[job]:
                last[job] = moment
        return last

    def last_runs(self) -> dict[str, dict[str, Any]]:
        """Per job: its latest ``run`` entry (for ``schedule list``)."""
        runs: dict[str, dict[str, Any]] = {}
        for e in self.entries():
            if e["event"] == "run" and e.get("job_id"):
                runs[e["job_id"]] = e
        return runs
