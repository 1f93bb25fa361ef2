"""Precision of the secret scanner: real-format keys are found everywhere (files, tests, docs,
git history); placeholders, identifiers, types, doc examples and test fixtures are not; the
allowlist acknowledges findings; no secret ever reaches a result."""
from __future__ import annotations

import base64
import json
import logging
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from golive.model import CheckContext, Requirement, Status, Target
from golive.plugins.config_security import secret_allowlist, secret_rules, secret_scan, secrets_at_rest

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
# Fake keys in real formats, assembled at run time so this file holds no key-like literal.
AWS_KEY = "AKIA" + "Q3ZR7XW2KP5MN8TV"
AWS_DOC_EXAMPLE = "AKIA" + "IOSFODNN7EXAMPLE"
DATABENTO_KEY = "db-" + "Hq7vXk2LmP9rT4wZa8NcY3hJ6sDfG"
GITHUB_TOKEN = "ghp" + "_" + "R8kLm2Qw9Zx4Vb7Nc1Tp6Ys3Hd5Jf0Ga8Ue2"
BEARER = "Zk4Qv" + "8Lr2Xw7Mp1Tn6Yb9Hc3Jd5Fs0Ga"
RANDOM_SECRET = "Vq8" + "Zt2Lm9Xw4Kp7Rn3Yb6Hc1"
PEM_BODY = [base64.b64encode(bytes((i * 37 + j * 11) % 256 for j in range(48))).decode() for i in range(8)]
PEM = "-----BEGIN " + "RSA PRIVATE KEY-----\n" + "\n".join(PEM_BODY) + "\n-----END RSA PRIVATE KEY-----\n"
ALL_SECRETS = [AWS_KEY, DATABENTO_KEY, GITHUB_TOKEN, BEARER, RANDOM_SECRET, "".join(PEM_BODY)]


def jwt(claims: dict) -> str:
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")  # noqa: E731
    return f"{enc({'alg': 'HS256', 'typ': 'JWT'})}.{enc(claims)}.{'Sg9kQ2vLx7Rt4Wm1Zp8Nc3Yb6Hd0Jf5'}"


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run(root: Path, params=None):
    req = Requirement(id="PRE-CONF-05", title="t", statement="s", category="c", priority="P1", plan_lines=(1, 1))
    ctx = CheckContext(target=Target(root=root), params=params or {}, settings={}, log=logging.getLogger("t"),
                       clock=lambda: NOW)
    return secrets_at_rest.secrets_at_rest(req, ctx), ctx


def git(root: Path, *args: str) -> None:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x",
           "GIT_AUTHOR_DATE": "2026-11-01T10:00:00+00:00", "GIT_COMMITTER_DATE": "2026-11-01T10:00:00+00:00",
           "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(root)}
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=env)


def rules(text: str, path: str) -> list[str]:
    return [f.rule for f in secret_scan.scan_text(text, path, now=NOW)]


# --- real formats are always findings -----------------------------------------------------------

@pytest.mark.parametrize("path", ["src/settings.py", "tests/test_client.py", "docs/setup.md", "config/app.yaml"])
def test_real_format_keys_are_found_even_in_tests_and_docs(path):
    text = (f'aws_id = "{AWS_KEY}"\n'
            f"key: {DATABENTO_KEY}\n"
            f"GH = '{GITHUB_TOKEN}'\n"
            f'headers = {{"Authorization": "Bearer {BEARER}"}}\n'
            f"signing: |\n{PEM}")
    found = rules(text, path)
    for rule in ("aws-access-key-id", "databento-api-key", "github-token", "bearer-token", "private-key"):
        assert rule in found, (path, rule, found)


def test_pem_block_needs_a_body_and_a_one_line_json_key_counts():
    header = "-----BEGIN " + "PRIVATE KEY-----"
    assert rules(f'"secret": "{header}\\nMIIEvQIBAD<...>s8KX8=\\n-----END PRIVATE KEY-----"', "c.json") == []
    assert rules(f"{header}\n...\n-----END PRIVATE KEY-----\n", "key.pem") == []
    one_line = "\\n".join(PEM_BODY)
    assert rules(f'"secret": "{header}\\n{one_line}\\n-----END PRIVATE KEY-----"', "c.json") == ["private-key"]


