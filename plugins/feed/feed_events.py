"""Feed connectivity from the target's ``logs/feed_events.jsonl`` and its recorded DBN data.

* ``reconnection_backfill`` — every ``disconnect`` must be followed by a ``reconnect`` (or
  ``connect``); the outage (the reconnect's ``gap_start``..``gap_end``, else disconnect to
  reconnect) must be covered by ``backfill`` intervals; the recorded data around each outage
  (``data_margin`` either side) is measured for missing sequence numbers and duplicates. No
  pass without evidence: a log with no disconnect, or evidence older than ``max_age``, is
  ``skipped`` with the reason.
* ``mbo_streaming`` — during trading hours (each dataset's venue sessions from its exchange
  calendar, :mod:`.sessions`; or the plan's ``market_hours``) the recorded MBO data has no
  silence longer than the plan's limit and no sequence gap; only hours inside the files'
  covered ranges are observed (:mod:`.streaming_hours`); disconnects inside trading hours are
  counted from the log.
Event contract: ``docs/feed-artifacts.md``.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from golive.model import CheckResult, Quantity, Status
from golive.plan.units import UnitError, duration_seconds

from .dbn_quality import FileQuality
from .dbn_reader import DBNFileError, DbnMboReader, MboRun
from .event_log import NO_TIME, Coverage, FeedEvents, from_micros, load_events, next_of
from .jsonl import LogFormatError, rel_to
from .quality_check import checked_files, merge, options_from, unreadable_message
from .sequence_gaps import SEQUENCE_METRICS, judge_sequences
from .sessions import SessionError, rule_from_override
from .streaming_hours import inside_hours, observe
from golive.plugins.monitoring.observation import observed as observation

NOT_EXERCISED = ("reconnection not exercised: the feed log shows no disconnect; "
                 "run a disconnect drill")
DEFAULT_MAX_AGE = "92 d"  # a disconnect drill at least once a quarter
SHOWN = 50  # outages listed in the details; the metrics count them all
DEFAULT_DATA_MARGIN = "30 s"  # data measured this long before and after an outage (the 30 s heartbeat)

def _events_or_result(ctx) -> tuple[FeedEvents | None, CheckResult | None]:
    path = ctx.target.root / ctx.params.get("log", "logs/feed_events.jsonl")
    if not path.exists():
        return None, CheckResult(status=Status.MISSING, message=f"{rel_to(path, ctx.target.root)} not found: no feed event log")
    ctx.record_artifact(path)
    try:
        return load_events(path, rel_to(path, ctx.target.root)), None
    except LogFormatError as exc:
        return None, CheckResult(status=Status.ERROR, message=str(exc))


def _seconds(ctx, name: str, default: str) -> float:
    value = ctx.params.get(name, default)
    try:
        return duration_seconds(value)
    except UnitError as exc:
        raise LogFormatError(f"check parameter {name}: {exc}") from None


def check_reconnection_backfill(requirement, ctx) -> CheckResult:
    events, early = _events_or_result(ctx)
    if early is not None:
        return early
    try:
        max_age_s = _seconds(ctx, "max_age", DEFAULT_MAX_AGE)
        margin_s = _seconds(ctx, "data_margin", DEFAULT_DATA_MARGIN)
    except LogFormatError as exc:
        return CheckResult(status=Status.ERROR, message=str(exc))
    disconnects = events.rows("disconnect")
    backs = next_of(events, disconnects, events.rows("reconnect", "connect"))
    lost, paired = disconnects[backs < 0], disconnects[backs >= 0]
    backs = backs[backs >= 0]
    unrecovered = [{"at": events.record(r)["ts"], "where": events.where(r)} for r in lost[:SHOWN]]
    # the outage: the reconnect's gap bounds, else disconnect to reconnect
    lo = np.where(events.gap_start[backs] != NO_TIME, events.gap_start[backs], events.ts[paired])
    hi = np.where(events.gap_end[backs] != NO_TIME, events.gap_end[backs], events.ts[backs])
    reconnect_us = events.ts[backs] - events.ts[paired]
    uncovered_us = np.zeros(len(paired), np.int64)
    fills = events.rows("backfill")
    for code in np.unique(events.source[paired]):  # several feeds may share the log: pair within one source
        mine = events.source[paired] == code
        theirs = fills[events.source[fills] == code]
        uncovered_us[mine] = Coverage(events.gap_start[theirs], events.gap_end[theirs]).uncovered(lo[mine], hi[mine])
    outages = [{"source": events.sources[events.source[d]], "disconnect": events.record(d)["ts"],
                "reconnect": events.record(b)["ts"], "reason": events.record(d).get("reason", ""),
                "reconnect_s": int(reconnect_us[k]) / 1e6, "uncovered_s": int(uncovered_us[k]) / 1e6}
               for k, (d, b) in enumerate(zip(paired[:SHOWN].tolist(), backs[:SHOWN].tolist()))]
    metrics = {
        "disconnects": len(disconnects),
        "reconnects": len(paired),
        "unrecovered_disconnects": len(lost),
        "reconnect_time_max_s": Quantity(int(reconnect_us.max()) / 1e6 if len(paired) else 0.0, "s"),
        "backfills": len(fills),
        "unbackfilled_outages": int((uncovered_us > 0).sum()),
        "backfill_uncovered_s": Quantity(round(int(uncovered_us.sum()) / 1e6, 6), "s"),
        # what the client says about itself: shown, not judged (the data around the outages is)
        "backfill_missing_sequences": events.missing_sequences,
        "backfill_duplicates": events.duplicates,
    }
    window_lo, window_hi = np.minimum(lo, events.ts[paired]), np.maximum(hi, events.ts[backs])
    details = {"outages": outages, "unrecovered": unrecovered}
    if len(paired) > SHOWN or len(lost) > SHOWN:
        details["shown"] = f"the first {SHOWN} outages and unrecovered disconnects"
    if events.note:
        details["large_inputs"] = [events.note]
    message = (f"{metrics['disconnects']} disconnect(s), {len(lost)} without reconnect, "
               f"{metrics['unbackfilled_outages']} not fully backfilled")
    newest = [from_micros(int(events.ts.max()))] if len(events) else []
    # read on every path: with data present it is satisfied, without it decides missing vs noted
    require_data = bool(ctx.params.get("require_data"))
    if ctx.params.get("verify_data", True):
        paths, results, none = checked_files(ctx)
        if none is None:
            merged = merge(results)
            metrics["missing_sequences_in_data"] = merged["missing_sequences"]
            metrics["duplicates_in_data"] = merged["duplicates"]
            newest += [_utc(r["last_ts_recv"]) for r in results
                       if "error" not in r and r.get("last_ts_recv") is not None]
            detect = detection_times(events.ts[events.rows("disconnect", "heartbeat_timeout")], results)
            if detect:
                metrics["detection_time_max_s"] = Quantity(round(max(detect), 6), "s")
                details["detection_times_s"] = detect[:50]
            bad = unreadable_message(results, ctx.target.root)
            if bad:
                return CheckResult(status=Status.ERROR, metrics=metrics, details=details,
                                   message=f"unreadable DBN file(s): {bad}")
            if len(paired):
                windows = [(from_micros(a), from_micros(b)) for a, b in zip(window_lo.tolist(), window_hi.tolist())]
                try:
                    around = around_outages(results, windows, margin_s, options_from(ctx.params))
                except DBNFileError as exc:
                    return CheckResult(status=Status.ERROR, metrics=metrics, details=details,
                                       message=f"unreadable DBN file: {exc}")
                metrics["outages_without_data"] = sum(1 for w in around if not w["records"])
                if any(w["records"] for w in around):
                    why = next((w["not_judged"] for w in around if w.get("not_judged")), "")
                    metrics["missing_sequences_around_outages"] = (
                        f"not judged: {why}" if why else sum(w["missing_sequences"] for w in around))
                    metrics["duplicates_around_outages"] = sum(w["duplicates"] for w in around)
                details["data_around_outages"] = around[:50]
        elif require_data:  # e.g. detection time is judged: it needs data
            return CheckResult(status=Status.MISSING, metrics=metrics, details=details,
                               message=f"{none.message}; the check needs recorded data")
        else:
            details["data"] = none.message
    skip = []
    now = ctx.clock()
    if newest:
        age_s = (now - max(newest)).total_seconds()
        details["evidence_age_s"] = round(age_s, 3)
        if age_s > max_age_s:
            skip.append(f"stale evidence: the newest feed log entry or record ({max(newest).isoformat()}) "
                        f"is {age_s / 86400:.1f} d old, older than max_age "
                        f"{ctx.params.get('max_age', DEFAULT_MAX_AGE)}; run a new disconnect drill")
    if not metrics["disconnects"]:
        skip.append(NOT_EXERCISED)
    if skip:
        return CheckResult(status=Status.SKIPPED, metrics=metrics, details=details, message="; ".join(skip))
    return CheckResult(metrics=metrics, details=details, message=message,
                       observed=observation("disconnects in the feed log",  # the first and newest of them all
                                            [from_micros(events.ts[disconnects].min()),
                                             from_micros(events.ts[disconnects].max())], events=len(disconnects)))


def around_outages(results: list[dict], windows: list[tuple[datetime, datetime]], margin_s: float,
                   options) -> list[dict]:
    """Missing sequence numbers and duplicates in the recorded data from ``margin_s`` before
    each outage to ``margin_s`` after it (one measurement per outage, every file whose records
    reach into the window). A file is read only up to the last window it overlaps. Sequence
    numbers of symbol-filtered data say nothing about loss: such a window gets ``not_judged``
    (:func:`.sequence_gaps.judge_sequences`) instead of a count that means nothing."""
    margin = int(margin_s * 1e9)
    spans = [(int(a.timestamp() * 1e9) - margin, int(b.timestamp() * 1e9) + margin) for a, b in windows]
    out = [{"from": _utc(lo).isoformat(), "to": _utc(hi).isoformat(), "records": 0,
            "missing_sequences": 0, "duplicates": 0, "files": []} for lo, hi in spans]
    for r in results:
        if "error" in r or "not_used" in r or r.get("first_ts_recv") is None:
            continue
        hit = [k for k, (lo, hi) in enumerate(spans) if lo <= r["last_ts_recv"] and hi >= r["first_ts_recv"]]
        if not hit:
            continue
        quality = {k: FileQuality(r["file"], options) for k in hit}
        end = max(spans[k][1] for k in hit)
        reader = DbnMboReader(r["file"], options.chunk_records)
        for item in reader:
            if not isinstance(item, MboRun):
                continue
            for q in quality.values():
                q.meta = reader.metadata
            recv = item.records["ts_recv"]
            for k in hit:
                lo, hi = spans[k]
                where = np.flatnonzero((recv >= lo) & (recv <= hi))
                if len(where):  # one contiguous slice keeps record positions honest
                    a, b = int(where[0]), int(where[-1]) + 1
                    quality[k].update(MboRun(item.records[a:b], item.first_index + a))
            if int(recv.min()) > end:
                break
        for k, q in quality.items():
            res = q.result()
            judge_sequences(res, reader.metadata)
            m = res["metrics"]
            why = next((res["not_judged"][x] for x in SEQUENCE_METRICS if x in res["not_judged"]), "")
            if m["mbo_records"] and why:
                out[k].setdefault("not_judged", f"{why} ({Path(r['file']).name})")
            if m["mbo_records"]:
                out[k]["records"] += m["mbo_records"]
                out[k]["missing_sequences"] += m["missing_sequences"]
                out[k]["duplicates"] += m["duplicates_adjacent"] + m["duplicates_exact"]
                out[k]["files"].append(Path(r["file"]).name)
    return out


def detection_times(times_us: np.ndarray, results: list[dict]) -> list[float]:
    """For each disconnect or heartbeat timeout the client logged (``times_us``, µs): seconds
    since the last record the data holds before it (how long the feed was dead before the
    client noticed). Uses the recorded silences (>= 1 s); a disconnect inside no silence was
    noticed in < 1 s and counts as 0."""
    silences = sorted((a, b) for r in results if "error" not in r for a, b in r["silences"])
    ok = sorted((r for r in results if "error" not in r and r["first_ts_recv"] is not None),
                key=lambda r: r["first_ts_recv"])
    silences += [(x["last_ts_recv"], y["first_ts_recv"]) for x, y in zip(ok, ok[1:])]
    if ok:
        silences.append((ok[-1]["last_ts_recv"], 2**63 - 1))  # after the last record
    out = []
    for us in (times_us.tolist() if ok else ()):
        t = int(from_micros(us).timestamp() * 1e9)
        if t < ok[0]["first_ts_recv"]:
            continue  # before the data starts: nothing to measure against
        inside = [a for a, b in silences if a <= t <= b]
        out.append(round((t - max(inside)) / 1e9, 6) if inside else 0.0)
    return out


def _utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc)


def check_mbo_streaming(requirement, ctx) -> CheckResult:
    """Silences in trading hours (:mod:`.streaming_hours`): the venue sessions of each file's
    dataset, or the plan's ``market_hours`` when given (an override for every dataset)."""
    override = ctx.params.get("market_hours")
    if override is not None:
        try:
            rule_from_override(override)
        except SessionError as exc:
            return CheckResult(status=Status.ERROR, message=f"check parameter market_hours: {exc}")
    paths, results, early = checked_files(ctx)
    if early is not None:
        return early
    mbo = [r for r in results if "error" not in r and "not_used" not in r]
    seen = observe(mbo, override)
    merged = merge(results)
    metrics = {"max_silence_market_hours_s": Quantity(round(seen.longest_s, 6), "s"),
               "market_hours_observed_s": Quantity(round(seen.observed_s, 3), "s"),
               "sequence_gaps": merged["sequence_gaps"],
               "missing_sequences": merged["missing_sequences"],
               "skipped_records_errors": merged["skipped_records_errors"],
               "records": merged["records"]}
    worst = seen.silences[0] if seen.silences else None
    details = {"longest_silence": worst and (_utc(worst[0]).isoformat(), _utc(worst[1]).isoformat()),
               "market_hours": override or "the venue sessions of each dataset",
               "sessions": seen.sessions, "files_joined_inside_a_session": seen.joins,
               "observed": [(_utc(a).isoformat(), _utc(b).isoformat()) for a, b in seen.observed[:50]]}
    log = ctx.target.root / ctx.params.get("log", "logs/feed_events.jsonl")
    if log.exists():
        ctx.record_artifact(log)
        try:
            events = load_events(log)
        except LogFormatError as exc:
            return CheckResult(status=Status.ERROR, message=str(exc))
        times = [int(from_micros(us).timestamp() * 1e9) for us in events.ts[events.rows("disconnect")].tolist()]
        metrics["market_hours_disconnects"] = sum(inside_hours(mbo, times, override))
    bad = unreadable_message(results, ctx.target.root)
    if bad:
        return CheckResult(status=Status.ERROR, metrics=metrics, details=details,
                           message=f"unreadable DBN file(s): {bad}")
    if not seen.observed:
        return CheckResult(status=Status.MISSING, metrics=metrics, details=details,
                           message=f"the recorded data covers no trading hours ({_no_hours_reason(mbo, override)})")
    # what was observed: the MBO records, dated by the trading hours they cover
    return CheckResult(metrics=metrics, details=details,
                       message=f"longest silence in trading hours {seen.longest_s:.3f} s over "
                               f"{seen.observed_s / 60:.1f} min of trading hours observed",
                       observed=observation("MBO records over the trading hours they cover",
                                            [_utc(seen.observed[0][0]), _utc(seen.observed[-1][1])],
                                            events=merged["mbo_records"]))


