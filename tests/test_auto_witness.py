"""Automatic witnessing and timestamps (issue 15.2-3): with `<store>/golive-store.toml` naming two
witnesses (real `golive evidence witness serve` processes on loopback) and a TSA (Debian's
`openssl ts` behind a loopback handler), every recorded run ends with its checkpoint cosigned
and timestamped, kept in <store>/checkpoints and carried by the report's proof bundle;
`verify-report` then requires both cosignatures and the token. A witness or TSA that is down,
or a bad config, is a run warning and the run is kept. A history rewritten with the log's own
key passes with the key alone and fails once witnesses are required."""
from __future__ import annotations

import json
from pathlib import Path

import pypdf
from click.testing import CliRunner

from golive.cli import cli
from golive.ledger import Store, default_signer, verify_store
from golive.ledger.bundle import make_bundle
from golive.report.proof import BUNDLE_ATTACHMENT, bundle_bytes
from tamper_summary import tamper_case
from test_report_bundle import with_replaced
from test_tlog_ledger import rewrite_with_key
from test_tlog_timestamp import tsa  # noqa: F401 -- the local TSA fixture
from test_tlog_witness import log_vkey, witnesses  # noqa: F401 -- two witness processes
from tlogcli import invoke

WORKSPACE = Path(__file__).parent / "fixtures" / "reference-workspace"


def run(store: Path, report: Path, *only: str):
    args = ["run", "--target", str(WORKSPACE), "--store", str(store), "--report", str(report),
            "--json", str(report.with_suffix(".json")), "-q"]
    for req in only:
        args += ["--only", req]
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def new_store(path: Path) -> Path:
    store = Store(path)
    default_signer(store, announce=lambda m: None)  # the log's key exists before witnesses trust it
    store.close()
    return path


def configure(store: Path, urls: list[str], vkeys: list[str], tsa_url: str | None, cert: bytes | None,
              minimum: int = 2) -> None:
    lines = [f"min_witnesses = {minimum}"]
    for url, key in zip(urls, vkeys):
        lines += ["[[witness]]", f'url = "{url}"', f'vkey = "{key}"']
    if tsa_url:
        (store / "tsa.pem").write_bytes(cert)
        lines += ["[timestamp]", f'url = "{tsa_url}"', 'certificate = "tsa.pem"']
    (store / "golive-store.toml").write_text("\n".join(lines) + "\n")


def need(vkeys: list[str], k: int) -> list[str]:
    return [a for v in vkeys for a in ("--witness", v)] + ["--min-witnesses", k]


def test_every_run_is_cosigned_and_timestamped_and_the_pdf_proves_it(tmp_path, witnesses, tsa):  # noqa: F811
    tsa_url, tsa_cert, _ca = tsa
    store = new_store(tmp_path / "evidence")
    urls, wkeys = witnesses(store)
    configure(store, urls, wkeys, tsa_url, tsa_cert)
    (tmp_path / "tsa.pem").write_bytes(tsa_cert)
    for n in (1, 2):  # the second run's checkpoint needs a consistency proof from the first
        report = tmp_path / f"run{n}.pdf"
        done = run(store, report, "PRE-PIPE-01", "PRE-ALGO-01")
        assert done.exit_code in (0, 1), done.output
        doc = json.loads(report.with_suffix(".json").read_text())
        assert doc["warnings"] == [] or not any("witness" in w or "timestamp" in w for w in doc["warnings"]), \
            doc["warnings"]
        size = int(doc["run"]["ledger"]["tlog_checkpoint"].split("\n")[1])
        kept = store / "checkpoints" / f"{size}.checkpoint"
        assert kept.read_text().count("\u2014 witness.test/w") == 2
        assert kept.with_suffix(".tsr").stat().st_size > 0
        files = {k: v[0] for k, v in pypdf.PdfReader(report).attachments.items()}
        bundle = json.loads(files[BUNDLE_ATTACHMENT])
        assert bundle["checkpoint"] == kept.read_text() and bundle["timestamp"]
        ok = invoke("evidence", "verify-report", report, "--trusted-key", log_vkey(store), *need(wkeys, 2),
                    "--tsa-cert", tmp_path / "tsa.pem")
        assert ok.exit_code == 0 and "cosigned by witness.test/w1, witness.test/w2" in ok.output, ok.output
        assert "the tree head existed at" in ok.output and "golive test TSA" in ok.output
    text = "".join(p.extract_text() for p in pypdf.PdfReader(report).pages[-6:])
    assert "witness.test/w1" in text and "golive test TSA" in text  # the appendix shows both

    # the key holder rewrites run 1 and re-makes run 2's bundle: the log's key alone accepts it
    run_id = doc["run"]["id"]
    rewrite_with_key(store, 3)
    assert verify_store(Store(store)).ok
    s = Store(store)
    with s.read() as conn:
        forged = make_bundle(conn, run_id, None)  # the rewritten tree head, never witnessed
    s.close()
    pdf = with_replaced(report, BUNDLE_ATTACHMENT, bundle_bytes(forged), tmp_path / "rewritten.pdf")
    alone = invoke("evidence", "verify-report", pdf, "--trusted-key", log_vkey(store))
    tamper_case("key holder rewrites history; verify-report with the log key alone", alone.exit_code == 1,
                expected=False)
    assert alone.exit_code == 0, alone.output  # undetectable without a witness, as FORMAT.md states
    witnessed = invoke("evidence", "verify-report", pdf, "--trusted-key", log_vkey(store), *need(wkeys, 2))
    tamper_case("key holder rewrites history; verify-report requiring 2 witnesses", witnessed.exit_code == 1)
    assert witnessed.exit_code == 1 and "0 of 2 required witness cosignatures" in witnessed.output


def test_a_witness_or_tsa_that_is_down_is_a_warning_and_the_run_is_kept(tmp_path, witnesses):  # noqa: F811
    store = new_store(tmp_path / "evidence")
    urls, wkeys = witnesses(store)
    configure(store, [urls[0], "http://127.0.0.1:9/down"], wkeys, "http://127.0.0.1:9/tsa", b"not a cert")
    report = tmp_path / "run.pdf"
    done = run(store, report, "PRE-PIPE-01")
    assert done.exit_code in (0, 1), done.output
    doc = json.loads(report.with_suffix(".json").read_text())
    warnings = "\n".join(doc["warnings"])
    assert "witness http://127.0.0.1:9/down cannot be reached" in warnings
    assert "has 1 of the 2 witness cosignatures golive-store.toml requires" in warnings
    assert "time-stamping authority http://127.0.0.1:9/tsa cannot be reached" in warnings
    assert verify_store(Store(store)).ok and report.is_file()
    ok = invoke("evidence", "verify-report", report, "--trusted-key", log_vkey(store), *need(wkeys, 1))
    assert ok.exit_code == 0 and "cosigned by witness.test/w1" in ok.output, ok.output


def test_a_bad_store_config_is_a_warning_naming_the_file(tmp_path):
    store = new_store(tmp_path / "evidence")
    (store / "golive-store.toml").write_text('[[witness]]\nurl = "http://127.0.0.1:9"\nvkey = "nope"\n')
    report = tmp_path / "run.md"
    done = run(store, report, "PRE-PIPE-01")
    assert done.exit_code in (0, 1), done.output
    doc = json.loads(report.with_suffix(".json").read_text())
    assert any("golive-store.toml: witness 1:" in w and "not witnessed or timestamped" in w for w in doc["warnings"])
    beside = tmp_path / "run.proof-bundle.json"
    assert beside.is_file() and "run.proof-bundle.json" in report.read_text()
