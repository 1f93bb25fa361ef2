"""Active probe of the Databento Live API: connect, authenticate, subscribe to MBO, measure the
time to the first record; on a reset, let the client reconnect and backfill the gap.

``databento.Live(reconnect_policy="reconnect")`` reconnects once after an error or reset and
reports ``(gap_start, gap_end)`` to a reconnect callback, but does not backfill: the probe
opens a replay session with ``start=gap_start``, merges it with what the live sessions
delivered, drops duplicates and checks that no sequence number of any channel is missing.
The API key is passed in by the caller (from the environment) and never logged or returned.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import databento_dbn


@dataclass
class ProbeSettings:
    dataset: str = "GLBX.MDP3"
    symbols: tuple[str, ...] = ("ES.FUT",)
    stype_in: str = "parent"
    gateway: str | None = None  # None: Databento's gateway for the dataset
    port: int = 13000
    first_record_timeout_s: float = 10.0
    listen_s: float = 2.0  # how long to keep streaming after the first record
    backfill_timeout_s: float = 10.0
    backfill_margin_s: float = 1.0


@dataclass
class ProbeResult:
    connected: bool = False
    authenticated: bool = False
    error: str = ""
    connect_ms: float | None = None
    time_to_first_record_ms: float | None = None
    records: int = 0
    heartbeats: int = 0
    reconnects: list[tuple[int, int]] = field(default_factory=list)  # (gap_start, gap_end) ns
    backfill_records: int = 0
    duplicates_removed: int = 0
    missing_sequences: int = 0
    gateway_errors: list[str] = field(default_factory=list)
    backfill_from: list[int] = field(default_factory=list)  # replay start per reconnect, ns

    def metrics(self) -> dict:
        out = {"connected": int(self.connected), "authenticated": int(self.authenticated),
               "records_received": self.records, "heartbeats": self.heartbeats,
               "reconnects": len(self.reconnects), "gateway_errors": len(self.gateway_errors), "backfill_records": self.backfill_records,
               "duplicates_removed": self.duplicates_removed,
               "missing_sequences_after_backfill": self.missing_sequences}
        if self.connect_ms is not None:
            out["connect_ms"] = round(self.connect_ms, 3)
        if self.time_to_first_record_ms is not None:
            out["time_to_first_record_ms"] = round(self.time_to_first_record_ms, 3)
        if self.reconnects:
            out["reconnect_gap_max_s"] = max(e - s for s, e in self.reconnects) / 1e9
        return out


def _key(rec) -> tuple:
    return (rec.publisher_id, rec.channel_id, rec.sequence, rec.order_id, str(rec.action),
            str(rec.side), rec.price, rec.size, rec.ts_event, rec.instrument_id)


def _client(key: str, s: ProbeSettings, reconnect: bool):
    import databento

    kwargs = {"key": key, "reconnect_policy": "reconnect" if reconnect else "none"}
    if s.gateway:
        kwargs.update(gateway=s.gateway, port=s.port)
    return databento.Live(**kwargs)


def probe(key: str, settings: ProbeSettings) -> ProbeResult:
    """Run the probe; never raises for gateway or network problems (they end up in
    ``result.error``)."""
    from databento.common.error import BentoError

    res = ProbeResult()
    received: list[tuple] = []
    first = threading.Event()
    lock = threading.Lock()
    t0 = t_start = time.monotonic()

    def on_record(rec) -> None:
        if isinstance(rec, databento_dbn.MBOMsg):
            with lock:
                received.append(_key(rec))
                if not first.is_set():
                    res.time_to_first_record_ms = (time.monotonic() - t_start) * 1e3
                    first.set()
        elif isinstance(rec, databento_dbn.SystemMsg) and "eartbeat" in rec.msg:
            res.heartbeats += 1
        elif isinstance(rec, databento_dbn.ErrorMsg):
            res.gateway_errors.append(_clean(f"{getattr(rec.code, 'name', rec.code)}: {rec.err}", key))

    def on_reconnect(gap_start, gap_end) -> None:
        # the client takes gap_start from the last record of any kind; a gateway ErrorMsg can
        # be stamped after MBO records that were never delivered, so the replay starts a
        # margin earlier (duplicates are removed on merge)
        start = int(gap_start.value)
        with lock:
            if received:
                start = min(start, received[-1][8])
        res.reconnects.append((int(gap_start.value), int(gap_end.value)))
        res.backfill_from.append(start - int(settings.backfill_margin_s * 1e9))

    client = _client(key, settings, reconnect=True)
    client.add_callback(on_record)
    client.add_reconnect_callback(on_reconnect)
    try:
        client.subscribe(dataset=settings.dataset, schema="mbo", symbols=list(settings.symbols),
                         stype_in=settings.stype_in)
        res.connected = res.authenticated = True
        res.connect_ms = (time.monotonic() - t0) * 1e3
        t_start = time.monotonic()
        client.start()
        if not first.wait(settings.first_record_timeout_s):
            res.error = f"no record within {settings.first_record_timeout_s:g} s of starting the session"
        else:
            deadline = time.monotonic() + settings.listen_s
            while time.monotonic() < deadline:
                time.sleep(0.05)
        client.stop()
        client.block_for_close(timeout=5)
    except BentoError as exc:
        res.error = _clean(str(exc), key)
        res.connected = res.connected or "uthentication" in res.error
    except (OSError, ValueError) as exc:
        res.error = _clean(f"{type(exc).__name__}: {exc}", key)
    finally:
        try:
            client.terminate()
        except (BentoError, ValueError, RuntimeError):
            pass
    res.records = len(received)
    if res.reconnects and not res.error:
        _backfill(key, settings, res, received)
    return res


def _backfill(key: str, s: ProbeSettings, res: ProbeResult, received: list[tuple]) -> None:
    """Replay from the first gap's start, merge, deduplicate, count missing sequences."""
    from databento.common.error import BentoError

    gap_start = min(res.backfill_from)
    gap_end = max(g[1] for g in res.reconnects)
    replayed: list[tuple] = []
    done = threading.Event()

    def on_record(rec) -> None:
        if isinstance(rec, databento_dbn.MBOMsg):
            replayed.append(_key(rec))
            if rec.ts_event >= gap_end:
                done.set()
        elif isinstance(rec, databento_dbn.SystemMsg) and "eplay" in rec.msg:
            done.set()

    client = _client(key, s, reconnect=False)
    client.add_callback(on_record)
    try:
        client.subscribe(dataset=s.dataset, schema="mbo", symbols=list(s.symbols),
                         stype_in=s.stype_in, start=gap_start)
        client.start()
        if not done.wait(s.backfill_timeout_s):
            res.error = f"backfill did not reach the end of the gap within {s.backfill_timeout_s:g} s"
        client.stop()
        client.block_for_close(timeout=5)
    except BentoError as exc:
        res.error = "backfill: " + _clean(str(exc), key)
    finally:
        try:
            client.terminate()
        except (BentoError, ValueError, RuntimeError):
            pass
    res.backfill_records = len(replayed)
    merged = dict.fromkeys(received)
    before = len(merged) + len(replayed)
    merged.update(dict.fromkeys(replayed))
    res.duplicates_removed = before - len(merged)
    res.missing_sequences = missing_sequences(merged)


def missing_sequences(records) -> int:
    """Sequence numbers absent between each channel's lowest and highest received one."""
    by_channel: dict[tuple[int, int], set[int]] = {}
    for rec in records:
        by_channel.setdefault((rec[0], rec[1]), set()).add(rec[2])
    return sum(max(seqs) - min(seqs) + 1 - len(seqs) for seqs in by_channel.values())


def _clean(text: str, key: str) -> str:
    """Messages go into evidence: make sure the key (or its bucket suffix) never does."""
    if key:
        text = text.replace(key, "<key>")
    return text[:300]
