"""Where evidence lives: SQLModel tables, the database engine, and the content-addressed blobs.

``ledger_entries`` is the evidence itself (hash-chained, see ``chain``). ``tlog_nodes`` (the
Merkle tree's subtree hashes, for proofs; see ``treestore``), ``runs``, ``results`` and
``artifacts`` (for ``evidence show`` and reports) are indexes derived from it; verification
never trusts them. SQLite runs in WAL mode with ``synchronous=FULL`` and takes the write lock at
the start of an append (``BEGIN IMMEDIATE``), so two processes appending at once queue rather
than fork the chain; on other databases (PostgreSQL) the appender locks the single
``ledger_head`` row with ``SELECT ... FOR UPDATE``. Blobs are files under
``<store>/objects/ab/cdef...`` named by the sha256 of their content, written atomically and
never overwritten (write-once: an existing object is left as it is).

Nothing stored as evidence is updated or deleted (SEC 17a-4(f)'s audit-trail alternative, see
docs/retention.md): ``ledger_entries`` carries database triggers, created with the schema and
added to existing stores when they are opened, that refuse every UPDATE and DELETE (and, on
PostgreSQL, TRUNCATE). Corrections and revocations are new entries referencing the old one
(``golive evidence correct`` / ``revoke``). The index tables are maintained in place. The
triggers stop mistakes and golive's own code; whoever owns the database can drop them, which
``verify`` (the hash chain) and witnessed checkpoints catch, not the triggers.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Field, SQLModel, create_engine

STORE_ENV = "GOLIVE_STORE"
DB_ENV = "GOLIVE_DB"
DEFAULT_STORE = "evidence"
SQLITE_BUSY_TIMEOUT_S = 120
# PostgreSQL advisory lock key serialising schema creation: processes opening a new database at
# once would otherwise race in CREATE TABLE (the catalog's unique index rejects the loser)
SCHEMA_LOCK_KEY = 0x601171FE
APPEND_ONLY_MESSAGE = ("ledger_entries is append-only: entries are never updated or deleted; "
                       "record a correction or revocation instead (golive evidence correct / revoke)")
SQLITE_APPEND_ONLY = tuple(
    f"CREATE TRIGGER IF NOT EXISTS ledger_entries_no_{op.lower()} BEFORE {op} ON ledger_entries "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
    for op in ("UPDATE", "DELETE"))
PG_APPEND_ONLY_FUNCTION = (
    "CREATE OR REPLACE FUNCTION golive_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE} (% refused)', TG_OP "
    "USING ERRCODE = 'integrity_constraint_violation'; END $$")
PG_APPEND_ONLY_TRIGGERS = {
    "ledger_entries_append_only": "BEFORE UPDATE OR DELETE ON ledger_entries FOR EACH ROW",
    "ledger_entries_no_truncate": "BEFORE TRUNCATE ON ledger_entries FOR EACH STATEMENT",
}


class LedgerEntry(SQLModel, table=True):
    """One entry of the chain. ``payload`` holds the exact canonical bytes that were hashed;
    ``signatures`` (JSON list of {key_id, sig, role}) sign the ledger head at this entry and
    are checked separately, so they are not part of ``entry_hash``."""

    __tablename__ = "ledger_entries"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    run_id: str = Field(index=True)
    kind: str = Field(index=True)
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    prev_hash: str = Field(unique=True)  # unique: two entries can never share a predecessor
    entry_hash: str = Field(unique=True)
    signatures: str = "[]"


class LedgerHead(SQLModel, table=True):
    """A single row: the append lock on PostgreSQL and a quick size/head lookup."""

    __tablename__ = "ledger_head"
    id: int = Field(default=1, primary_key=True)
    size: int = 0
    head: str = ""


class TreeNode(SQLModel, table=True):
    """The hash of one complete subtree of the transparency-log tree over the entries
    (``tlog``): ``id = level << 40 | index``. Derived from ``ledger_entries``, rebuilt when
    missing; verify recomputes the tree and never reads this table for its verdict."""

    __tablename__ = "tlog_nodes"
    # INTEGER (not BIGINT) on SQLite makes the id the rowid: one B-tree lookup per node
    id: int = Field(sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class RunRecord(SQLModel, table=True):
    __tablename__ = "runs"
    id: str = Field(primary_key=True)
    started: str = ""
    finished: Optional[str] = None
    status: str = "running"  # running | finished | incomplete
    plan_id: str = ""
    plan_version: str = ""
    plan_digest: str = ""
    target: str = ""
    host: str = ""
    pid: int = 0
    first_seq: int = 0
    last_seq: int = 0
    checkpoint_seq: Optional[int] = None


class ResultRecord(SQLModel, table=True):
    __tablename__ = "results"
    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    requirement_id: str = Field(index=True)
    status: str = ""
    entry_seq: int = Field(index=True)


class ArtifactRecord(SQLModel, table=True):
    __tablename__ = "artifacts"
    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    entry_seq: int = Field(index=True)
    requirement_id: str = ""
    path: str = ""
    role: str = "input"
    sha256: str = Field(default="", index=True)  # digest of the file the check read
    blob_sha256: str = ""                        # digest of the stored copy (differs if redacted)
    size: int = 0
    redacted: bool = False


class StoreError(Exception):
    """The store cannot be opened or used (bad URL, unwritable folder)."""


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001 -- DBAPI objects
        # pysqlite's own transaction handling would defer BEGIN; take control of it.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        # The hash indexes are random-keyed: a larger page cache keeps appends fast as they grow.
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("golive_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Store:
    """An evidence store: a database (SQLite file in the store folder unless a URL is given)
    plus ``objects/`` (blobs) and ``keys/`` (signing keys)."""

    def __init__(self, path: Path | str, db_url: str | None = None) -> None:
        self.path = Path(path).resolve()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create evidence store {self.path}: {exc}") from exc
        self.objects = self.path / "objects"
        self.keys_dir = self.path / "keys"
        self.db_url = db_url or f"sqlite:///{self.path / 'ledger.db'}"
        try:
            self.engine = create_engine(self.db_url, connect_args=(
                {"timeout": SQLITE_BUSY_TIMEOUT_S} if self.is_sqlite else {}))
        except Exception as exc:  # noqa: BLE001 -- SQLAlchemy raises many types for bad URLs
            raise StoreError(f"cannot open database {self.safe_url}: {exc}") from exc
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        try:
            with self.write() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
                SQLModel.metadata.create_all(conn, tables=[t.__table__ for t in TABLES])
                guard_append_only(conn)
                if conn.execute(text("SELECT count(*) FROM ledger_head")).scalar() == 0:
                    conn.execute(text("INSERT INTO ledger_head (id, size, head) VALUES (1, 0, '')"))
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise StoreError(f"cannot open evidence database {self.safe_url}: {exc.__class__.__name__}: "
                             f"{getattr(exc, 'orig', exc)} (the store needs read-write access; verify a copy "
                             "of a read-only store)") from None

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @property
    def safe_url(self) -> str:
        """The database URL with any password masked, for messages."""
        from sqlalchemy.engine import make_url
        try:
            return make_url(self.db_url).render_as_string(hide_password=True)
        except Exception:  # noqa: BLE001
            return "<unparseable database URL>"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction holding the ledger's append lock until it commits or rolls back."""
        with self.engine.connect().execution_options(golive_write=True) as conn:
            with conn.begin():
                if not self.is_sqlite and conn.dialect.has_table(conn, "ledger_head"):
                    conn.execute(text("SELECT size FROM ledger_head WHERE id = 1 FOR UPDATE"))
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: one consistent snapshot (WAL readers never block writers)."""
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    def close(self) -> None:
        self.engine.dispose()

    # -- blobs --------------------------------------------------------------------------
    def blob_path(self, sha256: str) -> Path:
        return self.objects / sha256[:2] / sha256[2:]

    def put_blob(self, data: bytes) -> str:
        """Store ``data`` under its sha256, write-once: an object that exists is never
        rewritten (identical content is deduplicated; a damaged one stays for verify to report)."""
        digest = hashlib.sha256(data).hexdigest()
        final = self.blob_path(digest)
        if final.exists() or final.is_symlink():
            return digest
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o444)
            try:
                os.link(tmp, final)  # atomic and never replaces: a concurrent writer's copy stays
            except FileExistsError:
                pass
            except OSError:  # a file system without hard links: rename, unless the object appeared
                if not final.exists():
                    os.replace(tmp, final)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return digest


def guard_append_only(conn: Connection) -> None:
    """Make ``ledger_entries`` refuse UPDATE and DELETE (idempotent: run at every open, so a
    store created before the guard existed gets it too)."""
    if conn.dialect.name == "sqlite":
        for statement in SQLITE_APPEND_ONLY:
            conn.exec_driver_sql(statement)
    elif conn.dialect.name == "postgresql":
        have = set(conn.execute(text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass('ledger_entries')")).scalars())
        missing = [name for name in PG_APPEND_ONLY_TRIGGERS if name not in have]
        if missing:
            conn.exec_driver_sql(PG_APPEND_ONLY_FUNCTION.replace("%", "%%"))  # the driver's paramstyle
        for name in missing:
            conn.exec_driver_sql(f"CREATE TRIGGER {name} {PG_APPEND_ONLY_TRIGGERS[name]} "
                                 "EXECUTE FUNCTION golive_ledger_append_only()")


TABLES = (LedgerEntry, LedgerHead, TreeNode, RunRecord, ResultRecord, ArtifactRecord)


def open_store(store_dir: Path | str | None = None, db_url: str | None = None) -> Store:
    """The store the CLI uses: ``store_dir`` or ``$GOLIVE_STORE`` or ``./evidence``; the
    database ``db_url`` or ``$GOLIVE_DB`` or the SQLite file inside the store."""
    path = store_dir or os.environ.get(STORE_ENV) or Path.cwd() / DEFAULT_STORE
    return Store(path, db_url or os.environ.get(DB_ENV) or None)


def payload_bytes(value: bytes | memoryview | str) -> bytes:
    """A payload column value as bytes: psycopg returns memoryview, and an edited SQLite
    row may hold text instead of a blob."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return value if isinstance(value, bytes) else bytes(value)
