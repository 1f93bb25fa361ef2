"""Optional live probe: samples this host's CPU, memory and disk with psutil for a bounded time.

Off by default (``live_probe: {enabled: true, seconds: 5}`` in a check's params turns it on)
because a compliance run usually audits another machine's logs; when golive runs on the
trading host itself the probe adds a fresh, first-hand sample to the evidence. The probe
never runs longer than ``MAX_SECONDS`` whatever the params say.
"""
from __future__ import annotations

import time
from typing import Any, Mapping

MAX_SECONDS = 60.0


def probe_settings(params: Mapping[str, Any]) -> tuple[bool, float, float, str]:
    cfg = params.get("live_probe") or {}
    enabled = bool(cfg.get("enabled", False))
    seconds = min(float(cfg.get("seconds", 5.0)), MAX_SECONDS)
    interval = max(float(cfg.get("interval_s", 1.0)), 0.1)
    return enabled, seconds, interval, str(cfg.get("disk_path", "/"))


def sample_host(seconds: float, interval_s: float, disk_path: str = "/") -> list[dict[str, float]]:
    """Samples shaped like ``logs/system_metrics.jsonl`` records (``ts``, ``cpu_pct``,
    ``mem_pct``, ``disk_pct``), one every ``interval_s`` for at most ``seconds``."""
    import psutil

    seconds = min(max(seconds, interval_s), MAX_SECONDS)
    out: list[dict[str, float]] = []
    psutil.cpu_percent(interval=None)  # the first call only primes the counter
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        cpu = psutil.cpu_percent(interval=min(interval_s, max(deadline - time.monotonic(), 0.05)))
        out.append({"ts": time.time(), "cpu_pct": cpu, "mem_pct": psutil.virtual_memory().percent,
                    "disk_pct": psutil.disk_usage(disk_path).percent})
    return out


SCHEMA = {
    "type": "object",
    "properties": {"enabled": {"type": "boolean"},
                   "seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_SECONDS},
                   "interval_s": {"type": "number", "minimum": 0.1},
                   "disk_path": {"type": "string"}},
    "additionalProperties": False,
}
