"""C2SP signed notes (c2sp.org/signed-note) and transparency-log checkpoints
(c2sp.org/tlog-checkpoint), with Ed25519 signatures (signature type 0x01).

A checkpoint's note text is three lines -- origin, tree size (decimal), root hash (base64) --
each ending in a newline; the signed note appends a blank line and one line per signature::

    — <key name> base64(key hash (4 bytes) || Ed25519 signature over the note text)

    key hash = sha256(key name || 0x0A || 0x01 || 32-byte public key)[:4]

A verifier key ("vkey") is ``<name>+<hex key hash>+base64(0x01 || public key)``. Verification
follows the spec: signatures from keys the verifier does not know are ignored, a known key's
signature that fails rejects the note, and a note with no verified signature is rejected.
"""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from typing import Iterable, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ED25519 = 0x01
DASH = "\u2014"
MAX_SIGNATURES = 64
MAX_NOTE_BYTES = 1 << 20
SIZE_RE = re.compile(r"^(0|[1-9][0-9]*)$")


class NoteError(ValueError):
    """A note, checkpoint or verifier key is malformed or does not verify."""


class _Signs(Protocol):
    public_raw: bytes

    def sign(self, message: bytes) -> bytes: ...


def is_size(text: str) -> bool:
    """A tree size or index as C2SP writes it: ASCII decimal, no leading zeroes."""
    return bool(SIZE_RE.match(text))


def key_hash(name: str, public_raw: bytes, sig_type: int = ED25519) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_raw).digest()[:4]


def check_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


def vkey(name: str, public_raw: bytes, sig_type: int = ED25519) -> str:
    """The verifier key text for an Ed25519 key named ``name`` (type 0x04: a cosigner)."""
    return f"{check_name(name)}+{key_hash(name, public_raw, sig_type).hex()}+" \
           f"{base64.b64encode(bytes([sig_type]) + public_raw).decode()}"


def parse_vkey(text: str, sig_type: int = ED25519) -> tuple[str, bytes]:
    """(name, 32-byte public key) from a vkey of ``sig_type``; checks its key hash."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise NoteError(f"{text[:60]!r} is not a verifier key <name>+<8 hex>+<base64>")
    name, hash_hex, material = parts
    try:
        raw = base64.b64decode(material, validate=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        raise NoteError(f"verifier key {name}: the key material is not base64") from None
    if len(raw) != 33 or raw[0] != sig_type:
        raise NoteError(f"verifier key {name}: expected an Ed25519 key of type {sig_type:#04x} (33 bytes)")
    if key_hash(name, raw[1:], sig_type) != bytes.fromhex(hash_hex):
        raise NoteError(f"verifier key {name}: key hash {hash_hex} does not match the key")
    return check_name(name), raw[1:]


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_hash: bytes
    signature: bytes

    def line(self) -> str:
        return f"{DASH} {self.name} {base64.b64encode(self.key_hash + self.signature).decode()}\n"


@dataclass
class SignedNote:
    text: str  # ends with a newline; excludes the blank separator line
    signatures: list[NoteSignature] = field(default_factory=list)

    def __str__(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def sign(self, name: str, signer: _Signs) -> "SignedNote":
        sig = signer.sign(self.text.encode())
        self.signatures.append(NoteSignature(check_name(name), key_hash(name, signer.public_raw), sig))
        return self

    def verified_by(self, keys: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        """The (name, public key) of ``keys`` whose signature on the note verifies. Raises
        :class:`NoteError` if a known key's signature fails or none verifies."""
        known = {(name, key_hash(name, raw)): raw for name, raw in keys}
        good = []
        for sig in self.signatures:
            raw = known.get((sig.name, sig.key_hash))
            if raw is None:
                continue  # unknown signer: ignored, as the spec requires
            try:
                Ed25519PublicKey.from_public_bytes(raw).verify(sig.signature, self.text.encode())
            except (InvalidSignature, ValueError):
                raise NoteError(f"the signature by {sig.name} ({sig.key_hash.hex()}) does not verify: "
                                "the note was altered or the signature forged") from None
            good.append((sig.name, raw))
        if not good:
            names = ", ".join(sorted({f"{s.name} ({s.key_hash.hex()})" for s in self.signatures})) or "nobody"
            raise NoteError(f"no signature by a trusted key: the note is signed by {names}")
        return good


def parse_note(data: str) -> SignedNote:
    """Split a signed note into text and signatures (the last blank line separates them)."""
    if len(data.encode()) > MAX_NOTE_BYTES:
        raise NoteError("note is larger than 1 MiB")
    if any(ord(c) < 0x20 and c != "\n" for c in data):
        raise NoteError("note contains control characters other than newline")
    if not data.endswith("\n"):
        raise NoteError("note does not end with a newline")
    split = data.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, sig_block = data[:split + 1], data[split + 2:]
    signatures = []
    for line in sig_block.splitlines():
        if not line.startswith(DASH + " "):
            raise NoteError(f"signature line {line[:40]!r} does not start with '{DASH} '")
        parts = line[2:].split(" ")
        if len(parts) != 2:
            raise NoteError(f"signature line {line[:40]!r} is not '{DASH} <name> <base64>'")
        try:
            blob = base64.b64decode(parts[1], validate=True)
        except ValueError:  # binascii.Error, or non-ASCII text
            raise NoteError(f"signature of {parts[0]} is not base64") from None
        if len(blob) < 5:
            raise NoteError(f"signature of {parts[0]} is too short")
        signatures.append(NoteSignature(check_name(parts[0]), blob[:4], blob[4:]))
    if not signatures:
        raise NoteError("note has no signature lines")
    if len(signatures) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    return SignedNote(text, signatures)


@dataclass(frozen=True)
class TreeHead:
    """The body of a tlog-checkpoint: origin, tree size, root hash (extension lines kept)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "".join(line + "\n" for line in lines)

    def signed(self, name: str, signer: _Signs) -> SignedNote:
        return SignedNote(self.text()).sign(name, signer)

    @classmethod
    def from_text(cls, text: str) -> "TreeHead":
        lines = text.split("\n")
        if lines[-1] != "" or len(lines) < 4 or any(not line for line in lines[:-1]):
            raise NoteError("checkpoint text must be at least three non-empty lines: origin, size, root hash")
        origin, size, root_b64 = lines[0], lines[1], lines[2]
        if not SIZE_RE.match(size):
            raise NoteError(f"checkpoint tree size {size[:30]!r} is not a decimal without leading zeroes")
        try:
            root = base64.b64decode(root_b64, validate=True)
        except ValueError:  # binascii.Error, or non-ASCII text
            root = b""
        if len(root) != 32:
            raise NoteError("checkpoint root hash is not 32 bytes of base64")
        return cls(origin, int(size), root, tuple(lines[3:-1]))


def parse_checkpoint(data: str) -> tuple[TreeHead, SignedNote]:
    note = parse_note(data)
    return TreeHead.from_text(note.text), note
