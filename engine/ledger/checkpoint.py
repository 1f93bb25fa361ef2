"""A ledger head as it travels outside the ledger: in a report's ``run.ledger``, in a file,
or on the command line.

* :class:`Checkpoint` (format v1): ``{"size", "head", "checkpoint_signature", "key_id"}``; the
  signature is Ed25519 over ``chain.head_message(size, head)``.
* :class:`TreeCheckpoint` (format v2): a C2SP tlog-checkpoint signed note (``note``) naming
  the Merkle tree head of the log at a size.

Both are checkable with the public key alone, and ``evidence verify --checkpoint`` proves the
ledger still extends either (:func:`parse_checkpoint` reads both).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from golive.ledger.keys import unb64
from golive.ledger.note import NoteError, SignedNote, TreeHead, parse_checkpoint as parse_note_checkpoint

HEX64 = re.compile(r"^[0-9a-f]{64}$")


class CheckpointError(ValueError):
    """A checkpoint given by the user cannot be read."""


@dataclass(frozen=True)
class Checkpoint:
    size: int
    head: str
    signature: str  # base64
    key_id: str

    @property
    def signature_bytes(self) -> bytes:
        try:
            return unb64(self.signature)
        except ValueError:
            return b""

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "head": self.head, "checkpoint_signature": self.signature,
                "key_id": self.key_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "checkpoint") -> "Checkpoint":
        if isinstance(data.get("run"), dict) and isinstance(data["run"].get("ledger"), dict):
            data = data["run"]["ledger"]  # a whole results document: use its ledger head
        missing = [k for k in ("size", "head", "key_id") if k not in data]
        signature = data.get("checkpoint_signature", data.get("signature"))
        if signature is None:
            missing.append("checkpoint_signature")
        if missing:
            raise CheckpointError(f"{where}: missing field(s) {', '.join(missing)}; expected "
                                  '{"size", "head", "checkpoint_signature", "key_id"}')
        size, head, key_id = data["size"], str(data["head"]), str(data["key_id"])
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise CheckpointError(f"{where}: size must be a positive integer, got {size!r}")
        if not HEX64.match(head) or not HEX64.match(key_id):
            raise CheckpointError(f"{where}: head and key_id must be 64 lowercase hex digits")
        return cls(size, head, str(signature), key_id)

    @classmethod
    def parse(cls, spec: str) -> "Checkpoint":
        """From a JSON file (a checkpoint or a results document) or a JSON string."""
        path = Path(spec)
        where = "checkpoint"
        if not spec.lstrip().startswith("{"):
            if not path.is_file():
                raise CheckpointError(f"{spec}: no such file, and not a JSON checkpoint")
            spec, where = path.read_text(encoding="utf-8"), str(path)
        try:
            data = json.loads(spec)
        except RecursionError:
            raise CheckpointError(f"{where}: JSON nested too deeply to be a checkpoint") from None
        except ValueError as exc:
            raise CheckpointError(f"{where}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise CheckpointError(f"{where}: expected a JSON object")
        return cls.from_dict(data, where)


@dataclass(frozen=True)
class TreeCheckpoint:
    """A signed C2SP checkpoint (origin, tree size, root hash) as given by a user."""

    head: TreeHead
    note: SignedNote

    @property
    def size(self) -> int:
        return self.head.size

    @classmethod
    def parse_text(cls, text: str, where: str = "checkpoint") -> "TreeCheckpoint":
        try:
            head, note = parse_note_checkpoint(text)
        except NoteError as exc:
            raise CheckpointError(f"{where}: not a signed checkpoint note ({exc})") from None
        if head.size < 1:
            raise CheckpointError(f"{where}: a checkpoint of an empty tree proves nothing")
        return cls(head, note)


def parse_checkpoint(spec: str) -> Checkpoint | TreeCheckpoint:
    """A v1 JSON head (file or string, or a results document) or a v2 checkpoint note file."""
    path = Path(spec)
    if not spec.lstrip().startswith("{") and path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CheckpointError(f"{spec}: cannot read ({exc})") from None
        if not text.lstrip().startswith("{"):
            return TreeCheckpoint.parse_text(text, spec)
    return Checkpoint.parse(spec)
