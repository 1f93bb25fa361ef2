"""The ``golive`` command line.

Exit codes, for CI: 0 every selected requirement verified (pass or waived), 1 gaps or failures,
2 input or usage errors (bad plan, bad target, bad option, tampered evidence is 1 in ``verify``).
Progress and diagnostics go to stderr; summaries and requested output to stdout.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from golive import __version__
from golive.cli_errors import GuardedGroup

# Piped output (CI logs, files) gets a fixed width so the summary table stays readable.
_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 120
out = Console(width=_WIDTH)
err = Console(stderr=True, width=_WIDTH)

EXIT_OK, EXIT_GAPS, EXIT_INPUT = 0, 1, 2


class InputError(click.ClickException):
    """A problem with the user's input: printed without a traceback, exit code 2."""

    exit_code = EXIT_INPUT

    def show(self, file=None) -> None:
        err.print(f"[bold red]error:[/] {escape(self.message)}", highlight=False, soft_wrap=True)


@click.group(cls=GuardedGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="golive")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
def cli(verbose: int) -> None:
    """golive: the go-live test plan of a trading system as code.

    \b
    Typical use:
      golive validate                      check the plan files
      golive run --target ~/trading-repo   run every requirement, print the gaps
      golive demo                          build the demo workspace and run the plan on it
    """
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from golive.ledger.secrets import RedactingFilter

    for handler in logging.getLogger().handlers:  # a check that logs a key must not print it
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(old)  # one filter, knowing this invocation's environment
        handler.addFilter(RedactingFilter())


def _host():
    from golive.pluginmanager import create_host

    host = create_host()
    for name, problem in host.load_errors.items():
        err.print(f"[yellow]warning:[/] plugin {name}: {escape(str(problem))}", highlight=False)
    return host


def _load_target(target_dir):
    """The target workspace, or an input error (exit 2) saying what is wrong with it."""
    from golive.run.target import TargetError, load_target

    try:
        return load_target(target_dir)
    except TargetError as exc:
        raise InputError(str(exc))


def _load_plan(plan_path: Path | None, host):
    from golive.plan import PlanError, load_validated

    try:
        return load_validated(plan_path, host.checks())
    except PlanError as exc:
        raise InputError(f"the plan has problems; run `golive validate{' ' + str(plan_path) if plan_path else ''}` for the full list:\n{exc}")


@cli.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
def validate(path: Path | None) -> None:
    """Validate the plan (default: the packaged plan) and print every problem.

    PATH is a plan.yaml or the folder holding it. Each problem is printed as
    file:line: field: message. Exit code 2 when there is any problem.
    """
    from golive.plan.validate import format_problems, requirements_per_phase, validate_plan

    host = _host()
    plan, problems = validate_plan(path, host.checks())
    if problems:
        click.echo(format_problems(problems), err=True)
        err.print(f"[bold red]{len(problems)} problem(s)[/] in the plan")
        sys.exit(EXIT_INPUT)
    per_phase = requirements_per_phase(plan)
    titles = {p.number: p.title for p in plan.phases}
    out.print(f"[green]OK[/] plan [bold]{plan.id}[/] v{plan.version}: {len(plan.requirements)} requirements "
              f"in {len(plan.sections)} sections, digest {plan.digest[:16]}")
    for number, count in sorted(per_phase.items()):
        out.print(f"  phase {number} {titles.get(number, '')}: {count}")
    with_check = sum(1 for r in plan.requirements if r.check)
    manual = sum(1 for r in plan.requirements if r.manual)
    out.print(f"  with a check: {with_check}, manual: {manual}, judged from tests: "
              f"{len(plan.requirements) - with_check - manual}")


@cli.command()
def plugins() -> None:
    """List checker families, their checks and where they come from."""
    from rich.table import Table

    host = _host()
    checks = host.checks()
    table = Table(title="golive plugins", show_lines=False)
    table.add_column("plugin")
    table.add_column("origin")
    table.add_column("checks")
    for name, info in sorted(host.plugins.items()):
        names = ", ".join(c.name for c in info.checks) or "-"
        table.add_row(name, info.origin, names)
    out.print(table)
    out.print(f"{len(checks)} checks from {len(host.plugins)} plugins")
    for name, problem in host.load_errors.items():
        out.print(f"[red]not loaded[/] {name}: {escape(str(problem))}", highlight=False)


from golive.cli_run import demo, run  # noqa: E402  (commands live in their own modules)
from golive.cli_history import history  # noqa: E402

from golive.ledger.cli import evidence, keys  # noqa: E402
from golive.ledger.cli_authored import attest, waive  # noqa: E402
from golive.ledger.cli_signoff import signoff  # noqa: E402
from golive.report.cli import report  # noqa: E402
from golive.schedule.cli import schedule  # noqa: E402
from golive.scaffold import plugin  # noqa: E402
from golive.link.cli import link  # noqa: E402
from golive.serve.cli import serve, users  # noqa: E402
from golive.plan.cli_frameworks import frameworks  # noqa: E402
from golive.assess.cli import assess  # noqa: E402

cli.add_command(run)
cli.add_command(demo)
cli.add_command(history)
cli.add_command(report)
cli.add_command(evidence)
cli.add_command(keys)
cli.add_command(attest)
cli.add_command(waive)
cli.add_command(signoff)
cli.add_command(schedule)
cli.add_command(plugin)
cli.add_command(link)
cli.add_command(serve)
cli.add_command(users)
cli.add_command(frameworks)
cli.add_command(assess)


def main() -> None:
    try:
        cli.main(prog_name="golive", standalone_mode=True)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


