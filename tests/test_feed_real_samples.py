"""MBO quality on real Databento files (../shared/data/dbn-real, read in place): no false alarms
from book snapshots, auctions or symbol-filtered sequence numbers.

Every expected figure is recomputed here from an independent decode
(``databento.DBNStore.from_file(...).to_df()``), not copied from the checker's output; the
expected verdicts say what the data is (see SOURCES.txt and docs/feed-artifacts.md)."""
from __future__ import annotations

import logging
import math
import sys
from pathlib import Path

import databento
import databento_dbn
import jsonschema
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import golive.plugins.feed.dbn_quality as dq  # noqa: E402
from golive.model import CheckContext, Status, Target  # noqa: E402
from golive.plugins.feed.dbn_quality import QualityOptions, check_file  # noqa: E402
from golive.plugins.feed.dbn_reader import MBO_DTYPE  # noqa: E402
from golive.plugins.feed.quality_check import QUALITY_SCHEMA, check_mbo_quality  # noqa: E402
from golive.run.verdict import judge  # noqa: E402
from tests.test_feed_plan import host, plan  # noqa: E402,F401  (the plan's data-ingestion section)

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dbn-real"
F_SNAPSHOT = 32
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"no real DBN samples at {REAL}")

MBO_FILES = ["mbo/esh4-glbx-mdp3-20231224.mbo.dbn.zst", "mbo/esh4-glbx-mdp3-20231225.mbo.dbn.zst",
             "samples/GLBX.MDP3.test_data.mbo.dbn.zst", "samples/IFEU.IMPACT.test_data.mbo.dbn.zst",
             "samples/NDEX.IMPACT.test_data.mbo.dbn.zst", "samples/XNAS.ITCH.test_data.mbo.dbn.zst",
             "samples/dbn.test_data.mbo.v2.dbn", "samples/test_data.mbo.v1.dbn.zst",
             "samples/test_data.mbo.v3.dbn"]
# PRE-FEED-04 on each file alone: status and the thresholds that do not hold. Why:
# - esh4 12-24: a book snapshot only (8,725 records, every one F_SNAPSHOT): nothing wrong.
# - esh4 12-25: the snapshot, then the Christmas-evening session: one symbol (ESH4) of its
#   channel, so the channel's numbers skip the other symbols' messages (3,666 jumps in 46,942
#   steps): sequence continuity cannot be judged; the pre-open book is crossed until the
#   17:00 CT opening auction (an auction, not a fault); its 35 side-N fills are the uncross.
# - IFEU / NDEX samples: 4 records each whose ts_event goes back within the instrument (the
#   venues stamp trades/adds out of order in these extracts); IFEU's and XNAS's numbers jump
#   (symbol-filtered: not judged).
# - the 2-record cancel samples and the GLBX snapshot sample: nothing wrong.
# A file without a record in continuous trading (a snapshot only, or the minutes before an open)
# observed no latency, ordering or book in trading: missing, never a pass.
EXPECTED = {
    "mbo/esh4-glbx-mdp3-20231224.mbo.dbn.zst": (Status.MISSING, []),
    "mbo/esh4-glbx-mdp3-20231225.mbo.dbn.zst": (Status.PARTIAL, ["sequence_gaps"]),
    "samples/GLBX.MDP3.test_data.mbo.dbn.zst": (Status.MISSING, []),
    "samples/IFEU.IMPACT.test_data.mbo.dbn.zst": (Status.PARTIAL, ["sequence_gaps", "ts_event_regressions"]),
    "samples/NDEX.IMPACT.test_data.mbo.dbn.zst": (Status.MISSING, []),
    "samples/XNAS.ITCH.test_data.mbo.dbn.zst": (Status.MISSING, []),
    "samples/dbn.test_data.mbo.v2.dbn": (Status.PASS, []),
    "samples/test_data.mbo.v1.dbn.zst": (Status.PASS, []),
    "samples/test_data.mbo.v3.dbn": (Status.PASS, []),
}


