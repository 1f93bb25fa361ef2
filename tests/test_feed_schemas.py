"""Non-MBO schemas on real Databento files (../shared/data/dbn-real/other, read in place): each
comes out with no defect, its record count equal to an independent decode
(``databento.DBNStore.from_file(...).to_ndarray()``), and the figures that cannot be judged
say why. Also: the reader's errors on damaged files, and results that do not depend on the
chunk size."""
from __future__ import annotations

import sys
from pathlib import Path

import databento
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examples.schema_fixtures import PX, START_NS, blank, clean_quotes, write_schema_file  # noqa: E402
from golive.plugins.feed.dbn_quality import QualityOptions  # noqa: E402
from golive.plugins.feed.dbn_reader import DBNFileError, OtherSchemaError  # noqa: E402
from golive.plugins.feed.schema_quality import (DEFECT_METRICS, OTHER_METRICS,  # noqa: E402
                                                SUPPORTED_SCHEMAS, check_other_file)

OTHER = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dbn-real" / "other"
real = pytest.mark.skipif(not OTHER.is_dir(), reason=f"no real DBN samples at {OTHER}")


def clean_real(name: str, schema: str, records: int) -> dict:
    """The file's result, after the checks every real file must pass: its schema, its record
    count (also equal to DBNStore's decode), no defect, places listed only for information."""
    path = OTHER / name
    out = check_other_file(path)
    decoded = databento.DBNStore.from_file(path).to_ndarray()
    assert out["schema"] == schema
    assert out["metrics"]["records"] == len(decoded) == records
    defects = {k: out["metrics"][k] for k in DEFECT_METRICS if out["metrics"].get(k)}
    assert defects == {}
    assert not set(out["violations"]) & set(DEFECT_METRICS)
    assert set(out["metrics"]) <= set(OTHER_METRICS)
    assert out["limits_hit"] == []
    assert out["first_ts_recv"] == int(decoded[out["time_field"]][0])
    assert out["last_ts_recv"] == int(decoded[out["time_field"]][-1])
    assert out["bytes_read"] == decoded.nbytes
    return out


def sequence_not_judged(out: dict) -> None:
    for k in ("sequence_gaps", "missing_sequences", "late_records"):
        assert "cannot be judged" in out["not_judged"][k]


@real
def test_real_trades():
    """2 ESH1 trades (GLBX.MDP3, DBN v2) at 13:00:00.1 UTC on 2020-12-28, in order, 3720.25
    then 3720.25: no defect; their sequence numbers skip 33 (other messages of the channel),
    reported but not judged."""
    out = clean_real("test_data.trades.dbn", "trades", 2)
    assert out["by_instrument"]["5482"] == {"records": 2, "symbol": "ESH1"}
    assert out["metrics"]["missing_sequences"] == 1170414 - 1170380 - 1
    sequence_not_judged(out)
    assert out["sequence_judgement"]["filtered"].startswith("symbol-filtered data (ESH1")
    assert {"price_jumps", "prices", "ts_event_order_per_instrument"} <= set(out["checks_applied"])


@real
def test_real_tbbo_v1():
    """The same 2 ESH1 trades as tbbo in DBN v1 (zstd), each with the book before it: bid
    3720.25 / ask 3720.50, not crossed; no defect."""
    out = clean_real("test_data.tbbo.v1.dbn.zst", "tbbo", 2)
    assert out["dbn_version"] == 1
    assert out["metrics"]["quote_crossed"] == out["metrics"]["quote_locked"] == 0
    sequence_not_judged(out)


@real
def test_real_mbp1_v3():
    """2 ESH1 mbp-1 adds on the ask at 13:00:00.006 (DBN v3, zstd), book 3720.25 / 3720.50:
    no defect."""
    out = clean_real("test_data.mbp-1.v3.dbn.zst", "mbp-1", 2)
    assert out["dbn_version"] == 3
    assert "top_of_book" in out["checks_applied"]
    sequence_not_judged(out)


@real
def test_real_mbp10():
    """2 ESH1 mbp-10 cancels with ten levels a side, bids falling and asks rising from
    3720.25 / 3720.50: levels in order, sizes and order counts with every price; no defect."""
    out = clean_real("test_data.mbp-10.dbn", "mbp-10", 2)
    assert {"level_order", "level_sizes"} <= set(out["checks_applied"])
    assert out["metrics"]["levels_out_of_order"] == 0


