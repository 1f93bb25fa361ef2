"""``golive evidence bundle RUN`` (a run's proof bundle), ``verify-bundle`` and
``verify-report`` (a report PDF's attached results checked against a bundle, offline, with
public keys only). Exit 0 verified, 1 does not verify or disagrees, 2 unreadable input.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from golive.ledger.bundle import (BUNDLE_FORMAT, BundleReport, compare_results, make_bundle, verify_bundle,
                                  waived_results, witness_names)
from golive.ledger.cli import _fail_input, _guard, _open, err, evidence, out, store_options
from golive.ledger.keys import load_public_key
from golive.ledger.proofs import NotADocumentError, ProofError, trusted_keys
from golive.ledger.show import resolve_run
from golive.ledger.treestore import TreeIndexError

RESULTS_ATTACHMENT = "results.json"


@evidence.command("bundle")
@store_options
@click.argument("run")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the bundle to FILE.")
def bundle_cmd(store_dir, db_url, run, output) -> None:
    """Write RUN's proof bundle: its entries with inclusion proofs in the run's signed
    checkpoint (plus kept witness cosignatures and timestamp), checkable without the store."""
    store = _guard(lambda: _open(store_dir, db_url))
    run_id = _guard(lambda: resolve_run(store, run)) or _fail_input(f"no run {run!r} in {store.path}")
    with store.read() as conn:
        try:
            bundle = make_bundle(conn, run_id, store.path / "checkpoints")
        except (ProofError, TreeIndexError) as exc:
            _fail_input(str(exc))
    data = json.dumps(bundle, indent=1) + "\n"
    if output is None:
        click.echo(data, nl=False)
    else:
        output.write_text(data, encoding="utf-8")
        err.print(f"wrote {output} ({len(bundle['entries'])} entries of run {run_id})")


def _checks(f):  # noqa: ANN001, ANN201 -- the options verify-bundle and verify-report share
    for option in reversed([
        click.option("--trusted-key", "trusted", multiple=True, required=True, metavar="VKEY|PUBFILE|BASE64",
                     help="The log's public key (repeatable)."),
        click.option("--witness", "witnesses", multiple=True, metavar="VKEY", help="A witness's vkey (repeatable)."),
        click.option("--min-witnesses", type=click.IntRange(1), metavar="K", help="Require K witness cosignatures."),
        click.option("--tsa-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="Check the bundle's RFC 3161 timestamp against this TSA certificate followed by its "
                          "issuers up to a root (PEM; a self-signed TSA certificate alone)."),
    ]):
        f = option(f)
    return f


def _verify(data: str, trusted, witnesses, min_witnesses, tsa_cert,  # noqa: ANN001
            where: str = "the proof bundle") -> BundleReport:
    keys = _guard(lambda: trusted_keys(trusted, load_public_key))
    try:
        report = verify_bundle(data, keys)
    except ProofError as exc:
        if isinstance(exc, NotADocumentError):
            _fail_input(f"{where}: not a {BUNDLE_FORMAT} document; expected the JSON `golive evidence bundle RUN` "
                        "writes (nothing was checked)")
        out.print(f"[red]FAILED[/red] {exc}")
        sys.exit(1)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(report.by_status.items()))
    out.print(f"[green]OK[/green] run {report.run_id}: {report.entries} entries proven in log {report.origin} "
              f"at tree size {report.size}; results as recorded: {counts or 'none'}")
    if min_witnesses:
        from golive.ledger.cli_witness import witness_keys
        good, bad = witness_names(report, witness_keys(witnesses))
        if bad or len(good) < min_witnesses:
            out.print(f"[red]FAILED[/red] {len(good)} of {min_witnesses} required witness cosignatures {'; '.join(bad)}")
            sys.exit(1)
        out.print(f"  cosigned by {', '.join(good)}")
    if tsa_cert is not None:
        from golive.ledger.note import parse_checkpoint
        from golive.ledger.timestamp import TimestampError, describe, verify_token
        if report.timestamp is None:
            out.print("[red]FAILED[/red] the bundle carries no timestamp (`golive evidence timestamp`)")
            sys.exit(1)
        try:
            stamp = verify_token(report.timestamp, parse_checkpoint(report.checkpoint)[1].text.encode(),
                                 tsa_cert.read_bytes())
        except TimestampError as exc:
            out.print(f"[red]FAILED[/red] timestamp: {exc}")
            sys.exit(1)
        out.print(f"  the tree head existed at {describe(stamp)}")
    return report


def _compare(document: bytes, report: BundleReport, where: str) -> None:
    try:
        results = json.loads(document)
    except (ValueError, RecursionError) as exc:
        _fail_input(f"{where}: not a results document ({exc.__class__.__name__})")
    if not isinstance(results, dict):
        _fail_input(f"{where}: not a results document")
    problems = compare_results(results, report)
    if problems:
        out.print(f"[red]FAILED[/red] {where} disagrees with the ledger in {len(problems)} place(s):")
        for p in problems[:20]:
            out.print(f"  {p}")
        sys.exit(1)
    out.print(f"  {where}: every result matches the ledger ({len(report.results)} requirements)")
    waived = waived_results(results, report)
    if waived:
        out.print(f"  waived in the document over a recorded non-passing result: {', '.join(waived)} "
                  "(each waiver is its own signed ledger entry: golive evidence show)")


@evidence.command("verify-bundle")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_checks
@click.option("--results", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A results document to compare with what the ledger recorded.")
def verify_bundle_cmd(path, trusted, witnesses, min_witnesses, tsa_cert, results) -> None:
    """Check a proof bundle offline; with --results, that a results document shows exactly the
    results the log recorded for the run."""
    data = _guard(lambda: path.read_bytes()).decode("utf-8", "replace")  # not UTF-8: not JSON, not a bundle
    report = _verify(data, trusted, witnesses, min_witnesses, tsa_cert, str(path))
    if results is not None:
        _compare(_guard(lambda: results.read_bytes()), report, str(results))


@evidence.command("verify-report")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_checks
@click.option("--bundle", "bundle_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The run's proof bundle, when the PDF does not carry one (`golive evidence bundle RUN`).")
@click.option("--attachments-only", is_flag=True,
              help="Check the attachments only, not that the pages show what results.json gives "
                   "(a report rendered by another golive version).")
@click.option("--plan", "plan_path", type=click.Path(exists=True, path_type=Path),
              help="plan.yaml or its folder, when the run did not use the packaged plan: the pages are "
                   "compared with a rendering that uses it.")
def verify_report(pdf, trusted, witnesses, min_witnesses, tsa_cert, bundle_path, attachments_only,
                  plan_path) -> None:
    """Check a report PDF offline: its attached results.json must show exactly the results the
    log recorded for the run, proven by the proof bundle (attached, or given with --bundle), and
    its pages must show what that results.json gives: no "NOT verified against a ledger", its
    sha256, the readiness verdict, the figures and every requirement's status
    (golive.ledger.pdf_pages)."""
    from pypdf import PdfReader
    try:
        reader = PdfReader(pdf)
        attachments = reader.attachments
        files = {name: contents[0] for name, contents in attachments.items() if contents}
    except Exception as exc:  # noqa: BLE001 -- pypdf raises AttributeError, IndexError, ... on a damaged file
        _fail_input(f"{pdf}: cannot read the PDF's attachments ({exc.__class__.__name__}: {exc})")
    if not files:  # no golive report (it attaches results.json and the bundle): nothing to check
        _fail_input(f"{pdf}: the PDF has no attachments, so it is not a golive report (expected {RESULTS_ATTACHMENT} "
                    "and golive-proof-bundle.json attached); nothing was checked")
    bundles = [data for data in files.values() if BUNDLE_FORMAT.encode() in data[:200]]
    if bundle_path is not None:
        bundles = [bundle_path.read_bytes()]
    if not bundles:
        out.print(f"[red]FAILED[/red] {pdf} carries no proof bundle; give the run's with --bundle FILE")
        sys.exit(1)
    if RESULTS_ATTACHMENT not in files:
        out.print(f"[red]FAILED[/red] {pdf} has no {RESULTS_ATTACHMENT} attachment to check")
        sys.exit(1)
    try:
        data = bundles[0].decode("utf-8")
    except UnicodeDecodeError:
        _fail_input("the proof bundle is not UTF-8")
    report = _verify(data, trusted, witnesses, min_witnesses, tsa_cert)
    _compare(files[RESULTS_ATTACHMENT], report, f"{pdf}:{RESULTS_ATTACHMENT}")
    _as_written(files[RESULTS_ATTACHMENT], bundles[0] if bundle_path is None else None, pdf)
    if attachments_only:
        out.print("  the pages were NOT checked (--attachments-only): they may show other figures than results.json")
        return
    _pages(reader, files[RESULTS_ATTACHMENT], pdf, plan_path)


def _pages(reader, results: bytes, pdf: Path, plan_path: Path | None = None) -> None:  # noqa: ANN001
    """The visible pages must be a rendering of the attached results.json (golive.ledger.pdf_pages)."""
    from golive.ledger.pdf_pages import check_pages
    try:
        check = check_pages(reader, results, plan_path)
    except Exception as exc:  # noqa: BLE001 -- pypdf raises AttributeError, IndexError, ... on damaged pages
        _fail_input(f"{pdf}: cannot read the pages' text ({exc.__class__.__name__}: {exc})")
    if check.problems:
        out.print(f"[red]FAILED[/red] {pdf}: the pages do not show what the attached {RESULTS_ATTACHMENT} gives "
                  f"({len(check.problems)} difference(s)):")
        for p in check.problems[:20]:
            out.print(f"  {p}")
        if len(check.problems) > 20:
            out.print(f"  and {len(check.problems) - 20} more")
        sys.exit(1)
    out.print(f"  {check.summary}")


def _as_written(results: bytes, bundle: bytes | None, pdf: Path) -> None:
    """The attachments must be byte for byte what golive writes for their content, so that no
    change to them, even one a JSON reader would not see, passes."""
    from golive.report.analysis import document_bytes
    from golive.report.proof import bundle_bytes
    changed = [name for name, data, form in ((RESULTS_ATTACHMENT, results, document_bytes),
                                             ("the proof bundle", bundle, bundle_bytes))
               if data is not None and form(json.loads(data)) != data]
    if changed:
        out.print(f"[red]FAILED[/red] {pdf}: {' and '.join(changed)} are not the bytes golive wrote "
                  "(the attachment was edited after rendering)")
        sys.exit(1)
