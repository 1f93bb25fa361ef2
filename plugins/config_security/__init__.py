"""Configuration and security checks: profiles, environment references, sources, secrets,
credentials, access control and the audit trail.

Registered as the ``config_security`` family (entry point
``config_security = "golive.plugins.config_security"``). One module per check; each names
the plan lines it verifies. File contracts: docs/ops-artifacts.md.
"""
from __future__ import annotations

from golive import hookimpl
from golive.model import CheckSpec, spec_maker

from . import access, audit_trail, credentials, env_refs, profile_switch, profiles, secrets_at_rest, sources

FAMILY = "config_security"


def checks() -> list[CheckSpec]:
    spec = spec_maker(FAMILY)
    return [
        spec("profiles_load", profiles.profiles_load, profiles.SCHEMA,
             ["profiles", "profiles_invalid", "profiles_valid_ratio"],
             "Every configuration profile parses and validates against the target's schema."),
        spec("profile_switch", profile_switch.profile_switch, profile_switch.SCHEMA,
             ["differing_keys", "unexpected_differences", "required_differences_missing"],
             "Production and testing profiles differ exactly where they should."),
        spec("env_references", env_refs.env_references, env_refs.SCHEMA,
             ["env_references", "env_names", "env_unresolved", "env_resolved_ratio"],
             "Every ${ENV} reference resolves (names only, values never read)."),
        spec("source_toggles", sources.source_toggles, sources.SCHEMA,
             ["sources", "sources_enabled", "sources_without_switch", "sources_switchable_ratio",
              "disabled_source_used", "runs_checked"],
             "Every data source has an enabled switch and disabled sources are not used."),
        spec("secrets_at_rest", secrets_at_rest.secrets_at_rest, secrets_at_rest.SCHEMA,
             ["plaintext_secrets", "plaintext_secrets_history", "sensitive_fields", "sensitive_fields_unprotected",
              "secrets_acknowledged"],
             "No plaintext keys in configuration, files or git history (findings masked)."),
        spec("credential_refresh", credentials.credential_refresh, credentials.SCHEMA,
             ["rotation_entries", "rotation_overdue", "never_rotated", "refresh_failures", "stale_version_uses",
              "rotation_max_age"],
             "Every credential is rotated within its policy."),
        spec("access_control", access.access_control, access.SCHEMA,
             ["accounts", "shared_accounts", "unowned_service_accounts", "accounts_without_roles", "unknown_actors",
              "denied_attempts_logged"],
             "An access list with accountable, unshared accounts covering every audit actor."),
        spec("audit_trail", audit_trail.audit_trail, audit_trail.SCHEMA,
             ["audit_entries", "audit_fields_complete_ratio", "audit_sequence_gaps", "audit_out_of_order",
              "audit_event_kinds_missing", "audit_chain_breaks"],
             "The audit log is complete, ordered, gap-free and (when chained) untampered."),
    ]


@hookimpl
def golive_checks() -> list[CheckSpec]:
    return checks()
