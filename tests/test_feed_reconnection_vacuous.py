"""PRE-FEED-06 gives no vacuous verdict: a log without a disconnect, or evidence older than
``max_age``, is ``skipped`` with the reason; the plan's thresholds judge the recorded data
around each outage, not the numbers the client's log reports about itself."""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.dbn_fixtures import simulate, write_records  # noqa: E402

from golive.model import CheckContext, Status, Target  # noqa: E402
from golive.plugins.feed.feed_events import NOT_EXERCISED, check_reconnection_backfill  # noqa: E402

START = datetime(2026, 11, 2, 14, 30, tzinfo=timezone.utc)
NOW = START + timedelta(days=3)
PLAN = Path(__file__).resolve().parents[1] / "requirements" / "1-pre-live" / "data-ingestion.yaml"


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def ctx(root: Path, now: datetime = NOW, **params) -> CheckContext:
    return CheckContext(target=Target(root=root), params=params, settings={},
                        log=logging.getLogger("test"), clock=lambda: now)


def write_log(root: Path, rows: list[dict]) -> None:
    path = root / "logs" / "feed_events.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def write_data(root: Path, defects=(), n: int = 3_000) -> tuple[datetime, datetime]:
    """About 0.6 s of MBO from START + 2 s; returns the first and last ts_recv."""
    recs, truth = simulate(["ESZ6"], n, seed=4, defects=defects,
                           start_ns=int((START + timedelta(seconds=2)).timestamp() * 1e9))
    write_records(root / "data" / "glbx-mbo.dbn.zst", recs, truth.instruments)
    as_dt = lambda ns: datetime.fromtimestamp(int(ns) / 1e9, tz=timezone.utc)  # noqa: E731
    return as_dt(recs["ts_recv"][0]), as_dt(recs["ts_recv"][-1])


def outage_log(at: datetime, missing: int = 0, duplicates: int = 0) -> list[dict]:
    back = at + timedelta(seconds=1.5)
    return [
        {"ts": _iso(START - timedelta(seconds=2)), "event": "connect"},
        {"ts": _iso(at), "event": "disconnect", "reason": "drill: connection reset"},
        {"ts": _iso(back), "event": "reconnect", "gap_start": _iso(at), "gap_end": _iso(back)},
        {"ts": _iso(back + timedelta(seconds=1)), "event": "backfill", "gap_start": _iso(at - timedelta(seconds=1)),
         "gap_end": _iso(back + timedelta(seconds=0.5)), "records": 100,
         "missing_sequences": missing, "duplicates": duplicates},
    ]


def plan_entry() -> dict:
    reqs = yaml.safe_load(PLAN.read_text())["requirements"]
    return next(r for r in reqs if r["id"] == "PRE-FEED-06")


def test_no_disconnect_is_skipped_not_passed(tmp_path):
    write_data(tmp_path)
    write_log(tmp_path, [{"ts": _iso(START - timedelta(seconds=2)), "event": "connect"},
                         {"ts": _iso(START), "event": "subscribed"}])
    res = check_reconnection_backfill(None, ctx(tmp_path))
    assert res.status is Status.SKIPPED
    assert res.message == ("reconnection not exercised: the feed log shows no disconnect; "
                           "run a disconnect drill") == NOT_EXERCISED
    assert res.metrics["disconnects"] == 0


def test_no_disconnect_without_data_check_is_skipped_too(tmp_path):
    write_log(tmp_path, [{"ts": _iso(START), "event": "connect"}])
    res = check_reconnection_backfill(None, ctx(tmp_path, verify_data=False))
    assert res.status is Status.SKIPPED and NOT_EXERCISED in res.message


def test_exercised_reconnection_is_judged_on_the_data_around_it(tmp_path):
    write_data(tmp_path)
    write_log(tmp_path, outage_log(START + timedelta(seconds=1)))
    res = check_reconnection_backfill(None, ctx(tmp_path))
    assert res.status is None  # left to the thresholds
    m = res.metrics
    assert m["outages_without_data"] == 0
    assert (m["missing_sequences_around_outages"], m["duplicates_around_outages"]) == (0, 0)
    assert res.details["data_around_outages"][0]["records"] > 0


