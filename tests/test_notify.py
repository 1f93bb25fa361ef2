"""Notifications (issue 17.4) against a real SMTP server (aiosmtpd) and a real webhook receiver
(http.server), both on 127.0.0.1, after real runs of the demo workspace."""
from __future__ import annotations

import email
import email.policy
import json
import shutil
import socket
import threading
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from sqlalchemy import text

import golive.cli  # noqa: F401 -- loads the CLI first (cli_run imports from it)
from golive import demo as demo_ws
from golive.cli import cli
from golive.cli_run import execute_run
from golive.ledger import Store, record_key, Signer
from golive.ledger.store import payload_bytes
from golive.notify import notify_after_run
from golive.notify.events import Event
from golive.notify.message import compose
from golive.notify.rules import RulesError, load_rules
from golive.notify.send import deliver
from people import enrol
from pg import db_url  # noqa: F401 -- the parametrised back-end fixture

SELECTION = ("RISK-01", "RISK-06", "LIVE-LIMITED-06")  # P1 fail, P1 partial, P2 fail in the degraded demo
HOOK_PASSWORD = "hook-pw-Xq7vLm2"  # in the webhook URL: must never reach the ledger or a message
DASH = "https://golive.example.com"


class _Mailbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 -- aiosmtpd's handler name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def _text(msg) -> str:
    return f"{msg['Subject']}\n{msg.get_body(preferencelist=('plain', 'html')).get_content()}"


@pytest.fixture(scope="module")
def smtp():
    box = _Mailbox()
    with socket.socket() as probe:  # aiosmtpd's start-up check cannot connect to port 0: pick a free one
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture(scope="module")
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(received=received, port=server.server_address[1])
    server.shutdown()


def _config(store: Path, smtp, webhook, extra: str = "") -> None:
    store.mkdir(parents=True, exist_ok=True)
    (store / "golive-store.toml").write_text(f"""
[notify]
dashboard_url = "{DASH}"
expiry_days = 14
{extra}
[[notify.channel]]
name = "ops-mail"
url_env = "GOLIVE_TEST_NOTIFY_MAIL"
events = ["p1-failure", "new-failure", "expiring", "ledger", "misfire"]

[[notify.channel]]
name = "risk-hook"
url = "json://hook:{HOOK_PASSWORD}@127.0.0.1:{webhook.port}/golive"
""", encoding="utf-8")


@pytest.fixture
def mail_env(monkeypatch, smtp):
    monkeypatch.setenv("GOLIVE_TEST_NOTIFY_MAIL", f"mailto://127.0.0.1:{smtp.port}?from=golive@example.com"
                                                  "&to=ops@example.com&mode=insecure")


def _run(ws: Path, store: Path) -> tuple[dict, int]:
    return execute_run(ws, None, SELECTION, 1, None, None, 300.0, quiet=True, store_dir=store,
                       clock=lambda: demo_ws.DEMO_NOW)


def _notifications(store: Path, db: str | None = None) -> list[dict]:
    with Store(store, db).read() as conn:
        rows = conn.execute(text("SELECT run_id, payload FROM ledger_entries WHERE kind = 'notification' ORDER BY seq"))
        return [{**json.loads(payload_bytes(p)), "ledger_run_id": r} for r, p in rows]


def _verify(store: Path, db: str | None = None) -> None:
    where = ["--store", str(store), *(["--db", db] if db else [])]
    res = CliRunner().invoke(cli, ["evidence", "verify", *where], catch_exceptions=False)
    assert res.exit_code == 0, res.output


