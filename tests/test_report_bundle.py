"""The demo's PDF carries the run's proof bundle beside results.json (issue 15.4): `golive
evidence verify-report` accepts it with only the log's public key, and rejects it after any
change to either attachment or to the ledger the bundle is made from. HTML and Markdown reports
get the bundle as a file beside them; run.ledger carries the v2 signed checkpoint."""
from __future__ import annotations

import base64
import io
import shutil
import json
import sqlite3
from pathlib import Path

import pypdf
import pytest
from click.testing import CliRunner

from golive.cli import cli
from golive.ledger import Store
from golive.ledger.bundle import make_bundle
from golive.report.analysis import document_bytes
from golive.report.proof import BUNDLE_ATTACHMENT, bundle_bytes
from ledger_guard import unguard_sqlite
from tamper_summary import tamper_case
from tlogcli import invoke


def golive(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo") / "demo"
    done = golive("demo", d)
    assert done.exit_code == 0, done.output
    vkey = next(line.split()[0] for line in invoke("keys", "vkey", "--store", d / "evidence").output.splitlines()
                if "active" in line)
    return {"dir": d, "pdf": d / "golive-report.pdf", "store": d / "evidence", "vkey": vkey}


def attachments(pdf: Path) -> dict[str, bytes]:
    return {name: data[0] for name, data in pypdf.PdfReader(pdf).attachments.items()}


def with_replaced(pdf: Path, name: str, data: bytes, out: Path) -> Path:
    """The PDF with the embedded file ``name`` holding ``data`` instead (same file spec)."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(pdf))
    names = writer._root_object["/Names"]["/EmbeddedFiles"]["/Names"]
    spec = next(names[i + 1].get_object() for i in range(0, len(names), 2) if str(names[i]) == name)
    spec["/EF"]["/F"].get_object().set_data(data)
    buffer = io.BytesIO()
    writer.write(buffer)
    out.write_bytes(buffer.getvalue())
    return out


def verify_report(pdf: Path, vkey: str):
    return invoke("evidence", "verify-report", pdf, "--trusted-key", vkey)


def test_the_demo_pdf_carries_a_bundle_that_verify_report_accepts(demo):
    files = attachments(demo["pdf"])
    assert set(files) == {"results.json", BUNDLE_ATTACHMENT}
    ok = verify_report(demo["pdf"], demo["vkey"])
    assert ok.exit_code == 0, ok.output
    assert "every result matches the ledger (100 requirements)" in ok.output
    bundle, doc = json.loads(files[BUNDLE_ATTACHMENT]), json.loads(files["results.json"])
    # run.ledger carries the v2 signed checkpoint, the one the bundle proves against; the bundle's
    # has the demo witnesses' cosignature lines added (they cosign after the run is recorded)
    from golive.demo_witnesses import NAMES
    signed = doc["run"]["ledger"]["tlog_checkpoint"]
    assert bundle["checkpoint"].startswith(signed)
    assert [line.split()[1] for line in bundle["checkpoint"][len(signed):].splitlines()] == list(NAMES)
    assert bundle["run_id"] == doc["run"]["id"]
    on_disk = json.loads((demo["dir"] / "golive-results.json").read_text())
    assert on_disk["run"]["ledger"]["tlog_checkpoint"] == signed
    text = "".join(page.extract_text() for page in pypdf.PdfReader(demo["pdf"]).pages[-6:])
    size = bundle["checkpoint"].split("\n")[1]
    assert "Proof bundle" in text and f"{size} entries" in text and "verify-report" in text


def test_the_demo_runs_are_cosigned_by_its_two_witnesses(demo):
    """golive demo runs two witnesses in-process (golive.demo_witnesses): the run's checkpoint is
    cosigned by both, the appendix names them, and its verify command requires both."""
    import threading

    from golive.demo_witnesses import NAMES
    from golive.ledger.witnessing import load_store_config

    config = load_store_config(demo["store"])
    assert [w.name for w in config.witnesses] == list(NAMES) and config.min_witnesses == 2
    vkeys = [w.vkey for w in config.witnesses]
    assert not [t for t in threading.enumerate() if t.name.startswith("demo witness")]  # shut down
    text = "".join(page.extract_text() for page in pypdf.PdfReader(demo["pdf"]).pages[-6:])
    assert f"Witness cosignatures {', '.join(NAMES)}" in text
    command = text.replace("\n", "")  # the printed command wraps anywhere
    assert all(f"--witness {v}" in command for v in vkeys) and "--min-witnesses 2" in command
    witnessed = [arg for v in vkeys for arg in ("--witness", v)]
    ok = invoke("evidence", "verify-report", demo["pdf"], "--trusted-key", demo["vkey"], *witnessed,
                "--min-witnesses", "2")
    assert ok.exit_code == 0, ok.output
    assert f"cosigned by {', '.join(NAMES)}" in ok.output
    store = invoke("evidence", "verify", "--store", demo["store"], *witnessed, "--min-witnesses", "2")
    assert store.exit_code == 0, store.output
    assert f"witnesses {', '.join(NAMES)}" in store.output
    # a witness the demo did not run cosigned nothing: requiring it fails
    stranger = invoke("evidence", "verify-report", demo["pdf"], "--trusted-key", demo["vkey"], *witnessed[:2],
                      "--witness", _stranger_vkey(), "--min-witnesses", "2")
    assert stranger.exit_code == 1, stranger.output


def _stranger_vkey() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from golive.ledger.keys import Signer
    from golive.ledger.note import vkey
    from golive.ledger.witness import COSIGNATURE
    return vkey("stranger/witness", Signer(Ed25519PrivateKey.generate()).public_raw, COSIGNATURE)


def _edits(files: dict[str, bytes]) -> list[tuple[str, str, bytes]]:
    results, bundle = files["results.json"], files[BUNDLE_ATTACHMENT]
    doc = json.loads(results)
    failing = next(r for r in doc["results"] if r["status"] != "pass")
    flipped = json.loads(results)
    next(r for r in flipped["results"] if r["requirement_id"] == failing["requirement_id"])["status"] = "pass"
    flipped["summary"]["by_status"]["pass"] += 1
    reworded = json.loads(results)
    next(r for r in reworded["results"] if r.get("reason"))["reason"] += " (checked by hand)"
    dropped = json.loads(results)
    dropped["results"] = [r for r in dropped["results"] if r["requirement_id"] != failing["requirement_id"]]
    recount = json.loads(results)
    recount["summary"]["by_status"]["pass"] -= 1
    b = json.loads(bundle)
    b["entries"] = b["entries"][:-1]
    return [("results.json", "status flipped to pass", document_bytes(flipped)),
            ("results.json", "a reason reworded", document_bytes(reworded)),
            ("results.json", "a failing result dropped", document_bytes(dropped)),
            ("results.json", "summary count changed", document_bytes(recount)),
            ("results.json", "whitespace only", results.replace(b"\n", b"\r\n", 1)),
            ("results.json", "one byte of a reason", _flip_after(results, b'"reason": "')),
            (BUNDLE_ATTACHMENT, "last entry removed", bundle_bytes(b)),
            (BUNDLE_ATTACHMENT, "whitespace only", bundle.replace(b"\n", b"\n ", 1)),
            (BUNDLE_ATTACHMENT, "a recorded status changed", bundle.replace(b'"kind": "result"', b'"kind": "x"', 1)),
            (BUNDLE_ATTACHMENT, "one byte", bundle[:200] + bytes([bundle[200] ^ 1]) + bundle[201:])]


def _flip_after(data: bytes, marker: bytes) -> bytes:
    at = data.index(marker) + len(marker) + 2
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


def test_any_change_to_an_attachment_is_rejected(demo, tmp_path):
    files = attachments(demo["pdf"])
    edits = _edits(files)
    for n, (name, what, data) in enumerate(edits):
        assert data != files[name], what
        changed = with_replaced(demo["pdf"], name, data, tmp_path / f"changed{n}.pdf")
        assert attachments(changed)[name] == data
        result = verify_report(changed, demo["vkey"])
        tamper_case(f"report attachment {name}: {what}", result.exit_code == 1)
        assert result.exit_code == 1 and "FAILED" in result.output, (name, what, result.output)
    # parts of results.json no entry holds by itself (test files covering no requirement,
    # suggested links, the test list) are bound by digests in the run-finished entry
    for n, (what, edit) in enumerate((("additional test files", lambda d: d.update(additional_test_files=[])),
                                      ("suggested links", lambda d: [r.update(suggested=[]) for r in d["results"]]),
                                      ("test list", lambda d: d["tests"].pop()))):
        doc = json.loads(files["results.json"])
        edit(doc)
        edited = with_replaced(demo["pdf"], "results.json", document_bytes(doc), tmp_path / f"unrecorded{n}.pdf")
        result = verify_report(edited, demo["vkey"])
        tamper_case(f"report attachment results.json: {what} edited (digest in the run-finished entry)",
                    result.exit_code == 1)
        assert result.exit_code == 1 and "run-finished entry" in result.output, (what, result.output)
    untouched = with_replaced(demo["pdf"], "results.json", files["results.json"], tmp_path / "same.pdf")
    assert verify_report(untouched, demo["vkey"]).exit_code == 0  # the rewriting itself changes nothing


def test_a_bundle_made_from_a_changed_ledger_is_rejected(demo, tmp_path):
    store_dir = tmp_path / "evidence"
    shutil.copytree(demo["store"], store_dir)
    doc = json.loads(attachments(demo["pdf"])["results.json"])
    run_id = doc["run"]["id"]
    with sqlite3.connect(store_dir / "ledger.db") as conn:
        unguard_sqlite(conn)  # as the database's owner can
        seq, payload = conn.execute("SELECT seq, payload FROM ledger_entries WHERE run_id = ? AND kind = 'result' "
                                    "ORDER BY seq DESC LIMIT 1", (run_id,)).fetchone()
        forged = bytes(payload).replace(b'"status":"', b'"status":"pass","was":"', 1)
        conn.execute("UPDATE ledger_entries SET payload = ? WHERE seq = ?", (forged, seq))
    store = Store(store_dir)
    with store.read() as conn:
        bundle = make_bundle(conn, run_id, store_dir / "checkpoints")
    store.close()
    pdf = with_replaced(demo["pdf"], BUNDLE_ATTACHMENT, bundle_bytes(bundle), tmp_path / "relinked.pdf")
    result = verify_report(pdf, demo["vkey"])
    tamper_case("ledger result payload edited, bundle re-made for the PDF", result.exit_code == 1)
    assert result.exit_code == 1 and f"entry {seq} does not hash to its entry_hash" in result.output, result.output


def test_html_and_markdown_reports_get_the_bundle_beside_them(demo, tmp_path):
    from golive.report.render import render

    files = attachments(demo["pdf"])
    doc, bundle = json.loads(files["results.json"]), json.loads(files[BUNDLE_ATTACHMENT])
    (tmp_path / "results.json").write_bytes(files["results.json"])
    for name in ("report.html", "report.md"):
        out = render(name.split(".")[1], doc, tmp_path / name, proof_bundle=bundle, log_vkey=demo["vkey"])
        beside = tmp_path / "report.proof-bundle.json"
        assert beside.read_bytes() == files[BUNDLE_ATTACHMENT]
        shown = out.read_text()
        assert "report.proof-bundle.json" in shown
        root_hex = base64.b64decode(bundle["checkpoint"].split("\n")[2]).hex()
        assert root_hex in shown and demo["vkey"] in shown
        ok = invoke("evidence", "verify-bundle", beside, "--results", tmp_path / "results.json",
                    "--trusted-key", demo["vkey"])
        assert ok.exit_code == 0, ok.output
        beside.unlink()


def test_a_report_re_rendered_from_the_store_carries_the_bundle_too(demo, tmp_path):
    run_id = json.loads((demo["dir"] / "golive-results.json").read_text())["run"]["id"]
    out = tmp_path / "again.pdf"
    done = golive("report", run_id[:8], "--store", demo["store"], "-o", out)
    assert done.exit_code == 0, done.output
    assert set(attachments(out)) == {"results.json", BUNDLE_ATTACHMENT}
    ok = verify_report(out, demo["vkey"])
    assert ok.exit_code == 0, ok.output
