"""Notification rules: which events go to which channels, read from TOML.

The ``[notify]`` table comes from the evidence store's ``<store>/golive-store.toml`` (the
auditor's settings, beside the witnesses) or, when the store has none, from the audited
workspace's ``golive.toml``::

    [notify]
    dashboard_url = "https://golive.example.com"   # links <url>/runs/<run>/requirements/<id>
    expiry_days = 14        # waivers and attestations expiring within this many days
    dedup_hours = 24        # the same event for the same requirement is not sent again within it
    max_per_hour = 10       # messages per channel per hour (a channel may set its own)

    [[notify.channel]]
    name = "ops-mail"                       # recorded in the ledger (never the URL)
    url_env = "GOLIVE_NOTIFY_OPS_MAIL"      # an apprise URL kept out of the file, e.g. mailto://...
    events = ["p1-failure", "new-failure", "ledger", "misfire"]   # default: all of EVENT_KINDS

    [[notify.channel]]
    name = "risk-webhook"
    url = "json://hooks.example.com/golive"
    events = ["expiring"]
    max_per_hour = 4
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STORE_CONFIG = "golive-store.toml"
WORKSPACE_CONFIG = "golive.toml"
EVENT_KINDS = ("p1-failure", "new-failure", "expiring", "ledger", "misfire")
DEFAULTS = {"expiry_days": 14, "dedup_hours": 24.0, "max_per_hour": 10}


class RulesError(ValueError):
    """A ``[notify]`` table cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Channel:
    name: str
    url: str = field(repr=False)  # may carry credentials: never logged, recorded or shown
    events: tuple[str, ...] = EVENT_KINDS
    max_per_hour: int = DEFAULTS["max_per_hour"]


@dataclass(frozen=True)
class Rules:
    channels: tuple[Channel, ...] = ()
    dashboard_url: str = ""
    expiry_days: int = DEFAULTS["expiry_days"]
    dedup_hours: float = DEFAULTS["dedup_hours"]
    source: str = ""  # the file the rules came from

    @property
    def empty(self) -> bool:
        return not self.channels

    def wanted(self) -> set[str]:
        return {kind for c in self.channels for kind in c.events}


def load_rules(store_path: Path | None, target_root: Path | None = None,
               environ: dict[str, str] | None = None) -> Rules:
    """The store's ``[notify]`` if it has one, else the workspace's; none: empty rules."""
    for path in (Path(store_path) / STORE_CONFIG if store_path else None,
                 Path(target_root) / WORKSPACE_CONFIG if target_root else None):
        if path is None or not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise RulesError(f"{path}: cannot read it ({exc}); fix the TOML") from None
        if "notify" in data:
            return parse_rules(data["notify"], str(path), os.environ if environ is None else environ)
    return Rules()


def parse_rules(table: Any, source: str, environ) -> Rules:
    where = f"{source} [notify]"
    if not isinstance(table, dict):
        raise RulesError(f"{where} must be a table")
    dashboard = table.get("dashboard_url", "")
    if not isinstance(dashboard, str) or (dashboard and not dashboard.startswith(("http://", "https://"))):
        raise RulesError(f"{where}: dashboard_url must be an http(s) URL")
    expiry = _number(table, "expiry_days", where, int)
    dedup = _number(table, "dedup_hours", where, float)
    default_rate = _number(table, "max_per_hour", where, int)
    raw = table.get("channel", [])
    if not isinstance(raw, list):
        raise RulesError(f"{where}: channels are [[notify.channel]] tables")
    channels, names = [], set()
    for n, item in enumerate(raw, 1):
        channels.append(_channel(item, f"{where} channel {n}", environ, default_rate))
        if channels[-1].name in names:
            raise RulesError(f"{where}: two channels are named {channels[-1].name!r}; names must differ")
        names.add(channels[-1].name)
    return Rules(tuple(channels), dashboard.rstrip("/"), expiry, dedup, source)


def _channel(item: Any, where: str, environ, default_rate: int) -> Channel:
    if not isinstance(item, dict):
        raise RulesError(f"{where} must be a table")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip() or "://" in name:
        raise RulesError(f"{where}: needs name = \"...\" (a label, not a URL)")
    url = item.get("url")
    if "url_env" in item:
        var = item["url_env"]
        url = environ.get(var) if isinstance(var, str) else None
        if not url:
            raise RulesError(f"{where} ({name}): the environment variable {var!r} named by url_env is not set")
    if not isinstance(url, str) or "://" not in url:
        raise RulesError(f"{where} ({name}): needs url = \"<apprise URL>\" (mailto://, json://, slack://, ...) "
                         "or url_env = \"VARIABLE\"")
    events = item.get("events", list(EVENT_KINDS))
    if not isinstance(events, list) or not events or any(e not in EVENT_KINDS for e in events):
        raise RulesError(f"{where} ({name}): events must be a list of {', '.join(EVENT_KINDS)}")
    rate = _number(item, "max_per_hour", where, int, default_rate)
    return Channel(name.strip(), url, tuple(events), rate)


def _number(table: dict, key: str, where: str, kind, default=None):
    value = table.get(key, DEFAULTS.get(key) if default is None else default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise RulesError(f"{where}: {key} must be a number >= 0")
    return kind(value)
