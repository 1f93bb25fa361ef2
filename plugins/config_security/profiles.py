"""Every configuration profile loads and validates.

Plan lines 3-15: "Configuration loading with all profiles" (PRE-PIPE-02); plan lines 59-69:
"Configuration manager testing" (PRE-CONF-01).

``profiles_load`` parses every profile (``config/profiles/*``) with a safe loader and
validates it against what the target expects of a profile:

The profiles are ``check.params.profiles``, else ``[settings] profiles`` (a glob), else
``config/profiles/*``.

* a JSON Schema -- ``check.params.schema``, ``[settings] profile_schema`` in golive.toml, or
  ``config/schema.json`` -- applied whole, and
* required keys (dotted paths, ``trading.mode``) -- ``check.params.required_keys``, else
  ``[settings] profile_required_keys`` in golive.toml, else the keys the target's own code
  reads without a default (:mod:`.config_reader`, by static analysis of its config reader).

With neither a schema nor any required key the requirement is ``missing`` ("configure ..."):
parsing alone proves nothing (two files holding ``a: 1`` would pass). A profile that does not
parse counts as invalid, with the file and line in its problems.
"""
from __future__ import annotations

import json

import jsonschema

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from golive.plugins.monitoring.opslog import PATH_PARAM, ArtifactError, ArtifactMissing, guarded, input_path

from . import config_reader, configfiles


def load_schema(ctx: CheckContext) -> dict | None:
    configured = ctx.settings.get("profile_schema")
    if "schema" not in ctx.params and configured:
        path = ctx.target.root / str(configured)
    else:
        path = input_path(ctx, "schema", "config/schema.json")
    if not path.is_file():
        if "schema" in ctx.params or configured:
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
    pattern = ctx.params.get("profiles") or ctx.settings.get("profiles") or "config/profiles/*"
    files = configfiles.config_files(ctx.target.root, pattern)
    if not files:
        return configure_result("golive.toml [settings] profiles", CheckResult(
            status=Status.MISSING, message=f"{requirement.id}: no configuration profile matches {pattern!r}; configure "
                                           'where the profiles are in golive.toml ([settings] profiles = "GLOB")'))
    schema = load_schema(ctx)
    required, keys_from, discovered = required_keys(ctx)
    if not schema and not required:
        return configure_result("golive.toml [settings] profile_required_keys", CheckResult(
            status=Status.MISSING,
            message=f"{requirement.id}: {len(files)} profile(s) parse, but nothing says what a valid profile holds: "
                    'configure required profile keys in golive.toml ([settings] profile_required_keys = '
                    '["trading.mode", ...]) or a JSON Schema ([settings] profile_schema = "config/schema.json"); '
                    "no config reader of the code was found to discover them",
            details={"profiles": [str(p.relative_to(ctx.target.root)) for p in files], **discovered}))
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
            problems += [f"{k}: required key missing" for k in required if not has_key(doc, k)]
        valid += not problems
        rows.append({"profile": rel, "valid": not problems, "problems": problems})
    result = CheckResult(
        metrics={"profiles": len(files), "profiles_invalid": len(files) - valid,
                 "profiles_valid_ratio": Quantity(round(valid / len(files), 6), "ratio")},
        message=f"{valid}/{len(files)} profiles load and validate against "
                + " and ".join(filter(None, ["the schema" if schema else "",
                                             f"{len(required)} required keys ({keys_from})" if required else ""])),
        details={"profiles": rows, "schema": bool(schema), "required_keys": required, "required_keys_from": keys_from,
                 **discovered},
    )
    result.observed = {"events": len(files), "first": None, "newest": None, "what": "configuration profiles"}
    return result


def configure_result(setting: str, result: CheckResult) -> CheckResult:
    """``result`` with the setting that would let the check run (the verdict says "configure X")."""
    result.configure = setting
    return result


def has_key(doc, dotted: str) -> bool:
    """The dotted key path exists in the document (its value may be empty, even null)."""
    node = doc
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def required_keys(ctx: CheckContext) -> tuple[list[str], str, dict]:
    """(required dotted keys, where they come from, details of the code discovery)."""
    if "required_keys" in ctx.params:
        return list(ctx.params["required_keys"]), "check.params.required_keys", {}
    configured = ctx.settings.get("profile_required_keys")
    if configured:
        if not isinstance(configured, list) or not all(isinstance(k, str) for k in configured):
            raise ArtifactError(ctx.target.root / "golive.toml", None,
                                "[settings] profile_required_keys must be a list of dotted key strings")
        return list(configured), "golive.toml [settings] profile_required_keys", {}
    reads, unparsable = config_reader.discover(ctx.target.root)
    keys = config_reader.required_keys(reads)
    details = {"config_reader_files": reads.files, "keys_read_with_default": sorted(reads.optional),
               "keys_read_at": {k: v[:3] for k, v in reads.required.items() if k in keys},
               "code_not_parsed": unparsable[:20]}
    return keys, "read without a default by " + (", ".join(reads.files[:3]) or "no code"), details



SCHEMA = {
    "type": "object",
    "properties": {"profiles": {"type": "string"}, "schema": PATH_PARAM,
                   "required_keys": {"type": "array", "items": {"type": "string"}}},
    "additionalProperties": False,
}
