"""``golive run`` and ``golive demo``: run the plan against a workspace and show the gaps."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.markup import escape

from golive.executors import EXECUTOR_HELP
from golive.cli import EXIT_GAPS, EXIT_INPUT, EXIT_OK, InputError, _host, _load_plan, _load_target, err, out

STATUS_STYLE = {"pass": "green", "fail": "red", "partial": "yellow", "missing": "magenta",
                "error": "bold red", "skipped": "dim", "waived": "cyan"}
# bands grade verification (golive.run.scoring.group_band), so the labels say so
BAND_LABEL = {"well": "[green]well verified[/]", "partial": "[yellow]partly verified[/]", "major": "[red]major gap[/]"}
VERDICT_STYLE = {"READY": "bold green", "NOT READY": "bold red", "INCOMPLETE": "bold yellow"}
LISTED_REASON_CHARS = 150  # one line per failing or partial requirement


def execute_run(target_dir: Path, plan_path: Path | None, only: tuple[str, ...], jobs: int,
                json_path: Path | None, tailoring_path: Path | None, timeout: float,
                quiet: bool = False, report_path: Path | None = None, store_dir: Path | None = None,
                db_url: str | None = None, evidence: bool = True, executor: str = "local",
                clock=None, gate: str = "verified", store_inside_target: bool = False,
                after_recorded=None) -> tuple[dict, int]:
    """Load everything, run, print the summary, render the report if asked;
    returns (results document, exit code under ``gate``, see :func:`gate_exit_code`).
    ``after_recorded(recorder, doc)`` runs once the run is recorded and its document stored,
    before ``json_path``, the summary and the report are written (the demo signs the run off
    there: golive.demo_signoff)."""
    from golive.results import build_document, write_document
    from golive.run.runner import RunOptions, run_plan
    from golive.run.selection import SelectionError
    from golive.plan.tailoring import TailoringError, load_tailoring

    host = _host()
    plan = _load_plan(plan_path, host)
    target = _load_target(target_dir)
    recorder = None
    if evidence:
        from golive.ledger import KeyFileError, LedgerError, StoreError, attach
        _refuse_store_in_target(target.root, store_dir, db_url, store_inside_target)
        try:
            recorder = attach(host, store_dir, db_url)
        except (StoreError, KeyFileError, LedgerError) as exc:
            raise InputError(f"evidence store: {exc}")
    tailoring = None
    if tailoring_path:
        try:
            tailoring = load_tailoring(tailoring_path)
            tailoring.apply(plan)  # fail early, before any check runs
        except TailoringError as exc:
            raise InputError(str(exc))
    from golive.ledger.scope import RunScope
    from golive.run.provenance import target_identity

    scope = RunScope.of(target_identity(target.root, target.settings), plan)
    attestations, waivers, authored = authored_evidence(recorder, scope)
    from golive.executors import ExecutorError, executor_from_spec
    try:
        check_executor = executor_from_spec(executor)
        if check_executor is not None:
            check_executor.start()  # before the ledger records a run start: a dead cluster is an input error
    except ExecutorError as exc:
        raise InputError(str(exc))
    options = RunOptions(jobs=jobs, only=only, timeout_s=timeout, tailoring=tailoring, attestations=attestations,
                         clock=clock, signed=recorder is not None,
                         executor=check_executor, authored=authored)

    show = not quiet and err.is_terminal
    progress = Progress(TextColumn("[bold]checking[/]"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                        transient=True, disable=not show)
    with progress:
        task = progress.add_task("", total=None)

        def on_outcome(outcome, done, total):
            progress.update(task, completed=done, total=total,
                            description=f"{outcome.requirement.id} {outcome.status.value}")

        try:
            report = run_plan(plan, target, host, options, on_outcome=on_outcome)
        except (SelectionError, ExecutorError) as exc:
            raise InputError(str(exc))
        finally:
            if check_executor is not None:
                check_executor.close()

    sealed = None
    if recorder is not None:  # witnesses, timestamp and the proof bundle; failures are warnings
        from golive.ledger.witnessing import seal_run
        sealed = seal_run(recorder)
    if report.document is not None:  # built before the run-finished entry that records its digest
        from golive.run.readiness import refresh_summary
        doc = report.document
        doc["run"]["ledger"] = recorder.head if recorder else None
        refresh_summary(doc)  # signed now
    else:
        doc = build_document(report, ledger_head=recorder.head if recorder else None)
    if sealed is not None:
        doc["warnings"] = [*doc.get("warnings", []), *sealed.warnings]
    code = gate_exit_code(doc, gate, apply_waivers_to_document(doc, waivers, report.plan.bands))
    past: list[dict] = []
    if recorder is not None:
        from golive import history
        past = history.past_runs(recorder.store.path, doc)
        history.save(recorder.store.path, doc)
        from golive.notify import notify_after_run  # a failed notification is a run warning, never a failed run
        doc["warnings"] = [*doc.get("warnings", []), *notify_after_run(recorder, doc, past, target.root, sealed)]
        if after_recorded is not None:  # the stored document (what a sign-off binds) is written already
            after_recorded(recorder, doc)
    if json_path:
        write_document(doc, json_path)
    if not quiet:
        print_summary(doc)
        if json_path:
            out.print(f"results: {json_path}")
        if recorder and recorder.head:
            out.print(f"evidence: {recorder.head['size']} ledger entries, head {recorder.head['head'][:16]}, "
                      f"key {recorder.head['key_id'][:16]} in {store_label(store_dir, db_url)}")
    if report_path:
        render_report(report_path, doc, report.plan, quiet, past, sealed)
    return doc, code


def authored_evidence(recorder, scope) -> tuple[dict[str, list[dict]], list[dict], dict | None]:
    """Attestations (by requirement) and waivers recorded in the ledger for this run's target and
    plan (``scope``, golive.ledger.scope.RunScope), oldest first, and what the run records about
    them: the seqs it applies and those of its target it sets aside, with why."""
    if recorder is None:
        return {}, [], None
    from golive.ledger.show import IN_FORCE_NOW, authored_entries

    # revoked ones no longer count; another target's never do
    attested, set_aside = scope.split("attestation", authored_entries(recorder.store, "attestation",
                                                                      in_force_at=IN_FORCE_NOW))
    waived, aside = scope.split("waiver", authored_entries(recorder.store, "waiver", in_force_at=IN_FORCE_NOW))
    from golive.ledger.keyring import recorded_keys
    waived, co_approvals, pending = scope.settle_waivers(waived, recorded_keys(recorder.store))
    attestations: dict[str, list[dict]] = {}
    for a in attested:
        attestations.setdefault(a.get("requirement_id", ""), []).append(a)
    waivers = [{"requirement_id": w.get("requirement_id"), "approver": w.get("approver") or w.get("author_key_id", "")[:16],
                "co_approvers": list(w.get("co_approvers") or []),
                "reason": w.get("justification", ""), "expires": w.get("expires"), "created": w.get("time", ""),
                "files": w.get("blobs") or []}
               for w in waived]
    record = {"target_identity": scope.identity, "attestations": [a["seq"] for a in attested],
              "waivers": [w["seq"] for w in waived], "waiver_approvals": co_approvals,
              "set_aside": [{**a.__dict__, "message": a.message()} for a in [*set_aside, *aside]]
              + [p.__dict__ for p in pending]}
    return attestations, waivers, record


def apply_waivers_to_document(doc: dict, waivers: list[dict], bands: dict | None = None) -> int:
    """Waivers change the status shown (``waived``, never counted as pass), not the recorded
    evidence: the ledger keeps the check's own result and the signed waiver side by side. The
    figures, the groups' bands and the readiness verdict are recomputed with the waivers applied.
    Returns the exit code: 0 when every applicable requirement passed or is waived."""
    from golive.report.waivers import apply_waivers, refresh_groups
    from golive.run.readiness import refresh_summary
    from golive.run.scoring import exit_code

    known = {r["requirement_id"] for r in doc["results"]}
    usable = [w for w in waivers if w["requirement_id"] in known]  # a waiver for a tailored-out or renamed id
    views = apply_waivers(doc, usable, as_of=doc["run"].get("finished"))
    doc["waivers"] = [v.as_dict() for v in views]  # JSON's own types: a stored document must equal the one rebuilt
    counts = {s: 0 for s in doc["summary"]["by_status"]}
    for r in doc["results"]:
        counts[r["status"]] += 1
    doc["summary"]["by_status"] = counts
    if any(v.state == "applied" for v in views):
        refresh_groups(doc, bands)  # group bands as the reports grade them
    refresh_summary(doc)
    return exit_code(doc["results"])


GATES = ("verified", "ready")
GATE_HELP = ("What exit code 0 means: 'verified' (default) every selected requirement passes or is waived; "
             "'ready' the readiness verdict is READY (a partial selection or an unsigned run never is).")


def gate_exit_code(doc: dict, gate: str, verified_code: int) -> int:
    """The run's exit code for CI. ``verified``: ``verified_code`` (0 when every applicable
    selected requirement passes or is waived, so never with NOT READY; INCOMPLETE can exit 0 for
    a partial selection or an unsigned run). ``ready``: 0 only for the verdict READY."""
    if gate == "verified":
        return verified_code
    if gate == "ready":
        return EXIT_OK if doc["summary"]["verdict"]["state"] == "READY" else EXIT_GAPS
    raise ValueError(f"unknown gate {gate!r}; expected one of {', '.join(GATES)}")


def _refuse_store_in_target(root: Path, store_dir, db_url, allowed: bool) -> None:
    """The evidence store belongs to the auditor, not to the audited workspace: inside it, the
    team's tools (and golive's own scans) would read or edit it."""
    import os

    from golive.ledger.store import DEFAULT_STORE, STORE_ENV
    from golive.run.target import store_inside

    if allowed or db_url or os.environ.get("GOLIVE_DB"):
        return
    store = Path(store_dir or os.environ.get(STORE_ENV) or Path.cwd() / DEFAULT_STORE)
    if store_inside(root, store):
        raise InputError(f"the evidence store {store} is inside the audited workspace {root}: keep it outside "
                         "(--store DIR or GOLIVE_STORE, e.g. ../golive-evidence) so the workspace cannot change "
                         "its evidence, or pass --store-inside-target to accept it")


def store_label(store_dir, db_url) -> str:
    if db_url:
        return db_url.split("@")[-1]  # never print credentials embedded in a database URL
    return str(store_dir or Path("evidence"))


def render_report(path: Path, doc: dict, plan, quiet: bool = False, past: list[dict] | None = None,
                  sealed=None) -> Path:
    """Render ``doc``; ``past`` (earlier runs of the same target, oldest first) feeds the
    changes since the previous run and the trend chart; ``sealed`` (``witnessing.RunProof``)
    brings the run's proof bundle (attached to a PDF, written beside HTML/Markdown)."""
    from golive.report import ReportInputError, render_to

    fields = ("requirement_id", "approver", "co_approvers", "reason", "expires", "created", "files")
    waivers = [{k: w[k] for k in fields if k in w} for w in doc.get("waivers", [])]
    try:
        with err.status(f"rendering {path.name}", spinner="dots") if not quiet and err.is_terminal else _null():
            written = render_to(path, doc, plan, waivers=waivers, previous=past[-1] if past else None,
                                history=past or (), proof_bundle=sealed.bundle if sealed else None,
                                log_vkey=sealed.log_vkey if sealed else "",
                                store_config=sealed.config if sealed else None)
    except (ReportInputError, ValueError) as exc:
        raise InputError(str(exc))
    if not quiet:
        out.print(f"report: {written}")
    return written


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def print_summary(doc: dict) -> None:
    """The verdict first, then coverage beside verification and failing counts, the categories,
    and every failing and partial requirement with its one-line reason."""
    from golive.run.readiness import one_line, refresh_summary

    s = doc["summary"]
    if "verdict" not in s or "figures" not in s:  # a document from before schema 2
        refresh_summary(doc)
    v, f = s["verdict"], s["figures"]
    counts = [f"{len(v.get(k) or ())} {k}" for k in ("blocking", "pending") if v.get(k)]
    out.print(f"verdict: [{VERDICT_STYLE[v['state']]}]{v['state']}[/]" + (f" ({', '.join(counts)})" if counts else ""),
              highlight=False)
    listed = {r["requirement_id"] for r in doc["results"] if r["status"] in ("fail", "error", "partial")}
    for reason in v["reasons"]:
        if reason.split(" ", 1)[0] not in listed:  # failing and partial ones are listed below
            out.print(f"  {escape(one_line(reason, LISTED_REASON_CHARS))}", highlight=False, overflow="ellipsis",
                      no_wrap=True)
    out.print(figures_line(f), highlight=False, soft_wrap=True)  # one line, whatever the width: CI greps it
    table = Table(title=f"{doc['run']['plan']['title']} -- by category", title_justify="left")
    for col in ("category", "requirements", "covered", "verified", "failing", "band"):
        table.add_column(col, justify="left" if col in ("category", "band") else "right")
    for item in doc["coverage"]["by_category"]:
        failing = item.get("failing", 0) + item.get("partial", 0)
        table.add_row(item["title"], str(item["requirements"]), str(item.get("covered", item["implemented"])),
                      str(item["verified"]), f"[red]{failing}[/]" if failing else "0", BAND_LABEL[item["band"]])
    out.print(table)
    for label, statuses in (("failing", ("fail", "error")), ("partial", ("partial",))):
        rows = [r for r in doc["results"] if r["status"] in statuses]
        if rows:
            out.print(f"{label} ({len(rows)}):")
        for r in rows:
            out.print(f"  [{STATUS_STYLE[r['status']]}]{r['status']:<7}[/] {r['requirement_id']} ({r.get('priority', '')}) "
                      f"{escape(one_line(short_reason(r), LISTED_REASON_CHARS))}",
                      highlight=False, overflow="ellipsis", no_wrap=True)
    for status in ("missing", "skipped"):  # by id only: their reasons are in the verdict or the report
        ids = [r["requirement_id"] for r in doc["results"] if r["status"] == status and not r.get("not_applicable")]
        if ids:
            out.print(f"{status} ({len(ids)}): {', '.join(ids)}", highlight=False)
    line = suggested_line(doc)
    if line:
        out.print(line, highlight=False)
    out.print(tests_line(doc), highlight=False)
    tailoring = doc.get("tailoring")
    if tailoring:
        loose = [c for c in tailoring["changes"] if c["loosened"]]
        out.print(f"tailoring {tailoring['id']} ({tailoring['digest'][:12]}): {len(tailoring['changes'])} override(s)")
        for c in loose:
            out.print(f"  [bold yellow]LOOSENED[/] {c['requirement']}: {c['before']} -> {c['after']} ({escape(str(c['reason']))})")
    for w in doc["warnings"][:10]:
        err.print(f"[yellow]warning:[/] {escape(str(w))}", highlight=False)


