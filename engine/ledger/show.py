"""Read views of the evidence for ``golive evidence show`` and reports: runs, one run's
results, one requirement's history. Everything shown is read from the ledger entries
themselves (the authoritative payloads), not from the index tables.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from golive.ledger.chain import LedgerError
from golive.ledger.store import Store, payload_bytes
from golive.report.inputs import fmt_value

WAIVABLE = ("fail", "partial", "missing", "error")  # as golive.report.waivers applies them
IN_FORCE_NOW = 2 ** 63 - 1  # ``in_force_at`` for a run starting now: every recorded revocation applies


def target_of(started: dict[str, Any]) -> dict[str, str]:
    """The target a ``run-started`` payload names: the path the run was given, its identity
    (``git:<root commit>``, ``system:<id>`` or the path; what waivers bind to) and ``label``,
    path and identity's short form, so runs of two repositories in one store are told apart."""
    path = str(started.get("target") or "")
    identity = str((started.get("authored") or {}).get("target_identity")
                   or (started.get("provenance") or {}).get("target_identity") or "")
    kind, _, rest = identity.partition(":")
    short = f"{kind}:{rest[:12]}" if kind == "git" and rest else identity
    label = f"{path} ({short})" if short and short != path else path or short or "?"
    return {"target": path, "target_identity": identity, "target_label": label}


def run_targets(store: Store, run_ids: Any) -> dict[str, dict[str, str]]:
    """:func:`target_of` for each of ``run_ids`` (those with a run-started entry)."""
    ids = sorted({str(r) for r in run_ids})
    found: dict[str, dict[str, str]] = {}
    with store.read() as conn:
        for start in range(0, len(ids), 500):  # bound parameters per statement stay few
            chunk = ids[start:start + 500]
            names = ", ".join(f":r{i}" for i in range(len(chunk)))
            for run_id, payload in conn.execute(text(
                    f"SELECT run_id, payload FROM ledger_entries WHERE kind = 'run-started' AND run_id IN ({names})"),
                    {f"r{i}": r for i, r in enumerate(chunk)}):
                found.setdefault(run_id, target_of(json.loads(payload_bytes(payload))))
    return found


def list_runs(store: Store) -> list[dict[str, Any]]:
    with store.read() as conn:
        counts = dict(conn.execute(text(
            "SELECT run_id, count(*) FROM ledger_entries WHERE run_id != '-' GROUP BY run_id")).all())
        rows = conn.execute(text(
            "SELECT seq, run_id, kind, payload FROM ledger_entries "
            "WHERE kind IN ('run-started', 'run-finished', 'checkpoint') ORDER BY seq")).all()
    runs: dict[str, dict[str, Any]] = {}
    for seq, run_id, kind, payload in rows:
        body = json.loads(payload_bytes(payload))
        if kind == "run-started":
            plan = body.get("plan") or {}
            runs[run_id] = {"id": run_id, "started": body.get("started") or "", "status": "incomplete",
                            "plan": f"{plan.get('id', '')} {plan.get('version', '')}".strip(),
                            "entries": counts.get(run_id, 0), "checkpoint": "-", **target_of(body)}
        elif run_id in runs and kind == "run-finished":
            runs[run_id]["status"] = "finished"
        elif run_id in runs and kind == "checkpoint":
            runs[run_id]["checkpoint"] = f"entry {seq}"
    return list(runs.values())


def resolve_run(store: Store, what: str) -> str | None:
    """The run id ``what`` names (a whole id or a unique prefix of at least 4 characters)."""
    with store.read() as conn:
        ids = [r for (r,) in conn.execute(text(
            "SELECT run_id FROM ledger_entries WHERE kind = 'run-started' AND run_id LIKE :p"),
            {"p": what.replace("%", "").replace("_", "\\_") + "%"})] if len(what) >= 4 else []
    ids = [i for i in ids if i.startswith(what)]
    if what in ids:
        return what
    if len(ids) > 1:
        raise LedgerError(f"run prefix {what!r} is ambiguous: {', '.join(i[:12] for i in ids[:5])}...")
    return ids[0] if ids else None


