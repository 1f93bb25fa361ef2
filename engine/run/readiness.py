"""The go/no-go verdict and the headline figures of a run (issue 14, "truthful verdicts").

Both are computed from the results document's ``results[]`` entries (after waivers), so the
console, JSON and every report format show the same thing, and a report that applies waivers
again recomputes them with :func:`refresh_summary`.

Figures (``summary.figures``), over the *applicable* requirements of the run (tailored-out ones
are counted apart as ``not_applicable``):

- ``covered``: a confirmed test links to it, or its check (or a signed attestation) produced
  evidence it could judge -- pass, fail or partial. A failing requirement is covered.
- ``verified``: status ``pass``. ``waived``: an unexpired waiver covers a non-passing result;
  shown apart, never counted as verified.
- ``failing``: ``fail`` or ``error``; ``partial``, ``missing``, ``skipped``: those statuses.
  verified + waived + failing + partial + missing + skipped == applicable.

Verdict (``summary.verdict``) against the plan's ``readiness`` policy (default: every P1
verified or validly waived, nothing ``fail``/``error`` in any priority, manual items attested):

- ``NOT READY``: a requirement in ``no_failing`` scope fails or errors, or one in ``verified``
  scope is partial or missing its evidence. Reasons name each requirement.
- ``INCOMPLETE`` (when nothing above applies): the run cannot decide -- a partial selection
  (``--only``), no signed evidence ledger (``--no-evidence``), a ``verified``-scope check that
  was skipped or lacks configuration ("configure X"), or a manual item awaiting attestation.
- ``READY``: none of the above, and, when the plan has a ``signoff`` policy, the run is signed
  off (golive.ledger.signoff): without the required sign-offs a run whose checks all hold is
  ``INCOMPLETE`` ("awaiting sign-off: <roles>"); a NO-GO signed by a required role is
  ``NOT READY``. The sign-off state comes in as ``signoff`` (``signoff.evaluate``'s result):
  a run just finished has none yet.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

READY, NOT_READY, INCOMPLETE = "READY", "NOT READY", "INCOMPLETE"
FAILING = ("fail", "error")
REASON_CHARS = 160  # one line per requirement in every format
SIGN_OFF = "sign-off"  # the reasons' key for the sign-off policy (not a requirement id)


@dataclass(frozen=True)
class Policy:
    """The plan's ``readiness`` block. ``no_failing`` is ``"all"`` or a tuple of priorities."""

    verified: tuple[str, ...] = ("P1",)
    no_failing: str | tuple[str, ...] = "all"
    manual_attested: bool = True
    # the plan's ``signoff`` block ({"roles": ..., "quorum": ...}); None: no sign-off required
    signoff: Mapping[str, Any] | None = None

    @classmethod
    def from_plan(cls, readiness: Mapping[str, Any] | None, signoff: Mapping[str, Any] | None = None) -> "Policy":
        data = dict(readiness or {})
        no_failing = data.get("no_failing", "all")
        return cls(verified=tuple(data.get("verified", ("P1",))),
                   no_failing=no_failing if no_failing == "all" else tuple(no_failing),
                   manual_attested=bool(data.get("manual_attested", True)),
                   signoff=dict(signoff or data.get("signoff") or {}) or None)

    def as_dict(self) -> dict[str, Any]:
        out = {"verified": list(self.verified),
               "no_failing": self.no_failing if self.no_failing == "all" else list(self.no_failing),
               "manual_attested": self.manual_attested}
        if self.signoff:
            out["signoff"] = dict(self.signoff)
        return out

    def must_not_fail(self, priority: str) -> bool:
        return self.no_failing == "all" or priority in self.no_failing

    def describe(self) -> str:
        scope = "any priority" if self.no_failing == "all" else ", ".join(self.no_failing)
        parts = [f"every {'/'.join(self.verified) or 'no'} requirement verified or validly waived",
                 f"nothing fail/error in {scope}"]
        if self.manual_attested:
            parts.append("manual items attested")
        if self.signoff:
            roles = self.signoff.get("roles") or []
            named = ", ".join(f"{r} x{n}" if n > 1 else r for r, n in roles.items()) if isinstance(roles, dict) \
                else ", ".join(roles)
            quorum = self.signoff.get("quorum")
            parts.append(f"signed off by {f'{quorum} of ' if quorum else ''}{named}")
        return "; ".join(parts) + "; full selection and a signed evidence ledger"


def _applicable(results: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in results if not r.get("not_applicable")]


def is_covered(r: Mapping[str, Any]) -> bool:
    return bool(r.get("covered", r.get("implemented")))


def figures(results: list[Mapping[str, Any]], selected: int | None = None) -> dict[str, int | float]:
    """The figures of ``results[]`` entries (see the module docstring); rates over applicable."""
    applicable = _applicable(results)
    n = len(applicable)
    count = {s: sum(1 for r in applicable if r["status"] == s)
             for s in ("pass", "waived", "fail", "error", "partial", "missing", "skipped")}
    covered = sum(1 for r in applicable if is_covered(r))
    return {
        "selected": len(results) if selected is None else selected,
        "applicable": n,
        "not_applicable": len(results) - n,
        "covered": covered,
        "verified": count["pass"],
        "waived": count["waived"],
        "failing": count["fail"] + count["error"],
        "partial": count["partial"],
        "missing": count["missing"],
        "skipped": count["skipped"],
        "coverage_rate": round(covered / n, 4) if n else 0.0,
        "verification_rate": round(count["pass"] / n, 4) if n else 0.0,
    }


