"""The transparency-log tree kept in the store, so proofs at any size take O(log n) lookups.

``tlog_nodes`` holds the hash of every complete subtree (``tlog``) of the tree over the
entries, keyed ``id = level << 40 | index``: about two rows per entry. Appends extend it in
the same transaction as the entries (:class:`TreeAppender`), so the index never lags the
ledger; a store written before the table existed (format v1), or whose index is damaged, is
rebuilt from the entry hashes (:func:`rebuild`, run by ``golive evidence migrate`` and
automatically by the first append that finds it incomplete). The table is an index:
``verify`` recomputes the tree from the entries and only reports when this copy disagrees.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Connection

from golive.ledger import tlog
from golive.ledger.store import TreeNode

LEVEL_SHIFT = 40
REBUILD_BATCH = 50_000
NODES = TreeNode.__table__


class TreeIndexError(Exception):
    """The stored tree lacks nodes a proof needs (an unmigrated or damaged store)."""


def node_id(level: int, index: int) -> int:
    return level << LEVEL_SHIFT | index


def fetch(conn: Connection, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    ids = {node_id(level, index): (level, index) for level, index in keys}
    if not ids:
        return {}
    # The ids are integers computed here, so they are written into the SQL: compiling an
    # expanding IN clause costs more than the lookups themselves (a proof reads ~40 rows).
    rows = conn.exec_driver_sql(f"SELECT id, hash FROM tlog_nodes WHERE id IN ({','.join(map(str, ids))})")
    return {ids[i]: bytes(h) for i, h in rows}


def stored_size(conn: Connection) -> int:
    """Leaves in the stored tree (its highest leaf index + 1)."""
    top = conn.execute(select(NODES.c.id).where(NODES.c.id < (1 << LEVEL_SHIFT))
                       .order_by(NODES.c.id.desc()).limit(1)).scalar()
    return 0 if top is None else int(top) + 1


class StoredTree:
    """Proofs and roots read from ``tlog_nodes`` inside the caller's transaction; each call
    fetches exactly the nodes it needs in one query."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _run(self, build):  # noqa: ANN001 -- build(node_source) -> value
        wanted = tlog.needed_nodes(build)
        got = fetch(self.conn, wanted)
        if len(got) != len(wanted):
            raise TreeIndexError("the store's tree index (tlog_nodes) is incomplete; run "
                                 "`golive evidence migrate` to rebuild it from the entries")
        return build(lambda level, index: got[(level, index)])

    def root(self, size: int) -> bytes:
        return self._run(lambda node: tlog.root(node, size))

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return self._run(lambda node: tlog.inclusion_proof(node, index, size))

    def consistency(self, old: int, new: int) -> list[bytes]:
        return self._run(lambda node: tlog.consistency_proof(node, old, new))


class TreeAppender:
    """Extends the stored tree with entries appended in the caller's write transaction.
    Loads the right edge of the tree at ``size`` (rebuilding the index if it does not match
    the ledger), then collects new nodes until :meth:`flush`."""

    def __init__(self, conn: Connection, size: int) -> None:
        self.conn = conn
        self.rows: list[dict] = []
        edge_keys = tlog.edge_nodes(size)
        got = fetch(conn, edge_keys + [(0, size)])
        if len(got) != len(edge_keys) or (0, size) in got:
            rebuild(conn, size)
            got = fetch(conn, edge_keys)
        self.builder = tlog.TreeBuilder(size, [got[k] for k in edge_keys], self._node)

    def _node(self, level: int, index: int, digest: bytes) -> None:
        self.rows.append({"id": node_id(level, index), "hash": digest})

    @property
    def size(self) -> int:
        return self.builder.size

    def root(self) -> bytes:
        return self.builder.root()

    def add(self, entry_hash_hex: str) -> None:
        self.builder.append_leaf_data(bytes.fromhex(entry_hash_hex))

    def flush(self) -> None:
        if self.rows:
            self.conn.execute(insert(NODES), self.rows)
            self.rows = []


def root_from_entries(conn: Connection, size: int) -> bytes:
    """The tree head at ``size`` recomputed from the entry hashes (ignores the index)."""
    builder = tlog.TreeBuilder()
    rows = conn.execute(text("SELECT entry_hash FROM ledger_entries WHERE seq <= :n ORDER BY seq"), {"n": size})
    for (digest,) in rows:
        try:
            builder.append_leaf_data(bytes.fromhex(digest))
        except (TypeError, ValueError):
            raise TreeIndexError("an entry_hash is not 64 hex digits: the ledger is damaged; run "
                                 "`golive evidence verify`") from None
    return builder.root()


def rebuild(conn: Connection, size: int | None = None) -> int:
    """Recompute ``tlog_nodes`` from the entry hashes (entries 1..``size``, default all) in
    the caller's write transaction; returns the number of leaves."""
    conn.execute(delete(NODES))
    rows: list[dict] = []
    builder = tlog.TreeBuilder(on_node=lambda level, index, digest: rows.append(
        {"id": node_id(level, index), "hash": digest}))
    last = 0
    limit = size if size is not None else conn.execute(text("SELECT max(seq) FROM ledger_entries")).scalar() or 0
    while last < limit:
        batch = conn.execute(text("SELECT seq, entry_hash FROM ledger_entries WHERE seq > :s AND seq <= :n "
                                  "ORDER BY seq LIMIT :b"), {"s": last, "n": limit, "b": REBUILD_BATCH}).all()
        if not batch:
            break
        for seq, digest in batch:
            try:
                builder.append_leaf_data(bytes.fromhex(digest))
            except (TypeError, ValueError):
                raise TreeIndexError(f"entry {seq}'s entry_hash {str(digest)[:20]!r} is not 64 hex digits: "
                                     "the ledger is damaged; run `golive evidence verify`") from None
        last = batch[-1][0]
        conn.execute(insert(NODES), rows)
        rows.clear()
    return builder.size
