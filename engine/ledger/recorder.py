"""The ledger as a golive observer plugin: one entry per run start, per result, per run end,
then a signed checkpoint.

The CLI registers ``LedgerRecorder(store, signer)`` for a run. Appends happen as results
arrive (each its own transaction), so a process killed mid-run leaves a ledger that verifies,
with the run visibly incomplete. Artifacts a check read are copied, with secrets masked, into
the store's content-addressed ``objects/``; nothing outside the target is copied (a symbolic
link out of it is refused, and the run-started entry lists such links). ``critical = True``
tells the runner that a failure here must stop the run: evidence must not be lost silently.
``head`` (the results document's ``run.ledger``) carries ``key_protected``: false when the
signing key file is not encrypted, ``key_protection``: passphrase | agent | environment | none, and ``tlog_checkpoint``: the signed C2SP checkpoint (format
v2) of the tree the run's checkpoint entry closes.
"""
from __future__ import annotations

import errno
import logging
import os
import platform
import socket
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text, update
from sqlalchemy.engine import Connection

from golive import __version__, hookimpl
from golive.ledger.chain import TLOG_FIELD, Ledger, PendingEntry, merkle_root
from golive.ledger.checkpoint import Checkpoint
from golive.ledger.chain import LedgerError
from golive.ledger.keyring import recorded_keys, utc_now
from golive.ledger.keys import KeyDirectory, KeyFileError, Signer
from golive.ledger.secrets import Redactor
from golive.ledger.store import ArtifactRecord, ResultRecord, RunRecord, Store
from golive.run.target import OutsideTarget, confined, outside_links

log = logging.getLogger("golive.ledger")
MAX_BLOB_BYTES = 64 * 1024 * 1024  # larger artifacts (bulk market data) are recorded by digest only


_STATIC_ENVIRONMENT: dict[str, str] = {}


def environment() -> dict[str, str]:
    """Where and when evidence was recorded (host facts looked up once per process)."""
    if not _STATIC_ENVIRONMENT:
        _STATIC_ENVIRONMENT.update(golive_version=__version__, host=socket.gethostname(),
                                   python=platform.python_version(),
                                   platform=platform.platform(terse=True))
    return {**_STATIC_ENVIRONMENT, "time": utc_now()}


def outcome_payload(outcome: Any) -> dict[str, Any]:
    """The results-document entry for an outcome (``golive.results.outcome_to_dict``)."""
    from golive.results import outcome_to_dict
    return outcome_to_dict(outcome)


