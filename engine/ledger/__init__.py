"""golive's evidence ledger: append-only, hash-chained, Ed25519-signed, verifiable offline.

Entry points for the rest of golive:

* :func:`open_store` / :func:`default_signer` -- the store and key the CLI uses;
* :class:`LedgerRecorder` -- the observer plugin that records a run (:func:`attach` opens the
  store, loads or creates the key and registers one on a plugin host);
* :func:`verify_store` -- what ``golive evidence verify`` runs;
* :func:`redact` -- masks credentials before anything enters a payload or an artifact copy.

See DESIGN.md "Evidence" and ``chain`` for the hashing and signing rules.
"""
from golive.ledger.chain import Ledger, LedgerError, entry_hash, head_message
from golive.ledger.checkpoint import Checkpoint, CheckpointError
from golive.ledger.keyring import append_authored, default_signer, record_key, rotate_key
from golive.ledger.keys import KeyDirectory, KeyFileError, Signer
from golive.ledger.recorder import LedgerRecorder, attach
from golive.ledger.secrets import Redactor, redact
from golive.ledger.store import Store, StoreError, open_store
from golive.ledger.verify import Problem, VerifyReport, verify_store

__all__ = ["append_authored", "attach", "Checkpoint", "CheckpointError", "KeyDirectory", "KeyFileError", "Ledger", "LedgerError",
           "LedgerRecorder", "Problem", "Redactor", "Signer", "Store", "StoreError", "VerifyReport",
           "default_signer", "entry_hash", "head_message", "open_store", "record_key", "redact",
           "rotate_key", "verify_store"]
