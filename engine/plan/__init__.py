"""The plan stage: read the YAML plan (:mod:`.load`), validate it (:mod:`.validate`), tailor it
(:mod:`.tailoring`), and the units and thresholds its requirements are written in
(:mod:`.units`, :mod:`.thresholds`).

``golive.plan`` re-exports the loader's names, so ``from golive.plan import load`` reads well.
"""
from golive.plan.load import (  # noqa: F401
    JSON_TYPE_NAMES, PLAN_FILE, SCHEMA_DIR, PlanError, PlanSource, Problem, build_plan,
    build_requirement, build_section, default_plan_path, field_name, load, load_validated,
    plan_digest, read_plan, resolve_plan_path, schema_messages, schema_problems, schema_validator,
    yaml_type,
)
