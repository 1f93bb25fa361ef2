"""Nothing outside the target is read or copied through a symbolic link (issue 15, point 7).

Real links in a temporary workspace: ``config/evil.yaml -> <outside>/shadow`` and
``records/fills.csv -> <outside>/fills.csv`` are refused with a finding naming the link and
its destination, the run goes on, and not one byte of the outside files lands in the store's
``objects/``. A link that stays inside the workspace is followed as before.
"""
from __future__ import annotations

import json
import logging

import pytest

from golive import hookimpl
from golive.digest import file_sha256
from golive.ledger import LedgerRecorder, Store, attach, default_signer, verify_store
from golive.ledger.simulate import make_outcome, run_header
from golive.ledger.store import payload_bytes
from golive.model import Artifact, CheckContext, CheckResult, CheckSpec, Status
from golive.plugins.algorithm import mbo_tape
from golive.plugins.config_security import configfiles, secret_scan
from golive.plugins.feed import quality_check
from golive.plugins.monitoring import opslog
from golive.plugins.traceability import mapfile
from golive.plugins.records import reader as records_reader
from golive.run.runner import RunOptions, run_plan
from golive.run.target import OutsideTarget, TargetError, confined, inside_only, load_target, outside_links

from enginehelpers import make_host, make_plan, req

SHADOW = "root:$6$saltsalt$NOT-A-REAL-HASH-but-outside-the-target:19000:0:99999:7:::\n"
FILLS = "fill_id,ts,symbol,qty,price\nOUTSIDE-1,2026-01-02T14:30:00Z,ESZ5,1,5000.25\n"


@pytest.fixture()
def workspace(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shadow").write_text(SHADOW)
    (outside / "fills.csv").write_text(FILLS)
    ws = tmp_path / "ws"
    for folder in ("config", "records"):
        (ws / folder).mkdir(parents=True)
    (ws / "config" / "production.yaml").write_text("dataset: GLBX.MDP3\n")
    (ws / "config" / "alias.yaml").symlink_to("production.yaml")  # inside: fine
    (ws / "config" / "evil.yaml").symlink_to(outside / "shadow")
    (ws / "records" / "fills.csv").symlink_to(outside / "fills.csv")
    (ws / "config" / "up.yaml").symlink_to("../../outside/shadow")  # relative, still outside
    return load_target(ws), outside


def objects_bytes(store_path) -> bytes:
    return b"".join(p.read_bytes() for p in (store_path / "objects").rglob("*") if p.is_file())


def test_confined_follows_links_inside_and_refuses_links_outside(workspace):
    target, outside = workspace
    assert confined(target.root, "config/alias.yaml") == target.root / "config" / "production.yaml"
    for rel, dest in (("config/evil.yaml", "shadow"), ("records/fills.csv", "fills.csv"), ("config/up.yaml", "shadow")):
        with pytest.raises(OutsideTarget) as refused:
            confined(target.root, rel)
        message = str(refused.value)
        assert rel in message and str(outside / dest) in message and "symbolic link" in message
    with pytest.raises(OutsideTarget, match="resolves to"):
        confined(target.root, outside / "shadow")  # an absolute path elsewhere, no link
    assert outside_links(target.root) == [
        {"path": "config/evil.yaml", "to": str(outside / "shadow")},
        {"path": "config/up.yaml", "to": str(outside / "shadow")},
        {"path": "records/fills.csv", "to": str(outside / "fills.csv")}]


def test_recorder_refuses_to_copy_an_artifact_that_leads_outside(workspace, tmp_path):
    """Even an artifact recorded by a check that did not use record_artifact (its digest
    computed by hand) is not copied."""
    target, outside = workspace
    store = Store(tmp_path / "evidence")
    recorder = LedgerRecorder(store, default_signer(store, announce=lambda m: None))
    run = run_header(target.root)
    recorder.golive_run_started(run=run)
    outcome = make_outcome(0, [Artifact("config/evil.yaml", file_sha256(outside / "shadow")),
                               Artifact("config/production.yaml", file_sha256(target.root / "config" / "production.yaml"))])
    recorder.golive_result(outcome=outcome, run=run)
    recorder.golive_run_finished(run=run, outcomes=[outcome])

    kept = objects_bytes(store.path)
    assert b"GLBX.MDP3" in kept and b"NOT-A-REAL-HASH" not in kept
    with store.read() as conn:
        payloads = {kind: json.loads(payload_bytes(p)) for kind, p in conn.exec_driver_sql(
            "SELECT kind, payload FROM ledger_entries WHERE kind IN ('run-started', 'result')")}
    refused = next(b for b in payloads["result"]["blobs"] if b["path"] == "config/evil.yaml")
    assert refused["blob"] is None and "symbolic link to" in refused["note"] and "outside the target" in refused["note"]
    assert {"path": "config/evil.yaml", "to": str(outside / "shadow")} in payloads["run-started"]["outside_links"]
    store.close()
    assert verify_store(Store(store.path)).ok


class ReadsThroughTheTarget:
    """Checks that read target files the way golive's readers do: record, then read."""

    @hookimpl
    def golive_checks(self):
        def read(requirement, ctx):
            path = ctx.params["path"]
            ctx.record_artifact(path)
            text = (ctx.target.root / path).read_text()
            return CheckResult(status=Status.PASS, message=f"{len(text)} bytes", metrics={"bytes": len(text)})
        return [CheckSpec("files", "read", read, metrics=("bytes",))]


def test_a_run_refuses_outside_links_with_a_finding_and_goes_on(workspace, tmp_path):
    target, outside = workspace
    host = make_host(ReadsThroughTheTarget())
    recorder = attach(host, tmp_path / "evidence")
    plan = make_plan([req("R-EVIL", check=("files", "read"), params={"path": "config/evil.yaml"}),
                      req("R-FILLS", check=("files", "read"), params={"path": "records/fills.csv"}),
                      req("R-ALIAS", check=("files", "read"), params={"path": "config/alias.yaml"}),
                      req("R-OK", check=("files", "read"), params={"path": "config/production.yaml"})])
    report = run_plan(plan, target, host, RunOptions(jobs=1))

    by_id = {o.requirement.id: o for o in report.outcomes}
    for rid, rel, dest in (("R-EVIL", "config/evil.yaml", "shadow"), ("R-FILLS", "records/fills.csv", "fills.csv")):
        o = by_id[rid]
        assert o.status == Status.ERROR and o.artifacts == []
        assert rel in o.reason and str(outside / dest) in o.reason and "outside the target" in o.reason
    assert by_id["R-ALIAS"].status == by_id["R-OK"].status == Status.PASS  # the run went on
    assert [a.path for a in by_id["R-ALIAS"].artifacts] == ["config/production.yaml"]
    assert any("config/evil.yaml is a symbolic link to" in w for w in report.warnings)

    kept = objects_bytes(recorder.store.path)
    assert b"GLBX.MDP3" in kept
    assert b"NOT-A-REAL-HASH" not in kept and b"OUTSIDE-1" not in kept
    assert verify_store(Store(recorder.store.path)).ok


def test_the_records_reader_refuses_fills_linked_outside(workspace):
    """records/fills.csv linked outside the target used to be read silently."""
    target, outside = workspace
    ctx = CheckContext(target=target, params={}, settings={}, log=logging.getLogger("test"))
    with pytest.raises(OutsideTarget, match="records/fills.csv is a symbolic link to .*fills.csv"):
        records_reader.load(ctx, "fills", need=["fill_id"])
    assert ctx.artifacts == []


def test_config_checks_go_on_without_the_outside_link(workspace):
    target, _ = workspace
    listed = [p.name for p in configfiles.config_files(target.root, "config/**/*")]
    assert listed == ["alias.yaml", "production.yaml"]


def test_a_golive_toml_linked_outside_is_refused(tmp_path):
    (tmp_path / "outside.toml").write_text('[paths]\nrecords = "records"\n')
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "golive.toml").symlink_to(tmp_path / "outside.toml")
    with pytest.raises(TargetError, match="golive.toml is a symbolic link to .*outside.toml, outside the target"):
        load_target(tmp_path / "ws")


