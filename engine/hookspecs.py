"""golive's plugin hooks (pluggy project name ``golive``).

Every checker family -- the built-in ones under ``plugins/`` and third-party ones -- is a
module or object implementing some of these hooks, registered through the ``golive``
entry-point group::

    # pyproject.toml of a plugin package
    [project.entry-points.golive]
    mycompany = "mycompany_golive.checks"

Hooks are called by name; a plugin implements only the ones it needs, marked with
``@golive.hookimpl``. Built-in families are registered exactly like external ones.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from golive.model import CheckSpec, Outcome, Target, TestRecord

hookspec = pluggy.HookspecMarker("golive")


@hookspec
def golive_checks() -> list["CheckSpec"]:
    """Return the checks this plugin provides.

    The engine collects them at plan-load time and resolves every requirement's
    ``check: {plugin, name}`` against them; an unknown plugin or check is a validation error,
    and ``check.params`` is validated against the check's ``params_schema``. A param the schema
    does not declare is a validation error even without ``additionalProperties: false`` (set it
    to true to accept any name). At run time a check that returns a verdict (pass, fail,
    partial) without reading every param it was given gets ``error`` naming the ignored ones:
    read each param on every path that judges, or say in the message why it played no part.

    Example::

        from golive import hookimpl
        from golive.model import CheckResult, CheckSpec

        def readme_exists(requirement, ctx):
            path = ctx.target.root / ctx.params.get("path", "README.md")
            if not path.exists():
                return CheckResult(status=Status.MISSING, message=f"{path} not found")
            ctx.record_artifact(path)
            return CheckResult(metrics={"bytes": path.stat().st_size})

        @hookimpl
        def golive_checks():
            return [CheckSpec(plugin="docs", name="readme_exists", func=readme_exists,
                              params_schema={"type": "object",
                                             "properties": {"path": {"type": "string"}},
                                             "additionalProperties": False},
                              metrics=("bytes",))]
    """


@hookspec
def golive_test_sources(target: "Target") -> list["TestRecord"]:
    """Return the tests and test results this plugin finds in the target workspace.

    The traceability family implements it for pytest files, JSON results and JUnit XML; a
    plugin for another test framework adds its own records. Records are merged by id; the
    engine links them to requirements through markers and ``covered_by`` patterns.

    Example::

        @hookimpl
        def golive_test_sources(target):
            return [TestRecord(id=str(p.relative_to(target.root)), path=..., kind="robot")
                    for p in target.root.rglob("*.robot")]
    """


@hookspec
def golive_run_started(run: dict[str, Any]) -> None:
    """Called once before any check runs, with the run header (id, plan, target, started).

    Example: a plugin that posts "audit run started" to a chat channel.
    """


@hookspec
def golive_result(outcome: "Outcome", run: dict[str, Any]) -> None:
    """Called for every requirement as soon as its verdict is known (threshold evaluation
    done). Observers must not raise; an exception here is logged and ignored.

    Example: the evidence ledger appends one signed entry per outcome.
    """


@hookspec
def golive_run_finished(run: dict[str, Any], outcomes: list["Outcome"]) -> None:
    """Called once after all checks, with the finished run header and every outcome.

    Example: write a checkpoint, render a report, notify on new failures.
    """


@hookspec
def golive_report_formats() -> dict[str, Any]:
    """Return ``{format_name: render(model, out_path) -> Path}`` for extra report formats.

    Example::

        @hookimpl
        def golive_report_formats():
            return {"csv": lambda model, out: write_csv(model, out)}
    """
