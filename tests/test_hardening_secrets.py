"""Secret masking matches the values of secret-named variables only (issue 15, point 7).

A planted ``DATABENTO_API_KEY`` is masked wherever a run writes (ledger, artifact copies,
results document, warnings, Markdown/HTML reports, the scheduler's log); the working directory
(``$PWD``, which the word list reads as "pwd" = password) and ``$HOME`` are not, so the target
path is recorded as itself.
"""
from __future__ import annotations

import io
import json
import logging
import os
from datetime import datetime, timezone

from golive import hookimpl
from golive.ledger import Redactor, attach
from golive.ledger.secrets import RedactingFilter, env_secret_values
from golive.ledger.store import Store, payload_bytes
from golive.model import CheckResult, CheckSpec, Target
from golive.report import build_render_model, render
from golive.results import build_document, write_document
from golive.run.runner import RunOptions, run_plan
from golive.schedule.runlog import RunLog

from enginehelpers import make_host, make_plan, req

PLANTED = "db-" + "Q7rX2mK9pL4vN8sT1wY6zB3cF5hJ0"


def test_only_secret_named_variables_are_masked(tmp_path):
    home = tmp_path / "home" / "trader"
    env = {"DATABENTO_API_KEY": PLANTED, "BROKER_PWD": "hunter2-broker", "PWD": str(home / "ws"),
           "OLDPWD": str(home), "HOME": str(home), "USER": "trader", "SSH_AUTH_SOCK": "/tmp/ssh-abc/agent.7"}
    assert set(env_secret_values(env)) == {PLANTED, "hunter2-broker"}
    redactor = Redactor(env)
    text = f"{home}/ws/config/a.yaml read with {PLANTED}; broker pwd hunter2-broker; {home}"
    assert redactor.text(text) == (f"{home}/ws/config/a.yaml read with [REDACTED:environment-secret]; "
                                   f"broker pwd [REDACTED:environment-secret]; {home}")


def test_secret_named_fields_mask_strings_not_findings():
    masked = Redactor({}).obj({"api_key": "abc123", "key_present": True, "key_format_ok": False,
                               "token_count": 3, "password": None, "credentials": ["s1", {"user": "u"}]})
    assert masked == {"api_key": "[REDACTED:field]", "key_present": True, "key_format_ok": False,
                      "token_count": 3, "password": None, "credentials": ["[REDACTED:field]", {"user": "u"}]}


class LeakyCheck:
    """A careless check: reads a config file holding the key and repeats it in its message,
    details and a warning."""

    @hookimpl
    def golive_checks(self):
        def leak(requirement, ctx):
            ctx.record_artifact("config/production.yaml")
            key = os.environ["DATABENTO_API_KEY"]
            ctx.log.warning("connected with %s from %s", key, os.environ["PWD"])
            return CheckResult(status="fail", message=f"connected with {key}",
                               details={"line": f"auth {key}", "key_present": True},
                               metrics={"cost": 3})
        return [CheckSpec("leaky", "leak", leak, metrics=("cost",))]


def test_planted_key_is_masked_everywhere_and_the_target_path_is_not(tmp_path, monkeypatch):
    target = (tmp_path / "ws").resolve()
    (target / "config").mkdir(parents=True)
    (target / "config" / "production.yaml").write_text(f"databento:\n  api_key: {PLANTED}\n  dataset: GLBX.MDP3\n")
    monkeypatch.setenv("DATABENTO_API_KEY", PLANTED)
    monkeypatch.setenv("PWD", str(target))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(target)
    host = make_host(LeakyCheck())
    recorder = attach(host, tmp_path / "evidence")
    report = run_plan(make_plan([req("R-01", check=("leaky", "leak"))]), Target(root=target), host,
                      RunOptions(jobs=1))
    doc = build_document(report, ledger_head=recorder.head)
    results = write_document(doc, tmp_path / "out" / "results.json")
    model = build_render_model(doc, None)
    md = render("md", model, tmp_path / "out" / "report.md")
    html = render("html", model, tmp_path / "out" / "report.html")
    RunLog(Store(recorder.store.path), "test", clock=lambda: datetime.now(timezone.utc)).record(
        "error", job_id="nightly", message=f"broker refused key {PLANTED}")
    recorder.store.close()

    written = [p for p in [*(tmp_path / "evidence").rglob("*"), *(tmp_path / "out").rglob("*")]
               if p.is_file() and p.parent.name != "keys"]
    assert len([p for p in written if "objects" in p.parts]) == 1  # the config copy is there
    for path in written:
        assert PLANTED.encode() not in path.read_bytes(), f"{path} holds the planted key"

    result = doc["results"][0]
    assert result["reason"] == "connected with [REDACTED:environment-secret]"
    assert result["details"]["key_present"] is True  # a finding, not a secret
    assert any("[REDACTED:environment-secret]" in w and str(target) in w for w in doc["warnings"]), doc["warnings"]
    assert "REDACTED:environment-secret" in md.read_text() and "REDACTED:environment-secret" in html.read_text()
    # the target is recorded as itself in the results, the report and the ledger
    assert json.loads(results.read_text())["run"]["target"] == str(target)
    with Store(recorder.store.path).read() as conn:
        started = [json.loads(payload_bytes(p)) for (p,) in conn.exec_driver_sql(
            "SELECT payload FROM ledger_entries WHERE kind = 'run-started'")]
    assert started[0]["target"] == str(target)
    assert started[0]["signing_key"] == recorder.signer.key_id  # a public key id, not masked
    assert "environment-secret]" not in json.dumps(started)


def test_log_records_are_masked_by_the_filter(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABENTO_API_KEY", PLANTED)
    monkeypatch.setenv("PWD", str(tmp_path))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("golive.test-hardening")
    logger.addHandler(handler)
    try:
        logger.warning("connected with %s in %s", PLANTED, tmp_path)
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == f"connected with [REDACTED:environment-secret] in {tmp_path}\n"


def test_the_cli_masks_secrets_in_its_log_output(monkeypatch, caplog):
    """Every golive command installs the masking filter on the log handlers: a check that logs
    its key does not print it on stderr."""
    from click.testing import CliRunner

    from golive.cli import cli

    secret = "db-Hk2v9QxP0aL7mN3rT5wY8zB1cD4eF6gJ"
    monkeypatch.setenv("DATABENTO_API_KEY", secret)
    with caplog.at_level(logging.WARNING):
        assert CliRunner().invoke(cli, ["validate"]).exit_code == 0
        logging.getLogger("golive.plugins.example").warning("connecting with key %s", secret)
    assert "connecting with key" in caplog.text and secret not in caplog.text


def test_the_evidence_appendix_says_whether_the_signing_key_is_protected():
    from golive.report.evidence import Evidence

    def appendix(ledger):
        return Evidence("r", "", "", "", "", "", "", "", "", ledger, "", ()).key_protection

    assert "NOT protected" in appendix({"key_protected": False})
    assert appendix({"key_protected": True}).startswith("passphrase")  # runs before key_protection existed
    assert appendix({}).startswith("unknown")
    for how in ("passphrase", "agent", "environment"):
        assert appendix({"key_protected": True, "key_protection": how}).startswith(how + ":")
    assert "NOT protected" in appendix({"key_protected": False, "key_protection": "none"})
