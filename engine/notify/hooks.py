"""The places notifications start: the end of a recorded run, a scheduler misfire, and a
failing ``golive evidence verify``.

Both never raise: a channel down, a bad ``[notify]`` table or a database hiccup comes back as a
warning (a run warning after a run, a log line in the scheduler); the run's verdict and exit
code do not change over a notification.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from golive.notify import events as ev
from golive.notify.message import compose
from golive.notify.rules import Rules, RulesError, load_rules
from golive.notify.send import Delivery, deliver

log = logging.getLogger("golive.notify")


def notify_after_run(recorder: Any, doc: dict[str, Any], past: list[dict[str, Any]], target_root: Path | None,
                     sealed: Any = None, clock=None) -> list[str]:
    """Find the run's events and send them as the rules say; returns warnings for the run."""
    try:
        store = recorder.store
        rules = load_rules(store.path, target_root)
        if rules.empty:
            return []
        deliveries = _run_deliveries(store, rules, recorder, doc, past, sealed, clock)
    except RulesError as exc:
        return [f"notifications: {exc}"]
    except Exception as exc:  # noqa: BLE001 -- notifying must never fail the run
        log.debug("notification failure", exc_info=True)
        return [f"notifications not sent: {exc.__class__.__name__}: {exc}"]
    return [f"notification to {d.channel} failed: {d.detail}" for d in deliveries if d.outcome == "failed"]


def _run_deliveries(store, rules: Rules, recorder, doc, past, sealed, clock) -> list[Delivery]:
    from golive.ledger.show import IN_FORCE_NOW, authored_entries
    from golive.ledger.secrets import Redactor

    wanted = rules.wanted()
    now = (clock or (lambda: datetime.now(timezone.utc)))()
    scoped = (doc.get("run") or {}).get("authored")  # this target's entries only (golive.ledger.scope)
    authored = ({kind: [e for e in authored_entries(store, kind, in_force_at=IN_FORCE_NOW)
                        if scoped is None or e["seq"] in set(scoped.get(kind + "s") or ())]
                 for kind in ("waiver", "attestation")} if "expiring" in wanted else {})
    misfires = []
    if "misfire" in wanted:  # one the scheduler could not send (or a scheduler without rules) goes now
        from golive.schedule.runlog import RunLog
        misfires = ev.recent_misfires(RunLog(store, "notify").entries(), now - timedelta(hours=rules.dedup_hours))
    events = ev.run_events(doc, past, authored, rules.expiry_days, ev.ledger_problems(recorder, sealed), misfires,
                           today=now.date())
    if not events:
        return []
    redactor = Redactor()
    return deliver(store, rules, events, lambda chosen: compose(chosen, doc, rules.dashboard_url, redactor),
                   run_id=doc["run"]["id"], clock=clock)


def notify_misfire(store: Any, entry: dict[str, Any], target_root: Path | None = None, clock=None) -> list[Delivery]:
    """Send one ``misfire`` run-log payload as the rules say; problems are logged, not raised."""
    try:
        rules = load_rules(store.path, target_root)
        if rules.empty:
            return []
        return deliver(store, rules, [ev.misfire_event(entry)], lambda chosen: compose(chosen, None, rules.dashboard_url),
                       clock=clock)
    except Exception as exc:  # noqa: BLE001 -- the scheduler goes on whatever a channel does
        log.warning("misfire notification not sent: %s: %s", exc.__class__.__name__, exc)
        return []


def notify_after_verify(store: Any, report: Any, target_root: Path | None = None, clock=None) -> list[str]:
    """A verification that found problems (``report``: a :class:`~golive.ledger.verify_report.VerifyReport`)
    is a ``ledger`` event, sent as the rules say; returns warnings (never raises)."""
    problems = list(getattr(report, "problems", None) or ())
    if not problems:
        return []
    try:
        rules = load_rules(store.path, target_root)
        if rules.empty:
            return []
        event = ev.verify_event(problems, store.safe_url)
        deliveries = deliver(store, rules, [event], lambda chosen: compose(chosen, None, rules.dashboard_url),
                             clock=clock)
    except RulesError as exc:
        return [f"notifications: {exc}"]
    except Exception as exc:  # noqa: BLE001 -- a broken store may refuse the notification entry too
        log.debug("verify notification failure", exc_info=True)
        return [f"notifications not sent: {exc.__class__.__name__}: {exc}"]
    return [f"notification to {d.channel} failed: {d.detail}" for d in deliveries if d.outcome == "failed"]


class watch_misfires:  # noqa: N801 -- used like a function: wraps a RunLog
    """A :class:`~golive.schedule.runlog.RunLog` whose ``misfire`` records are also notified;
    everything else is the wrapped run log's."""

    def __init__(self, runlog: Any, target_root: Path | None = None) -> None:
        self._runlog, self._target_root = runlog, target_root

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runlog, name)

    def record(self, event: str, job_id: str | None = None, **fields: Any) -> dict[str, Any]:
        payload = self._runlog.record(event, job_id, **fields)
        if event == "misfire":
            notify_misfire(self._runlog.store, payload, self._target_root, clock=self._runlog.clock)
        return payload
