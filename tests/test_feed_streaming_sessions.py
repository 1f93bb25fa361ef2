"""PRE-FEED-03 (mbo_streaming) on venue sessions: trading hours come from each dataset's exchange
calendar, only hours inside the files' covered ranges are observed, a holiday or a halt is
neither observed nor silent, and the time between unrelated files is never a silence.

Real data (../shared/data/dbn-real, skipped when absent): ESH4 on 24 Dec 2023 (Sunday before
Christmas: a book snapshot only, CME closed) and 25 Dec 2023 (CME reopened at 17:00 CT = 23:00
UTC: one hour of trading in the file's range). Expected silences are recomputed from an
independent decode (``DBNStore.to_df()``)."""
from __future__ import annotations

import shutil

import json
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path

import databento
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from golive.model import CheckContext, Status, Target  # noqa: E402
from golive.plugins.feed.feed_events import check_mbo_streaming, check_reconnection_backfill  # noqa: E402
from tests.test_feed_sessions import S, records, utc, write  # noqa: E402

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dbn-real"
real = pytest.mark.skipif(not REAL.is_dir(), reason=f"no real DBN samples at {REAL}")
ESH4_24, ESH4_25 = "mbo/esh4-glbx-mdp3-20231224.mbo.dbn.zst", "mbo/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
NOW = datetime(2024, 1, 2, tzinfo=timezone.utc)


def ctx(root: Path, **params) -> CheckContext:
    return CheckContext(target=Target(root=root), params=params, settings={},
                        log=logging.getLogger("test"), clock=lambda: NOW)


@real
def test_the_sunday_snapshot_file_observes_no_trading_hours():
    res = check_mbo_streaming(None, ctx(REAL, files=[ESH4_24]))
    assert res.status is Status.MISSING
    assert "covers no trading hours" in res.message and "CMES" in res.message
    assert res.metrics["market_hours_observed_s"].value == 0


@real
def test_christmas_day_is_not_a_silence():
    res = check_mbo_streaming(None, ctx(REAL, files=[ESH4_24, ESH4_25]))
    assert res.status is None, res.message
    m = res.metrics
    assert m["market_hours_observed_s"].value == 3600  # 23:00-24:00 UTC on the 25th only
    # the longest silence: gaps between the 25th's live records, inside 23:00-24:00 UTC
    df = databento.DBNStore.from_file(REAL / ESH4_25).to_df(pretty_ts=False, map_symbols=False).reset_index()
    live = df[(df["flags"].to_numpy().astype(np.int64) & 32) == 0]
    t = live["ts_recv"].to_numpy().astype(np.int64)
    lo, hi = utc("2023-12-25T23:00"), utc("2023-12-26T00:00")
    edges = np.concatenate([[lo], np.clip(t, lo, hi), [hi]])
    assert m["max_silence_market_hours_s"].value == pytest.approx(np.diff(edges).max() / 1e9, abs=1e-6)
    assert m["max_silence_market_hours_s"].value < 60  # not the 23,400 s of Christmas Day
    assert res.details["sessions"]["GLBX.MDP3"]["calendar"] == "CMES"


@real
def test_the_plans_us_hours_keep_the_nyse_holidays(plan_streaming_params):
    """PRE-FEED-03 as the plan words it (regular US hours on XNYS days): Christmas Day is a
    holiday, so the two ES files cover no regular hours -- missing, not a 23,400 s silence."""
    res = check_mbo_streaming(None, ctx(REAL, files=[ESH4_24, ESH4_25], **plan_streaming_params))
    assert res.status is Status.MISSING and "covers no trading hours" in res.message
    assert "no session of XNYS in it (the plan market_hours)" in res.message
    assert res.metrics["max_silence_market_hours_s"].value == 0


@pytest.fixture()
def plan_streaming_params():
    from golive.plan import load

    req = next(r for r in load().requirements if r.id == "PRE-FEED-03")
    return {k: v for k, v in req.check.params.items() if k != "max_age"}  # 2023 data: not stale here


