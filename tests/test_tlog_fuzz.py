"""Bad input to the transparency-log readers: notes, checkpoints, vkeys, proofs and witness
requests, random or mutated from valid ones, give the module's own error (a message), a
refusal status, or exit 1/2 from the CLI; never another exception or a traceback.

The offline checkers' files too (part of the CLI input fuzzing of tests/test_fuzz_cli_inputs.py,
with its mutations): a proof bundle (``verify-bundle``) and an audit trail (``verify-trail``)
mangled, and ``verify-report`` given files that are no PDF or a PDF without attachments. A
file that is not such a document is exit 2 naming the file (nothing was checked); a document
that fails its checks is exit 1 (tampering)."""
from __future__ import annotations

import base64
import io
import json
import random
from pathlib import Path

import pypdf
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from golive.ledger.checkpoint import CheckpointError, TreeCheckpoint
from golive.ledger.keys import Signer
from golive.ledger.note import NoteError, TreeHead, parse_checkpoint, parse_vkey, vkey
from golive.ledger.proofs import ProofError, verify_consistency_json, verify_inclusion_text
from golive.ledger.tlog import MemoryTree
from golive.ledger.witness import Witness
from test_fuzz_cli_inputs import FUZZ, check_outcome, mutate as mutate_file, mutations, write
from test_tlog_witness import log_vkey, make_store
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
    status, _, answer = w.latest(data.draw(st.one_of(texts, st.just(ORIGIN))))  # GET .../logs/<origin>/checkpoint
    assert status in (200, 404) and answer.endswith("\n")


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


@pytest.fixture(scope="module")
def proof_files(tmp_path_factory):
    """A store's run bundle and an entry's audit trail (both verify), with the log's vkey."""
    base = tmp_path_factory.mktemp("proofs")
    store = make_store(base / "log", runs=(3,))
    run_id = json.loads(invoke("evidence", "show", "--store", store, "--json").output)[0]["id"]
    bundle, trail = base / "run.bundle.json", base / "entry3.trail.json"
    assert invoke("evidence", "bundle", run_id, "--store", store, "-o", bundle).exit_code == 0
    made = invoke("evidence", "export", "--record", 3, "--with-trail", "-o", trail, "--store", store)
    assert made.exit_code == 0, made.output
    return {"verify-bundle": bundle.read_text(), "verify-trail": trail.read_text(), "vkey": log_vkey(store)}


@given(st.sampled_from(["verify-bundle", "verify-trail"]), mutations)
@FUZZ
@example("verify-bundle", ("deep", 0, None))
@example("verify-trail", ("deep", 1, None))
@example("verify-trail", ("retype", 3, "zero"))
def test_mangled_bundles_and_trails_fail_with_a_message(tmp_path, proof_files, command, mutation):
    how, seed, value = mutation
    path = write(tmp_path / "mangled.json", mutate_file(proof_files[command], "json", how, random.Random(seed), value))
    result = invoke("evidence", command, path, "--trusted-key", proof_files["vkey"], catch_exceptions=True)
    check_outcome(result, path, allowed=(0, 1, 2))
    if how == "deep":
        assert result.exit_code == 2  # never "tampered" for a file that is no document
    if result.exit_code == 0 and result.output != _verified_output(tmp_path, proof_files, command):
        # a document is as complete as its maker made it (docs/retention.md): leaving entries out
        # is the one change that verifies and shows less; nothing it holds may differ
        given, made = json.loads(path.read_text()), json.loads(proof_files[command])
        assert all(e in made["entries"] for e in given["entries"]), (mutation, result.output)
        assert {k: v for k, v in given.items() if k != "entries"} == {k: v for k, v in made.items() if k != "entries"}


def _verified_output(tmp_path: Path, proof_files: dict, command: str) -> str:
    original = write(tmp_path / "original.json", proof_files[command])
    return invoke("evidence", command, original, "--trusted-key", proof_files["vkey"]).output


def _blank_pdf(path: Path) -> Path:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize("command, content, expected", [
    ("verify-bundle", "garbage \x00\xff", "not a golive-proof-bundle/v1 document"),
    ("verify-bundle", "{}", "not a golive-proof-bundle/v1 document"),
    ("verify-bundle", "[1, 2]", "not a golive-proof-bundle/v1 document"),
    ("verify-bundle", "verify-trail", "not a golive-proof-bundle/v1 document"),  # a trail is not a bundle
    ("verify-trail", b"\x89PNG\r\n\x1a\n\x00\xff", "not JSON"),
    ("verify-trail", '{"format": "golive-audit-trail/v1"}', "record, entries or checkpoint missing"),
    ("verify-trail", "verify-bundle", "format is 'golive-proof-bundle/v1'"),
    ("verify-report", '{"format": "golive-proof-bundle/v1"}', "cannot read the PDF"),
    ("verify-report", b"%PDF-1.7\n" + bytes(range(256)), "cannot read the PDF"),
])
def test_a_file_that_is_not_the_document_is_exit_2_naming_it(tmp_path, proof_files, command, content, expected):
    content = proof_files.get(content, content)
    path = tmp_path / "given.file"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape"))
    result = invoke("evidence", command, path, "--trusted-key", proof_files["vkey"], catch_exceptions=True)
    check_outcome(result, path, allowed=(2,))
    assert expected in result.output.replace("\n", ""), result.output


def test_a_pdf_without_attachments_is_exit_2(tmp_path, proof_files):
    pdf = _blank_pdf(tmp_path / "plain.pdf")
    result = invoke("evidence", "verify-report", pdf, "--trusted-key", proof_files["vkey"], catch_exceptions=True)
    check_outcome(result, pdf, allowed=(2,))
    assert "the PDF has no attachments, so it is not a golive report" in result.output.replace("\n", "")


@given(mutations)
@FUZZ
@example(("truncate", 1, None))
@example(("flip", 2, None))
def test_a_mangled_pdf_never_shows_a_traceback(tmp_path, proof_files, mutation):
    how, seed, _value = mutation
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_attachment("golive-proof-bundle.json", proof_files["verify-bundle"].encode())
    buffer = io.BytesIO()
    writer.write(buffer)
    raw, rnd = bytearray(buffer.getvalue()), random.Random(seed)
    if how == "truncate":
        raw = raw[: rnd.randrange(len(raw))]
    else:
        for _ in range(rnd.randint(1, 8)):
            raw[rnd.randrange(len(raw))] ^= 1 << rnd.randrange(8)
    pdf = tmp_path / "mangled.pdf"
    pdf.write_bytes(bytes(raw))
    result = invoke("evidence", "verify-report", pdf, "--trusted-key", proof_files["vkey"], catch_exceptions=True)
    check_outcome(result, pdf, allowed=(1, 2))
