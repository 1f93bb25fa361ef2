"""Demo trading records for a few weeks of trading, consistent with each other, plus known faults.

``write_records(root, inject=..., seed=...) -> Truth`` writes ``records/*.csv``,
``records/backtest.json`` and ``config/algorithm_weights.json`` under ``root`` following
docs/records-contract.md: 5 shadow days, 10 limited-live days (1 contract) and 10 live days
(up to 2 contracts), ending on the demo MBO session (``DEMO_SESSION``), of ESZ6/NQZ6 signals
from the EV and IFD v3.0 strategies, the orders and bracket fills each emitted signal led to,
position snapshots, daily P&L derived from the fills, a broker statement, daily costs, a
kill-switch drill, 7 months of backtest signals and the v1.0 baseline. Every number is derived
from the same trades, so a clean set passes every check. ``inject`` names faults from
:data:`FAULTS`; the returned :class:`Truth` says where each one is.
"""
from __future__ import annotations

import json
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from examples.records_sim import (  # noqa: F401 - re-exported for callers of this module
    DEMO_SESSION, FEE, HOLIDAYS, INSTRUMENTS, SIGNAL_COLS, WEIGHTS, Book, Market, Truth, at, day_signals, iso,
    kpi_rows, make_signal, priority_of, recompute, trade, trading_days, trading_days_until, write_csv, write_json,
)

FAULTS = (
    "ev_below_min", "probability_below_min", "risk_above_max", "rr_mismatch", "edge_case_emitted",
    "quality_misclassified", "small_notional", "low_volume_ratio", "priority_wrong", "priority_order",
    "accuracy_drop", "backtest_short", "weights_mismatch", "shadow_short", "shadow_disagree",
    "slow_signal", "oversize_position", "order_no_terminal", "high_slippage", "stop_slipped",
    "cost_overrun", "broker_mismatch", "limit_breach", "kill_switch_slow", "pnl_mismatch", "report_gap",
    "untested_version", "kpi_misflagged",
)
def write_records(root: Path | str, inject: tuple[str, ...] | set[str] = (), seed: int = 7,
                  end: date = DEMO_SESSION) -> Truth:
    """Write the records of a demo target under ``root``; returns where the faults are."""
    unknown = set(inject) - set(FAULTS)
    if unknown:
        raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {', '.join(FAULTS)}")
    return _simulate(Path(root), set(inject), seed, end)


