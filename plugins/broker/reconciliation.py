"""Trade reconciliation against the broker statement (plan lines 200-204).

Internal fills (``records/fills``) are matched to the broker's executions
(``records/broker_statement``) by execution id; a matched pair must agree exactly on order id,
symbol, side, quantity, price and fees (decimals compared exactly). Lists fills missing at the
broker, broker executions missing internally, and mismatched pairs with the differing fields.

Neither file is held. Both are validated and streamed in chunks (``records.stream``); the
statement's executions are spilled, chunk by chunk, to an on-disk SQLite table keyed by exec id
in a temporary folder (deleted when the check ends); each chunk of fills is joined to it there,
and the executions no fill matched are read back at the end. Memory is a chunk of rows, SQLite's
capped page cache and the first listed breaks, whatever the size of either file; the disk holds
about the statement's size while the check runs. Values go to SQLite as their text and come back
as the contract's types (``Decimal`` for price and fees), so comparisons stay exact.
"""
from __future__ import annotations

import sqlite3
import tempfile
from decimal import Decimal
from pathlib import Path

from golive.model import CheckResult, Status
from golive.plugins.broker import trading
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import MAX_LISTED, TimeSpan, listed, make_spec, no_data
from golive.plugins.records.common import ratio

FIELDS = ("order_id", "symbol", "side", "qty", "price", "fees")
DECODE = (str, str, str, int, Decimal, Decimal)  # each field's contract type, from its text in SQLite
CACHE_KIB = 16 * 1024  # SQLite page cache of one reconciliation


class Smallest:
    """The ``keep`` smallest items (by ``key``) of a stream, and how many there were: a sorted list
    cut to its head, without holding the whole stream."""

    def __init__(self, key=lambda item: item, keep: int = MAX_LISTED + 1) -> None:
        self.key, self.keep, self.count, self.items = key, keep, 0, []

    def add(self, item) -> None:
        self.count += 1
        self.items.append(item)
        if len(self.items) >= 8 * self.keep:
            self.items = sorted(self.items, key=self.key)[:self.keep]

    def listed(self) -> dict:
        return listed(sorted(self.items, key=self.key)[:self.keep], self.count)