# Continuous trading of each file's day, in UTC, written from the venues' published hours (not
# from golive's session code): [open, close). Records received inside it, with ts_event at or
# after the open (an order entered before the open is a pre-open order), are continuous.
_T = np.datetime64
CONTINUOUS = {
    # CME Globex is closed on Christmas Day 2023 until the 17:00 CT (23:00 UTC) reopen
    "mbo/esh4-glbx-mdp3-20231225.mbo.dbn.zst": ("2023-12-25T23:00", "2023-12-26T22:00"),
    # Sunday 24 December 2023: no Globex session (a snapshot only)
    "mbo/esh4-glbx-mdp3-20231224.mbo.dbn.zst": ("2023-12-24T00:00", "2023-12-24T00:00"),
    # Monday 28 December 2020: the session opened Sunday 17:00 CT, closes 16:00 CT
    "samples/GLBX.MDP3.test_data.mbo.dbn.zst": ("2020-12-27T23:00", "2020-12-28T22:00"),
    "samples/dbn.test_data.mbo.v2.dbn": ("2020-12-27T23:00", "2020-12-28T22:00"),
    "samples/test_data.mbo.v1.dbn.zst": ("2020-12-27T23:00", "2020-12-28T22:00"),
    "samples/test_data.mbo.v3.dbn": ("2020-12-27T23:00", "2020-12-28T22:00"),
    # ICE Futures Europe 01:00-23:00 London (GMT in January)
    "samples/IFEU.IMPACT.test_data.mbo.dbn.zst": ("2024-01-18T01:00", "2024-01-18T23:00"),
    # ICE Endex 08:00-18:00 Amsterdam (CET): its 4 records are orders entered before the open
    "samples/NDEX.IMPACT.test_data.mbo.dbn.zst": ("2024-01-18T07:00", "2024-01-18T17:00"),
    # Nasdaq regular session 09:30-16:00 ET (EST): its 4 records are from the 04:01 ET early session
    "samples/XNAS.ITCH.test_data.mbo.dbn.zst": ("2020-12-28T14:30", "2020-12-28T21:00"),
}


def continuous(rel: str, df):
    lo, hi = (int(_T(t, "ns").astype(np.int64)) for t in CONTINUOUS[rel])
    recv = df["ts_recv"].to_numpy().astype(np.int64)
    event = df["ts_event"].to_numpy().astype(np.int64)
    snap = (df["flags"].to_numpy().astype(np.int64) & F_SNAPSHOT) != 0
    return df[~snap & (recv >= lo) & (recv < hi) & (event >= lo)]


def decoded(rel: str):
    df = databento.DBNStore.from_file(REAL / rel).to_df(pretty_ts=False, map_symbols=False)
    return df.reset_index()


def truth(df, trading) -> dict:
    """The figures the checker must report, computed from the pandas decode; ``trading`` is its
    continuous-trading part (:data:`CONTINUOUS`), which latency and ordering judge."""
    flags = df["flags"].to_numpy().astype(np.int64)
    snap = (flags & F_SNAPSHOT) != 0
    live = df[~snap]
    out = {"mbo_records": len(df), "snapshot_records": int(snap.sum()),
           "side_none_fills": int((df["side"].isin(["N"]) & df["action"].isin(["T", "F"])).sum())}
    gaps = missing = steps = 0
    for _, ch in live.groupby(["publisher_id", "channel_id"], sort=False):
        seq = ch["sequence"].to_numpy().astype(np.int64)
        received = np.unique(seq[seq >= seq[0]])  # numbers below a channel's first are not gaps
        d = np.diff(received)
        gaps += int((d > 1).sum())
        missing += int((d - 1)[d > 1].sum())
        steps += len(received) - 1
    out.update(sequence_gaps=gaps, missing_sequences=missing, sequence_steps=steps)
    # ts_event going back against the instrument's previous record in trading; ts_recv against the file's
    out["ts_event_regressions"] = int(sum((np.diff(g["ts_event"].to_numpy().astype(np.int64)) < 0).sum()
                                          for _, g in trading.groupby("instrument_id", sort=False)))
    out["ts_recv_regressions"] = int((np.diff(trading["ts_recv"].to_numpy().astype(np.int64)) < 0).sum())
    out["continuous_records"] = len(trading)
    lat = np.sort(trading["ts_recv"].to_numpy().astype(np.int64) - trading["ts_event"].to_numpy().astype(np.int64))
    out["latency_p99_ns"] = int(lat[max(math.ceil(0.99 * len(lat)), 1) - 1]) if len(lat) else None
    return out