def _inject_signal_faults(sigs: list[dict], inject: set[str], truth: Truth) -> None:
    """Faults in shadow-phase signals (no orders follow from them, so trades stay clean)."""
    shadow = [s for s in sigs if s["mode"] == "shadow" and s["emitted"]]
    ev_s = [s for s in shadow if s["strategy"] == "ev"]
    ifd = [s for s in shadow if s["strategy"] == "ifd"]
    mark = lambda f, s: truth.injected[f].append(s["signal_id"])  # noqa: E731
    if "ev_below_min" in inject:  # target moved to half the stop distance: EV < 0 at p = 0.65
        s = ev_s[0]
        tick, mult = INSTRUMENTS[s["symbol"]][0], INSTRUMENTS[s["symbol"]][1]
        ticks = max(1, int(s["risk"] / mult / tick / 2))
        sign = 1 if s["direction"] == "long" else -1
        s.update(probability=0.65, confidence=0.65, reward=ticks * tick * mult,
                 target_price=s["entry_price"] + sign * ticks * tick)
        recompute(s)
        mark("ev_below_min", s)
    if "probability_below_min" in inject:
        s = ev_s[1]
        s.update(probability=0.55, confidence=0.55)
        recompute(s)
        mark("probability_below_min", s)
    if "risk_above_max" in inject:
        s = next(x for x in ev_s[2:] if x["symbol"] == "ESZ6")
        sign = 1 if s["direction"] == "long" else -1
        s.update(risk=Decimal("175.00"), stop_price=s["entry_price"] - sign * 14 * INSTRUMENTS["ESZ6"][0])
        recompute(s)
        mark("risk_above_max", s)
    if "rr_mismatch" in inject:
        s = ifd[0]
        s["risk_reward"] = round(s["risk_reward"] + 0.5, 4)
        mark("rr_mismatch", s)
    if "edge_case_emitted" in inject:
        s = ifd[1]
        s.update(risk=Decimal(0), stop_price=None, risk_reward=None, ev=None)
        mark("edge_case_emitted", s)
    if "quality_misclassified" in inject:
        s = next(x for x in sigs if not x["emitted"] and x["pattern"] is None and x["risk"])
        s["quality"] = True
        mark("quality_misclassified", s)
    if "small_notional" in inject:
        s = ifd[2]
        s["notional"] = Decimal(60000)
        s["priority"] = priority_of(s["confidence"], s["notional"])
        mark("small_notional", s)
    if "low_volume_ratio" in inject:
        s = ifd[3]
        s.update(volume_ratio=1.2, window_volume=round(s["avg_volume"] * 1.2, 3))
        mark("low_volume_ratio", s)
    if "priority_wrong" in inject:
        s = ifd[4]
        s["priority"] = s["priority"] % 3 + 1
        mark("priority_wrong", s)
    if "priority_order" in inject:
        taken = {x for v in truth.injected.values() for x in v}
        batch = [s for s in shadow if s["batch_id"]]
        batch_ids = [b for b in dict.fromkeys(s["batch_id"] for s in batch)
                     if not any(s["signal_id"] in taken for s in batch if s["batch_id"] == b)]
        first = next(s for s in batch if s["batch_id"] == batch_ids[0])
        pair = [s for s in batch if s["batch_id"] == first["batch_id"]][:2]
        pair[0]["priority"], pair[1]["priority"] = 1, 2
        pair[0]["confidence"] = pair[1]["confidence"] = 0.9
        pair[0]["notional"] = pair[1]["notional"] = Decimal(1500000)
        pair[1]["confidence"] = 0.8
        pair[0]["seq"], pair[1]["seq"] = 2, 1
        for s in pair:
            s["strategy"] = "ifd"
        truth.injected["priority_order"].append(first["batch_id"])
    if "slow_signal" in inject:
        s = shadow[5]
        s["market_event_ts"] = s["ts"] - timedelta(milliseconds=900)
        mark("slow_signal", s)


def _simulate(root: Path, inject: set[str], seed: int, end: date) -> Truth:
    rng, brng = random.Random(seed), random.Random(seed + 1)
    days = trading_days_until(end, 25)
    truth = Truth(injected={f: [] for f in sorted(inject)}, days=days, limited_days=days[5:15],
                  live_days=days[15:], shadow_days=days[:3] if "shadow_short" in inject else days[:5])
    book, market, n = Book(), Market(rng), 0
    for day in days:
        if day in days[:5] and day not in truth.shadow_days:
            truth.injected["shadow_short"].append(str(day))
            continue
        mode = "shadow" if day in truth.shadow_days else "limited" if day in truth.limited_days else "live"
        n = day_signals(rng, book, market, day, mode, n)
    _inject_signal_faults(book.signals, inject, truth)
    if "untested_version" in inject:  # a hotfix version traded live without a shadow run
        for s in [s for s in book.signals if s["mode"] == "live"][-3:]:
            s["strategy_version"] = "v2.2"
        truth.injected["untested_version"].append("v2.2")
    book.signals.sort(key=lambda s: s["ts"])
    _outcomes_and_trades(rng, book, truth, inject)
    _extra_orders(book, truth, inject)
    _write_all(root, book, truth, inject, brng)
    return truth


