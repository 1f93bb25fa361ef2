"""The Merkle tree (golive.ledger.tlog) against RFC 9162 and a reference written from its text.

``rfc_*`` below is a second, deliberately naive implementation transcribed from RFC 9162
§2.1.1 (MTH), §2.1.3.1 (PATH) and §2.1.4.1 (PROOF/SUBPROOF) with list slicing; golive's
implementation works on stored subtree hashes instead, so agreement is meaningful.
"""
from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings, strategies as st

from golive.ledger import tlog
from golive.ledger.chain import merkle_root


def H(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def rfc_k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k  # "the largest power of two smaller than n"


def rfc_mth(d: list[bytes]) -> bytes:
    if len(d) == 0:
        return H(b"")
    if len(d) == 1:
        return H(b"\x00" + d[0])
    k = rfc_k(len(d))
    return H(b"\x01" + rfc_mth(d[:k]) + rfc_mth(d[k:]))


def rfc_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = rfc_k(len(d))
    if m < k:
        return rfc_path(m, d[:k]) + [rfc_mth(d[k:])]
    return rfc_path(m - k, d[k:]) + [rfc_mth(d[:k])]


def rfc_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [rfc_mth(d)]
    k = rfc_k(n)
    if m <= k:
        return rfc_subproof(m, d[:k], b) + [rfc_mth(d[k:])]
    return rfc_subproof(m - k, d[k:], False) + [rfc_mth(d[:k])]


def leaves(n: int, salt: bytes = b"") -> list[bytes]:
    return [salt + i.to_bytes(4, "big") for i in range(n)]


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


# Fixed values from the RFC 6962 test vectors used by certificate-transparency-go and
# transparency-dev/merkle (leaves: "", 00, 10, 2021, 3031, 40414243, ...): roots at sizes 1..8.
CT_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]


def test_roots_match_published_rfc6962_vectors_and_the_reference():
    tree = tlog.MemoryTree(CT_LEAVES)
    for size, expected in enumerate(CT_ROOTS, 1):
        assert tree.root(size).hex() == expected
        assert rfc_mth(CT_LEAVES[:size]).hex() == expected
    assert tlog.root(tree.node, 0) == H(b"")


def test_inclusion_and_consistency_agree_with_the_rfc_reference():
    d = leaves(70)
    tree = tlog.MemoryTree(d)
    for n in (1, 2, 3, 7, 8, 9, 31, 64, 70):
        for m in range(n):
            assert tree.inclusion_proof(m, n) == rfc_path(m, d[:n])
        for m in range(1, n + 1):
            assert tree.consistency_proof(m, n) == rfc_subproof(m, d[:n], True)


def test_builder_edge_and_legacy_run_root_agree_with_the_tree():
    d = leaves(300, b"x")
    tree, builder = tlog.MemoryTree(), tlog.TreeBuilder()
    formed = {}
    built = tlog.TreeBuilder(on_node=lambda level, index, h: formed.__setitem__((level, index), h))
    for i, data in enumerate(d, 1):
        tree.append(data)
        builder.append_leaf_data(data)
        built.append_leaf_data(data)
        assert builder.root() == tree.root()
        assert builder.edge == [tree.node(*k) for k in tlog.edge_nodes(i)]
    assert all(tree.node(*k) == h for k, h in formed.items()) and len(formed) == 2 * 300 - bin(300).count("1")
    assert all(tlog.root_of_leaves([tlog.leaf_hash(x) for x in d[:n]]) == tree.root(n) for n in range(0, 300, 7))
    hex_leaves = [H(x).hex() for x in d[:37]]  # merkle_root: the v1 per-run root over entry hashes
    assert merkle_root(hex_leaves) == rfc_mth([bytes.fromhex(h) for h in hex_leaves]).hex()