@real
def test_real_cmbp1():
    """2 ESH1 consolidated mbp-1 records (cmbp-1, no sequence field): no defect; a locked
    consolidated quote would not be judged (bid and ask from different venues)."""
    out = clean_real("test_data.cmbp-1.dbn", "cmbp-1", 2)
    assert "sequence_gaps" not in out["metrics"]
    assert "different venues" in out["not_judged"]["quote_locked"]


@real
def test_real_bbo_1s():
    """4 ESH1 one-second BBO samples, 2020-12-28 00:00:00-00:00:03 UTC, each stamped on its
    second; the first comes from the book snapshot (F_SNAPSHOT, with F_BAD_TS_RECV): counted,
    not a defect, and no bad-ts_recv flag is counted for it."""
    out = clean_real("test_data.bbo-1s.dbn", "bbo-1s", 4)
    decoded = databento.DBNStore.from_file(OTHER / "test_data.bbo-1s.dbn").to_ndarray()
    assert out["metrics"]["snapshot_records"] == int(np.count_nonzero(decoded["flags"] & 32)) == 1
    assert out["metrics"]["bad_ts_recv_flags"] == 0
    assert "bar_alignment" in out["checks_applied"]


@real
def test_real_ohlcv_1m_v2():
    """2 ESH1 one-minute bars at 13:00 and 13:01 UTC (DBN v2, zstd), low <= open, close <=
    high, volumes 353 and 152: consistent, aligned, in order; no defect."""
    out = clean_real("test_data.ohlcv-1m.v2.dbn.zst", "ohlcv-1m", 2)
    assert out["time_field"] == "ts_event"
    assert {"ohlc", "bar_alignment", "bar_order_per_instrument"} <= set(out["checks_applied"])


@real
def test_real_definition():
    """2 XNAS.ITCH definitions of MSFT (a stock, class K) on 2021-10-04 and 10-05 under two
    instrument ids; no tick size, currency or expiry, which an equity legitimately lacks:
    complete, not conflicting; no defect."""
    out = clean_real("test_data.definition.dbn", "definition", 2)
    assert out["dataset"] == "XNAS.ITCH"
    assert {"definition_completeness", "definition_conflicts"} <= set(out["checks_applied"])
    assert "ts_event_regressions" not in out["metrics"]


@real
def test_real_statistics_v3():
    """2 GLBX statistics of instrument 146945 (DBN v3; lowest offer and session high, both
    100.0, quantity undefined as price statistics have it): valid; no defect."""
    out = clean_real("test_data.statistics.v3.dbn.zst", "statistics", 2)
    assert out["metrics"]["statistics_invalid"] == 0
    assert "no symbols" in out["sequence_judgement"]["filtered"]  # an instrument_id request
    sequence_not_judged(out)


@real
def test_real_status():
    """4 ESH1 status records: trading (Y) at the session start, pre-open (N) at 21:15 and
    21:29:30 UTC, then a new price indication (Y) at 21:30: known values, consistent; the
    first is stamped an hour before its ts_recv (the state was set before the replay began):
    no defect."""
    out = clean_real("test_data.status.dbn", "status", 4)
    assert {"status_values", "status_is_trading"} <= set(out["checks_applied"])


@real
def test_real_imbalance():
    """2 XNAS opening-auction imbalances of SPOT (buy side, reference prices 229.43 and
    229.99; the other prices 0, not published by the venue): no defect."""
    out = clean_real("test_data.imbalance.dbn", "imbalance", 2)
    assert out["metrics"]["imbalance_invalid"] == out["metrics"]["undefined_prices"] == 0


@real
def test_every_real_file_has_a_test():
    names = {p.name for p in OTHER.iterdir()}
    tested = {"test_data.trades.dbn", "test_data.tbbo.v1.dbn.zst", "test_data.mbp-1.v3.dbn.zst",
              "test_data.mbp-10.dbn", "test_data.cmbp-1.dbn", "test_data.bbo-1s.dbn",
              "test_data.ohlcv-1m.v2.dbn.zst", "test_data.definition.dbn",
              "test_data.statistics.v3.dbn.zst", "test_data.status.dbn", "test_data.imbalance.dbn"}
    assert names == tested


