"""Demo regulatory records (issue 18.2): the algorithm inventory, cancels, control rejections and
venue conformance tests that RTS 6 and SEC 15c3-5 ask for, consistent with the demo trades.

``write_regulatory(root, inject=..., seed=...) -> dict`` runs after
``examples.records_fixtures.write_records``: it adds ``algorithm_id``, ``trader_id`` and
``venue`` to ``records/orders.csv`` (each strategy is one inventoried algorithm, the desk's two
traders alternate by day, every order goes to CME Globex, XCME), writes ``algorithms.yaml`` at
the root (two algorithms and the six kinds of pre-trade control, limits set before the first
order), ``records/cancels.csv`` (a venue acknowledgement for every cancelled order, the kill-
switch drill's included), ``records/rejections.csv`` (one rejection per control, each beyond its
limit) and ``records/conformance_tests.csv`` (a failed then a passed XCME test before the first
order). ``inject`` names faults from :data:`FAULTS`; the result says where each one is.
"""
from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import yaml

from examples.records_sim import INSTRUMENTS, iso, write_csv

FAULTS = ("throttle_never_fired", "untraceable_order", "algorithm_not_in_inventory")
ALGORITHMS = {"ifd": "IFD-3.0", "ev": "EV-2.0"}
TRADERS = ("T101", "T102")
VENUE = "XCME"
ROGUE_ALGORITHM = "IFD-3.1"  # a hotfix build that traded without being added to the inventory
CONTROLS = [  # id, kind, limit
    ("PTC-COLLAR", "price_collar", {"max_deviation_pct": 2}),
    ("PTC-VALUE", "max_order_value", {"max_value_usd": 1000000}),
    ("PTC-QTY", "max_order_qty", {"max_qty": 2}),
    ("PTC-THROTTLE", "message_throttle", {"max_messages": 10, "window_s": 1}),
    ("PTC-CREDIT", "credit_threshold", {"max_daily_notional_usd": 60000000}),
    ("PTC-DUP", "duplicate_order", {"window_s": 2}),
]
REJECTION_COLS = ["ts", "order_id", "symbol", "side", "qty", "order_type", "limit_price", "reference_price",
                  "algorithm_id", "trader_id", "venue", "control_id", "observed_value", "reason"]


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def write_regulatory(root: Path | str, inject: tuple[str, ...] | set[str] = (), seed: int = 7) -> dict:
    """Add the regulatory records to a demo target whose records/ already exist."""
    unknown = set(inject) - set(FAULTS)
    if unknown:
        raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {', '.join(FAULTS)}")
    root, rng = Path(root), random.Random(seed + 18)
    injected: dict[str, list] = {f: [] for f in sorted(inject)}
    path = root / "records" / "orders.csv"
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        columns, orders = list(reader.fieldnames or []), list(reader)
    days = sorted({o["ts"][:10] for o in orders})
    for o in orders:
        o.update(algorithm_id=ALGORITHMS[o["strategy"]], trader_id=TRADERS[days.index(o["ts"][:10]) % 2],
                 venue=VENUE)
    if "algorithm_not_in_inventory" in inject:  # the last day's IFD orders came from an unlisted build
        for o in orders:
            if o["ts"][:10] == days[-1] and o["strategy"] == "ifd":
                o["algorithm_id"] = ROGUE_ALGORITHM
                injected["algorithm_not_in_inventory"].append(o["order_id"])
    if "untraceable_order" in inject:  # an entry sent by hand outside the order gateway's tagging
        o = next(o for o in orders if o["mode"] == "live" and o["reason"] == "entry" and o["ts"][:10] != days[-1])
        o.update(algorithm_id="", trader_id="")
        injected["untraceable_order"].append(o["order_id"])
    write_csv(path, orders, columns + ["algorithm_id", "trader_id", "venue"])
    first = _ts(orders[0]["ts"])
    _write_inventory(root, first)
    _write_cancels(root, orders)
    _write_rejections(root, orders, inject, injected, rng)
    _write_conformance(root, first)
    return injected