def test_runs_notify_new_and_p1_failures_once_then_expiring_waivers(tmp_path, smtp, webhook, mail_env):
    ws, store = tmp_path / "workspace", tmp_path / "store"
    _config(store, smtp, webhook)
    demo_ws.build(ws, "healthy", 7)
    doc, _ = _run(ws, store)
    assert not [r for r in doc["results"] if r["status"] in ("fail", "error", "partial")]
    assert smtp.messages == [] and webhook.received == [] and _notifications(store) == []

    shutil.rmtree(ws)
    demo_ws.build(ws, "degraded", 7)  # same target, plan and selection: a comparable run
    doc, code = _run(ws, store)
    assert code == 1 and not [w for w in doc["warnings"] if "notification" in w]
    run_id = doc["run"]["id"]
    assert len(smtp.messages) == 1 and len(webhook.received) == 1
    mail, hook = _text(smtp.messages[0]), webhook.received[0]
    assert hook["title"] in mail and hook["message"].strip() in mail.replace("\r\n", "\n")
    body = hook["message"]
    p1, new = body.split("P1 requirements failing:")[1].split("New failures since the previous run:")
    assert "RISK-01" in p1 and "RISK-06" in p1 and "LIVE-LIMITED-06" not in p1  # a P2 is no P1 failure
    assert all(rid in new for rid in SELECTION)
    assert new.count("(thresholds and reason above)") == 2  # RISK-01 and RISK-06 are detailed under P1
    assert "[OFF] limit_breaches = 1 (threshold == 0)" in body
    assert "[OFF] disk_max = 91.16 % (threshold < 80 %)" in body
    assert "[ok ] cpu_p95 = 36.65 % (threshold < 80 %)" in body
    assert "[OFF] daily_cost_max = 15.8 USD (threshold <= 8 USD)" in body
    assert f"{DASH}/runs/{run_id}/requirements/RISK-01" in body
    assert f"{DASH}/runs/{run_id}/requirements/LIVE-LIMITED-06" in body
    assert f"run {run_id[:8]}, NOT READY" in hook["title"]

    recorded = _notifications(store)
    assert [n["channel"] for n in recorded] == ["ops-mail", "risk-hook"]
    for n in recorded:
        assert n["ledger_run_id"] == "-" and n["run_id"] == run_id and n["outcome"] == "sent" and n["events"] == ["new-failure", "p1-failure"]
        assert n["requirements"] == sorted(SELECTION)
        assert HOOK_PASSWORD not in json.dumps(n) and "127.0.0.1" not in json.dumps(n)
    _verify(store)

    doc, _ = _run(ws, store)  # the same failures again: nothing new goes out, nothing is recorded
    assert len(smtp.messages) == 1 and len(webhook.received) == 1 and len(_notifications(store)) == 2

    enrol(lambda *a, **k: CliRunner().invoke(cli, list(a), catch_exceptions=False, **k), "Ada Risk",
          "--store", str(store))
    soon = (date.today() + timedelta(days=5)).isoformat()
    res = CliRunner().invoke(cli, ["waive", "LIVE-LIMITED-06", "--approver", "Ada Risk", "--reason",
                                   "cost cap raised next week", "--expires", soon, "--store", str(store),
                                   "--target", str(ws)])
    assert res.exit_code == 0, res.output
    _run(ws, store)
    assert len(smtp.messages) == 2 and len(webhook.received) == 2
    body = webhook.received[1]["message"]
    assert "Waivers and attestations expiring:" in body and "P1 requirements failing" not in body
    assert "waiver for LIVE-LIMITED-06" in body and f"expires on {soon} (in 5 day(s))" in body
    assert _notifications(store)[-1]["events"] == ["expiring"]
    _verify(store)


def _store(folder: Path, db: str | None = None) -> Store:
    store = Store(folder, db)
    record_key(store, Signer.generate())
    return store


def test_rate_limit_per_channel_holds_events_back_until_the_hour_has_passed(tmp_path, webhook, db_url):  # noqa: F811
    store = _store(tmp_path / "store", db_url)
    (tmp_path / "store" / "golive-store.toml").write_text(
        f'[notify]\nmax_per_hour = 2\n[[notify.channel]]\nname = "hook"\nurl = "json://127.0.0.1:{webhook.port}/rl"\n',
        encoding="utf-8")
    rules = load_rules(store.path)
    start = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
    before = len(webhook.received)
    outcomes = []
    for minutes, rid in ((0, "A-1"), (10, "A-2"), (20, "A-3"), (59, "A-3"), (61, "A-3")):
        event = Event("p1-failure", rid, f"P1 requirement {rid} fail", {"requirement_id": rid})
        done = deliver(store, rules, [event], lambda chosen: compose(chosen, None),
                       clock=lambda m=minutes: start + timedelta(minutes=m))
        outcomes.append(done[0].outcome)
    assert outcomes == ["sent", "sent", "rate-limited", "rate-limited", "sent"]
    assert [m["message"].split("\n")[1] for m in webhook.received[before:]] == [
        "  - P1 requirement A-1 fail", "  - P1 requirement A-2 fail", "  - P1 requirement A-3 fail"]
    assert len(_notifications(store.path, db_url)) == 3
    _verify(store.path, db_url)


