"""Session-aware MBO quality: every record gets a segment (snapshot, pre-open/auction,
continuous, halted) from its flags, the venue calendar and Databento status records, and only
continuous trading is judged for latency, ordering, silences and crossed books.

Real data (../shared/data/dbn-real, skipped when absent): ESH4 on Christmas 2023 (a book
snapshot, the 16:00-17:00 CT pre-open with a crossed book, the 17:00 CT reopen auction with
side-N fills, then an hour of continuous trading) and the NDEX sample (orders re-entered at the
08:00 Amsterdam open, stamped with their original entry times). Synthetic files are real DBN
written with databento_dbn; every expected figure is recomputed from an independent decode
(``DBNStore.to_df()``) or from the times the test chose."""
from __future__ import annotations

import math
import sys
from datetime import datetime, timezone
from pathlib import Path

import databento
import databento_dbn
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examples.dbn_fixtures import MBO_DTYPE, metadata_bytes  # noqa: E402
from golive.plugins.feed.dbn_quality import QualityOptions, check_file  # noqa: E402
from golive.plugins.feed.grouped import GroupedOrder  # noqa: E402
from golive.plugins.feed.sessions import (SEG_CONTINUOUS, SEG_HALTED, SEG_PRE_OPEN,  # noqa: E402
                                          SEG_SNAPSHOT, SessionError, SessionPlan)

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dbn-real"
real = pytest.mark.skipif(not REAL.is_dir(), reason=f"no real DBN samples at {REAL}")
F_LAST, F_SNAPSHOT = 128, 32
S = 10**9


def utc(text: str) -> int:
    moment = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    return int(moment.replace(microsecond=0).timestamp()) * S + moment.microsecond * 1000


def decoded(path: Path):
    return databento.DBNStore.from_file(path).to_df(pretty_ts=False, map_symbols=False).reset_index()


def records(times, instruments=1, event_lag_ns=1_000_000, events=None) -> np.ndarray:
    """Bid adds (never a crossed book), one per ``ts_recv`` in ``times``, instruments taken in
    turn, consecutive sequence numbers on channel 0."""
    n = len(times)
    recs = np.zeros(n, MBO_DTYPE)
    recs["length"], recs["rtype"], recs["publisher_id"] = 14, 160, 1
    recs["instrument_id"] = 1 + np.arange(n) % instruments
    recs["ts_recv"] = times
    recs["ts_event"] = np.asarray(times) - event_lag_ns if events is None else events
    recs["action"], recs["side"], recs["price"], recs["size"] = b"A", b"B", 100 * S, 1
    recs["order_id"] = 1 + np.arange(n)
    recs["flags"] = F_LAST
    recs["sequence"] = 1000 + np.arange(n)
    return recs


