"""Injected defects in every non-MBO schema, written as real DBN with ``databento_dbn``
(examples/schema_fixtures): each is found at its exact place and count, and legitimate
structure (an auction's crossed pre-open book, an equity without tick size, a delete without
figures) is not flagged. Each file is first decoded independently with
``databento.DBNStore`` to prove it holds what the test says."""
from __future__ import annotations

import sys
from pathlib import Path

import databento
import databento_dbn
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examples.schema_fixtures import (PX, START_NS, UNDEF_PRICE, blank, clean_quotes,  # noqa: E402
                                      write_schema_file)
from golive.plugins.feed.dbn_quality import QualityOptions  # noqa: E402
from golive.plugins.feed.schema_quality import DEFECT_METRICS, check_other_file  # noqa: E402

MIN = 60 * 10**9


def run(tmp_path, schema, recs, chunks=(1, 3, 10_000), version=3, **opts) -> dict:
    """Write, decode independently, check in several chunk sizes (the same result each time)."""
    path = write_schema_file(tmp_path / f"{schema}.v{version}.dbn", schema, recs,
                             {int(i): f"I{i}" for i in np.unique(recs["instrument_id"])}, version)
    decoded = databento.DBNStore.from_file(path).to_ndarray()
    assert decoded.tobytes() == recs.tobytes()
    outs = [check_other_file(path, QualityOptions(chunk_records=c, **opts)) for c in chunks]
    for out in outs[1:]:
        assert (out["metrics"], out["violations"]) == (outs[0]["metrics"], outs[0]["violations"])
    return outs[0]


def defects(out: dict) -> dict[str, list[int]]:
    """Defect kind -> the record indexes listed for it (only kinds with a count)."""
    m = out["metrics"]
    return {k: [v["index"] for v in out["violations"][k]] for k in DEFECT_METRICS if m.get(k)}


def test_trades_defects(tmp_path):
    recs = clean_quotes("trades", 16, instruments=1)
    recs["ts_recv"][3] = recs["ts_recv"][2] - 1  # received before the record ahead
    recs["ts_event"][5] = recs["ts_event"][4] - 1_000  # exchange time goes back
    recs["ts_event"][6] = recs["ts_recv"][6] + 5  # exchange time after receipt (on its own
    recs["instrument_id"][6] = 101  # instrument, so no later record looks behind it)
    recs["price"][7] = UNDEF_PRICE
    recs["size"][8] = 0
    recs["price"][9] = int(recs["price"][8] * 1.10)  # +10 %; record 10 is its return
    recs["action"][11] = b"X"
    recs[13] = recs[12]  # resent byte for byte
    out = run(tmp_path, "trades", recs)
    assert defects(out) == {"ts_recv_regressions": [3], "ts_event_regressions": [5],
                            "ts_event_after_recv": [6], "undefined_prices": [7], "zero_sizes": [8],
                            "price_jumps": [9], "unknown_actions": [11], "duplicates_exact": [13]}
    jump = out["violations"]["price_jumps"][0]
    assert jump["price"] == pytest.approx(recs["price"][9] / PX)
    assert out["violations"]["ts_recv_regressions"][0]["previous_ts_recv"] == int(recs["ts_recv"][2])
    assert out["by_instrument"]["100"]["price_jumps"] == 1


def test_negative_prices_allowed(tmp_path):
    recs = clean_quotes("trades", 6, instruments=1)
    recs["price"][2] = -PX
    assert defects(run(tmp_path, "trades", recs))["non_positive_prices"] == [2]
    assert "non_positive_prices" not in defects(run(tmp_path, "trades", recs, allow_negative_prices=True))


