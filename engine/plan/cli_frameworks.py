"""``golive frameworks``: the framework catalogs beside the plan, what each item maps to, and --
with a results document -- how far a run meets each item."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich import box
from rich.markup import escape
from rich.table import Table

from golive.cli import EXIT_GAPS, InputError, out

CONCLUSION_STYLE = {"met": "green", "partly met": "yellow", "not met": "red", "no evidence": "dim"}


def _load(plan_path: Path | None, catalogs: Path | None):
    from golive.plan import PlanError, load
    from golive.plan.catalog import CatalogError, catalog_folder, load_catalogs

    try:
        plan = load(plan_path)
    except PlanError as exc:
        raise InputError(f"the plan has problems; run `golive validate{' ' + str(plan_path) if plan_path else ''}` "
                         f"for the full list:\n{exc}")
    folder = catalogs if catalogs is not None else catalog_folder(plan_path)
    try:
        return plan, load_catalogs(folder, plan)
    except CatalogError as exc:
        raise InputError(f"{len(exc.problems)} problem(s) in the framework catalogs (docs/frameworks.md):\n{exc}")


def _read_results(path: Path) -> dict:
    from golive.report.inputs import ReportInputError, check_file_document

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"results file {path} does not exist; write one with `golive run --json`")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"results file {path}: cannot be read ({exc})")
    except json.JSONDecodeError as exc:
        raise InputError(f"results file {path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    except RecursionError:
        raise InputError(f"results file {path}: nested too deeply to be a results document")
    try:
        check_file_document(document, "results document")
    except ReportInputError as exc:
        raise InputError(f"{path}: {exc}")
    return document


NOTE_LABEL = "catalog note (what these requirements leave uncovered)"
JUDGED_NOTE_LABEL = "catalog note, not a finding of this run"  # the dashboard's frameworks page says the same


def _mapped_cell(entry: dict, judged: bool = False) -> str:
    if entry["gap"]:
        return f"[dim]gap:[/] {escape(entry['gap'])}"
    reqs = ", ".join(escape(r["id"] if isinstance(r, dict) else r) for r in entry["requirements"])
    label = JUDGED_NOTE_LABEL if judged else NOTE_LABEL
    return reqs + (f"\n[dim]{label}:[/] {escape(entry['uncovered'])}" if entry["uncovered"] else "")


def _print_mapping(mapping: list[dict], coverage: list[dict] | None) -> None:
    judged = {c["id"]: {e["id"]: e for e in c["entries"]} for c in coverage or []}
    for fw in mapping:
        out.print(f"[bold]{escape(fw['id'])}[/] {escape(fw['title'])}")
        out.print(f"  {fw['items']} items: {fw['mapped']} mapped ({fw['mapped_in_part']} only in part), "
                  f"{fw['gaps']} gaps; rests on {len(fw['requirements'])} plan requirements")
        table = Table(box=box.SIMPLE_HEAD, show_lines=False)
        for col in ("item", "reference", "title", *(("conclusion",) if coverage else ()), "requirements or gap"):
            table.add_column(col, no_wrap=col in ("item", "conclusion"))
        for entry in fw["entries"]:
            row = [escape(entry["id"]), escape(entry["reference"]), escape(entry["title"])]
            if coverage:
                seen = judged.get(fw["id"], {}).get(entry["id"], {})
                conclusion = seen.get("conclusion", "no evidence")
                row.append(f"[{CONCLUSION_STYLE[conclusion]}]{conclusion}[/]")
                row.append(_mapped_cell({**entry, "requirements": [f"{r['id']} ({r['status']})"
                                                                   for r in seen.get("requirements", [])]},
                                        judged=True))
            else:
                row.append(_mapped_cell(entry))
            table.add_row(*row)
        out.print(table)
        if coverage:
            counts = next(c["conclusions"] for c in coverage if c["id"] == fw["id"])
            out.print("  " + ", ".join(f"{name}: {n}" for name, n in counts.items()))


@click.command()
@click.option("--plan", "plan_path", type=click.Path(path_type=Path), default=None,
              help="plan.yaml or its folder [default: the packaged plan]; catalogs are read from its frameworks/ folder.")
@click.option("--catalogs", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Read the catalogs from this folder instead of the plan's frameworks/.")
@click.option("--framework", "only", multiple=True, metavar="ID", help="Show only this framework (repeatable).")
@click.option("--results", "results_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A results document (golive run --json): conclude met / partly met / not met / no evidence per item.")
@click.option("--json", "as_json", is_flag=True, help="Print the mapping (and coverage) as JSON.")
def frameworks(plan_path, catalogs, only, results_path, as_json) -> None:
    """List each framework's items with the plan requirements that evidence them, and its gaps.

    A catalog (docs/frameworks.md) maps every item of a regulation to plan requirements or
    lists it as a gap. With --results, an item is met only when all its requirements pass or
    are validly waived (and no part is uncovered), not met when any fails, partly met when
    some are satisfied, and no evidence when none was observed. Exit code 2 for an invalid
    plan, catalog or results document; with --results, 1 when any item is not met.
    """
    from golive.plan.catalog import framework_mapping, requirement_index
    from golive.plan.framework_coverage import framework_coverage

    plan, loaded = _load(plan_path, catalogs)
    if only:
        # the names `golive assess --framework` takes: an id, or the id without its issuer ('15c3-5')
        from golive.assess.cli import resolve_framework

        named, unknown = set(), []
        for name in only:
            try:
                named.add(resolve_framework(loaded, name).id)
            except InputError:
                unknown.append(name)
        if unknown:
            raise InputError(f"unknown framework {', '.join(sorted(unknown))}; catalogs: "
                             f"{', '.join(fw.id for fw in loaded)}")
        loaded = [fw for fw in loaded if fw.id in named]
    mapping = framework_mapping(loaded, plan)
    coverage = framework_coverage(loaded, _read_results(results_path)) if results_path else None
    if as_json:
        payload = {"plan": {"id": plan.id, "version": plan.version, "digest": plan.digest},
                   "frameworks": mapping, "by_requirement": requirement_index(loaded)}
        if coverage is not None:
            payload["coverage"] = coverage
        click.echo(json.dumps(payload, indent=2))
    else:
        _print_mapping(mapping, coverage)
    if coverage and any(c["conclusions"]["not met"] for c in coverage):
        sys.exit(EXIT_GAPS)
