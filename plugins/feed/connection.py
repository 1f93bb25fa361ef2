"""The ``feed.live_connection`` check: probe the Live API when a key is configured, else read
the connection evidence from the feed event log.

``mode: probe`` always probes (no key → ``skipped``), ``mode: log`` never does, ``auto``
(default) probes when the key is in the environment and falls back to the log otherwise.
A gateway that cannot be reached at all is ``skipped`` (``error`` with ``mandatory: true``);
a refused key or a silent session are results for the thresholds (``authenticated`` = 0,
no ``time_to_first_record_ms``: ``fail``).
"""
from __future__ import annotations

from golive.model import CheckResult, Quantity, Status
from golive.plugins.monitoring.observation import observe

from .auth import api_key, scrub
from .feed_events import connection_from_log
from .live_probe import ProbeSettings, probe

PROBE_FIELDS = set(ProbeSettings.__dataclass_fields__)


def check_live_connection(requirement, ctx) -> CheckResult:
    p = ctx.params
    mode = p.get("mode", "auto")
    env_var = p.get("key_env", "DATABENTO_API_KEY")
    key = api_key(env_var)
    if mode == "log" or (mode == "auto" and key is None):
        result = connection_from_log(ctx)
        if mode == "auto" and result.status is Status.MISSING:
            result.message += f"; no probe either: {env_var} is not set"
        elif p.get("probe"):  # said, so the report shows the probe settings played no part
            result.message += f"; judged from the log, not a probe ({env_var} is not set)" if mode == "auto" \
                else "; judged from the log (mode: log), the probe settings are not used"
        if result.status is None and not result.observed:  # the log's connects and acks, as counted
            seen = result.metrics.get("connects", 0) + result.metrics.get("subscription_acks", 0)
            observe(result, "connects and subscription acks", (), events=seen)
        return result
    if key is None:
        return CheckResult(status=Status.SKIPPED, message=f"no API key: {env_var} is not set")
    settings = ProbeSettings(**{k: (tuple(v) if k == "symbols" else v)
                                for k, v in (p.get("probe") or {}).items() if k in PROBE_FIELDS})
    res = probe(key, settings)
    metrics = res.metrics()
    for name in ("connect_ms", "time_to_first_record_ms"):
        if name in metrics:
            metrics[name] = Quantity(metrics[name], "ms")
    if "reconnect_gap_max_s" in metrics:
        metrics["reconnect_gap_max_s"] = Quantity(metrics["reconnect_gap_max_s"], "s")
    details = {"gateway": settings.gateway or f"{settings.dataset} default gateway",
               "dataset": settings.dataset, "symbols": list(settings.symbols),
               "gateway_errors": res.gateway_errors, "reconnects": res.reconnects}
    error = scrub(res.error, key)
    if not res.connected:
        status = Status.ERROR if p.get("mandatory") else Status.SKIPPED
        return CheckResult(status=status, metrics=metrics, details=details,
                           message=f"Live gateway unreachable: {error}")
    if res.authenticated and res.time_to_first_record_ms is None:
        return CheckResult(status=Status.FAIL, metrics=metrics, details=details,
                           message=f"connected and subscribed, but {error or 'no record arrived'}")
    message = (f"connected in {res.connect_ms:.1f} ms, first record after "
               f"{res.time_to_first_record_ms:.1f} ms, {res.records} records"
               if res.authenticated else f"authentication refused: {error}")
    if error and res.authenticated:
        message += f"; {error}"
    # the probe ran now; what it saw is the records the gateway sent (a refused key: the refusal)
    seen = res.records if res.authenticated else 1
    return observe(CheckResult(metrics=metrics, details=details, message=message),
                   "records from the Live gateway" if res.authenticated else "authentication replies",
                   [ctx.clock()], events=seen)


_PROBE_SCHEMA = {
    "type": "object",
    "properties": {
        "dataset": {"type": "string"}, "symbols": {"type": "array", "items": {"type": "string"}},
        "stype_in": {"type": "string"}, "gateway": {"type": "string"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "first_record_timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 300},
        "listen_s": {"type": "number", "minimum": 0, "maximum": 300},
        "backfill_timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 300},
        "backfill_margin_s": {"type": "number", "minimum": 0, "maximum": 3600},
    },
    "additionalProperties": False,
}
CONNECTION_SCHEMA = {
    "type": "object",
    "properties": {"mode": {"enum": ["auto", "probe", "log"]}, "key_env": {"type": "string"},
                   "log": {"type": "string"}, "mandatory": {"type": "boolean"},
                   "probe": _PROBE_SCHEMA},
    "additionalProperties": False,
}
CONNECTION_METRICS = ("connected", "authenticated", "connect_ms", "time_to_first_record_ms",
                      "records_received", "heartbeats", "reconnects", "gateway_errors",
                      "backfill_records", "duplicates_removed", "missing_sequences_after_backfill",
                      "reconnect_gap_max_s", "connects", "subscription_acks", "connect_errors")