def result_entries(store: Store, what: str) -> tuple[str, list[tuple[int, dict[str, Any]]]] | None:
    """(run id, [(seq, payload)] of its result entries) for the run ``what`` names; None if none."""
    run_id = resolve_run(store, what)
    if run_id is None:
        return None
    with store.read() as conn:
        rows = conn.execute(text("SELECT seq, payload FROM ledger_entries WHERE run_id = :r "
                                 "AND kind = 'result' ORDER BY seq"), {"r": run_id}).all()
    return run_id, [(seq, json.loads(payload_bytes(payload))) for seq, payload in rows]


def run_results(store: Store, what: str) -> tuple[str, list[dict[str, Any]]] | None:
    """One run's results as recorded, each with ``effective``: the status its reports show
    (``waived`` when a signed waiver recorded before the run's end held at that time)."""
    found = result_entries(store, what)
    if found is None:
        return None
    run_id, entries = found
    results = []
    for seq, body in entries:
        results.append({"seq": seq, "requirement_id": body.get("requirement_id", "?"),
                        "status": body.get("status", "?"), "reason": body.get("reason") or "",
                        "checker": body.get("checker"), "artifacts": len(body.get("artifacts") or [])})
    waived = waived_in_run(store, run_id)
    for r in results:
        w = waived.get(r["requirement_id"])
        r["effective"] = "waived" if w and r["status"] in WAIVABLE else r["status"]
        if r["effective"] == "waived":
            r["waiver"] = w
    return run_id, results


def _run_end(store: Store, run_id: str) -> tuple[int, str] | None:
    """(seq, time) of the run's ``run-finished`` entry, or of its last entry if it never finished."""
    with store.read() as conn:
        rows = conn.execute(text("SELECT seq, kind, payload FROM ledger_entries WHERE run_id = :r ORDER BY seq"),
                            {"r": run_id}).all()
    if not rows:
        return None
    started = finished = None
    for seq, kind, payload in rows:
        body = json.loads(payload_bytes(payload))
        if kind == "run-started":
            started = body.get("started") or body.get("time")
        if kind == "run-finished":
            finished = (seq, body.get("finished") or body.get("time") or started or "")
    return finished or (rows[-1][0], started or "")


def in_scope(store: Store, run_id: str, kind: str) -> set[int] | None:
    """The seqs of the ``kind`` ("waivers", "attestations") entries the run found bound to its
    target and plan, as its run-started entry records them (golive.ledger.scope); None for a
    run recorded before golive bound them (every entry was considered then)."""
    with store.read() as conn:
        row = conn.execute(text("SELECT payload FROM ledger_entries WHERE run_id = :r AND kind = 'run-started' "
                                "ORDER BY seq LIMIT 1"), {"r": run_id}).first()
    authored = json.loads(payload_bytes(row[0])).get("authored") if row else None
    return {int(s) for s in authored.get(kind) or ()} if isinstance(authored, dict) else None


def co_approvers(store: Store, run_id: str, entries: list[dict[str, Any]] | None = None) -> dict[int, list[str]]:
    """First-approval seq -> the names of the co-approvers ``run_id`` counted for that waiver
    (its run-started entry's ``authored.waiver_approvals``: one per person, in entry order, as
    golive.ledger.waiver_policy.settle chose them)."""
    used = in_scope(store, run_id, "waiver_approvals") or set()
    named: dict[int, list[str]] = {}
    for w in entries if entries is not None else authored_entries(store, "waiver"):
        if w["seq"] in used and w.get("second_to") is not None:
            named.setdefault(int(w["second_to"]), []).append(str(w.get("approver") or w.get("author_key_id", "")[:16]))
    return named


