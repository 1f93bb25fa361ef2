"""Databento Historical API authentication, with the key taken only from the environment.

The check makes one cheap authenticated call (``metadata.list_datasets``) with a short HTTP
timeout (databento's default is 100 s). Outcomes: no key → ``skipped``; network unreachable →
``skipped``, or ``error`` when ``mandatory`` is set; 401/403 → ``authenticated = 0`` for the
engine's thresholds; other 4xx/5xx → ``error``. The key is never logged, stored or echoed:
messages pass through :func:`scrub`, and only whether it is present and well formed is reported.
"""
from __future__ import annotations

import os
import re
import time
from urllib.parse import urlsplit

from golive.model import CheckResult, Status
from golive.plugins.monitoring.observation import observe

KEY_PATTERN = re.compile(r"^db-[A-Za-z0-9]{20,}$")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def api_key(env_var: str) -> str | None:
    key = os.environ.get(env_var, "")
    return key.strip() or None


def scrub(text: str, key: str | None) -> str:
    if key:
        text = text.replace(key, "<key>").replace(key[-5:], "<key-suffix>")
    return text[:300]


def historical_client(key: str, gateway: str | None, timeout_s: float):
    """A ``databento.Historical`` client with a short timeout. A plain ``http://`` gateway is
    accepted for loopback addresses only (tests); databento itself forces https otherwise."""
    import databento

    client = databento.Historical(key=key) if not gateway else None
    if gateway:
        parts = urlsplit(gateway)
        if parts.scheme == "http":
            if parts.hostname not in LOOPBACK:
                raise ValueError(f"gateway {gateway!r}: plain http is only allowed on loopback")
            client = databento.Historical(key=key)
            base = f"http://{parts.netloc}"
            client.metadata._base_url = base + "/v0/metadata"
        else:
            client = databento.Historical(key=key, gateway=gateway)
    for api in (client.metadata, client.timeseries, client.symbology, client.batch):
        api.TIMEOUT = timeout_s  # instance attribute shadows the class-wide 100 s
    return client


def check_api_authentication(requirement, ctx) -> CheckResult:
    import requests
    from databento.common.error import BentoClientError, BentoServerError

    p = ctx.params
    env_var = p.get("key_env", "DATABENTO_API_KEY")
    key = api_key(env_var)
    if key is None:
        return CheckResult(status=Status.SKIPPED,
                           message=f"no API key: environment variable {env_var} is not set",
                           details={"key_env": env_var})
    metrics = {"key_present": 1, "key_format_ok": int(bool(KEY_PATTERN.match(key)))}
    try:
        client = historical_client(key, p.get("gateway"), float(p.get("timeout_s", 5)))
        t0 = time.monotonic()
        datasets = client.metadata.list_datasets()
        metrics["api_latency_ms"] = round((time.monotonic() - t0) * 1e3, 3)
    except BentoClientError as exc:
        status = getattr(exc, "http_status", None)
        if status in (401, 403):
            metrics["authenticated"] = 0
            return CheckResult(metrics=metrics, message=f"the API refused the key (HTTP {status})",
                               details={"key_env": env_var, "http_status": status})
        return CheckResult(status=Status.ERROR, metrics=metrics,
                           message=scrub(f"API client error HTTP {status}: {exc}", key))
    except BentoServerError as exc:
        return CheckResult(status=Status.ERROR, metrics=metrics,
                           message=scrub(f"API server error HTTP {getattr(exc, 'http_status', '?')}", key))
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        why = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "unreachable"
        status = Status.ERROR if p.get("mandatory") else Status.SKIPPED
        return CheckResult(status=status, metrics=metrics,
                           message=f"Databento Historical API {why} (network); "
                                   f"{'mandatory now' if p.get('mandatory') else 'not checked'}")
    except ValueError as exc:
        return CheckResult(status=Status.ERROR, message=scrub(str(exc), key))
    metrics["authenticated"] = 1
    metrics["datasets_visible"] = len(datasets)
    details = {"key_env": env_var}
    if p.get("dataset"):
        metrics["dataset_entitled"] = int(p["dataset"] in datasets)
        details["dataset"] = p["dataset"]
    # one authenticated API call, made now: the evidence of a live check
    return observe(CheckResult(metrics=metrics, details=details,
                               message=f"authenticated with the key from {env_var}; "
                                       f"{len(datasets)} datasets visible"),
                   "authenticated API calls", [ctx.clock()])


AUTH_SCHEMA = {
    "type": "object",
    "properties": {
        "key_env": {"type": "string", "pattern": "^[A-Z_][A-Z0-9_]*$"},
        "gateway": {"type": "string"},
        "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 60},
        "dataset": {"type": "string"},
        "mandatory": {"type": "boolean"},
    },
    "additionalProperties": False,
}
AUTH_METRICS = ("authenticated", "key_present", "key_format_ok", "api_latency_ms",
                "datasets_visible", "dataset_entitled")
