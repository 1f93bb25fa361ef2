"""Which signed attestations and waivers apply to a run (issue 16.3): they are bound to one
target and one plan, and never apply to another target.

``golive attest`` / ``golive waive --target DIR`` sign a *binding* into the entry's payload
(:func:`binding`): ``target`` (``identity``, see golive.run.provenance.target_identity, and the
path it was computed from), ``plan`` (id, version, digest) and ``requirement_digest`` (sha256 of
what the requirement asks: statement, priority, manual, check and its params, thresholds).

An entry applies to a run (:meth:`RunScope.judge`) when

1. its target identity is the run's -- another target's entry is simply not this run's (a
   shared store holds many targets), so it is not listed;
2. its plan id is the run's;
3. its plan version is the run's, **or** the requirement's digest is unchanged: a new plan
   version that leaves the requirement as it was keeps the entry; a changed requirement needs
   a new attestation or waiver.

An entry without a binding (recorded before golive bound them) applies to no run: the run
lists it as *unbound* with the command that re-issues it. Entries set aside for the run's own
target (unbound, another plan, a changed requirement) become run warnings.

A waiver in scope applies only once it holds the approvers the plan's waiver policy asks for
(:meth:`RunScope.settle_waivers`, golive.ledger.waiver_policy); one still awaiting a co-approval
becomes a run warning. ``golive run`` records what it applied in its ``run-started`` entry
(``authored``: the seqs of the attestations and of the first approvals of the waivers applied,
``waiver_approvals`` the co-approvals they used); ``golive evidence show`` and the ledger-bound reports
(golive.ledger.show.waived_in_run) apply only those.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

#: ``golive attest|waive --target`` also takes an identity as recorded (a system without a checkout)
IDENTITY_PREFIXES = ("system:", "git:", "path:")


def requirement_digest(req: Any) -> str:
    """sha256 of what ``req`` (a plan Requirement) asks, independent of titles and line numbers."""
    check = {"ref": f"{req.check.plugin}.{req.check.name}", "params": dict(req.check.params)} if req.check else None
    asked = {"id": req.id, "statement": req.statement, "priority": req.priority, "manual": bool(req.manual),
             "check": check, "thresholds": [[t.metric, t.op, t.value, t.unit] for t in req.thresholds]}
    return hashlib.sha256(json.dumps(asked, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def identity_of(where: str | Path) -> tuple[str, str]:
    """(identity, path) of ``--target``: a workspace folder (its golive.toml ``system_id``, else
    its git root commit, else its path) or an identity written out (``system:ES-desk``)."""
    from golive.run.provenance import target_identity
    from golive.run.target import load_target

    text = str(where)
    folder = Path(where)
    if not folder.is_dir() and text.startswith(IDENTITY_PREFIXES) and len(text.split(":", 1)[1]) > 0:
        return text, ""
    target = load_target(folder)  # TargetError names what is wrong
    return target_identity(target.root, target.settings), str(target.root)


def binding(identity: str, path: str, plan: Any, req: Any) -> dict[str, Any]:
    """What an attestation or waiver signs besides its own fields."""
    return {"target": {"identity": identity, "path": path},
            "plan": {"id": plan.id, "version": plan.version, "digest": plan.digest},
            "requirement_digest": requirement_digest(req)}


@dataclass
class SetAside:
    """An entry of the run's own target (or with no target) that the run does not apply."""

    kind: str  # attestation | waiver
    seq: int
    requirement_id: str
    why: str

    def message(self) -> str:
        verb = "attest" if self.kind == "attestation" else "waive"
        return (f"{self.kind} entry {self.seq} for {self.requirement_id} not applied: {self.why}; "
                f"re-issue it with `golive {verb} {self.requirement_id} --target DIR ...`")


@dataclass
class RunScope:
    """The run's target identity and plan (untailored), to judge entries against."""

    identity: str
    plan_id: str
    plan_version: str
    digests: Mapping[str, str] = field(default_factory=dict)  # requirement id -> requirement_digest
    priorities: Mapping[str, str] = field(default_factory=dict)  # requirement id -> priority
    waiver_policy: Any = None  # golive.ledger.waiver_policy.WaiverPolicy; None = the defaults

    @classmethod
    def of(cls, identity: str, plan: Any) -> "RunScope":
        from golive.ledger.waiver_policy import WaiverPolicy

        return cls(identity, str(plan.id), str(plan.version), {r.id: requirement_digest(r) for r in plan.requirements},
                   {r.id: r.priority for r in plan.requirements}, WaiverPolicy.of(plan))

    def settle_waivers(self, entries: list[dict[str, Any]], keys: Mapping[str, Any]):  # noqa: ANN201
        """The waivers in scope that hold enough approvers under the plan's waiver policy, the
        co-approval seqs they used, and those still awaiting approvers
        (golive.ledger.waiver_policy.settle)."""
        from golive.ledger.waiver_policy import WaiverPolicy, settle

        return settle(entries, keys, self.waiver_policy or WaiverPolicy(), self.priorities)

    def judge(self, entry: Mapping[str, Any]) -> str | None:
        """None when ``entry`` applies; ``"other-target"`` when it is another target's; else why
        it is set aside for this target."""
        bound = (entry.get("target") or {}).get("identity") if isinstance(entry.get("target"), Mapping) else None
        if not bound:
            return "it is bound to no target (recorded before attestations and waivers were bound)"
        if bound != self.identity:
            return "other-target"
        plan = entry.get("plan") or {}
        if str(plan.get("id")) != self.plan_id:
            return f"it was issued under plan {plan.get('id')}, this run uses plan {self.plan_id}"
        if str(plan.get("version")) == self.plan_version:
            return None
        rid = str(entry.get("requirement_id"))
        if entry.get("requirement_digest") and entry.get("requirement_digest") == self.digests.get(rid):
            return None
        return (f"{rid} changed between plan v{plan.get('version')} (when it was issued) and v{self.plan_version}"
                if rid in self.digests else f"{rid} is not in plan {self.plan_id} v{self.plan_version}")

    def split(self, kind: str, entries: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[SetAside]]:
        """(the entries that apply, those of this target set aside); other targets' are dropped."""
        applies, aside = [], []
        for e in entries:
            why = self.judge(e)
            if why is None:
                applies.append(e)
            elif why != "other-target":
                aside.append(SetAside(kind, int(e.get("seq", 0)), str(e.get("requirement_id")), why))
        return applies, aside
