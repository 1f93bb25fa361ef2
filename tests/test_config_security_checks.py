"""Unit tests of the configuration and security checks: profiles, environment references,
sources, the secret scanner (files and git history, always masked), credentials, access
control and the audit trail."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from golive.model import CheckContext, Requirement, Status, Target
from golive.plugins.config_security import (access, audit_trail, credentials, env_refs, profile_switch, profiles,
                                            secret_scan, secrets_at_rest, sources)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
# Fake keys in real formats, built at run time so this file itself holds no key-like literal.
DATABENTO_KEY = "db-" + "Q7vXk2LmP9rT4wZa8NcY3hJ6sDfG5"
AWS_KEY = "AKIA" + "Z7QW3XK5PL2MN8RT"


def run(func, root: Path, params=None):
    req = Requirement(id="REQ-02", title="t", statement="s", category="c", priority="P1", plan_lines=(1, 1))
    ctx = CheckContext(target=Target(root=root), params=params or {}, settings={}, log=logging.getLogger("t"),
                       clock=lambda: NOW)
    return func(req, ctx), ctx


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def git(root: Path, *args: str, when: str = "2026-11-01T10:00:00+00:00") -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x.example", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@x.example", "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when,
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "-C", str(root), "-c", "commit.gpgsign=false", *args], check=True, env=env,
                   capture_output=True, timeout=30)


PROFILE = ("sources:\n  databento:\n    api_key: \"${{DATABENTO_API_KEY}}\"\nbroker:\n  endpoint: {endpoint}\n"
           "trading:\n  mode: {mode}\n  max_contracts: {n}\n")


def test_profiles_load_validates_against_the_targets_schema_and_names_the_bad_key(tmp_path):
    write(tmp_path, "config/profiles/production.yaml", PROFILE.format(endpoint="https://live", mode="live", n=2))
    write(tmp_path, "config/profiles/testing.yaml", PROFILE.format(endpoint="https://paper", mode="paper", n=0))
    write(tmp_path, "config/profiles/broken.yaml", "trading: {mode: [\n")
    write(tmp_path, "config/schema.json", json.dumps({"type": "object", "required": ["trading"], "properties": {
        "trading": {"type": "object", "properties": {"max_contracts": {"type": "integer", "minimum": 1}}}}}))
    result, ctx = run(profiles.profiles_load, tmp_path)
    assert result.metrics["profiles"] == 3 and result.metrics["profiles_invalid"] == 2
    rows = {r["profile"]: r for r in result.details["profiles"]}
    assert rows["config/profiles/production.yaml"]["valid"]
    assert any("trading/max_contracts" in p for p in rows["config/profiles/testing.yaml"]["problems"])
    assert any("broken.yaml:2" in p or "broken.yaml:1" in p for p in rows["config/profiles/broken.yaml"]["problems"])
    assert "config/schema.json" in [a.path for a in ctx.artifacts]
    (tmp_path / "config/schema.json").unlink()
    no_schema, _ = run(profiles.profiles_load, tmp_path, {"required_keys": ["broker.endpoint", "output"]})
    assert all(not r["valid"] for r in no_schema.details["profiles"])  # no profile has output


def test_profile_switch_flags_unexpected_and_missing_differences_without_values(tmp_path):
    write(tmp_path, "config/profiles/production.yaml", PROFILE.format(endpoint="https://live", mode="live", n=2))
    write(tmp_path, "config/profiles/testing.yaml", PROFILE.format(endpoint="https://live", mode="paper", n=1))
    result, _ = run(profile_switch.profile_switch, tmp_path, {"allowed_differences": ["trading.mode", "broker.*"],
                                                        "required_differences": ["broker.endpoint", "trading.mode"]})
    assert result.details["unexpected"] == ["trading.max_contracts"]
    assert result.details["not_switched"] == ["broker.endpoint"]  # testing would route to production
    assert "https://live" not in json.dumps(result.details)


def test_env_references_resolve_by_default_environment_or_dotenv_names_only(tmp_path, monkeypatch):
    write(tmp_path, "config/app.yaml", "a: ${FROM_ENV}\nb: ${FROM_DOTENV}\nc: ${WITH_DEFAULT:-x}\nd: ${NOWHERE}\n"
                                       "# e: ${COMMENTED_OUT}\n")
    write(tmp_path, ".env", "FROM_DOTENV=s3cr3t-value-never-read\nexport OTHER=1\n")
    monkeypatch.setenv("FROM_ENV", "another-secret-value")
    result, ctx = run(env_refs.env_references, tmp_path)
    assert result.metrics["env_references"] == 4 and result.metrics["env_unresolved"] == 1
    assert [u["name"] for u in result.details["unresolved"]] == ["NOWHERE"] and result.details["unresolved"][0]["line"] == 4
    text = json.dumps({"m": {k: getattr(v, "value", v) for k, v in result.metrics.items()}, "d": result.details,
                       "msg": result.message})
    assert "s3cr3t" not in text and "another-secret" not in text
    assert ".env" not in [a.path for a in ctx.artifacts]  # a secrets file is never hashed into evidence
    off, _ = run(env_refs.env_references, tmp_path, {"use_process_env": False, "env_files": []})
    assert off.metrics["env_unresolved"] == 3


def test_source_toggles_catch_a_disabled_source_in_use(tmp_path):
    write(tmp_path, "config/sources.yaml", "sources:\n  databento: {enabled: true}\n  scraper: {enabled: false}\n"
                                           "  barchart: {priority: 2}\n")
    write(tmp_path, "logs/pipeline_runs.jsonl", "\n".join(json.dumps(r) for r in [
        {"run_id": "r1", "started": "2026-11-19T14:30:00Z", "sources_used": ["databento"]},
        {"run_id": "r2", "started": "2026-11-19T14:45:00Z", "sources_used": ["databento", "scraper"]}]) + "\n")
    result, _ = run(sources.source_toggles, tmp_path)
    assert result.metrics["sources_without_switch"] == 1 and result.metrics["disabled_source_used"] == 1
    assert result.details["violations"][0]["run_id"] == "r2" and result.details["without_switch"] == ["barchart"]
    write(tmp_path, "config/sources.yaml", "sources: 3\n")
    bad, _ = run(sources.source_toggles, tmp_path)
    assert bad.status is Status.ERROR and "sources.yaml" in bad.message


def test_secret_scanner_finds_known_formats_and_random_assignments_but_not_references():
    lines = {f'api_key: "{DATABENTO_KEY}"': "databento-api-key", f"aws = {AWS_KEY}": "aws-access-key-id",
             "client_secret=Zx8v2Lq9Wm4Rt7Yp1Kd6": "assignment:client_secret"}
    for line, rule in lines.items():
        assert [r for r, _ in secret_scan.scan_line(line)] == [rule], line
    for clean in ('api_key: "${DATABENTO_API_KEY}"', "token: ENC[AES256_GCM,data:abc]", "password: changeme",
                  "secret_name: trading/databento", "api_key_env: DATABENTO_API_KEY", "password = hunter2"):
        assert secret_scan.scan_line(clean) == [], clean
    masked = secret_scan.mask(DATABENTO_KEY)
    assert masked.startswith("db-Q") and DATABENTO_KEY[4:] not in masked and "32 chars" in masked


def make_repo_with_leaks(root: Path) -> None:
    git(root, "init", "-q")
    write(root, "config/prod.yaml", f"databento:\n  api_key: \"{DATABENTO_KEY}\"\n")
    write(root, "README.md", "demo\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    write(root, "config/prod.yaml", "databento:\n  api_key: \"${DATABENTO_API_KEY}\"\n  token: hardcoded-Token-9f8e7d6c5b\n")
    write(root, "scripts/aws.sh", f"export AWS_ACCESS_KEY_ID={AWS_KEY}\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "move key to env", when="2026-11-02T10:00:00+00:00")
    write(root, ".gitignore", ".env\n")
    write(root, ".env", f"DATABENTO_API_KEY={DATABENTO_KEY}\n")  # ignored: local secrets are not the repo's


def test_secrets_at_rest_scans_files_and_history_and_never_reveals_a_key(tmp_path):
    make_repo_with_leaks(tmp_path)
    result, _ = run(secrets_at_rest.secrets_at_rest, tmp_path)
    files = {(f["path"], f["line"], f["rule"]) for f in result.details["file_findings"]}
    assert ("scripts/aws.sh", 1, "aws-access-key-id") in files
    assert ("config/prod.yaml", 3, "assignment:token") in files
    assert all(f["path"] != ".env" for f in result.details["file_findings"])
    assert result.metrics["plaintext_secrets"] == 2
    history = result.details["history_findings"]
    assert [(h["path"], h["line"], h["rule"]) for h in history] == [("config/prod.yaml", 2, "databento-api-key")]
    assert len(history[0]["commit"]) == 12 and result.metrics["plaintext_secrets_history"] == 1
    assert result.metrics["sensitive_fields_unprotected"] == 1  # config/prod.yaml token
    dumped = json.dumps({"details": result.details, "message": result.message,
                         "metrics": {k: getattr(v, "value", v) for k, v in result.metrics.items()}})
    for key in (DATABENTO_KEY, AWS_KEY, "hardcoded-Token-9f8e7d6c5b"):
        assert key not in dumped and key[6:] not in dumped
    assert hashlib.sha256(DATABENTO_KEY.encode()).hexdigest()[:12] == history[0]["fingerprint"]


def test_no_finding_and_no_configuration_is_missing_evidence(tmp_path):
    write(tmp_path, "README.md", "nothing to see\n")
    result, _ = run(secrets_at_rest.secrets_at_rest, tmp_path)
    assert result.status is Status.MISSING and "no configuration files" in result.message


def test_secret_scan_of_a_target_that_is_not_a_git_repository_says_so(tmp_path):
    write(tmp_path, "settings.ini", f"key = {AWS_KEY}\n")
    result, _ = run(secrets_at_rest.secrets_at_rest, tmp_path)
    assert result.metrics["plaintext_secrets"] == 1 and result.metrics["plaintext_secrets_history"] == 0
    assert "not a git repository" in result.details["history_scan"] and "not a git repository" in result.details["selection"]


def test_credential_refresh_reports_overdue_and_old_key_use(tmp_path):
    write(tmp_path, "config/credentials.yaml", "credentials:\n  - {name: api, rotate_days: 30}\n"
                                               "  - {name: legacy, rotate_days: 90, issued: 2026-01-01}\n")
    events = [{"ts": "2026-11-01T00:00:00Z", "credential": "api", "event": "rotated", "key_version": 2},
              {"ts": "2026-11-01T00:01:00Z", "credential": "api", "event": "auth", "key_version": 1},
              {"ts": "2026-11-02T00:00:00Z", "credential": "api", "event": "auth", "key_version": 1},
              {"ts": "2026-11-03T00:00:00Z", "credential": "api", "event": "auth", "key_version": 2}]
    write(tmp_path, "logs/credential_events.jsonl", "\n".join(json.dumps(e) for e in events) + "\n")
    result, _ = run(credentials.credential_refresh, tmp_path)
    assert result.details["overdue"] == ["legacy"] and result.metrics["never_rotated"] == 1
    assert result.metrics["stale_version_uses"] == 1  # the auth one minute after rotation is within grace
    assert result.metrics["rotation_max_age"].value == pytest.approx(323.5, abs=0.1)
    events.append({"ts": "2026-11-04T00:00:00Z", "credential": "unknown", "event": "rotated"})
    write(tmp_path, "logs/credential_events.jsonl", "\n".join(json.dumps(e) for e in events) + "\n")
    bad, _ = run(credentials.credential_refresh, tmp_path)
    assert bad.status is Status.ERROR and "credential_events.jsonl:5" in bad.message


def test_access_control_finds_shared_unowned_and_unknown_accounts(tmp_path):
    write(tmp_path, "config/access.yaml", "accounts:\n  - {id: alice, kind: person, roles: [dev]}\n"
                                          "  - {id: trader, kind: person, roles: [trade]}\n"
                                          "  - {id: desk1, kind: person, roles: [trade], people: [a, b]}\n"
                                          "  - {id: svc, kind: service, roles: [x]}\n")
    write(tmp_path, "logs/audit.jsonl", '{"ts": "2026-11-01T00:00:00Z", "actor": "mallory", "event": "login"}\n'
                                        '{"ts": "2026-11-01T00:01:00Z", "actor": "alice", "event": "access_denied"}\n')
    result, _ = run(access.access_control, tmp_path)
    assert {s["account"] for s in result.details["shared"]} == {"trader", "desk1"}
    assert result.details["unowned"] == ["svc"] and result.metrics["unknown_actors"] == 1
    assert result.metrics["denied_attempts_logged"] == 1
    (tmp_path / "config/access.yaml").unlink()
    missing, _ = run(access.access_control, tmp_path)
    assert missing.status is Status.MISSING


def chained(entries):
    prev, out = None, []
    for e in entries:
        if prev:
            e["prev_hash"] = prev
        e["hash"] = prev = audit_trail.entry_hash(e)
        out.append(e)
    return out


def test_audit_trail_detects_gaps_disorder_missing_fields_and_tampering(tmp_path):
    entries = chained([{"seq": i, "ts": f"2026-11-01T00:0{i}:00Z", "actor": "alice", "event": e, "id": str(i)}
                       for i, e in enumerate(["login", "config_change", "credential_change", "order_new",
                                              "position_change"], start=1)])
    path = write(tmp_path, "logs/audit.jsonl", "\n".join(json.dumps(e) for e in entries) + "\n")
    clean, _ = run(audit_trail.audit_trail, tmp_path)
    assert clean.metrics["audit_chain_breaks"] == 0 and clean.metrics["audit_sequence_gaps"] == 0
    assert clean.metrics["audit_event_kinds_missing"] == 0
    entries[2]["actor"] = "mallory"  # edited after the fact
    del entries[3]  # and an entry deleted
    path.write_text("\n".join(json.dumps(e) for e in entries) + "\n")
    result, _ = run(audit_trail.audit_trail, tmp_path)
    assert result.metrics["audit_chain_breaks"] == 2 and result.metrics["audit_sequence_gaps"] == 1
    assert result.status is Status.FAIL and clean.status is None
    assert result.details["chain_breaks"][0]["at"] == "audit.jsonl:3"
    write(tmp_path, "logs/audit.jsonl", '{"seq": 1, "ts": "2026-11-01T00:02:00Z", "event": "login"}\n'
                                        '{"seq": 2, "ts": "2026-11-01T00:01:00Z", "actor": "a", "event": "login", "id": "x"}\n')
    plain, _ = run(audit_trail.audit_trail, tmp_path)
    assert plain.metrics["audit_out_of_order"] == 1 and plain.metrics["audit_fields_complete_ratio"].value == 0.5
    assert "audit_chain_breaks" not in plain.metrics and plain.details["chain"] == "absent"


def test_history_scan_states_truncation_in_the_message_and_details(tmp_path):
    make_repo_with_leaks(tmp_path)
    newest_only, _ = run(secrets_at_rest.secrets_at_rest, tmp_path, {"max_commits": 1})
    assert newest_only.details["history_findings"] == []  # the leak sits in the older commit
    assert "the 1 oldest of 2 were not scanned" in newest_only.details["history_scan"]
    history = newest_only.details["history"]
    assert (history["commits_scanned"], history["commits_total"], history["max_commits"]) == (1, 2, 1)
    assert history["capped_by_max_commits"] and history["failures"] == 0 and history["not_scanned_commits"] == []
    assert "git history: 1 of 2 commit(s) scanned (the 1 oldest not scanned: max_commits 1)" in newest_only.message
    whole, _ = run(secrets_at_rest.secrets_at_rest, tmp_path)
    assert not whole.details["history"]["incomplete"] and "git history:" not in whole.message
    no_repo, _ = run(secrets_at_rest.secrets_at_rest, tmp_path, {"history": False})
    assert no_repo.details["history"] == {"scanned": False, "note": "not scanned (history: false)"}


# A `git` first on PATH: the real one, except for the history's `git log --stdin -p`, whose real
# output it prints up to and with the header of commit number CUT (0 = the newest), then hangs
# like a git stuck on a slow disk until the scan's time budget kills it with its process group.
HANGING_GIT = """#!{python}
import os, re, subprocess, sys, time
REAL, CUT = {real!r}, {cut}
args = sys.argv[1:]
if "--stdin" in args and "-p" in args:
    out = subprocess.run([REAL, *args], stdin=sys.stdin, stdout=subprocess.PIPE).stdout
    starts = [m.start() for m in re.finditer(rb"(?m)^commit ", out)]
    end = out.index(b"\\n", starts[CUT]) + 1 if len(starts) > CUT else len(out)
    sys.stdout.buffer.write(out[:end])
    sys.stdout.buffer.flush()
    time.sleep(120)
