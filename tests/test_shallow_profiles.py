"""PRE-PIPE-02 / PRE-CONF-01: profiles are validated against a schema or required keys that are
discovered from the code's config reader or declared in golive.toml; parsing alone is not a pass."""
from __future__ import annotations

import json
import logging

from golive.model import CheckContext, Requirement, Status, Target
from golive.plugins.config_security.config_reader import ConfigReads, reads_in_source, required_keys
from golive.plugins.config_security.profiles import profiles_load

READER = '''import yaml

def load_config(path):
    with open(path) as f:
        return yaml.safe_load(f)

def main(path):
    cfg = load_config(path)
    trading = cfg["trading"]
    mode = trading["mode"]
    endpoint = cfg["broker"]["endpoint"].strip()
    out_dir = cfg.get("output", {}).get("signals_dir", "./out")
    for name, source in cfg["sources"].items():
        pass

def stage(config):
    return config.risk.max_loss
'''


def run(root, settings=None, params=None):
    req = Requirement(id="PRE-PIPE-02", title="t", statement="s", category="c", priority="P1", plan_lines=(5, 5))
    ctx = CheckContext(target=Target(root=root), params=params or {}, settings=settings or {},
                       log=logging.getLogger("t"))
    return profiles_load(req, ctx)


def profiles(root, production: str, testing: str):
    (root / "config/profiles").mkdir(parents=True)
    (root / "config/profiles/production.yaml").write_text(production)
    (root / "config/profiles/testing.yaml").write_text(testing)


def test_two_trivial_profiles_without_schema_or_keys_are_missing_not_pass(tmp_path):
    profiles(tmp_path, "a: 1\n", "a: 1\n")
    result = run(tmp_path)
    assert result.status is Status.MISSING
    assert "configure required profile keys in golive.toml [settings]" in result.message.replace("(", "")
    assert result.configure == "golive.toml [settings] profile_required_keys"


def test_keys_the_code_reads_without_default_are_required(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app/config.py").write_text(READER)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_cfg.py").write_text('def test(cfg):\n    cfg["only_in_tests"]\n')
    profiles(tmp_path, "a: 1\n",
             "trading: {mode: paper}\nbroker: {endpoint: x}\nsources: {}\nrisk: {max_loss: 5}\n")
    result = run(tmp_path)
    assert result.details["required_keys"] == ["broker.endpoint", "risk.max_loss", "sources", "trading.mode"]
    assert result.details["config_reader_files"] == ["app/config.py"]
    assert "output.signals_dir" in result.details["keys_read_with_default"]  # read with a default: optional
    assert result.metrics["profiles_invalid"] == 1
    bad = next(r for r in result.details["profiles"] if r["profile"].endswith("production.yaml"))
    assert "trading.mode: required key missing" in bad["problems"]
    assert result.observed["events"] == 2


def test_golive_toml_declares_required_keys_and_schema(tmp_path):
    profiles(tmp_path, "trading: {mode: live}\n", "trading: {mode: paper}\n")
    ok = run(tmp_path, settings={"profile_required_keys": ["trading.mode"]})
    assert ok.status is None and ok.metrics["profiles_invalid"] == 0
    assert ok.details["required_keys_from"].startswith("golive.toml")
    (tmp_path / "cfg-schema.json").write_text(json.dumps(
        {"type": "object", "required": ["trading"],
         "properties": {"trading": {"type": "object", "properties": {"mode": {"enum": ["live"]}}}}}))
    schema = run(tmp_path, settings={"profile_schema": "cfg-schema.json"})
    assert schema.metrics["profiles_invalid"] == 1  # testing's mode "paper" is not in the enum
    missing = run(tmp_path, settings={"profile_schema": "nope.json"})
    assert missing.status is Status.MISSING and "nope.json" in missing.message