def short_reason(r: dict) -> str:
    """The failing thresholds first (what is off, and by how much), then the check's own words."""
    def num(v):
        v = v.get("value", v) if isinstance(v, dict) else v
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    def value(t):
        v = t["value"]
        return "–".join(num(x) for x in v) if isinstance(v, list) else num(v)

    unit = lambda t: f" {t['unit']}" if t.get("unit") not in (None, "", "count") else ""  # noqa: E731
    off = [f"{t['metric']} = {num(t['observed'])}{unit(t)}, needs {t['op']} {value(t)}{unit(t)}"
           for t in r.get("thresholds") or () if not t.get("passed")]
    reason = str(r.get("reason") or "")
    if not off or r["status"] == "error":
        return reason
    head = reason.split(";", 1)[0]
    return "; ".join(off) + (f" ({head})" if head and not head.startswith(off[0].split(" ", 1)[0]) else "")


def figures_line(f: dict) -> str:
    """Coverage paired with verification and the failing counts; never called compliance."""
    n = f["applicable"]
    pct = (lambda k: f" ({f[k] / n:.1%})") if n else (lambda k: "")
    parts = [f"requirements {n}" + (f" (+{f['not_applicable']} not applicable)" if f.get("not_applicable") else ""),
             f"covered {f['covered']}{pct('covered')}", f"verified {f['verified']}{pct('verified')}"]
    parts += [f"{k} {f[k]}" for k in ("waived", "failing", "partial", "missing", "skipped") if f[k]]
    return "  ".join(parts)


