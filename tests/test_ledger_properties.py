"""Property-based tests (hypothesis) of the chain: any appended sequence verifies, any single
change to a stored entry is caught at that entry, canonical payloads are stable."""
from __future__ import annotations

import hashlib
import json
import sqlite3
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golive.ledger import Ledger, Signer, Store, record_key, verify_store
from golive.ledger.canonical import PayloadError, canonical_bytes, is_canonical, jcs_reference, parse
from golive.ledger.chain import NO_RUN, merkle_root
from ledger_guard import unguard_sqlite

SIGNER = Signer.generate()
scalars = (st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.text(max_size=20)
           | st.floats(allow_nan=True, allow_infinity=True)
           | st.decimals(allow_nan=False, allow_infinity=False, places=4))
payloads = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
entries = st.lists(st.tuples(st.sampled_from(["attestation", "waiver", "key-free"]), payloads),
                   min_size=1, max_size=12)
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def build(tmp: str, items) -> Store:
    store = Store(Path(tmp))
    record_key(store, SIGNER)
    ledger = Ledger(store)
    for i, (kind, payload) in enumerate(items):
        body = {"n": i, "data": payload}  # "n" keeps payloads distinct, so none reads as a replay
        if kind == "key-free":
            ledger.append(NO_RUN, "checkpoint", lambda seq, prev, conn, b=body: {"size": seq, **b},
                          [(SIGNER, "checkpoint")])
        else:
            ledger.append(NO_RUN, kind, body, [(SIGNER, "author")])
    return store


@FAST
@given(entries)
def test_any_appended_sequence_verifies(items):
    with tempfile.TemporaryDirectory() as tmp:
        report = verify_store(build(tmp, items))
        assert report.ok, report.problems
        assert report.entries == len(items) + 1


@FAST
@given(entries, st.data())
def test_any_single_byte_change_is_named(items, data):
    with tempfile.TemporaryDirectory() as tmp:
        store = build(tmp, items)
        store.close()
        db = Path(tmp) / "ledger.db"
        with sqlite3.connect(db) as conn:
            seq = data.draw(st.integers(1, len(items) + 1), label="seq")
            column = data.draw(st.sampled_from(["payload", "run_id", "kind"]), label="column")
            value = conn.execute(f"SELECT {column} FROM ledger_entries WHERE seq = ?", (seq,)).fetchone()[0]
            raw = bytearray(value if isinstance(value, bytes) else value.encode())
            pos = data.draw(st.integers(0, len(raw) - 1), label="pos")
            raw[pos] = (raw[pos] - 32 + data.draw(st.integers(1, 94))) % 95 + 32  # another printable byte
            new = bytes(raw) if isinstance(value, bytes) else raw.decode()
            unguard_sqlite(conn)  # as the database's owner can
            conn.execute(f"UPDATE ledger_entries SET {column} = ? WHERE seq = ?", (new, seq))
        report = verify_store(Store(Path(tmp)))
        assert not report.ok
        assert report.first_problem.seq == seq, str(report.first_problem)


@given(payloads)
def test_canonical_bytes_are_stable_and_canonical(value):
    once = canonical_bytes(value)
    assert is_canonical(once)
    assert canonical_bytes(parse(once)) == once


wide = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.decimals(allow_nan=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=16)


@settings(max_examples=300)
@given(wide)
def test_fast_canonical_path_matches_the_rfc8785_reference(value):
    assert canonical_bytes(value) == jcs_reference(value)


def test_lone_surrogate_is_refused():
    try:
        canonical_bytes({"a": "\ud800"})
    except PayloadError as exc:
        assert "canonicalised" in str(exc)
    else:
        raise AssertionError("a lone surrogate was accepted")


def test_decimals_are_strings_and_floats_round_trip():
    data = canonical_bytes({"price": Decimal("4321.25"), "qty": Decimal("1E+2"), "ratio": 0.1 + 0.2,
                            "big": 2**60})
    body = json.loads(data)
    assert body["price"] == "4321.25" and body["qty"] == "1E+2" and body["big"] == str(2**60)
    assert body["ratio"] == 0.1 + 0.2  # the exact double, not a rounded one


def rfc6962_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written as the RFC defines it (recursive split), for reference."""
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + rfc6962_root(leaves[:k]) + rfc6962_root(leaves[k:])).digest()


@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70))
def test_merkle_root_is_rfc6962(leaves):
    assert merkle_root([leaf.hex() for leaf in leaves]) == rfc6962_root(leaves).hex()


@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40), st.data())
def test_merkle_root_commits_to_every_leaf(leaves, data):
    hexes = [leaf.hex() for leaf in leaves]
    i = data.draw(st.integers(0, len(hexes) - 1))
    changed = list(hexes)
    changed[i] = ("0" if hexes[i][0] != "0" else "1") + hexes[i][1:]
    assert merkle_root(changed) != merkle_root(hexes)
    assert merkle_root(hexes + [hexes[-1]]) != merkle_root(hexes)
