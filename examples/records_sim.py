"""Simulation parts of the demo trading records: market, signals, trades, CSV writing.

Used by ``examples/records_fixtures.py`` (the public generator). A correlated ESZ6/NQZ6 random
walk on the tick grid gives prices; each emitted signal becomes an entry market order and an
OCO bracket (target limit, stop) whose fills drive positions and the daily P&L.
"""
from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

INSTRUMENTS = {  # symbol: tick, multiplier, first price, expiration
    "ESZ6": (Decimal("0.25"), Decimal("50"), Decimal("6000.00"), date(2026, 12, 18)),
    "NQZ6": (Decimal("0.25"), Decimal("20"), Decimal("21000.00"), date(2026, 12, 18)),
}
# The demo MBO data (examples/dbn_fixtures.py) is an ESZ6/NQZ6 session from 2026-11-02 14:30 UTC
# at ES 6000 / NQ 21000; the records end on that session so both describe the same market.
DEMO_SESSION = date(2026, 11, 2)
HOLIDAYS = {date(2026, 9, 7), date(2026, 11, 26), date(2026, 12, 25)}
WEIGHTS = {"mbo_pressure": 0.35, "volume_ratio": 0.25, "pattern": 0.2, "ev": 0.2}
PRIORITY_RULES = [  # first match wins; the checks read the same rules from check.params
    {"priority": 1, "min_confidence": 0.85, "min_notional": 1000000},
    {"priority": 2, "min_confidence": 0.75, "min_notional": 0},
    {"priority": 3, "min_confidence": 0.0, "min_notional": 0},
]
FEE = Decimal("2.25")  # per contract per fill


@dataclass
class Truth:
    """Where each injected fault is (ids/dates), and the facts a clean set must show."""

    injected: dict[str, list] = field(default_factory=dict)
    days: list[date] = field(default_factory=list)
    shadow_days: list[date] = field(default_factory=list)
    limited_days: list[date] = field(default_factory=list)
    live_days: list[date] = field(default_factory=list)
    daily_net_pnl: dict[str, Decimal] = field(default_factory=dict)


def trading_days(start: date, n: int) -> list[date]:
    out, d = [], start
    while len(out) < n:
        if d.weekday() < 5 and d not in HOLIDAYS:
            out.append(d)
        d += timedelta(days=1)
    return out


def trading_days_until(end: date, n: int) -> list[date]:
    out, d = [], end
    while len(out) < n:
        if d.weekday() < 5 and d not in HOLIDAYS:
            out.append(d)
        d -= timedelta(days=1)
    return out[::-1]


def at(day: date, minutes: float) -> datetime:
    return datetime(day.year, day.month, day.day, 14, 30, tzinfo=timezone.utc) + timedelta(minutes=minutes)


def iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def priority_of(conf: float, notional: Decimal) -> int:
    for rule in PRIORITY_RULES:
        if conf >= rule["min_confidence"] and notional >= rule["min_notional"]:
            return rule["priority"]
    return 3


class Market:
    """Correlated ES/NQ random walk on the tick grid (NQ moves ~3.5x ES plus noise)."""

    def __init__(self, rng: random.Random):
        self.rng, self.px = rng, {s: v[2] for s, v in INSTRUMENTS.items()}

    def step(self) -> None:
        es = self.rng.gauss(0, 3.0)
        for sym, move in (("ESZ6", es), ("NQZ6", 3.5 * es + self.rng.gauss(0, 4.0))):
            tick = INSTRUMENTS[sym][0]
            self.px[sym] = (self.px[sym] + Decimal(str(round(move / float(tick)))) * tick)


class Book:
    """Collects rows of every file while trades are simulated."""

    def __init__(self):
        self.signals, self.outcomes, self.orders, self.fills, self.positions = [], [], [], [], []
        self.pnl: dict[tuple, list] = {}
        self.pos: dict[str, int] = {s: 0 for s in INSTRUMENTS}
        self.n_orders = self.n_fills = 0

    def order(self, ts, sym, side, qty, otype, status, ts_final, mode, strategy, reason, signal_id="",
              limit=None, stop=None, expected=None) -> str:
        self.n_orders += 1
        oid = f"O{self.n_orders:05d}"
        self.orders.append({"ts": ts, "order_id": oid, "signal_id": signal_id, "symbol": sym, "side": side,
                            "qty": qty, "order_type": otype, "limit_price": limit, "stop_price": stop,
                            "expected_price": expected, "status": status, "ts_final": ts_final,
                            "mode": mode, "strategy": strategy, "reason": reason})
        return oid

    def fill(self, ts, oid, sym, side, qty, price, mode) -> Decimal:
        self.n_fills += 1
        fees = FEE * qty
        self.fills.append({"ts": ts, "fill_id": f"F{self.n_fills:05d}", "order_id": oid, "symbol": sym,
                           "side": side, "qty": qty, "price": price, "fees": fees})
        self.pos[sym] += qty if side == "buy" else -qty
        self.positions.append({"ts": ts, "symbol": sym, "qty": self.pos[sym], "mark_price": price, "mode": mode})
        return fees


