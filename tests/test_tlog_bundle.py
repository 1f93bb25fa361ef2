"""Proof bundles: a run's entries with inclusion proofs in its signed checkpoint. A real report
PDF (WeasyPrint, the sample results document) is checked against the ledger with
`golive evidence verify-report`: accepted as rendered, rejected when its attached results or
the bundle were changed."""
from __future__ import annotations

import base64
import io
import json
import sys
from pathlib import Path

import pypdf
import pytest

from golive.ledger import Store, default_signer, verify_store
from golive.ledger.chain import Ledger, PendingEntry, merkle_root
from tlogcli import invoke

sys.path.insert(0, str(Path(__file__).parent / "data" / "report"))
import report_samples  # noqa: E402

SAMPLE = json.loads(report_samples.SAMPLE.read_text())


def record_document(store: Store, document: dict) -> None:
    """Record a results document's run as the recorder would: started, one result entry per
    result, finished, and a signed checkpoint (with its tree head)."""
    signer = default_signer(store, announce=lambda m: None)
    run_id = document["run"]["id"]

    def checkpoint(seq, _prev, conn):
        hashes = [h for (h,) in conn.exec_driver_sql(
            "SELECT entry_hash FROM ledger_entries WHERE run_id = ? ORDER BY seq", (run_id,))]
        return {"run_id": run_id, "size": seq, "entries": len(hashes), "merkle_root": merkle_root(hashes),
                "key_id": signer.key_id, "time": document["run"]["finished"]}

    Ledger(store).append_many(
        [PendingEntry(run_id, "run-started", {"run_id": run_id, "started": document["run"]["started"]})]
        + [PendingEntry(run_id, "result", {**r, "run_id": run_id}) for r in document["results"]]
        + [PendingEntry(run_id, "run-finished", {"run_id": run_id, "results": len(document["results"])}),
           PendingEntry(run_id, "checkpoint", checkpoint, [(signer, "checkpoint")])])


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    from golive.report import build_render_model
    from golive.report.pdf import render_pdf_bytes

    d = tmp_path_factory.mktemp("bundle")
    store = Store(d / "evidence")
    record_document(store, SAMPLE)
    assert verify_store(store).ok
    bundle = d / "run.bundle.json"
    made = invoke("evidence", "bundle", SAMPLE["run"]["id"][:8], "--store", store.path, "-o", bundle)
    assert made.exit_code == 0, made.output
    vkey = invoke("keys", "vkey", "--store", store.path).output.split()[0]
    pdf = d / "report.pdf"
    pdf.write_bytes(render_pdf_bytes(build_render_model(SAMPLE, report_samples.reference_plan())))
    flipped = json.loads(json.dumps(SAMPLE))
    victim = next(r for r in flipped["results"] if r["status"] == "fail")
    victim["status"] = "pass"
    flipped["summary"]["verified"] += 1  # a careful forger keeps the document consistent
    forged = d / "forged.pdf"
    forged.write_bytes(render_pdf_bytes(build_render_model(flipped, report_samples.reference_plan())))
    return {"store": store.path, "bundle": bundle, "vkey": vkey, "pdf": pdf, "forged": forged,
            "victim": victim["requirement_id"], "dir": d}


def with_attachment(pdf: Path, name: str, data: bytes, out: Path) -> Path:
    """The PDF with one more embedded file (how a report carries its bundle)."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(pdf))
    writer.add_attachment(name, data)
    buffer = io.BytesIO()
    writer.write(buffer)
    out.write_bytes(buffer.getvalue())
    return out


def test_the_bundle_proves_the_recorded_results(recorded):
    ok = invoke("evidence", "verify-bundle", recorded["bundle"], "--trusted-key", recorded["vkey"])
    counts = {}
    for r in SAMPLE["results"]:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    assert ok.exit_code == 0 and f"{len(SAMPLE['results']) + 2} entries proven" in ok.output
    assert all(f"{n} {s}" in ok.output for s, n in counts.items())
    doc = recorded["dir"] / "results.json"
    doc.write_text(json.dumps(SAMPLE))
    assert invoke("evidence", "verify-bundle", recorded["bundle"], "--trusted-key", recorded["vkey"],
                  "--results", doc).exit_code == 0


@pytest.mark.tamper
def test_a_report_pdf_is_checked_against_the_ledger(recorded):
    # the sample run's plan is built in memory (no plan file): its pages cannot be re-rendered, and
    # verify-report says so; the attachments are what this test is about
    pages = invoke("evidence", "verify-report", recorded["pdf"], "--trusted-key", recorded["vkey"],
                   "--bundle", recorded["bundle"])
    assert pages.exit_code == 1 and "not the packaged plan" in pages.output and "--plan DIR" in pages.output
    args = ("--trusted-key", recorded["vkey"], "--bundle", recorded["bundle"], "--attachments-only")
    ok = invoke("evidence", "verify-report", recorded["pdf"], *args)
    assert ok.exit_code == 0 and "every result matches the ledger" in ok.output, ok.output
    forged = invoke("evidence", "verify-report", recorded["forged"], *args)
    assert forged.exit_code == 1
    assert f"{recorded['victim']}: the document says pass, the log recorded fail" in forged.output
    bare = invoke("evidence", "verify-report", recorded["pdf"], "--trusted-key", recorded["vkey"])
    assert bare.exit_code == 1 and "carries no proof bundle" in bare.output


@pytest.mark.tamper
def test_a_bundle_attached_to_the_pdf_is_used_and_any_change_to_it_fails(recorded):
    d = recorded["dir"]
    data = recorded["bundle"].read_bytes()
    carrying = with_attachment(recorded["pdf"], "golive-proof-bundle.json", data, d / "carrying.pdf")
    assert invoke("evidence", "verify-report", carrying, "--trusted-key", recorded["vkey"],
                  "--attachments-only").exit_code == 0  # its plan is built in memory: see above
    bundle = json.loads(data)
    result = next(e for e in bundle["entries"] if e["kind"] == "result")
    payload = base64.b64decode(result["payload"]).replace(b'"status":"', b'"status":"x', 1)
    result["payload"] = base64.b64encode(payload).decode()
    changed = with_attachment(recorded["pdf"], "golive-proof-bundle.json", json.dumps(bundle).encode(),
                              d / "changed.pdf")
    failed = invoke("evidence", "verify-report", changed, "--trusted-key", recorded["vkey"])
    assert failed.exit_code == 1 and "does not hash to its entry_hash" in failed.output
    bundle = json.loads(data)
    bundle["entries"] = [e for e in bundle["entries"] if e["kind"] != "run-finished"]
    dropped = d / "dropped.json"
    dropped.write_text(json.dumps(bundle))
    cut = invoke("evidence", "verify-bundle", dropped, "--trusted-key", recorded["vkey"])
    assert cut.exit_code == 1 and "run-finished" in cut.output


@pytest.mark.tamper
def test_a_ledger_changed_after_the_bundle_fails_its_checkpoint(recorded, tmp_path):
    other = Store(tmp_path / "other")
    record_document(other, SAMPLE)  # the same run recorded by another log (another key)
    vkey = invoke("keys", "vkey", "--store", other.path).output.split()[0]
    wrong_log = invoke("evidence", "verify-bundle", recorded["bundle"], "--trusted-key", vkey)
    assert wrong_log.exit_code == 1 and "no signature by a trusted key" in wrong_log.output
