"""Unit tests of the monitoring family on small hand-made logs: each check's arithmetic, its
missing/error statuses, and the messages that name the file and line of bad input."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path

import pytest

from golive.model import CheckContext, Requirement, Status, Target, Threshold
from golive.plugins.monitoring import (alerts, backups, cli_arguments, component_health, entry_point,
                                       error_propagation, failover, health, latency, live_probe, market_stress,
                                       memory_leak, network_quality, pipeline, recovery, resources, uptime)
from golive.plugins.monitoring.opslog import parse_ts, percentile

T0 = datetime(2026, 11, 2, 14, 30, tzinfo=timezone.utc).timestamp()


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def write(root: Path, rel: str, rows) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def run(func, root: Path, params=None, thresholds=(), now: float | None = None):
    req = Requirement(id="REQ-01", title="t", statement="s", category="c", priority="P1", plan_lines=(1, 1),
                      thresholds=tuple(thresholds))
    ctx = CheckContext(target=Target(root=root), params=params or {}, settings={}, log=logging.getLogger("t"),
                       clock=lambda: datetime.fromtimestamp(now if now is not None else T0 + 86400, tz=timezone.utc))
    return func(req, ctx), ctx


def value(metric):
    return getattr(metric, "value", metric)


def test_percentile_is_nearest_rank_and_parse_ts_accepts_iso_and_epochs():
    data = list(range(1, 101))
    assert percentile(data, 99) == 99 and percentile(data, 95) == 95 and percentile(data, 100) == 100
    assert percentile([5.0], 50) == 5.0
    assert parse_ts("2026-11-02T14:30:00Z") == T0
    assert parse_ts(T0) == T0 and parse_ts(T0 * 1e3) == T0 and parse_ts(int(T0 * 1e9)) == pytest.approx(T0)


def test_missing_log_is_missing_and_corrupt_line_is_error_naming_file_and_line(tmp_path):
    result, _ = run(pipeline.pipeline_duration, tmp_path)
    assert result.status is Status.MISSING and "pipeline_runs.jsonl" in result.message
    write(tmp_path, "logs/pipeline_runs.jsonl", [{"run_id": "a", "started": iso(T0), "status": "ok", "duration_s": 3},
                                                 "{not json"])
    result, _ = run(pipeline.pipeline_duration, tmp_path)
    assert result.status is Status.ERROR and "pipeline_runs.jsonl:2" in result.message
    write(tmp_path, "logs/pipeline_runs.jsonl", [{"run_id": "a", "started": "yesterday", "status": "ok"}])
    result, _ = run(pipeline.pipeline_duration, tmp_path)
    assert result.status is Status.ERROR and "pipeline_runs.jsonl:1" in result.message and "started" in result.message


def test_pipeline_duration_p95_excludes_failed_runs_and_records_the_log(tmp_path):
    rows = [{"run_id": f"r{i}", "started": iso(T0 + i * 900), "status": "ok", "duration_s": float(i)} for i in range(1, 101)]
    rows.append({"run_id": "bad", "started": iso(T0), "finished": iso(T0 + 999), "status": "error", "exit_code": 1,
                 "error": {"stage": "x", "message": "m"}})
    write(tmp_path, "logs/pipeline_runs.jsonl", rows)
    result, ctx = run(pipeline.pipeline_duration, tmp_path)
    assert value(result.metrics["duration_p95"]) == 95 and result.metrics["duration_p95"].unit == "s"
    assert value(result.metrics["duration_max"]) == 100 and result.metrics["runs"] == 100
    assert [a.path for a in ctx.artifacts] == ["logs/pipeline_runs.jsonl"] and len(ctx.artifacts[0].sha256) == 64
    result, _ = run(pipeline.pipeline_duration, tmp_path, {"include_failed": True})
    assert value(result.metrics["duration_max"]) == 999


def test_error_propagation_lists_every_way_a_failure_was_swallowed(tmp_path):
    failed_stage = [{"name": "ingest", "status": "ok"}, {"name": "analysis", "status": "error"}]
    write(tmp_path, "logs/pipeline_runs.jsonl", [
        {"run_id": "good", "started": iso(T0), "status": "error", "exit_code": 2, "stages": failed_stage,
         "error": {"stage": "analysis", "message": "boom"}},
        {"run_id": "swallowed", "started": iso(T0 + 60), "status": "ok", "exit_code": 0, "stages": failed_stage},
        {"run_id": "wrong-stage", "started": iso(T0 + 120), "status": "error", "exit_code": 1, "stages": failed_stage,
         "error": {"stage": "ingest", "message": "x"}},
        {"run_id": "clean", "started": iso(T0 + 180), "status": "ok", "exit_code": 0},
    ])
    result, _ = run(error_propagation.error_propagation, tmp_path)
    assert result.metrics["failures_observed"] == 3 and result.metrics["errors_swallowed"] == 2
    assert result.metrics["errors_propagated_ratio"] == pytest.approx(1 / 3, abs=1e-6)
    why = {s["run_id"]: s["why"] for s in result.details["swallowed"]}
    assert set(why) == {"swallowed", "wrong-stage"}
    assert any("status" in w for w in why["swallowed"]) and any("exit code" in w for w in why["swallowed"])
    assert any("names stage 'ingest'" in w for w in why["wrong-stage"])


def test_t_quantile_matches_tables():
    assert memory_leak.t_quantile_975(10) == pytest.approx(2.228, abs=0.01)
    assert memory_leak.t_quantile_975(30) == pytest.approx(2.042, abs=0.002)
    assert memory_leak.t_quantile_975(1e9) == pytest.approx(1.96, abs=1e-3)


def rss_rows(hours: float, slope_mib_h: float, pid: int = 1, start: float = T0, seed: int = 3):
    import random
    rng = random.Random(seed)
    n = int(hours * 60)
    return [{"ts": iso(start + i * 60), "pid": pid,
             "rss_bytes": int((700 + 30 * ((i % 45) / 45) + rng.gauss(0, 4) + slope_mib_h * i / 60) * 2**20)}
            for i in range(n)]


def test_memory_leak_tells_a_sawtooth_plateau_from_a_slow_leak(tmp_path):
    write(tmp_path, "logs/system_metrics.jsonl", rss_rows(24, 0.0))
    plateau, _ = run(memory_leak.memory_leak, tmp_path)
    low, high = value(plateau.metrics["rss_growth_per_day_lower"]), value(plateau.metrics["rss_growth_per_day_upper"])
    assert low < 0 < high and plateau.metrics["rss_growth_per_day"].unit == "MiB"
    write(tmp_path, "logs/system_metrics.jsonl", rss_rows(24, 1.0))  # 24 MiB/day hidden in 30 MiB sawtooth
    leak, _ = run(memory_leak.memory_leak, tmp_path)
    assert value(leak.metrics["rss_growth_per_day_lower"]) > 10
    assert value(leak.metrics["rss_growth_per_day_lower"]) < 24 < value(leak.metrics["rss_growth_per_day_upper"])


def test_memory_leak_fits_the_longest_continuous_run_and_ignores_restarts(tmp_path):
    # A restart resets RSS: fitted across the restart the series would look like a drop.
    write(tmp_path, "logs/system_metrics.jsonl", rss_rows(3, 0.0, pid=1) + rss_rows(10, 2.0, pid=2, start=T0 + 4 * 3600))
    result, _ = run(memory_leak.memory_leak, tmp_path)
    assert [r["pid"] for r in result.details["runs"]] == ["1", "2"]
    assert value(result.metrics["observed_hours"]) == pytest.approx(9.0 * 0.999, rel=0.02)
    assert value(result.metrics["rss_growth_per_day"]) == pytest.approx(48, rel=0.15)
    write(tmp_path, "logs/system_metrics.jsonl", rss_rows(0.5, 0.0))
    short, _ = run(memory_leak.memory_leak, tmp_path)
    assert short.status is Status.MISSING and "continuous run" in short.message


def test_latency_p99_uses_only_the_selected_stage(tmp_path):
    rows = [{"ts": iso(T0 + i), "latency_ms": float(i % 100 + 1)} for i in range(1000)]
    rows += [{"ts": iso(T0 + i), "latency_ms": 5000.0, "stage": "db_write"} for i in range(50)]
    write(tmp_path, "logs/latency.jsonl", rows)
    result, _ = run(latency.processing_latency, tmp_path)
    assert value(result.metrics["latency_p99"]) == 99 and result.metrics["latency_p99"].unit == "ms"
    assert result.metrics["samples"] == 1000
    result, _ = run(latency.processing_latency, tmp_path, {"stage": "db_write"})
    assert value(result.metrics["latency_max"]) == 5000
    write(tmp_path, "logs/latency.jsonl", [{"ts": iso(T0), "latency_ms": -1}])
    bad, _ = run(latency.processing_latency, tmp_path)
    assert bad.status is Status.ERROR and "latency.jsonl:1" in bad.message


def beats(start, end, interval, component="sys", gaps=()):
    out, t = [], start
    while t < end:
        if not any(a <= t < b for a, b in gaps):
            out.append({"ts": iso(t), "component": component, "interval_s": interval})
        t += interval
    return out


def test_uptime_counts_gap_minus_interval_and_reports_the_worst_component(tmp_path):
    month = 30 * 86400
    outage = (T0 + 10 * 86400, T0 + 10 * 86400 + 45 * 60)
    write(tmp_path, "logs/heartbeats.jsonl", beats(T0, T0 + month, 300, "pipeline", [outage]) + beats(T0, T0 + month, 300, "feed"))
    result, _ = run(uptime.uptime, tmp_path)
    # the heartbeat before the gap covers 300 s of it: 45 min of silence = 45 min down; the
    # figure is November's (the worst month), observed from T0 to 1 December
    november = datetime(2026, 12, 1, tzinfo=timezone.utc).timestamp() - T0
    assert value(result.metrics["downtime"]) == pytest.approx(45 * 60, abs=1)
    assert value(result.metrics["uptime"]) == pytest.approx(1 - 2700 / november, abs=1e-6)
    assert value(result.metrics["uptime"]) < 0.999 and result.details["component"] == "pipeline"
    assert result.details["month"] == "2026-11" and result.metrics["outages"] == 1
    result, _ = run(uptime.uptime, tmp_path, {"component": "feed"})
    assert value(result.metrics["uptime"]) == 1.0


def test_uptime_over_a_period_counts_silence_at_the_edges(tmp_path):
    write(tmp_path, "logs/heartbeats.jsonl", beats(T0, T0 + 86400, 60))
    result, _ = run(uptime.uptime, tmp_path, {"period_days": 2}, now=T0 + 86400 + 3600)
    # period = [T0 - 23 h, T0 + 25 h]: 23 h before the first beat and 1 h after the last are down
    assert value(result.metrics["downtime"]) == pytest.approx(24 * 3600, abs=2)
    assert value(result.metrics["uptime"]) == pytest.approx(0.5, abs=1e-4)


def test_uptime_in_trading_hours_counts_only_scheduled_time(tmp_path):
    start = datetime(2026, 11, 2, 5, 0, tzinfo=timezone.utc).timestamp()  # Monday, before the open
    in_session = (start + 2 * 86400 + 11 * 3600, start + 2 * 86400 + 11 * 3600 + 45 * 60)  # Wed 11:00-11:45 NY
    at_night = (start + 3 * 86400 + 20 * 3600, start + 3 * 86400 + 23 * 3600)
    write(tmp_path, "logs/heartbeats.jsonl", beats(start, start + 12 * 86400, 60, "sys", [in_session, at_night]))
    hours = {"timezone": "America/New_York", "open": "09:30", "close": "16:00"}
    result, _ = run(uptime.uptime, tmp_path, {"trading_hours": hours})
    scheduled = 10 * 6.5 * 3600  # two weeks of weekday sessions, the night outage is outside them
    assert value(result.metrics["downtime"]) == pytest.approx(45 * 60, abs=1)
    assert value(result.metrics["uptime"]) == pytest.approx(1 - 2700 / scheduled, abs=1e-6)
    assert value(result.metrics["longest_outage"]) == pytest.approx(45 * 60, abs=1)
    around_the_clock, _ = run(uptime.uptime, tmp_path)
    assert value(around_the_clock.metrics["downtime"]) == pytest.approx(45 * 60 + 3 * 3600, abs=2)
    bad, _ = run(uptime.uptime, tmp_path, {"trading_hours": {**hours, "timezone": "Mars/Olympus"}})
    assert bad.status is Status.ERROR and "trading_hours" in bad.message


def metric_rows(values, field="cpu_pct", step=60):
    return [{"ts": iso(T0 + i * step), field: v} for i, v in enumerate(values)]


def test_resource_usage_describes_share_and_longest_breach_from_the_plans_line(tmp_path):
    cpu = [50] * 90 + [85] * 5 + [50] * 3 + [90] * 2
    write(tmp_path, "logs/system_metrics.jsonl", metric_rows(cpu))
    line = (Threshold("cpu_p95", "<", 80, "%"),)
    result, _ = run(resources.resource_usage, tmp_path, {"resources": ["cpu"]}, thresholds=line)
    assert value(result.metrics["cpu_max"]) == 90 and result.metrics["cpu_max"].unit == "%"
    assert value(result.metrics["cpu_share_over_line"]) == pytest.approx(0.07)
    # first breach: samples 90..94, back under at 95 -> 5 minutes
    assert value(result.metrics["cpu_longest_breach"]) == 300
    no_line, _ = run(resources.resource_usage, tmp_path, {"resources": ["cpu"]})
    assert "cpu_share_over_line" not in no_line.metrics
    unmonitored, _ = run(resources.resource_usage, tmp_path)
    assert unmonitored.status is Status.MISSING and unmonitored.details["not_monitored"] == ["mem_pct", "disk_pct"]
    write(tmp_path, "logs/system_metrics.jsonl", metric_rows([50, 120]))
    bad, _ = run(resources.resource_usage, tmp_path, {"resources": ["cpu"]})
    assert bad.status is Status.ERROR and "system_metrics.jsonl:2" in bad.message


def test_live_probe_is_off_by_default_and_bounded():
    assert live_probe.probe_settings({})[0] is False
    enabled, seconds, interval, _ = live_probe.probe_settings({"live_probe": {"enabled": True, "seconds": 10_000}})
    assert enabled and seconds == live_probe.MAX_SECONDS
    samples = live_probe.sample_host(0.3, 0.1)
    assert samples and all(0 <= s["cpu_pct"] <= 100 and 0 <= s["disk_pct"] <= 100 for s in samples)


def test_alert_coverage_matches_breaches_to_alerts_and_flags_untested_rules(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config/alerts.yaml").write_text(
        "rules:\n  - {name: cpu_high, metric: cpu_pct, op: '>', value: 90, for_s: 120}\n"
        "  - {name: disk_high, metric: disk_pct, op: '>', value: 85}\n")
    cpu = [50] * 10 + [95] * 5 + [50] * 10 + [95] * 5 + [50] * 5 + [95] * 1  # the last burst is too short
    write(tmp_path, "logs/system_metrics.jsonl", metric_rows(cpu))
    write(tmp_path, "logs/alerts.jsonl", [{"ts": iso(T0 + 12 * 60 + 30), "rule": "cpu_high"}])
    result, _ = run(alerts.alert_coverage, tmp_path)
    assert result.metrics["breaches"] == 2 and result.metrics["missed_alerts"] == 1
    assert result.metrics["alert_coverage"] == 0.5 and value(result.metrics["alert_delay_max"]) == 30
    assert result.details["rules_untested"] == ["disk_high"]
    write(tmp_path, "logs/alerts.jsonl", [{"ts": iso(T0), "rule": "typo_rule"}])
    bad, _ = run(alerts.alert_coverage, tmp_path)
    assert bad.status is Status.ERROR and "alerts.jsonl:1" in bad.message and "typo_rule" in bad.message


def test_network_recovery_pairs_disconnects_with_reconnects(tmp_path):
    write(tmp_path, "logs/feed_events.jsonl", [
        {"ts": iso(T0), "source": "db", "event": "disconnect", "reason": "network"},
        {"ts": iso(T0 + 4), "source": "db", "event": "reconnect"},
        {"ts": iso(T0 + 50), "source": "broker", "event": "disconnect", "reason": "maintenance"},
        {"ts": iso(T0 + 60), "source": "db", "event": "disconnect", "reason": "network"},
        {"ts": iso(T0 + 72), "source": "db", "event": "reconnect"},
        {"ts": iso(T0 + 90), "source": "db", "event": "disconnect", "reason": "network"}])
    result, _ = run(recovery.network_recovery, tmp_path)
    assert result.metrics["disconnects"] == 4 and result.metrics["unrecovered"] == 2
    # the broker has been down since T0 + 50 when the log ends at T0 + 90: at least 40 s
    assert value(result.metrics["recovery_time_max"]) == 40
    network_only, _ = run(recovery.network_recovery, tmp_path, {"reasons": ["network"]})
    assert network_only.metrics["disconnects"] == 3 and network_only.metrics["unrecovered"] == 1


def test_component_health_reports_latest_state_and_never_seen_components(tmp_path):
    rows = beats(T0, T0 + 3600, 60, "feed") + beats(T0, T0 + 3600, 60, "broker")
    rows[-1]["status"] = "down"
    write(tmp_path, "logs/heartbeats.jsonl", rows)
    result, _ = run(component_health.component_health, tmp_path, {"expected_components": ["feed", "broker", "storage"]},
                    now=T0 + 3600)
    assert result.metrics["components_not_ready"] == 1 and result.metrics["components_missing"] == 1
    assert value(result.metrics["health_check_coverage"]) == 1.0
    assert value(result.metrics["last_check_age"]) == pytest.approx(60, abs=1)


def test_health_monitoring_measures_sampling_gaps(tmp_path):
    rows = [{"ts": iso(T0 + i * 60), "cpu_pct": 10, "mem_pct": 20} for i in range(100) if not 40 <= i < 50]
    write(tmp_path, "logs/system_metrics.jsonl", rows)
    result, _ = run(health.health_monitoring, tmp_path, now=T0 + 99 * 60)
    assert value(result.metrics["max_sample_gap"]) == 660 and result.metrics["signals_monitored"] == 2
    assert value(result.metrics["sampling_coverage"]) == pytest.approx(1 - 660 / (99 * 60), abs=1e-6)
    assert set(result.details["not_monitored"]) == {"disk", "network"} and result.metrics["signals_missing"] == 2
    cpu_mem, _ = run(health.health_monitoring, tmp_path, {"required_signals": ["cpu", "memory"]}, now=T0 + 99 * 60)
    assert cpu_mem.metrics["signals_missing"] == 0


def test_network_quality_reports_the_worst_destination_and_needs_both_signals(tmp_path):
    rows = [{"ts": iso(T0 + i * 60), "net_target": "broker" if i % 2 else "databento",
             "net_rtt_ms": 40.0 if i % 2 else 2.0, "net_loss_pct": 0.5 if i % 2 else 0.0} for i in range(100)]
    write(tmp_path, "logs/system_metrics.jsonl", rows)
    result, _ = run(network_quality.network_quality, tmp_path)
    assert result.metrics["net_targets"] == 2 and value(result.metrics["net_rtt_p95"]) == 40
    assert value(result.metrics["net_loss_mean"]) == 0.5 and result.metrics["net_loss_mean"].unit == "%"
    assert result.details["destinations"]["databento"]["rtt_p95_ms"] == 2.0
    write(tmp_path, "logs/system_metrics.jsonl", [{k: v for k, v in r.items() if k != "net_loss_pct"} for r in rows])
    partial, _ = run(network_quality.network_quality, tmp_path)
    assert partial.status is Status.MISSING and "net_loss_pct" in partial.message


def test_backup_integrity_and_restore_drills(tmp_path):
    (tmp_path / "backups").mkdir()
    (tmp_path / "backups/b1").write_bytes(b"one")
    import hashlib
    good = hashlib.sha256(b"one").hexdigest()
    write(tmp_path, "logs/backups.jsonl", [
        {"ts": iso(T0), "kind": "backup", "status": "ok", "path": "backups/b1", "sha256": good},
        {"ts": iso(T0 + 60), "kind": "backup", "status": "ok", "path": "backups/gone", "sha256": good},
        {"ts": iso(T0 + 120), "kind": "backup", "status": "failed"},
        {"ts": iso(T0 + 180), "kind": "restore_test", "status": "ok", "checksums_match": False}])
    result, _ = run(backups.backup_recovery, tmp_path, now=T0 + 3600 + 60)
    assert result.metrics["backup_integrity_failures"] == 1 and result.metrics["backup_files_verified"] == 1
    assert value(result.metrics["backup_age"]) == pytest.approx(1.0) and result.metrics["backup_age"].unit == "h"
    assert value(result.metrics["backups_failed_ratio"]) == pytest.approx(1 / 3, abs=1e-6)
    # a restore whose checksums did not match proves nothing: recovery is not evidenced
    assert "restore_drill_age" not in result.metrics and result.status is Status.MISSING


def test_failover_drill_within_objective_needs_consistency(tmp_path):
    write(tmp_path, "logs/dr_drills.jsonl", [
        {"ts": iso(T0), "kind": "failover", "started": iso(T0), "recovered": iso(T0 + 100), "rto_s": 300},
        {"ts": iso(T0 + 86400), "kind": "failover", "started": iso(T0 + 86400), "recovered": iso(T0 + 86400 + 90),
         "rto_s": 300, "orders_duplicated": 2},
        {"ts": iso(T0 + 2 * 86400), "kind": "failover", "started": iso(T0), "recovered": iso(T0 - 5)}])
    result, _ = run(failover.failover_drill, tmp_path)
    assert result.status is Status.ERROR and "dr_drills.jsonl:3" in result.message
    write(tmp_path, "logs/dr_drills.jsonl", (tmp_path / "logs/dr_drills.jsonl").read_text().splitlines()[:2])
    result, _ = run(failover.failover_drill, tmp_path, now=T0 + 3 * 86400)
    assert value(result.metrics["drills_within_objective"]) == 0.5
    assert result.metrics["last_drill_within_objective"] == 0  # the latest one duplicated orders
    assert value(result.metrics["failover_time_last"]) == 90 and value(result.metrics["drill_age"]) == pytest.approx(2)


def test_entry_point_and_cli_arguments_by_static_analysis(tmp_path):
    (tmp_path / "run_pipeline.py").write_text(
        "import argparse\np = argparse.ArgumentParser()\np.add_argument('--profile')\np.add_argument('-n', '--dry-run')\n"
        "p.add_argument('day')\nif __name__ == '__main__':\n    p.parse_args()\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_cli.py").write_text("def test_x():\n    run(['--profile', 'testing'])\n")
    result, _ = run(cli_arguments.cli_arguments, tmp_path)
    assert result.metrics["cli_options"] == 2 and result.details["untested"] == ["-n"]
    assert value(result.metrics["cli_options_tested_ratio"]) == 0.5
    result, _ = run(entry_point.entry_point, tmp_path)
    assert result.metrics["main_guard"] == 1 and result.status is None
    (tmp_path / "run_pipeline.py").write_text("def main(:\n")
    bad, _ = run(entry_point.entry_point, tmp_path)
    assert bad.status is Status.ERROR and "run_pipeline.py:1" in bad.message


def test_market_stress_compares_spike_windows_with_normal_ones(tmp_path):
    import databento_dbn as dbn

    meta = dbn.Metadata(dataset="GLBX.MDP3", schema=dbn.Schema.TRADES, start=int(T0 * 1e9), end=int((T0 + 3600) * 1e9),
                        stype_in=dbn.SType.RAW_SYMBOL, stype_out=dbn.SType.INSTRUMENT_ID, symbols=["ESZ6"],
                        partial=[], not_found=[], mappings=[])
    payload = bytearray(meta.encode())
    for minute in range(60):
        for k in range(10):
            jump = 20.0 if minute == 30 and k % 2 else 0.0  # one volatile minute
            payload += bytes(dbn.TradeMsg(publisher_id=1, instrument_id=1, ts_event=int((T0 + minute * 60 + k * 5) * 1e9),
                                          price=int((6000 + (k % 2) * 0.25 + jump) * 1e9), size=1,
                                          action=dbn.Action.TRADE, side=dbn.Side.BID, depth=0,
                                          ts_recv=int((T0 + minute * 60 + k * 5) * 1e9), ts_in_delta=0, sequence=1,
                                          flags=0))
    (tmp_path / "data").mkdir()
    (tmp_path / "data/es.dbn").write_bytes(bytes(payload))
    rows = [{"ts": iso(T0 + i * 10), "latency_ms": 80.0 if 180 <= i < 186 else 10.0, "ok": not (i == 182)}
            for i in range(360)]
    write(tmp_path, "logs/latency.jsonl", rows)
    result, ctx = run(market_stress.market_stress, tmp_path)
    assert result.metrics["stress_windows"] == 1
    assert value(result.metrics["latency_p99_stress"]) == 80 and value(result.metrics["latency_p99_normal"]) == 10
    assert value(result.metrics["error_rate_stress"]) == pytest.approx(1 / 6, abs=1e-6)
    assert "data/es.dbn" in [a.path for a in ctx.artifacts]
    calm, _ = run(market_stress.market_stress, tmp_path,
                  {"mode": "volume"})
    assert calm.status is Status.MISSING and "high-volume" in calm.message
    (tmp_path / "data/es.dbn").write_bytes(b"not dbn at all")
    bad, _ = run(market_stress.market_stress, tmp_path)
    assert bad.status is Status.ERROR and "es.dbn" in bad.message


def test_every_check_is_registered_with_a_params_schema_and_metrics():
    import jsonschema
    import pluggy

    import golive.hookspecs
    from golive.ledger.secrets import is_secret_name
    from golive.plugins import audit, config_security, monitoring

    pm = pluggy.PluginManager("golive")
    pm.add_hookspecs(golive.hookspecs)
    for family in (monitoring, config_security, audit):
        pm.register(family)
    specs = [s for batch in pm.hook.golive_checks() for s in batch]
    assert len({s.key for s in specs}) == len(specs) >= 30
    for spec in specs:
        jsonschema.Draft202012Validator.check_schema(spec.params_schema)
        assert spec.metrics and spec.description, spec.key
        # the ledger masks values under credential-like names: no metric may carry one
        assert not [m for m in spec.metrics if is_secret_name(m)], spec.key
        assert spec.plugin in ("monitoring", "config_security", "audit")


def test_default_paths_follow_the_targets_folders(tmp_path):
    # golive.toml may move logs elsewhere; defaults follow it, explicit params stay root-relative
    write(tmp_path, "var/log/latency.jsonl", [{"ts": iso(T0), "latency_ms": 12.0}])
    req = Requirement(id="REQ-01", title="t", statement="s", category="c", priority="P1", plan_lines=(1, 1))
    target = Target(root=tmp_path, paths={"logs": tmp_path / "var/log"})
    ctx = CheckContext(target=target, params={}, settings={}, log=logging.getLogger("t"))
    result = latency.processing_latency(req, ctx)
    assert value(result.metrics["latency_max"]) == 12 and ctx.artifacts[0].path == "var/log/latency.jsonl"
    ctx = CheckContext(target=target, params={"latency": "logs/latency.jsonl"}, settings={}, log=logging.getLogger("t"))
    assert latency.processing_latency(req, ctx).status is Status.MISSING
