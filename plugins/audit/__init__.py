"""Compliance and audit checks: audit-log completeness, position records, trade reconstruction,
configuration and parameter change documentation, regulatory reporting, documentation.

Registered as the ``audit`` family (entry point ``audit = "golive.plugins.audit"``). One
module per check; each names the plan lines it verifies. Contracts: docs/ops-artifacts.md
(logs, approvals, manifests) and docs/records-contract.md (records).
"""
from __future__ import annotations

from golive import hookimpl
from golive.model import CheckSpec, spec_maker

from . import completeness, config_changes, documentation, parameter_changes, positions, reconstruction, regulatory

FAMILY = "audit"


def checks() -> list[CheckSpec]:
    spec = spec_maker(FAMILY)
    return [
        spec("audit_completeness", completeness.audit_completeness, completeness.SCHEMA, completeness.METRICS,
             "Every recorded signal and order has an audit-log entry."),
        spec("position_records", positions.position_records, positions.SCHEMA, positions.METRICS,
             "Position changes are audited with their cause and reproduced by replaying the fills."),
        spec("trade_reconstruction", reconstruction.trade_reconstruction, reconstruction.SCHEMA, reconstruction.METRICS,
             "Orders and fills rebuilt from the audit log match the records."),
        spec("config_changes", config_changes.config_changes, config_changes.SCHEMA,
             ["under_version_control", "config_commits", "config_changes_undocumented",
              "config_changes_documented_ratio", "uncommitted_config_changes", "self_approved_changes"],
             "Every configuration commit has author, date, reason and a prior independent approval."),
        spec("parameter_changes", parameter_changes.parameter_changes, parameter_changes.SCHEMA,
             ["under_version_control", "parameter_changes", "parameter_changes_undocumented",
              "parameter_changes_documented_ratio"],
             "Every changed parameter value is covered by the approval its commit links to."),
        spec("regulatory_reporting", regulatory.regulatory_reporting, regulatory.SCHEMA, regulatory.METRICS,
             "Daily regulatory reports exist, match their manifest, are complete and on time."),
        spec("documentation_freshness", documentation.documentation_freshness, documentation.SCHEMA,
             documentation.METRICS,
             "Documents exist, name an owner and were reviewed after what they describe changed."),
    ]


@hookimpl
def golive_checks() -> list[CheckSpec]:
    return checks()