# -- damaged files --------------------------------------------------------------------------
def test_truncated_file_names_the_file(tmp_path):
    recs = clean_quotes("mbp-1", 10)
    path = write_schema_file(tmp_path / "cut.dbn", "mbp-1", recs, {100: "ESH1"})
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(DBNFileError) as err:
        check_other_file(path)
    assert err.value.path == str(path) and "truncated" in err.value.problem
    assert "record 9" in err.value.problem and "download the file again" in err.value.problem


def test_truncated_zstd_file(tmp_path):
    recs = clean_quotes("trades", 5000)
    path = write_schema_file(tmp_path / "cut.dbn.zst", "trades", recs, {100: "ESH1"})
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DBNFileError) as err:
        check_other_file(path, QualityOptions(chunk_records=256))
    assert str(path) in str(err.value)


def test_corrupt_record_header(tmp_path):
    recs = clean_quotes("trades", 6)
    recs["length"][3] = 0
    path = write_schema_file(tmp_path / "bad.dbn", "trades", recs, {100: "ESH1"})
    with pytest.raises(DBNFileError, match="record 3.*length 0"):
        check_other_file(path)


def test_wrong_record_length(tmp_path):
    recs = clean_quotes("trades", 6)
    recs["length"][2] = 10  # a trades rtype claiming 40 bytes
    path = write_schema_file(tmp_path / "bad.dbn", "trades", recs, {100: "ESH1"})
    with pytest.raises(DBNFileError, match="corrupt trades record .*record 2.*expected 48"):
        check_other_file(path)


def test_not_dbn_and_empty(tmp_path):
    (tmp_path / "x.dbn").write_bytes(b"hello world, not DBN")
    (tmp_path / "e.dbn").write_bytes(b"")
    with pytest.raises(DBNFileError, match="not a DBN file"):
        check_other_file(tmp_path / "x.dbn")
    with pytest.raises(DBNFileError, match="empty file"):
        check_other_file(tmp_path / "e.dbn")


def test_mbo_file_is_refused(tmp_path):
    from examples.dbn_fixtures import write_mbo_file
    path = tmp_path / "mbo.dbn"
    write_mbo_file(path, ["ESZ6"], 50)
    with pytest.raises(OtherSchemaError, match="schema is mbo"):
        check_other_file(path)


def test_no_records_is_not_judged(tmp_path):
    path = write_schema_file(tmp_path / "none.dbn", "trades", blank("trades", 0), {100: "ESH1"})
    out = check_other_file(path)
    assert out["metrics"]["records"] == 0
    assert "no records" in out["not_judged"]["records"]


def test_supported_schemas_cover_databento():
    import databento_dbn
    every = {s.value for s in databento_dbn.Schema.variants()} - {"mbo"}
    assert set(SUPPORTED_SCHEMAS) == every


# -- chunking -------------------------------------------------------------------------------
@pytest.mark.parametrize("schema", ["trades", "mbp-1"])
def test_results_do_not_depend_on_chunk_size(tmp_path, schema):
    """A clean stream with a few defects: the same result in chunks of 1, 7, 64 and all."""
    recs = clean_quotes(schema, 400, seed=3)
    recs[50] = recs[49]  # an exact copy
    recs["ts_recv"][120] -= 10**9  # received before the record ahead of it
    recs["price"][200] = recs["price"][200] * 2 if schema == "trades" else recs["price"][200]
    path = write_schema_file(tmp_path / f"x.{schema}.dbn", schema, recs, {100 + k: f"ES{k}" for k in range(4)})
    outs = [check_other_file(path, QualityOptions(chunk_records=c)) for c in (1, 7, 64, 10_000)]
    for out in outs[1:]:
        for key in ("metrics", "violations", "by_instrument", "first_ts_recv", "last_ts_recv"):
            assert out[key] == outs[0][key], key
    m = outs[0]["metrics"]
    assert m["duplicates_exact"] == 1 and outs[0]["violations"]["duplicates_exact"][0]["index"] == 50
    assert m["ts_recv_regressions"] == 1
    assert m["records"] == 400 and PX > 0 and START_NS > 0
