"""``golive assess``: write a framework's self-assessment from the evidence ledger.

Exit codes: 0 written; 1 the ledger does not verify (as ``golive evidence verify``: nothing is
written); 2 input errors (unknown framework, bad period, no run in the period, no store, a bad
plan or catalog, an unknown format).
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from golive.cli import InputError, err
from golive.ledger.cli import store_options

FORMATS = ("pdf", "md")


def resolve_framework(frameworks, name: str):
    """The framework ``name`` names: its id, or the id without its issuer's prefix
    (``15c3-5`` for ``sec-15c3-5``); :class:`InputError` lists the choices otherwise."""
    wanted = name.strip().lower()
    found = [fw for fw in frameworks if fw.id == wanted] or \
            [fw for fw in frameworks if fw.id.endswith("-" + wanted)]
    if len(found) == 1:
        return found[0]
    choices = ", ".join(fw.id.split("-", 1)[1] + f" ({fw.id})" if fw.id.startswith("sec-") else fw.id
                        for fw in frameworks)
    raise InputError(f"unknown framework {name!r}; choose one of {choices} (`golive frameworks` lists them)")


def _formats(text: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise InputError(f"--format {text!r}: choose from {', '.join(FORMATS)}, comma-separated (e.g. pdf,md)")
    return chosen


def _plan_and_catalogs(plan_path: Path | None):
    from golive.plan.cli_frameworks import _load

    return _load(plan_path, None)


@click.command("assess", epilog="Exit codes: 0 written; 1 the ledger does not verify (nothing written); "
               "2 input error (unknown framework, bad period, no run in the period, no store).")
@click.option("--framework", "framework_name", required=True, metavar="ID",
              help="The framework to assess against: rts6, 15c3-5 or finra-15-09 (any catalog id).")
@click.option("--period", "period_text", required=True, metavar="FROM..TO",
              help="Runs started in these days (UTC, both included), e.g. 2026-01-01..2026-12-31.")
@store_options
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write the documents in.")
@click.option("--format", "format_text", default="pdf,md", show_default=True, metavar="pdf,md",
              help="Formats to write, comma-separated.")
@click.option("--plan", "plan_path", type=click.Path(path_type=Path), default=None,
              help="plan.yaml or its folder [default: the packaged plan]; the catalogs are read from its frameworks/.")
def assess(framework_name, period_text, store_dir, db_url, out_dir, format_text, plan_path) -> None:
    """Write a self-assessment against a framework catalog from the signed evidence.

    The ledger is verified first. Of the runs started in the period, each requirement is read,
    per target, from the latest finished run that recorded it, back to the target's latest
    whole-plan run (the others are listed). Per catalog item: a conclusion (met, partly met,
    not met, no evidence), the requirement results and ledger entries (sequence number and
    hash) it rests on, waivers, attestations, what needs people, and open actions with owners
    and due dates; then the sign-off page of each run used. An item without evidence is never
    met. The 15c3-5 document is the annual review pack a CEO certification rests on; it
    certifies nothing itself.
    """
    from golive.assess.build import NoRunsInPeriod, build_assessment
    from golive.assess.ledger import LedgerRefused
    from golive.assess.period import PeriodError, parse_period
    from golive.assess.render import write
    from golive.ledger.chain import LedgerError
    from golive.ledger.store import StoreError, open_store

    formats = _formats(format_text)
    try:
        period = parse_period(period_text)
    except PeriodError as exc:
        raise InputError(str(exc))
    plan, frameworks = _plan_and_catalogs(plan_path)
    framework = resolve_framework(frameworks, framework_name)
    path = store_dir or Path.cwd() / "evidence"
    if db_url is None and not (Path(path) / "ledger.db").is_file():
        raise InputError(f"no evidence store at {path} (no ledger.db); give --store DIR or set GOLIVE_STORE")
    try:
        store = open_store(path, db_url)
    except StoreError as exc:
        raise InputError(f"evidence store: {exc}")
    try:
        assessment = build_assessment(store, plan, framework, period)
    except LedgerRefused as exc:
        err.print(f"[red]FAILED[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except NoRunsInPeriod as exc:
        raise InputError(str(exc))
    except LedgerError as exc:
        raise InputError(f"evidence store {path}: {exc}")
    finally:
        store.close()
    for written in write(assessment, out_dir, formats):
        click.echo(str(written))
    counts = ", ".join(f"{name}: {n}" for name, n in assessment.counts.items())
    err.print(f"{escape(assessment.title)}, {period}: {len(assessment.items)} items ({escape(counts)}); "
              f"{len(assessment.actions)} open actions", highlight=False, soft_wrap=True)