def test_reader_discovery_forms():
    reads = ConfigReads()
    reads_in_source(READER, "x.py", reads)
    assert required_keys(reads) == ["broker.endpoint", "risk.max_loss", "sources", "trading.mode"]
    assert "broker.endpoint.strip" not in reads.required  # a method on a value is not a key
    assert set(reads.optional) == {"output", "output.signals_dir"}
    nothing = ConfigReads()
    reads_in_source('data = {"a": 1}\nx = data["a"]\n', "y.py", nothing)  # not a loaded config
    assert not nothing.required and not nothing.files


def test_profile_switch_without_configured_switches_is_missing_then_judged(tmp_path):
    from golive.plugins.config_security.profile_switch import profile_switch

    profiles(tmp_path, "broker: {endpoint: live}\ntrading: {mode: live}\n",
             "broker: {endpoint: live}\ntrading: {mode: paper}\n")
    req = Requirement(id="PRE-CONF-02", title="t", statement="s", category="c", priority="P2", plan_lines=(61, 61))

    def switch(settings):
        return profile_switch(req, CheckContext(target=Target(root=tmp_path), params={}, settings=settings,
                                                log=logging.getLogger("t")))

    unset = switch({})
    assert unset.status is Status.MISSING and "profile_required_differences" in unset.message
    judged = switch({"profile_required_differences": ["broker.endpoint", "trading.mode"],
                     "profile_allowed_differences": ["trading.mode", "broker.*"]})
    assert judged.details["not_switched"] == ["broker.endpoint"]  # testing still routes to production
    assert judged.metrics["unexpected_differences"] == 0


def test_config_security_checks_report_what_they_observed(tmp_path):
    from golive.plugins.config_security.audit_trail import audit_trail
    from golive.plugins.config_security.env_refs import env_references

    (tmp_path / "config").mkdir()
    (tmp_path / "config/app.yaml").write_text("a: ${HOME_DIR:-/tmp}\nb: ${OTHER:-x}\n")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs/audit.jsonl").write_text(
        '{"seq": 1, "ts": "2026-11-02T14:30:00Z", "actor": "ann", "event": "login", "id": "a1"}\n'
        '{"seq": 2, "ts": "2026-11-03T09:00:00Z", "actor": "ann", "event": "config_change", "id": "a2"}\n')
    req = Requirement(id="PRE-CONF-0X", title="t", statement="s", category="c", priority="P2", plan_lines=(62, 62))
    ctx = CheckContext(target=Target(root=tmp_path), params={}, settings={}, log=logging.getLogger("t"))
    assert env_references(req, ctx).observed["events"] == 2
    seen = audit_trail(req, ctx).observed
    assert seen["events"] == 2 and seen["first"] == "2026-11-02T14:30:00Z" and seen["newest"] == "2026-11-03T09:00:00Z"


def test_profile_locations_are_settings_when_not_at_the_default_place(tmp_path):
    from golive.plugins.config_security.profile_switch import profile_switch

    req = Requirement(id="PRE-CONF-02", title="t", statement="s", category="c", priority="P2", plan_lines=(61, 61))
    nowhere = run(tmp_path)
    assert nowhere.status is Status.MISSING and nowhere.configure == "golive.toml [settings] profiles"
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy/live.yaml").write_text("broker: {endpoint: live}\n")
    (tmp_path / "deploy/paper.yaml").write_text("broker: {endpoint: paper}\n")
    found = run(tmp_path, settings={"profiles": "deploy/*.yaml", "profile_required_keys": ["broker.endpoint"]})
    assert found.metrics["profiles"] == 2 and found.metrics["profiles_invalid"] == 0

    def switch(settings):
        return profile_switch(req, CheckContext(target=Target(root=tmp_path), params={}, settings=settings,
                                                log=logging.getLogger("t")))

    assert switch({}).configure == "golive.toml [settings] profile_production"
    judged = switch({"profile_production": "deploy/live.yaml", "profile_testing": "deploy/paper.yaml",
                     "profile_required_differences": ["broker.endpoint"]})
    assert judged.metrics["required_differences_missing"] == 0 and judged.metrics["unexpected_differences"] == 0
