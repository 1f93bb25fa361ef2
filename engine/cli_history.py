"""``golive history``: the recorded runs of an evidence store, with their verdict and series."""
from __future__ import annotations

from pathlib import Path

import click
from rich import box
from rich.markup import escape
from rich.table import Table

from golive.cli import out
from golive.cli_run import VERDICT_STYLE


@click.command()
@click.option("--store", "store_dir", envvar="GOLIVE_STORE", default=None,
              type=click.Path(file_okay=False, path_type=Path), help="Evidence store folder [default: ./evidence].")
@click.option("--db", "db_url", envvar="GOLIVE_DB", default=None, metavar="URL",
              help="SQLAlchemy URL of the evidence database (env GOLIVE_DB) [default: SQLite in the store].")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def history(store_dir, db_url, as_json) -> None:
    """List past runs, oldest first: verdict, series, coverage and verification.

    A series is the plan version (digest), the tailoring and the selection: `all` for the whole
    plan, `RISK-*` for a scheduled slice. Changes since the previous run and the trend in
    reports only compare runs of one series. Runs from before the readiness verdict show `-`.
    """
    import json as _json

    from golive import history as hist

    rows = hist.summary_rows(store_dir)
    _mark_ledger_runs(rows, store_dir, db_url)
    if as_json:
        click.echo(_json.dumps(rows, indent=2))
        return
    if not rows:
        out.print(f"no runs recorded in {hist.store_path(store_dir)}")
        return
    targets = {r["target"] for r in rows}
    one_target = f", target {next(iter(targets))}" if len(targets) == 1 else ""  # else a column says which
    title = f"runs in {hist.store_path(store_dir)}{one_target} (started in UTC)"
    if out.width < NARROW:
        _print_lines(rows, title, show_target=not one_target)
        return
    table = Table(title=escape(title), title_justify="left", box=box.SIMPLE_HEAD)
    columns = ("started", "run", "ledger", *(() if one_target else ("target",)), "series", "verdict", "requirements",
               "covered", "verified", "failing")
    for col in columns:
        table.add_column(col, justify="right" if col in ("requirements", "covered", "verified", "failing") else "left",
                         no_wrap=col in ("started", "series", "verdict"))
    for r in rows:
        verdict = r["verdict"]
        table.add_row(str(r["started"])[:16].replace("T", " "), r["run"][:8],
                      {True: "yes", False: "[red]NOT IN LEDGER[/]", None: "?"}[r["in_ledger"]],
                      *(() if one_target else (escape(Path(r["target"]).name),)), escape(r["series"]),
                      f"[{VERDICT_STYLE[verdict]}]{verdict}[/]" if verdict in VERDICT_STYLE else "-",
                      str(r["requirements"]), _count_rate(r["covered"], r["coverage_rate"]),
                      _count_rate(r["verified"], r["verification_rate"]),
                      f"[red]{r['failing']}[/]" if r["failing"] else "0")
    out.print(table)


NARROW = 120  # below this the ten columns are cut to '3…' and 'freqtra…': two lines per run instead


def _print_lines(rows: list[dict], title: str, show_target: bool) -> None:
    """Two lines per run, every field whole (a narrow terminal; seen at 80 columns with two targets)."""
    out.print(title, markup=False)
    for r in rows:
        ledger = {True: "", False: "  NOT IN LEDGER", None: "  ledger ?"}[r["in_ledger"]]
        target = f"  {Path(r['target']).name}" if show_target else ""
        out.print(f"  {str(r['started'])[:16].replace('T', ' ')}  {r['run'][:8]}{target}  {r['verdict'] or '-'}"
                  f"{ledger}\n      {r['series']}: covered {_of(r['covered'], r['requirements'], r['coverage_rate'])}, verified "
                  f"{_count_rate(r['verified'], r['verification_rate'])}, failing {r['failing']}", markup=False)


def _of(count, total, rate: float) -> str:
    """``92 of 100 (92%)``; the rate alone when the document does not carry the count."""
    return f"{count} of {total} ({rate:.0%})" if count is not None else f"{rate:.0%} of {total}"


def _count_rate(count, rate: float) -> str:
    """``92 (98%)``; the rate alone when the document does not carry the count."""
    return f"{count} ({rate:.0%})" if count is not None else f"{rate:.0%}"


def _mark_ledger_runs(rows: list[dict], store_dir, db_url) -> None:
    """``in_ledger``: whether the evidence ledger (the store's database, or ``--db``) recorded the
    run the file describes; a runs/ file without its ledger run is not evidence. None when there
    is no ledger to ask (the listing never creates one)."""
    from golive.cli import InputError
    from golive.history import store_path
    from golive.ledger import StoreError, open_store
    from golive.ledger.show import list_runs

    if not db_url and not (store_path(store_dir) / "ledger.db").exists():
        for r in rows:
            r["in_ledger"] = None
        return
    try:
        store = open_store(store_dir, db_url)
        try:
            recorded = {run["id"] for run in list_runs(store)}
        finally:
            store.close()
    except StoreError as exc:
        raise InputError(f"evidence store: {exc}")
    for r in rows:
        r["in_ledger"] = r["run"] in recorded
