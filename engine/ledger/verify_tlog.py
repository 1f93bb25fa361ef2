"""The transparency-log rules of verification (FORMAT.md rule 9 and kept C2SP checkpoints),
mixed into ``verify._Verifier``: a checkpoint entry's signed tree head must match the tree
recomputed from the entries before it, a checkpoint note a verifier kept must match the tree at
its size, and the stored tree index must agree with the recomputed tree (else proofs from it
would not verify: a note says to rebuild it)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from golive.ledger.checkpoint import TreeCheckpoint
from golive.ledger.note import NoteError, parse_checkpoint
from golive.ledger.treestore import StoredTree, TreeIndexError, stored_size

if TYPE_CHECKING:
    from golive.ledger.tlog import TreeBuilder
    from golive.ledger.verify_report import VerifyReport


class TreeChecks:
    """Needs the verifier's ``tree`` (a TreeBuilder fed every entry), ``origin``, ``keys``,
    ``root_at``, ``report``, ``store`` and ``problem``."""

    tree: "TreeBuilder"
    origin: str
    keys: dict[str, Any]
    root_at: dict[int, bytes]
    report: "VerifyReport"
    store: Any

    def problem(self, message: str, seq: int | None = None, blob: str | None = None) -> None:
        raise NotImplementedError

    def tree_checkpoint(self, seq: int, text: object, ledger_signers: list[str]) -> None:
        """A v2 checkpoint: its signed C2SP note must name this log, the tree of the entries
        before it and that tree's root, signed by the key that signed the entry."""
        try:
            head, note = parse_checkpoint(text if isinstance(text, str) else "")
            note.verified_by([(self.origin, self.keys[k].public_raw) for k in ledger_signers])
        except NoteError as exc:
            self.problem(f"checkpoint's signed tree head does not verify: {exc}", seq)
            return
        if head.origin != self.origin:
            self.problem(f"checkpoint's tree head names log {head.origin!r}, not this log ({self.origin})", seq)
        elif head.size != seq - 1 or head.root != self.tree.root():
            self.problem(f"checkpoint's tree head (size {head.size}) does not match the Merkle tree of "
                         f"the {seq - 1} entries before it: entries were changed, added or removed", seq)
        else:
            self.report.last_tree_checkpoint = text

    def tree_index(self) -> None:
        """The stored tree (used for proofs) must agree with the recomputed one; a store from
        before the tree existed gets a note saying how to add it."""
        entries = self.report.entries
        with self.store.read() as conn:
            have = stored_size(conn)
            try:
                stored_root = StoredTree(conn).root(entries) if have >= entries and entries else None
            except TreeIndexError:
                stored_root = None
        if entries and have < entries:
            self.report.notes.append(f"the tree index covers {have} of {entries} entries (a store of format v1): "
                                     "run `golive evidence migrate` before asking for proofs")
        elif entries and stored_root != self.report.tree_root:
            self.report.notes.append("the tree index (tlog_nodes) differs from the tree of the entries; proofs "
                                     "from it would not verify: run `golive evidence migrate` to rebuild it")

    def external_tree(self, cp: TreeCheckpoint) -> None:
        """A C2SP checkpoint kept by a verifier: signed by a ledger key recorded in the ledger,
        for this log, and the ledger's tree at that size has the same root."""
        ledger_keys = [(self.origin, k.public_raw) for k in self.keys.values() if k.role == "ledger"]
        try:
            cp.note.verified_by(ledger_keys)
        except NoteError as exc:
            self.problem(f"the given checkpoint does not verify with this ledger's keys: {exc}")
            return
        if cp.head.origin != self.origin:
            self.problem(f"the given checkpoint is for log {cp.head.origin!r}, not this one ({self.origin})")
        elif self.report.entries < cp.size:
            self.problem(f"ledger truncated: it has {self.report.entries} entries, the checkpoint commits "
                         f"to {cp.size}", seq=self.report.entries + 1)
        elif self.root_at.get(cp.size) != cp.head.root:
            self.problem(f"the Merkle tree of the first {cp.size} entries differs from the checkpoint's root: "
                         "the ledger was rolled back or rewritten", seq=cp.size)
