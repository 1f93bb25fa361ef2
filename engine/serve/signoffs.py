"""A run's go-live sign-offs for its dashboard page: each recorded sign-off checked as
``golive signoff status`` checks it (statement signature, key validity, binding to the run as
recorded now) and the state the plan's policy gives (:mod:`golive.ledger.signoff`).

Looked up only when the run has a sign-off entry or its results document carries a sign-off
policy: the check reads the run's document and the store's sign-off entries.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from sqlalchemy import text

from golive.ledger.chain import LedgerError
from golive.ledger.store import payload_bytes


def run_signoffs(store, run_id: str, doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``golive.ledger.signoff.evaluate``'s state (signatures, required, satisfied, missing,
    no_go, reason), or ``{"problem": ...}`` when the run cannot be checked; None when the run
    has neither sign-offs nor a sign-off policy."""
    from golive.ledger import signoff

    policy = (((doc or {}).get("summary") or {}).get("verdict") or {}).get("policy") or {}
    if not policy.get("signoff") and not _has_signoffs(store, run_id):
        return None
    try:
        _, state = signoff.status(store, run_id)
    except LedgerError as exc:
        return {"problem": str(exc), "signatures": []}
    return state


def _has_signoffs(store, run_id: str) -> bool:
    with store.read() as conn:
        for (payload,) in conn.execute(text("SELECT payload FROM ledger_entries WHERE kind = 'signoff'")):
            try:
                if json.loads(payload_bytes(payload)).get("run_id") == run_id:
                    return True
            except ValueError:
                continue  # verify reports a damaged payload
    return False
