"""The ledger as a transparency log: an RFC 6962 / RFC 9162 Merkle tree over its entries.

Leaf ``i`` (0-based) is entry ``seq = i + 1``; its leaf data is the entry's 32-byte
``entry_hash`` (raw bytes, not hex)::

    leaf hash = sha256(0x00 || data)        node hash = sha256(0x01 || left || right)

The tree head MTH(D[0:n]) for any size ``n`` splits at the largest power of two below ``n``
(RFC 9162 §2.1.1). Proofs are built from the hashes of *complete* subtrees -- a subtree of
``2**level`` leaves starting at leaf ``index * 2**level`` -- which the store keeps (``tlog_nodes``)
so that a proof needs O(log n) lookups, never a pass over the leaves. Every function here takes
those hashes through a ``node(level, index) -> bytes`` callable, so the same code serves an
in-memory tree (:class:`MemoryTree`) and the database (``golive.ledger.treestore``).

Verification follows RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) step by step;
it uses nothing but hashlib.
"""
from __future__ import annotations

import base64
import hashlib
from typing import Callable, Iterable, Sequence

NodeSource = Callable[[int, int], bytes]  # (level, index) -> hash of that complete subtree
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof was asked for sizes or indexes the tree does not have."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(node: NodeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) where ``start`` is a multiple of the largest power of two that fits
    in ``end - start`` (true of every range RFC 9162's recursions visit)."""
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0:  # complete subtree: stored
        level = n.bit_length() - 1
        return node(level, start >> level)
    k = split_point(n)
    return node_hash(subtree_hash(node, start, start + k), subtree_hash(node, start + k, end))


def root_of_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over leaves given by their leaf hashes, built bottom-up: pairing neighbours level
    by level and carrying an odd last node up unchanged gives RFC 6962's tree."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level, sha256 = list(leaf_hashes), hashlib.sha256
    while len(level) > 1:
        paired = [sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def root(node: NodeSource, size: int) -> bytes:
    """The tree head MTH(D[0:size])."""
    return subtree_hash(node, 0, size)


def inclusion_proof(node: NodeSource, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), sibling of the leaf first."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:  # walk down from the root; collect siblings, then reverse
        k = split_point(end - start)
        if index < start + k:
            path.append(subtree_hash(node, start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(node, start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(node: NodeSource, old: int, new: int) -> list[bytes]:
    """PROOF(old, D[0:new]) (RFC 9162 §2.1.4.1)."""
    if not 0 < old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new} (need 0 < old <= new)")
    proof: list[bytes] = []
    start, end, m, complete = 0, new, old, True
    while True:
        n = end - start
        if m == n:  # SUBPROOF(m, D[m], b)
            if not complete:
                proof.append(subtree_hash(node, start, end))
            break
        k = split_point(n)
        if m <= k:
            proof.append(subtree_hash(node, start + k, end))
            end = start + k
        else:
            proof.append(subtree_hash(node, start, start + k))
            start, m, complete = start + k, m - k, False
    proof.reverse()
    return proof


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show the leaf hash ``leaf`` at ``index`` in the tree
    of ``size`` whose head is ``root_hash``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root_hash


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show the tree (``new``, ``new_root``) extends the tree
    (``old``, ``old_root``)?"""
    if not 0 < old <= new:
        return False
    if old == new:
        return not proof and old_root == new_root
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: its root is a node of the new tree
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def decode_hashes(lines: Iterable[str]) -> list[bytes]:
    """Base64 SHA-256 hashes, one per line (proof lines); ValueError names a bad line."""
    out = []
    for line in lines:
        try:
            h = base64.b64decode(line, validate=True)
        except ValueError:  # binascii.Error, or non-ASCII text
            h = b""
        if len(h) != 32:
            raise ValueError(f"{line[:50]!r} is not a base64 SHA-256 hash")
        out.append(h)
    return out


def needed_nodes(build: Callable[[NodeSource], object]) -> set[tuple[int, int]]:
    """The (level, index) nodes ``build`` reads. The recursions above depend only on sizes,
    never on hash values, so one dry run with placeholder hashes lists them; a store then
    fetches them all in a single query."""
    wanted: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        wanted.add((level, index))
        return EMPTY_ROOT

    build(record)
    return wanted


class TreeBuilder:
    """Appends leaves one at a time keeping only the right edge (one hash per set bit of the
    size): O(1) amortised hashing per leaf, the tree head at any moment in O(log n).
    ``on_node(level, index, hash)``, if given, sees every complete subtree as it is formed."""

    __slots__ = ("size", "edge", "on_node")

    def __init__(self, size: int = 0, edge: Sequence[bytes] = (),
                 on_node: Callable[[int, int, bytes], None] | None = None) -> None:
        if len(edge) != bin(size).count("1"):
            raise ValueError(f"a tree of size {size} has {bin(size).count('1')} edge hashes, got {len(edge)}")
        self.size, self.edge, self.on_node = size, list(edge), on_node

    def append_leaf_data(self, data: bytes) -> None:
        self.append_hash(hashlib.sha256(b"\x00" + data).digest())

    def append_hash(self, h: bytes) -> None:
        n, level, edge, on_node = self.size, 0, self.edge, self.on_node
        if on_node is not None:
            on_node(0, n, h)
        while n & 1:  # each trailing 1 bit of the old size is a complete subtree to merge with
            h = hashlib.sha256(b"\x01" + edge.pop() + h).digest()
            n >>= 1
            level += 1
            if on_node is not None:
                on_node(level, n, h)
        edge.append(h)
        self.size += 1

    def root(self) -> bytes:
        if not self.edge:
            return EMPTY_ROOT
        h = self.edge[-1]
        for left in reversed(self.edge[:-1]):
            h = node_hash(left, h)
        return h


def edge_nodes(size: int) -> list[tuple[int, int]]:
    """The (level, index) of the complete subtrees whose concatenation is D[0:size], largest
    first: what a :class:`TreeBuilder` of that size holds."""
    out, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append((level, start >> level))
            start += 1 << level
    return out


class MemoryTree:
    """Every complete-subtree hash of a list of leaves, in memory (tests, small trees)."""

    def __init__(self, leaf_data: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for data in leaf_data:
            self.append(data)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, data: bytes) -> None:
        h, level = leaf_hash(data), 0
        self.levels[0].append(h)
        while len(self.levels[level]) % 2 == 0:
            pair = self.levels[level][-2:]
            h = node_hash(pair[0], pair[1])
            level += 1
            if level == len(self.levels):
                self.levels.append([])
            self.levels[level].append(h)

    def node(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    def root(self, size: int | None = None) -> bytes:
        return root(self.node, self.size if size is None else size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(self.node, index, self.size if size is None else size)

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        return consistency_proof(self.node, old, self.size if new is None else new)
