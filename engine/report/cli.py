"""``golive report``: render a run's results document as pdf, html, md, json or junit.

The lead mounts this command on the ``golive`` group (``cli.add_command(report)``). Inputs:
the results document written by ``golive run --json``, optionally the plan (for titles and
line ranges; by default the packaged plan when its digest matches the run's), the previous
run's document (changes section), earlier documents (trend chart) and waivers (YAML or JSON
list of ``{requirement_id, approver, reason, expires, created}``).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

EXIT_INPUT = 2


class ReportUsageError(click.ClickException):
    """Bad input for the report: printed without a traceback, exit code 2."""

    exit_code = EXIT_INPUT


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


@click.command("report")
@click.argument("results", metavar="RESULTS_JSON|RUN", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-f", "--format", "formats", multiple=True, default=("pdf",), show_default=True,
              type=click.Choice(["pdf", "html", "md", "json", "junit", "oscal"]),
              help="Output format; repeat for several.")
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
              help="Evidence store to find RUN and its earlier runs in [default: ./evidence].")
def report(results: Path, formats: tuple[str, ...], out: Path | None, plan_path: Path | None,
           previous: Path | None, history: tuple[Path, ...], waivers_path: Path | None,
           store_dir: Path | None) -> None:
    """Render a results document (from `golive run --json`), or a recorded run of the evidence
    store given by its id (or an unambiguous prefix), as an audit-ready report.

    For a recorded run, the previous run of the same target and the trend come from the store.
    """
    from golive import history as hist
    from golive.report.inputs import ReportInputError, check_file_document, schema_problems
    from golive.report.model import build_render_model
    from golive.report.render import render

    if results.is_file() or results.suffix or len(results.parts) > 1:  # a path, not a run id
        document = _read_document(results, "results document")
        stored_past: list[dict] = []
    else:
        try:
            document = hist.load(store_dir, str(results))
        except hist.HistoryError as exc:
            raise ReportUsageError(f"{results} is neither a results file nor a recorded run: {exc}") from None
        except (OSError, ValueError, RecursionError) as exc:  # a damaged file under <store>/runs
            raise ReportUsageError(f"recorded run {results} in {hist.store_path(store_dir) / hist.RUNS}: "
                                   f"cannot be read ({type(exc).__name__}: {exc})") from None
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
        results = Path(f"golive-{document['run']['id'][:8]}.json")
    prev = _read_document(previous, "previous results document") if previous else (stored_past[-1] if stored_past else None)
    past = [_read_document(p, "history document") for p in history] or stored_past
    waivers = _read_waivers(waivers_path) if waivers_path else [
        {k: w[k] for k in ("requirement_id", "approver", "reason", "expires", "created")}
        for w in document.get("waivers", [])]
    plan = _load_plan(plan_path, document)
    try:
        model = build_render_model(document, plan, previous=prev, waivers=waivers, history=past)
        for fmt, path in output_paths(tuple(dict.fromkeys(formats)), out, results).items():
            written = render(fmt, model, path)
            click.echo(str(written))
    except (ReportInputError, ValueError) as exc:
        # a waiver that does not fit the run (unknown id, bad date) is the waivers file's problem
        source = waivers_path if waivers_path and str(exc).startswith("waiver") else results
        raise ReportUsageError(f"{source}: {exc}") from None