@pytest.fixture(scope="module")
def pre_feed_04(plan):
    return next(r for r in plan.section("PRE-FEED").requirements if r.id == "PRE-FEED-04")


def plan_params(req) -> dict:
    """The requirement's params without max_age: the samples are 2020-2024 data, which the
    plan's max_age would skip as stale (staleness: test_feed_dataset)."""
    return {k: v for k, v in req.check.params.items() if k != "max_age"}


def run_check(root: Path, files: list[str], req=None):
    params = plan_params(req) if req is not None else {}
    ctx = CheckContext(target=Target(root=root), params={**params, "files": files}, settings={},
                       log=logging.getLogger("test"))
    return check_mbo_quality(req, ctx)


@pytest.mark.parametrize("rel", MBO_FILES)
def test_figures_match_an_independent_decode(rel):
    res = check_file(REAL / rel)
    df = decoded(rel)
    want = truth(df, continuous(rel, df))
    m = res["metrics"]
    for k in ("mbo_records", "snapshot_records", "continuous_records", "side_none_fills", "sequence_gaps",
              "missing_sequences", "sequence_steps", "ts_event_regressions", "ts_recv_regressions"):
        assert m[k] == want[k], (k, m[k], want[k])
    # snapshot records carry no latency, order, duplicate or sequence judgement
    assert m["late_records"] == 0 and m["duplicates_exact"] == 0
    if want["latency_p99_ns"] is not None and want["continuous_records"]:  # 1 us bins, bin middle
        assert abs(m["latency_p99_ms"] * 1e6 - want["latency_p99_ns"]) <= 1000
    assert res["limits_hit"] == []


@pytest.mark.parametrize("chunk", [1 << 16, 4825])  # 4825: the uncross trade opens a chunk
def test_the_christmas_session_in_detail(chunk):
    rel = "mbo/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
    res = check_file(REAL / rel, QualityOptions(chunk_records=chunk))
    m = res["metrics"]
    df = decoded(rel)
    snap = (df["flags"].to_numpy().astype(np.int64) & F_SNAPSHOT) != 0
    assert snap[:8725].all() and not snap[8725:].any()  # the snapshot opens the file
    live = df[~snap]
    lat = (live["ts_recv"] - live["ts_event"]).to_numpy().astype(np.int64)
    assert m["latency_max_ms"] == lat.max() / 1e6  # not the snapshot's order times (hours)
    assert m["latency_p99_ms"] < 5 and m["bad_ts_recv_flags"] == 0
    # the auction: the book is crossed in the pre-open until the side-N uncross trade
    assert m["crossed_episodes"] == 0 and m["auction_crossed_episodes"] == 1
    (ep,) = res["violations"]["auction_crossed_or_locked"]
    first_n = int(np.flatnonzero(df["side"].to_numpy() == "N")[0])
    assert ep["end_index"] == first_n - 1 and df["action"][first_n] == "T"
    assert m["unknown_order_events"] == 0 and m["side_none_fills"] == 35 + 1
    # one symbol of a channel: the gaps are counted exactly but not judged
    assert (m["sequence_gaps"], m["missing_sequences"]) == (3666, 7686)
    assert "cannot be judged from filtered data" in res["not_judged"]["sequence_gaps"]
    assert "ESH4" in res["not_judged"]["sequence_gaps"]