def quotes(states: list[int], unsided: set[int] = frozenset(), inst=None, seed=0) -> np.ndarray:
    """mbp-1 records with the top of book fine (0), locked (1) or crossed (2); indexes in
    ``unsided`` are trades with side N (an auction's uncross)."""
    recs = clean_quotes("mbp-1", len(states), instruments=1, seed=seed)
    recs["action"], recs["side"] = b"A", b"B"
    mid = 24_000 * (PX // 4)
    recs["bid_px_00"] = mid
    recs["ask_px_00"] = mid + np.array([PX // 4, 0, -PX // 4])[np.asarray(states)]
    recs["price"] = mid
    for k in unsided:
        recs["action"][k], recs["side"][k] = b"T", b"N"
    if inst is not None:
        recs["instrument_id"] = inst
    return recs


def test_crossed_locked_and_auction(tmp_path):
    """Crossed in continuous trading (2-3), locked (5), a pre-open crossed book ended by its
    auction's side-N trade (7-9: not a defect), crossed again at the end of the file (12-13)."""
    states = [0, 0, 2, 2, 0, 1, 0, 2, 2, 2, 0, 0, 2, 2]
    recs = quotes(states, unsided={9, 11})
    other = quotes([0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], inst=101, seed=1)  # interleaved
    both = np.sort(np.concatenate([recs, other]), order="ts_recv", kind="stable")
    out = run(tmp_path, "mbp-1", both, chunks=(1, 2, 3, 5, 10_000))
    place = {int(r): k for k, r in enumerate(both["ts_recv"])}
    at = [place[int(recs["ts_recv"][k])] for k in (2, 3, 12, 13)]
    assert out["metrics"]["quote_crossed"] == 5
    assert sorted(v["index"] for v in out["violations"]["quote_crossed"]) == sorted(at + [place[int(other["ts_recv"][1])]])
    assert [v["index"] for v in out["violations"]["quote_locked"]] == [place[int(recs["ts_recv"][5])]]
    assert out["metrics"]["auction_quote_crossed"] == 3 and out["metrics"]["auction_quote_locked"] == 0
    assert out["metrics"]["side_none_fills"] == 2
    assert out["by_instrument"]["101"]["quote_crossed"] == 1


def reference_episodes(states, unsided):
    """Plain-Python reading of the rule: a run of crossed/locked records of one instrument is
    an auction when a side-N trade is inside it or ends it."""
    counts = {"quote_crossed": 0, "quote_locked": 0, "auction_quote_crossed": 0, "auction_quote_locked": 0}
    run, k = [], 0
    while k <= len(states):
        if k < len(states) and states[k]:
            run.append(k)
        elif run:
            auction = any(j in unsided for j in run) or (k < len(states) and k in unsided)
            for j in run:
                name = "quote_crossed" if states[j] == 2 else "quote_locked"
                counts[("auction_" if auction else "") + name] += 1
            run = []
        k += 1
    return counts


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.booleans()), min_size=1, max_size=40),
       st.integers(1, 9))
def test_quote_episodes_match_reference(tmp_path_factory, rows, chunk):
    states = [s for s, _ in rows]
    unsided = {k for k, (_, u) in enumerate(rows) if u}
    path = write_schema_file(tmp_path_factory.mktemp("q") / "q.dbn", "mbp-1",
                             quotes(states, unsided), {100: "ESH1"})
    m = check_other_file(path, QualityOptions(chunk_records=chunk))["metrics"]
    assert {k: m[k] for k in reference_episodes(states, unsided)} == reference_episodes(states, unsided)


def test_mbp10_levels(tmp_path):
    recs = blank("mbp-10", 4, instrument_id=7)
    recs["ts_recv"] = recs["ts_event"] = START_NS + np.arange(4) * 1000
    recs["action"], recs["side"], recs["flags"] = b"C", b"B", 128
    recs["price"], recs["size"] = 3720 * PX, 1
    for k in range(10):
        recs[f"bid_px_{k:02d}"] = (3720 * PX) - k * PX // 4
        recs[f"ask_px_{k:02d}"] = (3720 * PX) + (k + 1) * PX // 4
        for f in ("bid_sz", "ask_sz", "bid_ct", "ask_ct"):
            recs[f"{f}_{k:02d}"] = 5
    recs["bid_px_01"][1] = 3721 * PX  # a second bid above the best
    recs["ask_px_03"][2], recs["ask_sz_03"][2], recs["ask_ct_03"][2] = UNDEF_PRICE, 0, 0  # hole
    recs["bid_sz_02"][3] = 0  # a price with no size
    out = run(tmp_path, "mbp-10", recs)
    assert defects(out) == {"levels_out_of_order": [1, 2], "levels_inconsistent": [3]}


def bars(times_min, instrument_id=1, schema="ohlcv-1m"):
    recs = blank(schema, len(times_min), instrument_id=instrument_id)
    recs["ts_event"] = START_NS + (np.asarray(times_min) * MIN).astype(np.uint64)
    recs["open"], recs["high"], recs["low"], recs["close"] = 100 * PX, 102 * PX, 99 * PX, 101 * PX
    recs["volume"] = 10
    return recs