def test_a_gap_in_the_data_around_the_outage_is_measured_whatever_the_log_says(tmp_path):
    write_data(tmp_path, defects=["gap", "duplicate_adjacent"], n=5_000)
    write_log(tmp_path, outage_log(START + timedelta(seconds=1)))  # the client reports 0 and 0
    m = check_reconnection_backfill(None, ctx(tmp_path)).metrics
    assert (m["backfill_missing_sequences"], m["backfill_duplicates"]) == (0, 0)
    assert m["missing_sequences_around_outages"] == 1 and m["duplicates_around_outages"] == 1


def test_self_reported_numbers_are_shown_not_judged(tmp_path):
    write_data(tmp_path)
    write_log(tmp_path, outage_log(START + timedelta(seconds=1), missing=7, duplicates=3))
    m = check_reconnection_backfill(None, ctx(tmp_path)).metrics
    assert (m["backfill_missing_sequences"], m["backfill_duplicates"]) == (7, 3)
    assert (m["missing_sequences_around_outages"], m["duplicates_around_outages"]) == (0, 0)
    judged = {t["metric"] for t in plan_entry()["thresholds"]}
    assert {"missing_sequences_around_outages", "duplicates_around_outages",
            "outages_without_data"} <= judged
    assert not judged & {"backfill_missing_sequences", "backfill_duplicates"}


def test_an_outage_far_from_the_recorded_data_has_no_measured_figures(tmp_path):
    write_data(tmp_path)
    write_log(tmp_path, outage_log(START + timedelta(hours=2)))
    res = check_reconnection_backfill(None, ctx(tmp_path))
    assert res.metrics["outages_without_data"] == 1
    assert "missing_sequences_around_outages" not in res.metrics  # nothing to pass on
    assert res.details["data_around_outages"][0]["records"] == 0


def test_data_margin_sets_the_window(tmp_path):
    write_data(tmp_path)
    write_log(tmp_path, outage_log(START - timedelta(seconds=40)))  # ends ~38.5 s before the data
    assert check_reconnection_backfill(None, ctx(tmp_path)).metrics["outages_without_data"] == 1
    wide = check_reconnection_backfill(None, ctx(tmp_path, data_margin="2 min")).metrics
    assert wide["outages_without_data"] == 0


def test_stale_evidence_is_skipped(tmp_path):
    write_data(tmp_path)
    write_log(tmp_path, outage_log(START + timedelta(seconds=1)))
    res = check_reconnection_backfill(None, ctx(tmp_path, now=START + timedelta(days=93)))
    assert res.status is Status.SKIPPED and "stale evidence" in res.message and "92 d" in res.message
    fresh = check_reconnection_backfill(None, ctx(tmp_path, now=START + timedelta(days=91)))
    assert fresh.status is None


def test_plan_set_max_age(tmp_path):
    write_log(tmp_path, outage_log(START + timedelta(seconds=1)))
    res = check_reconnection_backfill(None, ctx(tmp_path, now=START + timedelta(days=8),
                                                verify_data=False, max_age="7 d"))
    assert res.status is Status.SKIPPED and "max_age 7 d" in res.message
    assert check_reconnection_backfill(None, ctx(tmp_path, now=START + timedelta(days=8),
                                                 verify_data=False, max_age="9 d")).status is None


def test_newest_of_log_and_data_decides_the_age(tmp_path):
    _, last = write_data(tmp_path)
    # the log's newest entry is old, the data is recent enough: not stale
    write_log(tmp_path, [{"ts": _iso(START - timedelta(days=30)), "event": "disconnect"},
                         {"ts": _iso(START - timedelta(days=30) + timedelta(seconds=1)), "event": "reconnect"}])
    res = check_reconnection_backfill(None, ctx(tmp_path, now=last + timedelta(days=10), max_age="20 d"))
    assert res.status is None


def test_a_bad_max_age_is_an_error(tmp_path):
    write_log(tmp_path, outage_log(START + timedelta(seconds=1)))
    res = check_reconnection_backfill(None, ctx(tmp_path, verify_data=False, max_age="soon"))
    assert res.status is Status.ERROR and "max_age" in res.message


def test_plan_entry_sets_max_age_and_margin():
    params = plan_entry()["check"]["params"]
    assert params["max_age"] == "92 d" and params["data_margin"] == "30 s"
