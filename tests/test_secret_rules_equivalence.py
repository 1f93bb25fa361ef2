"""The RE2 pre-tests of the secret scanner's line rules change their speed, never their answers.

``secret_rules.quoted_assignments``, ``known_formats`` and ``scan_line`` are compared with the
implementations they replaced (Python ``re`` over the whole line, each detector behind a
substring test: ``known_formats`` copied below as it was, the former ``quoted_assignments``
still in secret_rules as ``_quoted_assignments``) on a corpus of tricky lines: every line of the scanner's
test files, rules and documentation, the precision tests' cases, planted keys of every format,
long minified lines (a JS bundle, a search index) with keys planted in them, Unicode blanks and
letters where ``re`` and RE2 disagree (``\\s``, ``\\w``, ``\\b``, case folding), lone surrogates and
seeded random lines built from the rules' fragments.
"""
from __future__ import annotations

import base64
import json
import random
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from golive.plugins.config_security import secret_rules as rules
from golive.plugins.config_security.secret_rules import (_AWS, _AWS_ID, _LIBRARY_FORMATS, _OWN_FORMATS, BEARER,
                                                         CANDIDATE, CODE_VALUE, FORMAT_PLACEHOLDER, IDENT_CHARS, JWT,
                                                         PEM_BEGIN, PLACEHOLDER, _bounded, assignments, char_classes,
                                                         entropy, format_placeholder, jwt_state, pem_body)

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


# --- the implementations replaced (secret_rules.py before the RE2 pre-tests) ----------------------

# The former quoted_assignments is kept in secret_rules as the path for lines the RE2 pre-test
# cannot judge (case folding RE2 does not share, lone surrogates): the reference here.
legacy_quoted_assignments = rules._quoted_assignments


def legacy_known_formats(line: str, following: list[str] | None = None,
                         now: datetime | None = None) -> list[tuple[str, str]]:
    hits: list[tuple[str, str]] = []
    if "A" in line:
        for secret in _AWS.analyze_string(line):
            rule = "aws-access-key-id" if _AWS_ID.fullmatch(secret) else "aws-secret-access-key"
            if _bounded(line, secret) and not format_placeholder(secret):
                hits.append((rule, secret))
    elif "aws" in line.lower():
        for secret in _AWS.analyze_string(line):
            if not format_placeholder(secret):
                hits.append(("aws-secret-access-key", secret))
    for rule, detector, needles in _LIBRARY_FORMATS:
        if any(n in line for n in needles):
            for secret in detector.analyze_string(line):
                if not format_placeholder(secret):
                    hits.append((rule, secret))
    for rule, needles, pattern in _OWN_FORMATS:
        if any(n in line for n in needles):
            for m in pattern.finditer(line):
                if not format_placeholder(m.group(1)):
                    hits.append((rule, m.group(1)))
    if "-----BEGIN" in line:
        m = PEM_BEGIN.search(line)
        body = pem_body(line[m.end():], following or []) if m else ""
        if body:
            hits.append(("private-key", body))
    tokens = set()
    for m in (JWT.finditer(line) if "eyJ" in line else ()):
        tokens.add(m.group(0))
        if jwt_state(m.group(0), now) == "live":
            hits.append(("json-web-token", m.group(0)))
    for m in (BEARER.finditer(line) if "earer" in line or "EARER" in line else ()):
        value = m.group(1)
        if any(value.startswith(t) or t.startswith(value) for t in tokens) or value.startswith("eyJ"):
            continue
        if (not FORMAT_PLACEHOLDER.search(value) and not PLACEHOLDER.search(value)
                and char_classes(value) >= 2 and entropy(value) >= 3.5 and not CODE_VALUE.search(value)):
            hits.append(("bearer-token", value))
    return hits


def legacy_scan_line(text: str, path: str = "", min_entropy: float = 3.0, following: list[str] | None = None,
                     now: datetime | None = None, context: str | None = None) -> list[tuple[str, str]]:
    if not CANDIDATE.search(text):
        return []
    hits = legacy_known_formats(text, following, now)
    # assignments() calls quoted_assignments(): judge it with the legacy one
    saved = rules.quoted_assignments
    rules.quoted_assignments = legacy_quoted_assignments
    try:
        hits += assignments(text, path, min_entropy, {s for _, s in hits}, context)
    finally:
        rules.quoted_assignments = saved
    return hits


# --- the corpus -----------------------------------------------------------------------------------