@pytest.mark.parametrize("rel", MBO_FILES)
def test_pre_feed_04_verdict_per_sample(rel, pre_feed_04):
    result = check_mbo_quality(pre_feed_04, CheckContext(
        target=Target(root=REAL), params={**plan_params(pre_feed_04), "files": [rel]},
        settings={}, log=logging.getLogger("test")))
    out = judge(pre_feed_04, result, [], [])
    status, failing = EXPECTED[rel]
    assert (out.status, sorted(t.metric for t in out.thresholds if not t.passed)) == (status, failing), out.reason
    if "sequence_gaps" in failing:
        assert "not judged" in out.reason and "filtered data" in out.reason
    if status is Status.MISSING:
        assert "no MBO record in continuous trading" in out.reason


def test_files_of_other_schemas_are_checked_by_their_rules_not_errors(pre_feed_04):
    """PRE-FEED-04 reads every schema: other files get their schema's checks (test_feed_dataset
    has the mbo-only selection, where they are noted as not selected)."""
    pytest.importorskip("golive.plugins.feed.schema_quality")
    others = run_check(REAL, ["other/*.dbn", "other/*.dbn.zst"], pre_feed_04)
    assert others.status is Status.MISSING  # an MBO requirement without MBO data
    assert "no MBO records" in others.message and "other/test_data.trades.dbn (trades)" in others.message
    assert others.metrics["files_not_mbo"] == 11 and others.metrics["files_unreadable"] == 0
    assert others.metrics["records"] == sum(len(decoded(f"other/{p.name}")) for p in (REAL / "other").iterdir())
    mixed = run_check(REAL, ["other/test_data.trades.dbn", "samples/test_data.mbo.v3.dbn"], pre_feed_04)
    out = judge(pre_feed_04, mixed, [], [])
    assert out.status is Status.PASS
    assert "checked by the rules of their schema: other/test_data.trades.dbn (trades)" in out.reason
    assert [f["schema"] for f in mixed.details["files"]] == ["trades", "mbo"]
    assert "checks_applied" in mixed.details["files"][0]


def test_a_live_capture_with_gateway_records():
    res = check_file(REAL / "live/test_data.live.dbn.zst")
    m = res["metrics"]
    assert (m["records"], m["mbo_records"]) == (46, 5)
    assert "a live capture" in res["not_judged"]["sequence_gaps"]


def _meta(start: int, symbols=("ALL_SYMBOLS",)) -> bytes:
    return bytes(databento_dbn.Metadata(
        dataset="GLBX.MDP3", start=start, end=start + 10**12, stype_in=databento_dbn.SType.RAW_SYMBOL,
        stype_out=databento_dbn.SType.INSTRUMENT_ID, schema=databento_dbn.Schema.MBO,
        symbols=list(symbols), mappings=[]))


def test_zero_records_is_missing_never_pass(tmp_path, pre_feed_04):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "empty.dbn").write_bytes(_meta(1_700_000_000 * 10**9))
    assert len(databento.DBNStore.from_file(tmp_path / "data" / "empty.dbn").to_df()) == 0
    res = run_check(tmp_path, ["data/*.dbn"], pre_feed_04)
    out = judge(pre_feed_04, res, [], [])
    assert out.status is Status.MISSING and "no MBO records" in out.reason and "empty.dbn" in out.reason


def _channel_with_gaps(n_gaps: int, late_every: int):
    """A whole-channel file: sequence 1.. with every 3rd..: a gap of (k % 4) + 1 numbers after
    each of ``n_gaps`` records; every ``late_every``-th missing number arrives late, at the end."""
    seq, missing = [], []
    s = 1
    for k in range(n_gaps):
        seq.append(s)
        width = k % 4 + 1
        missing.extend(range(s + 1, s + 1 + width))
        s += 1 + width
    seq.append(s)
    late = missing[::late_every]
    all_seq = np.array(seq + late, dtype=np.uint64)
    n = len(all_seq)
    recs = np.zeros(n, dtype=MBO_DTYPE)
    recs["length"], recs["rtype"], recs["publisher_id"], recs["instrument_id"] = 14, 160, 1, 42
    t0 = 1_700_010_000 * 10**9  # 2023-11-14 19:00 CT: CME Globex continuous trading
    recs["ts_event"] = t0 + np.arange(n, dtype=np.uint64) * 1000
    recs["ts_recv"] = recs["ts_event"] + 50_000
    recs["order_id"] = np.arange(1, n + 1)
    recs["price"], recs["size"], recs["flags"] = 100 * 10**9, 1, 128
    recs["action"], recs["side"] = b"A", b"B"
    recs["sequence"] = all_seq
    return recs, t0, set(missing) - set(late)