def test_a_secret_in_a_results_document_reaches_no_channel(tmp_path, smtp, webhook, mail_env, monkeypatch):
    secret = "tok-8fQz2LwPe91KsX"
    monkeypatch.setenv("GOLIVE_DEPLOY_TOKEN", secret)
    store = _store(tmp_path / "store")
    _config(store.path, smtp, webhook)
    doc = {"run": {"id": "11111111-2222-3333-4444-555555555555", "target": "/srv/ws", "plan": {"title": "Plan"}},
           "summary": {"verdict": {"state": "NOT READY"}},
           "results": [{"requirement_id": "RISK-01", "priority": "P1", "status": "fail", "title": "Limits",
                        "reason": f"login with token {secret} failed; key AKIAIOSFODNN7EXAMPLE in config",
                        "thresholds": [{"metric": "limit_breaches", "op": "==", "value": 0, "unit": "count",
                                        "observed": 1, "passed": False}]}]}
    mails, hooks = len(smtp.messages), len(webhook.received)
    recorder = SimpleNamespace(store=store, head={"size": 1})
    assert notify_after_run(recorder, doc, [], None) == []
    assert len(smtp.messages) == mails + 1 and len(webhook.received) == hooks + 1
    for sent in (_text(smtp.messages[-1]), json.dumps(webhook.received[-1])):
        assert secret not in sent and "AKIAIOSFODNN7EXAMPLE" not in sent
        assert "RISK-01" in sent and "limit_breaches = 1" in sent
    assert "[REDACTED:" in webhook.received[-1]["message"]


def test_a_secret_in_a_real_runs_reason_reaches_no_channel(tmp_path, smtp, webhook, mail_env, monkeypatch):
    """The reference workspace with a linked test whose file name is a deployment token: the
    check's reason names the file of the P1 PRE-PIPE-01, end to end from the run to the channels."""
    from servehelpers import REFERENCE

    secret = "tok-8fQz2LwPe91KsX"
    monkeypatch.setenv("GOLIVE_DEPLOY_TOKEN", secret)
    ws = tmp_path / "workspace"
    shutil.copytree(REFERENCE, ws)
    (ws / f"tests/config/test_{secret}.py").write_text("def test_x():\n    assert True\n", encoding="utf-8")
    links = ws / "golive-links.yaml"
    links.write_text(links.read_text(encoding="utf-8").replace("links:\n  PRE-PIPE-01:\n", (
        f'links:\n  PRE-PIPE-01:\n  - test: "tests/config/test_{secret}.py"\n    confirmed_by: golive maintainers\n'
        "    confirmed_at: '2026-12-02'\n"), 1), encoding="utf-8")
    store = tmp_path / "store"
    _config(store, smtp, webhook)
    mails, hooks = len(smtp.messages), len(webhook.received)
    doc, _ = execute_run(ws, None, ("PRE-PIPE-01",), 1, None, None, 300.0, quiet=True, store_dir=store)
    (result,) = doc["results"]
    assert result["priority"] == "P1" and result["status"] in ("fail", "partial", "error")
    # the run masks it already (its Redactor); the message is masked again on its own (test below)
    assert "test_[REDACTED:environment-secret].py" in result["reason"]
    assert len(smtp.messages) == mails + 1 and len(webhook.received) == hooks + 1
    for sent in (_text(smtp.messages[-1]), json.dumps(webhook.received[-1])):
        assert secret not in sent and "PRE-PIPE-01" in sent and "[REDACTED:environment-secret]" in sent
    assert secret not in json.dumps(_notifications(store))


