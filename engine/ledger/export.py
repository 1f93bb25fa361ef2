"""Export runs as signed in-toto attestations: DSSE envelopes holding in-toto Statements v1
with the test-result predicate, one JSON line per run (``.intoto.jsonl``).

Per run: subjects are the artifact digests its results recorded (the evidence the checks
read); the predicate lists passed, warned and failed requirement ids; its configuration names
the plan digest and the ledger checkpoint that covers the run. The envelope is signed with the
ledger key over DSSE's PAE, so ``verify_envelope`` needs nothing but the public key.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import text

from golive.ledger.keys import Signer, b64, key_id_of, unb64, verify_signature
from golive.ledger.store import Store, payload_bytes

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
TEST_RESULT = "https://in-toto.io/attestation/test-result/v0.1"
PASSED = {"pass", "waived"}
WARNED = {"partial", "skipped"}


class ExportError(Exception):
    """A run cannot be exported, or an envelope does not verify."""


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE pre-authentication encoding: what the signature actually signs."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def _sha(digest: str | None) -> str | None:
    if not digest:
        return None
    return digest.split(":", 1)[1] if digest.startswith("sha256:") else digest


def run_statement(store: Store, run_id: str) -> dict[str, Any]:
    """The in-toto Statement for one checkpointed run, built from its ledger entries."""
    with store.read() as conn:
        rows = conn.execute(text("SELECT seq, kind, payload, entry_hash FROM ledger_entries "
                                 "WHERE run_id = :r ORDER BY seq"), {"r": run_id}).all()
    if not rows:
        raise ExportError(f"run {run_id} is not in the ledger")
    entries = [(seq, kind, json.loads(payload_bytes(payload)), digest) for seq, kind, payload, digest in rows]
    checkpoint = next((e for e in entries if e[1] == "checkpoint"), None)
    if checkpoint is None:
        raise ExportError(f"run {run_id} has no checkpoint (incomplete run); nothing signed to export")
    started = next((e[2] for e in entries if e[1] == "run-started"), {})
    groups: dict[str, list[str]] = {"passed": [], "warned": [], "failed": []}
    subjects: dict[tuple[str, str], dict[str, Any]] = {}
    for _seq, kind, body, _digest in entries:
        if kind != "result":
            continue
        status = body.get("status")
        group = "passed" if status in PASSED else "warned" if status in WARNED else "failed"
        groups[group].append(body.get("requirement_id"))
        for art in body.get("artifacts", []):
            if art.get("sha256"):
                subjects[(art["path"], art["sha256"])] = {"name": art["path"], "digest": {"sha256": art["sha256"]}}
    seq, _kind, cp_body, cp_hash = checkpoint
    if not subjects:  # in-toto needs a subject: fall back to the run's own entries
        subjects[("run", run_id)] = {"name": f"golive-run/{run_id}",
                                     "digest": {"sha256": cp_body.get("merkle_root", cp_hash)}}
    plan = started.get("plan") or {}
    configuration = [{"name": "golive-ledger-checkpoint", "digest": {"sha256": cp_hash},
                      "annotations": {"size": seq, "key_id": cp_body.get("key_id"),
                                      "merkle_root": cp_body.get("merkle_root")}}]
    if _sha(plan.get("digest")):
        configuration.append({"name": f"plan/{plan.get('id')}@{plan.get('version')}",
                              "digest": {"sha256": _sha(plan.get("digest"))}})
    result = "FAILED" if groups["failed"] else "WARNED" if groups["warned"] else "PASSED"
    return {"_type": STATEMENT_TYPE,
            "subject": sorted(subjects.values(), key=lambda s: (s["name"], s["digest"]["sha256"])),
            "predicateType": TEST_RESULT,
            "predicate": {"result": result, "configuration": configuration,
                          "url": f"golive-run:{run_id}",
                          "passedTests": sorted(groups["passed"]), "warnedTests": sorted(groups["warned"]),
                          "failedTests": sorted(groups["failed"])}}


def envelope(statement: dict[str, Any], signer: Signer) -> dict[str, Any]:
    body = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    return {"payloadType": PAYLOAD_TYPE, "payload": b64(body),
            "signatures": [{"keyid": signer.key_id, "sig": b64(signer.sign(pae(PAYLOAD_TYPE, body)))}]}


def verify_envelope(env: dict[str, Any], public_raw: bytes) -> dict[str, Any]:
    """The Statement inside ``env`` if a signature by ``public_raw`` verifies; else raises."""
    try:
        body = unb64(env["payload"])
        payload_type = env["payloadType"]
        sigs = env["signatures"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ExportError(f"not a DSSE envelope: {exc}") from None
    key_id = key_id_of(public_raw)
    for sig in sigs:
        if sig.get("keyid") not in (key_id, None, ""):
            continue
        try:
            if verify_signature(public_raw, unb64(sig.get("sig", "")), pae(payload_type, body)):
                return json.loads(body)
        except ValueError:
            continue
    raise ExportError(f"no signature by key {key_id[:16]} verifies on this envelope")


def checkpointed_runs(store: Store) -> list[str]:
    with store.read() as conn:
        return [r for (r,) in conn.execute(text(
            "SELECT run_id FROM ledger_entries WHERE kind = 'checkpoint' AND run_id != '-' ORDER BY seq"))]


def export_runs(store: Store, signer: Signer, out: Path, run_ids: Iterable[str] | None = None) -> int:
    """Write one envelope per run to ``out`` (``.intoto.jsonl``); returns how many."""
    ids = list(run_ids) if run_ids else checkpointed_runs(store)
    lines = [json.dumps(envelope(run_statement(store, r), signer), sort_keys=True) for r in ids]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)