class LedgerRecorder:
    """Records a run into ``store``, checkpoints signed by ``signer``. After
    ``golive_run_finished``, :attr:`head` is the ``run.ledger`` block of the results document."""

    critical = True

    def __init__(self, store: Store, signer: Signer, redactor: Redactor | None = None,
                 copy_artifacts: bool = True, max_blob_bytes: int = MAX_BLOB_BYTES) -> None:
        self.store = store
        self.signer = signer
        self.ledger = Ledger(store)
        self.redactor = redactor or Redactor()
        self.copy_artifacts = copy_artifacts
        self.max_blob_bytes = max_blob_bytes
        self.head: dict[str, Any] | None = None
        self.results = 0

    @property
    def key_protected(self) -> bool:
        """Whether the signing key is kept from whoever reads the store (passphrase, agent or
        environment). An unprotected key lets them rewrite history undetected; reports flag it."""
        return self.key_protection != "none"

    @property
    def key_protection(self) -> str:
        """How the signing key is protected: passphrase | agent | environment | none."""
        return getattr(self.signer, "protection", "none")

    # -- hooks ------------------------------------------------------------------------------
    @hookimpl
    def golive_run_started(self, run: dict[str, Any]) -> None:
        self.head, self.results = None, 0
        self._mark_stale_runs()
        with self.store.read() as conn:
            self._ensure_active_key(conn)
        plan = run.get("plan") or {}
        payload = self.redactor.obj({
            "run_id": run["id"], "started": run.get("started"), "target": run.get("target"),
            "plan": plan, "selection": run.get("selection") or [],
            "tailoring_digest": run.get("tailoring_digest"), "environment": environment()})
        payload["signing_key"] = self.signer.key_id  # a public key id: "*_key" must not mask it
        payload["key_protected"] = self.key_protected
        payload["key_protection"] = self.key_protection
        for fact in ("provenance", "jobs"):  # printed by reports: bound to the ledger (golive.ledger.bound)
            if run.get(fact) is not None:
                payload[fact] = self.redactor.obj(run[fact])
        if run.get("authored") is not None:  # the attestations and waivers in scope (golive.ledger.scope)
            payload["authored"] = self.redactor.obj(run["authored"])
        links = outside_links(run["target"]) if run.get("target") else []
        for link in links:
            log.warning("%s is a symbolic link to %s, outside the target: never copied into the evidence, "
                        "and a check that records it is refused", link["path"], link["to"])
        if links:
            payload["outside_links"] = self.redactor.obj(links)

        def index(conn: Connection, seq: int, _payload: Any) -> None:
            conn.execute(insert(RunRecord.__table__).values(
                id=run["id"], started=run.get("started") or "", status="running",
                plan_id=plan.get("id") or "", plan_version=str(plan.get("version") or ""),
                plan_digest=plan.get("digest") or "", target=str(run.get("target") or ""),
                host=socket.gethostname(), pid=os.getpid(), first_seq=seq, last_seq=seq))

        self.ledger.append(run["id"], "run-started", payload, on_appended=index)

    @hookimpl
    def golive_result(self, outcome: Any, run: dict[str, Any]) -> None:
        self.ledger.append_many([self.result_entry(outcome, run)])
        self.results += 1

    @hookimpl
    def golive_run_finished(self, run: dict[str, Any], outcomes: list[Any]) -> None:
        run_id = run["id"]
        by_status: dict[str, int] = {}
        for o in outcomes:
            by_status[str(o.status)] = by_status.get(str(o.status), 0) + 1
        finished = {"run_id": run_id, "finished": run.get("finished") or utc_now(),
                    "results": self.results, "by_status": by_status, "environment": environment()}
        for bound in ("tests_sha256", "extras_sha256", "extras_warnings"):  # the document, bound for
            if run.get(bound) is not None:                                  # reports (golive.ledger.bound)
                finished[bound] = run[bound]

        def checkpoint_payload(seq: int, _prev: str, conn: Connection) -> dict[str, Any]:
            hashes = [h for (h,) in conn.execute(
                text("SELECT entry_hash FROM ledger_entries WHERE run_id = :r ORDER BY seq"), {"r": run_id})]
            return {"run_id": run_id, "size": seq, "entries": len(hashes),
                    "merkle_root": merkle_root(hashes), "key_id": self.signer.key_id, "time": utc_now()}

        signed_head: dict[str, str] = {}

        def close_run(conn: Connection, seq: int, payload: Any) -> None:
            if isinstance(payload, dict) and payload.get(TLOG_FIELD):
                signed_head[TLOG_FIELD] = payload[TLOG_FIELD]  # the v2 signed tree head, for run.ledger
            conn.execute(update(RunRecord.__table__).where(RunRecord.__table__.c.id == run_id).values(
                finished=finished["finished"], status="finished", last_seq=seq, checkpoint_seq=seq))

        with self.store.write() as conn:
            self._ensure_active_key(conn)  # under the lock: a rotation cannot slip in between
            done = self.ledger.append_in(conn, [
                PendingEntry(run_id, "run-finished", finished),
                PendingEntry(run_id, "checkpoint", checkpoint_payload, [(self.signer, "checkpoint")], close_run),
            ])
        cp = done[-1]
        self.head = {**Checkpoint(cp.seq, cp.entry_hash, cp.signatures[0]["sig"], self.signer.key_id).to_dict(),
                     "key_protected": self.key_protected, "key_protection": self.key_protection, **signed_head}

    def _ensure_active_key(self, conn: Connection) -> None:
        """Checkpoints must be signed by the ledger's active key. If the key was rotated while
        this run went on, switch to the new current key from the store's key folder."""
        keys = recorded_keys(self.store, conn)
        active = next((k for k, v in reversed(keys.items()) if v["role"] == "ledger" and v["status"] == "active"), None)
        if active == self.signer.key_id:
            return
        if active is None or keys.get(self.signer.key_id, {}).get("status") != "retired":
            raise LedgerError(f"signing key {self.signer.key_id[:16]}... is not the active key of the ledger at "
                              f"{self.store.path}; create signers with golive.ledger.default_signer")
        try:
            self.signer = KeyDirectory(self.store.keys_dir).load(active)
        except KeyFileError as exc:
            raise LedgerError(f"the ledger's active key is now {active[:16]}... (rotated during the run) "
                              f"and it cannot be loaded: {exc}") from None

    # -- result payloads ----------------------------------------------------------------------
    def result_payload(self, outcome: Any, run: dict[str, Any]) -> dict[str, Any]:
        """The payload for one outcome: redacted result, plan digest, checker, environment and
        the stored copies of its artifacts."""
        plan = run.get("plan") or {}
        payload = self.redactor.obj(outcome_payload(outcome))
        payload.update({
            "run_id": run["id"],
            "plan": {"id": plan.get("id"), "version": plan.get("version"), "digest": plan.get("digest")},
            "checker": outcome.checker or None,
            "checker_version": outcome.checker_version or None,
            "environment": environment(),
        })
        blobs = self.store_artifacts(outcome, run) if self.copy_artifacts else []
        if blobs:
            payload["blobs"] = blobs
        return payload

    @staticmethod
    def index_rows(run_id: str, seq: int, payload: dict[str, Any]) -> tuple[dict, list[dict]]:
        """The ``results`` row and ``artifacts`` rows that index one result entry."""
        requirement_id = payload.get("requirement_id", "")
        result = {"run_id": run_id, "requirement_id": requirement_id,
                  "status": payload.get("status", ""), "entry_seq": seq}
        artifacts = [{"run_id": run_id, "entry_seq": seq, "requirement_id": requirement_id,
                      "path": b["path"], "role": b.get("role", "input"), "sha256": b["sha256"],
                      "blob_sha256": b.get("blob") or "", "size": b.get("size", 0),
                      "redacted": b.get("redacted", False)} for b in payload.get("blobs", [])]
        return result, artifacts

    def _write_index(self, conn: Connection, run_id: str, placed: list[tuple[int, dict]]) -> None:
        results, artifacts = [], []
        for seq, payload in placed:
            r, a = self.index_rows(run_id, seq, payload)
            results.append(r)
            artifacts += a
        conn.execute(insert(ResultRecord.__table__), results)
        if artifacts:
            conn.execute(insert(ArtifactRecord.__table__), artifacts)
        conn.execute(update(RunRecord.__table__).where(RunRecord.__table__.c.id == run_id)
                     .values(last_seq=placed[-1][0]))

    def result_entry(self, outcome: Any, run: dict[str, Any]) -> PendingEntry:
        """The entry for one outcome; its index rows go in within the same transaction."""
        run_id = run["id"]
        payload = self.result_payload(outcome, run)
        return PendingEntry(run_id, "result", payload,
                            on_appended=lambda conn, seq, _p: self._write_index(conn, run_id, [(seq, payload)]))

    def record_results(self, outcomes: list[Any], run: dict[str, Any]) -> None:
        """Append many results in one transaction (a batch: all or none), for callers that
        have several verdicts at once; the live runner appends one by one."""
        if not outcomes:
            return
        payloads = [self.result_payload(o, run) for o in outcomes]
        with self.store.write() as conn:
            done = self.ledger.append_in(conn, [PendingEntry(run["id"], "result", p) for p in payloads])
            self._write_index(conn, run["id"], [(d.seq, p) for d, p in zip(done, payloads)])
        self.results += len(outcomes)

    def store_artifacts(self, outcome: Any, run: dict[str, Any]) -> list[dict[str, Any]]:
        """Copy each artifact into ``objects/`` (masked), or say why only its digest is kept.
        Nothing outside the target is copied: a path that resolves out of it (a symbolic link
        to /etc/shadow) is refused, with the reason in the entry."""
        root = Path(run.get("target") or ".")
        blobs = []
        for art in outcome.artifacts:
            item: dict[str, Any] = {"path": self.redactor.text(art.path), "sha256": art.sha256,
                                    "role": art.role}
            try:
                path = confined(root, art.path)
            except OutsideTarget as exc:
                item.update(blob=None, note=self.redactor.text(str(exc)))
                blobs.append(item)
                continue
            if not path.is_file():
                item.update(blob=None, note="file no longer exists; digest only")
            elif path.stat().st_size > self.max_blob_bytes:
                item.update(blob=None, size=path.stat().st_size,
                            note=f"larger than {self.max_blob_bytes} bytes; digest only")
            else:
                data = _read_no_follow(path)
                if data is None:
                    item.update(blob=None, note="file became a symbolic link after the check read it; digest only")
                    blobs.append(item)
                    continue
                copy, redacted = self.redactor.blob(data)
                item.update(blob=self.store.put_blob(copy), size=len(copy), redacted=redacted)
                if not redacted and item["blob"] != art.sha256:
                    item["note"] = "file changed after the check read it"
            blobs.append(item)
        return blobs

    def _mark_stale_runs(self) -> None:
        """Runs of this host whose process is gone without finishing are marked incomplete in
        the index (the ledger shows it anyway: they have no run-finished entry)."""
        host = socket.gethostname()
        with self.store.read() as conn:
            rows = conn.execute(text("SELECT id, pid FROM runs WHERE status = 'running' AND host = :h"),
                                {"h": host}).all()
        dead = [run_id for run_id, pid in rows if pid and not _alive(pid)]
        if dead:
            with self.store.write() as conn:
                for run_id in dead:
                    conn.execute(text("UPDATE runs SET status = 'incomplete' WHERE id = :i AND status = 'running'"),
                                 {"i": run_id})


def _read_no_follow(path: Path) -> bytes | None:
    """The bytes of an already resolved path, or None if it was swapped for a link since."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None
        raise
    with os.fdopen(fd, "rb") as f:
        return f.read()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def attach(host: Any, store_dir: Path | str | None = None, db_url: str | None = None,
           passphrase: str | None = None) -> LedgerRecorder:
    """Open the store (``--store``/``GOLIVE_STORE``/``./evidence``; ``--db``/``GOLIVE_DB``), load
    or create its signing key, and register a recorder on ``host`` (anything with
    ``register(plugin, name)``, e.g. golive's PluginHost). Returns the recorder, whose ``head``
    the caller puts into the results document after the run."""
    from golive.ledger.keyring import default_signer
    from golive.ledger.store import open_store

    from golive.ledger.keys import PASSPHRASE_ENV

    store = open_store(store_dir, db_url)
    # a run that creates the store's first key protects it with CI's secret when one is set
    recorder = LedgerRecorder(store, default_signer(store, passphrase or os.environ.get(PASSPHRASE_ENV) or None))
    host.register(recorder, "ledger")
    return recorder
