"""Feed checks that read the target's logs (events, cache, cost) and the API authentication
check; plus the plugin's registration through pluggy."""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path

import pluggy
import pytest
from jsonschema import Draft202012Validator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.dbn_fixtures import simulate, write_records  # noqa: E402

import golive.hookspecs  # noqa: E402
import golive.plugins.feed as feed  # noqa: E402
from golive.model import CheckContext, Quantity, Status, Target  # noqa: E402
from golive.plugins.feed.auth import check_api_authentication  # noqa: E402
from golive.plugins.feed.cache_cost import check_api_cost, check_cache_efficiency  # noqa: E402
from golive.plugins.feed.feed_events import check_mbo_streaming, check_reconnection_backfill  # noqa: E402
from golive.plugins.feed.sessions import SessionPlan  # noqa: E402

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def ctx(root: Path, **params) -> CheckContext:
    return CheckContext(target=Target(root=root), params=params, settings={},
                        log=logging.getLogger("test"), clock=lambda: NOW)


def write_log(root: Path, name: str, rows: list[dict]) -> Path:
    path = root / "logs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_plugin_registers_through_pluggy_with_valid_schemas():
    pm = pluggy.PluginManager("golive")
    pm.add_hookspecs(golive.hookspecs)
    pm.register(feed)
    specs = [s for group in pm.hook.golive_checks() for s in group]
    assert {s.key for s in specs} == {f"feed.{n}" for n in (
        "mbo_quality", "mbo_streaming", "reconnection_backfill", "live_connection",
        "api_authentication", "cache_efficiency", "api_cost")}
    for s in specs:
        Draft202012Validator.check_schema(s.params_schema)
        assert s.metrics and s.description


EVENTS = [
    {"ts": "2026-11-02T14:30:00Z", "event": "connect"},
    {"ts": "2026-11-02T15:00:00Z", "event": "disconnect", "reason": "connection reset"},
    {"ts": "2026-11-02T15:00:04Z", "event": "reconnect",
     "gap_start": "2026-11-02T14:59:59.9Z", "gap_end": "2026-11-02T15:00:04Z"},
    {"ts": "2026-11-02T15:00:06Z", "event": "backfill", "gap_start": "2026-11-02T14:59:59Z",
     "gap_end": "2026-11-02T15:00:04.5Z", "records": 1200, "duplicates": 0, "missing_sequences": 0},
    {"ts": "2026-11-02T16:00:00Z", "event": "disconnect", "reason": "heartbeat timeout"},
    {"ts": "2026-11-02T16:00:30Z", "event": "reconnect"},
    {"ts": "2026-11-02T16:00:31Z", "event": "backfill", "gap_start": "2026-11-02T16:00:00Z",
     "gap_end": "2026-11-02T16:00:20Z", "records": 900},
    {"ts": "2026-11-02T20:00:00Z", "event": "disconnect", "reason": "gateway closed"},
]


def test_reconnection_and_backfill_coverage(tmp_path):
    write_log(tmp_path, "feed_events.jsonl", EVENTS)
    res = check_reconnection_backfill(None, ctx(tmp_path, verify_data=False))
    m = res.metrics
    assert (m["disconnects"], m["reconnects"], m["unrecovered_disconnects"]) == (3, 2, 1)
    assert m["reconnect_time_max_s"] == Quantity(30.0, "s")
    assert m["unbackfilled_outages"] == 1  # the second outage is backfilled only to 16:00:20
    assert m["backfill_uncovered_s"] == Quantity(10.0, "s")


def test_reconnection_checks_the_recorded_data_too(tmp_path):
    write_log(tmp_path, "feed_events.jsonl", EVENTS[:4])
    recs, truth = simulate(["ESZ6"], 3_000, seed=9, defects=["gap"])
    write_records(tmp_path / "data" / "glbx.dbn", recs, truth.instruments)
    res = check_reconnection_backfill(None, ctx(tmp_path))
    assert res.metrics["missing_sequences_in_data"] == 1 and res.metrics["duplicates_in_data"] == 0


