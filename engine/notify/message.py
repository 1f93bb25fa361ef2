"""The text of a notification: a title and a plain-text body naming each requirement, its
failing thresholds (metric = observed vs the threshold), the check's reason, and the dashboard
page of the requirement in the run. Everything passes through the secrets
:class:`~golive.ledger.secrets.Redactor` last, so no credential in a reason or a metric name
leaves the machine."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from golive.ledger.secrets import Redactor
from golive.notify.events import Event

HEADINGS = {"p1-failure": "P1 requirements failing", "new-failure": "New failures since the previous run",
            "expiring": "Waivers and attestations expiring", "ledger": "Evidence ledger problems",
            "misfire": "Scheduled checks missed"}
REASON_CHARS = 300


@dataclass(frozen=True)
class Message:
    title: str
    body: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(f"{self.title}\n{self.body}".encode()).hexdigest()


def requirement_link(dashboard_url: str, run_id: str, requirement_id: str) -> str:
    """``<base>/runs/<run>/requirements/<id>``, each part quoted (ids are plain, but a link
    must never be broken by one that is not)."""
    return f"{dashboard_url}/runs/{quote(run_id, safe='')}/requirements/{quote(requirement_id, safe='')}"


def threshold_lines(result: dict[str, Any]) -> list[str]:
    """``metric = observed unit (needs op value unit)`` for each threshold, failing ones marked."""
    lines = []
    for t in result.get("thresholds") or ():
        unit = f" {t['unit']}" if t.get("unit") not in (None, "", "count") else ""
        value = t.get("value")
        value = "–".join(_num(v) for v in value) if isinstance(value, list) else _num(value)
        mark = "ok " if t.get("passed") else "OFF"
        lines.append(f"    [{mark}] {t.get('metric')} = {_num(t.get('observed'))}{unit} "
                     f"(threshold {t.get('op')} {value}{unit})")
    return lines


def _num(v: Any) -> str:
    v = v.get("value", v) if isinstance(v, dict) else v
    if v is None:
        return "not observed"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def compose(events: list[Event], doc: dict[str, Any] | None, dashboard_url: str = "",
            redactor: Redactor | None = None) -> Message:
    """One message for ``events`` (of one run, or of the scheduler when ``doc`` is None)."""
    redactor = redactor or Redactor()
    run = (doc or {}).get("run") or {}
    run_id = run.get("id", "")
    verdict = (((doc or {}).get("summary") or {}).get("verdict") or {}).get("state", "")
    kinds = sorted({e.kind for e in events}, key=list(HEADINGS).index)
    plan = (run.get("plan") or {}).get("title") or (run.get("plan") or {}).get("id") or ""
    title = f"golive: {'; '.join(HEADINGS[k] for k in kinds)}"
    if run_id:
        title += f" (run {run_id[:8]}{', ' + verdict if verdict else ''})"
    lines = []
    if run_id:
        lines += [f"Run {run_id} of {plan or 'the plan'} on {run.get('target', '?')}",
                  f"Started {run.get('started', '?')}, finished {run.get('finished', '?')}"
                  + (f"; readiness verdict {verdict}" if verdict else ""), ""]
        if dashboard_url:
            lines += [f"Run page: {dashboard_url}/runs/{quote(run_id, safe='')}", ""]
    detailed: set[str] = set()  # a requirement in two sections gets its thresholds once
    for kind in kinds:
        lines.append(f"{HEADINGS[kind]}:")
        for e in (e for e in events if e.kind == kind):
            lines.append(f"  - {e.summary}")
            r = e.result or {}
            if r.get("title"):
                lines.append(f"    {r['title']}")
            if kind in ("p1-failure", "new-failure") and e.requirement_id in detailed:
                lines.append("    (thresholds and reason above)")
            elif kind in ("p1-failure", "new-failure"):
                detailed.add(e.requirement_id)
                lines += threshold_lines(r)
                # masked before it is cut: a secret split at the cut would no longer match
                reason = redactor.text(" ".join(str(r.get("reason") or "").split()))
                if reason:
                    lines.append(f"    reason: {reason[:REASON_CHARS]}{'…' if len(reason) > REASON_CHARS else ''}")
            if dashboard_url and run_id and e.requirement_id:
                lines.append(f"    {requirement_link(dashboard_url, run_id, e.requirement_id)}")
            elif dashboard_url and kind == "ledger":
                lines.append(f"    {dashboard_url}/ledger")
        lines.append("")
    return Message(redactor.text(title), redactor.text("\n".join(lines).rstrip() + "\n"))
