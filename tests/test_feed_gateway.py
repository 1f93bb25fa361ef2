"""The real databento Live client against the loopback fake gateway: good key, bad key,
gateway error, silence, reset → reconnect → backfill; and the key never leaks into results."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.dbn_fixtures import simulate  # noqa: E402
from fakegateway import FakeGateway  # noqa: E402

from golive.model import CheckContext, Status, Target  # noqa: E402
from golive.plugins.feed.connection import check_live_connection  # noqa: E402
from golive.plugins.feed.live_probe import ProbeSettings, missing_sequences, probe  # noqa: E402

KEY = "db-Fake0Key0For0Loopback0Tests0Xyz"


@pytest.fixture(scope="module")
def records():
    recs, _ = simulate(["ESZ6", "NQZ6"], 1_500, seed=5)
    return recs


def settings(port: int, **kw) -> ProbeSettings:
    base = dict(gateway="127.0.0.1", port=port, symbols=("ESZ6", "NQZ6"), stype_in="raw_symbol",
                first_record_timeout_s=2.0, listen_s=0.3, backfill_timeout_s=5.0)
    base.update(kw)
    return ProbeSettings(**base)


def test_good_key_streams_every_record(records):
    with FakeGateway(records, KEY, "good") as gw:
        res = probe(KEY, settings(gw.port))
    assert res.error == "" and res.authenticated
    assert res.records == len(records)
    assert res.time_to_first_record_ms is not None and res.time_to_first_record_ms > 0
    assert gw.log.auth_ok == 1 and gw.log.subscriptions[0]["schema"] == "mbo"


def test_bad_key_is_refused(records):
    with FakeGateway(records, KEY, "good") as gw:
        res = probe(KEY[:-1] + "Q", settings(gw.port))
    assert not res.authenticated and res.records == 0
    assert "Authentication failed" in res.error
    assert gw.log.auth_failed == 1


def test_gateway_error_is_reported_and_recovered(records):
    with FakeGateway(records, KEY, "gateway_error", reset_after=300, lost=40) as gw:
        res = probe(KEY, settings(gw.port))
    assert res.gateway_errors == ["INTERNAL_ERROR: Internal gateway error"]
    assert len(res.reconnects) == 1 and res.backfill_records > 0
    assert res.missing_sequences == 0
    assert gw.log.sessions == ["live", "live", "replay"]


def test_silence_fails_after_the_timeout(records):
    with FakeGateway(records, KEY, "silence") as gw:
        res = probe(KEY, settings(gw.port, first_record_timeout_s=0.5))
    assert res.authenticated and res.time_to_first_record_ms is None
    assert "no record within 0.5 s" in res.error


def test_reset_reconnect_backfill_closes_the_gap(records):
    with FakeGateway(records, KEY, "reset", reset_after=400, lost=75) as gw:
        res = probe(KEY, settings(gw.port))
    live_only = res.records
    assert live_only == len(records) - 75  # the reset lost 75 records
    assert len(res.reconnects) == 1
    gap_start, gap_end = res.reconnects[0]
    assert gap_end > gap_start
    assert res.backfill_records >= 75 and res.duplicates_removed > 0
    assert res.missing_sequences == 0
    assert gw.log.sessions == ["live", "live", "replay"]
    replay = [s for s in gw.log.subscriptions if "start" in s]
    assert int(replay[0]["start"]) <= int(records["ts_event"][399])


def test_missing_sequences_counts_holes_per_channel():
    recs = [(1, 0, s, 0) for s in (1, 2, 5)] + [(1, 1, s, 0) for s in (10, 11)]
    assert missing_sequences(recs) == 2


def _ctx(tmp_path, **params) -> CheckContext:
    return CheckContext(target=Target(root=tmp_path), params=params, settings={},
                        log=logging.getLogger("test"))


def test_check_probe_pass_metrics_and_no_key_in_output(records, tmp_path, monkeypatch):
    monkeypatch.setenv("GOLIVE_TEST_DATABENTO_KEY", KEY)
    with FakeGateway(records, KEY, "good") as gw:
        res = check_live_connection(None, _ctx(tmp_path, mode="probe", key_env="GOLIVE_TEST_DATABENTO_KEY",
                                               probe={"gateway": "127.0.0.1", "port": gw.port,
                                                      "symbols": ["ESZ6"], "stype_in": "raw_symbol",
                                                      "listen_s": 0.2}))
    assert res.status is None
    assert res.metrics["authenticated"] == 1 and res.metrics["records_received"] == len(records)
    assert res.metrics["time_to_first_record_ms"].unit == "ms"
    text = json.dumps({"m": str(res.metrics), "d": res.details, "msg": res.message})
    assert KEY not in text and KEY[-5:] not in text


def test_check_probe_silence_is_fail(records, tmp_path, monkeypatch):
    monkeypatch.setenv("GOLIVE_TEST_DATABENTO_KEY", KEY)
    with FakeGateway(records, KEY, "silence") as gw:
        res = check_live_connection(None, _ctx(tmp_path, mode="probe", key_env="GOLIVE_TEST_DATABENTO_KEY",
                                               probe={"gateway": "127.0.0.1", "port": gw.port,
                                                      "first_record_timeout_s": 0.5}))
    assert res.status is Status.FAIL and "no record" in res.message


def test_check_unreachable_gateway_is_skipped_or_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GOLIVE_TEST_DATABENTO_KEY", KEY)
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    params = dict(mode="probe", key_env="GOLIVE_TEST_DATABENTO_KEY",
                  probe={"gateway": "127.0.0.1", "port": port})
    assert check_live_connection(None, _ctx(tmp_path, **params)).status is Status.SKIPPED
    res = check_live_connection(None, _ctx(tmp_path, mandatory=True, **params))
    assert res.status is Status.ERROR and "unreachable" in res.message


def test_check_without_key_falls_back_to_the_log(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABENTO_API_KEY", raising=False)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "feed_events.jsonl").write_text("\n".join(json.dumps(e) for e in [
        {"ts": "2026-11-02T14:29:58Z", "event": "connect", "dataset": "GLBX.MDP3"},
        {"ts": "2026-11-02T14:29:58.2Z", "event": "subscribed", "schema": "mbo"},
        {"ts": "2026-11-02T14:29:58.45Z", "event": "first_record"},
    ]) + "\n")
    res = check_live_connection(None, _ctx(tmp_path))
    assert res.status is None
    assert (res.metrics["connected"], res.metrics["subscription_acks"]) == (1, 1)
    assert res.metrics["time_to_first_record_ms"].value == pytest.approx(450.0)
    assert check_live_connection(None, _ctx(tmp_path, mode="probe")).status is Status.SKIPPED