def test_ohlcv_defects(tmp_path):
    """Bars at minutes 0, 1, 1 (a duplicate), 0.5 (off the minute and going back), 3 with
    high below low, 4 with no volume; another instrument's bars at the same minutes are fine."""
    recs = bars([0, 1, 1, 0.5, 3, 4])
    recs["volume"][2] = 11  # published again with other figures (an exact copy is a duplicate too)
    recs["high"][4], recs["low"][4] = 98 * PX, 99 * PX
    recs["volume"][5] = 0
    other = bars([0, 1, 2, 3, 4, 5], instrument_id=2)
    both = np.concatenate([recs, other])
    out = run(tmp_path, "ohlcv-1m", both)
    assert defects(out) == {"bars_duplicated": [2], "bars_out_of_order": [3], "bars_misaligned": [3],
                            "ohlc_inconsistent": [4], "zero_sizes": [5]}
    assert out["violations"]["bars_duplicated"][0]["ts_event"] == int(recs["ts_event"][2])


def test_ohlcv_eod_alignment_not_judged(tmp_path):
    recs = bars([0, 1440 + 7])  # stamped at the session's close, not on a fixed interval
    out = run(tmp_path, "ohlcv-eod", recs)
    assert defects(out) == {} and "bars_misaligned" not in out["metrics"]
    assert "session close" in out["not_judged"]["bars_misaligned"]


def test_bbo_interval_alignment(tmp_path):
    recs = blank("bbo-1s", 3)
    recs["ts_recv"] = START_NS + np.array([1, 2, 3]) * 10**9
    recs["ts_recv"][1] += 5  # not on its second
    recs["ts_event"] = recs["ts_recv"] - 10**6
    recs["side"] = b"N"
    assert defects(run(tmp_path, "bbo-1s", recs)) == {"bars_misaligned": [1]}


def definitions(version: int) -> np.ndarray:
    recs = blank("definition", 7, version=version)
    recs["ts_recv"] = recs["ts_event"] = START_NS + np.arange(7) * 1000
    recs["instrument_id"] = [1, 2, 3, 4, 1, 5, 6]
    recs["security_update_action"] = b"A"
    recs["instrument_class"] = [b"F", b"K", b"F", b"F", b"F", b"C", b"F"]
    recs["raw_symbol"] = [b"ESH1", b"MSFT", b"", b"NQH1", b"ESM1", b"ES 3700C", b""]
    recs["expiration"][[0, 2, 4, 5]] = START_NS + 80 * 86_400 * 10**9
    recs["min_price_increment"][[0, 2, 3, 4, 5]] = PX // 4
    recs["currency"][[0, 2, 4, 5]] = b"USD"
    recs["security_update_action"][6] = b"D"  # a delete needs nothing
    return recs


@pytest.mark.parametrize("version", [1, 2, 3])
def test_definition_defects(tmp_path, version):
    """0 a complete future, 1 an equity without tick or currency (fine), 2 a future without
    raw symbol, 3 one without expiration and currency, 4 id 1 again as ESM1 the same day,
    5 a call without strike, 6 a delete with nothing set (fine)."""
    out = run(tmp_path, "definition", definitions(version), version=version)
    assert defects(out) == {"definition_incomplete": [2, 3, 5], "definitions_conflicting": [4]}
    missing = {v["index"]: v["missing"] for v in out["violations"]["definition_incomplete"]}
    assert missing == {2: ["raw_symbol"], 3: ["expiration", "currency"], 5: ["strike_price"]}
    assert out["violations"]["definitions_conflicting"][0]["first_raw_symbol"] == "ESH1"


@pytest.mark.parametrize("version", [1, 3])
def test_statistics_defects(tmp_path, version):
    """0 a settlement price, 1 an unknown stat type, 2 a settlement without price, 3 a
    cleared volume without quantity, 4 a deleted settlement (no price: fine), 5 open interest."""
    S = databento_dbn.StatType
    recs = blank("statistics", 6, version=version)
    recs["ts_recv"] = recs["ts_event"] = START_NS + np.arange(6) * 1000
    recs["ts_ref"] = np.iinfo(np.uint64).max
    undef_qty = np.iinfo(recs["quantity"].dtype).max
    recs["quantity"] = undef_qty
    recs["stat_type"] = [S.SETTLEMENT_PRICE.value, 999, S.SETTLEMENT_PRICE.value,
                         S.CLEARED_VOLUME.value, S.SETTLEMENT_PRICE.value, S.OPEN_INTEREST.value]
    recs["update_action"] = [1, 1, 1, 1, 2, 1]
    recs["price"][[0, 1]] = 3700 * PX
    recs["quantity"][5] = 1234
    out = run(tmp_path, "statistics", recs, version=version)
    assert defects(out) == {"statistics_invalid": [1, 2, 3]}
    assert [v["problem"] for v in out["violations"]["statistics_invalid"]] == [
        "unknown stat_type", "price missing", "quantity missing or negative"]


