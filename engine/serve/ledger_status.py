"""Page data for the ledger status page: size and head, how many entries of each kind, the
newest checkpoints, the key entries (added, rotated, revoked), and the newest entries of the
kinds people act on: revocations and corrections (with the kind of entry they name), sign-offs,
notifications sent and the scheduler's misfires, skips and errors. Read-only, each list bounded
(the newest ``RECENT`` of a kind), so the page costs the same at any ledger size.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from golive.ledger.chain import KINDS
from golive.ledger.store import Store, payload_bytes
from golive.serve import queries

RECENT_CHECKPOINTS = 20
RECENT = 50
SCHEDULE_PROBLEMS = ("misfire", "skip", "error")
COUNTED = tuple(k for k in KINDS if k != "result")  # results are most of the ledger: the size says enough


@dataclass(frozen=True)
class LedgerStatus:
    size: int
    head: str
    kinds: dict[str, int]  # entries per kind (not 'result')
    checkpoints: tuple[dict[str, Any], ...]  # newest first
    keys: tuple[dict[str, Any], ...]  # key entries in ledger order (add, rotate, revoke)
    revocations: tuple[dict[str, Any], ...]  # newest first
    corrections: tuple[dict[str, Any], ...]
    signoffs: tuple[dict[str, Any], ...]
    notifications: tuple[dict[str, Any], ...]
    schedule_problems: tuple[dict[str, Any], ...]  # misfires, skips, errors
    authored: dict[str, int]  # waivers (first approvals), their co-approvals, attestations: how many recorded


def ledger_status(store: Store) -> LedgerStatus:
    size, head = queries.ledger_head(store)
    with store.read() as conn:
        kinds = {k: int(conn.execute(text("SELECT count(*) FROM ledger_entries WHERE kind = :k"), {"k": k}).scalar()
                        or 0) for k in COUNTED}
        checkpoints = _newest(conn, "checkpoint", RECENT_CHECKPOINTS)
        keys = conn.execute(text("SELECT seq, run_id, payload FROM ledger_entries WHERE kind = 'key' ORDER BY seq")).all()
        revocations = _newest(conn, "revocation", RECENT)
        corrections = _newest(conn, "correction", RECENT)
        signoffs = _newest(conn, "signoff", RECENT)
        notifications = _newest(conn, "notification", RECENT)
        # a co-approval (golive waive --second-to) is a waiver entry, not another waiver
        co_approvals = sum(1 for (p,) in conn.execute(text("SELECT payload FROM ledger_entries WHERE kind = 'waiver'"))
                           if _body(p).get("second_to") is not None)
        schedule = [(seq, run_id, body) for seq, run_id, body in _newest(conn, "schedule", RECENT * 4)
                    if body.get("event") in SCHEDULE_PROBLEMS][:RECENT]
    return LedgerStatus(
        size=size, head=head, kinds={k: n for k, n in kinds.items() if n},
        checkpoints=tuple({"seq": seq, "run_id": run_id, **_fields(body, "size", "merkle_root", "key_id", "time")}
                          for seq, run_id, body in checkpoints),
        keys=tuple({"seq": seq, **_fields(_body(p), "action", "role", "person_role", "name",
                                          "key_id", "replaces", "time", "reason")} for seq, _, p in keys),
        revocations=tuple({"seq": seq, "target": _int(body.get("revokes")),
                           **_fields(body, "revokes_kind", "reason", "by", "time")} for seq, _, body in revocations),
        corrections=tuple({"seq": seq, "target": _int(body.get("corrects")),
                           **_fields(body, "corrects_kind", "reason", "by", "time")} for seq, _, body in corrections),
        signoffs=tuple(_signoff(seq, body) for seq, _, body in signoffs),
        notifications=tuple({"seq": seq, "run_id": str(body.get("run_id") or ""),
                             "events": ", ".join(map(str, body.get("events") or ())),
                             "requirements": ", ".join(map(str, body.get("requirements") or ())),
                             **_fields(body, "channel", "outcome", "time")} for seq, _, body in notifications),
        schedule_problems=tuple({"seq": seq, **_fields(body, "event", "job_id", "scheduled_for", "time"),
                                 "detail": str(body.get("reason") or body.get("error") or body.get("message") or "")}
                                for seq, _, body in schedule),
        authored={"waiver": kinds.get("waiver", 0) - co_approvals, "co-approval": co_approvals,
                  "attestation": kinds.get("attestation", 0)})


def _newest(conn, kind: str, limit: int) -> list[tuple[int, str, dict[str, Any]]]:  # noqa: ANN001
    rows = conn.execute(text("SELECT seq, run_id, payload FROM ledger_entries WHERE kind = :k "
                             "ORDER BY seq DESC LIMIT :n"), {"k": kind, "n": limit}).all()
    return [(seq, run_id, _body(payload)) for seq, run_id, payload in rows]


def _body(payload) -> dict[str, Any]:  # noqa: ANN001
    try:
        body = json.loads(payload_bytes(payload))
    except ValueError:
        return {}  # not JSON: `golive evidence verify` reports the entry
    return body if isinstance(body, dict) else {}


def _signoff(seq: int, body: dict[str, Any]) -> dict[str, Any]:
    statement = body.get("statement") if isinstance(body.get("statement"), dict) else {}
    signer = statement.get("signer") if isinstance(statement.get("signer"), dict) else {}
    return {"seq": seq, "run_id": str(body.get("run_id") or ""), "decision": str(body.get("decision") or ""),
            "name": str(signer.get("name") or ""), "role": str(signer.get("role") or ""),
            "note": str(statement.get("note") or ""), "time": str(statement.get("time") or "")}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _fields(body: dict[str, Any], *names: str) -> dict[str, str]:
    return {n: str(body.get(n) if body.get(n) is not None else "") for n in names}