# Fake keys in real formats, assembled at run time so this file holds no key-like literal.
AWS_KEY = "AKIA" + "Q3ZR7XW2KP5MN8TV"
AWS_SECRET = "Zk4Qv8Lr2Xw7Mp1Tn6Yb" + "9Hc3Jd5Fs0Ga+Wq/Ey2R"
DATABENTO = "db-" + "Hq7vXk2LmP9rT4wZa8NcY3hJ6sDfG"
GITHUB = "ghp" + "_" + "R8kLm2Qw9Zx4Vb7Nc1Tp6Ys3Hd5Jf0Ga8Ue2"
GITHUB_PAT = "github_pat_" + "11ABCDEFG0" + "Zk4Qv8Lr2Xw7Mp1Tn6Yb9Hc3Jd5Fs0"
SLACK = "xox" + "b-" + "1234567890-0987654321-" + "Zk4Qv8Lr2Xw7Mp1Tn6Yb9Hc3"
SLACK_HOOK = "https://hooks." + "slack.com/services/T0ABCDEF1/B0ABCDEF2/" + "Zk4Qv8Lr2Xw7Mp1Tn6Yb9Hc3"
STRIPE = "sk_" + "live_" + "Zk4Qv8Lr2Xw7Mp1Tn6Yb9Hc3"
STRIPE_RESTRICTED = "rk_" + "live_" + "Hq7vXk2LmP9rT4wZa8NcY3hJ"
OPENAI = "sk-" + "Zk4Qv8Lr2Xw7Mp1Tn6Yb" + "T3Blbk" + "FJ" + "Hq7vXk2LmP9rT4wZa8Nc"
GOOGLE = "AIza" + "Sy" + "Zk4Qv8Lr2Xw7Mp1Tn6Yb9Hc3Jd5Fs0G_a"
BEARER_VALUE = "Zk4Qv" + "8Lr2Xw7Mp1Tn6Yb9Hc3Jd5Fs0Ga"
RANDOM_SECRET = "Vq8" + "Zt2Lm9Xw4Kp7Rn3Yb6Hc1"
PEM_BODY = [base64.b64encode(bytes((i * 37 + j * 11) % 256 for j in range(48))).decode() for i in range(8)]
PEM_HEADER = "-----BEGIN " + "RSA PRIVATE KEY-----"


def jwt(claims: dict) -> str:
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")  # noqa: E731
    return f"{enc({'alg': 'HS256', 'typ': 'JWT'})}.{enc(claims)}.{'Sg9kQ2vLx7Rt4Wm1Zp8Nc3Yb6Hd0Jf5'}"


LIVE_JWT, EXPIRED_JWT = jwt({"sub": "u1", "exp": 4102444800}), jwt({"sub": "u1", "exp": 1589120581})
KEYS = [AWS_KEY, DATABENTO, GITHUB, GITHUB_PAT, SLACK, SLACK_HOOK, STRIPE, STRIPE_RESTRICTED, OPENAI, GOOGLE, LIVE_JWT, EXPIRED_JWT,
        RANDOM_SECRET, "AKIA" + "IOSFODNN7EXAMPLE", "db-" + "X" * 29]
# Where `re` and RE2 disagree: Unicode blanks (\s), letters (\w, \b) and case folding.
UNICODE_BLANKS = ["\u00a0", "\u2003", "\x1c", "\x1f", "\x0b", "\x85", "\u3000", "\u2028"]
FOLDING = ["\u212a", "\u017f", "\u0131", "\u0130"]  # KELVIN SIGN, LONG S, dotless i, dotted I
NAMES = ["api_key", "apiKey", "API_SECRET", "client_secret", "auth_token", "password", "passwd", "pwd", "passphrase",
         "credentials", "bearer", "key", "private_key", "x.api_key", "$token", "@secret", "a-b-token", "tokenizer",
         "cancellation_token", "sort_key", "mySecretKey", "TEST_KEY", "to\u212aen", "pa\u017fsword",
         "credent\u0131al", "credent\u0130al", "t\u00f6ken_key", "cl\u00e9_secret"]
OPERATORS = ["=", " = ", ":", ": ", ":=", "=>", "==", "===", "!=", "!==", "??=", "||=", "?=", ": str = ", ": &str = ",
             ": Token = ", ": Final[str] = ", "\u00a0=\u00a0", "\x1c:", "]: ", "\"]: ", "' : ", " == "]
QUOTES = ['"', "'", "`"]


