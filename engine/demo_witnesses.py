"""The demo's two witnesses (issue 15.2, "Done when"): while ``golive demo`` records its runs,
two transparency-log witnesses run in-process, so every demo run's checkpoint is cosigned and
the PDF's proof bundle carries cosignatures that ``golive evidence verify-report ... --witness
V1 --witness V2 --min-witnesses 2`` checks.

- Keys and state are the demo's own, in ``<demo>/witnesses/``: ``witness-N.key`` (Ed25519,
  mode 0600, made as ``golive evidence witness init`` makes it) and ``witness-N.state.json``
  (the newest checkpoint each witness cosigned per log). Demo keys: never witness a real log
  with them.
- Each server is the HTTP handler of ``golive evidence witness serve``
  (golive.ledger.witness.make_server) bound to 127.0.0.1 on a free port, served by a daemon
  thread; leaving the context manager shuts both down, also on error.
- :meth:`DemoWitnesses.configure` prepares a demo store as an operator would: it creates the
  store's key (recording it is the ledger's first entry, which fixes the log's origin), has
  both witnesses trust the log's vkey, and writes ``<store>/golive-store.toml`` naming both
  with ``min_witnesses = 2``. The run then collects the cosignatures itself
  (golive.ledger.witnessing.seal_run): a witness that does not answer is a run warning, never
  a failed demo. No timestamp authority is configured (a local TSA needs the openssl CLI).
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

from golive.ledger.witness import COSIGNATURE, Witness, create_witness_key, make_server

NAMES = ("golive-demo/witness-1", "golive-demo/witness-2")  # note key names: no spaces or '+'
HOST = "127.0.0.1"
POLL_S = 0.05  # how soon a server notices shutdown (socketserver's default, 0.5 s each, slowed the demo by 1 s)
STORE_CONFIG_HEADER = """\
# The demo's witnesses: `golive demo` ran them in-process on loopback while it recorded its runs
# (keys and state in {folder}). They are gone once the demo ends: a later run on this store
# warns that they cannot be reached. Demo keys: never trust them for a real log.
"""


@dataclass
class RunningWitness:
    witness: Witness
    vkey: str
    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}"


class DemoWitnesses:
    """The demo's witnesses in ``folder``; ``with DemoWitnesses(folder) as w:`` starts them
    (``w.problem`` says why not, if they could not start: the demo runs unwitnessed)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: list[RunningWitness] = []
        self.problem: str | None = None

    def __enter__(self) -> DemoWitnesses:
        try:
            self.start()
        except OSError as exc:  # e.g. no loopback socket: the demo still runs, without witnesses
            self.close()
            self.problem = f"the demo's witnesses could not start ({exc}); the runs are not witnessed"
        return self

    def __exit__(self, *exc_info) -> None:  # noqa: ANN002
        self.close()

    def start(self) -> None:
        from golive.ledger.note import vkey

        self.folder.mkdir(parents=True, exist_ok=True)
        for n, name in enumerate(NAMES, 1):
            key_path = self.folder / f"witness-{n}.key"
            signer = create_witness_key(key_path)  # a fresh demo folder: never an existing key
            witness = Witness(name, signer, {}, self.folder / f"witness-{n}.state.json")
            server = make_server(witness, HOST, 0)
            thread = threading.Thread(target=server.serve_forever, args=(POLL_S,), name=f"demo witness {n}", daemon=True)
            thread.start()
            self.running.append(RunningWitness(witness, vkey(name, signer.public_raw, COSIGNATURE), server, thread))

    def close(self) -> None:
        for running in self.running:
            running.server.shutdown()
            running.server.server_close()
            running.thread.join()
        self.running = []

    def configure(self, store_dir: Path) -> list[str]:
        """Have the witnesses trust the log of the store in ``store_dir`` (creating its key)
        and name them in its golive-store.toml; returns their vkeys ([] when none run)."""
        if not self.running:
            return []
        from golive.ledger.chain import first_entry_hash, log_origin
        from golive.ledger.keyring import default_signer
        from golive.ledger.keys import PASSPHRASE_ENV
        from golive.ledger.store import open_store
        from golive.ledger.witnessing import STORE_CONFIG

        store = open_store(store_dir)
        # what `golive run` would do first (golive.ledger.attach): the same key, created now
        signer = default_signer(store, os.environ.get(PASSPHRASE_ENV) or None)
        with store.read() as conn:
            origin = log_origin(first_entry_hash(conn) or "")
        for running in self.running:  # the servers are idle: no run has been recorded yet
            running.witness.logs.setdefault(origin, []).append(signer.public_raw)
        lines = [STORE_CONFIG_HEADER.format(folder=self.folder.resolve()), f"min_witnesses = {len(self.running)}\n"]
        for running in self.running:  # JSON strings are TOML basic strings for this ASCII text
            lines.append(f"\n[[witness]]\nurl = {json.dumps(running.url)}\nvkey = {json.dumps(running.vkey)}\n")
        (Path(store_dir) / STORE_CONFIG).write_text("".join(lines), encoding="utf-8")
        return [running.vkey for running in self.running]