def suggested_line(doc: dict) -> str:
    """The suggested (unconfirmed) links, on a line of their own: never part of the headline."""
    ic = doc["summary"].get("if_confirmed") or {}
    if not ic.get("suggested_links"):
        return ""
    from golive.report.analysis import plural

    bands = ", ".join(f"{b} {n}" for b, n in (ic.get("by_band") or {}).items() if n)
    target = doc["run"].get("target") or "DIR"
    return (f"suggested links (unconfirmed): {plural(ic.get('tests', 0), 'test')} → "
            f"{plural(ic.get('new_requirements', 0), 'more requirement')}{f' ({bands})' if bands else ''}; "
            f"if confirmed: {ic['implemented']} of {ic['requirements']} — review with `golive link --target {target}`")


def tests_line(doc: dict) -> str:
    """Test and result files found, and the files holding tests that cover no requirement (by path)."""
    s = doc["summary"]
    files = doc.get("additional_test_files")
    if files is None:  # a document from before additional_test_files
        extra = f"{len(doc['additional_tests'])} tests cover no requirement"
    else:
        from golive.report.analysis import plural

        extra = (f"{plural(sum(f['tests'] for f in files), 'test')} in {plural(len(files), 'file')} "
                 f"cover no requirement")
    return f"tests found: {s['test_files']} test files, {s['result_files']} result files; {extra}"