def planted_lines() -> list[str]:
    out = []
    for name in NAMES:
        for op in OPERATORS:
            q = QUOTES[len(name + op) % 3]
            prefix = ["", "r", "b", "f", "@", "rb"][len(op) % 6]
            out.append(f"{name}{op}{prefix}{q}{RANDOM_SECRET}{q}")
    for key in KEYS:
        for before, after in [("", ""), ("x", ""), ("", "x"), (" ", " "), ("\u00e9", ""), ("", "\u00e9"), ("=", ";"),
                              ("'", "'"), ("Bearer ", ""), ("Authorization: bearer\u00a0", "")]:
            out.append(f"{before}{key}{after}")
    out += [f'aws_secret_access_key = "{AWS_SECRET}"', f"AWS_SECRET_ACCESS_KEY='{AWS_SECRET}'",
            f'aws.token.value = "{AWS_SECRET}"', f'AWS\u00a0KEY="{AWS_SECRET}"', f'a\u017fs_key = "{AWS_SECRET}"',
            f'headers = {{"Authorization": "Bearer {BEARER_VALUE}"}}', f"BEARER\u2003{BEARER_VALUE}",
            f"\u00e9bearer {BEARER_VALUE}", f"Bearer {LIVE_JWT}", f"bearer {EXPIRED_JWT}x",
            f"\u00e9{LIVE_JWT}", f"_{LIVE_JWT}", f"{LIVE_JWT}.{LIVE_JWT}",
            f'"secret": "{PEM_HEADER}\\n' + "\\n".join(PEM_BODY) + '\\n-----END RSA PRIVATE KEY-----"',
            PEM_HEADER, f"key: {PEM_HEADER}", f"-----BEGIN PRIVATE KEY----- {PEM_BODY[0]}",
            "postgres://user:Zt2Lm9Xw4Kp7@host/db", "token\ud800 = 'Zt2Lm9Xw4Kp7Rn3Yb6Hc1'",  # a lone surrogate
            f"{GITHUB}\ud800", "", " ", "key", "=", "'", "api_key=", 'api_key="', 'api_key=""']
    return out


def minified_lines(rng: random.Random) -> list[str]:
    """Lines like a bundle's or a docs site's: 20-200 KB, secret words everywhere, a few keys."""
    words = ["token", "key", "Key", "secret", "password", "credential", "bearer", "function", "return", "this",
             "eyJ", "db-", "AKIA", "aws", "gh", "xox", "sk-", "AIza", "-----BEGIN", "\u00e9", "\u00a0", "\u212a"]
    out = []
    for n in range(8):
        parts = []
        while sum(map(len, parts)) < rng.randint(20_000, 200_000):
            kind = rng.random()
            ident = rng.choice(words) + "".join(rng.choice("abcXYZ019_$.-@") for _ in range(rng.randint(0, 6)))
            if kind < 0.4:
                value = "".join(rng.choice("abcdef0123") for _ in range(rng.randint(0, 12)))
                parts.append(f"{ident}:{rng.choice(QUOTES)}{value}\"")
            elif kind < 0.7:
                parts.append(f"{ident}({rng.randint(0, 99)}),")
            elif kind < 0.9:
                parts.append(f'"text":"{" ".join(rng.choice(words) for _ in range(8))}",')
            elif kind < 0.97:
                parts.append(rng.choice(OPERATORS) + rng.choice(QUOTES) + rng.choice(words) + rng.choice(QUOTES))
            else:
                key = rng.choice(KEYS + [RANDOM_SECRET])
                parts.append(f"{rng.choice(NAMES)}{rng.choice(OPERATORS)}\"{key}\";")
        line = "".join(parts)
        if n % 2:
            line = line.replace("\u212a", "k").replace("\u00a0", " ")  # ASCII-only variants too
            line = line.encode("ascii", "ignore").decode()
        out.append(line)
    return out


def random_lines(rng: random.Random, count: int) -> list[str]:
    pieces = (NAMES + OPERATORS + QUOTES + UNICODE_BLANKS + FOLDING + KEYS
              + [RANDOM_SECRET, "${ENV}", "os.environ", "Bearer ", "bearer\t", "eyJ", "-----BEGIN ", "PRIVATE KEY-----",
                 "AKIA", "aws", "db-", "ghp_", "\u00e9", " ", "  ", ",", ";", "(", ")", "[", "]", "{", "}", "\\n"])
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 14))) for _ in range(count)]