def write(path: Path, parts, start: int, end: int, dataset="GLBX.MDP3", instruments=None) -> Path:
    """DBN file: metadata, then ``parts`` (record arrays or raw record bytes) in order."""
    instruments = instruments or {1: "ESH4", 2: "NQH4"}
    body = b"".join(p.tobytes() if isinstance(p, np.ndarray) else p for p in parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(metadata_bytes(instruments, start, end, dataset) + body)
    return path


def status(inst: int, ts: int, action, trading: str) -> bytes:
    return bytes(databento_dbn.StatusMsg(publisher_id=1, instrument_id=inst, ts_event=ts - 1_000_000,
                                         ts_recv=ts, action=action, is_trading=databento_dbn.TriState(trading)))


# -- the calendar ----------------------------------------------------------------------------
def test_cme_sessions_halt_window_holiday_and_early_close():
    plan = SessionPlan.for_dataset("GLBX.MDP3", utc("2023-12-21"), utc("2023-12-28"))
    # Globex 17:00-16:00 CT: CMES closes at 17:00 CT, trading stops at 16:00 CT (22:00 UTC);
    # Friday 22 Dec is the last session before Christmas, the next opens Monday 25 Dec 17:00 CT
    assert plan.trading_intervals(utc("2023-12-22"), utc("2023-12-27")) == [
        (utc("2023-12-21T23:00"), utc("2023-12-22T22:00")),
        (utc("2023-12-25T23:00"), utc("2023-12-26T22:00")),
        (utc("2023-12-26T23:00"), utc("2023-12-27T22:00"))]
    t = np.array([utc("2023-12-26T15:00"), utc("2023-12-26T22:30"), utc("2023-12-25T18:00"),
                  utc("2023-12-23T18:00"), utc("2023-12-26T23:00:00.5"), utc("2023-12-26T23:00:00.5")],
                 np.uint64)
    ev = t - np.uint64(1000)
    ev[4] = utc("2023-12-26T22:59:59")  # received after the open, entered before it
    seg = plan.classify(t, ev, np.array([0, 0, 0, 0, 0, F_SNAPSHOT], np.uint8), np.ones(6, np.uint32))
    assert seg.tolist() == [SEG_CONTINUOUS, SEG_PRE_OPEN, SEG_HALTED, SEG_HALTED, SEG_PRE_OPEN, SEG_SNAPSHOT]
    # an early close (Thanksgiving 2023: 12:00 CT) is the calendar's, not 16:00 CT
    thanks = SessionPlan.for_dataset("GLBX.MDP3", utc("2023-11-23"), utc("2023-11-24"))
    assert (utc("2023-11-22T23:00"), utc("2023-11-23T18:00")) in thanks.trading_intervals()


def test_venue_hours_of_other_datasets():
    day = utc("2024-01-18"), utc("2024-01-19")
    assert SessionPlan.for_dataset("IFEU.IMPACT", *day).trading_intervals() == [
        (utc("2024-01-18T01:00"), utc("2024-01-18T23:00"))]  # 01:00-23:00 London (GMT)
    assert SessionPlan.for_dataset("NDEX.IMPACT", *day).trading_intervals() == [
        (utc("2024-01-18T07:00"), utc("2024-01-18T17:00"))]  # 08:00-18:00 Amsterdam (CET)
    for ds in ("XNAS.ITCH", "XNYS.PILLAR", "DBEQ.BASIC"):
        assert SessionPlan.for_dataset(ds, *day).trading_intervals() == [
            (utc("2024-01-18T14:30"), utc("2024-01-18T21:00"))]
    assert SessionPlan.for_dataset("IFEU.IMPACT", utc("2023-12-25"), utc("2023-12-26")).trading_intervals() == []


def test_an_unknown_dataset_has_no_calendar_and_says_so(tmp_path):
    t0 = utc("2023-12-25T12:00")  # a holiday at CME: unknown venue, so continuous anyway
    f = write(tmp_path / "x.dbn", [records(t0 + np.arange(10) * S)], t0, t0 + 20 * S, dataset="ABCD.XYZ")
    res = check_file(f)
    m = res["metrics"]
    assert (m["continuous_records"], m["pre_open_records"], m["halted_records"]) == (10, 0, 0)
    assert res["sessions"]["calendar"] is None
    assert any("no session calendar for dataset 'ABCD.XYZ'" in n for n in res["sessions"]["notes"])
    assert res["trading_intervals"] == [(t0, t0 + 20 * S)]


def test_a_plan_override_gives_the_hours(tmp_path):
    t0 = utc("2024-01-16T13:00")  # Tuesday 08:00 New York
    times = t0 + np.arange(4) * 3600 * S  # 08:00, 09:00, 10:00, 11:00 ET
    f = write(tmp_path / "x.dbn", [records(times)], t0, t0 + 4 * 3600 * S, dataset="ABCD.XYZ")
    opts = QualityOptions(sessions={"calendar": "XNYS", "open": "09:30", "close": "16:00",
                                    "timezone": "America/New_York", "pre_open_minutes": 60})
    res = check_file(f, opts)
    assert [s["segment"] for s in res["segments"]] == ["halted", "pre_open", "continuous"]
    assert res["sessions"]["source"] == "plan override"
    with pytest.raises(SessionError, match="unknown key"):
        QualityOptions(sessions={"opens": "09:30"})
    with pytest.raises(SessionError, match="calendar"):
        QualityOptions(sessions={"calendar": "NOPE"})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 12 * 86400 * S), min_size=1, max_size=300),
       st.lists(st.integers(0, 3 * 3600 * S), min_size=1, max_size=300))