def test_status_defects(tmp_path):
    A = databento_dbn.StatusAction
    recs = blank("status", 6)
    recs["ts_recv"] = recs["ts_event"] = START_NS + np.arange(6) * 1000
    recs["action"] = [A.TRADING.value, 99, A.TRADING.value, A.HALT.value, A.TRADING.value,
                      A.NEW_PRICE_INDICATION.value]
    recs["reason"] = 1
    recs["is_trading"] = [b"Y", b"Y", b"N", b"Y", b"Y", b"Y"]
    recs["is_quoting"] = [b"Y", b"Y", b"Y", b"Y", b"Q", b"Y"]
    recs["is_short_sell_restricted"] = b"~"
    out = run(tmp_path, "status", recs)
    assert defects(out) == {"status_unknown": [1, 4], "status_inconsistent": [2, 3]}


def test_imbalance_defects(tmp_path):
    recs = blank("imbalance", 4)
    recs["ts_recv"] = recs["ts_event"] = START_NS + np.arange(4) * 1000
    recs["ref_price"] = [229 * PX, UNDEF_PRICE, 229 * PX, 0]
    recs["side"] = [b"B", b"B", b"X", b"A"]
    recs["unpaired_side"] = b"N"
    out = run(tmp_path, "imbalance", recs)
    assert defects(out) == {"undefined_prices": [1], "imbalance_invalid": [2], "non_positive_prices": [3]}


def test_full_channel_sequence_still_not_judged(tmp_path):
    """Even an ALL_SYMBOLS trades file holds only the trades of its channels: the channel
    numbers every message, so the numbers skip and are reported, not judged."""
    recs = clean_quotes("trades", 50, instruments=2)
    path = write_schema_file(tmp_path / "all.dbn", "trades", recs, {100: "ESH1", 101: "NQH1"},
                             symbols=["ALL_SYMBOLS"])
    out = check_other_file(path)
    assert out["sequence_judgement"]["filtered"] == ""
    assert out["metrics"]["missing_sequences"] > 0
    assert "subset of the channel's messages" in out["not_judged"]["sequence_gaps"]


def test_gateway_records_in_a_live_trades_capture(tmp_path):
    recs = clean_quotes("trades", 20, instruments=1)
    hb = bytes(databento_dbn.SystemMsg(ts_event=int(recs["ts_recv"][9]), msg="Heartbeat",
                                       code=databento_dbn.SystemCode.HEARTBEAT))
    err = bytes(databento_dbn.ErrorMsg(ts_event=int(recs["ts_recv"][19]), err="Skipped records",
                                       code=databento_dbn.ErrorCode.SKIPPED_RECORDS_AFTER_SLOW_READING))
    path = write_schema_file(tmp_path / "live.dbn", "trades", recs[:10], {100: "ESH1"},
                             extra=hb + recs[10:].tobytes() + err)
    out = check_other_file(path, QualityOptions(chunk_records=4))
    m = out["metrics"]
    assert (m["records"], m["heartbeats"], m["skipped_records_errors"]) == (22, 1, 1)
    assert out["violations"]["skipped_records_errors"][0]["index"] == 21
    assert defects(out) == {"skipped_records_errors": [21]}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 20), st.integers(0, 5)), min_size=1,
                max_size=60), st.integers(1, 13))
def test_ordering_matches_reference(tmp_path_factory, rows, chunk):
    """ts_recv regressions in file order and ts_event regressions per instrument, against a
    plain-Python reading, for any mix of instruments and times and any chunk size."""
    recs = clean_quotes("trades", len(rows), instruments=1)
    recs["instrument_id"] = [100 + i for i, _, _ in rows]
    recs["ts_recv"] = [START_NS + 10 * t for _, t, _ in rows]
    recs["ts_event"] = recs["ts_recv"] - np.array([lag for _, _, lag in rows], dtype=np.uint64)
    recs["sequence"] = np.arange(len(rows))  # no exact copies
    path = write_schema_file(tmp_path_factory.mktemp("o") / "o.dbn", "trades", recs,
                             {100 + k: f"S{k}" for k in range(3)})
    out = check_other_file(path, QualityOptions(chunk_records=chunk, max_violations=1000))
    recv_back = [k for k in range(1, len(rows)) if recs["ts_recv"][k] < recs["ts_recv"][k - 1]]
    last, event_back = {}, []
    for k, (inst, _, _) in enumerate(rows):
        if inst in last and recs["ts_event"][k] < last[inst]:
            event_back.append(k)
        last[inst] = recs["ts_event"][k]
    found = defects(out)
    assert found.get("ts_recv_regressions", []) == recv_back
    assert found.get("ts_event_regressions", []) == event_back