@settings(max_examples=25, deadline=None)
@given(size=st.integers(1, 300), salt=st.binary(max_size=8), data=st.data())
def test_every_inclusion_proof_verifies_and_any_changed_byte_fails(size, salt, data):
    d = leaves(size, salt)
    tree = tlog.MemoryTree(d)
    root = tree.root()
    for index in range(size):
        proof = tree.inclusion_proof(index)
        leaf = tlog.leaf_hash(d[index])
        assert tlog.verify_inclusion(index, size, leaf, proof, root)
        if proof:  # one random byte of one proof hash
            which = data.draw(st.integers(0, len(proof) - 1))
            at = data.draw(st.integers(0, 31))
            bad = list(proof)
            bad[which] = flip(bad[which], at)
            assert not tlog.verify_inclusion(index, size, leaf, bad, root)
        at = data.draw(st.integers(0, 31))
        assert not tlog.verify_inclusion(index, size, flip(leaf, at), proof, root)
        assert not tlog.verify_inclusion(index, size, leaf, proof, flip(root, at))
        assert not tlog.verify_inclusion(index, size, leaf, proof + [root], root)  # an extra hash
        if proof:
            assert not tlog.verify_inclusion(index, size, leaf, proof[:-1], root)  # one missing
    # every byte of every hash of one proof
    index = data.draw(st.integers(0, size - 1))
    proof, leaf = tree.inclusion_proof(index), tlog.leaf_hash(d[index])
    for which in range(len(proof)):
        for at in range(32):
            bad = list(proof)
            bad[which] = flip(bad[which], at)
            assert not tlog.verify_inclusion(index, size, leaf, bad, root)
    others = [i for i in range(size) if i != index]
    if others:  # the proof does not prove another position
        assert not tlog.verify_inclusion(data.draw(st.sampled_from(others)), size, leaf, proof, root)


def test_consistency_proofs_between_all_size_pairs_up_to_300_verify():
    d = leaves(300, b"c")
    tree = tlog.MemoryTree(d)
    roots = [None] + [tree.root(n) for n in range(1, 301)]
    checked = 0
    for new in range(1, 301):
        for old in range(1, new + 1):
            proof = tree.consistency_proof(old, new)
            assert tlog.verify_consistency(old, new, roots[old], roots[new], proof), (old, new)
            checked += 1
    assert checked == 300 * 301 // 2


@settings(max_examples=60, deadline=None)
@given(new=st.integers(2, 300), data=st.data())
def test_consistency_fails_for_a_changed_byte_or_a_rewritten_history(new, data):
    old = data.draw(st.integers(1, new - 1))
    d = leaves(new, b"r")
    tree = tlog.MemoryTree(d)
    old_root, new_root, proof = tree.root(old), tree.root(new), tree.consistency_proof(old, new)
    which = data.draw(st.integers(0, len(proof) - 1))
    at = data.draw(st.integers(0, 31))
    bad = list(proof)
    bad[which] = flip(bad[which], at)
    assert not tlog.verify_consistency(old, new, old_root, new_root, bad)
    assert not tlog.verify_consistency(old, new, flip(old_root, at), new_root, proof)
    assert not tlog.verify_consistency(old, new, old_root, flip(new_root, at), proof)
    rewritten = list(d)
    rewritten[data.draw(st.integers(0, old - 1))] += b"!"  # a leaf inside the old tree changed
    forged = tlog.MemoryTree(rewritten)
    assert not tlog.verify_consistency(old, new, old_root, forged.root(new), forged.consistency_proof(old, new))


def test_bad_sizes_are_refused():
    tree = tlog.MemoryTree(leaves(5))
    with pytest.raises(tlog.ProofError):
        tree.inclusion_proof(5, 5)
    with pytest.raises(tlog.ProofError):
        tree.consistency_proof(0, 5)
    with pytest.raises(tlog.ProofError):
        tree.consistency_proof(4, 3)
    root = tree.root()
    assert not tlog.verify_inclusion(5, 5, tlog.leaf_hash(b""), [], root)
    assert not tlog.verify_consistency(0, 5, root, root, [])
    assert tlog.verify_consistency(5, 5, root, root, []) and not tlog.verify_consistency(5, 5, root, root, [root])


def test_needed_nodes_lists_exactly_what_a_proof_reads():
    tree = tlog.MemoryTree(leaves(1000))
    read = set()

    def node(level, index):
        read.add((level, index))
        return tree.node(level, index)

    tlog.inclusion_proof(node, 617, 1000)
    assert tlog.needed_nodes(lambda n: tlog.inclusion_proof(n, 617, 1000)) == read
    assert len(read) <= 2 * 10