def test_bad_event_line_names_file_and_line(tmp_path):
    path = write_log(tmp_path, "feed_events.jsonl", EVENTS[:2])
    with path.open("a") as fh:
        fh.write('{"ts": "2026-11-02T15:00:00Z", "event": "teleport"}\n')
    res = check_reconnection_backfill(None, ctx(tmp_path, verify_data=False))
    assert res.status is Status.ERROR and f"{path}:3" in res.message and "teleport" in res.message


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 10**9


def test_market_hours_override_follows_the_exchange_time_zone():
    """The plan's ``market_hours`` shape (the 09:30-16:00 New York default plus a holiday)
    through the SessionPlan API the streaming check uses."""
    lo, hi = (_ns(datetime(2026, 11, d, tzinfo=timezone.utc)) for d in (25, 28))
    plan = SessionPlan.for_dataset("", lo, hi, {"holidays": ["2026-11-26"]})
    sessions = plan.trading_intervals()  # Wed, (Thanksgiving skipped), Fri; EST: 14:30-21:00 UTC
    assert [(datetime.fromtimestamp(a / 1e9, timezone.utc).isoformat(), (b - a) / 3.6e12)
            for a, b in sessions] == [("2026-11-25T14:30:00+00:00", 6.5), ("2026-11-27T14:30:00+00:00", 6.5)]
    summer = SessionPlan.for_dataset("", _ns(datetime(2026, 6, 29, tzinfo=timezone.utc)),
                                     _ns(datetime(2026, 7, 3, tzinfo=timezone.utc)), {"days": [0, 1, 2, 3, 4]})
    edt_0945, edt_0915 = (_ns(datetime(2026, 7, 1, 13, m, tzinfo=timezone.utc)) for m in (45, 15))
    assert summer.trading_intervals(edt_0945, edt_0945 + 1)  # EDT: 09:45 local is inside
    assert not summer.trading_intervals(edt_0915, edt_0915 + 1)  # 09:15 local is before the open


def test_streaming_finds_a_silence_inside_market_hours(tmp_path):
    recs, truth = simulate(["ESZ6", "NQZ6"], 6_000, seed=4,
                           start_ns=int(datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc).timestamp() * 1e9))
    later = recs[3_000:].copy()
    for col in ("ts_event", "ts_recv"):
        later[col] += 45_000_000_000  # the feed went quiet for 45 s
    write_records(tmp_path / "data" / "a.dbn", recs[:3_000], truth.instruments)
    write_records(tmp_path / "data" / "b.dbn.zst", later, truth.instruments)
    write_log(tmp_path, "feed_events.jsonl", EVENTS)
    res = check_mbo_streaming(None, ctx(tmp_path))
    assert res.status is None
    assert res.metrics["max_silence_market_hours_s"].value == pytest.approx(45, abs=0.5)
    assert res.metrics["sequence_gaps"] == 0 and res.metrics["market_hours_disconnects"] == 3  # 10:00, 11:00, 15:00 EST


def test_streaming_outside_market_hours_is_missing(tmp_path):
    recs, truth = simulate(["ESZ6"], 2_000, seed=4,
                           start_ns=int(datetime(2026, 11, 1, 15, 0, tzinfo=timezone.utc).timestamp() * 1e9))
    write_records(tmp_path / "data" / "sunday.dbn", recs, truth.instruments)
    assert check_mbo_streaming(None, ctx(tmp_path)).status is Status.MISSING


def test_cache_efficiency(tmp_path):
    rows = [{"ts": "2026-11-02T10:00:00Z", "hit": False, "bytes": 4_000_000, "cost_usd": 0.40},
            {"ts": "2026-11-02T10:05:00Z", "hit": True, "bytes": 4_000_000, "cost_usd": 0.40},
            {"ts": "2026-11-02T10:06:00Z", "hit": True, "bytes": 1_000_000, "cost_usd": 0.10},
            {"ts": "2026-11-02T10:07:00Z", "hit": True, "bytes": 1_000_000}]
    write_log(tmp_path, "cache_stats.jsonl", rows)
    res = check_cache_efficiency(None, ctx(tmp_path))
    m = res.metrics
    assert m["cache_hit_ratio"] == Quantity(0.75, "ratio")
    assert m["cache_bytes_saved"] == Quantity(6_000_000, "B")
    assert m["cache_usd_saved"].value == pytest.approx(0.50)
    assert len(res.details["formula"]) > 10