def _outcomes_and_trades(rng, book: Book, truth: Truth, inject: set[str]) -> None:
    emitted = [s for s in book.signals if s["emitted"]]
    correct: dict[str, bool] = {}
    for day in truth.days:
        for strategy, rate in (("ifd", 0.86), ("ev", 0.80)):
            if strategy == "ifd" and "accuracy_drop" in inject and day in truth.days[5:]:
                rate = 0.66
            todays = [s for s in emitted if s["ts"].date() == day and s["strategy"] == strategy]
            # exactly round(rate * n) right, drawn with weight = confidence (Efraimidis-Spirakis),
            # so confident signals are right more often, as a calibrated model's are
            todays.sort(key=lambda s: rng.random() ** (1 / max(s["confidence"], 0.01)), reverse=True)
            k = round(rate * len(todays))
            correct.update({s["signal_id"]: i < k for i, s in enumerate(todays)})
    if "accuracy_drop" in inject:
        truth.injected["accuracy_drop"].append(f"ifd accuracy 66 % from {truth.days[5]}")
    first_limited = first_live_loss = True
    for s in book.signals:
        truth_pattern = s["pattern"] if rng.random() < 0.95 else \
            ("market_making" if s["pattern"] == "institutional_flow" else "institutional_flow")
        if not s["emitted"]:
            if s["pattern"]:
                book.outcomes.append({"signal_id": s["signal_id"], "ts_resolved": s["ts"] + timedelta(minutes=30),
                                      "correct": False, "pnl": None, "pattern_truth": truth_pattern})
            continue
        ok, kw = correct[s["signal_id"]], {}
        if s["mode"] == "shadow":
            pnl = (s["reward"] if ok else -s["risk"]) - 2 * FEE
            ts_res = s["ts"] + timedelta(minutes=30)
        else:
            qty = 1 if s["mode"] == "limited" else (2 if s["confidence"] >= 0.8 else 1)
            faults = []
            if s["mode"] == "limited" and first_limited and "oversize_position" in inject:
                qty = 2
                faults.append("oversize_position")
            if s["mode"] == "limited" and first_limited and "high_slippage" in inject:
                kw["slip_ticks"] = 8
                faults.append("high_slippage")
            if s["mode"] == "live" and not ok and first_live_loss and "stop_slipped" in inject:
                kw["stop_extra_ticks"] = 6
                faults.append("stop_slipped")
                first_live_loss = False
            first_limited = first_limited and s["mode"] != "limited"
            pnl = trade(book, s, qty, ok, s["mode"], rng, **kw)
            entry_fill, exit_fill = book.fills[-2], book.fills[-1]
            for fault in faults:  # located by the order / fill the fault shows up in
                truth.injected[fault].append({"oversize_position": entry_fill["order_id"],
                                              "high_slippage": entry_fill["fill_id"],
                                              "stop_slipped": exit_fill["fill_id"]}[fault])
            ts_res = book.fills[-1]["ts"]
        book.outcomes.append({"signal_id": s["signal_id"], "ts_resolved": ts_res, "correct": ok, "pnl": pnl,
                              "pattern_truth": truth_pattern if s["pattern"] else None})


def _extra_orders(book: Book, truth: Truth, inject: set[str]) -> None:
    """The kill-switch drill, an injected stuck order and an injected limit breach."""
    day = truth.live_days[3]
    trig = at(day, 400)
    delays = [0.3, 12.0 if "kill_switch_slow" in inject else 0.45]
    for sym, delay in zip(INSTRUMENTS, delays):
        px = INSTRUMENTS[sym][2]
        oid = book.order(trig - timedelta(seconds=30), sym, "buy", 1, "limit", "cancelled",
                         trig + timedelta(seconds=delay), "live", "ifd", "drill", limit=px, expected=px)
        if delay > 10:
            truth.injected["kill_switch_slow"].append(oid)
    book.drills = [{"drill_id": "KS-001", "ts_triggered": trig, "kind": "drill",
                    "ts_completed": trig + timedelta(seconds=max(delays) + 0.05)}]
    if "order_no_terminal" in inject:
        d = truth.limited_days[2]
        oid = book.order(at(d, 390), "ESZ6", "buy", 1, "limit", "working", None, "limited", "ev", "entry",
                         limit=Decimal("5000.00"), expected=Decimal("5000.00"))
        truth.injected["order_no_terminal"].append(oid)
    if "limit_breach" in inject:
        d, sym = truth.live_days[5], "ESZ6"
        px = INSTRUMENTS[sym][2]
        t0, t1, t2 = at(d, 380), at(d, 389), at(d, 395)
        fees = Decimal(0)
        for ts, side, qty, reason in ((t0, "buy", 3, "entry"), (t1, "sell", 1, "risk_reduction"),
                                      (t2, "sell", 2, "exit")):
            oid = book.order(ts, sym, side, qty, "market", "filled", ts + timedelta(milliseconds=80), "live", "ifd",
                             reason, expected=px)
            fees += book.fill(ts + timedelta(milliseconds=80), oid, sym, side, qty, px, "live")
        acc = book.pnl.setdefault((d, "ifd", sym, "institutional_flow"), [Decimal(0), Decimal(0)])
        acc[1] += fees
        truth.injected["limit_breach"].append(f"{sym} 3 contracts {iso(t0)}..{iso(t1)}")
    book.orders.sort(key=lambda o: o["ts"])
    book.fills.sort(key=lambda f: f["ts"])
    book.positions.sort(key=lambda p: p["ts"])


