"""A transparency-log witness (c2sp.org/tlog-witness) and Ed25519 checkpoint cosignatures
(c2sp.org/tlog-cosignature, signature type 0x04).

A witness has its own name, key and state: for each log it trusts (by the log's vkey) it
remembers the latest checkpoint it cosigned, and cosigns a new one only when a consistency
proof shows the new tree extends that one. So a log cannot show two different trees of the
same size to two parties (a split view), nor rewrite or truncate history after a cosigned
checkpoint, without every witness refusing. ``add_checkpoint`` implements the protocol's
checks and status codes; :func:`serve` puts it behind ``POST /add-checkpoint`` on loopback
(``golive evidence witness serve``); :func:`submit` is the client a log uses.

Offline, a verifier cannot know of a checkpoint newer than the ones the store still holds (a
store cut back to an older cosigned checkpoint verifies). So the witness also answers ``GET
<prefix>/logs/<origin, percent-encoded>/checkpoint`` (read-only; the shape of
transparency-dev/witness's ``/witness/v0/logs/<id>/checkpoint``, which C2SP tlog-witness does
not define) with the newest checkpoint it cosigned for that log, its cosignature included, and
:func:`latest_checkpoint` is the client ``golive evidence verify --ask-witness`` uses.

A cosignature line is ``— <witness name> base64(key hash || u64 big-endian time || Ed25519
signature)`` over ``"cosignature/v1\\ntime <time>\\n" || checkpoint note text``, with key hash
= sha256(name || 0x0A || 0x04 || public key)[:4].
"""
from __future__ import annotations

import base64
import json
import os
import struct
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from golive.ledger import tlog
from golive.ledger.keys import Signer
from golive.ledger.note import DASH, NoteError, NoteSignature, is_size, key_hash, parse_checkpoint

COSIGNATURE = 0x04
MAX_BODY = 1 << 16
MAX_PROOF_LINES = 63


class WitnessError(Exception):
    """A witness refused a checkpoint (with the HTTP status) or could not be reached."""

    def __init__(self, message: str, status: int = 0, size: int | None = None) -> None:
        super().__init__(message)
        self.status, self.size = status, size