def test_documented_examples_and_expired_tokens_are_not_keys():
    assert rules(f"aws_access_key_id = {AWS_DOC_EXAMPLE}\n", "config/aws.ini") == []
    assert rules("key: db-" + "X" * 29 + "\n", "config/a.yaml") == []
    expired = jwt({"sub": "u1", "exp": 1589120581})
    live = jwt({"sub": "u1", "exp": 4102444800})
    assert rules(f'{{"access_token": "{expired}"}}\n', "docs/api.md") == []
    assert rules(f'{{"access_token": "{expired}"}}\n', "app/session.json") == []
    assert rules(f'{{"access_token": "{live}"}}\n', "app/session.json") == ["json-web-token"]


# --- assignments in every language -----------------------------------------------------------------

@pytest.mark.parametrize("path,line", [
    ("src/lib.rs", f'let api_key = "{RANDOM_SECRET}";'),
    ("src/lib.rs", f'const API_SECRET: &str = "{RANDOM_SECRET}";'),
    ("cmd/main.go", f'api_key := "{RANDOM_SECRET}"'),
    ("web/client.ts", f"const token = '{RANDOM_SECRET}';"),
    ("web/client.ts", f'  apiKey: "{RANDOM_SECRET}",'),
    ("bot/config.py", f'client = Client(api_secret="{RANDOM_SECRET}")'),
    ("deploy/values.yaml", f"  password: {RANDOM_SECRET}"),
    (".env.production", f"BROKER_TOKEN={RANDOM_SECRET}"),
    ("config.json", f'  "secret": "{RANDOM_SECRET}",'),
])
def test_secret_assignments_are_found_in_each_language(path, line):
    found = rules(line + "\n", path)
    assert len(found) == 1 and found[0].startswith("assignment:"), (path, line, found)


NOT_SECRETS = {
    "src/data.rs": [
        "    cancellation_token: CancellationToken::new(),",
        "    self.cancellation_token = CancellationToken::new();",
        "    api_key: Box<str>,",
        "    api_secret: Option<&str>,",
        "    let private_key = EvmPrivateKey::new(&pk_str)?;",
        "    auth_token: Some(auth_token),",
        "    let password = std::env::var(PASSWORD_ENV).ok()?;",
        '    fee_token: Ustr::from("USDC"),',
        '    let token_yes = "0xTOKEN_YES".to_string();',
        '    "invalid token: \'1-HOUR-EXTERNAL\' at position 5"',
        "    let secret = STANDARD.encode(b\"test_secret_key_24bytes!\");",
        "    pub token: Option<u32>,",
    ],
    "app/settings.py": [
        "api_key = os.environ['BROKER_API_KEY']",
        "self.api_key = api_key",
        "password = None",
        'api_key: str = ""',
        'SMOKE_API_KEY = "organizations/test-org/apiKeys/test-key"',
        'POLYMARKET_INVALID_API_KEY: Final[str] = "Unauthorized/Invalid api key"',
        'token = request.headers["X-Token"]',
        'secret_name = "trading/databento"',
        'api_key = "your_api_key_here"',
        'password = "SuperSecurePassword"',
        'jwt_secret_key = "somethingrandom"',
        'api_secret = "{api_secret}"',
        f'api_secret = "{base64.b64encode(b"test_secret_value_x").decode()}"',
    ],
    "cmd/main.go": ['apiKey := os.Getenv("API_KEY")', 'token := "<your-token>"', "var password string"],
    "web/client.ts": ["const token = process.env.TOKEN;", "apiKey: string;", "const secret = '${SECRET}';",
                      "token: this.token,"],
    "config/app.yaml": ["password: ${BROKER_PASSWORD}", "api_key: changeme", "token: xxxxxxxxxxxx",
                        "secret: ENC[AES256_GCM,data:abc]", "api_key_env: BROKER_API_KEY", "password: null",
                        "private_key_path: /etc/keys/broker.pem", "token: !vault |"],
    "docs/rest-api.md": [f'    "ws_token": "{RANDOM_SECRET}"', 'export COINBASE_API_KEY="organizations/abc/apiKeys/d"',
                         '"password": "SuperSecurePassword"', "    api_key = '<your key>'"],
    "config_examples/config.example.json": [f'"secret": "{RANDOM_SECRET}"', '"password": "SuperSecurePassword"'],
    "tests/test_api.py": ['_TEST_WS_TOKEN = "secret_Ws_t0ken"', '"exchange_secret": "Samplesecret"',
                          '"access_token": "mock_access_token_12345"', 'api_key = "sk-1234567890abcdefghijklmnop"',
                          'token = "test-token-3c90c3cc-0d44-4b50-8888-8dd25736052a"',
                          'key = "0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef"',
                          'db_url = "postgresql+psycopg2://scott123:scott123@host:1245/dbname"'],
    "uv.lock": [f'token = "{RANDOM_SECRET}"'],
}