def _write_inventory(root: Path, first: datetime) -> None:
    before = lambda days: iso(first.replace(hour=12, minute=0, second=0, microsecond=0)  # noqa: E731
                              - timedelta(days=days))
    common = lambda: {"venues": [VENUE], "instruments": sorted(INSTRUMENTS),  # noqa: E731 - fresh lists: no
                      "limits": {"max_order_qty": 2, "max_position": 2},   # YAML anchors in the file
                      "limits_set": before(3), "approved_operators": list(TRADERS)}
    data = {
        "algorithms": [
            {"id": "IFD-3.0", "name": "Institutional flow detection v3.0", "owner": "Head of futures trading",
             "strategies": ["ifd"], **common(),
             "last_material_change": {"date": before(8)[:10], "description": "v3.0 weights and MBO pressure window",
                                      "approved_by": "risk committee"}},
            {"id": "EV-2.0", "name": "Expected-value setups v2.0", "owner": "Head of futures trading",
             "strategies": ["ev"], **common(),
             "last_material_change": {"date": before(8)[:10], "description": "v2.0 probability floor 0.6",
                                      "approved_by": "risk committee"}},
        ],
        "pretrade_controls": [{"id": cid, "kind": kind, "limit": limit, "applies_to": "all", "set": before(3)}
                              for cid, kind, limit in CONTROLS],
    }
    header = ("# The algorithm inventory (RTS 6 Art. 1 and Annex I, SEC 15c3-5): every trading algorithm\n"
              "# and the pre-trade controls with their limits. golive's REG checks hold it against records/.\n")
    (root / "algorithms.yaml").write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _write_cancels(root: Path, orders: list[dict]) -> None:
    rows = []
    for o in orders:
        if o["status"] == "cancelled" and o["ts_final"]:
            acked = _ts(o["ts_final"])
            rows.append({"ts": acked, "order_id": o["order_id"], "venue": o["venue"],
                         "reason": "kill_switch" if o["reason"] == "drill" else "oco",
                         "ts_requested": max(_ts(o["ts"]), acked - timedelta(milliseconds=40))})
    rows.sort(key=lambda r: (r["ts"], r["order_id"]))
    write_csv(root / "records" / "cancels.csv", rows, ["ts", "order_id", "venue", "reason", "ts_requested"])


def _write_rejections(root: Path, orders: list[dict], inject, injected: dict, rng: random.Random) -> None:
    """One rejection per control, each beside a real entry order of a different day."""
    entries = [o for o in orders if o["reason"] == "entry" and o["algorithm_id"] in ALGORITHMS.values()]
    picks = [entries[len(entries) * (i + 1) // (len(CONTROLS) + 2)] for i in range(len(CONTROLS))]
    rows = []
    for n, ((cid, kind, limit), o) in enumerate(zip(CONTROLS, picks), 1):
        ref = Decimal(o["expected_price"])
        mult = INSTRUMENTS[o["symbol"]][1]
        row = {"ts": _ts(o["ts"]) + timedelta(milliseconds=400), "order_id": f"R{n:05d}", "symbol": o["symbol"],
               "side": o["side"], "qty": int(o["qty"]), "order_type": o["order_type"], "limit_price": None,
               "reference_price": ref, "algorithm_id": o["algorithm_id"], "trader_id": o["trader_id"],
               "venue": o["venue"], "control_id": cid}
        if kind == "price_collar":  # a limit 2.5 % through the market: a fat-finger price
            tick = INSTRUMENTS[o["symbol"]][0]
            row.update(order_type="limit", limit_price=(ref * Decimal("1.025") / tick).to_integral_value() * tick,
                       observed_value=Decimal("2.50"), reason="limit price 2.50 % from reference, collar 2 %")
        elif kind == "max_order_value":
            qty = int(limit["max_value_usd"] // (ref * mult)) + 1
            row.update(qty=qty, observed_value=qty * ref * mult,
                       reason=f"order value {qty * ref * mult} USD over {limit['max_value_usd']} USD")
        elif kind == "max_order_qty":
            row.update(qty=limit["max_qty"] + 1, observed_value=Decimal(limit["max_qty"] + 1),
                       reason=f"{limit['max_qty'] + 1} contracts over the maximum of {limit['max_qty']}")
        elif kind == "message_throttle":
            sent = limit["max_messages"] + 1 + rng.randrange(3)
            row.update(observed_value=Decimal(sent), reason=f"{sent} messages in {limit['window_s']} s, "
                                                            f"limit {limit['max_messages']}")
        elif kind == "credit_threshold":
            used = Decimal(limit["max_daily_notional_usd"] + rng.randrange(1, 50) * 10000)
            row.update(observed_value=used, reason=f"day's gross notional {used} USD over the credit threshold")
        else:  # the same entry sent again 0.4 s later
            row.update(observed_value=Decimal("0.4"), reason=f"duplicate of {o['order_id']} within "
                                                             f"{limit['window_s']} s")
        if kind == "message_throttle" and "throttle_never_fired" in inject:
            injected["throttle_never_fired"].append(cid)
            continue
        rows.append(row)
    rows.sort(key=lambda r: r["ts"])
    write_csv(root / "records" / "rejections.csv", rows, REJECTION_COLS)


def _write_conformance(root: Path, first: datetime) -> None:
    day = first.replace(hour=15, minute=0, second=0, microsecond=0)
    rows = [{"test_id": "CT-XCME-01", "ts": day - timedelta(days=6), "venue": VENUE, "result": "fail",
             "scope": "order entry, cancel, mass cancel (kill switch), drop copy: mass cancel not acknowledged"},
            {"test_id": "CT-XCME-02", "ts": day - timedelta(days=5), "venue": VENUE, "result": "pass",
             "scope": "order entry, modify, cancel, mass cancel (kill switch), drop copy, market data"}]
    write_csv(root / "records" / "conformance_tests.csv", rows, ["test_id", "ts", "venue", "result", "scope"])


if __name__ == "__main__":  # python -m examples.regulatory_fixtures ROOT [FAULT ...] (after records_fixtures)
    import json
    import sys

    print(json.dumps(write_regulatory(Path(sys.argv[1]), tuple(sys.argv[2:])), indent=2))