def cosigned_message(note_text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + note_text.encode()


def cosign(note_text: str, name: str, signer, timestamp: int | None = None) -> str:  # noqa: ANN001
    """The cosignature line of ``signer`` (named ``name``) on a checkpoint's note text."""
    ts = int(time.time()) if timestamp is None else timestamp
    sig = signer.sign(cosigned_message(note_text, ts))
    blob = key_hash(name, signer.public_raw, COSIGNATURE) + struct.pack(">Q", ts) + sig
    return f"{DASH} {name} {base64.b64encode(blob).decode()}\n"


def create_witness_key(key_path: Path) -> Signer:
    """A new Ed25519 witness key written to ``key_path`` (PEM, mode 0600; never overwrites:
    FileExistsError). ``witness init`` and the demo's witnesses (golive.demo_witnesses)."""
    signer = Signer(Ed25519PrivateKey.generate())
    pem = signer.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return signer
def verify_cosignature(note_text: str, sig: NoteSignature, public_raw: bytes) -> int:
    """The timestamp of a cosignature by ``public_raw``; raises NoteError if it fails."""
    if len(sig.signature) != 8 + 64:
        raise NoteError(f"cosignature by {sig.name} is not a timestamped Ed25519 signature")
    ts = struct.unpack(">Q", sig.signature[:8])[0]
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(sig.signature[8:], cosigned_message(note_text, ts))
    except InvalidSignature:
        raise NoteError(f"the cosignature by {sig.name} does not verify") from None
    return ts


def count_cosigners(checkpoint: str, witnesses: Iterable[tuple[str, bytes]]) -> tuple[list[str], list[str]]:
    """(names of ``witnesses`` whose cosignature on ``checkpoint`` verifies, failures)."""
    note = parse_checkpoint(checkpoint)[1]
    known = {(name, key_hash(name, raw, COSIGNATURE)): (name, raw) for name, raw in witnesses}
    good, bad = [], []
    for sig in note.signatures:
        witness = known.get((sig.name, sig.key_hash))
        if witness is None:
            continue
        try:
            verify_cosignature(note.text, sig, witness[1])
            good.append(witness[0])
        except NoteError as exc:
            bad.append(str(exc))
    return sorted(set(good)), bad


@dataclass
class Witness:
    """A witness: ``name``, ``signer``, trusted logs (origin -> Ed25519 public keys) and a
    JSON state file {origin: {"size", "root", "checkpoint"}} updated atomically per cosignature
    ("checkpoint": the cosigned checkpoint with the witness's cosignature, for GET)."""

    name: str
    signer: object
    logs: dict[str, list[bytes]]
    state_path: Path

    def __post_init__(self) -> None:
        self.lock = threading.Lock()

    def state(self) -> dict[str, dict]:
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def _save(self, state: dict) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.state_path.parent, prefix=".state-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(state, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_path)  # persisted before the cosignature leaves

    def add_checkpoint(self, body: str) -> tuple[int, str, str]:
        """(HTTP status, content type, response body) for an add-checkpoint request."""
        try:
            old, proof, checkpoint = parse_request(body)
            head, note = parse_checkpoint(checkpoint)
        except (NoteError, ValueError) as exc:
            return 400, "text/plain", f"{exc}\n"
        keys = self.logs.get(head.origin)
        if keys is None:
            return 404, "text/plain", f"unknown log {head.origin}\n"
        try:
            note.verified_by([(head.origin, raw) for raw in keys])
        except NoteError as exc:
            return 403, "text/plain", f"{exc}\n"
        if old > head.size:
            return 400, "text/plain", f"old size {old} is larger than the checkpoint's {head.size}\n"
        with self.lock:  # check and persist atomically (the spec's rollback race)
            state = self.state()
            latest = state.get(head.origin, {"size": 0, "root": ""})
            if old != latest["size"]:
                return 409, "text/x.tlog.size", f"{latest['size']}\n"
            if head.size == 0:
                return 422, "text/plain", "an empty tree proves nothing\n"
            if old == 0:
                if proof:
                    return 422, "text/plain", "a proof from size 0 must be empty\n"
            else:
                old_root = base64.b64decode(latest["root"])
                if not tlog.verify_consistency(old, head.size, old_root, head.root, proof):
                    return 422, "text/plain", (f"the tree at size {head.size} is not consistent with the tree at "
                                               f"size {old} this witness cosigned\n")
            cosignature = cosign(note.text, self.name, self.signer)
            state[head.origin] = {"size": head.size, "root": base64.b64encode(head.root).decode(),
                                  "checkpoint": checkpoint.rstrip("\n") + "\n" + cosignature}
            self._save(state)
        return 200, "text/plain; charset=utf-8", cosignature

    def latest(self, origin: str) -> tuple[int, str, str]:
        """(HTTP status, content type, body) for GET of the newest checkpoint cosigned for ``origin``."""
        if origin not in self.logs:
            return 404, "text/plain", f"unknown log {origin}\n"
        latest = self.state().get(origin, {})
        if not latest.get("checkpoint"):
            why = (f"size {latest['size']} was cosigned before this witness kept checkpoints; it answers from its "
                   "next cosignature on" if latest.get("size") else "nothing cosigned yet")
            return 404, "text/plain", f"no checkpoint of {origin} to show: {why}\n"
        return 200, "text/plain; charset=utf-8", latest["checkpoint"]


def parse_request(body: str) -> tuple[int, list[bytes], str]:
    head, sep, checkpoint = body.partition("\n\n")
    lines = head.split("\n")
    if not sep or not lines[0].startswith("old ") or not is_size(lines[0][4:]):
        raise ValueError("request must start with 'old <size>' and hold a blank line before the checkpoint")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise ValueError(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = tlog.decode_hashes(lines[1:])
    return int(lines[0][4:]), proof, checkpoint


def serve(witness: Witness, host: str = "127.0.0.1", port: int = 0, ready=None) -> None:  # noqa: ANN001
    """Serve ``POST /add-checkpoint`` and ``GET /logs/<origin>/checkpoint`` until interrupted;
    ``ready(url)`` is called once bound."""
    server = make_server(witness, host, port)
    if ready is not None:
        ready(f"http://{host}:{server.server_address[1]}")
    try:
        server.serve_forever()
    finally:
        server.server_close()


def make_server(witness: Witness, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """The witness's HTTP server, bound (port 0: any free port) but not yet serving; the caller
    runs ``serve_forever`` (in a thread, e.g. the demo's) and ``shutdown``/``server_close``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 -- http.server's naming
            parts = self.path.partition("?")[0].rstrip("/").split("/")
            if len(parts) >= 3 and parts[-3] == "logs" and parts[-1] == "checkpoint":
                self.answer(*witness.latest(urllib.parse.unquote(parts[-2])))
            else:
                self.answer(404, "text/plain", "only GET /logs/<origin, percent-encoded>/checkpoint\n")

        def do_POST(self) -> None:  # noqa: N802 -- http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            if self.path.rstrip("/").split("/")[-1] != "add-checkpoint":
                status, ctype, body = 404, "text/plain", "only POST /add-checkpoint\n"
            elif length > MAX_BODY:
                status, ctype, body = 400, "text/plain", "request too large\n"
            else:
                try:
                    status, ctype, body = witness.add_checkpoint(self.rfile.read(length).decode("utf-8"))
                except UnicodeDecodeError:
                    status, ctype, body = 400, "text/plain", "request is not UTF-8\n"
            self.answer(status, ctype, body)

        def answer(self, status: int, ctype: str, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt: str, *args) -> None:  # noqa: ANN002
            pass  # requests are not logged to stderr; the state file is the record

    return ThreadingHTTPServer((host, port), Handler)


def submit(url: str, old: int, proof: list[bytes], checkpoint: str, timeout: float = 10) -> str:
    """POST an add-checkpoint request; returns the cosignature lines or raises WitnessError
    (``status`` 409 carries the witness's size in ``size``)."""
    body = f"old {old}\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof) + "\n" + checkpoint
    request = urllib.request.Request(url.rstrip("/") + "/add-checkpoint", data=body.encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 -- configured URL
            return response.read().decode()
    except urllib.error.HTTPError as exc:
        text = exc.read().decode(errors="replace").strip()
        size = int(text) if exc.code == 409 and is_size(text) else None
        raise WitnessError(f"witness {url} refused: {exc.code} {text}", exc.code, size) from None
    except (urllib.error.URLError, OSError) as exc:
        raise WitnessError(f"witness {url} cannot be reached: {exc}") from None


def latest_checkpoint(url: str, origin: str, timeout: float = 10) -> str | None:
    """The newest checkpoint the witness at ``url`` cosigned for ``origin`` (with its
    cosignature), None when it cosigned none; raises WitnessError when it cannot be asked."""
    request = urllib.request.Request(f"{url.rstrip('/')}/logs/{urllib.parse.quote(origin, safe='')}/checkpoint")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 -- configured URL
            return response.read(MAX_BODY + 1)[:MAX_BODY].decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        text = exc.read(500).decode(errors="replace").strip()
        raise WitnessError(f"witness {url} answered {exc.code} {text}", exc.code) from None
    except (urllib.error.URLError, OSError) as exc:
        raise WitnessError(f"witness {url} cannot be reached: {exc}") from None
