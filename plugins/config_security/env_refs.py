"""Every ``${ENV}`` reference in the configuration resolves; values are never read or stored.

Plan lines 59-69: "Environment variable resolution" (PRE-CONF-03).

References ``${NAME}``, ``${NAME:-default}`` and ``${NAME-default}`` are collected from every
configuration file with their file and line. A reference resolves when it has a default,
when ``NAME`` is set in the environment golive runs in (``use_process_env``), or when a
dotenv-style file of the target defines it (``env_files``; only the names left of ``=`` are
read, the values never leave the file). The result lists unresolved names with where they
are used; nothing about values is recorded.
"""
from __future__ import annotations

import os
import re

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from golive.plugins.monitoring.observation import observe
from golive.plugins.monitoring.opslog import guarded
from golive.run.target import OutsideTarget, confined

from . import configfiles

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?-[^}]*)?\}")
DOTENV_NAME = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


def dotenv_names(text: str) -> set[str]:
    return {m.group(1) for line in text.splitlines() if (m := DOTENV_NAME.match(line))}


@guarded
def env_references(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    pattern = ctx.params.get("config", "config/**/*")
    files = configfiles.config_files(ctx.target.root, pattern)
    if not files:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: no configuration file matches {pattern!r}")
    names_from: dict[str, str] = {}
    for env_file in ctx.params.get("env_files", [".env"]):
        path = ctx.target.root / env_file
        try:
            confined(ctx.target.root, path)
        except OutsideTarget:  # a .env linked out of the workspace is not read (a run warning says so)
            continue
        if path.is_file():
            # Not recorded as an artifact: hashing a secrets file into the evidence would let
            # anyone holding the ledger test guesses of its contents.
            for name in dotenv_names(path.read_text(encoding="utf-8", errors="replace")):
                names_from.setdefault(name, env_file)
    use_env = bool(ctx.params.get("use_process_env", True))
    refs = []
    for path in files:
        ctx.record_artifact(path)
        rel = str(path.relative_to(ctx.target.root))
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            if line.lstrip().startswith("#"):
                continue
            for m in REFERENCE.finditer(line):
                name, default = m.group(1), m.group(2)
                if default is not None:
                    source = "default"
                elif use_env and name in os.environ:
                    source = "environment"
                elif name in names_from:
                    source = names_from[name]
                else:
                    source = None
                refs.append({"name": name, "file": rel, "line": number, "resolved_by": source})
    if not refs:
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: the configuration uses no ${{ENV}} references")
    unresolved = [r for r in refs if r["resolved_by"] is None]
    names = sorted({r["name"] for r in refs})
    result = CheckResult(
        metrics={"env_references": len(refs), "env_names": len(names), "env_unresolved": len(unresolved),
                 "env_resolved_ratio": Quantity(round(1 - len(unresolved) / len(refs), 6), "ratio")},
        message=f"{len(refs) - len(unresolved)}/{len(refs)} references resolve"
                + (f"; unresolved: {', '.join(sorted({r['name'] for r in unresolved}))}" if unresolved else ""),
        details={"names": names, "unresolved": unresolved[:100],
                 "resolution": ["default in the reference"] + (["process environment"] if use_env else [])
                               + [f"names defined in {f}" for f in ctx.params.get("env_files", [".env"])],
                 "privacy": "only variable names are read and stored, never values"},
    )
    return observe(result, "configuration ${ENV} references", (), events=len(refs))


SCHEMA = {
    "type": "object",
    "properties": {"config": {"type": "string"}, "env_files": {"type": "array", "items": {"type": "string"}},
                   "use_process_env": {"type": "boolean"}},
    "additionalProperties": False,
}
