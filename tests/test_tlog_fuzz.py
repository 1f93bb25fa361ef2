"""Bad input to the transparency-log readers: notes, checkpoints, vkeys, proofs and witness
requests, random or mutated from valid ones, give the module's own error (a message), a
refusal status, or exit 1/2 from the CLI; never another exception or a traceback."""
from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from golive.ledger.checkpoint import CheckpointError, TreeCheckpoint
from golive.ledger.keys import Signer
from golive.ledger.note import NoteError, TreeHead, parse_checkpoint, parse_vkey, vkey
from golive.ledger.proofs import ProofError, verify_consistency_json, verify_inclusion_text
from golive.ledger.tlog import MemoryTree
from golive.ledger.witness import Witness
from tlogcli import invoke

LOG = Signer.generate()
ORIGIN = "example.test/log"
TREE = MemoryTree(bytes.fromhex(f"{i:064x}") for i in range(20))
CHECKPOINT = str(TreeHead(ORIGIN, 20, TREE.root()).signed(ORIGIN, LOG))
PROOF = ("c2sp.org/tlog-proof@v1\nindex 7\n" + "".join(base64.b64encode(h).decode() + "\n"
                                                       for h in TREE.inclusion_proof(7)) + "\n" + CHECKPOINT)
KEYS = [(None, LOG.public_raw)]
LEAF_7 = f"{7:064x}"
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=400)


def mutate(text: str, data) -> str:  # noqa: ANN001 -- hypothesis data
    at = data.draw(st.integers(0, len(text)))
    kind = data.draw(st.sampled_from(["insert", "delete", "replace"]))
    piece = data.draw(st.sampled_from(["\n", " ", "+", "=", "0", "A", "\u2014", "\x00", "old 3\n", "\n\n", "9" * 30]))
    if kind == "insert":
        return text[:at] + piece + text[at:]
    if kind == "delete":
        return text[:at] + text[at + data.draw(st.integers(1, 20)):]
    return text[:at] + piece + text[at + len(piece):]


def test_the_valid_inputs_are_accepted():
    assert parse_checkpoint(CHECKPOINT)[0].size == 20
    proven = verify_inclusion_text(PROOF, KEYS, leaf_entry_hash=LEAF_7)  # no extra line: the caller names the leaf
    assert (proven.size, proven.root) == (20, TREE.root())
    with pytest.raises(ProofError, match="does not lead to the root"):
        verify_inclusion_text(PROOF, KEYS, leaf_entry_hash=f"{8:064x}")
    assert parse_vkey(vkey(ORIGIN, LOG.public_raw)) == (ORIGIN, LOG.public_raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts)
def test_random_text_is_refused_with_a_message(text):
    for parse, error in ((parse_checkpoint, NoteError), (parse_vkey, NoteError),
                         (lambda t: TreeCheckpoint.parse_text(t), CheckpointError)):
        try:
            parse(text)
        except error as exc:
            assert str(exc)
    for check in (lambda t: verify_inclusion_text(t, KEYS), lambda t: verify_consistency_json(t, KEYS)):
        with pytest.raises(ProofError):
            check(text)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_checkpoints_and_proofs_fail_cleanly(data):
    text = mutate(data.draw(st.sampled_from([CHECKPOINT, PROOF])), data)
    try:
        head, note = parse_checkpoint(text)
        note.verified_by([(ORIGIN, LOG.public_raw)])
    except NoteError:
        pass
    try:
        verify_inclusion_text(text, KEYS, leaf_entry_hash=LEAF_7)
    except ProofError:
        pass


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_witness_answers_every_request_with_a_status(tmp_path_factory, data):
    w = Witness("witness.test/w", Signer.generate(), {ORIGIN: [LOG.public_raw]},
                tmp_path_factory.mktemp("w") / "state.json")
    body = data.draw(st.one_of(texts, st.just("old 0\n\n" + CHECKPOINT).map(lambda t: mutate(t, data))))
    status, ctype, answer = w.add_checkpoint(body)
    assert status in (200, 400, 403, 404, 409, 422) and answer.endswith("\n")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_verify_proof_cli_never_shows_a_traceback(tmp_path, data):
    path = tmp_path / "proof"
    path.write_bytes(data.draw(st.one_of(st.binary(max_size=300),
                                         st.just(PROOF).map(lambda t: mutate(t, data).encode("utf-8", "replace")))))
    result = invoke("evidence", "verify-proof", path, "--trusted-key", vkey(ORIGIN, LOG.public_raw),
                    catch_exceptions=True)
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