def file_lines() -> list[str]:
    paths = [*sorted((ROOT / "tests").glob("test_secret*.py")), ROOT / "tests/test_config_security_checks.py",
             ROOT / "tests/test_ledger_secrets.py", ROOT / "plugins/config_security/secret_rules.py",
             ROOT / "docs/secret-scanning.md"]
    return [line for p in paths if p.is_file() for line in p.read_text().splitlines()]


def precision_cases() -> list[str]:
    import test_secret_scan_precision as precision  # the precision tests' own lines

    out = [line for lines in precision.NOT_SECRETS.values() for line in lines]
    for mark in precision.test_secret_assignments_are_found_in_each_language.pytestmark:
        out += [line for _, line in mark.args[1]]
    return out


def corpus() -> list[str]:
    rng = random.Random(20261120)
    return planted_lines() + file_lines() + precision_cases() + minified_lines(rng) + random_lines(rng, 4000)


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return corpus()


PATHS = [("src/app.py", None), ("config/app.yaml", None), ("docs/setup.md", None), ("tests/test_api.py", None),
         ("src/lib.rs", "test"), ("uv.lock", None), (".env", None)]


def test_quoted_assignments_are_the_same_as_before(lines):
    for line in lines:
        assert rules.quoted_assignments(line) == legacy_quoted_assignments(line), line[:200]


def test_known_formats_are_the_same_as_before(lines):
    following = ["+" + PEM_BODY[0]] + PEM_BODY + ["-----END RSA PRIVATE KEY-----"]
    for i, line in enumerate(lines):
        fol = following if i % 2 else None
        assert rules.known_formats(line, fol, NOW) == legacy_known_formats(line, fol, NOW), line[:200]


def test_scan_line_is_the_same_as_before(lines):
    for i, line in enumerate(lines):
        path, context = PATHS[i % len(PATHS)]
        assert rules.scan_line(line, path, 3.0, None, NOW, context) == \
            legacy_scan_line(line, path, 3.0, None, NOW, context), (path, line[:200])


def test_the_corpus_holds_findings_of_every_kind(lines):
    """The comparison means something only if the corpus makes the rules fire."""
    found = {rule.split(":")[0] for line in lines for rule, _ in rules.scan_line(line, "config/app.yaml", now=NOW)}
    assert set(rules.KNOWN_FORMATS) <= found, set(rules.KNOWN_FORMATS) - found
    assert "assignment" in found
    assert any(rules.possible_formats(line) == frozenset() for line in lines)
    long_hits = [rules.quoted_assignments(line) for line in lines if len(line) > 20_000]
    assert all(long_hits) and len(long_hits) == 8


def test_the_unicode_assumptions_of_the_pre_tests_hold():
    """What the pre-tests rely on about Python's `re`: the only non-ASCII characters
    re.IGNORECASE matches to ASCII letters are FOLDS_TO_ASCII, and every character ``\\s``
    matches is in the pre-tests' blank class."""
    text = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    folded = set(re.findall(r"(?i)[a-z]", text)) - set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert folded == set(rules.FOLDS_TO_ASCII)
    blanks = "".join(re.findall(r"\s", text))
    assert rules._fast_re.fullmatch(rules._WS + "*", blanks)
    assert not set(IDENT_CHARS) & set(blanks)


def test_the_pure_python_fallback_gives_the_same_answers():
    """Without google-re2 the pre-tests compile with `re` (other escapes) and agree too."""
    code = ("import sys; sys.modules['re2'] = None; sys.path[:0] = [{root!r}, {tests!r}]\n"
            "from golive.plugins.config_security import secret_rules as r\n"
            "import test_secret_rules_equivalence as t\n"
            "assert r._fast_re is __import__('re')\n"
            "lines = t.planted_lines() + t.random_lines(__import__('random').Random(1), 500)\n"
            "for line in lines:\n"
            "    assert r.quoted_assignments(line) == t.legacy_quoted_assignments(line), line\n"
            "    assert r.known_formats(line, None, t.NOW) == t.legacy_known_formats(line, None, t.NOW), line\n"
            "    assert r.scan_line(line, 'config/a.yaml', now=t.NOW) == "
            "t.legacy_scan_line(line, 'config/a.yaml', now=t.NOW), line\n"
            "print('ok', len(lines))\n").format(root=str(ROOT), tests=str(ROOT / "tests"))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.startswith("ok"), run.stderr[-2000:]
