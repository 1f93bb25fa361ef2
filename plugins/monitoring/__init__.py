"""Monitoring checks: core pipeline, system reliability, system health, disaster recovery.

Registered as the ``monitoring`` family (entry point ``monitoring = "golive.plugins.monitoring"``).
Each check lives in its own module whose docstring names the plan lines it verifies and how.
Inputs are the target's logs and metrics; field contracts are in docs/ops-artifacts.md.
"""
from __future__ import annotations

from golive import hookimpl
from golive.model import CheckSpec, spec_maker

from . import (alerts, backups, cli_arguments, component_health, continuity, entry_point, error_propagation, failover,
               health, latency, market_stress, memory_leak, network_quality, pipeline, recovery, resources, uptime)

FAMILY = "monitoring"


def checks() -> list[CheckSpec]:
    spec = spec_maker(FAMILY)
    return [
        spec("entry_point", entry_point.entry_point, entry_point.SCHEMA,
             ["main_guard", "entry_point_runs", "entry_point_success_ratio"],
             "The pipeline entry script parses, has a __main__ guard, and its logged runs succeed."),
        spec("cli_arguments", cli_arguments.cli_arguments, cli_arguments.SCHEMA,
             ["cli_options", "cli_options_untested", "cli_options_tested_ratio"],
             "Share of the entry script's argparse options exercised by the team's tests."),
        spec("pipeline_duration", pipeline.pipeline_duration, pipeline.SCHEMA,
             ["duration_p95", "duration_p50", "duration_max", "runs"],
             "Wall time of completed pipeline runs (nearest-rank percentiles)."),
        spec("error_propagation", error_propagation.error_propagation, pipeline.SCHEMA,
             ["runs", "failures_observed", "errors_swallowed", "errors_propagated_ratio"],
             "Stage failures reach the run status, exit code and error record."),
        spec("memory_leak", memory_leak.memory_leak, memory_leak.SCHEMA,
             ["rss_growth_per_day", "rss_growth_per_day_lower", "rss_growth_per_day_upper",
              "rss_growth_ratio_per_day_lower", "observed_hours", "samples"],
             "RSS trend of the longest continuous run with an autocorrelation-aware 95 % interval."),
        spec("processing_latency", latency.processing_latency, latency.SCHEMA,
             ["latency_p99", "latency_p95", "latency_p50", "latency_max", "samples"],
             "End-to-end processing latency percentiles."),
        spec("market_stress", market_stress.market_stress, market_stress.SCHEMA,
             ["stress_windows", "latency_p99_stress", "latency_p99_normal", "latency_stress_ratio",
              "error_rate_stress", "error_rate_normal", "backlog_max_stress"],
             "Latency and error rate inside volatility-spike or high-volume windows of the market data."),
        spec("network_recovery", recovery.network_recovery, recovery.SCHEMA,
             ["disconnects", "unrecovered", "recovery_time_max", "recovery_time_p95"],
             "Time from each feed disconnect to the reconnect."),
        spec("resource_usage", resources.resource_usage, resources.SCHEMA, resources.METRIC_NAMES,
             "CPU, memory and disk utilisation; share above the plan's line and longest breach."),
        spec("component_health", component_health.component_health, component_health.SCHEMA,
             ["components", "components_missing", "components_not_ready", "health_check_coverage",
              "last_check_age"],
             "Every component's health check reports regularly and its latest state is ready."),
        spec("health_monitoring", health.health_monitoring, health.SCHEMA,
             ["signals_monitored", "signals_missing", "sampling_coverage", "max_sample_gap", "last_sample_age",
              "samples"],
             "Health signals are sampled continuously and recently."),
        spec("network_quality", network_quality.network_quality, network_quality.SCHEMA,
             ["net_targets", "net_rtt_p95", "net_rtt_max", "net_rtt_samples", "net_loss_mean", "net_loss_max"],
             "Network round-trip time and packet loss."),
        spec("uptime", uptime.uptime, uptime.SCHEMA,
             ["uptime", "downtime", "longest_outage", "outages", "observed_period"],
             "Availability from heartbeat gaps."),
        spec("alert_coverage", alerts.alert_coverage, alerts.SCHEMA,
             ["breaches", "missed_alerts", "test_alerts", "rules", "rules_untested", "alert_coverage",
              "alert_delay_max", "alert_delay_p95"],
             "Every breach of the system's alert rules produced an alert in time."),
        spec("backup_recovery", backups.backup_recovery, backups.SCHEMA,
             ["backup_age", "backups_failed_ratio", "backup_integrity_failures", "backup_files_verified",
              "restore_drill_age"],
             "Backups are recent and intact; restores are drilled."),
        spec("failover_drill", failover.failover_drill, failover.SCHEMA,
             ["drills", "drill_age", "last_drill_within_objective", "drills_within_objective", "failover_time_last",
              "failover_time_max"],
             "Failover drills recover within their time objective."),
        spec("business_continuity", continuity.business_continuity, continuity.SCHEMA,
             ["bcp_sections_missing", "bcp_doc_age", "bcp_exercise_age"],
             "A complete, maintained continuity plan that has been exercised."),
    ]


@hookimpl
def golive_checks() -> list[CheckSpec]:
    return checks()