def _no_hours_reason(results: list[dict], override: dict | None = None) -> str:
    if not results:
        return "no readable MBO file"
    parts = []
    for r in results[:5]:
        # the plan's market hours, when given, replace the venue's sessions
        cal = (override or {}).get("calendar") if override else (r.get("sessions") or {}).get("calendar")
        cov = r.get("covered")
        span = (f"{_utc(cov[0]).isoformat()} .. {_utc(cov[1]).isoformat()}" if cov and None not in cov
                else "no time range")
        parts.append(f"{Path(r['file']).name}: {r.get('dataset') or 'no dataset'} {span}, "
                     f"{'no session of ' + cal if cal else 'no trading interval'} in it"
                     f"{' (the plan market_hours)' if override else ''}")
    return "; ".join(parts)


def connection_from_log(ctx) -> CheckResult:
    """PRE-FEED-01 without a probe: the log shows connects, subscription acks, first records."""
    events, early = _events_or_result(ctx)
    if early is not None:
        return early
    connects, acks, firsts = events.rows("connect", "reconnect"), events.rows("subscribed"), events.rows("first_record")
    # each first record measured from the last connect at or before it
    last = np.searchsorted(events.ts[connects], events.ts[firsts], side="right") - 1
    ttfr = (events.ts[firsts][last >= 0] - events.ts[connects][last[last >= 0]]) / 1e3
    metrics = {"connected": int(len(connects) > 0), "authenticated": int(len(acks) > 0 or len(firsts) > 0),
               "connects": len(connects), "subscription_acks": len(acks),
               "connect_errors": len(events.rows("error"))}
    if len(ttfr):
        metrics["time_to_first_record_ms"] = Quantity(round(float(ttfr.max()), 3), "ms")
    return CheckResult(metrics=metrics, details={"source": "feed event log"},
                       message=f"{len(connects)} connect(s), {len(acks)} subscription ack(s) in the log")
