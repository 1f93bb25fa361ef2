"""Every configuration profile loads and validates.

Plan lines 3-15: "Configuration loading with all profiles" (PRE-PIPE-02); plan lines 59-69:
"Configuration manager testing" (PRE-CONF-01).

``profiles_load`` parses every profile (``config/profiles/*``) with a safe loader and, when
the target ships a JSON Schema for its configuration (``config/schema.json``), validates
each profile against it; without a schema, ``required_keys`` (dotted paths) must be present.
A profile that does not parse counts as invalid, with the file and line in its problems.
"""
from __future__ import annotations

import json

import jsonschema

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from golive.plugins.monitoring.opslog import PATH_PARAM, ArtifactError, ArtifactMissing, guarded, input_path

from . import configfiles


def load_schema(ctx: CheckContext) -> dict | None:
    path = input_path(ctx, "schema", "config/schema.json")
    if not path.is_file():
        if "schema" in ctx.params:
            raise ArtifactMissing(f"configuration schema {path} not found")
        return None
    ctx.record_artifact(path)
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
    except json.JSONDecodeError as exc:
        raise ArtifactError(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
    except jsonschema.SchemaError as exc:
        raise ArtifactError(path, None, f"not a valid JSON Schema: {exc.message}") from None
    return schema


@guarded
def profiles_load(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    pattern = ctx.params.get("profiles", "config/profiles/*")
    files = configfiles.config_files(ctx.target.root, pattern)
    if not files:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: no configuration profile matches {pattern!r}")
    schema = load_schema(ctx)
    required = list(ctx.params.get("required_keys", []))
    validator = jsonschema.Draft202012Validator(schema) if schema else None
    rows, valid = [], 0
    for path in files:
        ctx.record_artifact(path)
        rel = str(path.relative_to(ctx.target.root))
        try:
            doc = configfiles.load(path)
        except ArtifactError as exc:
            rows.append({"profile": rel, "valid": False, "problems": [str(exc)]})
            continue
        problems = []
        if not isinstance(doc, dict):
            problems.append("top level must be a mapping")
        elif validator:
            problems += [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                         for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path)))][:20]
        if isinstance(doc, dict):
            flat = configfiles.flatten(doc)
            problems += [f"{k}: required key missing" for k in required
                         if k not in flat and not any(f.startswith(k + ".") or f.startswith(k + "[") for f in flat)]
        valid += not problems
        rows.append({"profile": rel, "valid": not problems, "problems": problems})
    return CheckResult(
        metrics={"profiles": len(files), "profiles_invalid": len(files) - valid,
                 "profiles_valid_ratio": Quantity(round(valid / len(files), 6), "ratio")},
        message=f"{valid}/{len(files)} profiles load and validate"
                + ("" if schema else " (no config/schema.json: only parsing and required_keys checked)"),
        details={"profiles": rows, "schema": bool(schema), "required_keys": required},
    )



SCHEMA = {
    "type": "object",
    "properties": {"profiles": {"type": "string"}, "schema": PATH_PARAM,
                   "required_keys": {"type": "array", "items": {"type": "string"}}},
    "additionalProperties": False,
}
