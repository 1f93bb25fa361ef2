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
from itertools import accumulate

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.stream import scan

from . import auditlog


def replay_mismatches(positions, chunks) -> tuple[list[dict], tuple[int, object] | None]:
    """Snapshots the signed fills do not reproduce, and the (row, side) of the first fill whose
    side is neither buy nor sell. ``chunks``: fills frames in time order (the reader refuses
    unsorted fills), so the filled quantity at each snapshot time -- every fill at or before it
    -- is settled once a later fill is seen, holding one chunk at a time."""
    snapshots: dict[str, list] = {}  # symbol -> [(ts ns, qty, row)], the last snapshot of each time
    for symbol in sorted(set(positions["symbol"])):
        snaps = positions[positions["symbol"] == symbol].sort_values("ts", kind="stable")
        last_at = {}
        for ts, qty, row in zip(snaps["ts"], snaps["qty"], snaps[reader.ROW]):
            last_at[ts.value] = (qty, row)
        snapshots[symbol] = [(t, q, r) for t, (q, r) in sorted(last_at.items())]
    filled = {s: [] for s in snapshots}  # symbol -> filled quantity at each snapshot, in order
    running = dict.fromkeys(snapshots, 0)
    bad_side = None
    for fills in chunks:
        if bad_side is None:
            wrong = ~fills["side"].isin(["buy", "sell"])
            if wrong.any():
                bad_side = (int(fills[reader.ROW][wrong].iloc[0]), fills["side"][wrong].iloc[0])
        for symbol, snaps in snapshots.items():
            f = fills[fills["symbol"] == symbol]
            if f.empty:
                continue
            times = f["ts"].dt.as_unit("ns").array.asi8
            cumulative = list(accumulate((q if s == "buy" else -q for q, s in zip(f["qty"], f["side"])),
                                         initial=running[symbol]))
            done = filled[symbol]
            while len(done) < len(snaps) and snaps[len(done)][0] < times[-1]:  # a later fill exists
                done.append(cumulative[bisect.bisect_right(times, snaps[len(done)][0])])
            running[symbol] = cumulative[-1]
    out = []
    for symbol, snaps in snapshots.items():
        done = filled[symbol] + [running[symbol]] * (len(snaps) - len(filled[symbol]))
        opening = None
        for (_, qty, row), at in zip(snaps, done):
            if opening is None:
                opening = qty - at
            expected = opening + at
            if expected != qty:
                out.append({"symbol": symbol, "row": int(row), "recorded": int(qty), "replayed": int(expected)})
    return out, bad_side


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
    fills = scan(ctx, "fills", need=["ts", "symbol", "side", "qty"])  # validated now, streamed below
    mismatches, bad_side = replay_mismatches(positions, fills)
    if bad_side is not None:
        raise reader.RecordsError("records/fills", f"side must be buy or sell, got {bad_side[1]!r}",
                                  column="side", row=bad_side[0])
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
