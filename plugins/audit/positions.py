"""Position change records: every change is audited with its cause, and replaying the fills
reproduces the recorded positions.

Plan lines 191-217: "Position change records" (AUD-02).

(1) Each row of ``records/positions`` (a snapshot written whenever a position changes) must
have a ``position_change`` audit entry of the same symbol and quantity within
``tolerance_s`` seconds, naming its ``cause`` (the fill or order that changed it).
(2) Replay: per symbol, the opening position (the first snapshot minus the fills up to it)
plus the signed fills (buy +, sell -) up to each snapshot time must equal the snapshot's
quantity. Snapshots sharing a timestamp are compared once, at the last of them.
"""
from __future__ import annotations

import bisect

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader

from . import auditlog


def replay_mismatches(positions, fills) -> list[dict]:
    out = []
    for symbol in sorted(set(positions["symbol"])):
        snaps = positions[positions["symbol"] == symbol].sort_values("ts", kind="stable")
        f = fills[fills["symbol"] == symbol].sort_values("ts", kind="stable")
        times = [t.value for t in f["ts"]]
        signed = [q if s == "buy" else -q for q, s in zip(f["qty"], f["side"])]
        cumulative = [0]
        for q in signed:
            cumulative.append(cumulative[-1] + q)
        last_at = {}
        for i, (ts, qty, row) in enumerate(zip(snaps["ts"], snaps["qty"], snaps[reader.ROW])):
            last_at[ts.value] = (qty, row)
        opening = None
        for ts_value, (qty, row) in sorted(last_at.items()):
            filled = cumulative[bisect.bisect_right(times, ts_value)]
            if opening is None:
                opening = qty - filled
            expected = opening + filled
            if expected != qty:
                out.append({"symbol": symbol, "row": int(row), "recorded": int(qty), "replayed": int(expected)})
    return out


@auditlog.records_guarded
def position_records(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    positions = reader.load(ctx, "positions", need=["ts", "symbol", "qty"])
    if positions.empty:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: records/positions has no rows")
    entries = [auditlog.fields(e) | {"_where": e.where} for e in auditlog.load(ctx, ("position_change",))]
    tolerance = float(ctx.params.get("tolerance_s", 1.0))
    index: dict[tuple, list[dict]] = {}
    for e in entries:
        index.setdefault((str(e.get("symbol")), e.get("qty")), []).append(e)
    unaudited, no_cause = [], []
    for ts, symbol, qty, row in zip(positions["ts"], positions["symbol"], positions["qty"], positions[reader.ROW]):
        t = ts.timestamp()
        match = next((e for e in index.get((symbol, qty), []) if e["_ts"] is not None and abs(e["_ts"] - t) <= tolerance), None)
        if match is None:
            unaudited.append({"row": int(row), "symbol": symbol, "qty": int(qty), "ts": ts.isoformat()})
        elif not match.get("cause"):
            no_cause.append({"row": int(row), "audit_entry": match["_where"]})
    fills = reader.load(ctx, "fills", need=["ts", "symbol", "side", "qty"])
    bad_side = fills[~fills["side"].isin(["buy", "sell"])]
    if not bad_side.empty:
        raise reader.RecordsError("records/fills", f"side must be buy or sell, got {bad_side['side'].iloc[0]!r}",
                                  column="side", row=int(bad_side[reader.ROW].iloc[0]))
    mismatches = replay_mismatches(positions, fills)
    n = len(positions)
    return observe(CheckResult(
        metrics={"position_changes": n, "position_changes_unaudited": len(unaudited),
                 "position_audit_completeness": Quantity(round(1 - len(unaudited) / n, 6), "ratio"),
                 "position_changes_without_cause": len(no_cause), "replay_mismatches": len(mismatches)},
        message=f"{n - len(unaudited)}/{n} position changes audited, {len(no_cause)} without cause, "
                f"{len(mismatches)} snapshot(s) not reproduced by replaying the fills",
        details={"unaudited": unaudited[:100], "without_cause": no_cause[:100], "replay_mismatches": mismatches[:100],
                 "rule": f"audit entry position_change with the same symbol and qty within {tolerance:g} s"},
    ), "position changes", positions["ts"])


SCHEMA = {"type": "object",
          "properties": {"audit": {"type": "string"}, "tolerance_s": {"type": "number", "minimum": 0},
                         "files": {"type": "object", "additionalProperties": {"type": "string"}}},
          "additionalProperties": False}
METRICS = ("position_changes", "position_changes_unaudited", "position_audit_completeness",
           "position_changes_without_cause", "replay_mismatches")
