"""The key rules of verification, mixed into ``verify._Verifier``: a key entry adds a key (self-
signed, or a person's public key endorsed by an active ledger key), rotates the ledger key (signed
by the key it replaces) or revokes one (signed by an active ledger key); a person key signs only
up to its ``valid_until`` day (signatures after a revocation are caught in ``signatures``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from golive.ledger.chain import head_message
from golive.ledger.keys import key_id_of, unb64, verify_signature

if TYPE_CHECKING:
    from golive.ledger.verify_report import VerifyReport


@dataclass
class _Key:
    public_raw: bytes
    role: str          # ledger | person
    status: str = "active"
    name: str = ""             # a person key's registered name, for findings
    valid_until: str = ""      # a person key's last valid day (YYYY-MM-DD), if it has one
    revoked_seq: int = 0       # the key entry that revoked it

    def label(self, key_id: str) -> str:
        return f"key {key_id[:16]}" + (f" of {self.name}" if self.name else "")


class KeyChecks:
    """Needs the verifier's ``keys``, ``trusted``, ``report``, ``latest_time``, ``parse`` and ``problem``."""

    keys: dict[str, _Key]
    trusted: set[str]
    report: "VerifyReport"
    latest_time: str

    def problem(self, message: str, seq: int | None = None, blob: str | None = None) -> None:
        raise NotImplementedError

    def parse(self, seq: int, payload: bytes) -> dict[str, Any]:
        raise NotImplementedError

    def validity(self, seq: int, kind: str, payload: bytes, signers: set[str]) -> None:
        """A person key signs only up to its ``valid_until`` day. The signing time is the entry's
        own ``time``, or the newest time recorded by an earlier entry if that is later: an entry
        appended after others cannot have been signed before them (a backdated time does not help)."""
        stamp = str(self.parse(seq, payload).get("time") or "")
        self.latest_time = max(self.latest_time, stamp)
        day = self.latest_time[:10]
        for key_id in sorted(signers):
            key = self.keys[key_id]
            if key.valid_until and day > key.valid_until:
                self.problem(f"{kind} signed on {day} by {key.label(key_id)}, which was valid until "
                             f"{key.valid_until}: a signature made after the key's validity", seq)

    def key_entry(self, seq: int, payload: bytes, digest: str, unknown: list, signers: set[str]) -> None:
        body = self.parse(seq, payload)
        action, key_id = body.get("action"), str(body.get("key_id", ""))
        try:
            public_raw = unb64(str(body.get("public_key", ""))) if action != "revoke" else b""
        except ValueError:
            public_raw = b"?"
        if action in ("add", "rotate"):
            if key_id_of(public_raw) != key_id:
                self.problem(f"key id {key_id[:16]} is not the sha256 of the recorded public key", seq)
                return
            message = head_message(seq, digest)
            own = [s for s in unknown if s.get("key_id") == key_id]
            try:
                self_signed = any(verify_signature(public_raw, unb64(s.get("sig", "")), message) for s in own)
            except ValueError:
                self_signed = False
            self.report.signatures += len(own)
            for s in unknown:
                if s.get("key_id") != key_id:
                    self.problem(f"signed by key {str(s.get('key_id', '?'))[:16]}, which is not recorded "
                                 "in the ledger (unknown key)", seq)
            role = body.get("role", "ledger")
            active_ledger = {k for k, v in self.keys.items() if v.role == "ledger" and v.status == "active"}
            # a person's key is registered from its public half alone (the private key never
            # enters the store): the ledger key's endorsement stands in for the self-signature
            if not self_signed and not (role == "person" and signers & active_ledger):
                self.problem(f"key {key_id[:16]} is not signed by itself (no proof of possession)", seq)
                return
            if action == "rotate":
                old = str(body.get("replaces", ""))
                if old not in signers or old not in active_ledger:
                    self.problem(f"rotation to key {key_id[:16]} is not signed by the key it replaces "
                                 f"({old[:16]}), or that key is not active", seq)
                    return
                self.keys[old].status = "retired"
                self.report.keys[old] = "retired"
            elif (role != "ledger" or active_ledger) and not (signers & active_ledger) \
                    and key_id not in self.trusted:
                self.problem(f"{role} key {key_id[:16]} is added without the endorsement of an "
                             "active ledger key (pass --trusted-key to accept it)", seq)
                return
            elif not active_ledger and self.trusted and key_id not in self.trusted:
                self.problem(f"first ledger key {key_id[:16]} is not among the trusted keys", seq)
                return
            elif not active_ledger:
                self.report.notes.append(f"trust anchor: first ledger key {key_id[:16]}... (entry {seq})"
                                         + ("" if self.trusted else "; pass --trusted-key to pin it"))
            self.keys[key_id] = _Key(public_raw, role, name=str(body.get("name") or ""),
                                     valid_until=str(body.get("valid_until") or "") if role == "person" else "")
            self.report.keys[key_id] = "active"
            self.latest_time = max(self.latest_time, str(body.get("time") or ""))
        elif action == "revoke":
            for s in unknown:
                self.problem(f"signed by unknown key {str(s.get('key_id', '?'))[:16]}", seq)
            active_ledger = {k for k, v in self.keys.items() if v.role == "ledger" and v.status == "active"}
            if key_id not in self.keys or not (signers & active_ledger):
                self.problem(f"revocation of key {key_id[:16]} is not signed by an active ledger key", seq)
                return
            self.keys[key_id].status = "revoked"
            self.keys[key_id].revoked_seq = seq
            self.report.keys[key_id] = "revoked"
            self.latest_time = max(self.latest_time, str(body.get("time") or ""))
        else:
            self.problem(f"key entry with unknown action {action!r}", seq)
