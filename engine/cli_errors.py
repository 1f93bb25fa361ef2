"""Input errors that surface deep inside a command, turned into messages at the CLI's edge.

Each command reports the input errors it expects (a bad plan, target, results file) itself.
Two kinds can surface anywhere a command reads, and are caught once here, for every command,
so they never reach the user as a traceback:

- storage corruption (:class:`golive.ledger.integrity.StorageCorrupt`): any command that opens
  the evidence store may meet a damaged SQLite page; the message names the database file and
  says to restore it from a backup (exit 2, never 1, which ``verify`` keeps for tampering);
- input nested too deeply for Python's recursive parsers (JSON, TOML, YAML builders raise
  ``RecursionError``): the message names the files given on the command line (exit 2).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from golive.ledger import integrity

EXIT_INPUT = 2
ARGV_KEY = "golive.argv"


class EdgeInputError(click.ClickException):
    """An input error caught at the CLI's edge: ``error: <message>`` on stderr, exit 2."""

    exit_code = EXIT_INPUT

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def named_files(argv: list[str]) -> list[str]:
    """The arguments (and ``--opt=value`` values) of a command line that name existing files."""
    names = []
    for arg in argv:
        value = arg.split("=", 1)[1] if arg.startswith("--") and "=" in arg else arg
        try:
            if value and not value.startswith("-") and Path(value).is_file():
                names.append(value)
        except (OSError, ValueError):  # a name too long or with NUL is not a file
            continue
    return list(dict.fromkeys(names))


class GuardedGroup(click.Group):
    """The ``golive`` group: runs a command and reports the errors above as input errors."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[ARGV_KEY] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        integrity.install()
        try:
            return super().invoke(ctx)
        except RecursionError:
            files = named_files(ctx.meta.get(ARGV_KEY, []))
            where = f" (input files on the command line: {', '.join(files)})" if files else ""
            raise EdgeInputError(f"an input is nested too deeply to be read (more levels of lists or "
                                 f"objects than any golive file has){where}; check the file") from None
        except Exception as exc:
            corrupt = integrity.corruption_of(exc)
            if corrupt is None:
                raise
            raise EdgeInputError(str(corrupt)) from None
