"""The records contract: the columns, types and units of the files under a target's ``records/``.

This is the machine-readable half of ``docs/records-contract.md``; the reader enforces it. Each
file is ``<name>.csv`` (UTF-8, header row, empty cell = null) or ``<name>.parquet``. Money and
prices are exact decimals (``decimal`` kind): plain decimal strings in CSV, ``decimal128`` or
string columns in Parquet -- never binary floats, because fees and P&L must reconcile to the cent.
"""
from __future__ import annotations

from dataclasses import dataclass

KINDS = ("str", "int", "float", "decimal", "bool", "timestamp", "date")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    unit: str = ""
    doc: str = ""


@dataclass(frozen=True)
class TableSpec:
    """One records file: its columns, its unique key and the column it must be sorted by."""

    name: str
    columns: tuple[Column, ...]
    key: str | None = None
    sorted_by: str | None = None
    doc: str = ""

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r} in the records contract")


def _cols(*specs: tuple) -> tuple[Column, ...]:
    return tuple(Column(*s) for s in specs)


_SIGNAL_COLUMNS = _cols(
    ("ts", "timestamp", "UTC", "when the signal was emitted"),
    ("signal_id", "str", "", "unique id"),
    ("symbol", "str", "", "instrument symbol, as in instruments"),
    ("strategy", "str", "", "ev (expected-value) or ifd (IFD v3.0)"),
    ("strategy_version", "str", "", "e.g. v1.0, v2.0 (A/B tests)"),
    ("mode", "str", "", "backtest | shadow | limited | live"),
    ("direction", "str", "", "long | short"),
    ("emitted", "bool", "", "false: evaluated but rejected by the algorithm's filters"),
    ("quality", "bool", "", "the algorithm's own quality-setup classification"),
    ("ev", "decimal", "USD", "expected value p*reward - (1-p)*risk"),
    ("probability", "float", "ratio", "probability of the favourable outcome"),
    ("risk", "decimal", "USD", "loss if the stop is hit"),
    ("reward", "decimal", "USD", "gain if the target is hit"),
    ("risk_reward", "float", "ratio", "reward / risk as recorded by the system"),
    ("confidence", "float", "ratio", "the algorithm's confidence 0..1"),
    ("priority", "int", "", "1 = highest"),
    ("notional", "decimal", "USD", "size of the detected institutional flow"),
    ("volume_ratio", "float", "ratio", "window volume / average volume"),
    ("window_volume", "float", "contracts", "volume traded in the detection window"),
    ("avg_volume", "float", "contracts", "average volume of such a window"),
    ("buy_volume", "float", "contracts", "aggressive buy volume in the window (MBO)"),
    ("sell_volume", "float", "contracts", "aggressive sell volume in the window (MBO)"),
    ("mbo_pressure", "float", "ratio", "(buy - sell) / (buy + sell) as recorded"),
    ("pattern", "str", "", "market_making | institutional_flow | none"),
    ("entry_price", "decimal", "price", ""),
    ("stop_price", "decimal", "price", ""),
    ("target_price", "decimal", "price", ""),
    ("market_event_ts", "timestamp", "UTC", "exchange time of the market event that triggered it"),
    ("batch_id", "str", "", "signals decided together (same evaluation cycle)"),
    ("seq", "int", "", "emission order inside the batch, 1 = first"),
)

