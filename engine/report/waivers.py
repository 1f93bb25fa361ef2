"""Applying waivers to a run's results for reporting.

A waiver is ``{requirement_id, approver, reason, expires, created}`` and its ``co_approvers``
(from the ledger, where ``golive waive`` records it). Judged at the run's finish time, so re-rendering an old run gives
the same report:

- unexpired, requirement not passing  -> status becomes ``waived`` (never counted as pass);
  the recorded status is kept in ``recorded_status`` and the waiver in ``waiver``;
- expired                               -> the status stays; the report says it expired;
- the requirement passes anyway         -> shown as ``not needed``;
- unknown requirement id                -> an error naming the id (a typo must not hide).

Waivers never change ``implemented``, so coverage figures are unaffected.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Mapping

from golive.report.evidence import attached_files

WAIVABLE = ("fail", "partial", "missing", "error")


@dataclass(frozen=True)
class WaiverView:
    requirement_id: str
    approver: str
    reason: str
    expires: str
    created: str
    state: str  # applied | expired | not-needed
    recorded_status: str
    files: tuple[dict[str, Any], ...] = ()  # attached to the waiver: {"path", "sha256", "size"}
    co_approvers: tuple[str, ...] = ()  # who else approved it (golive waive --second-to), as counted

    @property
    def approved_by(self) -> str:
        """``Hana Ito`` or ``Hana Ito, co-approved by Ravi Shah``: every name the run counted."""
        return approved_by(self.approver, self.co_approvers)

    def as_dict(self) -> dict[str, Any]:
        """The view as JSON's own types (a stored document must equal the one rebuilt)."""
        return self.__dict__ | {"files": [dict(f) for f in self.files], "co_approvers": list(self.co_approvers),
                                "state_label": self.state_label}

    @property
    def state_label(self) -> str:
        if self.state == "not-needed" and self.recorded_status != "pass":
            # e.g. a skipped check: saying "passes" would misstate the result
            return (f"not applied (requirement {self.recorded_status}; a waiver covers "
                    f"{', '.join(WAIVABLE)} only)")
        return {"applied": "in force", "expired": "expired — no longer applies",
                "not-needed": "not needed (requirement passes)"}[self.state]


def approved_by(approver: str, co_approvers: Any = ()) -> str:
    """An approver and the co-approvers of one waiver, as a report sentence names them."""
    others = [str(c) for c in co_approvers or () if str(c)]
    return approver + (f", co-approved by {', '.join(others)}" if others else "")


def _moment(value: Any, field: str, req: str) -> datetime:
    """Parse an ISO date or datetime; a bare date means the end of that day (UTC)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, 23, 59, 59)
    else:
        text = str(value).strip()
        try:
            if len(text) == 10:
                d = date.fromisoformat(text)
                moment = datetime(d.year, d.month, d.day, 23, 59, 59)
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"waiver for {req}: {field} {value!r} is not an ISO date "
                             f"(write e.g. 2026-12-31)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def apply_waivers(doc: dict, waivers: list[Mapping[str, Any]], as_of: Any) -> tuple[WaiverView, ...]:
    """Apply ``waivers`` to ``doc['results']`` in place; return how each one was judged."""
    if not waivers:
        return ()
    results = {r["requirement_id"]: r for r in doc["results"]}
    now = _moment(as_of, "run time", "the run") if as_of else datetime.now(timezone.utc)
    views = []
    for i, w in enumerate(waivers):
        missing = [k for k in ("requirement_id", "approver", "reason", "expires") if not w.get(k)]
        if missing:
            raise ValueError(f"waiver #{i + 1} ({w.get('requirement_id', '?')}): missing "
                             f"{', '.join(missing)}; every waiver needs an approver, a reason "
                             f"and an expiry date")
        req = str(w["requirement_id"])
        if req not in results:
            raise ValueError(f"waiver #{i + 1}: requirement {req!r} is not in this run's results")
        result = results[req]
        recorded = result.get("recorded_status", result["status"])
        expires = _moment(w["expires"], "expires", req)
        files = attached_files(w.get("files"))
        if expires < now:
            state = "expired"
        elif recorded in WAIVABLE:
            state = "applied"
            result["recorded_status"] = recorded
            result["status"] = "waived"
            result["waiver"] = {k: str(w.get(k, "")) for k in
                                ("approver", "reason", "expires", "created")}
            if w.get("co_approvers"):
                result["waiver"]["co_approvers"] = [str(c) for c in w["co_approvers"]]
            if files:
                result["waiver"]["files"] = [dict(f) for f in files]
        else:
            state = "not-needed"
        views.append(WaiverView(requirement_id=req, approver=str(w["approver"]),
                                reason=str(w["reason"]), expires=str(w["expires"]),
                                created=str(w.get("created", "")), state=state,
                                recorded_status=recorded, files=files,
                                co_approvers=tuple(str(c) for c in w.get("co_approvers") or ())))
    return tuple(sorted(views, key=lambda v: (v.requirement_id, v.expires)))


GROUPINGS = {"by_phase": "phase", "by_section": "section", "by_category": "category", "by_priority": "priority"}


def refresh_groups(doc: dict, bands: Mapping[str, float] | None = None) -> None:
    """Recount each ``coverage`` group's failing and partial requirements and its band from the
    waiver-applied ``results`` (a waived failure no longer makes its group a major gap), so the
    console and JSON grade groups as the reports do. Coverage and verification are unchanged:
    a waiver neither covers nor verifies."""
    from golive.run.scoring import group_band

    bands = dict(bands or {"well": 0.75, "partial": 0.25})
    applicable = [r for r in doc["results"] if not r.get("not_applicable")]
    for grouping, field in GROUPINGS.items():
        for group in doc.get("coverage", {}).get(grouping, []):
            members = [r for r in applicable if str(r.get(field)) == str(group["id"])]
            failing = [r for r in members if r["status"] in ("fail", "error")]
            partial = sum(r["status"] == "partial" for r in members)
            group.update(failing=len(failing), partial=partial, failing_ids=[r["requirement_id"] for r in failing])
            group["band"] = group_band(group.get("verification_rate", 0.0), len(failing), partial, bands,
                                       failing_p1=sum(r.get("priority") == "P1" for r in failing))
