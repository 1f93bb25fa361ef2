"""The ``oscal`` report format: a run as an OSCAL assessment-results document (JSON).

GRC tools import OSCAL (NIST's Open Security Controls Assessment Language), so a run's
verdicts can travel as one standard document. The mapping:

* ``metadata``: plan title and version; ``props`` in golive's namespace carry the run id, the
  plan digest, the ledger head (size, head hash, key id, checkpoint signature) and the sha256 of
  the results document the report was rendered from;
* one ``result`` per run (start/end = the run's), ``reviewed-controls`` naming every
  requirement id as a control, ``local-definitions`` declaring golive (the tool) and the target
  workspace (the system under assessment);
* one ``observation`` per requirement: how it was judged (``TEST`` for checks and linked tests,
  ``EXAMINE`` for attested manual requirements), metrics and thresholds, and
  ``relevant-evidence`` pointing at the evidence digests (back-matter resources with SHA-256
  hashes: each artifact, the results document, the ledger checkpoint, and each file attached to
  the requirement's waiver or attestations, titled with its signer and memo);
* one ``finding`` per requirement targeting ``<id>`` as an ``objective-id``: ``status`` is the
  verification verdict (satisfied only on pass), ``implementation-status`` the coverage
  (implemented / planned / not-applicable), the golive status and priority as props.

UUIDs are version-5 UUIDs derived from the run id, so rendering the same run twice gives the
same bytes. golive does not depend on compliance-trestle; its test suite validates this output
against trestle's OSCAL models.
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Iterable, Mapping

from golive.report.model import RenderModel, RequirementRow

OSCAL_VERSION = "1.1.2"
GOLIVE_NS = "urn:golive:oscal"  # custom props must not use NIST's namespace
_UUID_NAMESPACE = uuid.UUID("6f0f2c1e-7a4b-5d8e-9c3a-2b1d0e4f5a6c")

# golive status -> (objective state, reason); only a pass satisfies the objective. A waiver
# accepts the gap, it does not close it, so it stays not-satisfied with reason "other".
_OBJECTIVE = {
    "pass": ("satisfied", "pass"),
    "fail": ("not-satisfied", "fail"),
    "partial": ("not-satisfied", "fail"),
    "missing": ("not-satisfied", "fail"),
    "error": ("not-satisfied", "other"),
    "skipped": ("not-satisfied", "other"),
    "waived": ("not-satisfied", "other"),
}


def write_oscal(model: RenderModel, out_path: Path) -> Path:
    """Write ``model`` as OSCAL assessment-results JSON to ``out_path``."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    document = assessment_results(model)
    out_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out_path


def assessment_results(model: RenderModel) -> dict[str, Any]:
    """The OSCAL document as a plain dict (``{"assessment-results": {...}}``)."""
    doc = model.document
    run = doc["run"]
    ids = _Ids(str(run.get("id") or model.evidence.results_sha256))
    start = _timestamp(run.get("started") or model.generated)
    end = _timestamp(run.get("finished") or run.get("started") or model.generated)
    tool_uuid, system_uuid = ids.make("component", "golive"), ids.make("component", "target")

    resources = _Resources(ids)
    document_resource = resources.add(
        "results document", f"golive results document of run {run.get('id', '')}",
        f"golive-{str(run.get('id', 'run'))[:8]}.json", model.evidence.results_sha256, "application/json")
    ledger_resource = _ledger_resource(resources, run.get("ledger"), run.get("id"))

    observations, findings = [], []
    results_by_id = {r["requirement_id"]: r for r in doc["results"]}
    for row in model.requirements:
        result = results_by_id.get(row.id, {})
        observation = _observation(row, result, ids, resources, tool_uuid, system_uuid, end,
                                   [document_resource] + ([ledger_resource] if ledger_resource else [])
                                   + _attached_resources(model, row, resources))
        observations.append(observation)
        findings.append(_finding(row, result, ids, observation["uuid"]))

    summary = doc.get("summary") or {}
    f = model.figures
    result_props = _props([
        ("readiness", model.verdict.state),
        *((f"readiness-reason-{i}", reason) for i, reason in enumerate(model.verdict.reasons, start=1)),
        *((f"figure-{name}", count) for name, count, _ in f.items()),
        ("scope", model.scope.text),
        ("signature", model.signature.text),
        *((f"provenance-{_token(label.lower())}", value) for label, value in model.provenance.rows),
        *((f"loosened-{x.requirement_id}", f"{x.before} -> {x.after}") for x in model.loosened),
        ("coverage-rate", f"{model.metrics.compliance_rate:.4f}"),
        ("verification-rate", f"{model.metrics.verification_rate:.4f}"),
        ("requirements", model.metrics.requirements),
        ("implemented", model.metrics.implemented),
        ("verified", model.metrics.verified),
        *((f"status-{status}", count) for status, count in model.metrics.by_status),
    ])
    return {"assessment-results": {
        "uuid": ids.make("assessment-results", ""),
        "metadata": _metadata(model, run, end),
        "import-ap": {
            "href": f"urn:golive:plan:{_token(model.evidence.plan_id or 'plan')}:{model.evidence.plan_version or '0'}",
            "remarks": ("golive's assessment plan is its YAML requirements plan, not an OSCAL "
                        f"assessment-plan; its digest is {model.evidence.plan_digest or 'unknown'}."),
        },
        "results": [{
            "uuid": ids.make("result", ""),
            "title": _line(f"golive run {run.get('id', '')} of {model.plan_title}"),
            "description": (f"Readiness: {model.verdict.sentence}. Scope: {model.scope.text}, checked against "
                            f"{run.get('target', 'the target workspace')}: {f.headline}. Signature: "
                            f"{model.signature.text}."),
            "start": start,
            "end": end,
            "props": result_props,
            "local-definitions": {"components": [
                _component(tool_uuid, "software", f"golive {run.get('golive_version', '')}".strip(),
                           "The requirements-as-code engine that ran the checks and signed the evidence."),
                _component(system_uuid, "this-system", str(run.get("target") or "target workspace"),
                           "The trading workspace under assessment (code, data, records, logs, configuration, tests)."),
            ]},
            "reviewed-controls": {
                "description": "Every requirement of the go-live plan selected for this run.",
                "control-selections": [{"include-controls": [
                    {"control-id": _token(row.id)} for row in model.requirements]}],
            },
            "observations": observations,
            "findings": findings,
            **({"remarks": f"by status: {json.dumps(summary.get('by_status', {}), sort_keys=True)}"}
               if summary.get("by_status") else {}),
        }],
        "back-matter": {"resources": resources.items},
    }}


