"""The demo's in-process witnesses (golive.demo_witnesses) without building the demo: they
serve on loopback while open, trust exactly the logs configured, write the store's
golive-store.toml, and are gone once closed; when they cannot start, the demo runs unwitnessed.
(test_report_bundle.py checks a whole demo run is cosigned by both.)"""
from __future__ import annotations

import stat
import threading

import pytest

from golive.demo_witnesses import NAMES, DemoWitnesses
from golive.ledger.chain import first_entry_hash, log_origin
from golive.ledger.store import open_store
from golive.ledger.witness import WitnessError, latest_checkpoint
from golive.ledger.witnessing import load_store_config


def _demo_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("demo witness")]


def test_witnesses_trust_the_configured_store_and_stop_on_close(tmp_path):
    store_dir = tmp_path / "evidence"
    with DemoWitnesses(tmp_path / "witnesses") as witnesses:
        assert witnesses.problem is None and len(_demo_threads()) == 2
        vkeys = witnesses.configure(store_dir)
        urls = [w.url for w in witnesses.running]
        store = open_store(store_dir)
        with store.read() as conn:  # configuring created the store's key: its first entry names the log
            origin = log_origin(first_entry_hash(conn))
        store.close()
        for running in witnesses.running:  # each answers, trusts the log, has cosigned nothing of it yet
            assert latest_checkpoint(running.url, origin) is None
            assert "nothing cosigned yet" in running.witness.latest(origin)[2]
            assert running.witness.latest("golive.invalid/ledger/" + "0" * 32)[:3:2] == (404, "unknown log "
                                                                                          "golive.invalid/ledger/" + "0" * 32 + "\n")
    config = load_store_config(store_dir)
    assert [(w.name, w.vkey, w.url) for w in config.witnesses] == list(zip(NAMES, vkeys, urls))
    assert config.min_witnesses == 2 and config.tsa_url is None
    for n in (1, 2):
        assert stat.S_IMODE((tmp_path / "witnesses" / f"witness-{n}.key").stat().st_mode) == 0o600
    assert not _demo_threads()
    for url in urls:  # closed: a run now only warns that the witness cannot be reached
        with pytest.raises(WitnessError) as gone:
            latest_checkpoint(url, origin, timeout=2)
        assert gone.value.status == 0 and "cannot be reached" in str(gone.value)


def test_witnesses_that_cannot_start_leave_the_demo_unwitnessed(tmp_path):
    folder = tmp_path / "witnesses"
    folder.mkdir()
    (folder / "witness-1.key").write_text("not ours\n")  # a witness keeps its key: never overwritten
    with DemoWitnesses(folder) as witnesses:
        assert witnesses.problem and "could not start" in witnesses.problem
        assert witnesses.configure(tmp_path / "evidence") == []
    assert not (tmp_path / "evidence" / "golive-store.toml").exists()
    assert not _demo_threads()
    assert (folder / "witness-1.key").read_text() == "not ours\n"