def test_classify_equals_a_record_by_record_reading(offsets, lags):
    """The vectorised classification against a plain loop over the plan's sessions."""
    base = utc("2023-12-18")
    plan = SessionPlan.for_dataset("GLBX.MDP3", base, base + 12 * 86400 * S)
    recv = np.array([base + o for o in offsets], np.uint64)
    ev = recv - np.array([lags[i % len(lags)] for i in range(len(recv))], np.uint64)
    seg = plan.classify(recv, ev, np.zeros(len(recv), np.uint8), np.ones(len(recv), np.uint32))
    sessions = plan.trading_intervals(base - 86400 * S, base + 13 * 86400 * S)
    for r, e, got in zip(recv.tolist(), ev.tolist(), seg.tolist()):
        want = SEG_HALTED
        prev_close = None
        for o, c in sessions:
            if o <= r < c:
                want = SEG_PRE_OPEN if e < o else SEG_CONTINUOUS
                break
            if max(o - 3600 * S, prev_close or 0) <= r < o:
                want = SEG_PRE_OPEN
                break
            prev_close = c
        assert got == want, (r, e)


# -- real data -------------------------------------------------------------------------------
@real
def test_christmas_2023_session_segments_against_an_independent_decode():
    """snapshot at start (00:00 UTC), pre-open from 16:00 CT with a crossed book, reopen
    auction at 17:00 CT (side-N fills), an hour of continuous trading: no defect."""
    path = REAL / "mbo" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
    res = check_file(path)
    m = res["metrics"]
    df = decoded(path)
    flags = df["flags"].to_numpy().astype(np.int64)
    recv, ev = (df[k].to_numpy().astype(np.int64) for k in ("ts_recv", "ts_event"))
    snap = (flags & F_SNAPSHOT) != 0
    open_ = utc("2023-12-25T23:00")
    cont = ~snap & (recv >= open_) & (ev >= open_)
    pre = ~snap & ~cont & (recv >= open_ - 3600 * S)
    assert m["mbo_records"] == len(df)
    assert (m["snapshot_records"], m["pre_open_records"], m["continuous_records"], m["halted_records"]) == (
        int(snap.sum()), int(pre.sum()), int(cont.sum()), 0)
    assert [s["segment"] for s in res["segments"]] == ["snapshot", "pre_open", "continuous"]
    # the crossed pre-open book is not a defect; side-N fills are the uncross, not unknown orders
    assert m["crossed_episodes"] == 0 and m["pre_open_crossed_episodes"] >= 1
    assert all(not e["defect"] for e in res["violations"]["auction_crossed_or_locked"])
    assert m["unknown_order_events"] == 0
    assert m["side_none_fills"] == int((df["side"].eq("N") & df["action"].isin(["T", "F"])).sum())
    lat = np.sort(recv[cont] - ev[cont])
    p99 = lat[math.ceil(0.99 * len(lat)) - 1]
    assert abs(m["latency_p99_ms"] * 1e6 - p99) <= 1000 and m["latency_p99_ms"] < 50
    assert m["latency_max_ms"] == lat[-1] / 1e6  # continuous only: not the snapshot's hours
    assert m["ts_event_regressions"] == 0 and m["ts_recv_regressions"] == 0
    assert res["trading_intervals"] == [(open_, utc("2023-12-26"))]
    assert res["sessions"]["calendar"] == "CMES"


