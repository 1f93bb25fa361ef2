"""`golive evidence verify` reports a person's signature made after the key's ``valid_until`` day
or after its revocation: a finding naming the entry, the key and its person, exit 1. The CLI
refuses to sign with such a key, so the forged entries here are appended the way someone holding
the key file would: straight into the ledger, bypassing golive's checks."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from golive.cli import cli
from golive.ledger import Store
from golive.ledger.chain import NO_RUN, Ledger
from golive.ledger.keyring import utc_now
from golive.ledger.people import load_person_key, select_person

from people import PASSPHRASE, public_key_of


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _register(store, name: str, *extra) -> tuple[str, object]:
    pub = public_key_of(invoke, name)
    res = invoke("keys", "add-person", name, "--role", "risk", "--public-key", pub, "--store", store, *extra)
    assert res.exit_code == 0, res.output
    key_id, _info = select_person(Store(store), name)
    return key_id, load_person_key(pub.with_suffix(".key"), PASSPHRASE)


def _forge(store, kind: str, signer, payload: dict) -> int:
    """Append an authored entry signed by ``signer`` without golive's validity checks."""
    body = {**payload, "author_key_id": signer.key_id, "time": payload.get("time") or utc_now()}
    return Ledger(Store(store)).append(NO_RUN, kind, body, [(signer, "author")]).seq


@pytest.fixture()
def store(tmp_path):
    return tmp_path / "store"


def test_a_signature_after_the_keys_validity_is_a_finding(store):
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    key_id, signer = _register(store, "Vera Expired", "--valid-until", yesterday)
    assert invoke("evidence", "verify", "--store", store).exit_code == 0  # registering is no finding
    seq = _forge(store, "attestation", signer, {"requirement_id": "AUD-07", "statement": "signed late"})
    res = invoke("evidence", "verify", "--store", store)
    assert res.exit_code == 1, res.output
    assert f"entry {seq}: attestation signed on {date.today().isoformat()} by key {key_id[:16]} of Vera Expired, " \
           f"which was valid until {yesterday}" in res.output
    as_json = invoke("evidence", "verify", "--store", store, "--json")
    problem, = json.loads(as_json.output)["problems"]
    assert as_json.exit_code == 1 and problem["seq"] == seq and key_id[:16] in problem["message"]


def test_a_backdated_time_does_not_hide_a_late_signature(store):
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    _key_id, signer = _register(store, "Bert Backdate", "--valid-until", yesterday)
    # the entry claims to be signed long ago, but it comes after the key entry recorded today
    seq = _forge(store, "waiver", signer, {"requirement_id": "AUD-07", "justification": "x",
                                           "expires": yesterday, "time": "2020-01-01T00:00:00.000000Z"})
    res = invoke("evidence", "verify", "--store", store)
    assert res.exit_code == 1 and f"entry {seq}: waiver signed on {date.today().isoformat()}" in res.output


def test_a_signature_within_the_validity_verifies(store):
    later = (date.today() + timedelta(days=30)).isoformat()
    _key_id, signer = _register(store, "Val Valid", "--valid-until", later)
    _forge(store, "attestation", signer, {"requirement_id": "AUD-07", "statement": "in time"})
    res = invoke("evidence", "verify", "--store", store)
    assert res.exit_code == 0, res.output


def test_a_signature_after_revocation_names_the_key_the_person_and_the_revocation(store):
    key_id, signer = _register(store, "Rex Revoked")
    res = invoke("keys", "revoke", key_id[:12], "--reason", "left the firm", "--store", store)
    assert res.exit_code == 0, res.output
    revoked_at = int(res.output.split("as entry ")[1].split()[0])
    seq = _forge(store, "attestation", signer, {"requirement_id": "AUD-07", "statement": "after leaving"})
    res = invoke("evidence", "verify", "--store", store)
    assert res.exit_code == 1
    assert (f"entry {seq}: signed by key {key_id[:16]} of Rex Revoked, which was revoked before this entry "
            f"(key entry {revoked_at})") in res.output
