"""``golive link``: review the links between requirements and tests, confirmed and suggested.

Confirmed links come from markers, the reviewed map file (``golive-links.yaml``) and the plan's
``covered_by`` globs; suggested ones from :func:`golive.plugins.traceability.suggest.suggest_links`.
``--write-markers`` turns the chosen suggestions into ``@pytest.mark.requirement`` markers
(format-preserving, see :mod:`golive.link.markers`); ``--write-map`` into map file entries.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from golive.cli import InputError, _host, _load_plan, _load_target, err, out

BAND_STYLE = {"high": "green", "medium": "yellow", "low": "dim"}


@dataclass
class LinkReview:
    """Everything ``golive link`` shows, for the selected requirements."""

    plan: object
    target: object
    records: list
    selected: list  # requirements shown
    confirmed: dict[str, list[tuple[object, str]]]  # requirement id -> [(record, how)]
    suggested: dict[str, list]  # requirement id -> [Suggestion] in the shown bands
    counted: dict[str, list]  # requirement id -> [Suggestion] in COUNTED_BANDS
    link_map: object = None
    warnings: list[str] = field(default_factory=list)

    @property
    def confirmed_count(self) -> int:
        return sum(1 for r in self.selected if self.confirmed.get(r.id))

    @property
    def if_confirmed_count(self) -> int:
        return sum(1 for r in self.selected if self.confirmed.get(r.id) or self.counted.get(r.id))

    def as_dict(self) -> dict:
        return {
            "target": str(self.target.root),
            "plan": {"id": self.plan.id, "version": self.plan.version},
            "map_file": str(self.link_map.path) if self.link_map is not None else None,
            "summary": {"requirements": len(self.selected), "confirmed": self.confirmed_count,
                        "if_suggestions_confirmed": self.if_confirmed_count},
            "requirements": [{
                "id": r.id, "title": r.title,
                "confirmed": [{"test": rec.id, "kind": rec.kind, "how": how}
                              for rec, how in self.confirmed.get(r.id, [])],
                "suggested": [s.as_dict() for s in self.suggested.get(r.id, [])],
            } for r in self.selected],
            "warnings": list(self.warnings),
        }


def _status(message: str):
    return err.status(message, spinner="dots") if err.is_terminal else contextlib.nullcontext()


def _selected(plan, only: tuple[str, ...]) -> list:
    """Requirements matching ``--only`` ids or globs (case-sensitive), plan order."""
    if not only:
        return list(plan.requirements)
    tokens = [t.strip() for value in only for t in value.split(",") if t.strip()]
    chosen = [r for r in plan.requirements if any(fnmatch.fnmatchcase(r.id, t) for t in tokens)]
    unmatched = [t for t in tokens if not any(fnmatch.fnmatchcase(r.id, t) for r in plan.requirements)]
    if unmatched:
        raise InputError(f"--only {', '.join(unmatched)} matches no requirement id of the plan")
    return chosen


def review_links(target_dir: Path, plan_path: Path | None, only: tuple[str, ...], band: str) -> LinkReview:
    """Load the plan and target, link, suggest; the data behind the table and ``--json``."""
    from golive.plugins.traceability import coverage_reason, discover, link
    from golive.plugins.traceability import suggest as suggest_module
    from golive.plugins.traceability.mapfile import load_for_target

    host = _host()
    plan = _load_plan(plan_path, host)
    target = _load_target(target_dir)
    selected = _selected(plan, only)
    with _status("reading the target's tests and results"):
        try:
            found = discover(target)
        except ValueError as exc:  # a bad traceability_exclude setting
            raise InputError(str(exc))
    records = list(found.records)
    warnings = list(found.warnings)
    link_map = load_for_target(target)
    if link_map is not None:
        warnings += link_map.problems + link_map.review((r.id for r in plan.requirements), records)
    with _status(f"linking {len(records)} tests to {len(plan.requirements)} requirements"):
        links = link(plan.requirements, records, link_map)
    by_id = {r.id: r for r in plan.requirements}
    confirmed = {rid: [(rec, coverage_reason(by_id[rid], rec, link_map)) for rec in recs]
                 for rid, recs in links.items() if recs}
    with _status("ranking suggested links"):
        try:
            suggestions = list(suggest_module.suggest_links(plan.requirements, records, target.root,
                                                            confirmed=links, top_k=3))
        except Exception as exc:  # noqa: BLE001 - suggestions are advisory
            warnings.append(f"link suggestions failed ({type(exc).__name__}: {exc}); none shown")
            suggestions = []
    shown_bands = suggest_module.BANDS[: suggest_module.BANDS.index(band) + 1]
    suggested: dict[str, list] = {}
    counted: dict[str, list] = {}
    for s in sorted(suggestions, key=lambda s: (s.requirement_id, -s.score, s.test_id)):
        if s.band in shown_bands:
            suggested.setdefault(s.requirement_id, []).append(s)
        if s.band in suggest_module.COUNTED_BANDS:
            counted.setdefault(s.requirement_id, []).append(s)
    return LinkReview(plan=plan, target=target, records=records, selected=selected, confirmed=confirmed,
                      suggested=suggested, counted=counted, link_map=link_map, warnings=warnings)


def print_review(review: LinkReview) -> None:
    table = Table(title=f"links of {review.target.root.name}", show_lines=False)
    table.add_column("requirement", no_wrap=True)
    table.add_column("link", no_wrap=True)
    table.add_column("test or result", overflow="fold", ratio=3)
    table.add_column("band", no_wrap=True)
    table.add_column("score", justify="right")
    table.add_column("how / why", ratio=2)
    bare = []
    for req in review.selected:
        rows = [("[green]confirmed[/]", rec.id, "", "", how) for rec, how in review.confirmed.get(req.id, [])]
        rows += [("suggested", s.test_id, f"[{BAND_STYLE.get(s.band, '')}]{s.band}[/]", f"{s.score:.2f}",
                  ", ".join(s.why)) for s in review.suggested.get(req.id, [])]
        if not rows:
            bare.append(req.id)
            continue
        for index, (kind, test, band, score, how) in enumerate(rows):
            table.add_row(req.id if index == 0 else "", kind, escape(test), band, score, escape(how or ""))
        table.add_section()
    if table.row_count:
        out.print(table)
    total = len(review.selected)
    if bare:
        out.print(f"no link and no suggestion ({len(bare)}): {', '.join(bare)}", highlight=False, soft_wrap=True)
    out.print(f"confirmed: {review.confirmed_count} of {total} requirements; "
              f"if the high/medium suggestions were confirmed: {review.if_confirmed_count} of {total}",
              highlight=False, soft_wrap=True)


def chosen_suggestions(review: LinkReview, band: str) -> list:
    """What ``--write-*`` writes: the best suggestion of each test (rank 1) in the chosen bands,
    for the selected requirements, not already confirmed."""
    from golive.plugins.traceability.suggest import BANDS

    bands = BANDS[: BANDS.index(band) + 1]
    chosen = []
    for req in review.selected:
        confirmed_ids = {rec.id for rec, _ in review.confirmed.get(req.id, [])}
        for s in review.suggested.get(req.id, []):
            if s.rank == 1 and s.band in bands and s.test_id not in confirmed_ids:
                chosen.append(s)
    return chosen


def _write_markers(review: LinkReview, chosen: list, yes: bool, dry_run: bool) -> None:
    from golive.link.markers import MarkerTarget, plan_edits

    kinds = {r.id: r.kind for r in review.records}
    wanted: dict[str, list] = {}
    for s in chosen:
        if kinds.get(s.test_id) != "pytest" or "::" not in s.test_id:
            err.print(f"[yellow]warning:[/] {escape(s.test_id)} is not a test function; "
                      f"{s.requirement_id} can only be confirmed in the map file (--write-map)", highlight=False, soft_wrap=True)
            continue
        path, target = MarkerTarget.from_node_id(s.test_id, s.requirement_id)
        wanted.setdefault(path, []).append(target)
    if not wanted:
        out.print("no marker to write (no suggestion in the chosen bands)")
        return
    edits, warnings = plan_edits(review.target.root, wanted)
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    changed = [e for e in edits if e.changed]
    if not changed:
        out.print("no file to change: the markers are already there or no file could be edited")
        return
    for edit in changed:
        click.echo(edit.diff(), nl=False)
    markers = sum(len(e.added) for e in changed)
    if dry_run:
        out.print(f"dry run: {markers} marker(s) in {len(changed)} file(s) not written")
        return
    if not yes and not click.confirm(f"write {markers} marker(s) to {len(changed)} file(s)?", default=False, err=True):
        out.print("nothing written", soft_wrap=True)
        return
    for edit in changed:
        edit.write()
    out.print(f"wrote {markers} marker(s) to {len(changed)} file(s); run `golive link` again to see them confirmed")


def _write_map(review: LinkReview, chosen: list, path_value: str, by: str, dry_run: bool) -> None:
    from golive.plugins.traceability.mapfile import LinkEntry, MapFileError, default_path, write

    path = Path(path_value) if path_value else default_path(review.target)
    when = dt.date.today().isoformat()
    entries = [LinkEntry(requirement_id=s.requirement_id, test=s.test_id, confirmed_by=by, confirmed_at=when,
                         score=round(float(s.score), 4), why=tuple(s.why)) for s in chosen]
    if dry_run:
        out.print(f"dry run: {len(entries)} link(s) not written to {path}", highlight=False, soft_wrap=True)
        return
    try:
        added = write(path, entries, by=by, when=when, order=[r.id for r in review.plan.requirements])
    except (MapFileError, OSError) as exc:
        raise InputError(str(exc))
    out.print(f"{len(added)} link(s) added to {path} ({len(entries) - len(added)} already listed)", highlight=False, soft_wrap=True)
    out.print(f"review {path}: delete the lines that are wrong; only listed links count", highlight=False, soft_wrap=True)


@click.command()
@click.option("-t", "--target", "target_dir", type=click.Path(path_type=Path), default=Path("."),
              show_default=True, help="The trading workspace whose tests are linked.")
@click.option("--plan", "plan_path", type=click.Path(path_type=Path), default=None,
              help="Plan folder or plan.yaml (default: the packaged plan).")
@click.option("--band", type=click.Choice(["high", "medium", "low"]), default="medium", show_default=True,
              help="Lowest band of suggestions shown and written.")
@click.option("--only", multiple=True, metavar="ID|GLOB",
              help="Only these requirement ids or globs (repeatable, or comma-separated).")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the links and suggestions as JSON to this file ('-' for stdout).")
@click.option("--write-markers", is_flag=True,
              help="Add @pytest.mark.requirement markers for the best suggestion of each test "
                   "in the chosen bands (shows the diff and asks first).")
@click.option("--write-map", "write_map_path", is_flag=False, flag_value="", default=None, metavar="[FILE]",
              help="Add the chosen suggestions to the reviewed map file "
                   "(default: [paths] links of golive.toml, else golive-links.yaml in the target).")
@click.option("--by", "by", default=None, metavar="NAME", help="Who confirms the links (required with --write-map).")
@click.option("--yes", is_flag=True, help="Write markers without asking.")
@click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing.")
def link(target_dir, plan_path, band, only, json_path, write_markers, write_map_path, by, yes, dry_run) -> None:
    """Show confirmed and suggested links between requirements and tests; write the reviewed ones.

    Confirmed links come from @pytest.mark.requirement markers, the reviewed map file
    (golive-links.yaml) and the plan's covered_by globs; only they count in golive run.
    Suggested links are ranked candidates with a band (high, medium, low), a score and the
    terms that matched. Exit code 0; 2 for input errors.
    """
    if write_map_path is not None and not (by and by.strip()):
        raise InputError("--write-map needs --by NAME: who confirms the links")
    review = review_links(target_dir, plan_path, only, band)
    for warning in review.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    if json_path is not None:
        text = json.dumps(review.as_dict(), indent=2, ensure_ascii=False) + "\n"
        if str(json_path) == "-":
            click.echo(text, nl=False)
        else:
            try:
                json_path.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise InputError(f"cannot write {json_path}: {exc}")
    if json_path is None or str(json_path) != "-":
        print_review(review)
    if write_markers or write_map_path is not None:
        chosen = chosen_suggestions(review, band)
        if write_markers:
            _write_markers(review, chosen, yes, dry_run)
        if write_map_path is not None:
            _write_map(review, chosen, write_map_path, by.strip(), dry_run)