@real
def test_ndex_orders_re_entered_at_the_open_are_pre_open():
    path = REAL / "samples" / "NDEX.IMPACT.test_data.mbo.dbn.zst"
    res = check_file(path)
    df = decoded(path)
    open_ = utc("2024-01-18T07:00")  # 08:00 Amsterdam
    recv, ev = (df[k].to_numpy().astype(np.int64) for k in ("ts_recv", "ts_event"))
    assert (recv >= open_).all() and (ev < open_).all()  # received at the open, entered before
    assert (np.diff(ev) < 0).any()  # their entry times go back and forth ...
    m = res["metrics"]
    assert m["pre_open_records"] == len(df) and m["continuous_records"] == 0
    assert m["ts_event_regressions"] == 0  # ... which is no ordering defect


@real
def test_the_sunday_snapshot_file_is_all_snapshot():
    res = check_file(REAL / "mbo" / "esh4-glbx-mdp3-20231224.mbo.dbn.zst")
    assert res["metrics"]["snapshot_records"] == res["metrics"]["mbo_records"] == 8725
    assert res["trading_intervals"] == []  # Christmas Eve 2023 was a Sunday before a holiday


# -- synthetic files -------------------------------------------------------------------------
def test_a_status_halt_switches_its_instrument_only(tmp_path):
    t0 = utc("2023-12-27T15:00")  # Wednesday 09:00 CT: continuous by the calendar
    times = t0 + S // 2 + np.arange(120) * S // 2  # 0.5 s apart, two instruments in turn
    recs = records(times, instruments=2)
    halt, resume = t0 + 20 * S, t0 + 40 * S
    cut1, cut2 = np.searchsorted(times, [halt, resume])
    parts = [recs[:cut1], status(1, halt, databento_dbn.StatusAction.HALT, "N"),
             recs[cut1:cut2], status(1, resume, databento_dbn.StatusAction.TRADING, "Y"), recs[cut2:]]
    f = write(tmp_path / "status.dbn", parts, t0, t0 + 61 * S)
    res = check_file(f)
    # independent decode: databento's record iterator (to_df cannot split a mixed-rtype file)
    decoded_recs = list(databento.DBNStore.from_file(f))
    mbo = [r for r in decoded_recs if isinstance(r, databento_dbn.MBOMsg)]
    statuses = [r for r in decoded_recs if isinstance(r, databento_dbn.StatusMsg)]
    inst = np.array([r.instrument_id for r in mbo])
    recv = np.array([r.ts_recv for r in mbo], np.int64)
    halted = (inst == 1) & (recv >= statuses[0].ts_recv) & (recv < statuses[1].ts_recv)
    m = res["metrics"]
    assert m["mbo_records"] == len(mbo) == 120 and m["status_records"] == len(statuses) == 2
    assert m["halted_records"] == int(halted.sum()) > 0
    assert m["continuous_records"] == len(mbo) - int(halted.sum())
    assert res["by_instrument"]["1"]["halted_records"] == int(halted.sum())
    assert res["by_instrument"]["2"].get("halted_records", 0) == 0
    assert res["sessions"]["status_instruments"] == [1]