def test_cache_bad_field_type_is_error(tmp_path):
    path = write_log(tmp_path, "cache_stats.jsonl", [{"ts": "2026-11-02T10:00:00Z", "hit": "yes", "bytes": 1}])
    res = check_cache_efficiency(None, ctx(tmp_path))
    assert res.status is Status.ERROR and f"{path}:1" in res.message and "'hit'" in res.message
    assert check_cache_efficiency(None, ctx(tmp_path, log="logs/none.jsonl")).status is Status.MISSING


def test_api_cost_daily_monthly_and_projection(tmp_path):
    rows = [{"ts": f"2026-11-{d:02d}T15:00:00Z", "endpoint": "timeseries.get_range", "cost_usd": c}
            for d, c in [(3, 2.5), (3, 3.0), (10, 9.25), (18, 4.0)]]
    rows.append({"ts": "2026-10-30T15:00:00Z", "cost_usd": 50.0})
    write_log(tmp_path, "api_usage.jsonl", rows)
    res = check_api_cost(None, ctx(tmp_path))
    m = res.metrics
    assert m["daily_cost_max_usd"] == Quantity(50.0, "USD/day")  # 2026-10-30, whole log
    assert m["daily_cost_today_usd"] == Quantity(0.0, "USD/day")
    assert m["month_to_date_usd"] == Quantity(18.75, "USD")
    elapsed = 19 + 12 / 24  # 2026-11-20 12:00 UTC
    # month to date + run rate (since the first usage, 2026-10-30: 21.5 days, $68.75) x remaining days
    rate = 68.75 / 21.5
    assert m["run_rate_usd_per_day"].value == pytest.approx(rate, rel=1e-5)
    assert m["month_projection_usd"].value == pytest.approx(18.75 + rate * (30 - elapsed), rel=1e-5)
    assert m["monthly_cost_max_usd"] == Quantity(50.0, "USD/month")
    assert res.details["daily_usd"]["2026-11-03"] == 5.5


