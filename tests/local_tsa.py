"""A local RFC 3161 time-stamping authority for tests: Debian's `openssl ts -reply` behind a
loopback HTTP handler, with its own CA. Plain functions, no golive import, so the independent
verifier (test_tlog_independent.py) can use it too.

The TSA embeds only its own certificate in a token (no `certs` line): `openssl ts` writes the
CMS certificate SET in insertion order, and rfc3161-client parses strictly DER, which needs
that SET sorted -- a TSA certificate followed by its CA is refused whenever the CA's encoding
sorts first. Verifiers get the chain from the PEM file instead (TSA certificate, then CA).
"""
from __future__ import annotations

import shutil
import subprocess
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

TSA_CONFIG = """
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = {dir}/serial
crypto_device = builtin
signer_cert = {dir}/tsa.crt
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


@dataclass(frozen=True)
class LocalTsa:
    dir: Path

    @property
    def tsa_cert(self) -> Path:
        """The TSA's own certificate (issued by the CA)."""
        return self.dir / "tsa.crt"

    @property
    def ca_cert(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def chain(self) -> Path:
        """The TSA certificate followed by its CA's: what a verifier is given."""
        return self.dir / "tsa-chain.pem"


def make_tsa(d: Path, serial: str = "0x4242") -> LocalTsa:
    """Make a CA ("golive test CA") and a TSA certificate ("golive test TSA", serial
    ``serial``) in ``d``. Two calls make two authorities with the same names and serials but
    different keys."""
    assert shutil.which("openssl"), "openssl is needed for the local TSA (.ci/run installs it)"
    d.mkdir(parents=True, exist_ok=True)
    (d / "tsa.cnf").write_text(TSA_CONFIG.format(dir=d))
    (d / "serial").write_text("01\n")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=golive test CA", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
            "-subj", "/CN=golive test TSA", cwd=d)
    openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", serial,
            "-out", "tsa.crt", "-days", "2", "-extfile", "tsa.cnf", "-extensions", "tsa_ext", cwd=d)
    tsa = LocalTsa(d)
    tsa.chain.write_bytes(tsa.tsa_cert.read_bytes() + tsa.ca_cert.read_bytes())
    return tsa


def stamp(tsa: LocalTsa, query: bytes, name: str = "q") -> bytes:
    """The TSA's DER TimeStampResp for a DER TimeStampReq."""
    (tsa.dir / f"{name}.tsq").write_bytes(query)
    openssl("ts", "-reply", "-config", "tsa.cnf", "-queryfile", f"{name}.tsq", "-out", f"{name}.tsr", cwd=tsa.dir)
    return (tsa.dir / f"{name}.tsr").read_bytes()


@contextmanager
def serve(tsa: LocalTsa, replay: bytes | None = None) -> Iterator[str]:
    """Answer RFC 3161 queries over HTTP on loopback (or answer every query with the response
    ``replay``, as a replaying attacker would); yields the URL."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:  # one query file at a time
                reply = replay if replay is not None else stamp(tsa, query)
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
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()