def trade(book: Book, sig: dict, qty: int, correct: bool, mode: str, rng, slip_ticks=None,
           stop_extra_ticks=None, hold_min=None) -> Decimal:
    """Entry market order + OCO bracket (target limit, stop); returns net P&L in USD."""
    sym, tick, mult = sig["symbol"], INSTRUMENTS[sig["symbol"]][0], INSTRUMENTS[sig["symbol"]][1]
    long = sig["direction"] == "long"
    side_in, side_out = ("buy", "sell") if long else ("sell", "buy")
    sign = 1 if long else -1
    t0 = sig["ts"] + timedelta(milliseconds=50)
    slip = rng.choice([0, 0, 0, 1]) if slip_ticks is None else slip_ticks
    entry = sig["entry_price"] - sign * 0 + sign * slip * tick
    t_fill = t0 + timedelta(milliseconds=120)
    oid = book.order(t0, sym, side_in, qty, "market", "filled", t_fill, mode, sig["strategy"], "entry",
                     sig["signal_id"], expected=sig["entry_price"])
    fees = book.fill(t_fill, oid, sym, side_in, qty, entry, mode)
    t_exit = t_fill + timedelta(minutes=hold_min or rng.uniform(5, 30))
    t_leg = t_fill + timedelta(milliseconds=5)
    extra = rng.choice([0, 0, 1]) if stop_extra_ticks is None else stop_extra_ticks
    exit_px = sig["target_price"] if correct else sig["stop_price"] - sign * extra * tick
    lim = book.order(t_leg, sym, side_out, qty, "limit", "filled" if correct else "cancelled", t_exit, mode,
                     sig["strategy"], "exit", sig["signal_id"], limit=sig["target_price"],
                     expected=sig["target_price"])
    stp = book.order(t_leg, sym, side_out, qty, "stop", "cancelled" if correct else "filled", t_exit, mode,
                     sig["strategy"], "stop_loss", sig["signal_id"], stop=sig["stop_price"],
                     expected=sig["stop_price"])
    fees += book.fill(t_exit, lim if correct else stp, sym, side_out, qty, exit_px, mode)
    gross = (exit_px - entry) * sign * mult * qty
    key = (sig["ts"].date(), sig["strategy"], sym, sig["signal_type"])
    acc = book.pnl.setdefault(key, [Decimal(0), Decimal(0)])
    acc[0] += gross
    acc[1] += fees
    return gross - fees


def make_signal(rng, n: int, ts: datetime, sym: str, strategy: str, mode: str, px: Decimal, version: str) -> dict:
    tick, mult = INSTRUMENTS[sym][0], INSTRUMENTS[sym][1]
    direction = rng.choice(["long", "short"])
    sign = 1 if direction == "long" else -1
    stop_ticks = rng.randint(4, 12) if sym == "ESZ6" else rng.randint(10, 28)
    rr = rng.uniform(1.5, 3.0)
    target_ticks = max(stop_ticks + 1, round(stop_ticks * rr))
    p = round(rng.uniform(0.62, 0.85), 4)
    risk = stop_ticks * tick * mult
    reward = target_ticks * tick * mult
    ev = (Decimal(str(p)) * reward - (1 - Decimal(str(p))) * risk).quantize(Decimal("0.01"))
    conf = p if strategy == "ev" else round(rng.uniform(0.72, 0.98), 4)
    notional = Decimal(rng.randrange(120, 2500)) * 1000
    vr = round(rng.uniform(2.0, 6.0), 3)
    avg = round(rng.uniform(300, 900), 1)
    window = round(avg * vr, 3)
    share = rng.uniform(0.62, 0.8)
    buy = round(window * (share if sign > 0 else 1 - share), 1)
    sell = round(window - buy, 1)
    ifd = strategy == "ifd"
    return {
        "ts": ts, "signal_id": f"S{n:05d}", "symbol": sym, "strategy": strategy, "strategy_version": version,
        "mode": mode, "direction": direction, "emitted": True, "quality": True, "ev": ev, "probability": p,
        "risk": risk, "reward": reward, "risk_reward": round(float(reward / risk), 4), "confidence": conf,
        "priority": priority_of(conf, notional if ifd else Decimal(0)), "notional": notional if ifd else None,
        "volume_ratio": vr if ifd else None, "window_volume": window if ifd else None,
        "avg_volume": avg if ifd else None, "buy_volume": buy if ifd else None,
        "sell_volume": sell if ifd else None,
        "mbo_pressure": round((buy - sell) / (buy + sell), 4) if ifd else None,
        "pattern": "institutional_flow" if ifd else None, "entry_price": px,
        "stop_price": px - sign * stop_ticks * tick, "target_price": px + sign * target_ticks * tick,
        "market_event_ts": ts - timedelta(milliseconds=rng.randint(5, 60)), "batch_id": "", "seq": 1,
        "signal_type": "institutional_flow" if ifd else "ev_setup",
    }


