"""``golive report``: render a run's results document as pdf, html, md, json or junit.

The lead mounts this command on the ``golive`` group (``cli.add_command(report)``). Inputs:
the results document written by ``golive run --json``, optionally the plan (for titles and
line ranges; by default the packaged plan when its digest matches the run's), the previous
run's document (changes section), earlier documents (trend chart) and waivers (YAML or JSON
list of ``{requirement_id, approver, reason, expires, created}``).

A document that claims a recorded run (a recorded RUN, or a file carrying ``run.ledger`` while
a ledger is reachable) is checked against the ledger first (``golive.ledger.bind``): on any
difference the report is refused with exit 3, naming the requirement and field, and
``--from-ledger`` renders the document re-made from the ledger instead. A file that cannot be
checked is rendered with "NOT verified against a ledger" in its evidence appendix.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

EXIT_INPUT = 2
EXIT_MISMATCH = 3  # the document disagrees with the ledger, or the ledger does not verify


class ReportUsageError(click.ClickException):
    """Bad input for the report: printed without a traceback, exit code 2."""

    exit_code = EXIT_INPUT


class LedgerMismatch(click.ClickException):
    """The document is not what the ledger recorded: printed without a traceback, exit 3."""

    exit_code = EXIT_MISMATCH


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportUsageError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise ReportUsageError(f"{what} {path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ReportUsageError(f"{what} {path}: not UTF-8 text (byte {exc.start}); a results "
                               "document is JSON written by `golive run --json`") from None
    except json.JSONDecodeError as exc:
        raise ReportUsageError(f"{what} {path}: not valid JSON (line {exc.lineno}, column "
                               f"{exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise ReportUsageError(f"{what} {path}: nested too deeply to be a results document") from None


def _read_document(path: Path, what: str) -> Any:
    """A results document from ``path``, checked against the results schema first, so a
    hand-edited or truncated file is named with what is wrong instead of failing a renderer."""
    from golive.report.inputs import ReportInputError, check_file_document

    document = _read_json(path, what)
    try:
        check_file_document(document, what)
    except ReportInputError as exc:
        raise ReportUsageError(f"{path}: {exc}") from None
    return document


def _read_waivers(path: Path) -> list[dict]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportUsageError(f"waivers file {path} does not exist") from None
    except OSError as exc:
        raise ReportUsageError(f"waivers file {path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ReportUsageError(f"waivers file {path}: not UTF-8 text (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise ReportUsageError(f"waivers file {path}: not valid YAML/JSON: {exc}") from None
    except RecursionError:
        raise ReportUsageError(f"waivers file {path}: nested too deeply to be a list of waivers") from None
    if isinstance(data, dict) and "waivers" in data:
        data = data["waivers"]
    if not isinstance(data, list) or not all(isinstance(w, dict) for w in data):
        raise ReportUsageError(f"waivers file {path}: expected a list of waivers, each with "
                               f"requirement_id, approver, reason and expires")
    return data


def _load_plan(plan_path: Path | None, document: dict) -> Any:
    from golive.plan import PlanError, load

    try:
        plan = load(plan_path)
    except PlanError as exc:
        if plan_path is not None:
            raise ReportUsageError(f"plan {plan_path}: {exc}") from None
        return None  # the packaged plan is unusable: the document carries the titles
    wanted = ((document.get("run") or {}).get("plan") or {}).get("digest")
    if plan_path is None and wanted and plan.digest and plan.digest != wanted:
        # A different plan version would put wrong titles and line ranges on this run.
        return None
    return plan


def format_of(out: Path | None) -> str:
    """The format ``-o``'s file name asks for (``r.md`` -> md; render.format_for), pdf without ``-o``."""
    from golive.report.inputs import ReportInputError
    from golive.report.render import format_for

    if out is None:
        return "pdf"
    try:
        return format_for(out)
    except ReportInputError as exc:
        raise ReportUsageError(f"{exc}, or give --format") from None


def output_paths(formats: tuple[str, ...], out: Path | None, results: Path) -> dict[str, Path]:
    """One path per format: ``--out`` itself for one format, ``--out`` + extension for several."""
    from golive.report.render import EXTENSIONS

    if out is None:
        base = results.with_suffix("")
        return {f: base.with_name(base.name + "-report").with_suffix(EXTENSIONS[f]) for f in formats}
    if len(formats) == 1:
        return {formats[0]: out}
    stem = out.with_suffix("") if out.suffix in EXTENSIONS.values() else out
    return {f: stem.with_suffix(EXTENSIONS[f]) for f in formats}


@click.command("report", epilog="Exit codes: 0 rendered; 2 bad input; 3 the document disagrees with the "
               "ledger (a changed runs/<run>.json or results file) or the ledger does not verify.")
