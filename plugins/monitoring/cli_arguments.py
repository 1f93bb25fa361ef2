"""Command-line argument parsing is validated: every option of the entry script is tested.

Plan lines 3-15 (Core Trading Pipeline Validation): "Command-line argument parsing
validation" (PRE-PIPE-03).

``cli_arguments`` reads the ``argparse`` options the entry script declares (its
``add_argument`` calls, by static analysis: golive never runs the code it audits) and reports
how many of them the team's tests exercise. An option counts as exercised only when

* one of its flags is passed as a command-line argument in a call inside a
  ``tests/**/test*.py`` file (:mod:`.cli_calls`: a string element of a list or tuple given to
  a call -- ``parse_args([...])``, ``subprocess.run([...])``, ``runner.invoke(cli, [...])``,
  ``main(argv)`` with ``argv = [...]`` --, ``"--a b".split()`` / ``shlex.split("--a b")``,
  or a command string given to ``subprocess``); the argument must *be* the flag
  (``--date`` or ``--date=2026-11-02``), so ``-p`` inside ``"my-dataset-profile"`` does not
  count; or
* a test with a recorded outcome (JUnit or pytest-json results) names it: the flag as a
  parameter of the test id (``test_cli[--dry-run]``), or the option's words as consecutive
  words of the test function's name (``--dry-run`` in ``test_dry_run_is_accepted``).

The entry script is ``check.params.script``, else ``[settings] entry_script`` in the target's
``golive.toml``, else ``run_pipeline.py`` (the plan names it); when none exists the requirement
is ``missing`` and says what to configure.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .cli_calls import call_arguments
from .opslog import PATH_PARAM, ArtifactError, guarded, input_path

__all__ = ["SCHEMA", "cli_arguments", "declared_options", "option_in_test_name"]

DEFAULT_SCRIPT = "run_pipeline.py"


def declared_options(tree: ast.Module) -> list[dict]:
    """Every ``*.add_argument(...)`` call: its flags (or positional name) and line."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
            names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if names:
                found.append({"names": names, "line": node.lineno, "positional": not names[0].startswith("-")})
    return found


def flag_given(flag: str, argument: str) -> bool:
    """``argument`` is the flag itself or ``--flag=value``."""
    return argument == flag or (flag.startswith("--") and argument.startswith(flag + "="))


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^0-9a-z]+", text.lower()) if w]


def option_in_test_name(flags: list[str], test_id: str) -> bool:
    """A recorded test names the option: a flag as a whole parameter of the id (inside ``[...]``,
    separated by ``[``, ``]``, ``,``, ``=``, space or the start/end), or the long flag's words
    as consecutive words of the test function name (``--dry-run`` -> ``..._dry_run_...``)."""
    name, _, params = test_id.rpartition("::")[2].partition("[")
    for flag in flags:
        if params and re.search(r"(?:^|[\[\],=\s])" + re.escape(flag) + r"(?:$|[\],=\s])", params):
            return True
        if flag.startswith("--"):
            want, have = _words(flag), _words(name)
            if want and any(have[i:i + len(want)] == want for i in range(len(have) - len(want) + 1)):
                return True
    return False


def _script_path(ctx: CheckContext) -> tuple[Path | None, str]:
    if ctx.params.get("script"):
        return input_path(ctx, "script", DEFAULT_SCRIPT), "check.params.script"
    configured = ctx.settings.get("entry_script")
    if configured:
        return ctx.target.root / str(configured), "golive.toml [settings] entry_script"
    default = ctx.target.root / DEFAULT_SCRIPT
    return (default if default.is_file() else None), "default"


@guarded
def cli_arguments(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path, origin = _script_path(ctx)
    if path is None:
        missing = CheckResult(status=Status.MISSING,
                              message=f"{requirement.id}: no {DEFAULT_SCRIPT} at the workspace root; configure the "
                                      'entry script in golive.toml ([settings] entry_script = "path/to/main.py")')
        missing.configure = "golive.toml [settings] entry_script"
        return missing
    if not path.is_file():
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: entry point {path} ({origin}) not found")
    ctx.record_artifact(path)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise ArtifactError(path, exc.lineno, f"not valid Python: {exc.msg}") from None
    options = [o for o in declared_options(tree) if not o["positional"]]
    if not options:
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: {path.name} declares no argparse options (add_argument)")
    tests_dir = input_path(ctx, "tests", str(ctx.target.path("tests")))
    test_files = sorted(tests_dir.rglob("test*.py")) if tests_dir.is_dir() else []
    arguments: list[dict] = []  # {"arg", "file", "line"}
    unparsable = []
    for test_file in test_files:
        try:
            found = call_arguments(test_file.read_text(encoding="utf-8", errors="replace"), str(test_file))
        except SyntaxError as exc:
            unparsable.append(f"{test_file.name}:{exc.lineno}")
            continue
        rel = str(test_file.relative_to(ctx.target.root)) if test_file.is_relative_to(ctx.target.root) else str(test_file)
        arguments += [{"arg": a, "file": rel, "line": line} for a, line in found]
    recorded = [t for t in ctx.all_tests if t.outcome is not None]
    rows, untested, naming = [], [], set()
    for o in options:
        calls = [f"{a['file']}:{a['line']}" for a in arguments if any(flag_given(f, a["arg"]) for f in o["names"])]
        named = [t.id for t in recorded if option_in_test_name(o["names"], t.id)]
        naming.update(named)
        if not calls and not named:
            untested.append(o["names"][0])
        rows.append({"flags": o["names"], "line": o["line"], "in_test_calls": calls[:5],
                     "in_recorded_tests": named[:5]})
    result = CheckResult(
        metrics={"cli_options": len(options), "cli_options_untested": len(untested),
                 "cli_options_tested_ratio": Quantity(round(1 - len(untested) / len(options), 6), "ratio")},
        message=f"{len(options) - len(untested)}/{len(options)} options of {path.name} exercised ({len(arguments)} "
                f"argument(s) in test calls of {len(test_files)} file(s); {len(naming)} recorded test(s) naming an option)"
                + (f"; untested: {', '.join(untested)}" if untested else ""),
        details={"script": str(path.relative_to(ctx.target.root)) if path.is_relative_to(ctx.target.root) else str(path),
                 "script_from": origin, "options": rows, "untested": untested,
                 "test_files_not_parsed": unparsable,
                 "rule": "an option is exercised when a flag is a command-line argument in a call in a "
                         "tests/**/test*.py file, or a test with a recorded outcome names it (flag as a "
                         "parameter, or the option's words in the test name); text elsewhere does not count"},
    )
    result.observed = {"events": len(arguments) + len(naming), "first": None, "newest": None,
                       "what": "command-line arguments in test calls or recorded test outcomes"}
    return result


SCHEMA = {
    "type": "object",
    "properties": {"script": PATH_PARAM, "tests": PATH_PARAM},
    "additionalProperties": False,
}
