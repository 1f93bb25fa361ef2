"""MBO quality on real DBN files: every injected defect is found at its place, clean is clean,
chunking does not change results, bad files give clear errors naming the file."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import databento_dbn
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.dbn_fixtures import (DEFECT_KINDS, SESSION_START_NS, metadata_bytes,  # noqa: E402
                                   simulate, write_mbo_file, write_records)

from golive.model import CheckContext, Status, Target  # noqa: E402
from golive.plugins.feed.dbn_quality import QualityOptions, check_file  # noqa: E402
from golive.plugins.feed.dbn_reader import DBNFileError, DbnMboReader, MboRun  # noqa: E402
from golive.plugins.feed.quality_check import check_mbo_quality  # noqa: E402

DEFECT_COUNTS = ("sequence_gaps", "missing_sequences", "late_records", "duplicates_adjacent",
                 "duplicates_exact", "ts_recv_regressions", "ts_event_regressions",
                 "ts_event_after_recv", "undefined_prices", "non_positive_prices", "zero_sizes",
                 "price_jumps", "crossed_episodes", "locked_episodes", "unknown_order_events",
                 "reused_order_ids", "bad_ts_recv_flags", "maybe_bad_book_flags")


def ctx_for(root: Path, **params) -> CheckContext:
    return CheckContext(target=Target(root=root), params=params, settings={},
                        log=logging.getLogger("test"))


def indices(result: dict, kind: str) -> list[int]:
    return [v["index"] for v in result["violations"].get(kind, [])]


@pytest.fixture(scope="module", params=[11, 29])
def defective(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("dbn") / "defects.dbn"
    truth = write_mbo_file(path, ["ESZ6", "NQZ6", "CLF7"], 40_000, seed=request.param,
                           defects=DEFECT_KINDS)
    return truth, check_file(path)


def test_clean_file_is_clean(tmp_path):
    truth = write_mbo_file(tmp_path / "clean.dbn", n_records=30_000, seed=3)
    res = check_file(truth.path)
    assert res["metrics"]["records"] == truth.n_records
    assert {k: res["metrics"][k] for k in DEFECT_COUNTS} == dict.fromkeys(DEFECT_COUNTS, 0)
    assert 0 < res["metrics"]["latency_p50_ms"] < res["metrics"]["latency_max_ms"] < 1
    assert {k: v["symbol"] for k, v in res["by_instrument"].items()} == {
        str(i): s for i, s in truth.instruments.items()}


def test_every_defect_found_at_its_place(defective):
    truth, res = defective
    m = res["metrics"]
    gap, = truth.of_kind("gap")
    assert indices(res, "sequence_gaps") == [gap.index]
    assert res["violations"]["sequence_gaps"][0]["missing"] == gap.detail["missing_sequence"]
    late, = truth.of_kind("out_of_order")
    assert indices(res, "late_records") == [late.index]
    assert late.index in indices(res, "ts_recv_regressions")
    assert indices(res, "duplicates_adjacent") == [truth.of_kind("duplicate_adjacent")[0].index]
    assert indices(res, "duplicates_exact") == [truth.of_kind("duplicate_replay")[0].index]
    assert indices(res, "non_positive_prices") == [truth.of_kind("bad_price")[0].index]
    jump, = truth.of_kind("price_jump")
    assert indices(res, "price_jumps") == [jump.index]
    crossed, = truth.of_kind("crossed_book")
    episode, = res["violations"]["crossed_or_locked"]
    assert (episode["kind"], episode["start_index"], episode["instrument_id"]) == (
        "crossed", crossed.index, crossed.instrument_id)
    assert crossed.index <= episode["end_index"] < crossed.detail["end_index"]
    spike, = truth.of_kind("latency_spike")
    assert res["latency_max_index"] == spike.index
    assert m["latency_max_ms"] == pytest.approx(spike.detail["latency_ns"] / 1e6)
    assert (m["sequence_gaps"], m["missing_sequences"], m["late_records"], m["duplicates_adjacent"],
            m["duplicates_exact"], m["non_positive_prices"], m["price_jumps"],
            m["crossed_episodes"], m["locked_episodes"]) == (1, 1, 1, 1, 1, 1, 1, 1, 0)


def test_chunking_and_compression_do_not_change_results(defective, tmp_path):
    truth, whole = defective
    zst = tmp_path / "defects.dbn.zst"
    zst.write_bytes(__import__("zstandard").ZstdCompressor().compress(truth.path.read_bytes()))
    small = check_file(zst, QualityOptions(chunk_records=1024))
    assert small["metrics"] == whole["metrics"]
    assert small["violations"] == whole["violations"]
    assert small["by_instrument"] == whole["by_instrument"]


def test_gateway_records_between_mbo_records(tmp_path):
    recs, truth = simulate(["ESZ6"], 3_000, seed=5)
    hb = bytes(databento_dbn.SystemMsg(ts_event=int(recs["ts_recv"][999]), msg="Heartbeat",
                                       code=databento_dbn.SystemCode.HEARTBEAT))
    skipped = bytes(databento_dbn.ErrorMsg(ts_event=int(recs["ts_recv"][1999]), err="Skipped records",
                                           code=databento_dbn.ErrorCode.SKIPPED_RECORDS_AFTER_SLOW_READING))
    path = tmp_path / "live.dbn"
    path.write_bytes(metadata_bytes(truth.instruments, int(recs["ts_event"][0])) + recs[:1000].tobytes()
                     + hb + recs[1000:2000].tobytes() + skipped + recs[2000:].tobytes())
    res = check_file(path, QualityOptions(chunk_records=1024))
    m = res["metrics"]
    assert (m["records"], m["mbo_records"], m["heartbeats"], m["skipped_records_errors"]) == (
        len(recs) + 2, len(recs), 1, 1)
    assert res["violations"]["skipped_records_errors"][0]["index"] == 2001
    runs = [item for item in DbnMboReader(path, 1024) if isinstance(item, MboRun)]
    assert sum(len(r.records) for r in runs) == len(recs)
    assert runs[-1].first_index + len(runs[-1].records) == len(recs) + 2


def test_ts_out_records_are_read(tmp_path):
    recs, truth = simulate(["ESZ6"], 2_000, seed=2)
    with_ts_out = np.zeros(len(recs), dtype=recs.dtype.descr + [("ts_out", "u8")])
    for name in recs.dtype.names:
        with_ts_out[name] = recs[name]
    with_ts_out["length"] = 16
    with_ts_out["ts_out"] = recs["ts_recv"] + 1_000
    meta = databento_dbn.Metadata(dataset="GLBX.MDP3", start=int(recs["ts_event"][0]),
                                  stype_in=databento_dbn.SType.RAW_SYMBOL,
                                  stype_out=databento_dbn.SType.INSTRUMENT_ID,
                                  schema=databento_dbn.Schema.MBO, symbols=["ESZ6"], ts_out=True)
    path = tmp_path / "ts_out.dbn"
    path.write_bytes(bytes(meta) + with_ts_out.tobytes())
    res = check_file(path)
    assert res["metrics"]["mbo_records"] == len(recs)
    assert res["metrics"]["sequence_gaps"] == 0 and res["metrics"]["duplicates_adjacent"] == 0


def _header(dbn: bytes) -> int:
    return 8 + int.from_bytes(dbn[4:8], "little")


@pytest.mark.parametrize("make, problem", [
    (lambda good: b"", "empty file"),
    (lambda good: b"not a dbn file at all", "not a DBN file"),
    (lambda good: good[:-20], "truncated"),
    (lambda good: good[:8] + b"\xff" * 60, "metadata"),
    (lambda good: good[:_header(good)] + b"\x00" * 56, "length 0"),
    (lambda good: good[:_header(good)] + bytes([14, 160]) + b"\x00" * 20, "truncated"),
])
def test_bad_files_raise_naming_the_file(tmp_path, make, problem):
    good = write_mbo_file(tmp_path / "good.dbn", n_records=500, seed=1).path.read_bytes()
    bad = tmp_path / "bad.dbn"
    bad.write_bytes(make(good))
    with pytest.raises(DBNFileError) as err:
        check_file(bad)
    assert str(bad) in str(err.value) and problem in str(err.value)


def test_check_reports_error_for_bad_file_and_metrics_for_the_rest(tmp_path):
    truth = write_mbo_file(tmp_path / "data" / "a.dbn", n_records=2_000, seed=1)
    (tmp_path / "data" / "b.dbn.zst").write_bytes(b"\x28\xb5\x2f\xfd garbage")
    res = check_mbo_quality(None, ctx_for(tmp_path))
    assert res.status is Status.ERROR
    assert "data/b.dbn.zst" in res.message
    assert res.metrics["records"] == truth.n_records and res.metrics["files_unreadable"] == 1


def test_check_without_data_is_missing(tmp_path):
    res = check_mbo_quality(None, ctx_for(tmp_path))
    assert res.status is Status.MISSING and "no DBN files" in res.message


def test_parallel_files_match_serial(tmp_path):
    for i in range(3):  # three consecutive days (the same hours twice would be an overlap)
        recs, truth = simulate(("ESZ6", "NQZ6", "CLF7"), 3_000, seed=i, defects=["gap"] if i == 1 else (),
                               start_ns=SESSION_START_NS + i * 86_400 * 10**9)
        write_records(tmp_path / "data" / f"day{i}.dbn", recs, truth.instruments)
    serial = check_mbo_quality(None, ctx_for(tmp_path, book=False))
    parallel = check_mbo_quality(None, ctx_for(tmp_path, workers=2))
    assert serial.status is None and parallel.status is None
    assert parallel.metrics["sequence_gaps"] == serial.metrics["sequence_gaps"] == 1
    assert parallel.metrics["records"] == serial.metrics["records"]
    assert parallel.metrics["latency_p99_ms"] == serial.metrics["latency_p99_ms"]
    assert len(parallel.details["files"]) == 3


def test_large_tiled_file_stays_consistent(tmp_path):
    truth = write_mbo_file(tmp_path / "big.dbn", n_records=450_000, seed=4, block=100_000)
    res = check_file(truth.path)
    assert res["metrics"]["records"] == 450_000
    assert {k: res["metrics"][k] for k in DEFECT_COUNTS} == dict.fromkeys(DEFECT_COUNTS, 0)


def test_write_records_round_trips_through_databento(tmp_path):
    recs, truth = simulate(["NQZ6"], 1_000, seed=8)
    path = write_records(tmp_path / "x.dbn.zst", recs, truth.instruments)
    import databento

    arr = databento.DBNStore.from_file(path).to_ndarray()
    assert len(arr) == len(recs) and (arr["sequence"] == recs["sequence"]).all()


def test_negative_prices_can_be_allowed(tmp_path):
    truth = write_mbo_file(tmp_path / "spread.dbn", n_records=4_000, seed=6, defects=["bad_price"])
    assert check_file(truth.path)["metrics"]["non_positive_prices"] == 1
    allowed = check_file(truth.path, QualityOptions(allow_negative_prices=True))
    assert allowed["metrics"]["non_positive_prices"] == 0


def test_sequence_reset_stays_fast_and_says_so(tmp_path):
    recs, truth = simulate(["ESZ6", "NQZ6"], 30_000, seed=12)
    second = recs.copy()
    for col in ("ts_event", "ts_recv"):
        second[col] += int(recs["ts_recv"][-1] - recs["ts_event"][0]) + 1_000_000
    second["order_id"] += 10_000_000  # a new session: new orders, sequences start over
    path = write_records(tmp_path / "two-sessions.dbn", np.concatenate([recs, second]), truth.instruments)
    res = check_file(path, QualityOptions(chunk_records=16_384))
    assert res["metrics"]["late_records"] > 0.99 * len(second)  # all but the top packet
    assert any("sequence reset" in note for note in res["limits_hit"])


def test_sequence_gap_between_consecutive_files(tmp_path):
    recs, truth = simulate(["ESZ6", "NQZ6"], 9_000, seed=13)
    seqs, counts = np.unique(recs["sequence"], return_counts=True)
    alone = np.isin(recs["sequence"], seqs[counts == 1]) & (recs["channel_id"] == 0)
    cut = int(np.flatnonzero(alone)[alone.sum() // 2])  # a one-record packet: its number is lost
    data = tmp_path / "data"
    write_records(data / "part1.dbn", recs[:cut], truth.instruments)
    write_records(data / "part2.dbn", recs[cut + 1:], truth.instruments)
    res = check_mbo_quality(None, ctx_for(tmp_path))
    assert res.metrics["sequence_gaps"] == 0  # inside each file all is well
    assert (res.metrics["cross_file_sequence_gaps"], res.metrics["cross_file_missing_sequences"]) == (1, 1)


@pytest.mark.parametrize("bad_record", [
    bytes([4, 0x17]) + b"\x00" * 14,    # a SystemMsg far too short (the decoder would panic)
    bytes([80, 0x15]) + b"\xff" * 318,  # an ErrorMsg whose text is not a C string
], ids=["short-system-msg", "garbage-error-msg"])
def test_corrupt_gateway_record_is_a_file_error(tmp_path, bad_record):
    recs, truth = simulate(["ESZ6"], 500, seed=1)
    path = tmp_path / "live.dbn"
    path.write_bytes(metadata_bytes(truth.instruments, 1) + recs.tobytes() + bad_record)
    with pytest.raises(DBNFileError, match=f"{path}: corrupt gateway record at byte .* \\(record {len(recs)}\\)"):
        check_file(path)


_SMALL_RECS, _SMALL_TRUTH = simulate(["ESZ6", "NQZ6"], 300, seed=21)
_SMALL = metadata_bytes(_SMALL_TRUTH.instruments, 1) + _SMALL_RECS.tobytes()


@pytest.mark.filterwarnings("ignore")
def test_mutated_files_give_a_result_or_a_file_error(tmp_path_factory):
    """Whatever the bytes, the reader answers or raises DBNFileError naming the file."""
    from hypothesis import HealthCheck, given, settings, strategies as st

    folder = tmp_path_factory.mktemp("fuzz")

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.integers(0, len(_SMALL) - 1), st.integers(0, 255)), max_size=8),
           st.integers(0, len(_SMALL)))
    def run(flips, cut):
        data = bytearray(_SMALL)
        for at, value in flips:
            data[at] = value
        path = folder / "mutated.dbn"
        path.write_bytes(bytes(data[:cut]))
        try:
            res = check_file(path, QualityOptions(chunk_records=1024))
        except DBNFileError as exc:
            assert str(path) in str(exc)
        else:
            assert res["metrics"]["records"] >= 0

    run()
