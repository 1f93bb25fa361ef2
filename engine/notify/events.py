"""What happened in a run that someone should hear about now, not in the evening report.

Events, by kind (``rules.EVENT_KINDS``):

- ``p1-failure``: a P1 requirement's effective status (waivers applied) is fail or error;
- ``new-failure``: a requirement failing (fail, error, partial) now that was not failing in the
  previous comparable run (same target and series, :func:`golive.history.past_runs`);
- ``expiring``: a waiver or attestation in force that expires within ``expiry_days``;
- ``ledger``: the run's recording reported a problem (no signed checkpoint, a witness or
  timestamp failure) -- the trail the run relies on is not what it should be -- or
  ``golive evidence verify`` found problems (:func:`verify_event`);
- ``misfire``: a scheduled job was missed (a ``misfire`` entry of the scheduler's run log).

Each event has a ``key`` (kind and subject) that deduplication uses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable

FAILING = ("fail", "error", "partial")
UNSEALED = "the run has no signed checkpoint"


@dataclass(frozen=True)
class Event:
    kind: str
    subject: str            # requirement id, job id, or "ledger"
    summary: str            # one line, before masking
    result: dict[str, Any] | None = field(default=None, compare=False)  # the requirement's result, if any

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subject}"

    @property
    def requirement_id(self) -> str | None:
        return self.result.get("requirement_id") if self.result else None


def run_events(doc: dict[str, Any], past: list[dict[str, Any]], authored: dict[str, list[dict[str, Any]]],
               expiry_days: int, ledger_problems: Iterable[str] = (), misfires: Iterable[dict] = (),
               today: date | None = None) -> list[Event]:
    """Every event of one run, in the order a message lists them."""
    events = p1_failures(doc)
    events += new_failures(doc, past[-1] if past else None)
    events += expiring(authored, expiry_days, today or datetime.now(timezone.utc).date())
    # one subject per kind of problem: a witness down all day is one message a day, not one a run
    events += [Event("ledger", "unsealed" if problem.startswith(UNSEALED) else "sealing", problem)
               for problem in ledger_problems]
    events += [misfire_event(m) for m in misfires]
    return events


def p1_failures(doc: dict[str, Any]) -> list[Event]:
    return [Event("p1-failure", r["requirement_id"], f"P1 requirement {r['requirement_id']} {r['status']}", r)
            for r in doc.get("results") or () if r.get("priority") == "P1" and r.get("status") in FAILING]


def new_failures(doc: dict[str, Any], previous: dict[str, Any] | None) -> list[Event]:
    """Failing now, not failing in ``previous``; nothing without a previous comparable run (the
    first run of a series has no baseline), nor for a requirement the previous run did not have."""
    if previous is None:
        return []
    before = {r["requirement_id"]: r.get("status") for r in previous.get("results") or ()}
    prev_id = previous["run"]["id"]
    return [Event("new-failure", r["requirement_id"],
                  f"{r['requirement_id']} is {r['status']} (was {before[r['requirement_id']]} in run {prev_id[:8]})", r)
            for r in doc.get("results") or ()
            if r.get("status") in FAILING and r["requirement_id"] in before and before[r["requirement_id"]] not in FAILING]


def expiring(authored: dict[str, list[dict[str, Any]]], days: int, today: date) -> list[Event]:
    """Waivers and attestations (``{"waiver": [...], "attestation": [...]}`` as
    :func:`golive.ledger.show.authored_entries` returns them, revoked ones left out) whose
    ``expires`` date falls in ``[today, today + days]``."""
    events = []
    horizon = today + timedelta(days=days)
    for kind, entries in authored.items():
        for e in entries:
            try:
                expires = date.fromisoformat(str(e.get("expires"))[:10])
            except ValueError:
                continue  # no expiry (attestations may have none)
            if e.get("second_to") is not None:
                continue  # a co-approval expires with the waiver it approves: one event for both
            if today <= expires <= horizon and not e.get("revoked"):
                rid = e.get("requirement_id", "?")
                left = (expires - today).days
                events.append(Event("expiring", f"{rid}#{kind}{e.get('seq')}",
                                    f"{kind} for {rid} (ledger entry {e.get('seq')}) expires on {expires} "
                                    f"({'today' if left == 0 else f'in {left} day(s)'})", {"requirement_id": rid}))
    return events


def verify_event(problems: list[Any], where: str) -> Event:
    """A failing verification of the store at ``where``: how many problems, the first three."""
    shown = "; ".join(str(p) for p in problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
    return Event("ledger", "verify", f"golive evidence verify of {where} found {len(problems)} problem(s): {shown}")


def misfire_event(entry: dict[str, Any]) -> Event:
    """An event from one ``misfire`` payload of the schedule run log."""
    job = entry.get("job_id", "?")
    count = entry.get("count", 1)
    return Event("misfire", f"{job}@{entry.get('scheduled_for')}",
                 f"scheduled job {job} missed {count} fire time(s), the last due {entry.get('scheduled_for')}: "
                 f"{entry.get('reason', '')}")


def recent_misfires(runlog_entries: Iterable[dict[str, Any]], since: datetime) -> list[dict[str, Any]]:
    """``misfire`` entries of the run log recorded at or after ``since``."""
    found = []
    for e in runlog_entries:
        if e.get("event") != "misfire":
            continue
        try:
            when = datetime.fromisoformat(str(e.get("time")))
        except ValueError:
            continue
        if when >= since:
            found.append(e)
    return found


def ledger_problems(recorder: Any, sealed: Any) -> list[str]:
    """What the run's recording reported: no signed checkpoint, and the sealing step's warnings."""
    problems = []
    if recorder is not None and not getattr(recorder, "head", None):
        problems.append(f"{UNSEALED} in the ledger: its evidence is not sealed; run `golive evidence verify`")
    problems += [str(w) for w in getattr(sealed, "warnings", None) or ()]
    return problems