run_options = [
    click.option("--plan", "plan_path", type=click.Path(path_type=Path), default=None,
                 help="plan.yaml or its folder (default: the packaged plan)."),
    click.option("--only", multiple=True, metavar="SELECTOR",
                 help="Run a subset: requirement id or glob, section, phase, plugin, priority or category "
                      "(kind:value to disambiguate). Repeat or comma-separate."),
    click.option("-j", "--jobs", type=click.IntRange(1, 64), default=4, show_default=True,
                 help="Checks run in parallel."),
    click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
                 help="Write the versioned results document (docs/results-schema.md) here."),
    click.option("--tailoring", "tailoring_path", type=click.Path(path_type=Path), default=None,
                 help="Per-environment overrides applied on top of the plan (recorded with its digest)."),
    click.option("--timeout", type=click.FloatRange(min=0.1), default=300.0, show_default=True,
                 help="Seconds before a check is abandoned as an error (a check block may set its own)."),
    click.option("--store", "store_dir", envvar="GOLIVE_STORE", default=None,
                 type=click.Path(file_okay=False, path_type=Path),
                 help="Evidence store folder (env GOLIVE_STORE) [default: ./evidence]."),
    click.option("--db", "db_url", envvar="GOLIVE_DB", default=None, metavar="URL",
                 help="SQLAlchemy URL of the evidence database, e.g. postgresql://... (env GOLIVE_DB) "
                      "[default: SQLite in the store]."),
    click.option("--no-evidence", is_flag=True,
                 help="Do not record this run in the evidence ledger (a dry run; reports say so)."),
    click.option("--report", "report_path", type=click.Path(path_type=Path), default=None,
                 help="Also render a report; the format follows the extension (.pdf .html .md .json .xml)."),
]


