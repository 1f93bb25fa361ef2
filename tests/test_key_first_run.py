"""The first recorded run creates the store's signing key: with GOLIVE_KEY_PASSPHRASE set (a CI
secret) that key is encrypted with it, and the run's document says so."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from golive.cli import cli

WORKSPACE = Path(__file__).parent / "fixtures" / "reference-workspace"


def run(store: Path, out: Path, env: dict) -> object:
    return CliRunner().invoke(cli, ["run", "--target", str(WORKSPACE), "--store", str(store), "--only", "PRE-PIPE-01",
                                    "-q", "--json", str(out)], env=env)


def test_a_first_run_with_the_variable_set_creates_an_encrypted_key(tmp_path):
    store = tmp_path / "evidence"
    res = run(store, tmp_path / "r.json", {"GOLIVE_KEY_PASSPHRASE": "ci-secret"})
    assert res.exit_code in (0, 1), res.output
    [key] = (store / "keys").glob("*.key")
    assert key.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert json.loads((tmp_path / "r.json").read_text())["run"]["ledger"]["key_protection"] == "passphrase"
    again = run(store, tmp_path / "r2.json", {"GOLIVE_KEY_PASSPHRASE": ""})
    assert again.exit_code == 2 and "is encrypted: give its passphrase" in again.output


def test_without_the_variable_the_first_key_is_plain_and_flagged(tmp_path, monkeypatch):
    monkeypatch.delenv("GOLIVE_KEY_PASSPHRASE", raising=False)
    res = run(tmp_path / "evidence", tmp_path / "r.json", {})
    assert res.exit_code in (0, 1), res.output
    assert json.loads((tmp_path / "r.json").read_text())["run"]["ledger"]["key_protected"] is False
