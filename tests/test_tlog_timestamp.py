"""Trusted time (RFC 3161, through rfc3161-client): a local time-stamping authority built from
Debian's `openssl ts` behind a loopback HTTP handler (tests/local_tsa.py) stamps the log's
checkpoint; the token verifies offline against the TSA's certificate (with its CA) and fails
for another tree head, another certificate, another authority with the same names and serial,
a changed or replayed token, and a TSA certificate given without the CA it chains to."""
from __future__ import annotations

import pytest

from golive.ledger import LedgerRecorder, Store, default_signer
from golive.ledger.note import parse_checkpoint
from golive.ledger.simulate import record_run
from golive.ledger.timestamp import TimestampError, request_token, token_fields, verify_token
from local_tsa import LocalTsa, make_tsa, serve
from tlogcli import invoke

NOTE = b"golive.invalid/ledger/x\n5\nAAAA\n"


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    """A TSA on loopback: (url, the TSA certificate followed by its CA's (PEM), the CA
    certificate alone, which is not the TSA's)."""
    local = make_tsa(tmp_path_factory.mktemp("tsa"))
    with serve(local) as url:
        yield url, local.chain.read_bytes(), local.ca_cert.read_bytes()


@pytest.fixture(scope="module")
def impostor(tmp_path_factory):
    """Another authority: same CA and TSA names, same TSA certificate serial, other keys."""
    local = make_tsa(tmp_path_factory.mktemp("impostor"))
    with serve(local) as url:
        yield url, local


def test_a_token_verifies_for_its_data_and_certificate_only(tsa):
    url, chain, ca_cert = tsa
    token = request_token(url, NOTE)
    stamp = verify_token(token, NOTE, chain)
    assert stamp.issuer == "CN=golive test TSA" and stamp.policy == "1.3.6.1.4.1.99999.1"
    assert token_fields(token) == (stamp.time.isoformat(), "CN=golive test TSA")
    with pytest.raises(TimestampError, match="other data"):
        verify_token(token, b"golive.invalid/ledger/x\n6\nAAAA\n", chain)
    with pytest.raises(TimestampError, match="not signed by the trusted TSA"):
        verify_token(token, NOTE, ca_cert)
    changed = bytearray(token)
    changed[-3] ^= 0x01  # inside the RSA signature, the last field of the SignerInfo
    with pytest.raises(TimestampError, match="does not verify"):
        verify_token(bytes(changed), NOTE, chain)
    with pytest.raises(TimestampError, match="not an RFC 3161"):
        verify_token(b"\x30\x03\x02\x01\x00" + token[:40], b"x", chain)
    with pytest.raises(TimestampError, match="not a PEM"):
        verify_token(token, NOTE, b"not a certificate")
    with pytest.raises(TimestampError, match="cannot be reached"):
        request_token("http://127.0.0.1:9/none", b"x", timeout=2)


def test_a_replayed_response_is_refused_by_its_nonce(tsa, tmp_path):
    url, chain, _ca = tsa
    old = request_token(url, NOTE)
    with serve(LocalTsa(tmp_path), replay=old) as replaying:
        with pytest.raises(TimestampError, match="answered another request"):
            request_token(replaying, NOTE)  # same data, a new nonce


def test_the_tsa_certificate_alone_is_refused_with_what_to_add(tsa):
    url, chain, _ca = tsa
    leaf_only = chain[:chain.index(b"-----END CERTIFICATE-----") + 26]
    with pytest.raises(TimestampError, match=r"issued by CN=golive test CA.*append the issuer's certificate"):
        verify_token(request_token(url, NOTE), NOTE, leaf_only)


def test_a_token_from_another_authority_with_the_same_names_is_refused(tsa, impostor):
    url, chain, _ca = tsa
    other_url, other = impostor
    forged = request_token(other_url, NOTE)
    assert verify_token(forged, NOTE, other.chain.read_bytes()).issuer == "CN=golive test TSA"
    with pytest.raises(TimestampError, match="does not verify with the trusted TSA certificate"):
        verify_token(forged, NOTE, chain)  # same issuer name and serial: only the key tells
    # the genuine TSA certificate with the impostor's CA does not chain either
    genuine_leaf = chain[:chain.index(b"-----END CERTIFICATE-----") + 26]
    with pytest.raises(TimestampError, match="does not verify"):
        verify_token(request_token(url, NOTE), NOTE, genuine_leaf + other.ca_cert.read_bytes())


def test_the_log_checkpoint_is_timestamped_and_verified_offline(tmp_path, tsa):
    url, chain, ca_cert = tsa
    store = Store(tmp_path / "evidence")
    record_run(LedgerRecorder(store, default_signer(store, announce=lambda m: None), copy_artifacts=False), 4)
    store.close()
    made = invoke("evidence", "timestamp", "--store", store.path, "--tsa", url)
    assert made.exit_code == 0 and "timestamped the tree at size 7" in made.output, made.output
    checkpoint, token = store.path / "checkpoints" / "7.checkpoint", store.path / "checkpoints" / "7.tsr"
    (tmp_path / "tsa.pem").write_bytes(chain)
    (tmp_path / "ca.crt").write_bytes(ca_cert)
    ok = invoke("evidence", "verify-timestamp", checkpoint, token, "--tsa-cert", tmp_path / "tsa.pem")
    assert ok.exit_code == 0 and "existed at" in ok.output and "CN=golive test TSA" in ok.output
    assert parse_checkpoint(checkpoint.read_text())[0].size == 7
    other_cert = invoke("evidence", "verify-timestamp", checkpoint, token, "--tsa-cert", tmp_path / "ca.crt")
    assert other_cert.exit_code == 1 and "not signed by the trusted TSA certificate" in other_cert.output
    forged = tmp_path / "forged.checkpoint"
    forged.write_text(checkpoint.read_text().replace("\n7\n", "\n6\n"))
    assert invoke("evidence", "verify-timestamp", forged, token, "--tsa-cert", tmp_path / "tsa.pem").exit_code == 1
    # a genuine token of this TSA over other data (another tree head) is not this checkpoint's
    other = tmp_path / "other.tsr"
    other.write_bytes(request_token(url, NOTE))
    refused = invoke("evidence", "verify-timestamp", checkpoint, other, "--tsa-cert", tmp_path / "tsa.pem")
    assert refused.exit_code == 1 and "stamps other data" in refused.output, refused.output