def _write_all(root: Path, book: Book, truth: Truth, inject: set[str], brng: random.Random) -> None:
    rec = root / "records"
    write_csv(rec / "instruments.csv", [{"symbol": s, "tick_size": v[0], "multiplier": v[1], "expiration": v[3]}
                                        for s, v in INSTRUMENTS.items()], ["symbol", "tick_size", "multiplier",
                                                                             "expiration"])
    write_csv(rec / "signals.csv", book.signals, SIGNAL_COLS)
    write_csv(rec / "outcomes.csv", book.outcomes, ["signal_id", "ts_resolved", "correct", "pnl", "pattern_truth"])
    order_cols = ["ts", "order_id", "signal_id", "symbol", "side", "qty", "order_type", "limit_price",
                  "stop_price", "expected_price", "status", "ts_final", "mode", "strategy", "reason"]
    write_csv(rec / "orders.csv", book.orders, order_cols)
    fill_cols = ["ts", "fill_id", "order_id", "symbol", "side", "qty", "price", "fees"]
    write_csv(rec / "fills.csv", book.fills, fill_cols)
    write_csv(rec / "positions.csv", book.positions, ["ts", "symbol", "qty", "mark_price", "mode"])
    write_csv(rec / "kill_switch_drills.csv", book.drills, ["drill_id", "ts_triggered", "ts_completed", "kind"])
    _write_pnl(rec, book, truth, inject)
    _write_broker(rec, book, truth, inject, fill_cols)
    costs = []
    for day in truth.days:
        amount = Decimal(brng.randrange(380, 520)) / 100
        if "cost_overrun" in inject and day == truth.limited_days[4]:
            amount = Decimal("14.30")
            truth.injected["cost_overrun"].append(str(day))
        costs += [{"date": day, "category": "market_data", "amount": amount},
                  {"date": day, "category": "platform", "amount": Decimal("1.50")}]
    write_csv(rec / "costs.csv", costs, ["date", "category", "amount"])
    kpis = kpi_rows(book.signals, book.outcomes, costs, truth.daily_net_pnl, 100000.0)
    if "kpi_misflagged" in inject:  # a missed target recorded as met
        row = next(r for r in kpis if r["kpi"] == "cost")
        row.update(value=row["target"] + 12.5, met=True)
        truth.injected["kpi_misflagged"].append(str(row["period_start"]))
    write_csv(rec / "kpis.csv", kpis, ["period", "period_start", "kpi", "value", "target", "met"])
    _write_backtest(root, book, truth, inject, brng)


def _write_pnl(rec: Path, book: Book, truth: Truth, inject: set[str]) -> None:
    rows, v1 = [], []
    for (day, strategy, sym, stype), (gross, fees) in sorted(book.pnl.items()):
        rows.append({"date": day, "strategy": strategy, "symbol": sym, "signal_type": stype, "realized": gross,
                     "unrealized": Decimal(0), "fees": fees})
        key = str(day)
        truth.daily_net_pnl[key] = truth.daily_net_pnl.get(key, Decimal(0)) + gross - fees
    if "pnl_mismatch" in inject:
        rows[3]["realized"] += Decimal("12.50")
        truth.injected["pnl_mismatch"].append(str(rows[3]["date"]))
    traded = sorted({r["date"] for r in rows})
    earlier = dict(zip(traded, trading_days(traded[0] - timedelta(days=60), len(traded))))
    for r in rows:  # v1.0 made 60 % of today's gross on the same kind of days, same fees
        v1_realized = (r["realized"] * Decimal("0.6")).quantize(Decimal("0.01"))
        v1.append({**r, "date": earlier[r["date"]], "realized": v1_realized})
    cols = ["date", "strategy", "symbol", "signal_type", "realized", "unrealized", "fees"]
    write_csv(rec / "pnl.csv", rows, cols)
    _write_reports(rec, truth, inject)
    write_csv(rec / "baseline_v1_pnl.csv", sorted(v1, key=lambda r: r["date"]), cols)


