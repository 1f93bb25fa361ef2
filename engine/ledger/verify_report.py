"""What verification found: the problems (entry or blob, and why), notes, and counts."""
from __future__ import annotations

from dataclasses import dataclass, field

from golive.ledger.chain import GENESIS_HASH
from golive.ledger.checkpoint import Checkpoint


@dataclass
class Problem:
    """One mismatch: the entry (``seq``) or blob it concerns and why it fails."""

    message: str
    seq: int | None = None
    blob: str | None = None

    def __str__(self) -> str:
        where = f"entry {self.seq}" if self.seq is not None else f"blob {self.blob}" if self.blob else "ledger"
        return f"{where}: {self.message}"


@dataclass
class VerifyReport:
    entries: int = 0
    head: str = GENESIS_HASH
    runs: int = 0
    checkpoints: int = 0
    signatures: int = 0
    blobs: int = 0
    keys: dict[str, str] = field(default_factory=dict)  # key_id -> status
    last_checkpoint: Checkpoint | None = None
    tree_root: bytes = b""              # Merkle tree head over all entries (``tlog``)
    last_tree_checkpoint: str | None = None  # the newest signed C2SP checkpoint in the ledger
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    incomplete_runs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None