def test_a_scheduler_misfire_is_notified_and_recorded(tmp_path, webhook, db_url):  # noqa: F811
    from zoneinfo import ZoneInfo

    from golive.plan import load_validated
    from golive.pluginmanager import create_host
    from golive.schedule import ManualClock, ScheduleSettings, SchedulerService

    ny, evening = ZoneInfo("America/New_York"), "checks@0bf0f686c3"  # AUD-06, BIZ-06: 18:00 XNYS
    store = _store(tmp_path / "store", db_url)
    workspace = tmp_path / "workspace"  # the rules come from the workspace's golive.toml this time
    workspace.mkdir()
    (workspace / "golive.toml").write_text(
        f'[notify]\n[[notify.channel]]\nname = "sched"\nurl = "json://127.0.0.1:{webhook.port}/mf"\n'
        'events = ["misfire"]\n', encoding="utf-8")
    ran = []

    class Runner:  # stands in for the slice runner: the scheduler reads its target_dir
        target_dir = workspace

        def __call__(self, spec, scheduled_for):
            ran.append(spec.id)
            return {"run_id": f"r{len(ran)}", "exit_code": 0}

    runner = Runner()
    clock = ManualClock(datetime(2026, 11, 30, 17, 55, tzinfo=ny))
    svc = SchedulerService(store, load_validated(None, create_host().checks()), runner,
                           ScheduleSettings(misfire_grace_s=60), clock=clock, manual=True)
    before = len(webhook.received)
    svc.activate()
    clock.set(datetime(2026, 11, 30, 18, 5, tzinfo=ny))  # 5 minutes late, grace 1 minute
    svc.tick()
    svc.shutdown()
    assert evening not in ran
    messages = webhook.received[before:]  # the 18:00 check job, the daily and the monthly report
    assert len(messages) == 3 and {m["title"] for m in messages} == {"golive: Scheduled checks missed"}
    assert any(f"scheduled job {evening} missed 1 fire time(s), the last due 2026-11-30T23:00:00+00:00: "
               "started later than the misfire grace (60 s)" in m["message"] for m in messages)
    entries = _notifications(store.path, db_url)
    assert [(e["events"], e["channel"], e["outcome"]) for e in entries] == [(["misfire"], "sched", "sent")] * 3
    assert f"misfire:{evening}@2026-11-30T23:00:00+00:00" in [s for e in entries for s in e["subjects"]]
    _verify(store.path, db_url)


def test_bad_rules_are_a_run_warning_not_a_failed_run(tmp_path, monkeypatch):
    store = _store(tmp_path / "store")
    (tmp_path / "store" / "golive-store.toml").write_text(
        '[notify]\n[[notify.channel]]\nname = "mail"\nurl_env = "GOLIVE_TEST_UNSET_URL"\n', encoding="utf-8")
    monkeypatch.delenv("GOLIVE_TEST_UNSET_URL", raising=False)
    with pytest.raises(RulesError, match="GOLIVE_TEST_UNSET_URL"):
        load_rules(store.path)
    doc = {"run": {"id": "r1"}, "results": [{"requirement_id": "X", "priority": "P1", "status": "fail"}]}
    warnings = notify_after_run(SimpleNamespace(store=store, head={"size": 1}), doc, [], None)
    assert len(warnings) == 1 and "golive-store.toml" in warnings[0] and "GOLIVE_TEST_UNSET_URL" in warnings[0]


def test_an_unreachable_channel_is_a_warning_and_a_failed_notification_entry(tmp_path):
    store = _store(tmp_path / "store")
    (tmp_path / "store" / "golive-store.toml").write_text(
        '[notify]\n[[notify.channel]]\nname = "down"\nurl = "json://127.0.0.1:9/nothing-listens"\n', encoding="utf-8")
    doc = {"run": {"id": "r2"}, "results": [{"requirement_id": "X", "priority": "P1", "status": "error"}]}
    warnings = notify_after_run(SimpleNamespace(store=store, head=None), doc, [], None)
    assert warnings == ["notification to down failed: channel down: A Connection error occurred sending JSON "
                        "notification to 127.0.0.1."]
    (entry,) = _notifications(store.path)
    assert entry["outcome"] == "failed" and entry["events"] == ["ledger", "p1-failure"]  # head None: not sealed
    assert entry["subjects"] == ["p1-failure:X", "ledger:unsealed"]
    assert "127.0.0.1" not in json.dumps(entry)


