"""The plan's waiver policy (issue 16.3): how long a waiver may run per priority, which
registered roles may approve one, and how many distinct approvers each priority needs.

``plan.yaml`` may hold::

    waivers:
      max_days: {P1: 90, P2: 180, P3: 365}
      approver_roles: [head-of-trading, risk, compliance]
      approvers: {P1: 2, P2: 1, P3: 1}

Left out (the whole block or a key), golive's defaults apply: the ``max_days`` above, any
registered person may approve, one approver suffices.

``golive waive`` records the first approval; a co-approval is another ``waiver`` entry whose
payload names the first in ``second_to``. A run applies a waiver (:func:`settle`) only when it
holds enough *distinct* people whose registered role is allowed and whose key was valid when
they signed; otherwise the run warns that the waiver awaits another approver.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

DEFAULT_MAX_DAYS = {"P1": 90, "P2": 180, "P3": 365}


@dataclass(frozen=True)
class WaiverPolicy:
    max_days: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_MAX_DAYS))
    approver_roles: tuple[str, ...] = ()  # empty: any registered person
    approvers: Mapping[str, int] = field(default_factory=dict)  # priority -> distinct approvers (default 1)

    @classmethod
    def of(cls, plan: Any) -> "WaiverPolicy":
        block = dict(getattr(plan, "waivers", None) or {})
        return cls(max_days={**DEFAULT_MAX_DAYS, **(block.get("max_days") or {})},
                   approver_roles=tuple(block.get("approver_roles") or ()),
                   approvers=dict(block.get("approvers") or {}))

    def limit(self, priority: str) -> int:
        """The most days a waiver of a ``priority`` requirement may run (the strictest for an
        unknown priority)."""
        return int(self.max_days.get(priority, min(self.max_days.values())))

    def needed(self, priority: str) -> int:
        return int(self.approvers.get(priority, 1))

    def refusal(self, name: str, role: str) -> str | None:
        """Why ``name`` (registered as ``role``) may not approve a waiver, or None."""
        if not self.approver_roles or role in self.approver_roles:
            return None
        return (f"{name} is registered with role {role or '(none)'!r}; the plan's waiver policy lets only "
                f"{', '.join(self.approver_roles)} approve waivers")


def signed_validly(info: Mapping[str, Any] | None, seq: int, when: str) -> bool:
    """Whether the recorded person key ``info`` was usable when it signed entry ``seq`` at ``when``."""
    if not info or info.get("role") != "person":
        return False
    if info.get("status") == "revoked" and int(info.get("revoked_seq") or 0) < seq:
        return False
    until = str(info.get("valid_until") or "")
    return not until or str(when)[:10] <= until


@dataclass
class Pending:
    """A waiver the run does not apply yet: too few distinct allowed approvers."""

    kind: str
    seq: int
    requirement_id: str
    why: str
    message: str


def settle(entries: Iterable[dict[str, Any]], keys: Mapping[str, Mapping[str, Any]], policy: WaiverPolicy,
           priorities: Mapping[str, str]) -> tuple[list[dict[str, Any]], list[int], list[Pending]]:
    """(the first-approval entries that hold enough approvers, with ``co_approvers``; the seqs of
    the co-approvals they used; the waivers still pending) out of the waiver entries in scope."""
    entries = list(entries)
    seconds: dict[int, list[dict[str, Any]]] = {}
    for e in entries:
        if e.get("second_to") is not None:
            seconds.setdefault(int(e["second_to"]), []).append(e)
    applied, used, pending = [], [], []
    for first in (e for e in entries if e.get("second_to") is None):
        people: dict[str, dict[str, Any]] = {}  # one vote per person, whichever key they used
        refused = []
        for e in [first, *seconds.get(int(first["seq"]), [])]:
            info = keys.get(str(e.get("author_key_id")))
            name = str((info or {}).get("name") or e.get("approver") or e.get("author_key_id", ""))
            if not signed_validly(info, int(e["seq"]), str(e.get("time", ""))):
                refused.append(f"{name}'s key was not valid when they signed entry {e['seq']}")
            elif (why := policy.refusal(name, str(info.get("person_role", "")))) is not None:
                refused.append(why)
            else:
                people.setdefault(name.casefold(), e)
        rid = str(first.get("requirement_id"))
        need = policy.needed(priorities.get(rid, ""))
        if len(people) >= need:
            approvers = [str(e.get("approver", "")) for e in people.values()]
            applied.append({**first, "co_approvers": approvers[1:]})
            used += [int(e["seq"]) for e in people.values() if e is not first]
            continue
        missing = need - len(people)
        what = "a second approver" if missing == 1 and need == 2 else f"{missing} more approver(s) of {need}"
        why = f"awaits {what}" + (f" ({'; '.join(refused)})" if refused else "")
        pending.append(Pending("waiver", int(first["seq"]), rid, why,
                               f"waiver for {rid} {why}: another person co-approves entry {first['seq']} with "
                               f"`golive waive {rid} --target DIR --approver NAME --second-to {first['seq']}`"))
    return applied, used, pending


def co_approver_names(store: Any, run_id: str) -> set[str]:
    """The names of those who co-approved a waiver the run ``run_id`` applied (its run-started
    entry's ``authored.waiver_approvals``): approvers of a waiver in the run, for separation of
    duties at sign-off (golive.ledger.signoff)."""
    from golive.ledger.show import authored_entries, in_scope

    seqs = in_scope(store, run_id, "waiver_approvals") or set()
    return {str(w["approver"]) for w in authored_entries(store, "waiver") if w["seq"] in seqs and w.get("approver")}