def test_a_silence_in_continuous_trading_is_flagged_and_the_halt_is_not(tmp_path):
    # Tuesday 26 Dec 2023: trading until 16:00 CT (22:00 UTC), reopen 17:00 CT
    quiet = (utc("2023-12-26T21:52"), utc("2023-12-26T21:54"))
    before = np.arange(utc("2023-12-26T21:50"), utc("2023-12-26T22:00"), S // 2)
    before = before[(before < quiet[0]) | (before >= quiet[1])]
    halt = np.array([utc("2023-12-26T22:30"), utc("2023-12-26T22:50")])
    after = np.arange(utc("2023-12-26T23:00:00.5"), utc("2023-12-26T23:00:05"), S // 2)
    times = np.concatenate([before, halt, after])
    f = write(tmp_path / "gap.dbn", [records(times)], utc("2023-12-26T21:50"), utc("2023-12-26T23:00:05"))
    res = check_file(f)
    m = res["metrics"]
    assert (m["pre_open_records"], m["continuous_records"]) == (2, len(before) + len(after))
    # the longest silence inside trading hours comes first, though the halt is longer
    assert res["silences"][0] == [quiet[0] - S // 2, quiet[1]]
    assert res["trading_intervals"] == [(utc("2023-12-26T21:50"), utc("2023-12-26T22:00")),
                                        (utc("2023-12-26T23:00"), utc("2023-12-26T23:00:05"))]


def test_an_instrument_selection_skips_the_others(tmp_path):
    t0 = utc("2023-12-27T15:00")
    recs = records(t0 + np.arange(100) * S // 10, instruments=2)
    f = write(tmp_path / "two.dbn", [recs], t0, t0 + 20 * S)
    res = check_file(f, QualityOptions(instruments=["NQH4", "ZZZ9", 77]))
    m = res["metrics"]
    assert m["mbo_records"] == 50 and m["records_not_selected"] == 50
    assert list(res["by_instrument"]) == ["2"]
    assert res["instruments_not_found"] == ["ZZZ9", 77]
    assert "filtered by the plan's instruments" in res["not_judged"]["sequence_gaps"]
    # each checked record keeps its place in the file
    assert res["segments"][0]["first_index"] == 1 and res["segments"][0]["last_index"] == 99
    by_id = check_file(f, QualityOptions(instruments=[1, 2]))
    assert by_id["metrics"]["records_not_selected"] == 0 and "sequence_gaps" not in by_id["not_judged"]
    with pytest.raises(ValueError):
        QualityOptions(instruments="ESH4")


# -- grouped ---------------------------------------------------------------------------------
@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 50)), min_size=1, max_size=200),
       st.integers(1, 40))
def test_previous_max_sorted_returns_the_records_own_values(rows, chunk):
    """Across chunks: each record's own value, the running maximum of its group's earlier
    values, and whether there was one (the carried maximum must not replace a first value)."""
    codes = np.array([c for c, _ in rows], np.uint16)
    vals = np.array([v for _, v in rows], np.uint32)
    carry, ok = np.zeros(4, np.uint64), np.zeros(4, bool)
    best: dict[int, int] = {}
    for a in range(0, len(rows), chunk):
        g = GroupedOrder(codes[a:a + chunk])
        sv, prev, valid = g.previous_max_sorted(vals[a:a + chunk], carry, ok)
        for k, pos in enumerate(g.order.tolist()):
            c, v = int(codes[a + pos]), int(vals[a + pos])
            assert int(sv[k]) == v
            assert bool(valid[k]) == (c in best)
            if c in best:
                assert int(prev[k]) == best[c]
            best[c] = max(best.get(c, v), v)



def test_a_calendar_built_outside_the_catch_warnings_block_prints_no_pandas_deprecation(tmp_path):
    """Seen on nautilus_trader: exchange-calendars' pandas 3.1 deprecation ('Series.values returning
    an ndarray that drops timezone') reached stderr four times a run: checks build calendars in
    threads, and another thread's ``catch_warnings`` restores the global filters mid-build, dropping
    ``_calendar``'s own ignore. That state is built here directly: a calendar made with only the
    filters importing the sessions module installed, in an interpreter showing every warning."""
    import subprocess
    import sys

    script = ("import exchange_calendars as xcals\n"
              "from golive.plugins.feed import sessions  # noqa: F401 (installs golive's filters)\n"
              "xcals.get_calendar('XNYS', start='2020-01-01', end='2021-12-31')\n"
              "print('built')\n")
    res = subprocess.run([sys.executable, "-W", "default", "-c", script], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert res.returncode == 0 and "built" in res.stdout, res.stderr
    assert "drops timezone" not in res.stderr, res.stderr
