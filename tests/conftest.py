"""Shared test setup: every test gets its own evidence store, so no test writes ./evidence."""
import pytest


@pytest.fixture(autouse=True)
def isolated_evidence_store(tmp_path_factory, monkeypatch):
    store = tmp_path_factory.mktemp("evidence")
    monkeypatch.setenv("GOLIVE_STORE", str(store))
    monkeypatch.delenv("GOLIVE_DB", raising=False)
    return store