os.execv(REAL, [REAL, *args])
"""


def hanging_git(tmp_path: Path, monkeypatch, cut: int) -> None:
    real = shutil.which("git")
    bin_dir = tmp_path / f"bin{cut}"
    bin_dir.mkdir()
    (bin_dir / "git").write_text(HANGING_GIT.format(python=sys.executable, real=real, cut=cut))
    (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_a_history_scan_past_its_time_budget_is_partial_with_a_warning_and_error_when_nothing_was_read(
        tmp_path, monkeypatch, caplog):
    repo = tmp_path / "repo"
    repo.mkdir()
    make_repo_with_leaks(repo)
    oldest = subprocess.run(["git", "-C", str(repo), "rev-list", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.split()[-1]
    # git finishes the newest commit's diff, then hangs: the newest is scanned, the oldest is not.
    hanging_git(tmp_path, monkeypatch, cut=1)
    with caplog.at_level(logging.WARNING):
        partial, _ = run(secrets_at_rest.secrets_at_rest, repo, {"history_timeout_s": 2.5})
    assert partial.status is not Status.ERROR and partial.metrics["plaintext_secrets"] == 2  # files judged
    history = partial.details["history"]
    assert (history["commits_scanned"], history["commits_total"], history["failures"]) == (1, 2, 1)
    assert [n["commit"] for n in history["not_scanned_commits"]] == [oldest[:12]]
    assert "timed out" in history["not_scanned_commits"][0]["reason"]
    assert "warning: 1 commit(s) not scanned" in partial.details["history_scan"]
    assert "git history: 1 of 2 commit(s) scanned (warning: 1 not scanned: " in partial.message
    assert partial.details["history_findings"] == []  # the leak sits in the commit not reached
    assert any("git history scanned in part" in r.getMessage() for r in caplog.records)
    # git hangs before it finishes any commit: no history was scanned, which cannot pass as clean.
    hanging_git(tmp_path, monkeypatch, cut=0)
    failed, _ = run(secrets_at_rest.secrets_at_rest, repo, {"history_timeout_s": 2.5})
    assert failed.status is Status.ERROR
    assert "git history not scanned" in failed.message and "timed out" in failed.message