def _write_reports(rec: Path, truth: Truth, inject: set[str]) -> None:
    """The system's daily, weekly (Monday) and monthly (1st) reports, from the true daily P&L."""
    totals: dict[tuple, Decimal] = {}
    for key, net in sorted(truth.daily_net_pnl.items()):
        day = date.fromisoformat(key)
        for period, start in (("day", day), ("week", day - timedelta(days=day.weekday())),
                              ("month", day.replace(day=1))):
            totals[(period, start)] = totals.get((period, start), Decimal(0)) + net
    rows = [{"period": p, "period_start": s, "net_pnl": v} for (p, s), v in totals.items()]
    if "report_gap" in inject:
        gone = rows.pop(next(i for i, r in enumerate(rows) if r["period"] == "day" and i > 5))
        truth.injected["report_gap"].append(str(gone["period_start"]))
    write_csv(rec / "reports.csv", rows, ["period", "period_start", "net_pnl"])


def _write_broker(rec: Path, book: Book, truth: Truth, inject: set[str], fill_cols: list[str]) -> None:
    stmt = [{**f, "exec_id": f["fill_id"]} for f in book.fills]
    if "broker_mismatch" in inject:
        missing = stmt.pop(10)
        stmt[20] = {**stmt[20], "price": stmt[20]["price"] + Decimal("0.25")}
        extra = {**stmt[30], "exec_id": "F99999", "ts": stmt[30]["ts"] + timedelta(seconds=1)}
        stmt.insert(31, extra)
        truth.injected["broker_mismatch"] += [("missing", missing["fill_id"]), ("mismatched", stmt[20]["exec_id"]),
                                              ("extra", "F99999")]
    cols = ["exec_id" if c == "fill_id" else c for c in fill_cols]
    write_csv(rec / "broker_statement.csv", stmt, cols)


def _write_backtest(root: Path, book: Book, truth: Truth, inject: set[str], brng: random.Random) -> None:
    first = truth.days[0]
    back_days = 90 if "backtest_short" in inject else 200
    if "backtest_short" in inject:
        truth.injected["backtest_short"].append(f"{back_days} days")
    hist, n, market = [], 0, Market(brng)
    d = first - timedelta(days=back_days)
    while d < first:
        if d.weekday() < 5 and d not in HOLIDAYS:
            for slot in (1, 5):
                market.step()
                n += 1
                sym = brng.choice(["ESZ6", "NQZ6"])
                sig = make_signal(brng, n, at(d, 10 + 40 * slot), sym, brng.choice(["ifd", "ev"]), "backtest",
                              market.px[sym], "v2.0")
                hist.append({**sig, "signal_id": f"BT{n:05d}"})
        d += timedelta(days=1)
    dropped = 0
    for s in book.signals:
        if not s["emitted"]:
            continue
        if "shadow_disagree" in inject and s["mode"] == "shadow" and dropped < 4 and s["signal_id"] not in \
                {x for v in truth.injected.values() for x in v}:
            dropped += 1
            truth.injected["shadow_disagree"].append(s["signal_id"])
            continue
        n += 1
        hist.append({**s, "signal_id": f"BT{n:05d}", "mode": "backtest",
                     "ts": s["ts"] + timedelta(seconds=brng.uniform(0, 20))})
    hist.sort(key=lambda s: s["ts"])
    write_csv(root / "records" / "backtest_signals.csv", hist, SIGNAL_COLS)
    write_json(root / "records" / "backtest.json", {
        "strategy_version": "v2.0", "start": str(first - timedelta(days=back_days)), "end": str(truth.days[-1]),
        "weights": WEIGHTS, "signals": "backtest_signals.csv"})
    weights = dict(WEIGHTS)
    if "weights_mismatch" in inject:
        weights.update(mbo_pressure=0.30, volume_ratio=0.30)
        truth.injected["weights_mismatch"] += ["mbo_pressure", "volume_ratio"]
    write_json(root / "config" / "algorithm_weights.json", {"strategy_version": "v2.0", "weights": weights})
    write_json(root / "config" / "scaling_steps.json", {"steps": [
        {"from": str(truth.live_days[0]), "max_contracts": 2, "approved_by": "risk committee",
         "reference": "scaling step 2: 2 contracts after 10 clean limited-live days"}]})


if __name__ == "__main__":  # python -m examples.records_fixtures OUT [FAULT ...]
    import sys

    truth = write_records(Path(sys.argv[1]), tuple(sys.argv[2:]))
    print(json.dumps(truth.injected, indent=2, default=str))