@pytest.mark.parametrize("path", sorted(NOT_SECRETS))
def test_placeholders_identifiers_types_doc_examples_and_fixtures_are_not_secrets(path):
    for line in NOT_SECRETS[path]:
        assert rules(line + "\n", path) == [], (path, line)


def test_rust_unit_test_module_is_a_fixture_but_the_code_above_is_not():
    weak_fixture = "d" + "9f1c2b7e4a3058b6"  # hex: a test vector, not a key-strength value
    text = (f'const KEY: &str = "{RANDOM_SECRET}";\n#[cfg(test)]\nmod tests {{\n'
            f'    const API_SECRET: &str = "{weak_fixture}{weak_fixture}";\n}}\n')
    found = secret_scan.scan_text(text, "src/auth.rs", now=NOW)
    assert [(f.line, f.context) for f in found] == [(1, "code")]


# --- files, history, allowlist, masking --------------------------------------------------------

def make_repo(root: Path) -> None:
    git(root, "init", "-q")
    write(root, "config/prod.yaml", f"broker:\n  api_key: \"{DATABENTO_KEY}\"\n")
    write(root, "deploy/id_rsa", PEM)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    write(root, "config/prod.yaml", "broker:\n  api_key: \"${DATABENTO_API_KEY}\"\n")
    (root / "deploy/id_rsa").unlink()
    write(root, "scripts/aws.sh", f"export AWS_ACCESS_KEY_ID={AWS_KEY}\n")
    write(root, "tests/test_auth.py", f'HEADERS = {{"Authorization": "Bearer {BEARER}"}}\n')
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "move the keys out")


def test_keys_removed_in_a_later_commit_are_still_found_in_history(tmp_path):
    make_repo(tmp_path)
    result, ctx = run(tmp_path)
    files = {(f["path"], f["rule"]) for f in result.details["file_findings"]}
    assert files == {("scripts/aws.sh", "aws-access-key-id"), ("tests/test_auth.py", "bearer-token")}
    history = {(h["path"], h["line"], h["rule"]) for h in result.details["history_findings"]}
    assert ("config/prod.yaml", 2, "databento-api-key") in history
    assert ("deploy/id_rsa", 1, "private-key") in history
    assert result.metrics["plaintext_secrets"] == 2 and result.metrics["plaintext_secrets_history"] == 2
    assert all(len(h["commit"]) == 12 for h in result.details["history_findings"])
    first = result.details["file_findings"][0]
    assert f"fingerprint: {first['fingerprint']}" in first["acknowledge"] and ".golive-secrets.yaml" in first["acknowledge"]
    assert ".golive-secrets.yaml: - {fingerprint:" in result.message