def test_unrelated_files_are_not_a_silence_and_a_gap_in_trading_is(tmp_path):
    # two CME days months apart, each a 10-min recording inside continuous trading (10:00 CT);
    # the second has 90 s without records
    a0, b0 = utc("2023-06-07T15:00"), utc("2023-11-08T16:00")
    times_b = np.arange(b0, b0 + 600 * S, S // 4)
    times_b = times_b[(times_b < b0 + 200 * S) | (times_b >= b0 + 290 * S)]
    write(tmp_path / "data" / "a.dbn", [records(np.arange(a0, a0 + 600 * S, S // 4))], a0, a0 + 600 * S)
    write(tmp_path / "data" / "b.dbn", [records(times_b)], b0, b0 + 600 * S)
    res = check_mbo_streaming(None, ctx(tmp_path))
    assert res.status is None, res.message
    assert res.metrics["market_hours_observed_s"].value == 1200  # not the months between
    assert res.metrics["max_silence_market_hours_s"].value == pytest.approx(90.25)
    assert res.details["files_joined_inside_a_session"] == 0


def test_a_recording_stopped_inside_a_session_is_a_silence(tmp_path):
    t0 = utc("2023-11-08T16:00")  # Wednesday 10:00 CT; live captures: no metadata end
    write(tmp_path / "data" / "a.dbn", [records(np.arange(t0, t0 + 60 * S, S // 4))], t0, None)
    t1 = t0 + 100 * S  # the recorder came back 40.25 s after its last record
    write(tmp_path / "data" / "b.dbn", [records(np.arange(t1, t1 + 60 * S, S // 4))], t1, None)
    res = check_mbo_streaming(None, ctx(tmp_path))
    assert res.metrics["max_silence_market_hours_s"].value == pytest.approx(40.25)
    assert res.details["files_joined_inside_a_session"] == 1


def test_market_hours_override(tmp_path):
    t0 = utc("2023-11-08T16:00")  # 11:00 New York
    write(tmp_path / "data" / "a.dbn", [records(np.arange(t0, t0 + 60 * S, S // 4))], t0, t0 + 60 * S,
          dataset="ABCD.XYZ")
    closed = {"timezone": "America/New_York", "open": "12:00", "close": "16:00"}
    res = check_mbo_streaming(None, ctx(tmp_path, market_hours=closed))
    assert res.status is Status.MISSING  # the plan's hours start after the recording
    opened = dict(closed, open="09:30")
    assert check_mbo_streaming(None, ctx(tmp_path, market_hours=opened)).metrics[
        "market_hours_observed_s"].value == 60
    bad = check_mbo_streaming(None, ctx(tmp_path, market_hours={"opening": "09:30"}))
    assert bad.status is Status.ERROR and "opening" in bad.message


@real
def test_sequences_around_an_outage_in_filtered_data_are_not_judged(tmp_path):
    (tmp_path / "data").mkdir()
    shutil.copyfile(REAL / ESH4_25, tmp_path / "data" / "esh4.dbn.zst")  # a link out of the target is refused
    log = tmp_path / "logs" / "feed_events.jsonl"
    log.parent.mkdir()
    rows = [{"ts": "2023-12-25T23:30:00Z", "event": "disconnect"},
            {"ts": "2023-12-25T23:30:02Z", "event": "reconnect"},
            {"ts": "2023-12-25T23:30:03Z", "event": "backfill", "gap_start": "2023-12-25T23:30:00Z",
             "gap_end": "2023-12-25T23:30:02Z"}]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = check_reconnection_backfill(None, ctx(tmp_path))
    around = res.details["data_around_outages"][0]
    assert around["records"] > 0
    assert res.metrics["missing_sequences_around_outages"].startswith("not judged:")
    assert "filtered data" in around["not_judged"] and "ESH4" in around["not_judged"]
