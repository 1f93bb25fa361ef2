"""The report's sign-off page: who signed the run off, each signature's verification, and what
the plan's ``signoff`` policy still needs. Read from ``doc["signoff"]`` (golive.ledger.signoff's
evaluation, attached by ``golive report RUN`` from the store) and the policy recorded in
``summary.verdict.policy.signoff``; a run just finished has the policy and no signatures yet."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class SignatureRow:
    name: str
    role: str
    decision: str   # GO | NO-GO
    time: str
    verified: str   # "verified" or "NOT verified: why"
    ok: bool
    independent: str  # "yes" or "no: why"
    key_id: str
    entry: int


@dataclass(frozen=True)
class SignoffView:
    required: str           # "2 of head-of-trading, risk, compliance" or "none (the plan asks for no sign-off)"
    source: str             # "the plan" or "the tailoring file (reason)": who set the policy
    state: str              # signed off | awaiting sign-off: ... | NO-GO ... | not read from a ledger
    rows: tuple[SignatureRow, ...]
    read_from_ledger: bool


def _required(policy: Mapping[str, Any] | None) -> str:
    roles = (policy or {}).get("roles") or []
    if not roles:
        return "none (the plan asks for no sign-off)"
    if isinstance(roles, Mapping):
        return ", ".join(f"{n} x {r}" if n > 1 else r for r, n in roles.items())
    quorum = (policy or {}).get("quorum") or len(roles)
    return f"{quorum} of {', '.join(roles)}" if quorum < len(roles) else f"all of {', '.join(roles)}"


def _source(doc: Mapping[str, Any]) -> str:
    """A tailoring's ``signoff`` block replaces the plan's policy; the page says which one applies."""
    for change in (doc.get("tailoring") or {}).get("changes") or ():
        if isinstance(change, Mapping) and change.get("kind") == "signoff":
            reason = str(change.get("reason") or "").strip()
            return f"the tailoring file ({reason})" if reason else "the tailoring file"
    return "the plan"


def signoff_view(doc: Mapping[str, Any]) -> SignoffView:
    policy = (((doc.get("summary") or {}).get("verdict") or {}).get("policy") or {}).get("signoff")
    source = _source(doc)
    state = doc.get("signoff")
    if not isinstance(state, Mapping):
        why = ("awaiting sign-off (`golive signoff RUN`; `golive report RUN` shows the signatures recorded since)"
               if policy else "no sign-off recorded")
        return SignoffView(_required(policy), source, why, (), False)
    rows = tuple(SignatureRow(
        name=str(s.get("name", "")), role=str(s.get("role", "")), decision=str(s.get("decision", "")).upper(),
        time=str(s.get("time", ""))[:19].replace("T", " ") + (" UTC" if s.get("time") else ""),
        verified="verified" if s.get("verified") else f"NOT verified: {s.get('problem', '')}",
        ok=bool(s.get("verified")),
        independent="yes" if not s.get("conflicted") else "no: " + "; ".join(s["conflicted"]),
        key_id=str(s.get("key_id", ""))[:16], entry=int(s.get("seq", 0))) for s in state.get("signatures") or [])
    if state.get("no_go"):
        text = "; ".join(state["no_go"])
    elif state.get("required") is None:
        text = ("the plan asks for no sign-off; the signatures below are on record" if rows
                else "the plan asks for no sign-off; none is recorded")
    elif state.get("satisfied"):
        text = "signed off: the sign-off policy is met"
    else:
        text = str(state.get("reason") or "awaiting sign-off")
    return SignoffView(_required(policy), source, text, rows, True)