def test_the_store_rules_win_over_the_workspace_and_bad_fields_are_named(tmp_path):
    store, workspace = tmp_path / "store", tmp_path / "ws"
    store.mkdir()
    workspace.mkdir()
    (workspace / "golive.toml").write_text('[paths]\n[notify]\n[[notify.channel]]\nname = "team"\nurl = "json://a/b"\n')
    (store / "golive-store.toml").write_text("min_witnesses = 0\n")  # witnesses only: the workspace's rules apply
    assert [c.name for c in load_rules(store, workspace).channels] == ["team"]
    (store / "golive-store.toml").write_text('[notify]\ndashboard_url = "https://d.example/"\nexpiry_days = 3\n'
                                             '[[notify.channel]]\nname = "auditors"\nurl = "mailto://x.example"\n'
                                             'events = ["p1-failure"]\nmax_per_hour = 2\n')
    rules = load_rules(store, workspace)
    assert [(c.name, c.events, c.max_per_hour) for c in rules.channels] == [("auditors", ("p1-failure",), 2)]
    assert (rules.dashboard_url, rules.expiry_days, rules.dedup_hours) == ("https://d.example", 3, 24.0)
    assert "mailto" not in repr(rules)  # a URL may hold credentials: never in a repr or a log line
    second = '[[notify.channel]]\nname = "auditors"\nurl = "json://c/d"\n'
    for bad, field in (('events = ["p1"]\n', "events"), ("max_per_hour = -1\n", "max_per_hour"),
                       (second, "two channels are named 'auditors'"), ('url_env = "GOLIVE_TEST_NOPE"\n', "GOLIVE_TEST_NOPE")):
        (store / "golive-store.toml").write_text(f'[notify]\n[[notify.channel]]\nname = "auditors"\n'
                                                 f'url = "json://a/b"\n{bad}')
        with pytest.raises(RulesError, match=field) as caught:
            load_rules(store, workspace, environ={})
        assert "golive-store.toml" in str(caught.value)


@settings(max_examples=60, deadline=None)
@given(before=st.text(max_size=400), after=st.text(max_size=80), metric=st.text(min_size=1, max_size=20))
def test_an_environment_secret_never_survives_composition(before, after, metric):
    from golive.ledger.secrets import Redactor

    secret = "pw-Zr81KqLx0vTn"
    redactor = Redactor(environ={"BROKER_PASSWORD": secret})
    result = {"requirement_id": "RISK-01", "priority": "P1", "status": "fail", "title": f"{before}{secret}",
              "reason": f"{before}{secret}{after}",
              "thresholds": [{"metric": f"{metric}{secret}", "op": "<=", "value": 1, "observed": 2, "passed": False}]}
    doc = {"run": {"id": "r", "target": f"/srv/{secret}"}, "results": [result]}
    message = compose([Event("p1-failure", "RISK-01", f"P1 requirement RISK-01 fail {secret}", result)], doc,
                      DASH, redactor)
    assert secret not in message.title and secret not in message.body
    assert "RISK-01" in message.body


def test_a_secret_cut_by_the_reason_limit_is_masked_before_the_cut():
    from golive.ledger.secrets import Redactor

    secret = "pw-Zr81KqLx0vTn"
    reason = "x" * 295 + secret + " and more"  # the 300-character cut falls inside the secret
    result = {"requirement_id": "RISK-01", "priority": "P1", "status": "fail", "reason": reason}
    message = compose([Event("p1-failure", "RISK-01", "P1 requirement RISK-01 fail", result)], None, "",
                      Redactor(environ={"BROKER_PASSWORD": secret}))
    assert "pw-Zr" not in message.body and "x[REDA" in message.body  # the mask is cut, not the secret


def test_apprise_reasons_lose_the_time_stamp_the_url_and_its_password():
    from golive.notify.send import _apprise_reason

    url = "json://bot:pw-Qx81LmZ0@hooks.example.com/golive"
    log_text = ("2026-12-03 05:20:42,252 - WARNING - first try failed\n"
                f"2026-12-03 05:20:43,001 - WARNING - sending to {url} refused; auth pw-Qx81LmZ0 rejected\n")
    assert _apprise_reason(log_text, url) == "sending to *** refused; auth *** rejected"
    assert _apprise_reason("", url) == "delivery failed"