def waived_in_run(store: Store, run_id: str) -> dict[str, dict[str, Any]]:
    """The waivers in force for ``run_id``, by requirement: bound to its target and plan (as its
    run-started entry records), recorded before the run ended and not expired at its end (the
    rule ``golive run`` applies, :mod:`golive.report.waivers`)."""
    end = _run_end(store, run_id)
    if end is None:
        return {}
    seq_end, when = end
    day = (when or "")[:10]
    scoped = in_scope(store, run_id, "waivers")
    held: dict[str, dict[str, Any]] = {}
    entries = authored_entries(store, "waiver", in_force_at=seq_end)
    seconds = co_approvers(store, run_id, entries)
    for w in entries:
        if scoped is not None and w["seq"] not in scoped:
            continue  # another target's, or set aside by the run
        if w["seq"] < seq_end and str(w.get("expires") or "") >= day:
            held[str(w.get("requirement_id"))] = {"seq": w["seq"], "approver": w.get("approver", ""),
                                                  "co_approvers": seconds.get(w["seq"], []),
                                                  "expires": w.get("expires"), "reason": w.get("justification", "")}
    return held


def requirement_history(store: Store, requirement_id: str) -> list[dict[str, Any]]:
    with store.read() as conn:
        seqs = [s for (s,) in conn.execute(text(
            "SELECT entry_seq FROM results WHERE requirement_id = :q ORDER BY entry_seq"), {"q": requirement_id})]
        rows = conn.execute(text(
            f"SELECT seq, run_id, payload FROM ledger_entries WHERE kind = 'result' AND seq IN "
            f"({','.join(str(int(s)) for s in seqs) or 'NULL'}) ORDER BY seq")).all()
    history = []
    targets = run_targets(store, (run_id for _, run_id, _ in rows))
    for seq, run_id, payload in rows:
        body = json.loads(payload_bytes(payload))
        if body.get("requirement_id") != requirement_id:
            continue  # the index row is stale or forged; the entry is what counts
        metrics = ", ".join(f"{k} = {fmt_value(v)}" for k, v in sorted((body.get("metrics") or {}).items()))
        status = body.get("status", "?")
        waived = status in WAIVABLE and requirement_id in waived_in_run(store, run_id)
        history.append({"seq": seq, "run_id": run_id, "status": status, "effective": "waived" if waived else status,
                        "time": (body.get("environment") or {}).get("time", ""), "metrics": metrics,
                        "checker": body.get("checker"),
                        **targets.get(run_id, {"target": "", "target_identity": "", "target_label": "?"})})
    return history


def authored_entries(store: Store, kind: str, in_force_at: int | None = None) -> list[dict[str, Any]]:
    """Attestations or waivers as recorded: ``{"seq", "run_id", **payload}``, with ``revoked``
    (``{"seq", "reason", "by"}``) when a revocation entry names one. With ``in_force_at``, those
    revoked by an entry before that seq are left out: a revocation counts from its own seq on,
    so earlier runs keep the state they recorded (``IN_FORCE_NOW`` for a run about to start).
    Whether signatures hold is ``verify``'s job; run it before trusting these."""
    with store.read() as conn:
        rows = conn.execute(text("SELECT seq, run_id, payload FROM ledger_entries WHERE kind = :k ORDER BY seq"),
                            {"k": kind}).all()
        revoked = revocations(conn)
    entries = []
    for seq, run_id, payload in rows:
        entry = {"seq": seq, "run_id": run_id, **json.loads(payload_bytes(payload))}
        if seq in revoked:
            entry["revoked"] = revoked[seq]
        if in_force_at is None or seq not in revoked or revoked[seq]["seq"] >= in_force_at:
            entries.append(entry)
    return entries


def revocations(conn) -> dict[int, dict[str, Any]]:  # noqa: ANN001 -- a read connection
    """The first revocation of each revoked entry: ``{revoked seq: {"seq", "reason", "by"}}``."""
    found: dict[int, dict[str, Any]] = {}
    for seq, payload in conn.execute(text("SELECT seq, payload FROM ledger_entries WHERE kind = 'revocation' "
                                          "ORDER BY seq")):
        body = json.loads(payload_bytes(payload))
        target = body.get("revokes")
        if isinstance(target, int) and target not in found:
            found[target] = {"seq": seq, "reason": body.get("reason", ""), "by": body.get("by", "")}
    return found
