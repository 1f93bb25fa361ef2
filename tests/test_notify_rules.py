"""The notification rules the issue lists that tests/test_notify.py does not drive through a
run: an attestation expiring within ``expiry_days``, and ``golive evidence verify`` failing.
Against the same real SMTP server (aiosmtpd) and webhook receiver on 127.0.0.1."""
from __future__ import annotations

import json
from datetime import date, timedelta
from types import SimpleNamespace

from sqlalchemy import text

from golive.ledger import LedgerRecorder, Signer, Store, record_key
from golive.ledger.simulate import record_run
from golive.ledger.verify import verify_store
from golive.notify import notify_after_run, notify_after_verify
from golive.plan import load

from people import enrol
from servehelpers import invoke
from test_notify import DASH, HOOK_PASSWORD, _config, _notifications, _text, mail_env, smtp, webhook  # noqa: F401


def test_an_attestation_expiring_within_the_window_is_notified(tmp_path, smtp, webhook, mail_env):  # noqa: F811
    store = Store(tmp_path / "store")  # the CLI creates the ledger key when it enrols Ada
    _config(store.path, smtp, webhook)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    manual = next(r for r in load(None).requirements if r.manual)
    enrol(invoke, "Ada Risk", "--store", str(store.path))
    soon = (date.today() + timedelta(days=3)).isoformat()
    later = (date.today() + timedelta(days=60)).isoformat()
    for expires, note in ((soon, "kill switch drilled"), (later, "drilled again")):
        res = invoke("attest", manual.id, "--by", "Ada Risk", "--statement", note, "--expires", expires,
                     "--target", str(workspace), "--store", str(store.path))
        assert res.exit_code == 0, res.output
    doc = {"run": {"id": "aaaaaaaa-2222-3333-4444-555555555555", "target": str(workspace)}, "results": []}
    mails, hooks = len(smtp.messages), len(webhook.received)
    assert notify_after_run(SimpleNamespace(store=store, head={"size": 1}), doc, [], workspace) == []
    assert len(smtp.messages) == mails + 1 and len(webhook.received) == hooks + 1
    body = _text(smtp.messages[-1])
    assert "Waivers and attestations expiring:" in body
    assert f"attestation for {manual.id}" in body and f"expires on {soon} (in 3 day(s))" in body
    assert later not in body  # outside expiry_days (14)
    assert _notifications(store.path)[-1]["events"] == ["expiring"]
    store.close()


def test_a_failing_verification_is_notified_once_and_recorded(tmp_path, smtp, webhook, mail_env):  # noqa: F811
    store = Store(tmp_path / "store")
    signer = Signer.generate()
    record_key(store, signer)
    record_run(LedgerRecorder(store, signer, copy_artifacts=False), 2)
    _config(store.path, smtp, webhook)
    assert notify_after_verify(store, verify_store(store)) == []  # a clean ledger: nothing to say
    assert _notifications(store.path) == []
    with store.write() as conn:  # someone with database access rewrites a result
        conn.exec_driver_sql("DROP TRIGGER ledger_entries_no_update")
        conn.execute(text("UPDATE ledger_entries SET payload = :p WHERE kind = 'result' AND seq = "
                          "(SELECT min(seq) FROM ledger_entries WHERE kind = 'result')"),
                     {"p": b'{"requirement_id": "SIM-REQ-00000", "status": "pass"}'})
    mails, hooks = len(smtp.messages), len(webhook.received)
    res = invoke("evidence", "verify", "--store", str(store.path))  # the command calls notify_after_verify
    assert res.exit_code == 1 and "FAILED" in res.output and "warning" not in res.output
    report = verify_store(store)
    assert len(smtp.messages) == mails + 1 and len(webhook.received) == hooks + 1
    for sent in (_text(smtp.messages[-1]), json.dumps(webhook.received[-1])):
        assert "Evidence ledger problems" in sent and "golive evidence verify of " in sent
        assert f"found {len(report.problems)} problem(s): entry " in sent and HOOK_PASSWORD not in sent
    assert f"{DASH}/ledger" in _text(smtp.messages[-1])
    recorded = _notifications(store.path)
    assert [n["events"] for n in recorded] == [["ledger"], ["ledger"]]  # one entry per channel
    assert {n["subjects"][0] for n in recorded} == {"ledger:verify"}
    assert notify_after_verify(store, verify_store(store)) == []  # the same day again: deduplicated
    assert len(webhook.received) == hooks + 1
    store.close()


def test_a_co_approved_waiver_expiring_is_one_event():
    """A P1 waiver's co-approval (golive waive --second-to) is a waiver entry of its own; it
    expires with the waiver it approves and must not be announced as a second waiver."""
    from datetime import date

    from golive.notify.events import expiring

    first = {"seq": 5, "requirement_id": "LIVE-SHADOW-01", "expires": "2026-12-10", "approver": "Ada Risk"}
    second = {**first, "seq": 6, "approver": "Bea Compliance", "second_to": 5}
    events = expiring({"waiver": [first, second], "attestation": []}, 14, date(2026, 12, 3))
    assert [e.summary for e in events] == [
        "waiver for LIVE-SHADOW-01 (ledger entry 5) expires on 2026-12-10 (in 7 day(s))"]