def test_masking_never_leaks_a_secret(tmp_path):
    make_repo(tmp_path)
    write(tmp_path, "src/lib.rs", f'let api_key = "{RANDOM_SECRET}";\n')
    result, _ = run(tmp_path)
    dumped = json.dumps({"details": result.details, "message": result.message,
                         "metrics": {k: getattr(v, "value", v) for k, v in result.metrics.items()}})
    assert result.metrics["plaintext_secrets"] == 3
    for secret in ALL_SECRETS + PEM_BODY:
        assert secret not in dumped and secret[5:] not in dumped, secret[:4]


def test_allowlist_acknowledges_findings_and_warns_about_unknown_entries(tmp_path, caplog):
    make_repo(tmp_path)
    before, _ = run(tmp_path)
    bearer = next(f for f in before.details["file_findings"] if f["rule"] == "bearer-token")
    history_fps = [h["fingerprint"] for h in before.details["history_findings"]]
    entries = [{"fingerprint": bearer["fingerprint"], "path": "tests/*", "rule": "bearer-token",
                "reason": "fixture token of a mocked broker", "acknowledged_by": "alice"},
               {"fingerprint": "0123456789ab", "reason": "old", "acknowledged_by": "bob"}]
    entries += [{"fingerprint": fp, "reason": "rotated 2026-11", "acknowledged_by": "alice"} for fp in history_fps]
    write(tmp_path, ".golive-secrets.yaml", json.dumps(entries))
    with caplog.at_level(logging.WARNING):
        result, ctx = run(tmp_path)
    assert result.metrics["plaintext_secrets"] == 1 and result.metrics["plaintext_secrets_history"] == 0
    assert result.metrics["secrets_acknowledged"] == 1 + len(history_fps)
    acked = [a for a in result.details["acknowledged"] if a["rule"] == "bearer-token"]
    assert acked[0]["reason"] == "fixture token of a mocked broker" and acked[0]["acknowledged_by"] == "alice"
    assert result.details["allowlist"]["unmatched"] == [{"entry": 2, "fingerprint": "0123456789ab"}]
    assert "match no finding" in result.message and "0123456789ab" in caplog.text
    assert ".golive-secrets.yaml" in [a.path for a in ctx.artifacts]
    # an entry restricted to another path does not cover the finding
    entries[0]["path"] = "src/*"
    write(tmp_path, ".golive-secrets.yaml", json.dumps(entries))
    again, _ = run(tmp_path)
    assert again.metrics["plaintext_secrets"] == 2


@pytest.mark.parametrize("text,error", [
    ("- {fingerprint: abc, reason: r, acknowledged_by: a}", "not 8-64 hex"),
    ("- {fingerprint: 0123456789ab, acknowledged_by: a}", "'reason' is required"),
    ("- {fingerprint: 0123456789ab, reason: r, acknowledged_by: a, secret: x}", "unknown field"),
    ("acknowledged: [1, 2]", "expected a mapping"),
    ("{bad yaml", "not valid YAML"),
])
def test_an_invalid_allowlist_is_an_error_naming_the_file(tmp_path, text, error):
    write(tmp_path, "config/app.yaml", "a: 1\n")
    write(tmp_path, ".golive-secrets.yaml", text)
    with pytest.raises(secret_allowlist.AllowlistError, match=error):
        secret_allowlist.load(tmp_path / ".golive-secrets.yaml")
    result, _ = run(tmp_path)
    assert result.status is Status.ERROR and ".golive-secrets.yaml" in result.message and error.split()[0] in result.message


def test_the_prefilter_and_the_line_rules_agree():
    # every rule's trigger fragment passes the one-pass byte pre-filter
    for line in (AWS_KEY, DATABENTO_KEY, GITHUB_TOKEN, "Bearer " + BEARER, "-----BEGIN PRIVATE KEY-----",
                 jwt({"a": 1}), "apiKey: x", "PASSWORD=x", "https://u:p4ss@h/"):
        assert secret_rules.CANDIDATE_LINE.search(line.encode()) and secret_rules.CANDIDATE.search(line), line