def test_every_listing_point_leaves_outside_links_out(workspace):
    """The readers that list or locate target files themselves: logs/ops inputs, the links
    map, the secret scan, market data (feed quality, market stress, MBO tapes) and .env."""
    target, outside = workspace
    root = target.root
    (outside / "day.dbn.zst").write_bytes(b"DBN-OUTSIDE")
    (root / "data").mkdir()
    (root / "data" / "day.dbn.zst").symlink_to(outside / "day.dbn.zst")
    (root / "logs").mkdir()
    (root / "logs" / "backups.jsonl").symlink_to(outside / "shadow")
    (root / "golive-links.yaml").symlink_to(outside / "shadow")
    ctx = CheckContext(target=target, params={}, settings={}, log=logging.getLogger("test"))

    with pytest.raises(OutsideTarget, match="logs/backups.jsonl is a symbolic link"):
        opslog.input_path(ctx, "backups", "logs/backups.jsonl")
    assert "golive-links.yaml is a symbolic link" in mapfile.load(root / "golive-links.yaml", root).problems[0]
    scanned, _ = secret_scan.candidate_files(root)
    assert "config/production.yaml" in scanned
    assert not {"config/evil.yaml", "config/up.yaml", "records/fills.csv", "golive-links.yaml"} & set(scanned)
    assert quality_check.find_files(ctx) == [] and mbo_tape.dbn_files(root / "data") != []
    assert inside_only(root, mbo_tape.dbn_files(root / "data")) == []


def test_a_link_loop_in_the_target_is_no_crash(tmp_path):
    from golive.run.target import outside_links

    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    (tmp_path / "out").symlink_to("/etc/hostname")
    assert [f["path"] for f in outside_links(tmp_path)] == ["out"]