@click.argument("results", metavar="RESULTS_JSON|RUN", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-f", "--format", "formats", multiple=True,
              type=click.Choice(["pdf", "html", "md", "json", "junit", "oscal"]),
              help="Output format; repeat for several [default: the one -o's extension names "
                   "(.pdf .html .md .json .xml .oscal.json); pdf without -o].")
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False),
              help="Output file (several formats: the extension is replaced per format).")
@click.option("--plan", "plan_path", type=click.Path(path_type=Path),
              help="plan.yaml or its folder (default: the packaged plan, if it is the run's).")
@click.option("--previous", type=click.Path(path_type=Path, dir_okay=False),
              help="The previous run's results document, for 'changes since the previous run'.")
@click.option("--history", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Earlier results documents, oldest first, for the trend chart. Repeatable.")
@click.option("--waivers", "waivers_path", type=click.Path(path_type=Path, dir_okay=False),
              help="YAML/JSON list of waivers {requirement_id, approver, reason, expires, created} "
                   "(default: those recorded with the run).")
@click.option("--store", "store_dir", envvar="GOLIVE_STORE", default=None,
              type=click.Path(file_okay=False, path_type=Path),
              help="Evidence store to find RUN and its earlier runs in, and to check the results "
                   "against [default: ./evidence].")
@click.option("--db", "db_url", envvar="GOLIVE_DB", default=None, metavar="URL",
              help="SQLAlchemy URL of the evidence database (env GOLIVE_DB) [default: SQLite in the store].")
@click.option("--from-ledger", is_flag=True,
              help="Render the run's results re-made from its ledger entries (result payloads, run and "
                   "checkpoint entries, recorded waivers) instead of the derived document.")
def report(results: Path, formats: tuple[str, ...], out: Path | None, plan_path: Path | None,
           previous: Path | None, history: tuple[Path, ...], waivers_path: Path | None,
           store_dir: Path | None, db_url: str | None, from_ledger: bool) -> None:
    """Render a results document (from `golive run --json`), or a recorded run of the evidence
    store given by its id (or an unambiguous prefix), as an audit-ready report.

    For a recorded run, the previous run of the same target and the trend come from the store.
    Results that claim a recorded run are checked against the ledger before rendering (every
    result's status, metrics, thresholds and reason, the counts, waivers and the signed head);
    a difference is refused with exit 3, and --from-ledger renders what the ledger holds.
    """
    import os

    formats = formats or (format_of(out),)

    from golive.ledger.store import DB_ENV

    if db_url:  # every ledger look-up of this command opens the store through open_store(), which reads it
        before = os.environ.get(DB_ENV)
        os.environ[DB_ENV] = db_url
        click.get_current_context().call_on_close(
            lambda: os.environ.pop(DB_ENV, None) if before is None else os.environ.__setitem__(DB_ENV, before))
    from golive import history as hist
    from golive.report.inputs import ReportInputError, check_file_document, schema_problems
    from golive.report.model import build_render_model
    from golive.report.render import render

    stored_past: list[dict] = []
    if results.is_file() or results.suffix or len(results.parts) > 1:  # a path, not a run id
        document, where, recorded = _read_document(results, "results document"), str(results), False
    else:
        document, where = _load_recorded(hist, store_dir, results, from_ledger)
        recorded = True
        if document is not None and not from_ledger:  # its shape first: binding reads its fields
            try:
                check_file_document(document, f"recorded run {results}")
            except ReportInputError as exc:
                raise ReportUsageError(f"{exc} (in {hist.store_path(store_dir) / hist.RUNS})") from None
    plan = _load_plan(plan_path, document or {})
    bands = getattr(plan, "bands", None)
    document, ledger_check = _bind(document, where, store_dir, recorded, from_ledger, str(results), bands, plan)
    # sign-offs are only ever read from the ledger: a "signoff" block in a file is not trusted
    state = _signoff_state(store_dir, document) if recorded or (document.get("run") or {}).get("ledger") else None
    if state is None:
        document.pop("signoff", None)
    else:
        document["signoff"] = state
    if recorded:
        runs_dir = hist.store_path(store_dir) / hist.RUNS
        try:
            check_file_document(document, f"recorded run {results}")
        except ReportInputError as exc:
            raise ReportUsageError(f"{exc} (in {runs_dir})") from None
        try:
            stored_past = [d for d in hist.past_runs(store_dir, document) if not schema_problems(d)]
        except (KeyError, TypeError, AttributeError) as exc:  # an earlier run's file is damaged
            raise ReportUsageError(f"an earlier run in {runs_dir} is damaged ({type(exc).__name__}: {exc}); "
                                   "move it away or restore it") from None
        stored_past, left_out = _bound_past(store_dir, stored_past, ledger_check)
        ledger_check += "".join(f"; {note}" for note in left_out[:3])
        results = Path(f"golive-{document['run']['id'][:8]}.json")
    prev = _read_document(previous, "previous results document") if previous else (stored_past[-1] if stored_past else None)
    past = [_read_document(p, "history document") for p in history] or stored_past
    fields = ("requirement_id", "approver", "co_approvers", "reason", "expires", "created", "files")
    waivers = _read_waivers(waivers_path) if waivers_path else [
        {k: w[k] for k in fields if k in w} for w in document.get("waivers", [])]
    try:
        model = build_render_model(document, plan, previous=prev, waivers=waivers, history=past)
        if waivers_path:  # the user's waivers replace the recorded ones: the check did not cover them
            ledger_check += f"; waivers from {waivers_path.name} (not checked against the ledger) were applied"
        model = _with_ledger_check(model, ledger_check)
        bundle = _proof_bundle(store_dir, document) if recorded else None
        for fmt, path in output_paths(tuple(dict.fromkeys(formats)), out, results).items():
            written = render(fmt, model, path, proof_bundle=bundle, store_config=_store_config(store_dir) if bundle else None)
            click.echo(str(written))
    except (ReportInputError, ValueError) as exc:
        # a waiver that does not fit the run (unknown id, bad date) is the waivers file's problem
        source = waivers_path if waivers_path and str(exc).startswith("waiver") else results
        raise ReportUsageError(f"{source}: {exc}") from None


def _signoff_state(store_dir: Path | None, document: dict) -> dict | None:
    """The recorded run's sign-offs, each verified (golive.ledger.signoff), for the sign-off page
    and the verdict; None when the store cannot tell (the page says it was not read)."""
    from golive import history as hist
    from golive.ledger import LedgerError, open_store
    from golive.ledger.signoff import status

    if not (hist.store_path(store_dir) / "ledger.db").is_file() and not os.environ.get("GOLIVE_DB"):
        return None  # no store here: never create one to read sign-offs
    try:
        store = open_store(store_dir)
        try:
            return status(store, str(document["run"]["id"]))[1]
        finally:
            store.close()
    except (LedgerError, OSError, ValueError, KeyError):
        return None


def _store_config(store_dir: Path | None):  # noqa: ANN202 -- witnessing.StoreConfig | None
    """The store's witness configuration for the appendix's verify command (None if unreadable)."""
    from golive.ledger.store import DEFAULT_STORE, STORE_ENV
    from golive.ledger.witnessing import StoreConfigError, load_store_config
    try:  # where open_store looks
        return load_store_config(Path(store_dir or os.environ.get(STORE_ENV) or Path.cwd() / DEFAULT_STORE))
    except (StoreConfigError, OSError, ValueError):
        return None


def _proof_bundle(store_dir: Path | None, document: dict) -> dict | None:
    """The recorded run's proof bundle (golive.ledger.bundle), attached to the PDF and written
    beside HTML/Markdown like `golive run --report` does; None for a ledger without one (v1)."""
    from golive.ledger import open_store
    from golive.ledger.bundle import make_bundle

    try:
        store = open_store(store_dir)
        try:
            with store.read() as conn:
                return make_bundle(conn, document["run"]["id"], store.path / "checkpoints")
        finally:
            store.close()
    except Exception:  # noqa: BLE001 -- an old ledger without a tree: the report says it is not bundled
        return None


def _load_recorded(hist: Any, store_dir: Path | None, run: Path, from_ledger: bool) -> tuple[dict | None, str]:
    """The stored document of a recorded run and how to name it; with ``--from-ledger`` a missing
    or unreadable one is no obstacle (None: the ledger alone makes the document)."""
    runs_dir = hist.store_path(store_dir) / hist.RUNS
    try:
        document = hist.load(store_dir, str(run))
    except hist.HistoryError as exc:
        if from_ledger:
            return None, f"{hist.RUNS}/*_{run}*.json"
        raise ReportUsageError(f"{run} is neither a results file nor a recorded run: {exc}") from None
    except (OSError, ValueError, RecursionError) as exc:  # a damaged file under <store>/runs
        if from_ledger:
            return None, f"{hist.RUNS}/*_{run}*.json"
        raise ReportUsageError(f"recorded run {run} in {runs_dir}: cannot be read ({type(exc).__name__}: {exc}); "
                               f"`golive report {run} --from-ledger` renders it from the ledger") from None
    # the file that was read, found by the id asked for: not by the run.id it says (that may be forged)
    names = sorted(runs_dir.glob(f"*_{run}*.json"))
    return document, f"{hist.RUNS}/{names[0].name if len(names) == 1 else f'*_{run}*.json'}"


def _bind(document: dict | None, where: str, store_dir: Path | None, recorded: bool, from_ledger: bool,
          run_arg: str, bands: Any, plan: Any = None) -> tuple[dict, str]:
    """The document to render (checked, then taken from the ledger and the run's plan wherever
    they hold the field: golive.ledger.bound) and the report's line saying so."""
    from golive.ledger import LedgerError, bind, bound
    from golive.ledger.store import StoreError, open_store

    run_id = str(((document or {}).get("run") or {}).get("id") or "") if isinstance(document, dict) else ""
    claims_ledger = isinstance(document, dict) and bool((document.get("run") or {}).get("ledger"))
    if not bind.store_reachable(store_dir):
        if from_ledger or recorded and document is None:
            raise ReportUsageError(f"--from-ledger: no ledger at {store_dir or 'evidence'} (give --store DIR)")
        why = "it names a signed run, but" if claims_ledger else "it names no signed run, and"
        return document, (f"NOT verified against a ledger: {why} no evidence store was reachable "
                          "(give --store DIR); its figures are only as good as the file")
    try:
        store = open_store(store_dir)
    except StoreError as exc:
        raise ReportUsageError(f"evidence store: {exc}") from None
    dropped = ""
    try:
        if from_ledger:
            if not run_id:
                from golive.ledger.show import resolve_run
                run_id = resolve_run(store, run_arg) or run_arg
            document = bound.bound_document(store, document, run_id, plan, bands)
            where = f"the document re-made from the ledger for run {run_id}"
            recorded_run = bind.read_run(store, run_id)
            left_out = [] if bound.tests_match(recorded_run, document) else ["test list"]
            if left_out:
                document["tests"] = []  # the ledger holds only their digest: a changed list is left out
            changed = bound.extras_changed(recorded_run, document) if recorded_run else []
            bound.drop_extras(document, changed)
            left_out += changed
            if left_out:
                one = len(left_out) == 1
                dropped = (f"the stored {' and '.join(left_out)} {'differs' if one else 'differ'} from the "
                           f"{'digest' if one else 'digests'} the ledger recorded and {'is' if one else 'are'} left out")
        elif not recorded and (not claims_ledger or bind.read_run(store, run_id) is None):
            return document, (f"NOT verified against a ledger: run {run_id or '(no id)'} is not recorded in the "
                              f"ledger at {store.path}; its figures are only as good as the file")
        binding = bind.check_document(store, document, where, bands)
        bound.check_run_facts(store, document, where, tests=not dropped, extras=not dropped)
        document = bound.bound_document(store, document, binding.run_id, plan, bands)
        unbound = bound.unbound_note(document, plan)
    except (bind.LedgerNotVerified, bind.NotRecorded) as exc:
        raise LedgerMismatch(str(exc)) from None
    except bind.Mismatch as exc:
        again = f"golive report {run_id or run_arg} --from-ledger --store {store.path}"
        raise LedgerMismatch(f"{exc}: the derived file was changed; re-render from the ledger with `{again}`") from None
    except LedgerError as exc:
        raise ReportUsageError(f"evidence store {store.path}: {exc}") from None
    finally:
        store.close()
    return document, binding.statement + "".join(f"; note: {n}" for n in binding.notes[:3]) \
        + "".join(f"; {part}" for part in (dropped, unbound) if part)


def _bound_past(store_dir: Path | None, past: list[dict], ledger_check: str) -> tuple[list[dict], list[str]]:
    """The earlier runs (changes section, trend) that match the ledger, and a note for each one
    left out: a changed earlier document must not make this report's comparison (the ledger was
    verified a moment ago for this run, so each is only compared with its entries)."""
    if not ledger_check.startswith("verified") or not past:
        return past, []
    from golive.ledger import bind, bound
    from golive.ledger.store import open_store

    kept, notes = [], []
    store = open_store(store_dir)
    try:
        for doc in past:
            try:
                bind.check_document(store, doc, f"earlier run {doc['run']['id'][:8]}", verify=False)
                bound.check_run_facts(store, doc, f"earlier run {doc['run']['id'][:8]}")  # its date places it
                kept.append(doc)
            except bind.Mismatch as exc:
                notes.append(f"left out of the comparison and trend: {exc}")
    finally:
        store.close()
    return kept, notes


def _with_ledger_check(model: Any, statement: str) -> Any:
    import dataclasses

    from golive.report.evidence import with_ledger_check
    return dataclasses.replace(model, evidence=with_ledger_check(model.evidence, statement))