class Executions:
    """The broker's executions in a SQLite table on disk, keyed by exec id: ``add`` a chunk of the
    statement, ``match`` a chunk of fills (each fill's execution fields, or None), then
    ``unmatched`` the exec ids no fill matched. A context manager: the folder goes on exit."""

    def __enter__(self) -> "Executions":
        self._folder = tempfile.TemporaryDirectory(prefix="golive-reconciliation-")
        self.db = sqlite3.connect(Path(self._folder.name) / "executions.sqlite")
        self.db.executescript(f"""
            PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = FILE;
            PRAGMA cache_size = -{CACHE_KIB};
            CREATE TABLE executions (exec_id TEXT PRIMARY KEY, order_id TEXT, symbol TEXT, side TEXT,
                                     qty TEXT, price TEXT, fees TEXT, matched INTEGER NOT NULL DEFAULT 0)
                WITHOUT ROWID;
            CREATE TABLE chunk (position INTEGER PRIMARY KEY, fill_id TEXT NOT NULL);
        """)
        return self

    def __exit__(self, *exc) -> None:
        self.db.close()
        self._folder.cleanup()

    def add(self, chunk) -> None:
        rows = zip(*(chunk[c].map(str).tolist() for c in ("exec_id", *FIELDS)))
        with self.db:
            self.db.executemany("INSERT INTO executions (exec_id, order_id, symbol, side, qty, price, fees) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def match(self, fill_ids: list[str]) -> list[tuple | None]:
        """Per fill id, in order: the execution's fields as the contract's types, or None."""
        with self.db:
            self.db.executemany("INSERT INTO chunk (position, fill_id) VALUES (?, ?)", enumerate(fill_ids))
            found = self.db.execute(
                "SELECT e.exec_id IS NOT NULL, e.order_id, e.symbol, e.side, e.qty, e.price, e.fees "
                "FROM chunk c LEFT JOIN executions e ON e.exec_id = c.fill_id ORDER BY c.position").fetchall()
            self.db.execute("UPDATE executions SET matched = 1 WHERE exec_id IN (SELECT fill_id FROM chunk)")
            self.db.execute("DELETE FROM chunk")
        return [tuple(decode(v) for decode, v in zip(DECODE, row[1:])) if row[0] else None for row in found]

    def unmatched(self):
        return (exec_id for (exec_id,) in self.db.execute("SELECT exec_id FROM executions WHERE matched = 0"))


def check(requirement, ctx) -> CheckResult:
    fills = trading.fill_scan(ctx)  # validated now; its rows are read chunk by chunk below
    stmt = trading.fill_scan(ctx, "broker_statement")  # validated as trading.fills validates it
    if fills.empty and stmt.empty:
        return no_data("no fills and no broker executions to reconcile")
    missing, mismatched, extra = Smallest(), Smallest(key=lambda m: m["exec_id"]), Smallest()
    span, broker_span, seen_at_broker = TimeSpan(), TimeSpan(), 0
    try:
        with Executions() as broker:
            for chunk in stmt:
                broker_span.add(chunk["ts"])
                broker.add(chunk)
            for chunk in fills:
                span.add(chunk["ts"])
                for r, theirs in zip(chunk.itertuples(index=False), broker.match(chunk["fill_id"].tolist())):
                    if theirs is None:
                        missing.add(r.fill_id)
                        continue
                    seen_at_broker += 1
                    ours = tuple(getattr(r, f) for f in FIELDS)
                    diffs = {f: {"internal": str(a), "broker": str(b)}
                             for f, a, b in zip(FIELDS, ours, theirs) if a != b}
                    if diffs:
                        mismatched.add({"exec_id": r.fill_id, "fields": diffs})
            for exec_id in broker.unmatched():
                extra.add(exec_id)
    except (OSError, sqlite3.Error) as exc:  # no room or no access where temporary files go
        return CheckResult(status=Status.ERROR, message=(
            f"{requirement.id}: the broker statement could not be set aside on disk in {tempfile.gettempdir()} "
            f"({type(exc).__name__}: {exc}); it needs about {stmt.path.stat().st_size / 1e6:,.0f} MB free there: "
            "point TMPDIR at a folder with room and run again"))
    _then(span, broker_span)
    breaks = missing.count + extra.count + mismatched.count
    matched = seen_at_broker - mismatched.count
    return observe(CheckResult(
        metrics={"missing_at_broker": missing.count, "extra_at_broker": extra.count, "mismatched": mismatched.count,
                 "breaks": breaks, "reconciled": matched,
                 "reconciled_share": ratio(matched / max(len(fills), len(stmt)))},
        message=f"{matched} executions reconciled; {missing.count} missing at broker, {extra.count} extra, "
                f"{mismatched.count} mismatched",
        details={"rule": "fills.fill_id = broker_statement.exec_id; order_id, symbol, side, qty, price, fees equal",
                 "missing_at_broker": missing.listed(), "extra_at_broker": extra.listed(),
                 "mismatched": mismatched.listed()}),
        "fills and broker executions", span.ends, events=span.events)


def _then(span: TimeSpan, later: TimeSpan) -> None:
    """``span.add`` of all the times ``later`` saw: their count, earliest and latest."""
    if later.events:
        span.events += later.events
        span.ends = [min([*span.ends[:1], later.ends[0]]), max([*span.ends[1:], later.ends[1]])]


SPEC = make_spec("broker", "reconciliation", check, "internal fills reconciled with the broker statement",
                 ("missing_at_broker", "extra_at_broker", "mismatched", "breaks", "reconciled", "reconciled_share"))