def test_sequence_gaps_are_exact_past_a_thousand(tmp_path):
    recs, t0, still_missing = _channel_with_gaps(3_000, late_every=7)
    path = tmp_path / "whole.dbn"
    path.write_bytes(_meta(t0) + recs.tobytes())
    df = databento.DBNStore.from_file(path).to_df()
    assert len(df) == len(recs) and df["sequence"].iloc[-1] == recs["sequence"][-1]
    res = check_file(path, QualityOptions(chunk_records=1024))
    runs = np.diff(np.array(sorted(still_missing)))
    assert res["metrics"]["missing_sequences"] == len(still_missing)
    assert res["metrics"]["sequence_gaps"] == 1 + int((runs > 1).sum())
    assert res["not_judged"] == {} and res["limits_hit"] == []
    assert len(res["violations"]["sequence_gaps"]) == 50  # listed: the first 50 by place
    # number 2 (missing before record 1) arrived late; 4-5, missing before record 2, never did
    assert res["violations"]["sequence_gaps"][0] == {"index": 2, "channel": "publisher 1 channel 0",
                                                     "missing": [4, 5]}


def test_a_limit_hit_makes_the_sequence_figures_not_judged(tmp_path, monkeypatch, pre_feed_04):
    recs, t0, _ = _channel_with_gaps(300, late_every=5)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "whole.dbn").write_bytes(_meta(t0) + recs.tobytes())
    monkeypatch.setattr(dq, "MAX_GAP_RANGES", 100)
    res = run_check(tmp_path, ["data/*.dbn"], pre_feed_04)
    (f,) = res.details["files"]
    assert f["limits_hit"] and "open sequence gap ranges" in f["not_judged"]["sequence_gaps"]
    assert f["metrics"]["sequence_gaps"] > 0  # still counted, for information
    out = judge(pre_feed_04, res, [], [])
    assert out.status is not Status.PASS and "sequence_gaps = not judged" in out.reason


def test_whole_channel_data_is_judged_and_filtered_data_is_not(tmp_path):
    recs, t0, still_missing = _channel_with_gaps(50, late_every=3)
    whole, filtered = tmp_path / "whole.dbn", tmp_path / "one-symbol.dbn"
    whole.write_bytes(_meta(t0) + recs.tobytes())
    filtered.write_bytes(_meta(t0, ["ESZ6"]) + recs.tobytes())
    a, b = check_file(whole), check_file(filtered)
    assert a["metrics"]["missing_sequences"] == b["metrics"]["missing_sequences"] == len(still_missing)
    assert a["not_judged"] == {}
    assert "symbol-filtered data (ESZ6" in b["not_judged"]["missing_sequences"]


def test_sequence_scope_is_channel_only():
    jsonschema.validate({"sequence_scope": "channel"}, QUALITY_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"sequence_scope": "instrument"}, QUALITY_SCHEMA)
    with pytest.raises(ValueError, match="only 'channel'"):
        check_file(REAL / "samples/test_data.mbo.v3.dbn", QualityOptions(sequence_scope="instrument"))


def test_an_empty_mbo_file_among_others_never_passes(tmp_path, pre_feed_04):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a-empty.dbn").write_bytes(_meta(1_700_000_000 * 10**9))
    recs, t0, _ = _channel_with_gaps(0, late_every=1)  # one clean record
    (tmp_path / "data" / "b-one.dbn").write_bytes(_meta(t0) + recs.tobytes())
    out = judge(pre_feed_04, run_check(tmp_path, ["data/*.dbn"], pre_feed_04), [], [])
    assert out.status is Status.PARTIAL and "0 MBO records in data/a-empty.dbn" in out.reason
    assert out.metrics["files_without_mbo"] == 1 and all(t.passed for t in out.thresholds)