# --- parts -------------------------------------------------------------------------------

def _metadata(model: RenderModel, run: Mapping[str, Any], end: str) -> dict[str, Any]:
    ledger = run.get("ledger") or {}
    props = _props([
        ("run-id", run.get("id")),
        ("plan-id", model.evidence.plan_id),
        ("plan-digest", model.evidence.plan_digest),
        ("tailoring-digest", model.evidence.tailoring_digest),
        ("results-sha256", model.evidence.results_sha256),
        ("ledger-size", ledger.get("size")),
        ("ledger-head", ledger.get("head")),
        ("ledger-key-id", ledger.get("key_id")),
        ("ledger-checkpoint-signature", ledger.get("checkpoint_signature")),
    ])
    return {"title": _line(f"{model.plan_title}: assessment results"), "last-modified": end,
            "version": str(model.evidence.plan_version or "1"), "oscal-version": OSCAL_VERSION,
            "props": props,
            "remarks": ("Verify the ledger head with `golive evidence verify --checkpoint <results.json>`; "
                        "golive's statuses are in the golive-status props of each finding.")}


def _observation(row: RequirementRow, result: Mapping[str, Any], ids: "_Ids", resources: "_Resources",
                 tool_uuid: str, system_uuid: str, collected: str, run_evidence: list[str]) -> dict[str, Any]:
    evidence = []
    for path, digest in row.artifacts:
        if not digest:
            continue
        ref = resources.add("artifact", path, path, digest, None)
        evidence.append({"href": f"#{ref}", "description": f"{path} (sha256 {digest})"})
    for test in row.covered_by:
        evidence.append({"description": f"covering test {test}"})
    for ref in run_evidence:
        evidence.append({"href": f"#{ref}", "description": resources.titles[ref]})
    metrics = _props([(f"metric-{_token(name)}", value) for name, value in row.metrics])
    lines = [f"{t.metric}: observed {t.observed}, expected {t.expected} -> "
             f"{'met' if t.passed else 'not met' if t.passed is False else 'not evaluated'}" for t in row.thresholds]
    description = row.reason or row.statement or row.title
    observation = {
        "uuid": ids.make("observation", row.id),
        "title": _line(f"{row.id} {row.title}"),
        "description": description if description.strip() else row.id,
        "methods": ["EXAMINE"] if result.get("manual") else ["TEST"],
        "types": ["finding"],
        "origins": [{"actors": [{"type": "tool", "actor-uuid": tool_uuid}]}],
        "subjects": [{"subject-uuid": system_uuid, "type": "component"}],
        "relevant-evidence": evidence or None,
        "collected": collected,
        "props": metrics or None,
        "remarks": "\n".join(lines) or None,
    }
    return {k: v for k, v in observation.items() if v is not None}


def _attached_resources(model: RenderModel, row: RequirementRow, resources: "_Resources") -> list[str]:
    """Back-matter resources (with SHA-256 hashes) for the files attached to the requirement's
    waiver and attestations, titled with who signed and their memo."""
    owners = [(f"waiver by {row.waiver.approved_by} ({row.waiver.reason})", row.waiver.files)] if row.waiver else []
    owners += [(f"{'supporting ' if a.supporting else ''}attestation by {a.attested_by} ({a.statement})", a.files)
               for a in model.attestations if a.requirement_id == row.id]
    return [resources.add("attached file", f"{owner}: {f['path']} (sha256 {f['sha256']})", f["path"],
                          f["sha256"], None) for owner, files in owners for f in files]