def rejected_signal(rng, n, ts, sym, mode, px, kind) -> dict:
    sig = make_signal(rng, n, ts, sym, "ifd" if kind == "mm" else "ev", mode, px, "v2.0")
    sig.update(emitted=False, quality=False, priority=None)
    if kind == "mm":  # two-sided quoting: flow classified as market making, not traded
        sig.update(pattern="market_making", notional=Decimal(rng.randrange(20, 90)) * 1000)
    elif kind == "low_ev":
        sig.update(probability=0.52, ev=(Decimal("0.52") * sig["reward"] - Decimal("0.48") * sig["risk"]
                                          ).quantize(Decimal("0.01")), confidence=0.52)
    else:  # edge case: zero risk and no stop price, must be rejected
        sig.update(risk=Decimal(0), stop_price=None, risk_reward=None, ev=None)
    return sig


SIGNAL_COLS = ["ts", "signal_id", "symbol", "strategy", "strategy_version", "mode", "direction", "emitted",
               "quality", "ev", "probability", "risk", "reward", "risk_reward", "confidence", "priority",
               "notional", "volume_ratio", "window_volume", "avg_volume", "buy_volume", "sell_volume",
               "mbo_pressure", "pattern", "entry_price", "stop_price", "target_price", "market_event_ts",
               "batch_id", "seq"]


def day_signals(rng, book: Book, market: Market, day: date, mode: str, n: int) -> int:
    for slot in range(9):
        market.step()
        ts = at(day, 10 + 40 * slot + rng.uniform(0, 3))
        syms = ["ESZ6", "NQZ6"] if rng.random() < 0.3 else [rng.choice(["ESZ6", "NQZ6"])]
        group = []
        for sym in syms:
            n += 1
            # v2.1 is the variant under A/B test: shadowed first, then traded next to v2.0
            version = "v2.1" if mode in ("shadow", "live") and n % 2 == 0 else "v2.0"
            strategy = "ifd" if rng.random() < 0.67 else "ev"
            group.append(make_signal(rng, n, ts, sym, strategy, mode, market.px[sym], version))
        if len(group) > 1:  # decided in the same cycle: emitted in priority order
            group.sort(key=lambda g: (g["priority"], -g["confidence"]))
            for seq, g in enumerate(group, 1):
                g.update(batch_id=f"B{day:%Y%m%d}-{slot}", seq=seq)
        book.signals.extend(group)
    kinds = ["mm", "low_ev"] + (["edge"] if day.toordinal() % 5 == 0 else [])
    for i, kind in enumerate(kinds):
        n += 1
        sym = rng.choice(["ESZ6", "NQZ6"])
        book.signals.append(rejected_signal(rng, n, at(day, 375 + 2 * i), sym, mode, market.px[sym], kind))
    return n


def recompute(sig: dict) -> None:
    p = Decimal(str(sig["probability"]))
    sig["ev"] = (p * sig["reward"] - (1 - p) * sig["risk"]).quantize(Decimal("0.01"))
    sig["risk_reward"] = round(float(sig["reward"] / sig["risk"]), 4)


def write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow([cell(r.get(c)) for c in columns])


def cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return iso(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


KPI_TARGETS = {"accuracy": (">=", 0.75), "win_loss_ratio": (">=", 1.8), "roi": (">=", 0.02),
               "max_drawdown": ("<=", 0.2), "cost": ("<=", 200.0)}


def kpi_rows(signals: list[dict], outcomes: list[dict], costs: list[dict], daily_net: dict, capital: float) -> list:
    """Monthly KPI rows as the trading system would record them (traded signals only)."""
    mode = {s["signal_id"]: s["mode"] for s in signals}
    ts = {s["signal_id"]: s["ts"] for s in signals}
    months: dict = {}
    for o in outcomes:
        if mode[o["signal_id"]] in ("limited", "live") and o["pnl"] is not None:
            months.setdefault(ts[o["signal_id"]].date().replace(day=1), []).append((o["correct"], float(o["pnl"])))
    cost: dict = {}
    for c in costs:
        key = c["date"].replace(day=1)
        cost[key] = cost.get(key, Decimal(0)) + c["amount"]
    rows, equity, peak = [], capital, capital
    for month in sorted(months):
        trades = months[month]
        wins = [p for _, p in trades if p > 0]
        losses = [-p for _, p in trades if p < 0]
        month_days = sorted(d for d in daily_net if d.startswith(f"{month:%Y-%m}"))
        pnl = sum(float(daily_net[d]) for d in month_days)
        drawdown = 0.0
        for d in month_days:
            equity += float(daily_net[d])
            peak = max(peak, equity)
            drawdown = max(drawdown, (peak - equity) / peak)
        values = {"accuracy": sum(ok for ok, _ in trades) / len(trades),
                  "win_loss_ratio": (sum(wins) / len(wins)) / (sum(losses) / len(losses)) if wins and losses else 0.0,
                  "roi": pnl / capital, "max_drawdown": drawdown, "cost": float(cost.get(month, 0))}
        for kpi, (op, target) in KPI_TARGETS.items():
            v = round(values[kpi], 6)
            rows.append({"period": "month", "period_start": month, "kpi": kpi, "value": v, "target": target,
                         "met": v >= target if op == ">=" else v <= target})
    return rows
