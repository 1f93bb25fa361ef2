"""The `golive evidence` and `golive keys` groups mounted as the main CLI mounts them, for the
transparency-log tests (test_tlog_*.py); ``invoke`` runs a command with str() arguments."""
from __future__ import annotations

import click
from click.testing import CliRunner

from golive.ledger.cli import evidence, keys


@click.group()
def golive() -> None:
    """Stand-in for golive.cli."""


golive.add_command(evidence)
golive.add_command(keys)


def invoke(*args, catch_exceptions: bool = False):
    return CliRunner().invoke(golive, [str(a) for a in args], catch_exceptions=catch_exceptions)
