"""One requirement in one run, as ``golive evidence show RUN REQ`` prints it: the status the run
recorded beside the effective one (``waived`` when a waiver held for the run, ``attested`` when a
signed attestation verified a manual requirement), the whole reason, the artifacts (path, digest,
size, stored copy), and the waiver and attestations with their memos and attached files (each
with its digest). Read from the ledger entries themselves, never from the index tables.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from golive.ledger.show import _run_end, authored_entries, in_scope, result_entries, run_targets, waived_in_run
from golive.ledger.store import Store


def effective_status(body: Mapping[str, Any], waived: bool) -> str:
    """The status reports show for a recorded result: ``waived`` over a waivable recorded status
    (the caller decides, :func:`golive.ledger.show.waived_in_run`), ``attested`` for a pass a
    signed attestation gave, else the recorded status."""
    if waived:
        return "waived"
    status = str(body.get("status", "?"))
    if status == "pass" and (body.get("checker") == "attestation" or (body.get("details") or {}).get("attestation")):
        return "attested"
    return status


def files_of(items: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Artifacts or attached files as recorded (``blobs`` of an entry): path, sha256 of the file,
    size, the stored copy's digest (None: digest only, ``note`` says why) and whether secrets were
    masked in the copy."""
    files = []
    for item in items or ():
        if not isinstance(item, Mapping):
            continue
        files.append({"path": str(item.get("path", "")), "sha256": str(item.get("sha256", "")),
                      "size": item.get("size"), "stored": item.get("blob"), "redacted": bool(item.get("redacted")),
                      "role": str(item.get("role") or ""), "note": str(item.get("note") or "")})
    return files


def _artifacts(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The result's artifacts with what the recorder kept of each (``blobs``, carrying the size);
    an artifact the recorder did not copy is listed from ``artifacts`` by digest."""
    stored = files_of(body.get("blobs"))
    known = {(f["path"], f["sha256"]) for f in stored}
    extra = [a for a in body.get("artifacts") or () if isinstance(a, Mapping)
             and (str(a.get("path", "")), str(a.get("sha256", ""))) not in known]
    return stored + files_of({**a, "note": a.get("note") or "not copied into the store; digest only"} for a in extra)


def _authored_view(entry: Mapping[str, Any], kind: str) -> dict[str, Any]:
    view = {"seq": entry["seq"], "kind": kind, "time": str(entry.get("time") or ""),
            "key_id": str(entry.get("author_key_id") or ""), "expires": entry.get("expires"),
            "files": files_of(entry.get("blobs"))}
    if kind == "waiver":
        view.update(approver=str(entry.get("approver") or ""), memo=str(entry.get("justification") or ""))
    else:
        view.update(attested_by=str(entry.get("attested_by") or ""), role=str(entry.get("role") or ""),
                    memo=str(entry.get("statement") or ""), supporting=bool(entry.get("supporting")))
    if entry.get("memo") and entry.get("memo") != view["memo"]:
        view["note"] = str(entry["memo"])  # a separate memo, if the entry carries one
    if entry.get("revoked"):
        view["revoked"] = dict(entry["revoked"])
    return view


def requirement_in_run(store: Store, what: str, requirement_id: str) -> dict[str, Any] | None:
    """The detail view of ``requirement_id`` in the run ``what`` names (id or unique prefix); None
    when the run or the requirement's result is not in the store."""
    entries = result_entries(store, what)
    if entries is None:
        return None
    run_id = entries[0]
    found = [(seq, body) for seq, body in entries[1] if str(body.get("requirement_id")) in (requirement_id,
                                                                                          requirement_id.upper())]
    if not found:
        return None
    seq, body = found[-1]
    req_id = str(body["requirement_id"])
    waiver = waived_in_run(store, run_id).get(req_id)
    waived = waiver is not None and body.get("status") in ("fail", "partial", "missing", "error")
    end = _run_end(store, run_id)
    seq_end = end[0] if end else seq
    detail = {"run_id": run_id, "seq": seq, "requirement_id": req_id, "status": body.get("status", "?"),
              "effective": effective_status(body, waived), "reason": str(body.get("reason") or ""),
              "checker": body.get("checker"), "metrics": body.get("metrics") or {},
              "thresholds": [dict(t) for t in body.get("thresholds") or () if isinstance(t, Mapping)],
              **run_targets(store, [run_id]).get(run_id, {}),
              "artifacts": _artifacts(body), "waiver": None, "attestations": []}
    if waived:
        entry = next((w for w in authored_entries(store, "waiver") if w["seq"] == waiver["seq"]), None)
        detail["waiver"] = _authored_view(entry, "waiver") if entry else dict(waiver)
        detail["waiver"]["co_approvers"] = list(waiver.get("co_approvers") or [])  # as the run counted them
    used = ((body.get("details") or {}).get("attestation") or {}).get("seq")
    scoped = in_scope(store, run_id, "attestations")  # None: a run from before attestations were bound
    for a in authored_entries(store, "attestation", in_force_at=seq_end):
        if scoped is not None and a["seq"] not in scoped:
            continue  # another target's, or set aside by the run
        if str(a.get("requirement_id")) == req_id and a["seq"] < seq_end:
            view = _authored_view(a, "attestation")
            view["verified_this_run"] = a["seq"] == used
            detail["attestations"].append(view)
    return detail
