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
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def history(store_dir, as_json) -> None:
    """List past runs, oldest first: verdict, series, coverage and verification.

    A series is the plan version (digest), the tailoring and the selection: `all` for the whole
    plan, `RISK-*` for a scheduled slice. Changes since the previous run and the trend in
    reports only compare runs of one series. Runs from before the readiness verdict show `-`.
    """
    import json as _json

    from golive import history as hist

    rows = hist.summary_rows(store_dir)
    if as_json:
        click.echo(_json.dumps(rows, indent=2))
        return
    if not rows:
        out.print(f"no runs recorded in {hist.store_path(store_dir)}")
        return
    targets = {r["target"] for r in rows}
    one_target = f", target {next(iter(targets))}" if len(targets) == 1 else ""  # else a column says which
    title = f"runs in {hist.store_path(store_dir)}{one_target} (started in UTC)"
    table = Table(title=escape(title), title_justify="left", box=box.SIMPLE_HEAD)
    columns = ("started", "run", *(() if one_target else ("target",)), "series", "verdict", "requirements",
               "covered", "verified", "failing")
    for col in columns:
        table.add_column(col, justify="right" if col in ("requirements", "covered", "verified", "failing") else "left",
                         no_wrap=col in ("started", "series", "verdict"))
    for r in rows:
        verdict = r["verdict"]
        table.add_row(str(r["started"])[:16].replace("T", " "), r["run"][:8],
                      *(() if one_target else (escape(Path(r["target"]).name),)), escape(r["series"]),
                      f"[{VERDICT_STYLE[verdict]}]{verdict}[/]" if verdict in VERDICT_STYLE else "-",
                      str(r["requirements"]), _count_rate(r["covered"], r["coverage_rate"]),
                      _count_rate(r["verified"], r["verification_rate"]),
                      f"[red]{r['failing']}[/]" if r["failing"] else "0")
    out.print(table)


def _count_rate(count, rate: float) -> str:
    """``92 (98%)``; the rate alone when the document does not carry the count."""
    return f"{count} ({rate:.0%})" if count is not None else f"{rate:.0%}"
