"""A run's proof bundle as a report carries it (issue 15.4).

The bundle (``golive.ledger.bundle.make_bundle``: the run's entries with inclusion proofs in
its signed checkpoint, the witnesses' cosignatures and the RFC 3161 token kept for it) is
attached to the PDF beside ``results.json`` as ``golive-proof-bundle.json`` and written beside
HTML and Markdown reports as ``<report>.proof-bundle.json``, so ``golive evidence
verify-report report.pdf`` (or ``verify-bundle FILE --results results.json``) checks the
report offline with the log's public key only. :class:`ProofView` is what the evidence
appendix shows: the checkpoint (origin, tree size, root hash), who signed and cosigned it and
the timestamp with its issuer. These are read from the bundle, not verified here: the verify
commands printed beside them do that.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

BUNDLE_ATTACHMENT = "golive-proof-bundle.json"
BUNDLE_SUFFIX = ".proof-bundle.json"


@dataclass(frozen=True)
class ProofView:
    data: bytes = field(repr=False)  # the bundle file's exact bytes
    run_id: str
    origin: str
    size: int
    root_hex: str
    entries: int
    log_signers: tuple[str, ...]   # signature lines by the log's key (named by the origin)
    cosigners: tuple[str, ...]     # other signature lines: witness cosignatures
    timestamp: str | None          # the token's genTime (ISO 8601), when the bundle carries one
    timestamp_issuer: str | None   # the TSA certificate's subject (or the TSTInfo's tsa name)
    log_vkey: str = ""                  # the log's verifier key (public), for the verify command
    file_name: str = BUNDLE_ATTACHMENT  # where the report's reader finds it
    witness_vkeys: tuple[str, ...] = ()  # the store's configured witnesses (golive-store.toml)
    min_witnesses: int = 0               # and how many cosignatures it requires

    def verify_commands(self, for_pdf: bool) -> tuple[str, ...]:
        options = f"--trusted-key {self.log_vkey or '<the log vkey: golive keys vkey>'}"
        if self.witness_vkeys and self.min_witnesses:  # the store's own requirement, not a weaker one
            options += "".join(f" --witness {v}" for v in self.witness_vkeys) + f" --min-witnesses {self.min_witnesses}"
        elif self.cosigners:  # configuration unknown here: as many as cosigned the checkpoint
            options += "".join(f" --witness <vkey of {name}>" for name in self.cosigners)
            options += f" --min-witnesses {len(self.cosigners)}"
        if self.timestamp:
            options += " --tsa-cert <the TSA's certificate.pem>"
        if for_pdf:
            return (f"golive evidence verify-report report.pdf {options}   # the attached {BUNDLE_ATTACHMENT}",)
        return (f"golive evidence verify-bundle {self.file_name} --results results.json {options}",)


def bundle_bytes(bundle: Mapping[str, Any]) -> bytes:
    """The bundle file as ``golive evidence bundle`` writes it."""
    return (json.dumps(bundle, indent=1) + "\n").encode("utf-8")


def proof_view(bundle: Mapping[str, Any], log_vkey: str = "", store_config: Any = None) -> ProofView:
    """What the appendix shows of ``bundle`` (made by ``make_bundle``); ``store_config``
    (``golive.ledger.witnessing.StoreConfig``) names the witnesses the verify command requires."""
    from golive.ledger.note import parse_checkpoint
    head, note = parse_checkpoint(bundle["checkpoint"])
    signers = tuple(s.name for s in note.signatures if s.name == head.origin)
    cosigners = tuple(dict.fromkeys(s.name for s in note.signatures if s.name != head.origin))
    when, issuer = _timestamp_fields(bundle.get("timestamp"))
    witnesses = tuple(w.vkey for w in store_config.witnesses) if store_config is not None else ()
    return ProofView(bundle_bytes(bundle), str(bundle["run_id"]), head.origin, head.size, head.root.hex(),
                     len(bundle.get("entries") or ()), signers, cosigners, when, issuer, log_vkey,
                     witness_vkeys=witnesses, min_witnesses=store_config.min_witnesses if witnesses else 0)


def _timestamp_fields(token_b64: str | None) -> tuple[str | None, str | None]:
    if not token_b64:
        return None, None
    from golive.ledger.timestamp import token_fields  # rfc3161-client: only when a token is shown
    try:
        return token_fields(base64.b64decode(token_b64))
    except (ValueError, TypeError):  # not base64 text
        return "unreadable token", None


def bundle_beside(report_path: Path) -> Path:
    """Where an HTML or Markdown report's bundle is written: ``report.proof-bundle.json``."""
    return report_path.with_name(report_path.stem + BUNDLE_SUFFIX)
