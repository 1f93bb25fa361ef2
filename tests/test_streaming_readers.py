"""The log readers stream (issue 15.7): bad lines are named by file and line, the compact
readers give what the whole-file readers gave, memory stays a fraction of the file, and a
large input is reported ("... MB: read streaming")."""
from __future__ import annotations

import json
import logging
import random
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golive.model import CheckContext, CheckResult, Requirement, Status, Target
from golive.plugins.feed import event_log
from golive.plugins.feed.event_log import Coverage, load_events
from golive.plugins.feed.feed_events import check_reconnection_backfill, connection_from_log
from golive.plugins.feed.jsonl import LogFormatError
from golive.plugins.monitoring import jsonlines, latency, recovery
from golive.plugins.monitoring.columns import read_columns, runs
from golive.plugins.monitoring.opslog import ArtifactError, iter_jsonl, with_size_notes

T0 = datetime(2026, 11, 2, 14, 30, tzinfo=timezone.utc)
REQ = Requirement(id="REQ-01", title="t", statement="s", category="c", priority="P1", plan_lines=(1, 1))


def ctx(root: Path, **params) -> CheckContext:
    return CheckContext(target=Target(root=root), params=params, settings={}, log=logging.getLogger("t"),
                        clock=lambda: T0 + timedelta(days=2))


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def write(path: Path, lines: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for line in lines:
            fh.write(line if isinstance(line, bytes) else (line if isinstance(line, str) else json.dumps(line)).encode())
            fh.write(b"\n")
    return path


BAD_LINES = [("{not json", "not valid JSON"), ("[1, 2]", "must be a JSON object"),
             (b'{"ts": "\xff\xfe"}', "not valid UTF-8"), ("[" * 100_000, "not valid JSON")]


@pytest.mark.parametrize("bad,problem", BAD_LINES)
def test_a_malformed_line_names_the_file_and_its_line_in_every_reader(tmp_path, bad, problem):
    good = {"ts": iso(T0), "event": "connect", "latency_ms": 3}
    path = write(tmp_path / "logs" / "x.jsonl", [good, "", good, bad, good])
    with pytest.raises(ArtifactError, match=rf"x\.jsonl:4: .*{problem}"):
        list(iter_jsonl(path))
    with pytest.raises(ArtifactError, match=rf"x\.jsonl:4: .*{problem}"):
        read_columns(path, numbers=("latency_ms",))
    with pytest.raises(LogFormatError, match=rf"x\.jsonl:4: .*{problem}"):
        load_events(path)


def test_a_bad_field_names_its_line_and_checks_turn_it_into_an_error_result(tmp_path):
    path = write(tmp_path / "logs" / "feed_events.jsonl",
                 [{"ts": iso(T0), "event": "connect"}, {"ts": 10**30, "event": "disconnect"}])
    with pytest.raises(LogFormatError, match=r"feed_events\.jsonl:2: field 'ts'"):
        load_events(path)
    res = check_reconnection_backfill(REQ, ctx(tmp_path, verify_data=False))
    assert res.status is Status.ERROR and "feed_events.jsonl:2" in res.message
    write(tmp_path / "logs" / "latency.jsonl", [{"ts": iso(T0), "latency_ms": 5}, {"ts": iso(T0), "latency_ms": None}])
    res = latency.processing_latency(REQ, ctx(tmp_path))
    assert res.status is Status.ERROR and "latency.jsonl:2" in res.message and "finite number" in res.message


@pytest.mark.parametrize("raw", ["1" + "0" * 400, "NaN", "true", '"12"'])
def test_a_value_that_is_no_finite_number_is_an_error_naming_its_line(tmp_path, raw):
    write(tmp_path / "logs" / "latency.jsonl", [{"ts": iso(T0), "latency_ms": 5},
                                                '{"ts": "%s", "latency_ms": %s}' % (iso(T0), raw)])
    res = latency.processing_latency(REQ, ctx(tmp_path))
    assert res.status is Status.ERROR and "latency.jsonl:2: field 'latency_ms' must be a finite number" in res.message


def test_a_bad_number_in_a_row_the_check_skips_is_not_an_error(tmp_path):
    write(tmp_path / "logs" / "latency.jsonl", [{"ts": iso(T0), "latency_ms": 5, "stage": "end_to_end"},
                                                {"ts": iso(T0), "latency_ms": "slow", "stage": "parse"},
                                                {"ts": iso(T0), "latency_ms": 7}])
    res = latency.processing_latency(REQ, ctx(tmp_path))
    assert res.status is None and res.metrics["samples"] == 2 and res.metrics["latency_max"].value == 7
    res = latency.processing_latency(REQ, ctx(tmp_path, stage="parse"))
    assert res.status is Status.ERROR and "latency.jsonl:2" in res.message


@settings(max_examples=200, deadline=None)
@given(st.lists(st.booleans(), max_size=40))
def test_runs_match_a_scan(mask):
    starts, ends, start = [], [], None
    for i, above in enumerate(mask):  # the scan the checks used before
        if above and start is None:
            start = i
        if start is not None and (not above or i == len(mask) - 1):
            starts.append(start)
            ends.append(i)
            start = None
    got = runs(np.array(mask, dtype=bool))
    assert (got[0].tolist(), got[1].tolist()) == (starts, ends)


def _uncovered_by_scan(lo: int, hi: int, covers: list[tuple[int, int]]) -> int:
    """The interval walk reconnection_backfill used before (well-formed intervals)."""
    gaps, cursor = 0, lo
    for a, b in sorted(covers):
        if b <= cursor:
            continue
        if a > cursor:
            gaps += min(a, hi) - cursor
        cursor = max(cursor, b)
        if cursor >= hi:
            break
    if cursor < hi:
        gaps += hi - cursor
    return max(gaps, 0) if hi > lo else 0


interval = st.tuples(st.integers(0, 100), st.integers(0, 30)).map(lambda t: (t[0], t[0] + t[1]))


@settings(max_examples=300, deadline=None)
@given(st.lists(interval, max_size=8), st.lists(st.tuples(st.integers(-10, 120), st.integers(-10, 120)), min_size=1))
def test_coverage_leaves_uncovered_what_the_interval_walk_did(covers, spans):
    cov = Coverage(np.array([a for a, _ in covers], np.int64), np.array([b for _, b in covers], np.int64))
    got = cov.uncovered(np.array([lo for lo, _ in spans]), np.array([hi for _, hi in spans]))
    assert got.tolist() == [_uncovered_by_scan(lo, hi, covers) for lo, hi in spans]


def flapping_log(rng: random.Random, n: int) -> list[dict]:
    kinds = event_log.EVENTS
    rows, t = [], T0
    for _ in range(n):
        t += timedelta(seconds=rng.choice([0, 0.5, 2, 30]))
        kind = rng.choice(kinds)
        row = {"ts": iso(t) if rng.random() < 0.7 else int(t.timestamp() * 1e9), "event": kind}
        if rng.random() < 0.5:
            row["source"] = rng.choice(["a", "b"])
        if kind == "backfill" or kind == "reconnect" and rng.random() < 0.5:
            a = t - timedelta(seconds=rng.uniform(0, 20))
            row |= {"gap_start": iso(a), "gap_end": iso(a + timedelta(seconds=rng.uniform(0, 25)))}
        if kind == "backfill":
            row |= {"missing_sequences": rng.randint(0, 2), "duplicates": rng.randint(0, 1)}
        rows.append(row)
    rng.shuffle(rows)  # the log need not be in time order
    return rows


def reference(rows: list[dict]) -> dict:
    """The figures of reconnection_backfill and connection_from_log computed the plain way:
    every event kept, each disconnect paired by a scan (what the checks did before)."""
    def us(v):
        return int(v) // 1000 if isinstance(v, int) else int(datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp() * 1e6)

    events = sorted(rows, key=lambda r: us(r["ts"]))
    out = {"disconnects": 0, "reconnects": 0, "unrecovered_disconnects": 0, "unbackfilled_outages": 0,
           "backfill_uncovered_us": 0, "reconnect_max_us": 0}
    for i, e in enumerate(events):
        if e["event"] != "disconnect":
            continue
        out["disconnects"] += 1
        src = e.get("source", "")
        back = next((r for r in events[i + 1:] if r["event"] in ("reconnect", "connect") and r.get("source", "") == src), None)
        if back is None:
            out["unrecovered_disconnects"] += 1
            continue
        out["reconnects"] += 1
        lo, hi = us(back.get("gap_start", e["ts"])), us(back.get("gap_end", back["ts"]))
        covers = [(us(b["gap_start"]), us(b["gap_end"])) for b in events
                  if b["event"] == "backfill" and b.get("source", "") == src and us(b["gap_end"]) > us(b["gap_start"])]
        gap = _uncovered_by_scan(lo, hi, covers)
        out["unbackfilled_outages"] += gap > 0
        out["backfill_uncovered_us"] += gap
        out["reconnect_max_us"] = max(out["reconnect_max_us"], us(back["ts"]) - us(e["ts"]))
    connects = [us(e["ts"]) for e in events if e["event"] in ("connect", "reconnect")]
    ttfr = [us(f["ts"]) - max(c for c in connects if c <= us(f["ts"])) for f in events
            if f["event"] == "first_record" and any(c <= us(f["ts"]) for c in connects)]
    out["ttfr_max_us"] = max(ttfr) if ttfr else None
    return out


@pytest.mark.parametrize("seed", range(12))
def test_the_compact_feed_log_gives_the_figures_of_the_plain_reading(tmp_path, seed):
    rng = random.Random(seed)
    rows = flapping_log(rng, rng.randint(1, 250))
    write(tmp_path / "logs" / "feed_events.jsonl", rows)
    want = reference(rows)
    m = check_reconnection_backfill(REQ, ctx(tmp_path, verify_data=False)).metrics
    assert {k: m[k] for k in ("disconnects", "reconnects", "unrecovered_disconnects", "unbackfilled_outages")} == \
        {k: want[k] for k in ("disconnects", "reconnects", "unrecovered_disconnects", "unbackfilled_outages")}
    assert m["backfill_uncovered_s"].value == pytest.approx(want["backfill_uncovered_us"] / 1e6, abs=1e-6)
    assert m["reconnect_time_max_s"].value == pytest.approx(want["reconnect_max_us"] / 1e6, abs=1e-6)
    assert m["backfill_missing_sequences"] == sum(r.get("missing_sequences", 0) for r in rows)
    conn = connection_from_log(ctx(tmp_path)).metrics
    if want["ttfr_max_us"] is None:
        assert "time_to_first_record_ms" not in conn
    else:
        assert conn["time_to_first_record_ms"].value == pytest.approx(want["ttfr_max_us"] / 1e3, abs=1e-3)


def test_the_outage_shown_is_the_logged_line(tmp_path):
    write(tmp_path / "logs" / "feed_events.jsonl", [
        {"ts": iso(T0), "event": "connect", "source": "a"},
        {"ts": 1_793_630_000_000_000_000, "event": "disconnect", "reason": "reset", "source": "a"},
        {"ts": "2026-11-02T14:40:00Z", "event": "reconnect", "source": "a"}])
    res = check_reconnection_backfill(REQ, ctx(tmp_path, verify_data=False))
    assert res.details["outages"] == [{"source": "a", "disconnect": 1_793_630_000_000_000_000,
                                       "reconnect": "2026-11-02T14:40:00Z", "reason": "reset",
                                       "reconnect_s": 400.0, "uncovered_s": 400.0}]


def test_network_recovery_streams_the_feed_log_with_the_same_pairing(tmp_path):
    write(tmp_path / "logs" / "feed_events.jsonl", [
        {"ts": iso(T0 + timedelta(seconds=9)), "event": "reconnect", "source": "a"},
        {"ts": iso(T0), "event": "disconnect", "reason": "network", "source": "a"},
        {"ts": iso(T0 + timedelta(seconds=20)), "event": "disconnect", "reason": "gateway", "source": "b"},
        {"ts": iso(T0 + timedelta(seconds=50)), "event": "backfill", "source": "b"},
        {"ts": iso(T0 + timedelta(seconds=60)), "event": "disconnect", "source": "a"}])
    res = recovery.network_recovery(REQ, ctx(tmp_path))
    assert (res.metrics["disconnects"], res.metrics["unrecovered"]) == (3, 2)
    assert res.metrics["recovery_time_max"].value == 40.0  # b: down at 20 s .. the last (dis)connect at 60 s
    assert res.details["slowest"] == [{"source": "a", "down": "2026-11-02T14:30:00Z", "seconds": 9.0,
                                       "reason": "network"}]
    assert {u["at"] for u in res.details["unrecovered"]} == {"feed_events.jsonl:3", "feed_events.jsonl:5"}
    res = recovery.network_recovery(REQ, ctx(tmp_path, reasons=["gateway"]))
    assert (res.metrics["disconnects"], res.metrics["unrecovered"]) == (1, 1)


def _peak_bytes(func) -> int:
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_keeps_less_than_the_file_where_parsed_lines_cost_many_times_it(tmp_path):
    rng = random.Random(3)
    feed = write(tmp_path / "logs" / "feed_events.jsonl", flapping_log(rng, 30_000))
    lat = write(tmp_path / "logs" / "latency.jsonl",
                [{"ts": iso(T0 + timedelta(seconds=2 * i)), "stage": "end_to_end", "latency_ms": rng.uniform(5, 50),
                  "ok": True, "backlog": 1, "host": "trader-01", "note": "x" * 40} for i in range(30_000)])
    for path, read in ((feed, lambda: load_events(feed)),
                       (lat, lambda: read_columns(lat, numbers=("latency_ms", "backlog"), texts={"stage": "end_to_end"}))):
        size = path.stat().st_size
        whole = _peak_bytes(lambda: [json.loads(line) for line in path.read_text().splitlines()])
        kept = _peak_bytes(read)
        assert whole > 4 * size  # what reading every line into dicts costs
        assert kept < size and 6 * kept < whole, f"{path.name}: {kept} bytes kept for a {size}-byte file"


def test_a_large_input_is_reported_in_the_result_and_as_a_run_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(jsonlines, "LARGE_INPUT_BYTES", 100)
    monkeypatch.setattr(jsonlines, "_warned", set())
    monkeypatch.setattr(jsonlines, "_streamed", {})
    write(tmp_path / "logs" / "latency.jsonl", [{"ts": iso(T0 + timedelta(seconds=i)), "latency_ms": i} for i in range(20)])
    with caplog.at_level(logging.WARNING, logger="golive.plugins.inputs"):
        res = latency.processing_latency(REQ, ctx(tmp_path))
    assert res.details["large_inputs"] == ["logs/latency.jsonl is 0 MB: read streaming"]
    assert any("latency.jsonl is 0 MB: read streaming" in r.getMessage() for r in caplog.records)
    write(tmp_path / "logs" / "feed_events.jsonl", [{"ts": iso(T0), "event": "disconnect"}] * 5)
    res = check_reconnection_backfill(REQ, ctx(tmp_path, verify_data=False))
    assert res.details["large_inputs"] == ["logs/feed_events.jsonl is 0 MB: read streaming"]
    # a large file read whole (the records CSV reader) is not called streamed
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "fills.csv").write_text("ts,fill_id\n" + "2026-11-02T14:30:00Z,F1\n" * 20)
    ctx_csv = ctx(tmp_path)
    ctx_csv.record_artifact(tmp_path / "records" / "fills.csv")
    assert "large_inputs" not in with_size_notes(CheckResult(), ctx_csv).details
