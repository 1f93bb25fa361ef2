"""The session-wide guard of tests/conftest.py: after a CLI command, a person's private key under
a store the command touched fails the test at once; golive's own ledger key does not."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from golive.cli import cli

from people import enrol, public_key_of
from store_guard import PrivateKeyInStore, StoreGuard, stores_named


def invoke(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


def test_a_store_with_only_golives_own_key_and_registered_people_is_clean(tmp_path):
    store = tmp_path / "store"
    enrol(invoke, "Gina Guard", "--store", store)  # the guard scans after each command, too
    assert any(p.suffix == ".key" for p in (store / "keys").iterdir())  # the ledger's signing key
    assert StoreGuard().leaks(store) == []


@pytest.mark.parametrize("where", ["people/gina.key", "keys/{id}.key", "objects/ab/cdef"])
def test_a_persons_private_key_under_the_store_fails_the_command_that_left_it(tmp_path, where):
    store = tmp_path / "store"
    enrol(invoke, "Gina Guard", "--store", store)
    private = public_key_of(invoke, "Gina Guard").with_suffix(".key")
    from golive.ledger import Store
    from golive.ledger.people import select_person
    planted = store / where.format(id=select_person(Store(store), "Gina Guard")[0])
    planted.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(private, planted)
    with pytest.raises(PrivateKeyInStore, match=f"{planted.relative_to(store)}"):
        invoke("keys", "list", "--store", store)


def test_a_store_named_by_the_environment_is_scanned(tmp_path):
    store = Path(os.environ["GOLIVE_STORE"])  # tests/conftest.py gives every test its own
    with pytest.raises(PrivateKeyInStore, match="people/"):
        invoke("keys", "person-init", "--name", "Gina Guard", "--out", store / "people")
    other = tmp_path / "other"
    other.mkdir()
    assert stores_named(["evidence", "show", f"--store={other}"], {"GOLIVE_STORE": None})[0] == other


def test_a_clean_file_is_not_read_again_until_it_changes(tmp_path):
    store = tmp_path / "store"
    (store / "objects").mkdir(parents=True)
    (store / "objects" / "blob").write_bytes(b"evidence")
    guard = StoreGuard()
    assert guard.leaks(store) == [] and guard.scanned_files == 1
    assert guard.leaks(store) == [] and guard.scanned_files == 1
    (store / "objects" / "blob").write_bytes(b"-----BEGIN OPENSSH PRIVATE KEY-----\n")
    assert guard.leaks(store) == [store / "objects" / "blob"] and guard.scanned_files == 2
