"""The evidence store belongs outside the audited workspace (issue 16.4): a bare `golive run` in
the target folder would create ./evidence inside it, where the team could edit the evidence and
golive's own secret scan flagged the store's signing key. Refused unless asked for; golive's own
store is never scanned as the team's files."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from golive.cli import cli

WORKSPACE = Path(__file__).parent / "fixtures" / "reference-workspace"


def invoke(*args, **kw):
    return CliRunner().invoke(cli, [str(a) for a in args], **kw)


@pytest.fixture()
def ws(tmp_path, monkeypatch):
    """A copy of the workspace as the current folder, with no store chosen by the environment."""
    path = tmp_path / "ws"
    shutil.copytree(WORKSPACE, path)
    monkeypatch.chdir(path)
    monkeypatch.delenv("GOLIVE_STORE", raising=False)
    monkeypatch.delenv("GOLIVE_DB", raising=False)
    return path


def test_a_store_inside_the_target_is_refused_with_what_to_do(tmp_path, ws):
    res = invoke("run", "--only", "PRE-CONF-05", "-q")
    assert res.exit_code == 2 and "is inside the audited workspace" in res.output
    assert "--store" in res.output and "--store-inside-target" in res.output
    assert not (ws / "evidence").exists()  # refused before anything was created
    outside = invoke("run", "--only", "PRE-CONF-05", "-q", "--store", tmp_path / "evidence")
    assert outside.exit_code in (0, 1), outside.output


def test_an_accepted_store_inside_is_left_out_of_the_secret_scan(tmp_path, ws):
    for _ in range(2):  # the second run scans a workspace that now holds the store and its key
        res = invoke("run", "--only", "PRE-CONF-05", "-q", "--store-inside-target", "--json", tmp_path / "r.json")
        assert res.exit_code in (0, 1), res.output
    assert (ws / "evidence" / "keys").is_dir()
    (result,) = json.loads((tmp_path / "r.json").read_text())["results"]
    text = json.dumps(result)
    assert "evidence/keys" not in text and "golive evidence store(s) left out: evidence" in text
    assert "no plaintext key found" in result["reason"]  # the store's PEM key is not the team's leak