def _with_run_options(f):
    for opt in reversed(run_options):
        f = opt(f)
    return f


@click.command()
@click.option("-t", "--target", "target_dir", type=click.Path(path_type=Path), default=Path("."),
              show_default=True, help="The trading workspace to audit.")
@_with_run_options
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary (exit code only).")
@click.option("--executor", envvar="GOLIVE_EXECUTOR", default="local", show_default=True,
              metavar="local|dask|dask://ADDRESS", help=EXECUTOR_HELP + " (env GOLIVE_EXECUTOR).")
@click.option("--gate", type=click.Choice(GATES), default="verified", show_default=True, help=GATE_HELP)
@click.option("--store-inside-target", is_flag=True,
              help="Accept an evidence store inside the audited workspace (refused by default: the "
                   "workspace could change its evidence; golive's scans leave the store out either way).")
def run(target_dir, plan_path, only, jobs, json_path, tailoring_path, timeout, store_dir, db_url, no_evidence,
        report_path, quiet, executor, gate, store_inside_target) -> None:
    """Run the plan against a trading workspace; print the readiness verdict (READY, NOT READY,
    INCOMPLETE), coverage beside verification, and every failing requirement.

    \b
    Exit codes, for CI:
      0  --gate verified (default): every selected requirement passes or is waived.
         Never with NOT READY; with INCOMPLETE only when the scope (--only) or the
         signature (--no-evidence) is all that keeps the run from READY.
         --gate ready: the verdict is READY.
      1  anything else: a requirement fails, errors, is partial, missing or skipped
         (verified), or the verdict is NOT READY or INCOMPLETE (ready). A READY run
         exits 1 under the default gate when a requirement outside the readiness
         policy (e.g. a P2 without evidence) is not verified.
      2  input errors: bad plan, target, option, selection, tailoring or evidence
         store; no verdict is given.
    """
    _, code = execute_run(target_dir, plan_path, only, jobs, json_path, tailoring_path, timeout, quiet, report_path,
                          store_dir, db_url, evidence=not no_evidence, executor=executor, gate=gate,
                          store_inside_target=store_inside_target)
    sys.exit(code)


from golive.cli_demo import demo  # noqa: E402,F401  (golive.cli mounts it from here)
