"""Tailoring: per-environment overrides applied on top of the plan (as XCCDF tailoring or
InSpec overlays do), never by editing the plan itself.

A tailoring file::

    tailoring:
      id: staging-eu
      title: Staging environment in Frankfurt
    overrides:
      - requirement: LIVE-REL-07
        reason: staging hardware is slower; production keeps the plan's 100 ms
        thresholds:
          - {metric: latency_p99, op: "<", value: 150, unit: ms}
      - requirement: OPS-04
        not_applicable: no second strategy version runs in staging
      - requirement: PRE-FEED-04
        reason: staging records one instrument only
        params: {instruments: [ESZ6]}
    signoff:                     # optional: who must sign this environment's runs off
      roles: [head-of-trading, risk, compliance]
      reason: the desk's designated approvers (RTS 6 Art. 5)

A threshold override replaces the plan's threshold on the same metric. Every override is recorded
in the run's results with the tailoring file's sha256 digest; an override that loosens a
threshold is flagged ``loosened`` and shown in every report, never silent. A ``signoff`` block
replaces the plan's sign-off policy (same form as the plan's, docs/governance.md, plus a
reason); it is recorded as a change of requirement ``(plan)``.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from golive.digest import bytes_sha256
from golive.model import CheckRef, Plan, Threshold
from golive.plan.thresholds import describe, is_looser, value_problem

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {"slug": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}},  # as plan.schema.json
    "type": "object",
    "additionalProperties": False,
    "required": ["overrides"],
    "properties": {
        "tailoring": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "plan": {"type": "string"}},
        },
        "signoff": {  # the plan schema's signoff block, with the reason every tailoring change gives
            "type": "object",
            "additionalProperties": False,
            "required": ["roles", "reason"],
            "properties": {
                "roles": {"oneOf": [
                    {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"$ref": "#/$defs/slug"}},
                    {"type": "object", "minProperties": 1, "propertyNames": {"$ref": "#/$defs/slug"},
                     "additionalProperties": {"type": "integer", "minimum": 1}}]},
                "quorum": {"type": "integer", "minimum": 1},
                "reason": {"type": "string", "minLength": 1},
            },
        },
        "overrides": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["requirement"],
                "properties": {
                    "requirement": {"type": "string"},
                    "reason": {"type": "string", "minLength": 1},
                    "not_applicable": {"type": "string", "minLength": 1},
                    "params": {"type": "object"},
                    "thresholds": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["metric", "op", "value"],
                            "properties": {
                                "metric": {"type": "string"},
                                "op": {"enum": ["<", "<=", ">", ">=", "==", "between"]},
                                "value": {},
                                "unit": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
    },
}


class TailoringError(ValueError):
    """The tailoring file is unreadable or does not fit the plan."""


@dataclass
class Change:
    requirement: str
    kind: str  # threshold | not_applicable | params | signoff ("(plan)")
    before: str
    after: str
    reason: str
    loosened: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Tailoring:
    path: str
    digest: str
    id: str
    title: str
    overrides: list[dict[str, Any]]
    changes: list[Change] = field(default_factory=list)
    signoff: dict[str, Any] | None = None  # replaces the plan's sign-off policy

    def not_applicable(self, req_id: str) -> str | None:
        for o in self.overrides:
            if o["requirement"] == req_id and o.get("not_applicable"):
                return o["not_applicable"]
        return None

    def loosened(self, req_id: str, metric: str) -> bool:
        return any(c.loosened for c in self.changes
                   if c.requirement == req_id and c.kind == "threshold" and c.after.startswith(metric + " "))

    def apply(self, plan: Plan) -> Plan:
        """A tailored copy of the plan; fills ``changes``. Raises TailoringError naming the file
        and the override when it does not fit the plan."""
        plan = copy.deepcopy(plan)
        by_id = {r.id: r for r in plan.requirements}
        self.changes = []
        for i, o in enumerate(self.overrides):
            where = f"{self.path}: overrides[{i}] ({o['requirement']})"
            req = by_id.get(o["requirement"])
            if req is None:
                raise TailoringError(f"{where}: no such requirement in plan {plan.id}")
            reason = o.get("reason") or o.get("not_applicable") or ""
            if not reason:
                raise TailoringError(f"{where}: give a 'reason' (or 'not_applicable'): overrides are audited")
            if o.get("not_applicable"):
                self.changes.append(Change(req.id, "not_applicable", "applicable", "not applicable", reason))
            if "params" in o:
                if req.check is None:
                    raise TailoringError(f"{where}: params given but {req.id} has no check block")
                before = dict(req.check.params)
                req.check = dataclasses.replace(req.check, params={**before, **o["params"]})
                self.changes.append(Change(req.id, "params", repr(before), repr(dict(req.check.params)), reason))
            for t in o.get("thresholds", []):
                problem = value_problem(t["op"], t["value"], t.get("unit"))
                if problem is not None:
                    raise TailoringError(f"{where}: thresholds: {t['metric']}: {problem}")
                new = Threshold(metric=t["metric"], op=t["op"],
                                value=tuple(t["value"]) if t["op"] == "between" else t["value"], unit=t.get("unit"))
                old = next((x for x in req.thresholds if x.metric == new.metric), None)
                if old is None:
                    raise TailoringError(f"{where}: the plan has no threshold on metric {new.metric!r} "
                                         f"(it has: {', '.join(x.metric for x in req.thresholds) or 'none'})")
                if old.unit != new.unit or old.op != new.op:
                    raise TailoringError(f"{where}: keep the plan's operator and unit for {new.metric} "
                                         f"({old.op} ... {old.unit or 'no unit'})")
                loosened = is_looser(old.op, old.value, new.value)
                req.thresholds = tuple(new if x.metric == new.metric else x for x in req.thresholds)
                self.changes.append(Change(req.id, "threshold", describe(old), describe(new), reason, loosened))
        if self.signoff:
            policy = {k: v for k, v in self.signoff.items() if k != "reason"}
            roles, quorum = policy["roles"], policy.get("quorum")
            if quorum is not None and (isinstance(roles, dict) or quorum > len(roles)):
                raise TailoringError(f"{self.path}: signoff.quorum: give at most the {len(roles)} roles listed, "
                                     "and no quorum with a count per role")
            self.changes.append(Change("(plan)", "signoff", _policy_text(plan.signoff), _policy_text(policy),
                                       self.signoff["reason"]))
            plan.signoff = policy
        return plan

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "file": self.path, "digest": self.digest,
                "changes": [c.as_dict() for c in self.changes]}


def _policy_text(policy: dict[str, Any]) -> str:
    roles = policy.get("roles") or []
    if not roles:
        return "no sign-off"
    if isinstance(roles, dict):
        return "sign-off by " + ", ".join(f"{n} {r}" for r, n in roles.items())
    return f"sign-off by {policy.get('quorum') or len(roles)} of {', '.join(roles)}"


def load_tailoring(path: Path | str) -> Tailoring:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TailoringError(f"{path}: cannot read tailoring file ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TailoringError(f"{path}: not valid YAML ({exc})") from exc
    except RecursionError:
        raise TailoringError(f"{path}: nested too deeply to be a tailoring file") from None
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        field_path = ".".join(str(p) for p in e.path) or "(top level)"
        steps = list(e.path)
        if len(steps) >= 2 and steps[0] == "overrides" and isinstance(data["overrides"][steps[1]], dict):
            named = data["overrides"][steps[1]].get("requirement")
            if isinstance(named, str):
                field_path += f" ({named})"
        message = e.message if len(e.message) <= 200 else e.message[:200] + "..."
        raise TailoringError(f"{path}: {field_path}: {message}")
    meta = data.get("tailoring") or {}
    return Tailoring(path=str(path), digest=bytes_sha256(raw), id=meta.get("id", path.stem),
                     title=meta.get("title", ""), overrides=data["overrides"], signoff=data.get("signoff"))