def one_line(text: str, limit: int = REASON_CHARS) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def needs_configuration(r: Mapping[str, Any]) -> str:
    """What to configure when a check could not run for lack of configuration, else ``""``:
    the check's ``configure`` field, or a reason that starts with "configure"."""
    if r["status"] not in ("missing", "skipped"):
        return ""
    setting = r.get("configure") or (r.get("details") or {}).get("configure")
    if setting:
        return str(setting)
    reason = str(r.get("reason") or "").strip()
    return reason if reason.lower().startswith("configure") else ""


def _order(results: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Highest priority first (P1, P2, ..., P10), plan order within a priority (``results`` is
    in plan order; the sort is stable)."""
    def rank(r: Mapping[str, Any]) -> tuple[int, str]:
        prio = str(r.get("priority", ""))
        return (int(prio[1:]) if prio[1:].isdigit() else 1_000_000, prio)

    return sorted(results, key=rank)


def outcome_row(o: Any) -> dict[str, Any]:
    """The fields of a results entry this module reads, from a :class:`golive.model.Outcome`."""
    return {"requirement_id": o.requirement.id, "priority": o.requirement.priority,
            "status": o.status.value, "reason": o.reason, "manual": o.requirement.manual,
            "not_applicable": o.not_applicable or None, "covered": o.covered,
            "configure": o.configure}


def verdict(results: list[Mapping[str, Any]], policy: Policy, *, selection: Iterable[str] = (),
            plan_requirements: int | None = None, signed: bool = False,
            signoff: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``{"state", "reasons", "policy", "blocking", "pending"}`` for ``results[]`` entries.

    ``blocking`` / ``pending`` are the requirement ids behind NOT READY / INCOMPLETE."""
    blocking: list[tuple[str, str]] = []
    pending: list[tuple[str, str]] = []
    for r in _order(_applicable(results)):
        rid, status, prio = r["requirement_id"], r["status"], str(r.get("priority", ""))
        why = one_line(r.get("reason", ""))
        label = f"{rid} ({prio})"
        setting = needs_configuration(r)
        if status in FAILING and policy.must_not_fail(prio):
            blocking.append((rid, f"{label} {'fails' if status == 'fail' else 'errors'}: {why}"))
        elif r.get("manual") and status == "missing":
            if policy.manual_attested:
                pending.append((rid, f"{label} awaits a signed attestation (manual requirement)"))
        elif prio in policy.verified and status == "partial":
            blocking.append((rid, f"{label} is partial: {why}"))
        elif prio in policy.verified and setting:
            pending.append((rid, f"{label} could not run: {one_line(setting)}"))
        elif prio in policy.verified and status == "missing":
            blocking.append((rid, f"{label} unverified: {why}"))
        elif prio in policy.verified and status == "skipped":
            pending.append((rid, f"{label} was skipped: {why}"))
    scope: list[str] = []
    selection = list(selection)
    if selection and not (plan_requirements and len(results) >= plan_requirements):  # --only P1,P2,P3 is whole
        of = f" of {plan_requirements}" if plan_requirements else ""
        scope.append(f"partial scope: {len(results)}{of} requirements selected (--only {' '.join(selection)})")
    if not signed:
        scope.append("unsigned: no signed evidence ledger for this run (--no-evidence); "
                     "only a recorded run can be READY")
    if policy.signoff:
        state_of = signoff or {}
        for text in state_of.get("no_go") or []:
            blocking.append((SIGN_OFF, one_line(text)))
        if not state_of.get("satisfied") and not state_of.get("no_go"):
            missing = state_of.get("reason") or "awaiting sign-off: " + ", ".join(_roles(policy.signoff))
            pending.append((SIGN_OFF, missing))
    if blocking:
        state = NOT_READY
        reasons = [text for _, text in blocking] + scope + [text for _, text in pending]
    elif scope or pending:
        state = INCOMPLETE
        reasons = scope + [text for _, text in pending]
    else:
        state = READY
        n = len(_applicable(results))
        waived = [r["requirement_id"] for r in _applicable(results) if r["status"] == "waived"]
        reasons = [f"policy met for {n} requirements: {policy.describe()}"]
        if waived:
            reasons.append(f"{len(waived)} requirement(s) accepted by an unexpired waiver: {', '.join(waived)}")
        if policy.signoff and signoff:
            reasons.append("signed off: " + "; ".join(f"{s['name']} ({s['role']}) {s['decision']}"
                                                      for s in signoff.get("signatures") or [] if s.get("verified")))
    return {"state": state, "reasons": reasons, "policy": policy.as_dict(),
            "blocking": [rid for rid, _ in blocking if rid != SIGN_OFF],
            "pending": [rid for rid, _ in pending if rid != SIGN_OFF]}


def _roles(signoff: Mapping[str, Any]) -> list[str]:
    roles = signoff.get("roles") or []
    return list(roles) if not isinstance(roles, dict) else list(roles.keys())


def refresh_summary(doc: dict[str, Any]) -> dict[str, Any]:
    """Recompute ``summary.figures`` and ``summary.verdict`` of a results document in place from
    its ``results[]`` (call after applying waivers); returns the verdict."""
    summary = doc["summary"]
    old = summary.get("verdict") or {}
    policy = Policy.from_plan(old.get("policy"))
    run = doc.get("run") or {}
    summary["figures"] = figures(doc["results"], summary.get("selected"))
    summary["verdict"] = verdict(doc["results"], policy, selection=run.get("selection") or (),
                                 plan_requirements=(run.get("plan") or {}).get("requirements"),
                                 signed=bool(run.get("ledger")), signoff=doc.get("signoff"))
    return summary["verdict"]
