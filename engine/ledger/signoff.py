"""Go-live sign-off: a person's signed go / no-go decision on one recorded run.

A ``signoff`` ledger entry (run id ``-``, like waivers) holds a *statement* and the person's
Ed25519 signature over its canonical bytes, so the decision can be verified offline from the
statement and the public key alone (``golive signoff export``), besides the ledger entry's own
author signature. The statement binds:

- ``run_id``; ``plan``: id, version and digest of the plan the run used;
- ``target``: the run's target path, its identity (``system:``/``git:``/``path:``, see
  golive.run.provenance.target_identity) and the git commit recorded in the run's provenance;
- ``results``: ``sha256`` of the run's results document as stored under ``<store>/runs/`` (the
  file ``golive report RUN`` renders) and the run's ``checkpoint`` entry (seq and entry hash:
  the signed ledger head over every result of the run);
- ``decision`` (go | no-go), ``note``, ``signer`` (name, role, key id) and ``time``.

Canonical bytes: ``json.dumps(statement, sort_keys=True, separators=(",", ":"),
ensure_ascii=False).encode("utf-8")``.

The plan's ``signoff`` policy (``roles``: a list with an optional ``quorum``, or a count per
role) decides when a run is signed off (:func:`evaluate`). Separation of duties: the person who
ran the checks (the run's provenance user, matched to a person's name or login) or approved a
waiver applied in that run counts only beside at least one independent go.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from golive.ledger.chain import LedgerError
from golive.ledger.keyring import append_authored, recorded_keys, utc_now
from golive.ledger.keys import Signer, b64, unb64, verify_signature
from golive.ledger.secrets import redact
from golive.ledger.store import Store, payload_bytes

STATEMENT_TYPE = "golive.signoff/v1"
DECISIONS = ("go", "no-go")


def canonical(statement: dict[str, Any]) -> bytes:
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass
class RunFacts:
    """What a sign-off binds to, read from the store for one run."""

    run_id: str
    doc: dict[str, Any]
    results_file: Path
    results_sha256: str
    checkpoint: dict[str, Any]
    policy: dict[str, Any]
    runner: str
    waiver_approvers: list[str] = field(default_factory=list)

    @property
    def plan(self) -> dict[str, Any]:
        plan = self.doc["run"].get("plan") or {}
        return {k: plan.get(k) for k in ("id", "version", "digest")}

    @property
    def target(self) -> dict[str, Any]:
        run = self.doc["run"]
        prov = run.get("provenance") or {}
        identity = run.get("target_identity") or prov.get("target_identity")
        if not identity and run.get("target") and Path(run["target"]).is_dir():
            from golive.run.provenance import target_identity

            identity = target_identity(run["target"])
        return {"path": run.get("target"), "identity": identity or f"path:{run.get('target')}",
                "commit": (prov.get("git") or {}).get("commit")}

    def binding(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "plan": self.plan, "target": self.target,
                "results": {"sha256": self.results_sha256, "checkpoint": self.checkpoint}}


def run_facts(store: Store, run_prefix: str) -> RunFacts:
    """The recorded run ``run_prefix`` names (its results document under ``<store>/runs/`` and
    its checkpoint entry); raises LedgerError naming what is missing."""
    folder = store.path / "runs"
    matches = sorted(p for p in folder.glob("*.json") if p.stem.split("_", 1)[-1].startswith(run_prefix)) \
        if folder.is_dir() else []
    if len(matches) != 1:
        raise LedgerError(f"run {run_prefix!r} names {len(matches)} recorded runs in {folder}; "
                          "`golive history` lists them (give more characters of the id)")
    data = matches[0].read_bytes()
    doc = json.loads(data)
    run_id = str(doc["run"]["id"])
    with store.read() as conn:
        row = conn.execute(text("SELECT seq, entry_hash FROM ledger_entries WHERE run_id = :r AND kind = "
                                "'checkpoint' ORDER BY seq LIMIT 1"), {"r": run_id}).first()
    if row is None:
        raise LedgerError(f"run {run_id} has no checkpoint entry in the ledger at {store.path}: only a recorded, "
                          "finished run can be signed off")
    verdict = (doc.get("summary") or {}).get("verdict") or {}
    approvers = {str(w.get("approver")) for w in doc.get("waivers") or [] if w.get("approver")
                 and w.get("state", "applied") == "applied"}
    approvers |= {str(r["waiver"]["approver"]) for r in doc.get("results") or []
                  if r.get("status") == "waived" and (r.get("waiver") or {}).get("approver")}
    from golive.ledger.waiver_policy import co_approver_names
    approvers |= co_approver_names(store, run_id)  # a P1 waiver's second approver approved it too
    return RunFacts(run_id=run_id, doc=doc, results_file=matches[0], results_sha256=hashlib.sha256(data).hexdigest(),
                    checkpoint={"seq": row[0], "entry_hash": row[1]},
                    policy=dict((verdict.get("policy") or {}).get("signoff") or {}),
                    runner=str((doc["run"].get("provenance") or {}).get("user") or ""),
                    waiver_approvers=sorted(approvers))


def conflicts(facts: RunFacts, person: dict[str, Any]) -> list[str]:
    """Why ``person`` (recorded key info) is not independent of the run, if they are not."""
    names = {str(person.get("name", "")).casefold(), str(person.get("login", "")).casefold()} - {""}
    why = []
    if facts.runner and facts.runner.casefold() in names:
        why.append(f"ran the checks of run {facts.run_id[:8]} (user {facts.runner})")
    if any(a.casefold() in names for a in facts.waiver_approvers):
        why.append(f"approved a waiver applied in run {facts.run_id[:8]}")
    return why


def sign(store: Store, facts: RunFacts, person: Signer, decision: str, note: str):
    """Append a ``signoff`` entry by ``person`` (registered, active: checked by the caller);
    returns the appended entry."""
    if decision not in DECISIONS:
        raise LedgerError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    info = recorded_keys(store)[person.key_id]
    statement = redact({"type": STATEMENT_TYPE, **facts.binding(), "decision": decision, "note": note,
                        "signer": {"name": info.get("name", ""), "role": info.get("person_role", ""),
                                   "key_id": person.key_id},
                        "time": utc_now()})
    payload = {"run_id": facts.run_id, "decision": decision, "statement": statement,
               "statement_signature": b64(person.sign(canonical(statement)))}
    if redact(payload) != payload:  # the signature is over the statement as recorded
        raise LedgerError("the sign-off note looks like it holds a credential; leave secrets out of it")
    return append_authored(store, "signoff", payload, person)


@dataclass
class Signature:
    """One sign-off entry of a run as read back, with its verification."""

    seq: int
    name: str
    role: str
    key_id: str
    decision: str
    note: str
    time: str
    verified: bool
    problem: str = ""
    conflicted: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "name": self.name, "role": self.role, "key_id": self.key_id,
                "decision": self.decision, "note": self.note, "time": self.time, "verified": self.verified,
                "problem": self.problem, "conflicted": self.conflicted}


def signatures(store: Store, facts: RunFacts) -> list[Signature]:
    """Every sign-off of the run, each checked: the statement signature verifies with the
    registered key, the key was not revoked before it signed nor past its validity, and the
    statement binds this run as recorded now (plan, target, results document, checkpoint)."""
    keys = recorded_keys(store)
    found = []
    with store.read() as conn:
        rows = conn.execute(text("SELECT seq, payload FROM ledger_entries WHERE kind = 'signoff' ORDER BY seq")).all()
    for seq, raw in rows:
        body = json.loads(payload_bytes(raw))
        if body.get("run_id") != facts.run_id:
            continue
        st = body.get("statement") or {}
        signer = st.get("signer") or {}
        key_id = str(body.get("author_key_id") or signer.get("key_id") or "")
        info = keys.get(key_id, {})
        problem = _problem(seq, st, body, key_id, info, facts)
        found.append(Signature(seq, str(signer.get("name") or info.get("name") or "?"), str(signer.get("role") or ""),
                               key_id, str(st.get("decision") or body.get("decision")), str(st.get("note") or ""),
                               str(st.get("time") or body.get("time") or ""), not problem, problem,
                               conflicts(facts, info) if info else []))
    return found


def _problem(seq: int, st: dict, body: dict, key_id: str, info: dict, facts: RunFacts) -> str:
    if not info:
        return "signed by a key the ledger does not record"
    try:
        ok = verify_signature(unb64(info["public_key"]), unb64(str(body.get("statement_signature", ""))), canonical(st))
    except (ValueError, KeyError):
        ok = False
    if not ok:
        return "statement signature does not verify"
    if signer_key := (st.get("signer") or {}).get("key_id"):
        if signer_key != key_id:
            return "statement names another key than the entry's author"
    if info.get("status") == "revoked" and int(info.get("revoked_seq", 0)) < seq:
        return f"key revoked (entry {info.get('revoked_seq')}) before this sign-off"
    until = info.get("valid_until")
    if until and str(st.get("time", ""))[:10] > until:
        return f"key valid until {until} only"
    bound = facts.binding()
    for part in ("run_id", "plan", "target", "results"):
        if st.get(part) != bound[part]:
            return f"statement's {part} differs from the run as recorded now"
    return ""


def _required(policy: dict[str, Any]) -> tuple[dict[str, int], int]:
    """(count needed per role, how many roles must be met)."""
    roles = policy.get("roles") or []
    if isinstance(roles, dict):
        return {str(k): int(v) for k, v in roles.items()}, len(roles)
    return {str(r): 1 for r in roles}, int(policy.get("quorum") or len(roles))


def evaluate(policy: dict[str, Any], sigs: list[Signature]) -> dict[str, Any]:
    """``{"required", "satisfied", "missing", "no_go", "signatures", "reason"}``: the sign-off
    state of a run under ``policy`` (``required`` None when the plan asks for no sign-off).
    A person's latest verified sign-off counts; a conflicted person's go counts only beside an
    independent go."""
    latest: dict[str, Signature] = {}
    for s in sigs:
        if s.verified:
            latest[s.key_id] = s
    needed, quorum = _required(policy)
    gos = [s for s in latest.values() if s.decision == "go"]
    independent = [s for s in gos if not s.conflicted]
    counted = gos if independent else []
    no_go = [s for s in latest.values() if s.decision == "no-go" and (not needed or s.role in needed)]
    def met_by(signed: list[Signature]) -> list[str]:
        return [role for role, count in needed.items() if len({s.key_id for s in signed if s.role == role}) >= count]

    met = met_by(counted)
    missing = [role for role in needed if role not in met]
    satisfied = bool(needed) and len(met) >= quorum and bool(independent)
    reason = ""
    if needed and not satisfied:
        if len(met_by(gos)) >= quorum:
            names = ", ".join(sorted({s.name for s in gos}))
            reason = (f"awaiting sign-off: an approver independent of the run ({names} ran the checks or "
                      "approved a waiver in it)")
        else:
            short = quorum - len(met)
            reason = f"awaiting sign-off: {', '.join(missing)}" + (
                f" ({short} more of them)" if short < len(missing) else "")
    return {"required": ({"roles": needed, "quorum": quorum} if needed else None), "satisfied": satisfied,
            "missing": [] if satisfied else missing, "reason": reason,
            "no_go": [f"signed NO-GO by {s.name} ({s.role}): {s.note}" for s in no_go],
            "signatures": [s.as_dict() for s in sigs]}


def status(store: Store, run_prefix: str) -> tuple[RunFacts, dict[str, Any]]:
    facts = run_facts(store, run_prefix)
    return facts, evaluate(facts.policy, signatures(store, facts))


def export_statements(store: Store, run_prefix: str) -> dict[str, Any]:
    """The run's signed statements with their signers' public keys, to verify offline."""
    facts = run_facts(store, run_prefix)
    keys = recorded_keys(store)
    out = []
    with store.read() as conn:
        rows = conn.execute(text("SELECT seq, payload, entry_hash FROM ledger_entries WHERE kind = 'signoff' "
                                 "ORDER BY seq")).all()
    for seq, raw, entry_hash in rows:
        body = json.loads(payload_bytes(raw))
        if body.get("run_id") != facts.run_id:
            continue
        key_id = str(body.get("author_key_id", ""))
        info = keys.get(key_id, {})
        out.append({"seq": seq, "entry_hash": entry_hash, "statement": body.get("statement"),
                    "signature": body.get("statement_signature"), "key_id": key_id,
                    "public_key": info.get("public_key"), "signer_name": info.get("name"),
                    "signer_role": info.get("person_role"), "key_status": info.get("status"),
                    "key_valid_until": info.get("valid_until")})
    return {"type": "golive.signoff-export/v1", "run_id": facts.run_id, "binding": facts.binding(),
            "policy": facts.policy, "canonical": "json.dumps(statement, sort_keys=True, separators=(',', ':'), "
                                                "ensure_ascii=False).encode('utf-8'); Ed25519 over those bytes",
            "exported": utc_now(), "statements": out}
