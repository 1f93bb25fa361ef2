"""golive feed checks: Databento market data ingestion (plan section "Data Ingestion Real-Time
Feed Testing").

Checks (``plugin: feed``):

==========================  =====================================================================
``mbo_quality``             MBO data quality of every DBN file (:mod:`.dbn_quality`, :mod:`.book`)
``mbo_streaming``           no silence / sequence gap in recorded data during market hours
``reconnection_backfill``   disconnects → reconnect → backfill, from ``logs/feed_events.jsonl``
``live_connection``         Live API probe (key from the environment) or the feed event log
``api_authentication``      Historical API call with the key from the environment
``cache_efficiency``        hit ratio and bytes saved from ``logs/cache_stats.jsonl``
``api_cost``                daily/monthly spend and month-end projection from ``logs/api_usage.jsonl``
==========================  =====================================================================

Artifact contracts: ``docs/feed-artifacts.md``.
"""
from __future__ import annotations

from golive import hookimpl
from golive.model import CheckSpec

from .auth import AUTH_METRICS, AUTH_SCHEMA, check_api_authentication
from .cache_cost import (CACHE_METRICS, CACHE_SCHEMA, COST_METRICS, COST_SCHEMA,
                         check_api_cost, check_cache_efficiency)
from .connection import CONNECTION_METRICS, CONNECTION_SCHEMA, check_live_connection
from .feed_events import check_mbo_streaming, check_reconnection_backfill
from .quality_check import QUALITY_METRICS, QUALITY_SCHEMA, check_mbo_quality, skip_when_stale

_LOG = {"log": {"type": "string"}}
_MARKET_HOURS = {
    "type": "object",
    "properties": {"timezone": {"type": "string"}, "open": {"type": "string", "pattern": r"^\d\d:\d\d$"},
                   "close": {"type": "string", "pattern": r"^\d\d:\d\d$"},
                   "days": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 6}},
                   "holidays": {"type": "array", "items": {"type": "string", "format": "date"}},
                   # an exchange-calendars name (XNYS, CMES, ...): its holidays and early closes apply
                   "calendar": {"type": "string"}},
    "additionalProperties": False,
}
# streaming and reconnection read MBO files only (silences, sequence numbers): no `schemas`
_MBO_FILES = {k: v for k, v in QUALITY_SCHEMA["properties"].items() if k not in ("schemas", "max_age")}
STREAMING_SCHEMA = {"type": "object",
                    "properties": {**_MBO_FILES, **_LOG, "market_hours": _MARKET_HOURS,
                                   # data whose newest record is older than this is skipped
                                   "max_age": QUALITY_SCHEMA["properties"]["max_age"]},
                    "additionalProperties": False}
RECONNECT_SCHEMA = {"type": "object",
                    "properties": {**_MBO_FILES, **_LOG,
                                   "verify_data": {"type": "boolean"},
                                   "require_data": {"type": "boolean"},
                                   # evidence older than this is skipped (default "92 d")
                                   "max_age": {"type": ["string", "number"]},
                                   # data measured this long either side of an outage ("30 s")
                                   "data_margin": {"type": ["string", "number"]}},
                    "additionalProperties": False}


@hookimpl
def golive_checks() -> list[CheckSpec]:
    return [
        CheckSpec("feed", "mbo_quality", check_mbo_quality,
                  "MBO data quality of every DBN file: validity, timestamps, latency, sequence "
                  "gaps, duplicates, prices, flags, crossed/locked book",
                  QUALITY_SCHEMA, QUALITY_METRICS),
        CheckSpec("feed", "mbo_streaming", skip_when_stale(check_mbo_streaming),
                  "Recorded MBO data has no silence or sequence gap during market hours",
                  STREAMING_SCHEMA, ("max_silence_market_hours_s", "market_hours_observed_s",
                                     "sequence_gaps", "missing_sequences", "skipped_records_errors",
                                     "records", "market_hours_disconnects")),
        CheckSpec("feed", "reconnection_backfill", check_reconnection_backfill,
                  "Every feed disconnect is followed by a reconnect and a backfill covering the outage",
                  RECONNECT_SCHEMA, ("disconnects", "reconnects", "unrecovered_disconnects",
                                     "reconnect_time_max_s", "backfills", "unbackfilled_outages",
                                     "backfill_uncovered_s", "backfill_missing_sequences",
                                     "backfill_duplicates", "missing_sequences_in_data",
                                     "duplicates_in_data", "outages_without_data",
                                     "missing_sequences_around_outages",
                                     "duplicates_around_outages", "detection_time_max_s")),
        CheckSpec("feed", "live_connection", check_live_connection,
                  "Databento Live API: connect, authenticate, subscribe to MBO, first record",
                  CONNECTION_SCHEMA, CONNECTION_METRICS),
        CheckSpec("feed", "api_authentication", check_api_authentication,
                  "Databento Historical API accepts the key from the environment",
                  AUTH_SCHEMA, AUTH_METRICS),
        CheckSpec("feed", "cache_efficiency", check_cache_efficiency,
                  "Data cache hit ratio and bytes/dollars saved", CACHE_SCHEMA, CACHE_METRICS),
        CheckSpec("feed", "api_cost", check_api_cost,
                  "API spend per day and month, and the month-end projection",
                  COST_SCHEMA, COST_METRICS),
    ]
