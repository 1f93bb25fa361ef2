"""Trusted time (RFC 3161): a local time-stamping authority built from Debian's `openssl ts`
behind a loopback HTTP handler stamps the log's checkpoint; the token verifies offline
against the TSA's certificate and fails for another tree head, another certificate or a
changed token."""
from __future__ import annotations

import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from golive.ledger import LedgerRecorder, Store, default_signer
from golive.ledger.note import parse_checkpoint
from golive.ledger.simulate import record_run
from golive.ledger.timestamp import TimestampError, request_token, verify_token
from tlogcli import invoke

TSA_CONFIG = """
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = {dir}/serial
crypto_device = builtin
signer_cert = {dir}/tsa.crt
certs = {dir}/ca.crt
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
[ tsa_ext ]
extendedKeyUsage = critical,timeStamping
keyUsage = critical,digitalSignature
"""


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    """A TSA on loopback: (url, TSA certificate PEM, a CA certificate that is not the TSA's)."""
    assert shutil.which("openssl"), "openssl is needed for the local TSA (.ci/run installs it)"
    d = tmp_path_factory.mktemp("tsa")
    (d / "tsa.cnf").write_text(TSA_CONFIG.format(dir=d))
    (d / "serial").write_text("01\n")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=golive test CA", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
            "-subj", "/CN=golive test TSA", cwd=d)
    openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "tsa.crt", "-days", "2", "-extfile", "tsa.cnf", "-extensions", "tsa_ext", cwd=d)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                (d / "q.tsq").write_bytes(query)
                openssl("ts", "-reply", "-config", "tsa.cnf", "-queryfile", "q.tsq", "-out", "r.tsr", cwd=d)
                reply = (d / "r.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa", (d / "tsa.crt").read_bytes(), (d / "ca.crt").read_bytes()
    server.shutdown()


def test_a_token_verifies_for_its_data_and_certificate_only(tsa):
    url, tsa_cert, ca_cert = tsa
    token = request_token(url, b"golive.invalid/ledger/x\n5\nAAAA\n")
    stamp = verify_token(token, b"golive.invalid/ledger/x\n5\nAAAA\n", tsa_cert)
    assert stamp.issuer == "CN=golive test TSA" and stamp.policy == "1.3.6.1.4.1.99999.1"
    with pytest.raises(TimestampError, match="other data"):
        verify_token(token, b"golive.invalid/ledger/x\n6\nAAAA\n", tsa_cert)
    with pytest.raises(TimestampError, match="not signed by the trusted TSA"):
        verify_token(token, b"golive.invalid/ledger/x\n5\nAAAA\n", ca_cert)
    changed = bytearray(token)
    changed[-3] ^= 0x01  # inside the RSA signature, the last field of the SignerInfo
    with pytest.raises(TimestampError, match="does not verify"):
        verify_token(bytes(changed), b"golive.invalid/ledger/x\n5\nAAAA\n", tsa_cert)
    with pytest.raises(TimestampError, match="not an RFC 3161"):
        verify_token(b"\x30\x03\x02\x01\x00" + token[:40], b"x", tsa_cert)
    with pytest.raises(TimestampError, match="cannot be reached"):
        request_token("http://127.0.0.1:9/none", b"x", timeout=2)


def test_the_log_checkpoint_is_timestamped_and_verified_offline(tmp_path, tsa):
    url, tsa_cert, ca_cert = tsa
    store = Store(tmp_path / "evidence")
    record_run(LedgerRecorder(store, default_signer(store, announce=lambda m: None), copy_artifacts=False), 4)
    store.close()
    made = invoke("evidence", "timestamp", "--store", store.path, "--tsa", url)
    assert made.exit_code == 0 and "timestamped the tree at size 7" in made.output, made.output
    checkpoint, token = store.path / "checkpoints" / "7.checkpoint", store.path / "checkpoints" / "7.tsr"
    (tmp_path / "tsa.crt").write_bytes(tsa_cert)
    (tmp_path / "ca.crt").write_bytes(ca_cert)
    ok = invoke("evidence", "verify-timestamp", checkpoint, token, "--tsa-cert", tmp_path / "tsa.crt")
    assert ok.exit_code == 0 and "existed at" in ok.output and "CN=golive test TSA" in ok.output
    assert parse_checkpoint(checkpoint.read_text())[0].size == 7
    other_cert = invoke("evidence", "verify-timestamp", checkpoint, token, "--tsa-cert", tmp_path / "ca.crt")
    assert other_cert.exit_code == 1
    forged = tmp_path / "forged.checkpoint"
    forged.write_text(checkpoint.read_text().replace("\n7\n", "\n6\n"))
    assert invoke("evidence", "verify-timestamp", forged, token, "--tsa-cert", tmp_path / "tsa.crt").exit_code == 1
