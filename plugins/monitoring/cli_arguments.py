"""Command-line argument parsing is validated: every option of the entry script is tested.

Plan lines 3-15 (Core Trading Pipeline Validation): "Command-line argument parsing
validation" (PRE-PIPE-03).

``cli_arguments`` reads the ``argparse`` options the entry script declares (its
``add_argument`` calls, by static analysis: golive never runs the code it audits) and reports
how many of them the team's tests exercise. An option counts as exercised when one of its
flags appears in a ``tests/**/test*.py`` file of the target.
"""
from __future__ import annotations

import ast

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .entry_point import SCHEMA, parse_script
from .opslog import guarded, input_path

__all__ = ["SCHEMA", "cli_arguments", "declared_options"]


def declared_options(tree: ast.Module) -> list[dict]:
    """Every ``*.add_argument(...)`` call: its flags (or positional name) and line."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
            names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if names:
                found.append({"names": names, "line": node.lineno, "positional": not names[0].startswith("-")})
    return found


@guarded
def cli_arguments(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    parsed = parse_script(ctx, requirement)
    if isinstance(parsed, CheckResult):
        return parsed
    path, tree = parsed
    options = [o for o in declared_options(tree) if not o["positional"]]
    if not options:
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: {path.name} declares no argparse options (add_argument)")
    tests_dir = input_path(ctx, "tests", str(ctx.target.path("tests")))
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(tests_dir.rglob("test*.py"))] \
        if tests_dir.is_dir() else []
    corpus = "\n".join(texts)
    untested = [o["names"][0] for o in options if not any(n in corpus for n in o["names"])]
    return CheckResult(
        metrics={"cli_options": len(options), "cli_options_untested": len(untested),
                 "cli_options_tested_ratio": Quantity(round(1 - len(untested) / len(options), 6), "ratio")},
        message=f"{len(options) - len(untested)}/{len(options)} options of {path.name} exercised by {len(texts)} test file(s)",
        details={"options": [{"flags": o["names"], "line": o["line"]} for o in options], "untested": untested,
                 "rule": "an option is exercised when one of its flags appears in a tests/**/test*.py file"},
    )
