"""Demo operations artifacts: logs, metrics, configuration, docs and a git history, with known faults.

``write_ops(root, inject=..., seed=..., end=...) -> OpsTruth`` writes what the monitoring,
config_security and audit checks read (docs/ops-artifacts.md): a month of heartbeats, three
days of system metrics, a week of pipeline runs, one trading session of latency events over
a Databento trades file with one volatility spike and one volume spike, feed events, alert
rules and alerts, backup/drill logs, configuration profiles, credential and access lists, an
audit log (built from ``records/`` when the records fixture ran first), regulatory reports,
documents with owners, and a git history of the configuration with approvals. A clean
workspace passes every check; each fault in :data:`FAULTS` breaks exactly the requirements
listed in :data:`AFFECTS`, and the returned :class:`OpsTruth` says where it is.

Call it last, after ``records_fixtures.write_records`` and ``feed_workspace.write_feed_workspace``:
it builds the audit log and regulatory reports from ``records/``, keeps an existing feed log,
and commits the whole workspace to git (configuration changes must be committed and approved).
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import random
import subprocess
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

FAULTS = ("memory_leak", "latency_breach", "disk_91", "outage_45min", "plaintext_key", "undocumented_config_change")
AFFECTS = {  # requirement ids each fault must turn red; everything else stays green
    "memory_leak": ["PRE-PIPE-06"],
    "latency_breach": ["LIVE-REL-07", "LIVE-REL-01", "LIVE-REL-05"],
    "disk_91": ["RISK-06"],
    "outage_45min": ["RISK-10"],
    "plaintext_key": ["PRE-CONF-05"],
    "undocumented_config_change": ["AUD-04", "AUD-03"],
}
PEOPLE = {"alice": "alice@desk.example", "bob": "bob@desk.example", "carol": "carol@compliance.example"}
COMPONENTS = {"trading_system": 120, "databento_feed": 600, "broker": 600, "storage": 600}  # heartbeat interval s
SESSION_START_H, SESSION_MINUTES = 14.5, 390  # 09:30-16:00 New York as UTC in winter
ES_INSTRUMENT = 5002


@dataclass
class OpsTruth:
    """Where each injected fault is, and facts of the clean data the tests compare with."""

    end: datetime
    session_day: str = ""
    injected: dict[str, dict] = field(default_factory=dict)
    planted_secrets: list[str] = field(default_factory=list)  # fake keys; tests assert they never leak
    volatility_window: str = ""
    volume_window: str = ""
    git: bool = False


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _jsonl(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, separators=(",", ":"), default=str) + "\n")


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_ops(root: Path | str, inject: tuple[str, ...] | set[str] = (), seed: int = 7,
              end: datetime | None = None, git: bool = True, cli_tests: bool = True) -> OpsTruth:
    """Write the operations artifacts of a demo target under ``root``; returns the truth.

    ``cli_tests=False`` leaves the team's tests alone (no ``tests/pipeline/test_cli_arguments.py``),
    for a workspace whose test inventory must stay as it is, e.g. the reference fixture.
    """
    unknown = set(inject) - set(FAULTS)
    if unknown:
        raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {', '.join(FAULTS)}")
    if not git and {"plaintext_key", "undocumented_config_change"} & set(inject):
        raise ValueError("plaintext_key and undocumented_config_change live in the git history: use git=True")
    root, inject = Path(root), set(inject)
    end = (end or datetime.now(timezone.utc)).replace(second=0, microsecond=0)
    truth = OpsTruth(end=end, injected={f: {"requirements": AFFECTS[f]} for f in sorted(inject)})
    rng = random.Random(seed)
    t_end = end.timestamp()
    _heartbeats(root, rng, t_end, inject, truth)
    _system_metrics(root, rng, t_end, inject, truth)
    session = _session_start(end)
    truth.session_day = _iso(session)[:10]
    _market_and_latency(root, rng, session, inject, truth)
    _pipeline_runs(root, rng, session)
    _feed_events(root, rng, session)
    _disaster_recovery(root, t_end)
    _credentials(root, t_end)
    _entry_point(root, cli_tests)
    _audit_and_reports(root, rng, t_end)
    _golive_settings(root)
    if git:
        truth.git = _git_history(root, t_end, inject, truth)
    else:
        _config_files(root, _strategy(15, 150))
        _docs(root, t_end)
    return truth


# What golive cannot discover in this workspace: its components, documents, parameter files and
# the switch between its profiles (config/profiles, written by _config_files).
SETTINGS = {"expected_components": list(COMPONENTS),
            "required_documents": ["docs/architecture.md", "docs/parameters.md", "docs/runbook.md"],
            "parameter_files": ["config/strategy.yaml", "config/algorithm_weights.json"],
            "profile_required_differences": ["broker.endpoint", "trading.mode"],
            "profile_allowed_differences": ["sources.*", "broker.*", "output.*", "trading.mode", "trading.max_contracts"]}


def _golive_settings(root: Path) -> None:
    """Add the settings golive.toml lacks to its [settings] table (created when absent)."""
    path = root / "golive.toml"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    present = tomllib.loads(text).get("settings", {})
    lines = [f"{k} = {json.dumps(v)}" for k, v in SETTINGS.items() if k not in present]
    if not lines:
        return
    if "\n[settings]\n" in f"\n{text}":  # keys right after the header belong to the existing table
        head, _, tail = f"\n{text}".partition("\n[settings]\n")
        text = f"{head}\n[settings]\n" + "\n".join(lines) + "\n" + tail
        text = text[1:]
    else:
        text += ("\n" if text and not text.endswith("\n") else "") + "\n[settings]\n" + "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")


def _session_start(end: datetime) -> float:
    """Start of the last full weekday session before ``end``."""
    day = end.date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()
    return midnight + SESSION_START_H * 3600


def _heartbeats(root: Path, rng: random.Random, t_end: float, inject: set[str], truth: OpsTruth) -> None:
    start = t_end - 30 * 86400
    outage = None
    if "outage_45min" in inject:  # 45 minutes in the middle of a weekday session, 9 days ago
        day = (datetime.fromtimestamp(t_end, tz=timezone.utc) - timedelta(days=9)).date()
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        begin = datetime(day.year, day.month, day.day, 15, 10, tzinfo=timezone.utc).timestamp()
        outage = (begin, begin + 45 * 60)
    if outage:
        truth.injected["outage_45min"]["from"], truth.injected["outage_45min"]["to"] = _iso(outage[0]), _iso(outage[1])
    rows = []
    for component, interval in COMPONENTS.items():
        t = start + rng.uniform(0, interval)
        while t < t_end:
            if not (outage and outage[0] <= t < outage[1]):
                rows.append((t, {"ts": _iso(t), "component": component, "interval_s": interval, "status": "ready"}))
            t += interval + rng.uniform(-2, 2)  # scheduler jitter, well inside the 1.5 x grace
    _jsonl(root / "logs/heartbeats.jsonl", (r for _, r in sorted(rows, key=lambda x: x[0])))


def _system_metrics(root: Path, rng: random.Random, t_end: float, inject: set[str], truth: OpsTruth) -> None:
    start, n = t_end - 3 * 86400, 3 * 1440
    cpu_spike = start + 1.4 * 86400  # one 6-minute CPU burst: alerted, far below p95
    rows = []
    for i in range(n):
        t = start + i * 60
        hour = (t % 86400) / 3600
        busy = 1.0 if 14.5 <= hour < 21 else 0.4
        cpu = min(99.0, max(2.0, 28 * busy + 12 * math.sin(i / 47) * busy + rng.gauss(0, 4)))
        if cpu_spike <= t < cpu_spike + 360:
            cpu = 93 + rng.uniform(0, 4)
        mem = 52 + 5 * math.sin(i / 300) + rng.gauss(0, 1.2)
        disk = 56 + 2 * i / n + rng.gauss(0, 0.05)
        if "disk_91" in inject and i >= n - 720:
            disk = 86 + 5 * min(1.0, (i - (n - 720)) / 360) + rng.gauss(0, 0.05)
        # RSS: a garbage-collector sawtooth around a plateau; the leak adds a steady slope.
        rss_mib = 880 + 40 * ((i % 90) / 90) + rng.gauss(0, 6)
        if "memory_leak" in inject:
            rss_mib += 6.0 * i / 60
        rows.append({"ts": _iso(t), "host": "trader-01", "cpu_pct": round(cpu, 2), "mem_pct": round(mem, 2),
                     "disk_pct": round(min(disk, 100), 2), "pid": 4242, "process": "run_pipeline",
                     "rss_bytes": int(rss_mib * 1024 * 1024),
                     "net_target": "databento" if i % 2 else "broker",
                     "net_rtt_ms": round(abs(rng.gauss(2.2 if i % 2 else 4.5, 0.4)), 3),
                     "net_loss_pct": round(max(0.0, rng.gauss(0.005, 0.005)), 4)})
    if "disk_91" in inject:
        truth.injected["disk_91"]["from"] = rows[n - 720]["ts"]
    if "memory_leak" in inject:
        truth.injected["memory_leak"]["slope_mib_per_h"] = 6.0
    _jsonl(root / "logs/system_metrics.jsonl", rows)
    rules = [{"name": "cpu_high", "metric": "cpu_pct", "op": ">", "value": 90, "for_s": 120},
             {"name": "memory_high", "metric": "mem_pct", "op": ">", "value": 90, "for_s": 120},
             {"name": "disk_high", "metric": "disk_pct", "op": ">", "value": 85, "for_s": 0},
             {"name": "network_slow", "metric": "net_rtt_ms", "op": ">", "value": 50, "for_s": 60}]
    _write(root, "config/alerts.yaml", "# Alert rules of the trading system (evaluated by its monitor)\nrules:\n"
           + "".join(f"  - {{name: {r['name']}, metric: {r['metric']}, op: \"{r['op']}\", value: {r['value']}, "
                     f"for_s: {r['for_s']}}}\n" for r in rules))
    alerts = []
    for r in rules:  # the monitor fires 20-40 s after a breach has lasted for_s
        above, since = False, None
        for row in rows:
            t = datetime.fromisoformat(row["ts"].replace("Z", "+00:00")).timestamp()
            hit = row[r["metric"]] > r["value"]
            if hit and not above:
                since = t
            if hit and since is not None and t - since >= r["for_s"]:
                alerts.append({"ts": _iso(since + r["for_s"] + rng.uniform(20, 40)), "rule": r["name"],
                               "severity": "critical", "value": row[r["metric"]]})
                since = None
            above = hit
        alerts.append({"ts": _iso(t_end - 2 * 86400 + 600 * len(alerts)), "rule": r["name"], "severity": "info",
                       "test": True, "note": "weekly alert drill"})
    _jsonl(root / "logs/alerts.jsonl", sorted(alerts, key=lambda a: a["ts"]))


def _market_and_latency(root: Path, rng: random.Random, session: float, inject: set[str], truth: OpsTruth) -> None:
    """A session of ES (ESH7) trades as MBO (action T, the schema the feed checks read) with a
    3-minute volatility burst and a 3-minute volume burst, and the latency log over it."""
    import numpy as np

    try:
        from .dbn_fixtures import F_LAST, MBO_DTYPE, write_records
    except ImportError:  # imported as a top-level module (examples/ on sys.path)
        from dbn_fixtures import F_LAST, MBO_DTYPE, write_records

    vol_min, volu_min = 120, 250
    truth.volatility_window = _iso(session + vol_min * 60)
    truth.volume_window = _iso(session + volu_min * 60)
    trades = np.zeros(SESSION_MINUTES * 20, dtype=MBO_DTYPE)
    price, i = 6000.0, 0
    for minute in range(SESSION_MINUTES):
        volatile, heavy = vol_min <= minute < vol_min + 3, volu_min <= minute < volu_min + 3
        for k in range(20):
            price = round((price + rng.gauss(0, 3.0 if volatile else 0.35)) * 4) / 4  # ES tick 0.25
            ts = int((session + minute * 60 + k * 3 + rng.uniform(0, 2)) * 1e9)
            trades[i] = (14, 160, 1, ES_INSTRUMENT, ts, 0, int(price * 1e9), rng.randint(20, 60) if heavy else
                         rng.randint(1, 4), F_LAST, 0, b"T", b"B" if k % 2 else b"A", ts + 40_000, 0, i + 1)
            i += 1
    # the March contract: the December one (ESZ6) is in the feed recording of the same session
    # (examples/feed_workspace.py), whose trades the IFD signals' figures are counted from; two
    # different tapes of one instrument would contradict each other
    write_records(root / f"data/glbx-mbo-trades-{truth.session_day}.dbn.zst", trades, {ES_INSTRUMENT: "ESH7"})
    rows, slow = [], 0
    for i in range(SESSION_MINUTES * 30):  # one processed event every 2 s
        t = session + i * 2 + rng.uniform(0, 1)
        minute = int((t - session) // 60)
        stressed = vol_min <= minute < vol_min + 3 or volu_min <= minute < volu_min + 3
        latency = rng.lognormvariate(math.log(18), 0.3) * (1.6 if stressed else 1.0)
        if "latency_breach" in inject and rng.random() < 0.03:
            latency, slow = rng.uniform(120, 400), slow + 1
        rows.append({"ts": _iso(t), "stage": "end_to_end", "latency_ms": round(latency, 3),
                     "ok": rng.random() > 0.0005, "backlog": rng.randint(0, 3) + (5 if stressed else 0)})
    if "latency_breach" in inject:
        truth.injected["latency_breach"]["slow_events"] = slow
    _jsonl(root / "logs/latency.jsonl", rows)


def _pipeline_runs(root: Path, rng: random.Random, session: float) -> None:
    rows, n = [], 0
    for day in range(5):
        base = session - day * 86400
        if datetime.fromtimestamp(base, tz=timezone.utc).weekday() >= 5:
            continue
        for slot in range(26):
            n += 1
            start = base + slot * 900
            took = rng.uniform(38, 92)
            failed = n in (17, 83)  # two stage failures, each propagated to the entry point
            stages = [{"name": s, "status": "ok"} for s in ("ingest", "analysis", "output")]
            row = {"run_id": f"R{n:05d}", "entry_point": "run_pipeline.py", "started": _iso(start),
                   "finished": _iso(start + took), "duration_s": round(took, 3), "status": "ok", "exit_code": 0,
                   "profile": "production", "sources_used": ["databento", "barchart"], "stages": stages}
            if failed:
                stages[1] = {"name": "analysis", "status": "error", "error": "ValueError: empty order book"}
                stages[2]["status"] = "skipped"
                row |= {"status": "error", "exit_code": 2,
                        "error": {"stage": "analysis", "type": "ValueError", "message": "empty order book"}}
            rows.append(row)
    _jsonl(root / "logs/pipeline_runs.jsonl", sorted(rows, key=lambda r: r["started"]))


def _feed_events(root: Path, rng: random.Random, session: float) -> None:
    """Feed connectivity of the session, unless the feed demo (examples/feed_workspace.py)
    already wrote the log: it owns that contract, and its file serves these checks too."""
    path = root / "logs/feed_events.jsonl"
    if path.exists():
        return
    rows = [{"ts": _iso(session - 300), "source": "databento", "event": "connect", "dataset": "GLBX.MDP3"}]
    for minute in (47, 163, 301):
        down = session + minute * 60
        back = down + rng.uniform(2, 9)
        rows += [{"ts": _iso(down), "source": "databento", "event": "disconnect", "reason": "network"},
                 {"ts": _iso(back), "source": "databento", "event": "reconnect", "gap_start": _iso(down - 0.05),
                  "gap_end": _iso(back)},
                 {"ts": _iso(back + 1.5), "source": "databento", "event": "backfill", "gap_start": _iso(down - 1),
                  "gap_end": _iso(back + 0.5), "records": rng.randint(800, 4000), "duplicates": 0,
                  "missing_sequences": 0}]
    _jsonl(path, sorted(rows, key=lambda r: r["ts"]))


def _disaster_recovery(root: Path, t_end: float) -> None:
    rows = []
    for d in range(30, 0, -1):
        t = (t_end // 86400 - d + 1) * 86400 + 2 * 3600
        if t > t_end:
            continue
        row = {"ts": _iso(t), "kind": "backup", "status": "ok", "scope": ["config", "records", "logs"]}
        if d <= 3:  # recent copies are kept locally as well, so they can be re-hashed
            body = f"backup of {_iso(t)}\n".encode()
            path = _write(root, f"backups/backup-{_iso(t)[:10]}.txt", body.decode())
            row |= {"path": str(path.relative_to(root)), "sha256": hashlib.sha256(body).hexdigest()}
        else:
            row["offsite"] = True
        rows.append(row)
    rows.append({"ts": _iso(t_end - 12 * 86400), "kind": "restore_test", "status": "ok", "checksums_match": True})
    _jsonl(root / "logs/backups.jsonl", sorted(rows, key=lambda r: r["ts"]))
    drill = t_end - 10 * 86400
    _jsonl(root / "logs/dr_drills.jsonl", [
        {"ts": _iso(t_end - 40 * 86400), "kind": "bcp", "scenario": "primary site loss tabletop", "outcome": "ok"},
        {"ts": _iso(drill), "kind": "failover", "scenario": "primary host down", "started": _iso(drill),
         "recovered": _iso(drill + 95), "rto_s": 300, "outcome": "ok", "positions_consistent": True,
         "orders_lost": 0, "orders_duplicated": 0},
        # RISK-03's evidence when no limit is breached in production: a reduction drill on the paper account
        {"ts": _iso(drill + 3600), "kind": "position_reduction", "scenario": "ESZ6 pushed to 3 contracts (limit 2)",
         "symbol": "ESZ6", "started": _iso(drill + 3600), "reduced": _iso(drill + 3602),
         "recovered": _iso(drill + 3605), "outcome": "ok"}])


def _credentials(root: Path, t_end: float) -> None:
    _write(root, "config/credentials.yaml", "# Credential inventory: names and rotation policy only, never values\n"
           "credentials:\n  - {name: databento_api_key, env: DATABENTO_API_KEY, rotate_days: 90}\n"
           "  - {name: broker_token, env: BROKER_TOKEN, rotate_days: 30}\n")
    rows = []
    for name, every in (("databento_api_key", 60), ("broker_token", 21)):
        version, t = 1, t_end - 100 * 86400
        while t < t_end - 86400:
            rows.append({"ts": _iso(t), "credential": name, "event": "rotated", "key_version": version, "actor": "alice"})
            rows.append({"ts": _iso(t + 900), "credential": name, "event": "auth", "key_version": version, "ok": True})
            version, t = version + 1, t + every * 86400
    _jsonl(root / "logs/credential_events.jsonl", sorted(rows, key=lambda r: r["ts"]))
    _write(root, "config/access.yaml", "# Who may change configuration, credentials and trading state\naccounts:\n"
           "  - {id: alice, kind: person, roles: [developer, operator]}\n"
           "  - {id: bob, kind: person, roles: [quant]}\n"
           "  - {id: carol, kind: person, roles: [compliance, approver]}\n"
           "  - {id: svc-pipeline, kind: service, owner: alice, roles: [pipeline]}\n"
           "  - {id: svc-broker, kind: service, owner: alice, roles: [order-routing]}\n")


def _entry_point(root: Path, cli_tests: bool) -> None:
    _write(root, "run_pipeline.py", '"""Entry point of the trading pipeline (demo stub: golive reads it, never runs it)."""\n'
           "import argparse\nimport sys\n\n\ndef parse_args(argv=None):\n"
           "    parser = argparse.ArgumentParser(description=__doc__)\n"
           "    parser.add_argument('--profile', choices=['production', 'testing'], default='testing')\n"
           "    parser.add_argument('--date', help='trading day to process, YYYY-MM-DD')\n"
           "    parser.add_argument('--dry-run', action='store_true')\n"
           "    parser.add_argument('--sources', nargs='*')\n"
           "    return parser.parse_args(argv)\n\n\ndef main(argv=None):\n    args = parse_args(argv)\n"
           "    return 0 if args.profile else 2\n\n\nif __name__ == '__main__':\n    sys.exit(main())\n")
    if not cli_tests:
        return
    _write(root, "tests/pipeline/test_cli_arguments.py", '"""CLI options of run_pipeline.py."""\n'
           "import pytest\n\nfrom run_pipeline import parse_args\n\n\n"
           "def test_profile_and_date():\n    a = parse_args(['--profile', 'production', '--date', '2026-11-02'])\n"
           "    assert a.profile == 'production' and a.date == '2026-11-02'\n\n\n"
           "def test_dry_run_and_sources():\n    a = parse_args(['--dry-run', '--sources', 'databento'])\n"
           "    assert a.dry_run and a.sources == ['databento']\n\n\n"
           "def test_unknown_option_rejected():\n    with pytest.raises(SystemExit):\n        parse_args(['--bogus'])\n")


def _read_csv(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _audit_and_reports(root: Path, rng: random.Random, t_end: float) -> None:
    """The audit log (hash-chained) from the records when present, plus security events, and
    the daily regulatory trade reports with their manifest."""
    rec = root / "records"
    signals, orders = _read_csv(rec / "signals.csv"), _read_csv(rec / "orders.csv")
    fills, positions = _read_csv(rec / "fills.csv"), _read_csv(rec / "positions.csv")
    events = [(s["ts"], "svc-pipeline", "signal", s["signal_id"], {"symbol": s["symbol"]}) for s in signals]
    events += [(o["ts"], "svc-broker", "order_new", o["order_id"],
                {k: o[k] for k in ("symbol", "side", "qty", "order_type") if o.get(k)}) for o in orders]
    events += [(f["ts"], "svc-broker", "fill", f["fill_id"],
                {k: f[k] for k in ("order_id", "symbol", "side", "qty", "price", "fees")}) for f in fills]
    by_ts = {(f["ts"], f["symbol"]): f["fill_id"] for f in fills}
    events += [(p["ts"], "svc-broker", "position_change", f"P{i:05d}",
                {"symbol": p["symbol"], "qty": int(p["qty"]), "cause": by_ts.get((p["ts"], p["symbol"]), "manual")})
               for i, p in enumerate(positions, 1)]
    for d in range(30, 0, -1):
        for who in ("alice", "bob"):
            events.append((_iso(t_end - d * 86400 + 8 * 3600 + rng.uniform(0, 600)), who, "login", f"session-{who}-{d}", {}))
    events += [(_iso(t_end - 20 * 86400), "alice", "credential_change", "databento_api_key", {"action": "rotated"}),
               (_iso(t_end - 15 * 86400), "bob", "config_change", "config/strategy.yaml", {"approval": "CHG-0002"}),
               (_iso(t_end - 6 * 86400), "svc-pipeline", "access_denied", "config/profiles/production.yaml",
                {"action": "write"})]
    norm = sorted(((datetime.fromisoformat(str(ts).replace("Z", "+00:00")).timestamp(), a, e, i, p)
                   for ts, a, e, i, p in events), key=lambda x: x[0])
    prev, rows = None, []
    for seq, (t, actor, event, ident, payload) in enumerate(norm, 1):
        row = {"seq": seq, "ts": _iso(t), "actor": actor, "event": event, "id": ident, "payload": payload}
        if prev:
            row["prev_hash"] = prev
        row["hash"] = prev = hashlib.sha256(json.dumps(row, sort_keys=True, separators=(",", ":"),
                                                       ensure_ascii=False).encode()).hexdigest()
        rows.append(row)
    _jsonl(root / "logs/audit.jsonl", rows)
    manifest, by_day = [], {}
    for f in fills:
        by_day.setdefault(f["ts"][:10], []).append(f)
    cols = ["ts", "fill_id", "order_id", "symbol", "side", "qty", "price", "fees"]
    for day, items in sorted(by_day.items()):
        path = root / f"reports/regulatory/trades-{day}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
            w.writeheader()
            w.writerows(items)
        made = datetime.fromisoformat(day).replace(tzinfo=timezone.utc).timestamp() + 30 * 3600
        manifest.append({"report": "trades", "period": day, "generated_at": _iso(made),
                         "path": str(path.relative_to(root)), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
    _jsonl(root / "logs/regulatory_reports.jsonl", manifest)


def _strategy(min_ev: int, max_risk: int) -> str:
    return ("# Algorithm parameters (changes need an approval in compliance/approvals.yaml)\n"
            f"ev:\n  min_ev: {min_ev}\n  min_probability: 0.60\n  max_risk: {max_risk}\n"
            "ifd:\n  min_notional: 100000\n  min_volume_ratio: 2.0\n  weights: {mbo_pressure: 0.35, volume_ratio: 0.25, "
            "pattern: 0.2, ev: 0.2}\n")


def _config_files(root: Path, strategy: str, production_key: str | None = None) -> None:
    key = f'"{production_key}"' if production_key else '"${DATABENTO_API_KEY}"'
    common = ("sources:\n  databento:\n    dataset: GLBX.MDP3\n    api_key: {key}\n"
              "  barchart:\n    api_key: \"${{BARCHART_API_KEY}}\"\n    base_url: https://ondemand.websol.barchart.com\n"
              "broker:\n  endpoint: {endpoint}\n  token: \"${{BROKER_TOKEN}}\"\n"
              "output:\n  signals_dir: {out}\n  log_level: {level}\n"
              "trading:\n  mode: {mode}\n  max_contracts: {contracts}\n")
    _write(root, "config/profiles/production.yaml", "# Production profile\n" + common.format(
        key=key, endpoint="https://orders.broker.example/v2", out="/srv/trading/signals", level="INFO",
        mode="live", contracts=2))
    _write(root, "config/profiles/testing.yaml", "# Testing profile: paper broker, local output\n" + common.format(
        key='"${DATABENTO_API_KEY}"', endpoint="https://paper.broker.example/v2", out="./out/signals", level="DEBUG",
        mode="paper", contracts=1))
    _write(root, "config/schema.json", json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
        "required": ["sources", "broker", "output", "trading"],
        "properties": {"trading": {"type": "object", "required": ["mode", "max_contracts"],
                                   "properties": {"mode": {"enum": ["live", "paper"]},
                                                  "max_contracts": {"type": "integer", "minimum": 1}}},
                       "broker": {"type": "object", "required": ["endpoint"]}}}, indent=2) + "\n")
    _write(root, "config/sources.yaml", "sources:\n  databento: {enabled: true, priority: 1}\n"
           "  barchart: {enabled: true, priority: 2}\n  scraper: {enabled: false, priority: 3}\n")
    _write(root, "config/strategy.yaml", strategy)
    _write(root, ".env", "# Filled by the deployment from the secret store; golive reads names only\n"
           "DATABENTO_API_KEY=vault:trading/databento#api_key\nBARCHART_API_KEY=vault:trading/barchart#api_key\n"
           "BROKER_TOKEN=vault:trading/broker#token\n")


def _docs(root: Path, t_end: float) -> None:
    reviewed = _iso(t_end - 3600)[:10]
    for name, describes in (("architecture", ["run_pipeline.py"]), ("parameters", ["config/strategy.yaml"]),
                            ("runbook", ["config/alerts.yaml"])):
        _write(root, f"docs/{name}.md", f"---\nowner: alice\ndescribes: {json.dumps(describes)}\nreviewed: {reviewed}\n"
               f"---\n# {name.title()}\n\nMaintained by the trading desk.\n")
    _write(root, "docs/business-continuity.md", "---\nowner: carol\n---\n# Business continuity plan\n\n"
           "## Contacts\nalice (operator), carol (compliance), broker desk.\n\n## Escalation\nOperator, then desk head.\n\n"
           "## Recovery\nFail over to the standby host; restore from the latest backup.\n\n"
           "## Communication\nNotify the broker and compliance within 15 minutes.\n")
    _write(root, "compliance/approvals.yaml", "approvals:\n"
           f"  - {{id: CHG-0001, approved_by: carol, date: {_iso(t_end - 40 * 86400)[:10]}, reason: initial go-live "
           "configuration, parameters: ['*']}\n"
           f"  - {{id: CHG-0002, approved_by: carol, date: {_iso(t_end - 16 * 86400)[:10]}, reason: raise min_ev after "
           "the 20-day baseline review, parameters: [ev.min_ev]}\n")


def _git(root: Path, *args: str, who: str = "alice", at: float | None = None) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": who, "GIT_AUTHOR_EMAIL": PEOPLE[who], "GIT_COMMITTER_NAME": who,
           "GIT_COMMITTER_EMAIL": PEOPLE[who], "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    if at is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{int(at)} +0000"
    subprocess.run(["git", "-C", str(root), "-c", "commit.gpgsign=false", *args], check=True, env=env,
                   capture_output=True, timeout=60)


def _git_history(root: Path, t_end: float, inject: set[str], truth: OpsTruth) -> bool:
    """Commits with dates and authors: the go-live configuration, an approved parameter change,
    optionally a leaked key (later replaced by a reference) and an unapproved change."""
    if not (root / ".git").exists():
        _git(root, "init", "-q", "-b", "main")
    _write(root, ".gitignore", ".env\nbackups/\ndata/\n__pycache__/\n")
    leaked = in_script = None
    if "plaintext_key" in inject:
        # Two fake keys: one committed in the production profile and later replaced by a
        # reference (only in history), one still in a tracked script (file and history).
        alphabet, keys = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789", random.Random(99)
        leaked, in_script = ("db-" + "".join(keys.choices(alphabet, k=29)) for _ in range(2))
        truth.planted_secrets += [leaked, in_script]
    _config_files(root, _strategy(12, 150), production_key=leaked)
    _docs(root, t_end)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "CHG-0001: initial go-live configuration and documentation", at=t_end - 38 * 86400)
    if leaked:
        _config_files(root, _strategy(12, 150))
        _git(root, "commit", "-q", "-am", "CHG-0001: read the Databento key from the environment", at=t_end - 30 * 86400)
        script = f'"""One-off history download."""\nAPI_KEY = "{in_script}"\n'
        _write(root, "scripts/fetch_history.py", script)
        _git(root, "add", "scripts/fetch_history.py")
        _git(root, "commit", "-q", "-m", "Add history download script for the backfill", at=t_end - 25 * 86400)
        truth.injected["plaintext_key"] |= {"files": ["scripts/fetch_history.py:2"],
                                            "history": ["config/profiles/production.yaml"]}
    _write(root, "config/strategy.yaml", _strategy(15, 150))
    _git(root, "commit", "-q", "-am", "CHG-0002: raise min_ev from 12 to 15 after the 20-day baseline review",
         who="bob", at=t_end - 15 * 86400)
    if "undocumented_config_change" in inject:
        _write(root, "config/strategy.yaml", _strategy(15, 175))
        _git(root, "commit", "-q", "-am", "tweak", who="alice", at=t_end - 5 * 86400)
        truth.injected["undocumented_config_change"] |= {"file": "config/strategy.yaml", "key": "ev.max_risk"}
    _docs(root, t_end)  # reviewed after every change above
    _git(root, "add", "-A")
    pending = subprocess.run(["git", "-C", str(root), "status", "--porcelain"], capture_output=True, text=True,
                             timeout=60, check=True).stdout
    if pending.strip():  # files another generator wrote after the first commit
        _git(root, "commit", "-q", "-m", "CHG-0001: operations logs and records of the go-live period",
             at=t_end - 3600)
    return True