def test_api_cost_planned_requests_without_key_are_reported_not_priced(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABENTO_API_KEY", raising=False)
    write_log(tmp_path, "api_usage.jsonl", [{"ts": "2026-11-02T15:00:00Z", "cost_usd": 1.0}])
    res = check_api_cost(None, ctx(tmp_path, planned=[{"dataset": "GLBX.MDP3", "start": "2026-11-02"}]))
    assert "planned_cost_usd" not in res.metrics
    assert "no API key" in res.details["planned_not_priced"]


def test_authentication_without_key_is_skipped(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABENTO_API_KEY", raising=False)
    res = check_api_authentication(None, ctx(tmp_path))
    assert res.status is Status.SKIPPED and "DATABENTO_API_KEY" in res.message


def test_authentication_unreachable_is_skipped_or_error_and_never_leaks_the_key(tmp_path, monkeypatch):
    key = "db-SecretKeyValue1234567890abc"
    monkeypatch.setenv("GOLIVE_TEST_KEY", key)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    params = dict(key_env="GOLIVE_TEST_KEY", gateway=f"http://127.0.0.1:{port}", timeout_s=2)
    res = check_api_authentication(None, ctx(tmp_path, **params))
    assert res.status is Status.SKIPPED and res.metrics["key_format_ok"] == 1
    res = check_api_authentication(None, ctx(tmp_path, mandatory=True, **params))
    assert res.status is Status.ERROR
    assert key not in res.message and key[-5:] not in json.dumps(res.details)


def test_authentication_against_a_loopback_api(tmp_path, monkeypatch):
    import base64
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    good = "db-GoodKeyValue1234567890abcd"

    class Api(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server API)
            sent = self.headers.get("Authorization", "")
            ok = sent == "Basic " + base64.b64encode(f"{good}:".encode()).decode()
            body = json.dumps(["GLBX.MDP3", "XNAS.ITCH"] if ok else {"detail": "Authentication failed."})
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        params = dict(key_env="GOLIVE_TEST_KEY", gateway=f"http://127.0.0.1:{server.server_port}",
                      dataset="GLBX.MDP3")
        monkeypatch.setenv("GOLIVE_TEST_KEY", good)
        res = check_api_authentication(None, ctx(tmp_path, **params))
        assert res.status is None and res.metrics["authenticated"] == 1
        assert res.metrics["dataset_entitled"] == 1 and res.metrics["datasets_visible"] == 2
        monkeypatch.setenv("GOLIVE_TEST_KEY", "db-WrongKeyValue1234567890abc")
        res = check_api_authentication(None, ctx(tmp_path, **params))
        assert res.status is None and res.metrics["authenticated"] == 0 and "401" in res.message
    finally:
        server.shutdown()


def test_detection_time_is_measured_from_the_last_record(tmp_path):
    start = datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)
    recs, truth = simulate(["ESZ6"], 3_000, seed=9, start_ns=int(start.timestamp() * 1e9))
    write_records(tmp_path / "data" / "glbx.dbn", recs, truth.instruments)
    last = datetime.fromtimestamp(int(recs["ts_recv"][-1]) / 1e9, tz=timezone.utc)
    from datetime import timedelta
    write_log(tmp_path, "feed_events.jsonl", [
        {"ts": start.isoformat(), "event": "connect"},
        {"ts": (last + timedelta(seconds=12)).isoformat(), "event": "heartbeat_timeout"},
        {"ts": (last + timedelta(seconds=12.5)).isoformat(), "event": "disconnect"},
        {"ts": (last + timedelta(seconds=14)).isoformat(), "event": "reconnect"}])
    res = check_reconnection_backfill(None, ctx(tmp_path))
    assert res.metrics["detection_time_max_s"].value == pytest.approx(12.5, abs=1e-3)
    assert res.details["detection_times_s"] == pytest.approx([12.0, 12.5], abs=1e-3)


def test_outages_pair_within_one_source(tmp_path):
    write_log(tmp_path, "feed_events.jsonl", [
        {"ts": "2026-11-02T15:00:00Z", "event": "disconnect", "source": "databento"},
        {"ts": "2026-11-02T15:00:01Z", "event": "reconnect", "source": "barchart"},
        {"ts": "2026-11-02T15:00:09Z", "event": "reconnect", "source": "databento"},
        {"ts": "2026-11-02T15:00:10Z", "event": "backfill", "source": "databento",
         "gap_start": "2026-11-02T14:59:59Z", "gap_end": "2026-11-02T15:00:09Z"}])
    m = check_reconnection_backfill(None, ctx(tmp_path, verify_data=False)).metrics
    assert m["reconnect_time_max_s"] == Quantity(9.0, "s") and m["unbackfilled_outages"] == 0


def test_api_cost_prices_planned_requests_with_get_cost(tmp_path, monkeypatch):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from urllib.parse import parse_qs

    seen = []

    class Api(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server API)
            body = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            seen.append((self.path, body))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"12.5")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("GOLIVE_TEST_KEY", "db-PlannedKeyValue1234567890ab")
        write_log(tmp_path, "api_usage.jsonl", [{"ts": "2026-11-02T15:00:00Z", "cost_usd": 100.0}])
        planned = [{"dataset": "GLBX.MDP3", "schema": "mbo", "symbols": ["ESZ6"],
                    "start": "2026-11-20", "end": "2026-11-21"}]
        res = check_api_cost(None, ctx(tmp_path, planned=planned, key_env="GOLIVE_TEST_KEY",
                                       gateway=f"http://127.0.0.1:{server.server_port}"))
    finally:
        server.shutdown()
    assert seen[0][0] == "/v0/metadata.get_cost" and seen[0][1]["schema"] == ["mbo"]
    assert res.metrics["planned_cost_usd"] == Quantity(12.5, "USD")
    projection = res.metrics["month_projection_usd"].value
    assert res.metrics["month_projection_with_planned_usd"].value == pytest.approx(projection + 12.5)


def test_reconnection_without_data_is_missing_when_data_is_required(tmp_path):
    write_log(tmp_path, "feed_events.jsonl", EVENTS[:4])
    assert check_reconnection_backfill(None, ctx(tmp_path)).status is None
    res = check_reconnection_backfill(None, ctx(tmp_path, require_data=True))
    assert res.status is Status.MISSING and "needs recorded data" in res.message