def _finding(row: RequirementRow, result: Mapping[str, Any], ids: "_Ids", observation_uuid: str) -> dict[str, Any]:
    state, reason = _OBJECTIVE.get(row.status, ("not-satisfied", "other"))
    if result.get("not_applicable"):
        implementation = "not-applicable"
    else:
        implementation = "implemented" if row.implemented else "planned"
    status_remarks = row.reason or f"golive status {row.status}"
    if row.waiver is not None:
        status_remarks = (f"waived by {row.waiver.approved_by} until {row.waiver.expires}: {row.waiver.reason} "
                          f"(recorded status {row.recorded_status})")
    target = {
        "type": "objective-id",
        "target-id": _token(row.id),
        "title": _line(row.title or row.id),
        "status": {"state": state, "reason": reason, "remarks": status_remarks},
        "implementation-status": {"state": implementation},
    }
    return {
        "uuid": ids.make("finding", row.id),
        "title": _line(f"{row.id}: {row.status}"),
        "description": row.statement or row.title or row.id,
        "props": _props([("golive-status", row.status), ("recorded-status", row.recorded_status),
                         ("priority", row.priority), ("category", row.category),
                         ("phase", row.phase), ("section", row.section), ("check", row.check)]),
        "target": target,
        "related-observations": [{"observation-uuid": observation_uuid}],
    }


def _component(component_uuid: str, kind: str, title: str, description: str) -> dict[str, Any]:
    return {"uuid": component_uuid, "type": kind, "title": _line(title), "description": description,
            "status": {"state": "operational"}}


def _ledger_resource(resources: "_Resources", ledger: Mapping[str, Any] | None, run_id: Any) -> str | None:
    if not ledger or not ledger.get("head"):
        return None
    head = str(ledger["head"])
    digest = head.split(":", 1)[1] if head.startswith("sha256:") else head
    return resources.add(
        "ledger checkpoint",
        f"golive evidence ledger checkpoint of run {run_id}: size {ledger.get('size')}, head {head}, "
        f"key {ledger.get('key_id')}",
        f"urn:golive:ledger:{ledger.get('size')}:{digest}", digest, None,
        props=[("ledger-size", ledger.get("size")), ("ledger-key-id", ledger.get("key_id")),
               ("ledger-checkpoint-signature", ledger.get("checkpoint_signature"))])


class _Ids:
    """Deterministic UUIDs (v5) scoped to one run."""

    def __init__(self, run_id: str):
        self.run_id = run_id

    def make(self, kind: str, key: str) -> str:
        return str(uuid.uuid5(_UUID_NAMESPACE, f"{self.run_id}/{kind}/{key}"))


class _Resources:
    """Back-matter resources, one per distinct digest + location, in first-use order."""

    def __init__(self, ids: _Ids):
        self.ids = ids
        self.items: list[dict[str, Any]] = []
        self.titles: dict[str, str] = {}
        self._seen: dict[tuple[str, str], str] = {}

    def add(self, kind: str, title: str, href: str, sha256: str, media_type: str | None,
            props: Iterable[tuple[str, Any]] = ()) -> str:
        key = (href, sha256)
        if key in self._seen:
            return self._seen[key]
        ref = self.ids.make(f"resource/{kind}", f"{href}@{sha256}")
        rlink: dict[str, Any] = {"href": href}
        if media_type:
            rlink["media-type"] = media_type
        if _is_sha256(sha256):
            rlink["hashes"] = [{"algorithm": "SHA-256", "value": sha256.lower()}]
        resource = {"uuid": ref, "title": _line(title), "props": _props([("evidence-kind", kind), *props]),
                    "rlinks": [rlink]}
        self.items.append(resource)
        self.titles[ref] = _line(title)
        self._seen[key] = ref
        return ref


# --- small helpers -----------------------------------------------------------------------

def _props(pairs: Iterable[tuple[str, Any]]) -> list[dict[str, str]]:
    """golive-namespaced props; empty values are left out (OSCAL forbids blank values)."""
    found = []
    for name, value in pairs:
        text = "" if value is None else str(value).strip()
        if text:
            found.append({"name": _token(name), "ns": GOLIVE_NS, "value": text})
    return found


def _token(text: str) -> str:
    """An OSCAL token: starts with a letter or underscore, then letters, digits, ``.-_``."""
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in str(text))
    return cleaned if cleaned and (cleaned[0].isalpha() or cleaned[0] == "_") else f"_{cleaned}"


def _line(text: str) -> str:
    """OSCAL titles are one non-empty line."""
    flat = " ".join(str(text).split())
    return flat or "untitled"


def _timestamp(value: Any) -> str:
    """OSCAL date-times must carry a time zone: naive times are the engine's UTC."""
    from datetime import datetime, timezone

    text = str(value or "").strip()
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"run time {text!r} is not an ISO 8601 date-time; cannot write OSCAL") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.isoformat()


def _is_sha256(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)