TABLES: dict[str, TableSpec] = {t.name: t for t in (
    TableSpec("instruments", _cols(
        ("symbol", "str", "", "instrument symbol"),
        ("tick_size", "decimal", "price", "minimum price increment"),
        ("multiplier", "decimal", "USD", "USD per 1.0 price point per contract"),
        ("expiration", "date", "", "last trading day (futures/options), empty for none"),
    ), key="symbol", doc="static instrument data"),
    TableSpec("signals", _SIGNAL_COLUMNS, key="signal_id", sorted_by="ts",
              doc="every setup the live/shadow algorithm evaluated"),
    TableSpec("backtest_signals", _SIGNAL_COLUMNS, key="signal_id", sorted_by="ts",
              doc="what the backtest emitted, same columns as signals"),
    TableSpec("outcomes", _cols(
        ("signal_id", "str", "", "the signal this outcome resolves"),
        ("ts_resolved", "timestamp", "UTC", "when the outcome was known"),
        ("correct", "bool", "", "the predicted move happened"),
        ("pnl", "decimal", "USD", "P&L of the trade taken on the signal, net of fees"),
        ("pattern_truth", "str", "", "labelled pattern: market_making | institutional_flow | none"),
    ), key="signal_id", doc="resolution of each emitted signal"),
    TableSpec("orders", _cols(
        ("ts", "timestamp", "UTC", "order submission time"),
        ("order_id", "str", "", "unique id"),
        ("signal_id", "str", "", "signal that caused it (empty for risk/kill-switch orders)"),
        ("symbol", "str", "", ""),
        ("side", "str", "", "buy | sell"),
        ("qty", "int", "contracts", "> 0"),
        ("order_type", "str", "", "market | limit | stop | stop_limit"),
        ("limit_price", "decimal", "price", ""),
        ("stop_price", "decimal", "price", "stop trigger price"),
        ("expected_price", "decimal", "price", "price the strategy expected (slippage reference)"),
        ("status", "str", "", "new | working | partially_filled | filled | cancelled | rejected | expired"),
        ("ts_final", "timestamp", "UTC", "when the order reached its terminal status"),
        ("mode", "str", "", "limited | live"),
        ("strategy", "str", "", ""),
        ("reason", "str", "", "entry | exit | stop_loss | risk_reduction | kill_switch"),
        ("algorithm_id", "str", "", "the algorithm that generated it, an id of algorithms.yaml (RTS 6 Art. 12)"),
        ("trader_id", "str", "", "the trader responsible for it, an approved operator of the algorithm"),
        ("venue", "str", "", "the venue's MIC it was sent to, e.g. XCME"),
    ), key="order_id", sorted_by="ts", doc="every order sent to the broker"),
    TableSpec("cancels", _cols(
        ("ts", "timestamp", "UTC", "when the venue acknowledged the cancel"),
        ("order_id", "str", "", "the cancelled order, as in orders"),
        ("venue", "str", "", "the venue that acknowledged it"),
        ("reason", "str", "", "kill_switch | oco | strategy | user"),
        ("ts_requested", "timestamp", "UTC", "when the system sent the cancel request"),
    ), sorted_by="ts", doc="cancel acknowledgements, one per cancelled order"),
    TableSpec("rejections", _cols(
        ("ts", "timestamp", "UTC", "when the pre-trade control rejected the order"),
        ("order_id", "str", "", "the rejected order's client id (never in orders)"),
        ("symbol", "str", "", ""),
        ("side", "str", "", "buy | sell"),
        ("qty", "int", "contracts", ""),
        ("order_type", "str", "", "market | limit | stop | stop_limit"),
        ("limit_price", "decimal", "price", ""),
        ("reference_price", "decimal", "price", "the price the collar measured against"),
        ("algorithm_id", "str", "", ""),
        ("trader_id", "str", "", ""),
        ("venue", "str", "", ""),
        ("control_id", "str", "", "the pre-trade control of algorithms.yaml that fired"),
        ("observed_value", "decimal", "", "what the control measured, in its limit's unit"),
        ("reason", "str", "", "the control's message"),
    ), key="order_id", sorted_by="ts", doc="orders a pre-trade control refused before they reached the venue"),
    TableSpec("conformance_tests", _cols(
        ("test_id", "str", "", ""),
        ("ts", "timestamp", "UTC", "when the test completed"),
        ("venue", "str", "", "the venue's MIC"),
        ("result", "str", "", "pass | fail"),
        ("scope", "str", "", "what was tested, e.g. order entry, cancel, kill switch, market data"),
    ), key="test_id", sorted_by="ts", doc="conformance tests with venues (RTS 6 Art. 6)"),
    TableSpec("fills", _cols(
        ("ts", "timestamp", "UTC", "execution time"),
        ("fill_id", "str", "", "unique execution id (the broker's exec id)"),
        ("order_id", "str", "", ""),
        ("symbol", "str", "", ""),
        ("side", "str", "", "buy | sell"),
        ("qty", "int", "contracts", "> 0"),
        ("price", "decimal", "price", ""),
        ("fees", "decimal", "USD", "commissions and exchange fees of this fill"),
    ), key="fill_id", sorted_by="ts", doc="executions"),
    TableSpec("broker_statement", _cols(
        ("ts", "timestamp", "UTC", ""),
        ("exec_id", "str", "", "matches fills.fill_id"),
        ("order_id", "str", "", ""),
        ("symbol", "str", "", ""),
        ("side", "str", "", "buy | sell"),
        ("qty", "int", "contracts", ""),
        ("price", "decimal", "price", ""),
        ("fees", "decimal", "USD", ""),
    ), key="exec_id", doc="the broker's own list of executions"),
    TableSpec("positions", _cols(
        ("ts", "timestamp", "UTC", "snapshot time; a row whenever a position changes"),
        ("symbol", "str", "", ""),
        ("qty", "int", "contracts", "signed: > 0 long, < 0 short"),
        ("mark_price", "decimal", "price", "mark at the snapshot"),
        ("mode", "str", "", "limited | live"),
    ), sorted_by="ts", doc="position snapshots"),
    TableSpec("pnl", _cols(
        ("date", "date", "", "trading day"),
        ("strategy", "str", "", ""),
        ("symbol", "str", "", ""),
        ("signal_type", "str", "", "e.g. institutional_flow, ev_setup"),
        ("realized", "decimal", "USD", "realised P&L of the day, before fees"),
        ("unrealized", "decimal", "USD", "open P&L at the close"),
        ("fees", "decimal", "USD", ""),
    ), sorted_by="date", doc="daily P&L per strategy and instrument"),
    TableSpec("kill_switch_drills", _cols(
        ("drill_id", "str", "", ""),
        ("ts_triggered", "timestamp", "UTC", "kill switch pressed"),
        ("ts_completed", "timestamp", "UTC", "system reported every order cancelled"),
        ("kind", "str", "", "drill | live"),
    ), key="drill_id", sorted_by="ts_triggered", doc="emergency stop drills and live uses"),
    TableSpec("costs", _cols(
        ("date", "date", "", ""),
        ("category", "str", "", "e.g. market_data, platform"),
        ("amount", "decimal", "USD", ""),
    ), sorted_by="date", doc="non-fill trading costs per day"),
    TableSpec("reports", _cols(
        ("period", "str", "", "day, week or month"),
        ("period_start", "date", "", "the day, the Monday of the week, the 1st of the month"),
        ("net_pnl", "decimal", "USD", "net P&L the report states for the period"),
        ("trades", "int", "count", "closed trades the report states (optional)"),
    ), doc="the performance reports the system produced, one row per report"),
    TableSpec("kpis", _cols(
        ("period", "str", "", "week or month"),
        ("period_start", "date", "", "the Monday of the week, the 1st of the month"),
        ("kpi", "str", "", "accuracy, win_loss_ratio, roi, max_drawdown, cost, ..."),
        ("value", "float", "", "the KPI's value (fractions as ratios, money in USD)"),
        ("target", "float", "", "the KPI's target for the period"),
        ("met", "bool", "", "the system's flag: value met the target"),
    ), doc="key performance indicators the system recorded per period, with targets"),
    TableSpec("calendar", _cols(
        ("date", "date", "", ""),
        ("kind", "str", "", "earnings | expiration | fomc | ..."),
        ("symbol", "str", "", "empty: market-wide"),
    ), doc="event days (optional; expirations are also derived from instruments)"),
)}

# The v1.0 baseline daily P&L uses the pnl contract; the records file is baseline_v1_pnl.
TABLES["baseline_v1_pnl"] = TableSpec("baseline_v1_pnl", TABLES["pnl"].columns, sorted_by="date",
                                      doc="daily P&L of strategy version 1.0, same columns as pnl")
